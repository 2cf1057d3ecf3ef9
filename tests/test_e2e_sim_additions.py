"""Simulator behaviour the end-to-end suite relies on, added for it: retry-after on
5xx faults, faults before any content, trickling streams, output_config on Bedrock
and Claude Code's mid-conversation system turns (in-process simulators, no proxy)."""
import json
import time

import anthropic
import pytest
import requests
from conftest_sim import (  # noqa: F401
    API_KEY,
    MODEL,
    actl,
    bctl,
    boto,
    claude,
    fresh,
    sims,
    sse_events,
)

HI = [{"role": "user", "content": "hi"}]
REMINDER = [{"role": "user", "content": "hi"}, {"role": "system", "content": "Be brief."}]
MID_SYSTEM = "mid-conversation-system-2026-04-07"


def _invoke(sims, model_id: str, **extra):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": HI, **extra}
    return boto(sims).invoke_model(modelId=model_id, body=json.dumps(body))


@pytest.mark.parametrize("mode", ["529", "500", "503"])
def test_5xx_faults_carry_retry_after_only_when_asked(claude, actl, mode):
    actl.set_fault(mode, count=1)
    with pytest.raises(anthropic.APIStatusError) as plain:
        claude.messages.create(model=MODEL, max_tokens=10, messages=HI)
    actl.set_fault(mode, count=1, retry_after=3)
    with pytest.raises(anthropic.APIStatusError) as timed:
        claude.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert "retry-after" not in plain.value.response.headers
    assert timed.value.response.headers["retry-after"] == "3"


def test_a_fault_can_strike_before_any_content(sims, actl):
    actl.set_fault("overloaded_midstream", count=1, after=0)
    body = {"model": MODEL, "max_tokens": 50, "stream": True, "messages": HI}
    raw = requests.post(sims.anthropic_url + "/v1/messages", json=body, timeout=10,
                        headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}).content
    names = [name for name, _ in sse_events(raw)]
    assert names[0] == "message_start" and names[-1] == "error" and "content_block_delta" not in names


def test_trickle_spaces_the_frames_out_and_ends_the_stream(claude, actl):
    actl.set_fault("trickle", delay=0.05)
    started = time.monotonic()
    with claude.messages.stream(model=MODEL, max_tokens=50, messages=HI) as stream:
        events = [event.type for event in stream if event.type != "text"]
    assert events[-1] == "message_stop" and time.monotonic() - started >= 0.05 * (len(events) - 1)


def test_bedrock_takes_output_config_only_where_the_model_does(sims):
    reply = json.loads(_invoke(sims, "us.anthropic.claude-opus-4-7", output_config={"effort": "high"})["body"].read())
    assert reply["stop_reason"] == "end_turn"
    client = boto(sims)
    for model_id, config, message in [
            ("us.anthropic.claude-haiku-4-5-20251001-v1:0", {"effort": "high"}, "extraneous key [output_config]"),
            ("us.anthropic.claude-opus-4-7", {"verbosity": "low"}, "output_config.verbosity: Extra inputs")]:
        with pytest.raises(client.exceptions.ValidationException, match=message.replace("[", r"\[")):
            _invoke(sims, model_id, output_config=config)


def test_mid_conversation_system_turns(claude, sims):
    newest = claude.messages.create(model="claude-opus-4-8", max_tokens=50, messages=REMINDER,
                                    extra_headers={"anthropic-beta": MID_SYSTEM})
    assert newest.stop_reason == "end_turn"
    for model, headers in [("claude-opus-4-8", {}), (MODEL, {"anthropic-beta": MID_SYSTEM})]:
        with pytest.raises(anthropic.BadRequestError, match="messages.1.role"):
            claude.messages.create(model=model, max_tokens=10, messages=REMINDER, extra_headers=headers)
    reply = json.loads(_invoke(sims, "us.anthropic.claude-opus-4-8", messages=REMINDER)["body"].read())
    assert reply["stop_reason"] == "end_turn"
    with pytest.raises(boto(sims).exceptions.ValidationException, match="messages.1.role"):
        _invoke(sims, "us.anthropic.claude-haiku-4-5-20251001-v1:0", messages=REMINDER)
