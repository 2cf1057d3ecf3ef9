"""The Anthropic simulator's subscription rules: a subscription (OAuth) token answers
Claude Code's requests only (both reported refusal shapes), and its answers carry the
anthropic-ratelimit-unified-* usage windows, rising with use, with a usage-limit 429
until the window resets (with and without retry-after)."""
import time

import pytest
import requests
from conftest_sim import (  # noqa: F401
    API_KEY,
    CLAUDE_CODE_SYSTEM,
    MODEL,
    OAUTH_TOKEN,
    actl,
    bctl,
    fresh,
    sims,
)

OAUTH = {"authorization": f"Bearer {OAUTH_TOKEN}", "anthropic-beta": "oauth-2025-04-20",
         "anthropic-version": "2023-06-01"}
UNIFIED = "anthropic-ratelimit-unified-"


def post(sims, model=MODEL, system=CLAUDE_CODE_SYSTEM, headers=None, stream=False):
    body = {"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    if system is not None:
        body["system"] = system
    return requests.post(sims.anthropic_url + "/v1/messages", json=body, headers=headers or OAUTH, timeout=10)


def error_of(reply) -> tuple:
    return reply.status_code, reply.json()["error"]["type"], reply.json()["error"]["message"]


def test_a_subscription_token_answers_claude_codes_opening_only(sims, actl):
    assert post(sims).status_code == 200
    identity_only = [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}]
    assert post(sims, system=identity_only).status_code == 200
    refused = (400, "invalid_request_error", "This credential is only authorized for use with Claude Code and "
               "cannot be used for other API requests.")
    assert error_of(post(sims, system=None)) == refused
    assert error_of(post(sims, system="You are a helpful assistant.")) == refused
    # The identity must open the prompt (after the attribution block), not appear later.
    assert error_of(post(sims, system=[{"type": "text", "text": "Be terse."}, *CLAUDE_CODE_SYSTEM])) == refused
    # The same request with an API key is no business of this rule.
    api_key = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
    assert post(sims, system=None, headers=api_key).status_code == 200
    records = actl.requests()
    assert records[0]["system_head"] == [t["text"] for t in CLAUDE_CODE_SYSTEM]
    assert [r["status"] for r in records] == [200, 200, 400, 400, 400, 200]


def test_the_rate_limit_shape_refuses_opus_and_sonnet_but_haiku_answers(sims, actl):
    actl.subscription(claude_code_only="rate_limit")
    assert post(sims, system=None).status_code == 200  # haiku
    for model in ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"):
        status, kind, _ = error_of(post(sims, model=model, system=None))
        assert (status, kind) == (429, "rate_limit_error")
    assert post(sims, model="claude-opus-4-1-20250805").status_code == 200  # Claude Code's request
    actl.subscription(claude_code_only="off")
    assert post(sims, model="claude-opus-4-1-20250805", system=None).status_code == 200
    with pytest.raises(RuntimeError, match="claude_code_only must be one of"):
        actl.subscription(claude_code_only="sometimes")


def test_every_subscription_answer_carries_the_windows_rising_with_use(sims, actl):
    actl.subscription(per_request=0.2, windows={"5h": {"utilization": 0.4, "reset_in": 3600}})
    first, second, third = post(sims), post(sims, stream=True), post(sims)
    assert [r.headers[UNIFIED + "5h-utilization"] for r in (first, second, third)] == ["0.6", "0.8", "1"]
    assert [r.headers[UNIFIED + "5h-status"] for r in (first, second, third)] == \
        ["allowed", "allowed_warning", "rejected"]
    assert [r.headers[UNIFIED + "status"] for r in (first, second, third)] == \
        ["allowed", "allowed_warning", "rejected"]
    assert first.headers[UNIFIED + "7d-utilization"] == "0.2" and first.headers[UNIFIED + "7d-status"] == "allowed"
    assert 3590 < int(first.headers[UNIFIED + "5h-reset"]) - time.time() <= 3600
    assert int(first.headers[UNIFIED + "7d-reset"]) - time.time() > 6 * 86400
    assert first.headers[UNIFIED + "representative-claim"] == "five_hour"
    assert first.headers[UNIFIED + "reset"] == first.headers[UNIFIED + "5h-reset"]
    assert error_of(post(sims))[0] == 429  # the window is used up: the next request is refused
    api_key = post(sims, headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"})
    assert api_key.status_code == 200 and not [h for h in api_key.headers if h.lower().startswith(UNIFIED)]


@pytest.mark.parametrize("retry_after", [None, 1])
def test_a_used_up_window_answers_429_until_its_reset(sims, actl, retry_after):
    actl.subscription(exhaust={"window": "5h", "reset_in": 2, "retry_after": retry_after})
    limited = post(sims)
    status, kind, _ = error_of(limited)
    assert (status, kind) == (429, "rate_limit_error")
    assert limited.headers[UNIFIED + "status"] == "rejected"
    assert limited.headers[UNIFIED + "5h-status"] == "rejected"
    assert limited.headers[UNIFIED + "representative-claim"] == "five_hour"
    assert 0 < int(limited.headers[UNIFIED + "reset"]) - time.time() <= 2
    assert limited.headers.get("retry-after") == (None if retry_after is None else str(retry_after))
    assert post(sims, headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}).status_code == 200
    time.sleep(2.1)
    again = post(sims)
    assert again.status_code == 200 and again.headers[UNIFIED + "5h-status"] == "allowed"
    assert float(again.headers[UNIFIED + "5h-utilization"]) < 0.1
    assert int(again.headers[UNIFIED + "5h-reset"]) - time.time() > 5 * 3600 - 10


def test_reset_and_bad_specs(sims, actl):
    actl.subscription(claude_code_only="off", exhaust={"window": "7d", "reset_in": 60})
    actl.reset()
    state = actl.subscription_state()
    assert state["claude_code_only"] == "invalid_request"
    assert {w["status"] for w in state["windows"].values()} == {"allowed"}
    for bad, message in (({"windows": {"1h": {}}}, "window must be one of"), ({"colour": 1}, "unknown option")):
        with pytest.raises(RuntimeError, match=message):
            actl.subscription(**bad)
