"""Web search during a fallback (issue 23 part 3), end to end: the real proxy from config.yaml,
Anthropic at 429, the Bedrock simulator, the Tavily simulator, the real anthropic client.

- with GATEWAY_WEB_SEARCH_PROVIDER=tavily, LiteLLM's web search interception turns
  Anthropic's web_search tool into a plain tool on Bedrock, runs the search the model asks for
  through Tavily and hands Bedrock the results: the client's one request gets an answer built
  from the search results;
- the real Claude Code CLI's WebSearch tool, during the same fallback, gets the search results;
- without a provider, the same request gets a 400 naming the setting, never an empty search.
"""
import json
import os
import subprocess

import anthropic
import pytest
from claude_cli import claude_binary
from harness import start_stack

from scripts.sim.sandbox import web_search_dotenv, start_simulators

pytestmark = pytest.mark.e2e
MODEL = "claude-sonnet-4-5-20250929"
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
# What Claude Code's WebSearch sub-request forces (LiteLLM's _sync_forced_tool_choice doc).
FORCE = {"type": "tool", "name": "web_search"}


def search_request(client, **extra):
    return client.messages.create(model=MODEL, max_tokens=256, tools=[WEB_SEARCH], tool_choice=FORCE,
                                  messages=[{"role": "user", "content": "Perform a web search for: litellm"}],
                                  **extra)


@pytest.fixture(scope="module")
def with_provider(tmp_path_factory):
    sims = start_simulators()
    running = start_stack(tmp_path_factory.mktemp("e2e-websearch"), sims=sims, env_values=web_search_dotenv(sims))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def without_provider(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-websearch-off"))
    yield running
    running.stop()


def client_of(stack):
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=30)
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


def text_of(message) -> str:
    return " ".join(getattr(block, "text", "") for block in message.content)


@pytest.mark.parametrize("stream", [False, True])
def test_a_web_search_on_the_fallback_is_answered_through_the_search_provider(with_provider, stream):
    client = client_of(with_provider)
    if stream:
        with client.messages.stream(model=MODEL, max_tokens=256, tools=[WEB_SEARCH], tool_choice=FORCE,
                                    messages=[{"role": "user", "content": "Perform a web search for: litellm"}]
                                    ) as events:
            message = events.get_final_message()
    else:
        message = search_request(client)
    searches = [r for r in with_provider.sims.search.requests() if r["path"] == "/search"]
    assert [r["status"] for r in searches] == [200], searches
    assert "simulated Bedrock" in text_of(message), message
    assert "Simulated Tavily result 1 for" in text_of(message), "the answer is built from the search results"
    bedrock = with_provider.fallback_calls("claude-sonnet-4-5")
    assert [r["status"] for r in bedrock] == [200, 200], "the model's tool call, then its answer"
    assert all(tools == ["litellm_web_search"] for tools in (r["tools"] for r in bedrock)), bedrock
    # [429], or none while the model's cooldown from the first test lasts
    assert {r["status"] for r in with_provider.primary_calls(MODEL)} <= {429}


def test_without_a_provider_the_fallback_names_the_setting(without_provider):
    client = client_of(without_provider)
    with pytest.raises(anthropic.BadRequestError) as refused:
        search_request(client)
    message = str(refused.value)
    assert "GATEWAY_WEB_SEARCH_PROVIDER" in message and "after the primary answered HTTP 429" in message, message
    assert without_provider.fallback_calls() == [], "nothing was sent to Bedrock"


def test_claude_codes_websearch_on_the_fallback_gets_the_results(with_provider, tmp_path):
    """Claude Code with only its WebSearch tool: the simulated model calls it (the current simulated
    model picks the first tool when asked to "use the tool"); Claude Code then sends its web_search
    sub-request, which the interception answers through Tavily on Bedrock."""
    client_of(with_provider)  # Anthropic at 429
    home = tmp_path / "claude-home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TERM": "dumb", "LANG": "C.UTF-8",
           "ANTHROPIC_BASE_URL": with_provider.base_url, "ANTHROPIC_AUTH_TOKEN": with_provider.master_key,
           "ANTHROPIC_MODEL": MODEL, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
           "CLAUDE_CODE_MAX_RETRIES": "0"}
    done = subprocess.run([str(claude_binary()), "-p", "use the tool WebSearch to search the web for litellm",
                           "--tools", "WebSearch", "--allowedTools", "WebSearch", "--output-format", "stream-json",
                           "--verbose"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    results = [block for ev in events if ev.get("type") == "user" for block in ev["message"]["content"]
               if block.get("type") == "tool_result"]
    assert len(results) == 1 and not results[0].get("is_error"), results
    assert "Simulated Tavily result 1 for" in json.dumps(results[0]["content"]), results
    assert [r["status"] for r in with_provider.sims.search.requests()] == [200]
    sub_requests = [r for r in with_provider.fallback_calls("claude-sonnet-4-5") if r["tools"] == ["litellm_web_search"]]
    assert [r["status"] for r in sub_requests] == [200, 200], "the search sub-request, answered on Bedrock"
