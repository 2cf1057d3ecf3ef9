"""Issue 15's whole chain with a ChatGPT-subscription tier: Anthropic answers 429, Bedrock
ThrottlingException, and a `chatgpt/` model (LiteLLM's Responses backend, logged in with
LiteLLM's own device flow against the simulator) answers, through LiteLLM's Anthropic
adapter for /v1/messages: the real Claude Code CLI (streaming, a Read tool round trip),
the anthropic SDK (tool round trip, streamed and not) and the openai SDK.

Tier order for every Claude name: 1 Anthropic, 2 its Bedrock twin, 3 gpt-5.4 (chatgpt/).
The login happens before the proxy starts: LiteLLM drops a chatgpt/ deployment it cannot
log in at start. The sign-in host is reached as in tests/test_e2e_logins.py (HTTPS_PROXY +
SSL_CERT_FILE in the calling environment); the backend through CHATGPT_API_BASE in .env.
Each test uses a Claude model of its own: cooldowns are per deployment.
"""
import os
import subprocess

import pytest
import yaml
from claude_cli import run_claude, transcript
from e2e_clients import CLIENTS, Target
from harness import start_simulators, start_stack

from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port
from scripts.sim.faults import SimControl
from scripts.sim.sandbox import PYTHON

pytestmark = pytest.mark.e2e
TIER3 = "gpt-5.4"  # in LiteLLM's model map as chatgpt/gpt-5.4, mode "responses"
WINDOW = 30  # retry-after of Anthropic's 429: longer than this module runs per model
BACKEND = "/backend-api/codex/responses"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-chatgpt-tier")
    sims = start_simulators(["--chatgpt-port", str(free_port()), "--intercept-port", str(free_port()),
                             "--intercept-dir", str(workdir / "ca"), "--auto-approve-logins"])
    chatgpt_base = sims.urls["chatgpt"] + "/backend-api/codex"
    calling = {"HTTPS_PROXY": sims.urls["intercept"], "SSL_CERT_FILE": str(workdir / "ca" / "ca.pem")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_CODE_"))}
    env.update(GATEWAY_ENV_FILE=str(workdir / ".env"), GATEWAY_STATE_DIR=str(workdir / "state"),
               GATEWAY_LOG_DIR=str(workdir / "logs"), HOME=str(workdir / "home"), CHATGPT_API_BASE=chatgpt_base,
               **calling)
    login = subprocess.run([PYTHON, "-m", "scripts.login", "login", "chatgpt"], cwd=PROJECT_DIR, env=env,
                           capture_output=True, text=True, timeout=120)
    if login.returncode != 0:
        sims.stop()
        raise AssertionError(f"login against the simulator failed: {login.stdout}{login.stderr}")
    tier = {"CHATGPT_API_BASE": chatgpt_base, "PROXY_MODEL_KEYS": "gpt5", "MODEL_GPT5_ALIAS": TIER3,
            "MODEL_GPT5_UPSTREAM_MODEL": f"chatgpt/{TIER3}", "CLAUDE_FALLBACK_AFTER_BEDROCK": "gpt5"}
    running = start_stack(workdir, sims=sims, extra_env=calling, env_values=tier)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chatgpt(stack) -> SimControl:
    return SimControl(stack.sims.urls["chatgpt"])


def refuse_claude(stack, chatgpt, model=None) -> None:
    """Anthropic rate-limits, Bedrock throttles (the model, or every model); ChatGPT is not faulted."""
    stack.reset()
    chatgpt.reset()
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, **({"models": [model]} if model else {}))
    stack.sims.bedrock.set_fault("throttle", **({"models": [model.removeprefix("claude-")]} if model else {}))


def backend_calls(chatgpt) -> list:
    return [r for r in chatgpt.requests() if r["path"] == BACKEND]


def calls(stack, chatgpt) -> dict:
    """Statuses of the inference calls each upstream received."""
    return {"anthropic": [r["status"] for r in stack.primary_calls()],
            "bedrock": [r["status"] for r in stack.fallback_calls()],
            "chatgpt": [r["status"] for r in backend_calls(chatgpt)]}


def test_the_chatgpt_model_is_the_tier_after_bedrock(stack):
    served = stack.script("health", "models")
    assert served.returncode == 0 and TIER3 in served.stdout.split(), served.stdout + served.stderr
    effective = yaml.safe_load((stack.workdir / "state" / "litellm-config.yaml").read_text())
    chains = {k: v for item in effective["router_settings"]["fallbacks"] for k, v in item.items()}
    assert chains["claude-haiku-4-5"] == ["claude-haiku-4-5-bedrock", TIER3], chains
    tier = next(m for m in effective["model_list"] if m["model_name"] == TIER3)
    assert tier["litellm_params"]["model"] == f"chatgpt/{TIER3}", tier


@pytest.mark.parametrize("client, model", [("sdk-tools", "claude-haiku-4-5"),
                                           ("sdk-tools-stream", "claude-sonnet-4-5"),
                                           ("openai-create", "claude-opus-4-5"),
                                           ("openai-stream", "claude-opus-4-1")])
def test_sdks_are_answered_by_the_chatgpt_tier(stack, chatgpt, client, model):
    refuse_claude(stack, chatgpt, model)
    outcome = CLIENTS[client](Target(stack.base_url, stack.master_key), model)
    assert outcome.complete and outcome.answered_by == "chatgpt", outcome
    assert f"Hello from simulated ChatGPT (model {TIER3})." in outcome.text
    assert calls(stack, chatgpt) == {"anthropic": [429], "bedrock": [429], "chatgpt": [200] * outcome.requests}
    records = backend_calls(chatgpt)
    assert all(r["auth_kind"] == "chatgpt" and r["model"] == TIER3 for r in records), records
    if client.startswith("sdk-tools"):  # the tool round trip went through the adapter both ways
        first, second = records
        assert first["tools"] == 1 and first["inputs"] == ["message"], first
        assert second["inputs"][-2:] == ["function_call", "function_call_output"], second


def test_claude_code_reads_a_file_through_the_chatgpt_tier(stack, chatgpt, tmp_path, capsys):
    """The real CLI, streaming: a tool call from tier 3, Claude Code runs Read, tier 3 gets the result."""
    model = "claude-sonnet-4-5-20250929"
    (tmp_path / "notes.md").write_text("the word is tangerine\n")
    refuse_claude(stack, chatgpt)
    events = run_claude(stack, f"Please use the tool Read with file_path={tmp_path}/notes.md", model, tmp_path)
    seen = calls(stack, chatgpt)
    with capsys.disabled():
        print(f"\nClaude Code, Anthropic 429 + Bedrock ThrottlingException, tier 3 chatgpt/{TIER3}:\n"
              f"{transcript(events)}\n{seen}")
    uses = [b for e in events if e.get("type") == "assistant" for b in e["message"]["content"] if b["type"] == "tool_use"]
    assert [u["name"] for u in uses] == ["Read"], uses
    assert uses[0]["input"].get("file_path") == f"{tmp_path}/notes.md", uses
    result = events[-1]
    assert result["subtype"] == "success" and not result["is_error"], result
    assert result["result"].startswith(f"Hello from simulated ChatGPT (model {TIER3}). Tool result received:")
    assert "the word is tangerine" in result["result"]
    assert seen == {"anthropic": [429], "bedrock": [429], "chatgpt": [200, 200]}, seen
    assert all(r["stream"] for r in stack.primary_calls()), "Claude Code streamed: the proxy passed it on"
    assert all(r["stream"] for r in backend_calls(chatgpt)), "and the Responses backend streamed the answer back"
    second = backend_calls(chatgpt)[1]
    assert second["inputs"][-2:] == ["function_call", "function_call_output"] and second["tools"] > 1, second
    stack.sims.anthropic.clear_fault()
    stack.sims.bedrock.clear_fault()
