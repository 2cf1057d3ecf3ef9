"""The upstream simulators, driven by the real clients: the anthropic SDK, boto3, raw HTTP."""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta

import anthropic
import pytest
import requests
from conftest_sim import (  # noqa: F401
    ACCESS_KEY,
    API_KEY,
    CLAUDE_CODE_SYSTEM,
    INVOKE_BODY,
    MODEL,
    OAUTH_TOKEN,
    SECRET_KEY,
    US_MODEL,
    actl,
    bctl,
    boto,
    claude,
    fresh,
    now_utc,
    signed_post,
    sims,
    sse_events,
)

from scripts.sim import eventstream as es
from scripts.sim.faults import SimControl

HI = [{"role": "user", "content": "hi"}]
WEATHER = {"name": "get_weather", "description": "Weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"},
                                                             "unit": {"enum": ["C", "F"]}},
                            "required": ["city", "unit"]}}


# --- AWS event-stream framing ------------------------------------------------------------------

def test_eventstream_roundtrip_matches_botocore_decoder():
    from botocore.eventstream import EventStreamBuffer
    frames = es.encode_event("chunk", b'{"bytes":"eA=="}') + es.encode_message({"n": 7, "ok": True}, b"x")
    buf = EventStreamBuffer()
    buf.add_data(frames)
    theirs = [(m.headers, m.payload) for m in buf]
    ours = [(m.headers, m.payload) for m in es.decode_all(frames)]
    assert ours == theirs
    assert ours[0][0] == {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    # the incremental decoder copes with frames split at any byte
    dec = es.EventStreamDecoder()
    got = [m for i in range(len(frames)) for m in dec.feed(frames[i:i + 1])]
    assert [m.payload for m in got] == [b'{"bytes":"eA=="}', b"x"] and dec.pending == 0


@pytest.mark.parametrize("pos, error", [(5, "prelude CRC"), (20, "message CRC")])
def test_eventstream_rejects_corrupted_frames(pos, error):
    frame = bytearray(es.encode_event("chunk", b'{"bytes":"eA=="}'))
    frame[pos] ^= 0xFF
    with pytest.raises(es.EventStreamError, match=error):
        es.decode_all(bytes(frame))
    with pytest.raises(es.EventStreamError, match="ended inside a frame"):
        es.decode_all(es.encode_event("chunk", b"{}")[:-3])


# --- Anthropic API ------------------------------------------------------------------------------

def test_messages_create_says_who_answered(claude, actl):
    msg = claude.messages.create(model=MODEL, max_tokens=100, messages=HI)
    assert msg.content[0].text.startswith(f"Hello from simulated Anthropic (model {MODEL}).")
    assert msg.id.startswith("msg_") and msg.model == MODEL and msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens == len(msg.content[0].text.split())
    assert msg.usage.cache_read_input_tokens == 0
    rec = actl.requests()[-1]
    assert rec | {"t": 0} == rec | {"upstream": "anthropic", "method": "POST", "path": "/v1/messages",
                                    "model": MODEL, "stream": False, "auth_kind": "api_key",
                                    "status": 200, "fault": None, "t": 0}


def test_sse_stream_has_the_real_event_sequence(sims):
    r = requests.post(sims.anthropic_url + "/v1/messages", headers={
        "x-api-key": API_KEY, "anthropic-version": "2023-06-01"},
        json={"model": MODEL, "max_tokens": 100, "messages": HI, "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream") and r.headers["request-id"]
    events = sse_events(r.content)
    names = [e for e, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[3:-3] == ["content_block_delta"] * (len(names) - 6)
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    text = "".join(d["delta"]["text"] for e, d in events if e == "content_block_delta")
    assert text.startswith("Hello from simulated Anthropic")
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] == len(text.split())


def test_tool_use_streamed_as_input_json_delta(claude):
    with claude.messages.stream(model=MODEL, max_tokens=200, tools=[WEATHER],
                                messages=[{"role": "user", "content": "Please use the tool"}]) as stream:
        partial = [e.delta.partial_json for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    block = final.content[0]
    assert block.type == "tool_use" and block.id.startswith("toolu_") and block.name == "get_weather"
    assert block.input == {"city": "sim", "unit": "C"} == json.loads("".join(partial))
    assert len(partial) > 2 and partial[0] == ""


def test_tool_choice_forces_tool_and_tool_result_is_echoed(claude):
    forced = claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=HI,
                                    tool_choice={"type": "tool", "name": "get_weather"})
    use = forced.content[0]
    assert use.type == "tool_use"
    assert claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=HI).stop_reason == "end_turn"
    history = [{"role": "user", "content": "use the tool"},
               {"role": "assistant", "content": [use.model_dump(exclude_none=True)]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "22C sunny"}]}]
    reply = claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=history)
    assert "Tool result received: 22C sunny" in reply.content[0].text
    history[2]["content"][0]["tool_use_id"] = "toolu_other"
    with pytest.raises(anthropic.BadRequestError, match="`tool_use` ids were found without `tool_result`"):
        claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=history)
    history[1]["content"] = "no tool call here"
    with pytest.raises(anthropic.BadRequestError, match="unexpected `tool_use_id` found in `tool_result`"):
        claude.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER], messages=history)


def test_thinking_block_first_and_signature_checked(claude):
    with claude.messages.stream(model=MODEL, max_tokens=2048, messages=HI,
                                thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    first_text = deltas.index("text_delta")
    assert set(deltas[:first_text - 1]) == {"thinking_delta"} and deltas[first_text - 1] == "signature_delta"
    turn = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [
        final.content[0].model_dump()]}, {"role": "user", "content": "again"}]
    ok = claude.messages.create(model=MODEL, max_tokens=2048, messages=turn,
                                thinking={"type": "enabled", "budget_tokens": 1024})
    assert ok.content[-1].type == "text"
    turn[1]["content"][0]["signature"] = "forged"
    with pytest.raises(anthropic.BadRequestError, match="Invalid `signature`"):
        claude.messages.create(model=MODEL, max_tokens=2048, messages=turn,
                               thinking={"type": "enabled", "budget_tokens": 1024})
    with pytest.raises(anthropic.BadRequestError, match="budget_tokens"):
        claude.messages.create(model=MODEL, max_tokens=2048, messages=HI, thinking={"type": "enabled", "budget_tokens": 10})


def test_max_tokens_stop_sequences_and_prompt_cache(claude):
    short = claude.messages.create(model=MODEL, max_tokens=3, messages=HI)
    assert short.stop_reason == "max_tokens" and len(short.content[0].text.split()) == 3
    stopped = claude.messages.create(model=MODEL, max_tokens=100, messages=HI, stop_sequences=["deterministic"])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "deterministic"
    system = [{"type": "text", "text": "rules " * 1000, "cache_control": {"type": "ephemeral"}}]
    first = claude.messages.create(model=MODEL, max_tokens=50, system=system, messages=HI)
    again = claude.messages.create(model=MODEL, max_tokens=50, system=system, messages=HI)
    assert first.usage.cache_creation_input_tokens > 1000 and first.usage.cache_read_input_tokens == 0
    assert again.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert again.usage.cache_creation_input_tokens == 0


def test_count_tokens_and_model_pagination(claude, sims):
    small = claude.messages.count_tokens(model=MODEL, messages=HI).input_tokens
    big = claude.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "x" * 4000}]).input_tokens
    assert 0 < small < big and big >= 1000
    assert claude.messages.count_tokens(model=MODEL, messages=HI).input_tokens == small
    page = claude.models.list(limit=3)
    assert len(page.data) == 3 and page.has_more and page.last_id == page.data[-1].id
    everything = [m.id for m in claude.models.list(limit=3)]  # auto-pagination follows after_id
    assert everything[:3] == [m.id for m in page.data] and len(everything) == len(set(everything)) > 6
    assert {"claude-opus-4-5-20251101", MODEL, "claude-haiku-4-5-20251001"} <= set(everything)
    model = page.data[0]
    assert model.type == "model" and model.display_name.startswith("Claude") and model.created_at.year >= 2025
    before = requests.get(sims.anthropic_url + "/v1/models", params={"before_id": everything[4], "limit": 2},
                          headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}).json()
    assert [m["id"] for m in before["data"]] == everything[2:4] and before["has_more"] is True


def test_auth_rules(sims, actl):
    url, v = sims.anthropic_url + "/v1/messages", {"anthropic-version": "2023-06-01"}
    body = {"model": MODEL, "max_tokens": 10, "messages": HI}

    def err(headers):
        r = requests.post(url, json=body, headers=headers)
        return r.status_code, r.json()["error"]["type"], r.json()["error"]["message"]
    assert err(v) == (401, "authentication_error", "x-api-key header is required")
    assert err({**v, "x-api-key": "nope"}) == (401, "authentication_error", "invalid x-api-key")
    oauth = {**v, "authorization": f"Bearer {OAUTH_TOKEN}"}
    assert err(oauth) == (401, "authentication_error", "OAuth authentication is currently not supported.")
    # A subscription token answers Claude Code's requests only (test_sim_subscription.py).
    body = {**body, "system": CLAUDE_CODE_SYSTEM}
    assert requests.post(url, json=body, headers={**oauth, "anthropic-beta": "oauth-2025-04-20"}).status_code == 200
    assert err({"x-api-key": API_KEY})[:2] == (400, "invalid_request_error")
    assert [r["auth_kind"] for r in actl.requests()] == ["none", "api_key", "oauth", "oauth", "api_key"]
    sdk = anthropic.Anthropic(auth_token=OAUTH_TOKEN, base_url=sims.anthropic_url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError, match="OAuth authentication is currently not supported"):
        sdk.messages.create(model=MODEL, max_tokens=10, messages=HI)
    beta = sdk.with_options(default_headers={"anthropic-beta": "oauth-2025-04-20"})
    assert beta.messages.create(model=MODEL, max_tokens=10, messages=HI, system=CLAUDE_CODE_SYSTEM).content[0].text


def test_request_validation(sims, claude):
    url, h = sims.anthropic_url + "/v1/messages", {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
    cases = [({"model": MODEL, "messages": HI}, "max_tokens: Field required"),
             ({"max_tokens": 5, "messages": HI}, "model: Field required"),
             ({"model": MODEL, "max_tokens": 5}, "messages: Field required"),
             ({"model": MODEL, "max_tokens": 5, "messages": []}, "at least one message"),
             ({"model": MODEL, "max_tokens": 5, "messages": HI, "anthropic_version": "x"},
              "anthropic_version: Extra inputs are not permitted")]
    for body, message in cases:
        r = requests.post(url, json=body, headers=h)
        assert r.status_code == 400 and r.headers["request-id"]
        assert r.json()["type"] == "error" and r.json()["error"]["type"] == "invalid_request_error"
        assert message in r.json()["error"]["message"]
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nonexistent"):
        claude.messages.create(model="claude-nonexistent", max_tokens=5, messages=HI)
    assert requests.post(url, json=cases[0][0], headers={**h, "anthropic-beta": "bogus"}).status_code == 400
    assert requests.get(sims.anthropic_url + "/v1/nowhere", headers=h).json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("mode, exc, status, kind", [
    ("429", "RateLimitError", 429, "rate_limit_error"), ("529", "OverloadedError", 529, "overloaded_error"),
    ("500", "InternalServerError", 500, "api_error"), ("503", "ServiceUnavailableError", 503, "api_error")])
def test_anthropic_status_faults(claude, actl, mode, exc, status, kind):
    actl.set_fault(mode, count=1, retry_after=7)
    with pytest.raises(getattr(anthropic, exc)) as info:
        claude.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert info.value.status_code == status and info.value.body["error"]["type"] == kind
    if status == 429:
        headers = info.value.response.headers
        assert headers["retry-after"] == "7" and headers["anthropic-ratelimit-requests-remaining"] == "0"
        for name in ("requests", "tokens", "input-tokens", "output-tokens"):
            assert headers[f"anthropic-ratelimit-{name}-reset"].endswith("Z")
    assert claude.messages.create(model=MODEL, max_tokens=10, messages=HI).content  # count=1 used up
    assert [(r["status"], r["fault"]) for r in actl.requests()] == [(status, mode), (200, None)]


def test_midstream_faults_and_slow(claude, actl):
    actl.set_fault("drop_midstream", count=1)
    seen = []
    with pytest.raises(Exception) as info:  # the SDK surfaces the transport's own error mid-stream
        with claude.messages.stream(model=MODEL, max_tokens=100, messages=HI) as stream:
            for event in stream:
                seen.append(event.type)
    assert "incomplete chunked read" in str(info.value)
    assert seen[0] == "message_start" and "content_block_delta" in seen and "message_stop" not in seen
    actl.set_fault("overloaded_midstream", count=1)
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        with claude.messages.stream(model=MODEL, max_tokens=100, messages=HI) as stream:
            list(stream)
    actl.set_fault("drop_midstream", count=1)
    with pytest.raises(anthropic.APIConnectionError):
        claude.messages.create(model=MODEL, max_tokens=10, messages=HI)
    actl.set_fault("slow", delay=0.4, models=["claude-opus-4-8"])
    start = time.monotonic()
    claude.messages.create(model=MODEL, max_tokens=10, messages=HI)  # not listed: no delay
    fast = time.monotonic() - start
    claude.messages.create(model="claude-opus-4-8", max_tokens=10, messages=HI)
    assert fast < 0.3 and time.monotonic() - start >= 0.4
    assert [r["fault"] for r in actl.requests()] == [
        "drop_midstream", "overloaded_midstream", "drop_midstream", None, "slow"]


def test_control_api_validation_and_connection_refused(actl, sims):
    with pytest.raises(Exception, match="400"):
        actl.set_fault("explode")
    assert actl.health()["status"] == "ok"
    with socket.socket() as s:  # a port nothing listens on: "connection refused"
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    dead = anthropic.Anthropic(api_key=API_KEY, base_url=f"http://127.0.0.1:{closed}", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        dead.messages.create(model=MODEL, max_tokens=5, messages=HI)


# --- Bedrock runtime ----------------------------------------------------------------------------

def _invoke(client, model_id=US_MODEL, **body):
    return client.invoke_model(modelId=model_id, body=json.dumps({**INVOKE_BODY, **body}))


def test_invoke_model_with_verified_signature(sims, bctl):
    reply = json.loads(_invoke(boto(sims))["body"].read())
    assert reply["content"][0]["text"].startswith(f"Hello from simulated Bedrock (model {US_MODEL}).")
    assert reply["model"] == MODEL and reply["id"].startswith("msg_bdrk_") and reply["usage"]["output_tokens"]
    rec = bctl.requests()[-1]
    assert (rec["auth_kind"], rec["access_key_id"], rec["region"], rec["status"]) == (
        "sigv4", "AKIASIMULATOR0000001", "us-east-1", 200)
    assert rec["anthropic_credential_leak"] is False and "authorization" in rec["headers"]


def test_invoke_stream_frames_and_order(sims):
    raw = signed_post(f"{sims.bedrock_url}/model/{US_MODEL.replace(':', '%3A')}/invoke-with-response-stream",
                      json.dumps(INVOKE_BODY).encode())
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/vnd.amazon.eventstream"
    frames = es.decode_all(raw.raw.read())
    assert all(f.headers == {":event-type": "chunk", ":content-type": "application/json",
                             ":message-type": "event"} for f in frames)
    events = [json.loads(base64.b64decode(json.loads(f.payload)["bytes"])) for f in frames]
    types = [e["type"] for e in events]
    assert types[:3] == ["message_start", "content_block_start", "ping"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == events[-2]["usage"]["output_tokens"]
    # and boto3 reads the same stream
    stream = boto(sims).invoke_model_with_response_stream(modelId=US_MODEL, body=json.dumps(INVOKE_BODY))
    assert [json.loads(e["chunk"]["bytes"])["type"] for e in stream["body"]] == types


def test_converse_and_converse_stream(sims):
    client = boto(sims)
    hi = [{"role": "user", "content": [{"text": "hi"}]}]
    out = client.converse(modelId="global.anthropic.claude-opus-4-6-v1", messages=hi,
                          inferenceConfig={"maxTokens": 100})
    assert out["output"]["message"]["content"][0]["text"].startswith(
        "Hello from simulated Bedrock (model global.anthropic.claude-opus-4-6-v1).")
    usage = out["usage"]
    assert out["stopReason"] == "end_turn" and usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    events = list(client.converse_stream(modelId=US_MODEL, messages=hi)["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text.startswith("Hello from simulated Bedrock") and events[-1]["metadata"]["usage"]["outputTokens"]
    tool = {"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object", "properties": {
        "q": {"type": "string"}}, "required": ["q"]}}}}
    called = client.converse(modelId=US_MODEL, messages=[{"role": "user", "content": [{"text": "use the tool"}]}],
                             toolConfig={"tools": [tool]})
    assert called["stopReason"] == "tool_use"
    assert called["output"]["message"]["content"][0]["toolUse"]["input"] == {"q": "sim"}
    with pytest.raises(client.exceptions.ValidationException, match="toolConfig field must be defined"):
        client.converse(modelId=US_MODEL, messages=[called["output"]["message"] | {"role": "user"}])


@pytest.mark.parametrize("choice, extra, message", [
    # LiteLLM 1.106.2's Converse body for tool_choice + parallel_tool_calls (no type left)
    ({"auto": {}}, {"tool_choice": {"disable_parallel_tool_use": False}}, "tool_choice.type: Field required"),
    # ... and LiteLLM 1.96's, which kept the type (BerriAI/litellm issue #36536)
    ({"tool": {"name": "lookup"}}, {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
     "The additional field tool_choice/type conflicts with the existing field toolConfig.toolChoice.tool."),
    (None, {"tool_choice": {"disable_parallel_tool_use": True}}, "tool_choice.type: Field required"),
])
def test_converse_tool_choice_in_additional_fields(sims, bctl, choice, extra, message):
    client = boto(sims)
    tool = {"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}
    config = {"tools": [tool], **({"toolChoice": choice} if choice else {})}
    bctl.reset()
    with pytest.raises(client.exceptions.ValidationException, match=re.escape(message)):
        client.converse(modelId=US_MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}],
                        toolConfig=config, additionalModelRequestFields=extra)
    (record,) = bctl.requests()
    assert record["rejected"].startswith(message)


def test_converse_accepts_anthropic_tool_choice_without_tool_config_choice(sims, bctl):
    """The form LiteLLM sends for parallel_tool_calls without a tool_choice: type included."""
    client = boto(sims)
    tool = {"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}
    out = client.converse(modelId=US_MODEL, messages=[{"role": "user", "content": [{"text": "hi"}]}],
                          toolConfig={"tools": [tool]}, additionalModelRequestFields={
                              "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}})
    assert out["stopReason"] == "end_turn"
    assert bctl.requests()[-1]["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


@pytest.mark.parametrize("model_id, body, message", [
    (US_MODEL, {"model": MODEL}, "extraneous key [model] is not permitted"),
    (US_MODEL, {"stream": True}, "extraneous key [stream] is not permitted"),
    (US_MODEL, {"anthropic_version": "2023-06-01"}, "invalid anthropic_version"),
    (US_MODEL, {"anthropic_beta": ["oauth-2025-04-20"]}, "invalid beta flag"),
    (US_MODEL, {"anthropic_beta": ["claude-code-20250219"]}, "invalid beta flag"),
    ("us.anthropic.claude-nonexistent-v1:0", {}, "The provided model identifier is invalid."),
    ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", {}, "The provided model identifier is invalid."),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", {}, "with on-demand throughput isn't supported"),
])
def test_invoke_rejections(sims, model_id, body, message):
    client = boto(sims)
    with pytest.raises(client.exceptions.ValidationException) as info:
        _invoke(client, model_id, **body)
    assert message in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("ValidationException:")


def test_supported_beta_flags_pass(sims):
    reply = json.loads(_invoke(boto(sims), anthropic_beta=["interleaved-thinking-2025-05-14"])["body"].read())
    assert reply["stop_reason"] == "end_turn"


def test_sigv4_rejections(sims, bctl):
    url = f"{sims.bedrock_url}/model/{US_MODEL}/invoke"
    body = json.dumps(INVOKE_BODY).encode()

    def error(resp):
        return resp.status_code, resp.headers["x-amzn-ErrorType"].split(":")[0], resp.json()["message"]
    assert error(requests.post(url, data=body)) == (403, "MissingAuthenticationTokenException",
                                                   "Missing Authentication Token")
    assert error(requests.post(url, data=body, headers={"Authorization": "AWS4-HMAC-SHA256 junk"}))[:2] == (
        403, "IncompleteSignatureException")
    wrong = error(signed_post(url, body, secret="not-the-secret"))
    assert wrong[:2] == (403, "InvalidSignatureException") and wrong[2].startswith(
        "The request signature we calculated does not match")
    stale = error(signed_post(url, body, when=now_utc() - timedelta(minutes=20)))
    assert stale[:2] == (403, "InvalidSignatureException") and "Signature expired" in stale[2]
    assert error(signed_post(url, body, headers={"X-Amz-Security-Token": "expired-token"}))[1] == "ExpiredTokenException"
    client = boto(sims, aws_access_key_id="AKIAUNKNOWN")
    with pytest.raises(client.exceptions.ClientError, match="UnrecognizedClientException"):
        _invoke(client)
    assert signed_post(url, body).status_code == 200  # the same helper, correctly signed


def test_anthropic_credentials_leaking_to_bedrock_are_recorded(sims, bctl):
    client = boto(sims)

    def add_key(request, **_):
        request.headers["x-api-key"] = API_KEY
    client.meta.events.register("before-sign.bedrock-runtime.InvokeModel", add_key)
    _invoke(client)
    listing = json.dumps(bctl.requests())
    rec = bctl.requests()[-1]
    assert rec["anthropic_credential_leak"] is True and rec["anthropic_credential_headers"] == ["x-api-key"]
    assert API_KEY not in listing and SECRET_KEY not in listing


@pytest.mark.parametrize("mode, code, status", [
    ("throttle", "ThrottlingException", 429), ("expired_token", "ExpiredTokenException", 403),
    ("503", "ServiceUnavailableException", 503), ("500", "InternalServerException", 500)])
def test_bedrock_status_faults(sims, bctl, mode, code, status):
    bctl.set_fault(mode, count=1)
    client = boto(sims)
    with pytest.raises(client.exceptions.ClientError) as info:
        _invoke(client)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert _invoke(client)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_bedrock_midstream_faults(sims, bctl):
    from botocore.exceptions import EventStreamError
    client = boto(sims)
    bctl.set_fault("overloaded_midstream", count=1)
    seen = []
    with pytest.raises(EventStreamError, match="throttlingException"):
        for event in client.invoke_model_with_response_stream(modelId=US_MODEL, body=json.dumps(INVOKE_BODY))["body"]:
            seen.append(json.loads(event["chunk"]["bytes"])["type"])
    assert seen[0] == "message_start" and "content_block_delta" in seen and "message_stop" not in seen
    bctl.set_fault("drop_midstream", count=1)
    with pytest.raises(Exception):
        list(client.converse_stream(modelId=US_MODEL, messages=[{"role": "user", "content": [{"text": "x"}]}])["stream"])
    assert [r["fault"] for r in bctl.requests()] == ["overloaded_midstream", "drop_midstream"]


# --- Bedrock control plane ----------------------------------------------------------------------

def test_list_foundation_models(sims):
    summaries = boto(sims, "bedrock").list_foundation_models(byProvider="anthropic")["modelSummaries"]
    ids = [m["modelId"] for m in summaries]
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in ids and "anthropic.claude-opus-4-1-20250805-v1:0" in ids
    sonnet = summaries[ids.index("anthropic.claude-sonnet-4-5-20250929-v1:0")]
    assert sonnet["providerName"] == "Anthropic" and sonnet["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert sonnet["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/" + sonnet["modelId"]
    assert sonnet["modelLifecycle"]["status"] == "ACTIVE" and sonnet["responseStreamingSupported"] is True
    assert boto(sims, "bedrock").list_foundation_models(byProvider="meta")["modelSummaries"] == []


@pytest.mark.parametrize("region, prefixes", [("us-west-2", {"us", "global"}), ("eu-central-1", {"eu", "global"}),
                                              ("ap-northeast-1", {"apac", "global"}), ("ap-southeast-2", {"global"})])
def test_inference_profiles_follow_region_and_paginate(sims, region, prefixes):
    client = boto(sims, "bedrock", region=region)
    pages = list(client.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 4}))
    assert len(pages) > 2 and all("nextToken" in p for p in pages[:-1])
    profiles = [p for page in pages for p in page["inferenceProfileSummaries"]]
    ids = [p["inferenceProfileId"] for p in profiles]
    assert len(ids) == len(set(ids)) and {i.split(".")[0] for i in ids} == prefixes
    assert ("global.anthropic.claude-sonnet-4-5-20250929-v1:0" in ids
            and "global.anthropic.claude-opus-4-1-20250805-v1:0" not in ids)
    first = profiles[0]
    assert first["status"] == "ACTIVE" and first["type"] == "SYSTEM_DEFINED" and first["models"][0]["modelArn"]
    assert first["inferenceProfileArn"].startswith(f"arn:aws:bedrock:{region}:")
    runtime = boto(sims, region=region)
    assert json.loads(_invoke(runtime, ids[0])["body"].read())["content"][0]["text"].endswith("simulator.")


# --- the command --------------------------------------------------------------------------------

def test_cli_ready_line_startup_fault_and_clean_sigterm():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-m", "scripts.simulators", "--anthropic-port", "0",
                             "--bedrock-port", "0", "--anthropic-fault", "429,count=1,retry_after=2"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[:2] == ["SIMULATORS", "READY"]
        urls = dict(part.split("=", 1) for part in line[2:])
        assert SimControl(urls["bedrock"]).health() == {"status": "ok", "upstream": "bedrock"}
        sdk = anthropic.Anthropic(api_key=API_KEY, base_url=urls["anthropic"], max_retries=0)
        with pytest.raises(anthropic.RateLimitError):
            sdk.messages.create(model=MODEL, max_tokens=5, messages=HI)
        assert sdk.messages.create(model=MODEL, max_tokens=5, messages=HI).content
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


# --- LiteLLM as a client (the library, not the proxy) -------------------------------------------

def test_litellm_requests_pass_signature_verification(sims, actl, bctl, monkeypatch):
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network for the cost map
    import litellm  # heavy (seconds): only this test needs the library
    aws = dict(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_region_name="us-east-1",
               aws_bedrock_runtime_endpoint=sims.bedrock_url, num_retries=0, max_tokens=50)
    hi = [{"role": "user", "content": "hi"}]
    reply = litellm.completion(model=f"bedrock/{US_MODEL}", messages=hi, **aws)  # Converse
    assert reply.choices[0].message.content.startswith(f"Hello from simulated Bedrock (model {US_MODEL})")
    chunks = litellm.completion(model=f"bedrock/invoke/{US_MODEL}", messages=hi, stream=True, **aws)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith("Hello from simulated Bedrock")
    direct = litellm.completion(model=f"anthropic/{MODEL}", messages=hi, api_key=API_KEY,
                                api_base=sims.anthropic_url, max_tokens=50)
    assert direct.choices[0].message.content.startswith("Hello from simulated Anthropic")
    assert [(r["path"].rsplit("/", 1)[-1], r["status"], r["auth_kind"]) for r in bctl.requests()] == [
        ("converse", 200, "sigv4"), ("invoke-with-response-stream", 200, "sigv4")]
    assert actl.requests()[0]["auth_kind"] == "api_key" and "x-api-key" in actl.requests()[0]["headers"]
    with pytest.raises(Exception, match="signature we calculated does not match"):
        litellm.completion(model=f"bedrock/{US_MODEL}", messages=hi, **{**aws, "aws_secret_access_key": "wrong"})
