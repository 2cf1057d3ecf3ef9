"""Ollama's API over raw HTTP against the real proxy: each field mapping where it arrives
(the Anthropic simulator's request log), each error in Ollama's {"error": "..."} shape,
NDJSON streaming, the metrics, and key-less mode (this module's .env turns it on, as a
user would: OLLAMA_ALLOW_KEYLESS=true with the default loopback bind).
"""
import base64
import json

import httpx
import pytest
from e2e_formats import ANTHROPIC_GREETING, BEDROCK_GREETING, NORMAL_MODEL, models  # noqa: F401 (a fixture)
from harness import start_stack

from scripts.observability import metrics

pytestmark = pytest.mark.e2e
MODEL = NORMAL_MODEL  # never faulted here: the failure tests take fresh models
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 24).decode()
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-ollama-http"), env_values={"OLLAMA_ALLOW_KEYLESS": "true"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(stack):
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        yield client


@pytest.fixture
def upstream(stack):
    """The simulators' logs start empty for each test; (anthropic, bedrock) record lists."""
    stack.reset()
    return lambda: (stack.sims.anthropic.requests(), stack.sims.bedrock.requests())


def post(http, path, body, key=None, **headers):
    """As Ollama's own docs do it: `curl -d` (form content-type), no key unless given."""
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/x-www-form-urlencoded",
                                                               **headers})


def sent(upstream) -> dict:
    anthropic, _ = upstream()
    assert [r["status"] for r in anthropic] == [200], anthropic
    return anthropic[0]["request"]


# --- key-less mode ---------------------------------------------------------------------------

def test_keyless_loopback_clients_need_no_key(http, upstream):
    reply = post(http, "/api/chat", {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 200 and ANTHROPIC_GREETING in reply.json()["message"]["content"]
    assert http.get("/api/tags").status_code == 200 and http.get("/api/version").status_code == 200


def test_keyless_still_checks_a_key_that_is_sent(http, upstream):
    reply = post(http, "/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
                 key="sk-not-the-key")
    # LiteLLM 1.106.2 says 400 "No connected db." for a wrong key (issue 12 makes it 401)
    assert reply.status_code in (400, 401) and isinstance(reply.json()["error"], str)
    assert upstream() == ([], [])


def test_keyless_is_for_ollama_routes_only(http, upstream):
    reply = http.post("/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code >= 400
    assert upstream() == ([], [])


# --- field mappings, where they arrive -----------------------------------------------------------

def test_options_become_the_upstream_parameters(http, stack, upstream):
    body = {"model": MODEL, "stream": False, "prompt": "hi", "system": "Be brief.",
            "options": {"temperature": 0.3, "num_predict": 50, "stop": ["END"], "num_ctx": 4096, "num_gpu": 1}}
    assert post(http, "/api/generate", body).status_code == 200
    request = sent(upstream)
    assert {k: request.get(k) for k in ("temperature", "max_tokens", "stop_sequences", "system")} == \
        {"temperature": 0.3, "max_tokens": 50, "stop_sequences": ["END"], "system": "Be brief."}
    stack.reset()
    body = {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "hi"}], "options": {"top_p": 0.5}}
    assert post(http, "/api/chat", body).status_code == 200
    assert sent(upstream)["top_p"] == 0.5


def test_images_arrive_as_image_blocks_with_their_media_type(http, upstream):
    body = {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "what is it?", "images": [PNG]}]}
    assert post(http, "/api/chat", body).status_code == 200
    assert sent(upstream)["messages"] == ["user:text+image/png"]


def test_format_schema_becomes_structured_output_and_json_adds_no_constraint(http, stack, upstream):
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    chat = {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "hi"}]}
    assert post(http, "/api/chat", {**chat, "format": schema}).status_code == 200
    assert sent(upstream)["output_format"]["schema"]["properties"] == schema["properties"]
    stack.reset()
    # "json" -> response_format json_object, for which LiteLLM 1.106.2 sends Claude nothing:
    # the prompt has to ask for JSON (README, Ollama section).
    assert post(http, "/api/chat", {**chat, "format": "json"}).status_code == 200
    assert "output_format" not in sent(upstream)


def test_tools_and_a_tool_result_arrive_as_tool_use_and_tool_result(http, stack, upstream):
    asked = [{"role": "user", "content": "Please use the tool for Paris."}]
    first = post(http, "/api/chat", {"model": MODEL, "stream": False, "messages": asked, "tools": [WEATHER]}).json()
    call = first["message"]["tool_calls"][0]
    assert call["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "sim"}}
    assert sent(upstream)["tools"] == ["get_weather"]
    stack.reset()
    history = [*asked, {"role": "assistant", "content": "", "tool_calls": [{"function": call["function"]}]},
               {"role": "tool", "content": "sunny", "tool_name": "get_weather"}]
    second = post(http, "/api/chat", {"model": MODEL, "stream": False, "messages": history, "tools": [WEATHER]})
    assert second.json()["message"]["content"].endswith("Tool result received: sunny")
    assert sent(upstream)["messages"] == ["user:text", "assistant:tool_use", "user:tool_result"]


# --- streaming -------------------------------------------------------------------------------

def test_streaming_is_the_default_and_is_ndjson(http, upstream):
    reply = post(http, "/api/generate", {"model": MODEL, "prompt": "hi"})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True] and len(lines) > 2
    assert "".join(line["response"] for line in lines).startswith(ANTHROPIC_GREETING)
    assert lines[-1]["total_duration"] >= lines[-1]["prompt_eval_duration"] > 0
    assert "eval_count" not in lines[-1]  # no stream_options.include_usage: see scripts/in_proxy/ollama.py
    anthropic, _ = upstream()
    assert [r["stream"] for r in anthropic] == [True]


def test_requests_are_counted_in_the_proxys_metrics_under_their_route(http, stack):
    def served() -> float:
        text = http.get("/metrics/").text
        return sum(s.value for s in metrics.parse(text)
                   if s.name == "litellm_proxy_total_requests_metric_total" and s.labels.get("route") == "/api/chat"
                   and s.labels.get("status_code") == "200")
    before = served()
    post(http, "/api/chat", {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": "hi"}]})
    assert served() == before + 1


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, status, error", [
    ("/api/chat", {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}, 404,
     "model 'no-such-model' not found"),
    ("/api/show", {"model": "no-such-model"}, 404, "model 'no-such-model' not found"),
    ("/api/chat", {"messages": []}, 400, "model is required"),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "robot", "content": "hi"}]}, 400,
     "messages[0].role: expected one of system, user, assistant, tool"),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "x", "images": ["aGVsbG8gd29ybGQ="]}]},
     400, "messages[0].images[0]: not a PNG, JPEG, GIF or WebP image"),
    ("/api/generate", {"model": MODEL, "prompt": "def f(", "suffix": "return 1"}, 400,
     "suffix (fill-in-the-middle) is not supported by the gateway's models: send the text before the cursor "
     "as the prompt"),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}, 400,
     "messages[0]: a tool message must answer a call of the assistant message before it (tool_calls)"),
    ("/api/chat", ["not", "an", "object"], 400, "the request body must be a JSON object"),
])
def test_bad_requests_get_ollamas_error_shape_and_no_upstream_call(http, upstream, path, body, status, error):
    reply = post(http, path, body)
    assert (reply.status_code, reply.json()) == (status, {"error": error})
    assert upstream() == ([], [])


def test_invalid_json_is_a_400_in_ollamas_shape(http, upstream):
    reply = http.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 400 and "Invalid JSON payload" in reply.json()["error"]
    assert upstream() == ([], [])


def test_a_load_request_answers_without_an_upstream_call(http, upstream):
    assert post(http, "/api/generate", {"model": f"{MODEL}:latest"}).json()["done_reason"] == "load"
    assert post(http, "/api/chat", {"model": MODEL, "messages": []}).json()["done_reason"] == "load"
    assert upstream() == ([], [])


@pytest.mark.parametrize("stream", (False, True))
def test_when_both_upstreams_fail_the_error_is_ollamas_shape(http, stack, models, stream):
    name = models.fresh()  # its Anthropic deployment stays cooled down after this
    stack.reset()
    stack.sims.anthropic.set_fault("500", retry_after=60)
    stack.sims.bedrock.set_fault("500")
    try:
        reply = post(http, "/api/chat", {"model": name, "stream": stream,
                                         "messages": [{"role": "user", "content": "hi"}]})
    finally:
        stack.sims.anthropic.clear_fault()
        stack.sims.bedrock.clear_fault()
    body = json.loads(reply.text.splitlines()[0])
    assert reply.status_code >= 500 and list(body) == ["error"] and body["error"], reply.text
    assert BEDROCK_GREETING not in reply.text and ANTHROPIC_GREETING not in reply.text
