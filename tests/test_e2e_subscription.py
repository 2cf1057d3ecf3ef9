"""The subscription carries Claude Code only, end to end: a real proxy from the project's
config.yaml, the simulated Anthropic (which refuses a subscription token for anything but
Claude Code and announces usage windows) and Bedrock, the real Claude Code CLI (the way
the shell block runs it: ANTHROPIC_AUTH_TOKEN = the proxy key) and the anthropic SDK.

Both credentials set:
- at the same time, the CLI's requests reach Anthropic with the subscription token and the
  SDK's with the API key, each with its own headers and system prompt, nothing added;
- a usage-limit 429 on the subscription sends the CLI to the API key until the window's
  reset (announced in the headers; with no retry-after, or a shorter one), one subscription
  call per window, then the subscription again; the SDK never notices; `make status` and
  the gauges show the windows;
- another client naming the subscription tier gets 403 and costs no upstream call, on
  /v1/messages/count_tokens too.
Only the token set: the SDK (and an OpenAI-format request) is answered by Bedrock, never
touching the subscription (which would answer it 429 and cool it down for everyone), the
CLI still gets the subscription, and `make health` says so.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import anthropic
import pytest
from claude_cli import claude_binary, run_print
from harness import API_KEY, OAUTH_TOKEN, start_stack

from scripts.core.http import request

pytestmark = pytest.mark.e2e
MODEL = "claude-sonnet-4-5"
RESET = 12  # seconds until the used-up window resets: enough for two CLI runs and `make status`


@pytest.fixture(scope="module")
def claude():
    return claude_binary()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, claude):
    running = start_stack(tmp_path_factory.mktemp("e2e-subscription"), credentials=("api_key", "token"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token_stack(tmp_path_factory, claude):
    # The 429 shape: what a subscription answers another client's Opus/Sonnet request with.
    running = start_stack(tmp_path_factory.mktemp("e2e-token-only"), credentials=("token",),
                          sim_args=["--anthropic-claude-code-only", "rate_limit"])
    yield running
    running.stop()


def run_claude(stack, claude, model: str = MODEL) -> str:
    """`claude -p` as a configured shell runs it; the answer's text."""
    return run_print(claude, stack.base_url, stack.master_key, stack.workdir / "home", model)["result"]


def sdk(stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


def ask_sdk(stack, model: str = MODEL, stream: bool = False) -> str:
    kwargs = dict(model=model, max_tokens=32, system="Be brief.", messages=[{"role": "user", "content": "hello"}])
    if stream:
        with sdk(stack).messages.stream(**kwargs) as events:
            return events.get_final_message().content[0].text
    return sdk(stack).messages.create(**kwargs).content[0].text


def is_cli(record: dict) -> bool:
    return any("Claude Agent SDK" in text or "Claude Code" in text for text in record.get("system_head") or [])


def tiers_of(stack) -> Dict[str, List[tuple]]:
    """(auth kind, status) of each upstream call, the CLI's and the SDK's apart."""
    calls = {"cli": [], "sdk": []}
    for record in stack.primary_calls():
        calls["cli" if is_cli(record) else "sdk"].append((record["auth_kind"], record["status"]))
    calls["bedrock"] = [(r["auth_kind"], r["status"]) for r in stack.fallback_calls()]
    return calls


def report(capsys, phase: str, calls: Dict[str, List[tuple]]) -> None:
    def count(kind, items):
        return sum(1 for k, _ in items if k == kind)
    with capsys.disabled():
        print(f"\n{phase}: CLI subscription {count('oauth', calls['cli'])}, CLI API key {count('api_key', calls['cli'])}, "
              f"SDK subscription {count('oauth', calls['sdk'])}, SDK API key {count('api_key', calls['sdk'])}, "
              f"Bedrock {len(calls['bedrock'])}")


def gauges(stack) -> Dict[str, float]:
    text = request("GET", f"{stack.base_url}/metrics/", timeout=30).body.decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line.startswith("gateway_subscription_")}


def status_row(stack, label: str, capsys=None) -> str:
    """One row of `make status` (the whole output printed when capsys is given)."""
    done = stack.script("status")
    assert done.returncode == 0, done.stderr
    if capsys is not None:
        with capsys.disabled():
            print(f"\n`make status`:\n{done.stdout}")
    rows = {line[:14].strip(): line[15:] for line in done.stdout.splitlines()}
    return rows[label]


def test_claude_code_on_the_subscription_and_the_sdk_on_the_api_key_at_once(stack, claude, capsys):
    stack.reset()
    with ThreadPoolExecutor(2) as pool:
        cli = pool.submit(run_claude, stack, claude)
        answers = []
        while not cli.done() or not answers:  # the SDK keeps asking while the CLI runs
            answers.append(ask_sdk(stack, stream=len(answers) % 2 == 1))
        assert "simulated Anthropic" in cli.result()
    assert all("simulated Anthropic" in a for a in answers)
    calls = tiers_of(stack)
    report(capsys, "both credentials, CLI and SDK together", calls)
    assert calls["cli"] == [("oauth", 200)] and calls["bedrock"] == []
    assert calls["sdk"] == [("api_key", 200)] * len(answers)
    effective = stack.workdir / "state" / "litellm-config.yaml"  # config.yaml plus the twins
    assert effective.stat().st_mode & 0o777 == 0o600
    assert OAUTH_TOKEN not in effective.read_text() and API_KEY not in effective.read_text()
    for record in stack.primary_calls():
        if is_cli(record):  # Claude Code's own prompt and beta flag, as it sent them
            assert "claude-code-20250219" in record["anthropic_beta"] and "x-api-key" not in record["headers"]
        else:  # nothing of Claude Code's was added to the SDK's request
            assert record["system_head"] == ["Be brief."] and "claude-code-20250219" not in record["anthropic_beta"]
            assert "authorization" not in record["headers"]


@pytest.mark.parametrize("retry_after", [None, 2], ids=["no retry-after", "shorter retry-after"])
def test_a_usage_limit_sends_claude_code_to_the_api_key_until_the_reset(stack, claude, capsys, retry_after):
    stack.reset()
    assert "simulated Anthropic" in run_claude(stack, claude)
    windows = status_row(stack, "subscription")
    assert windows.startswith("5h 2% (resets ") and ", 7d 2% (resets " in windows, windows
    stack.reset()
    stack.sims.anthropic.subscription(exhaust={"window": "5h", "reset_in": RESET, "retry_after": retry_after})
    reset_at = time.time() + RESET

    assert "simulated Anthropic" in run_claude(stack, claude)  # the 429 goes on to the API key
    assert "simulated Anthropic" in ask_sdk(stack)
    limited = status_row(stack, "subscription", capsys)
    assert limited.startswith("LIMITED until ") and "(five_hour): 5h 100% rejected" in limited, limited
    assert "Claude Code uses the API key until then" in limited
    metrics = gauges(stack)
    assert metrics['gateway_subscription_window_utilization{window="5h"}'] == 1.0
    assert metrics['gateway_subscription_window_status{window="5h"}'] == 2.0
    assert abs(metrics["gateway_subscription_cooldown_until_timestamp_seconds"] - reset_at) < 3
    (limit,) = [r for r in stack.primary_calls() if r["status"] == 429]
    time.sleep(max(0.0, limit["t"] + (retry_after or 0) + 0.5 - time.time()))  # past any retry-after
    assert "simulated Anthropic" in run_claude(stack, claude)
    assert time.time() < reset_at, "the window reset before the second run: raise RESET"
    calls = tiers_of(stack)
    report(capsys, f"usage limit ({retry_after or 'no'} retry-after), until the reset", calls)
    assert calls["cli"] == [("oauth", 429), ("api_key", 200), ("api_key", 200)]  # one subscription call
    assert calls["sdk"] == [("api_key", 200)] and calls["bedrock"] == []

    stack.reset()
    time.sleep(max(0.0, reset_at + 1 - time.time()))
    assert "simulated Anthropic" in run_claude(stack, claude)
    calls = tiers_of(stack)
    report(capsys, "after the reset", calls)
    assert calls["cli"] == [("oauth", 200)]
    assert status_row(stack, "subscription").startswith("5h 2% (resets ")


def test_another_client_naming_the_subscription_tier_is_refused_without_an_upstream_call(stack):
    stack.reset()
    with pytest.raises(anthropic.PermissionDeniedError, match="carries Claude Code's requests only: ask for "
                                                               "claude-sonnet-4-5"):
        ask_sdk(stack, model="claude-sonnet-4-5-subscription")
    assert stack.primary_calls() == [] and stack.fallback_calls() == []


@pytest.mark.parametrize("credentials", ["both", "token only"])
def test_a_token_count_naming_the_subscription_tier_is_refused_without_an_upstream_call(stack, token_stack,
                                                                                        credentials):
    """/v1/messages/count_tokens runs no pre-call hook: the proxy's auth hook refuses it there."""
    running = stack if credentials == "both" else token_stack
    running.reset()
    hello = [{"role": "user", "content": "hello"}]
    with pytest.raises(anthropic.PermissionDeniedError, match="carries Claude Code's requests only: ask for "
                                                               "claude-sonnet-4-5"):
        sdk(running).messages.count_tokens(model="claude-sonnet-4-5-subscription", messages=hello)
    assert running.primary_calls() == []
    # The model's own name still counts: on the API key, or (token only) locally, never on the token.
    assert sdk(running).messages.count_tokens(model=MODEL, messages=hello).input_tokens > 0
    assert [c["auth_kind"] for c in running.primary_calls()] == (["api_key"] if credentials == "both" else [])


def test_with_only_the_token_other_clients_get_bedrock_and_never_cool_the_subscription(token_stack, claude, capsys):
    stack = token_stack
    health = stack.script("health", "health")
    assert health.returncode == 0, health.stderr
    assert "tiers      Claude Code: subscription -> Bedrock; other clients: straight to Bedrock" in health.stdout
    assert "note       other clients than Claude Code go straight to Bedrock" in health.stdout
    answers = [ask_sdk(stack, model) for model in (MODEL, "claude-opus-4-1", "claude-haiku-4-5", MODEL)]
    openai_format = request("POST", f"{stack.base_url}/v1/chat/completions",
                            headers={"Authorization": f"Bearer {stack.master_key}"}, timeout=60,
                            payload={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    answers.append(openai_format.json()["choices"][0]["message"]["content"])
    assert all("simulated Bedrock" in a for a in answers), answers
    assert stack.primary_calls() == [], "no other client's request reaches the subscription"
    bedrock = stack.fallback_calls()
    assert len(bedrock) == 5 and all(r["auth_kind"] == "sigv4" and not r["anthropic_credential_headers"]
                                     for r in bedrock)
    assert OAUTH_TOKEN not in json.dumps(bedrock) and API_KEY not in json.dumps(bedrock)
    # The subscription was not cooled down by any of that: Claude Code gets it at once.
    assert "simulated Anthropic" in run_claude(stack, claude)
    (call,) = stack.primary_calls()
    assert (call["auth_kind"], call["status"], call["auth_header"]) == ("oauth", 200, "authorization")
    assert "x-api-key" not in call["headers"]
    report(capsys, "token only: SDK x4 and an OpenAI-format request, then the CLI", tiers_of(stack))
    cooled = [line for line in request("GET", f"{stack.base_url}/metrics/", timeout=30).body.decode().splitlines()
              if line.startswith("litellm_deployment_cooled_down_total")]
    assert cooled == []


def test_a_plain_429_on_the_subscription_behaves_as_before(token_stack, claude):
    """No usage window announced (no unified headers), only retry-after: LiteLLM's own
    cooldown, that long; Claude Code's request goes on to Bedrock without the token."""
    stack = token_stack
    stack.reset()
    stack.sims.anthropic.set_fault("429", count=1, retry_after=2)
    assert "simulated Bedrock" in run_claude(stack, claude)
    (limited,) = stack.primary_calls()
    assert (limited["auth_kind"], limited["status"]) == ("oauth", 429)
    (fallback,) = stack.fallback_calls()
    assert fallback["anthropic_credential_headers"] == [] and OAUTH_TOKEN not in json.dumps(fallback)
    time.sleep(max(0.0, limited["t"] + 2.5 - time.time()))  # the retry-after, from the 429 on
    stack.reset()
    assert "simulated Anthropic" in run_claude(stack, claude)
    assert [(c["auth_kind"], c["status"]) for c in stack.primary_calls()] == [("oauth", 200)]
