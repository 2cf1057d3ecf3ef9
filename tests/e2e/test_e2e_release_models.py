"""Every Claude model the day it ships, end to end: a real proxy from the project's config.yaml
(which lists neither id below), both credentials, the simulated Anthropic and Bedrock, and the
real Claude Code CLI (pinned in tests/claude_code_version.txt).

- A model released in the simulators while the proxy runs (an id made up here, listed by
  Anthropic's /v1/models and by Bedrock's ListFoundationModels / inference profiles) is
  served with its full chain from its first request: Claude Code's on the subscription, on
  the API key after a usage-limit 429, on Bedrock when Anthropic answers 429; `make status`,
  `make health`, `make print-config` and `make models` show it.
- An id Bedrock does not offer is served on the subscription and said once: status, health,
  one log line naming it.
- Claude Code with no model setting: its own default (claude-opus-5-5 for 2.1.337), with its
  mid-conversation system message, answered at the first try by each tier.
"""
import json
import os
import secrets
import subprocess
import time

import pytest
from claude_cli import claude_binary, run_print
from harness import API_KEY, OAUTH_TOKEN, start_stack

pytestmark = pytest.mark.e2e
RESET = 20  # seconds until the used-up subscription window resets: longer than a CLI start under load


@pytest.fixture(scope="module")
def claude():
    return claude_binary()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, claude):
    running = start_stack(tmp_path_factory.mktemp("e2e-release"), credentials=("api_key", "token"))
    yield running
    running.stop()


def release(stack, bedrock: bool = True) -> str:
    """A new Claude id, made up for this run, released in the simulators while the proxy runs."""
    model = f"claude-opus-9-{10 + secrets.randbelow(90)}"
    while model in stack.sims.anthropic.release():
        model = f"claude-opus-9-{10 + secrets.randbelow(90)}"
    stack.sims.anthropic.release(model)
    if bedrock:
        stack.sims.bedrock.release(f"anthropic.{model}")
    return model


def ask(stack, claude, model=None) -> dict:
    """`claude -p` as the shell block runs it; with model None, no model setting at all."""
    if model:
        return run_print(claude, stack.base_url, stack.master_key, stack.workdir / "home", model)
    env = {"HOME": str(stack.workdir / "home"), "PATH": os.environ["PATH"], "TERM": "dumb",
           "ANTHROPIC_BASE_URL": stack.base_url, "ANTHROPIC_AUTH_TOKEN": stack.master_key,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    done = subprocess.run([str(claude), "-p", "say hi", "--output-format", "json"], env=env, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)
    result = json.loads(done.stdout)
    assert done.returncode == 0 and not result.get("is_error"), done.stdout + done.stderr[-1000:]
    return result


def tiers(stack, model: str) -> list:
    """(upstream, auth kind, status) of each upstream call for the model, in order."""
    calls = [(r["t"], "anthropic", r["auth_kind"], r["status"]) for r in stack.primary_calls()
             if (r.get("model") or "") == model]
    calls += [(r["t"], "bedrock", "sigv4", r["status"]) for r in stack.fallback_calls(model)]
    return [c[1:] for c in sorted(calls)]


def state(stack) -> dict:
    """The proxy's state file of the ids it added: private, and no credential in it."""
    path = stack.workdir / "state" / "release-models.json"
    text = path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600 and API_KEY not in text and OAUTH_TOKEN not in text
    return json.loads(text)["models"]


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}")


def test_a_model_released_while_the_proxy_runs_gets_its_whole_chain(stack, claude, capsys):
    stack.reset()
    model = release(stack)
    assert "simulated Anthropic" in ask(stack, claude, model)["result"]
    assert tiers(stack, model) == [("anthropic", "oauth", 200)]  # Claude Code's: the subscription, first try
    added = state(stack)[model]
    assert added["bedrock_id"] == f"us.anthropic.{model}"
    assert added["fallbacks"][f"{model}-subscription"] == [model, f"{model}-bedrock"]
    assert added["fallbacks"][model] == [f"{model}-bedrock"]
    report(capsys, f"first request of {model}: discovery took {added['discovery_seconds'] * 1000:.0f} ms")

    status = stack.script("status")
    assert f"{model} (Bedrock us.anthropic.{model})" in status.stdout, status.stdout + status.stderr
    printed = stack.script("print_config")
    chain = [line for line in printed.stdout.splitlines() if f"- {model}-subscription: [" in line]
    assert printed.returncode == 0 and chain == [f"#     - {model}-subscription: [{model}, {model}-bedrock]"], chain
    served = stack.script("health", "models")
    assert {model, f"{model}-bedrock", f"{model}-subscription"} <= set(served.stdout.split()), served.stdout
    health = stack.script("health", "health")
    assert f"new model  {model} (Bedrock us.anthropic.{model})" in health.stdout, health.stdout + health.stderr

    # A usage limit on the subscription: the API key answers, within the same request.
    stack.reset()
    stack.sims.anthropic.subscription(exhaust={"window": "5h", "reset_in": RESET})
    reset_at = time.time() + RESET
    assert "simulated Anthropic" in ask(stack, claude, model)["result"]
    assert tiers(stack, model) == [("anthropic", "oauth", 429), ("anthropic", "api_key", 200)]
    time.sleep(max(0.0, reset_at + 1 - time.time()))  # past the window's reset: the subscription is used again below

    # Anthropic at 429 on every credential: Bedrock answers.
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=1, models=[model])
    assert "simulated Bedrock" in ask(stack, claude, model)["result"]
    assert tiers(stack, model)[-1] == ("bedrock", "sigv4", 200)
    assert {t[0] for t in tiers(stack, model)[:-1]} == {"anthropic"}
    stack.sims.anthropic.clear_fault()


def test_an_id_bedrock_does_not_offer_is_served_and_said_once(stack, claude):
    stack.reset()
    model = release(stack, bedrock=False)
    for _ in range(2):
        assert "simulated Anthropic" in ask(stack, claude, model)["result"]
    assert tiers(stack, model) == [("anthropic", "oauth", 200)] * 2
    added = state(stack)[model]
    assert added["bedrock_id"] is None and added["note"] == "Bedrock does not offer it in us-west-2"
    assert added["fallbacks"] == {f"{model}-subscription": [model]}  # the API key after the subscription
    said = [line for line in stack.log_file.read_text().splitlines() if f"new Claude model {model}" in line]
    assert len(said) == 1 and "WITHOUT a Bedrock fallback (Bedrock does not offer it in us-west-2)" in said[0], said
    status = stack.script("status")
    assert f"{model} WITHOUT a Bedrock fallback: Bedrock does not offer it in us-west-2" in status.stdout


def default_model_calls(stack, model: str) -> list:
    return [(r["auth_kind"], r["status"]) for r in stack.primary_calls() if r.get("model") == model]


def has_mid_system_turn(record: dict) -> bool:
    """A role "system" turn after the first message, as the simulator recorded the body."""
    return any(turn.startswith("system:") for turn in record["request"]["messages"][1:])


def test_claude_codes_default_model_is_served_by_every_tier_at_the_first_try(stack, claude, capsys):
    """No model setting: the CLI's own default, which config.yaml does not list. Its first
    request carries a mid-conversation system message (2.1.337, without the old beta flag)."""
    stack.reset()
    result = ask(stack, claude)
    (used,) = {name.split("[")[0] for name in result["modelUsage"]}
    report(capsys, f"Claude Code's default model: {used}")
    assert used not in (stack.workdir / "state" / "litellm-config.yaml").read_text()  # config.yaml lacks it
    assert "simulated Anthropic" in result["result"]
    assert default_model_calls(stack, used) == [("oauth", 200)]  # no 400 before it: the first try
    (first,) = [r for r in stack.primary_calls() if r.get("model") == used]
    assert has_mid_system_turn(first) and "mid-conversation-system-2026-04-07" not in first["anthropic_beta"]
    assert state(stack)[used]["bedrock_id"] == f"us.anthropic.{used}"

    stack.reset()
    stack.sims.anthropic.subscription(exhaust={"window": "5h", "reset_in": RESET})
    reset_at = time.time() + RESET
    assert "simulated Anthropic" in ask(stack, claude)["result"]
    assert default_model_calls(stack, used) == [("oauth", 429), ("api_key", 200)]
    time.sleep(max(0.0, reset_at + 1 - time.time()))

    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=1, models=[used])
    assert "simulated Bedrock" in ask(stack, claude)["result"]
    bedrock = [r for r in stack.fallback_calls(used)]
    assert [r["status"] for r in bedrock] == [200], bedrock  # the mid-conversation system turn taken at once
    assert has_mid_system_turn(bedrock[0]), bedrock[0]["request"]
    stack.sims.anthropic.clear_fault()

