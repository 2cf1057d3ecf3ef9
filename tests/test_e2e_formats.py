"""Real clients of the other formats against the real proxy: the `ollama` library on
/api/*, and the google-genai SDK with its default api_version (v1) and with v1beta.
Each answer normal (Anthropic) and with Anthropic answering 429 (the same request
answered by Bedrock), checked in the simulators' request logs. One proxy for the module.
"""
import subprocess

import ollama
import pytest
from e2e_formats import MODES, NORMAL_MODEL, assert_answered, mode_context, models  # noqa: F401 (a fixture)
from google import genai
from google.genai import types
from harness import start_stack

from scripts.core.paths import PROJECT_DIR

pytestmark = pytest.mark.e2e
TOOL_PROMPT = "Please use the tool for Paris."


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-formats"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(stack):
    return ollama.Client(host=stack.base_url, headers={"Authorization": f"Bearer {stack.master_key}"})


def get_weather(city: str) -> str:
    """Weather in a city.

    Args:
      city: the city
    """
    return "sunny"


# --- the ollama library ----------------------------------------------------------------------

def test_ollama_list_show_ps_version(client, stack):
    names = [m.model for m in client.list().models]
    assert NORMAL_MODEL in names and f"{NORMAL_MODEL}-bedrock" in names
    assert not [n for n in names if "*" in n]  # the wildcard route is no model to pick
    shown = client.show(f"{NORMAL_MODEL}:latest")
    assert "tools" in shown.capabilities and shown.details.family == "anthropic"
    assert client.ps().models == []  # nothing is loaded here: every model is served upstream
    version = client._client.get("/api/version").json()["version"]
    assert [int(part) for part in version.split(".")] >= [0, 9]  # clients gate streamed tool calls on it


def test_ollama_without_a_key_is_refused_in_ollamas_shape(stack):
    stack.reset()
    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=stack.base_url).chat(model=NORMAL_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 401 and refused.value.error.startswith("no key: send the proxy's key")
    assert stack.sims.anthropic.requests() == [] and stack.sims.bedrock.requests() == []


@pytest.mark.parametrize("mode", MODES)
def test_ollama_chat(client, stack, models, mode):
    model, context = mode_context(stack, models, mode)
    with context:
        reply = client.chat(model=model, messages=[{"role": "user", "content": "Say hello"}])
    assert reply.done and reply.done_reason == "stop" and reply.eval_count > 0
    assert_answered(stack, models.upstream[model], mode, [reply.message.content], 1)


@pytest.mark.parametrize("mode", MODES)
def test_ollama_chat_streaming(client, stack, models, mode):
    model, context = mode_context(stack, models, mode)
    with context:
        parts = list(client.chat(model=model, messages=[{"role": "user", "content": "Say hello"}], stream=True))
    assert len(parts) > 2 and parts[-1].done and not any(p.done for p in parts[:-1])
    text = "".join(p.message.content for p in parts)
    assert text.endswith("This is a deterministic reply from the simulator.")
    assert_answered(stack, models.upstream[model], mode, [text], 1)


@pytest.mark.parametrize("mode", MODES)
def test_ollama_generate_plain_and_streaming(client, stack, models, mode):
    model, context = mode_context(stack, models, mode)
    with context:
        whole = client.generate(model=model, prompt="Say hello", system="Be brief.")
        parts = list(client.generate(model=model, prompt="Say hello", stream=True))
    assert whole.done and parts[-1].done
    assert_answered(stack, models.upstream[model], mode, [whole.response, "".join(p.response for p in parts)], 2)


@pytest.mark.parametrize("mode", MODES)
def test_ollama_tools_round_trip(client, stack, models, mode):
    model, context = mode_context(stack, models, mode)
    messages = [{"role": "user", "content": TOOL_PROMPT}]
    with context:
        asked = client.chat(model=model, messages=messages, tools=[get_weather])
        streamed = list(client.chat(model=model, messages=messages, tools=[get_weather], stream=True))
        call = asked.message.tool_calls[0]
        messages += [asked.message, {"role": "tool", "content": get_weather(**call.function.arguments),
                                     "tool_name": call.function.name}]
        answered = client.chat(model=model, messages=messages, tools=[get_weather])
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "sim"})
    streamed_calls = [c for p in streamed for c in p.message.tool_calls or []]
    assert [(c.function.name, c.function.arguments) for c in streamed_calls] == [("get_weather", {"city": "sim"})]
    assert answered.message.content.endswith("Tool result received: sunny")
    assert_answered(stack, models.upstream[model], mode, [answered.message.content], 3)


# --- the google-genai SDK --------------------------------------------------------------------

def gemini(stack, api_version):
    options = types.HttpOptions(base_url=stack.base_url, api_version=api_version,
                                retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key=stack.master_key, http_options=options)


VERSIONS = (None, "v1beta")  # None: the SDK's default, v1


@pytest.mark.parametrize("api_version", VERSIONS, ids=("default-v1", "v1beta"))
@pytest.mark.parametrize("mode", MODES)
def test_genai_generate_and_stream(stack, models, mode, api_version):
    model, context = mode_context(stack, models, mode)
    client = gemini(stack, api_version)
    with context:
        whole = client.models.generate_content(model=model, contents="Say hello")
        streamed = "".join(c.text or "" for c in client.models.generate_content_stream(model=model,
                                                                                       contents="Say hello"))
    assert streamed.endswith("This is a deterministic reply from the simulator.")
    assert_answered(stack, models.upstream[model], mode, [whole.text, streamed], 2)


@pytest.mark.parametrize("api_version", VERSIONS, ids=("default-v1", "v1beta"))
@pytest.mark.parametrize("mode", MODES)
def test_genai_function_call_round_trip(stack, models, mode, api_version):
    """A Python function as the tool: the SDK sends its schema as parameters_json_schema."""
    model, context = mode_context(stack, models, mode)
    client = gemini(stack, api_version)
    config = types.GenerateContentConfig(
        tools=[get_weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    asked = [types.Content(role="user", parts=[types.Part(text=TOOL_PROMPT)])]
    with context:
        first = client.models.generate_content(model=model, contents=asked, config=config)
        call = first.function_calls[0]
        answer = types.Part.from_function_response(name=call.name, response={"result": get_weather(**call.args)})
        second = client.models.generate_content(
            model=model, config=config,
            contents=[*asked, first.candidates[0].content, types.Content(role="user", parts=[answer])])
    assert (call.name, call.args) == ("get_weather", {"city": "sim"})
    assert "Tool result received" in second.text and "sunny" in second.text
    assert_answered(stack, models.upstream[model], mode, [second.text], 2)


def test_both_libraries_configured_by_environment_alone(stack, models, monkeypatch):
    """What README tells users: OLLAMA_HOST + OLLAMA_API_KEY, GOOGLE_GEMINI_BASE_URL + GEMINI_API_KEY."""
    stack.reset()
    monkeypatch.setenv("OLLAMA_HOST", stack.base_url)
    monkeypatch.setenv("OLLAMA_API_KEY", stack.master_key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", stack.base_url)
    monkeypatch.setenv("GEMINI_API_KEY", stack.master_key)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    reply = ollama.Client().chat(model=NORMAL_MODEL, messages=[{"role": "user", "content": "Say hello"}])
    client = genai.Client()
    text = client.models.generate_content(model=NORMAL_MODEL, contents="Say hello").text
    assert_answered(stack, models.upstream[NORMAL_MODEL], "normal", [reply.message.content, text], 2)


def test_genai_count_tokens_on_v1(stack):
    client = gemini(stack, None)  # held: a dropped genai.Client closes its connection pool
    counted = client.models.count_tokens(model=NORMAL_MODEL, contents="Say hello")
    assert counted.total_tokens > 0


def test_smoke_script_checks_the_formats_against_a_running_proxy(stack):
    stack.reset()
    result = subprocess.run(["bash", "test-proxy.sh", "formats"], cwd=PROJECT_DIR, env=stack.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS") == 6 and "FAIL" not in result.stdout
    assert "Ollama /api/chat fallback: primary unreachable, answered by bedrock/" in result.stdout
    paths = [r["path"] for r in stack.sims.anthropic.requests()]
    assert paths.count("/v1/messages") == 4  # chat, generate, Gemini v1 and v1beta reached Anthropic
