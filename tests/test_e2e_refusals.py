"""End to end, what a client hears when the request is refused, by the gateway or upstream.

- a missing or wrong proxy key is a 401 on every route, in the route's API format, saying
  which key to send; it costs no upstream call and one short log line;
- a JSON body that is not an object is a 400 in the route's format, with or without a key,
  at the same cost (LiteLLM answered it 500 with a 9.6 KB traceback);
- GET /health (a real request to every model) is refused, `make health` still answers;
- the proxy log rotates by size while the proxy runs;
- a request Anthropic refuses as invalid reaches neither Bedrock nor Anthropic again;
- a failed fallback answers with its own status (a Bedrock 503 during a cooldown is a
  503, not "429 try again").
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest
from harness import MASTER_KEY, start_stack

from scripts.core.http import request
from scripts.core.procs import read_pid

pytestmark = pytest.mark.e2e
LOG_LIMIT = 32768  # GATEWAY_PROXY_LOG_MAX_BYTES of this module's proxy
MESSAGE = {"model": "claude-haiku", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
ROUTES = [  # (method, path, body, API format of the errors)
    ("POST", "/v1/messages", MESSAGE, "anthropic"),
    ("POST", "/v1/messages/count_tokens", MESSAGE, "anthropic"),
    ("POST", "/v1/chat/completions", MESSAGE, "openai"),
    ("GET", "/v1/models", None, "openai"),
    ("POST", "/v1/responses", {"model": "claude-haiku", "input": "hi"}, "openai"),
    ("POST", "/v1beta/models/claude-haiku:generateContent", {"contents": [{"parts": [{"text": "hi"}]}]}, "gemini"),
    ("GET", "/health", None, "openai"),
]
NO_KEY = "no proxy key: send LITELLM_MASTER_KEY from .env as `Authorization: Bearer <key>` or `x-api-key: <key>`"
BAD_KEYS = {  # case -> (headers, the message the client must get)
    "no key": ({}, NO_KEY),
    "wrong key": ({"Authorization": "Bearer sk-not-the-master-key"},
                  "invalid proxy key: use LITELLM_MASTER_KEY from .env"),
    "key in x-key": ({"x-key": MASTER_KEY}, NO_KEY),
    "Authorization without Bearer": ({"Authorization": MASTER_KEY},
                                     "invalid proxy key: the Authorization header needs the `Bearer ` prefix "
                                     "(`Authorization: Bearer <LITELLM_MASTER_KEY from .env>`)"),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-refusals"),
                          extra_env={"GATEWAY_PROXY_LOG_MAX_BYTES": str(LOG_LIMIT)})
    yield running
    running.stop()


@pytest.fixture
def fresh(stack):
    stack.reset()
    return stack


def send(stack, method, path, body=None, headers=None):
    return request(method, stack.base_url + path, headers=headers or {}, payload=body, timeout=30)


def log_files(stack) -> list:
    return sorted((stack.workdir / "logs").glob("proxy.log*"))


def expected_body(api: str, status: int, kind: str, message: str) -> dict:
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    if api == "gemini":
        return {"error": {"code": status, "message": message, "status": "UNAUTHENTICATED"}}
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


@pytest.mark.parametrize("case", BAD_KEYS)
@pytest.mark.parametrize("method,path,body,api", ROUTES, ids=[r[1] for r in ROUTES])
def test_a_bad_key_is_a_401_in_the_routes_format(fresh, case, method, path, body, api):
    headers, message = BAD_KEYS[case]
    reply = send(fresh, method, path, body, headers)
    assert reply.status == 401, reply.body
    assert reply.json() == expected_body(api, 401, "authentication_error", message)
    assert fresh.sims.anthropic.requests() == [] and fresh.sims.bedrock.requests() == []


@pytest.mark.parametrize("header", ["Authorization", "x-api-key", "x-litellm-api-key", "api-key"])
def test_the_master_key_is_accepted_in_each_header_litellm_reads(stack, header):
    value = f"Bearer {MASTER_KEY}" if header in ("Authorization", "x-litellm-api-key") else MASTER_KEY
    assert send(stack, "GET", "/v1/models", headers={header: value}).status == 200


def test_the_sdks_show_the_message(stack):
    with pytest.raises(anthropic.AuthenticationError, match="invalid proxy key: use LITELLM_MASTER_KEY"):
        anthropic.Anthropic(api_key="sk-wrong", base_url=stack.base_url, max_retries=0).messages.create(**MESSAGE)
    with pytest.raises(openai.AuthenticationError, match="invalid proxy key: use LITELLM_MASTER_KEY"):
        openai.OpenAI(api_key="sk-wrong", base_url=stack.base_url + "/v1", max_retries=0).models.list()


def test_a_bad_request_costs_one_short_log_line(stack):
    log = stack.log_file
    for case, (headers, _) in BAD_KEYS.items():
        before, inode = log.stat().st_size, log.stat().st_ino
        for _ in range(20):
            assert send(stack, "POST", "/v1/messages", MESSAGE, headers).status == 401
        assert log.stat().st_ino == inode, "the log rotated during the measurement"
        grown = log.read_bytes()[before:].decode()
        assert len(grown) / 20 <= 160, f"{case}: {len(grown) / 20:.0f} bytes logged per request:\n{grown[:2000]}"
        assert grown.count("\n") == 20 and "Traceback" not in grown
        assert MASTER_KEY not in grown and "sk-not-the-master-key" not in grown


NOT_AN_OBJECT = "the request body must be a JSON object ({...}), as the API of this route defines it"


@pytest.mark.parametrize("body", [[1, 2], "hello", 7, None], ids=["array", "string", "number", "null"])
@pytest.mark.parametrize("method,path,body_,api", ROUTES[:3] + ROUTES[4:6], ids=[r[1] for r in ROUTES[:3] + ROUTES[4:6]])
@pytest.mark.parametrize("key", [False, True], ids=["no key", "master key"])
def test_a_json_body_that_is_not_an_object_is_a_400_and_one_short_log_line(fresh, body, method, path, body_, api, key):
    log = fresh.log_file
    before, inode = log.stat().st_size, log.stat().st_ino
    headers = {"x-api-key": MASTER_KEY} if key else {}
    raw = b"null" if body is None else json.dumps(body).encode()
    reply = request("POST", fresh.base_url + path, headers=headers, data=b"  \n" + raw, timeout=30)
    assert reply.status == 400, reply.body
    expected = expected_body(api, 400, "invalid_request_error", NOT_AN_OBJECT)
    if api == "gemini":
        expected["error"]["status"] = "INVALID_ARGUMENT"
    assert reply.json() == expected
    assert fresh.sims.anthropic.requests() == [] and fresh.sims.bedrock.requests() == []
    if log.stat().st_ino == inode:  # else the log rotated meanwhile: nothing to compare
        grown = log.read_bytes()[before:].decode()
        assert grown.count("\n") == 1 and len(grown) <= 200 and "Traceback" not in grown, grown


def test_an_object_body_and_a_form_still_reach_litellm(stack):
    ok = request("POST", stack.base_url + "/v1/messages", headers={"x-api-key": MASTER_KEY},
                 data=b"\n " + json.dumps(MESSAGE).encode(), timeout=30)
    assert ok.status == 200, ok.body
    form = request("POST", stack.base_url + "/v1/audio/transcriptions", data=b"[not json]", timeout=30,
                   headers={"x-api-key": MASTER_KEY, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status != 400 or NOT_AN_OBJECT not in form.body.decode(), form.body


def test_get_health_is_refused_and_costs_nothing(fresh):
    reply = send(fresh, "GET", "/health", headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert reply.status == 403 and "GET /health is disabled" in reply.json()["error"]["message"]
    test_connection = send(fresh, "POST", "/health/test_connection", {"litellm_params": {"model": "claude-haiku"}},
                           {"Authorization": f"Bearer {MASTER_KEY}"})
    assert test_connection.status == 403
    assert fresh.sims.anthropic.requests() == [] and fresh.sims.bedrock.requests() == []
    health = fresh.script("health", "health")
    assert health.returncode == 0, health.stderr
    assert "auth       ok    master key accepted" in health.stdout
    # make health's own Bedrock check is a ListFoundationModels (no inference), never a model call.
    assert fresh.primary_calls() == [] and fresh.fallback_calls() == []


def test_the_log_rotates_while_the_proxy_runs(stack):
    pid = read_pid(stack.workdir / "state" / "proxy.pid")
    assert os.readlink(f"/proc/{pid}/fd/2").startswith("pipe:"), "the proxy's output goes through the rotating writer"
    with ThreadPoolExecutor(8) as pool:
        for _ in range(40):  # at most 40 x 100 refusals of ~110 bytes: far past 4 x LOG_LIMIT
            list(pool.map(lambda _: send(stack, "GET", "/v1/models"), range(100)))
            if (stack.workdir / "logs" / "proxy.log.3").exists() and log_files(stack)[0].stat().st_size:
                break
    names = [p.name for p in log_files(stack)]
    assert names == ["proxy.log", "proxy.log.1", "proxy.log.2", "proxy.log.3"], names
    for path in log_files(stack):
        assert path.stat().st_size <= LOG_LIMIT and path.read_bytes().endswith(b"\n"), path.name
    assert send(stack, "GET", "/v1/models", headers={"x-api-key": MASTER_KEY}).status == 200
    send(stack, "GET", "/v1/models?after-rotation")
    last = stack.log_file.read_text().splitlines()[-1]
    assert "refused GET /v1/models from 127.0.0.1: no proxy key" in last, last


# ---- upstream refusals: client errors and failed fallbacks ---------------------------

def anthropic_client(stack):
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


@pytest.mark.parametrize("invalid", [{"max_tokens": -5}, {"messages": []}])
def test_an_invalid_request_goes_to_anthropic_once_and_never_to_bedrock(fresh, invalid):
    with pytest.raises(anthropic.BadRequestError) as raised:
        anthropic_client(fresh).messages.create(**{**MESSAGE, **invalid})
    assert raised.value.status_code == 400
    assert [r["status"] for r in fresh.primary_calls()] == [400]
    assert fresh.fallback_calls() == []


def test_an_invalid_chat_request_is_not_sent_to_bedrock(fresh):
    client = openai.OpenAI(api_key=fresh.master_key, base_url=fresh.base_url + "/v1", max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="claude-haiku", max_tokens=-5, messages=[{"role": "user", "content": "hi"}])
    assert [r["status"] for r in fresh.primary_calls()] == [400] and fresh.fallback_calls() == []


def test_a_bedrock_503_during_a_cooldown_is_a_503(fresh):
    model = "claude-opus-4-1"
    fresh.sims.anthropic.set_fault("429", retry_after=30, models=["claude-opus-4-1"])
    fresh.sims.bedrock.set_fault("503")
    client = anthropic_client(fresh)
    for attempt in ("the rate-limited call", "during the cooldown", "streaming, during the cooldown"):
        with pytest.raises(anthropic.APIStatusError) as raised:
            if attempt.startswith("streaming"):
                with client.messages.stream(**{**MESSAGE, "model": model}) as stream:
                    stream.until_done()
            else:
                client.messages.create(**{**MESSAGE, "model": model})
        assert raised.value.status_code == 503, (attempt, raised.value)
        assert "fallback claude-opus-4-1-bedrock failed with HTTP 503" in str(raised.value), attempt
        assert "retry-after" not in raised.value.response.headers, attempt
    chat = openai.OpenAI(api_key=fresh.master_key, base_url=fresh.base_url + "/v1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as raised:
        chat.chat.completions.create(model=model, max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 503
    assert [r["status"] for r in fresh.primary_calls(model)] == [429], "one Anthropic call, then the cooldown"
    assert [r["status"] for r in fresh.fallback_calls()] == [503] * 4


def test_a_bedrock_500_after_a_429_is_a_server_error(fresh):
    """LiteLLM maps Bedrock's 500 (InternalServerException) to its ServiceUnavailableError: 503."""
    fresh.sims.anthropic.set_fault("429", retry_after=30, models=["claude-opus-4-5"])
    fresh.sims.bedrock.set_fault("500")
    with pytest.raises(anthropic.APIStatusError) as raised:
        anthropic_client(fresh).messages.create(**{**MESSAGE, "model": "claude-opus-4-5"})
    assert raised.value.status_code == 503, raised.value
    assert [r["status"] for r in fresh.primary_calls("claude-opus-4-5")] == [429]
    assert [r["status"] for r in fresh.fallback_calls()] == [500]


def test_a_bedrock_throttle_after_a_429_stays_a_429(fresh):
    """Both sides rate-limited: then "try again later" is the truth."""
    fresh.sims.anthropic.set_fault("429", retry_after=30, models=["claude-sonnet-4-6"])
    fresh.sims.bedrock.set_fault("throttle")
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client(fresh).messages.create(**{**MESSAGE, "model": "claude-sonnet-4-6"})
    assert [r["status"] for r in fresh.fallback_calls()] == [429]
