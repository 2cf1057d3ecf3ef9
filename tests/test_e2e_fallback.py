"""The core promise, end to end: a real proxy from the project's config.yaml,
simulated upstreams, the real anthropic client.

- a normal request is answered by Anthropic;
- on a 429 the same request is answered by Bedrock;
- during the rate-limit window (the 429's retry-after) Anthropic gets no call;
- after the window Anthropic serves again;
- the API key never reaches Bedrock.
The subscription token's path (Claude Code only, Bearer, never Bedrock) is
test_e2e_subscription.py's.
"""
import subprocess
import sys
import time

import anthropic
import pytest
from harness import API_KEY, MASTER_KEY, OAUTH_TOKEN, start_stack

from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import command_line, free_port, is_alive
from scripts.sim.sandbox import write_env

pytestmark = pytest.mark.e2e
WINDOW = 5  # seconds of retry-after the simulated 429 carries


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-fallback"))
    yield running
    running.stop()


@pytest.fixture
def client(stack):
    stack.reset()
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


def ask(client, model):
    started = time.monotonic()
    raw = client.messages.with_raw_response.create(
        model=model, max_tokens=32, messages=[{"role": "user", "content": "hello"}])
    message = raw.parse()
    return message, raw.headers, time.monotonic() - started


def test_normal_request_is_answered_by_anthropic(stack, client):
    message, headers, _ = ask(client, "claude-sonnet-4-5-20250929")
    assert "simulated Anthropic" in message.content[0].text
    assert headers["x-litellm-model-name"] == "anthropic/claude-sonnet-4-5-20250929"
    assert len(stack.primary_calls()) == 1 and stack.fallback_calls() == []
    assert stack.primary_calls()[0]["auth_kind"] == "api_key"


def test_one_primary_call_per_rate_limit_window_then_recovery(stack, client):
    model = "claude-haiku-4-5-20251001"
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW)  # Anthropic stays rate-limited
    answers = [ask(client, model) for _ in range(4)]
    for message, headers, _ in answers:
        assert "simulated Bedrock" in message.content[0].text
        assert headers["x-litellm-model-name"].startswith("bedrock/us.anthropic.claude-haiku-4-5")
    primary = stack.primary_calls(model)
    # The window runs from the 429 on, by the simulators' clock: all four must fall inside it.
    last_fallback = max(r["t"] for r in stack.fallback_calls("claude-haiku-4-5"))
    assert last_fallback < primary[0]["t"] + WINDOW, "the window ended before the checks ran (machine too slow)"
    assert [r["status"] for r in primary] == [429], "exactly one Anthropic call in the window"
    assert len(stack.fallback_calls("claude-haiku-4-5")) == 4

    stack.sims.anthropic.clear_fault()
    # The window runs from the 429 on (under load that is well after window_start).
    time.sleep(max(0.0, primary[0]["t"] + WINDOW + 0.5 - time.time()))
    message, headers, _ = ask(client, model)
    assert "simulated Anthropic" in message.content[0].text, "Anthropic serves again after the window"
    assert [r["status"] for r in stack.primary_calls(model)] == [429, 200]


def test_cooldown_is_per_model(stack, client):
    """A rate limit on one model leaves the others on Anthropic."""
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, models=["claude-opus-4-1-20250805"])
    first, _, _ = ask(client, "claude-opus-4-1-20250805")
    other, _, _ = ask(client, "claude-sonnet-4-6")
    assert "simulated Bedrock" in first.content[0].text
    assert "simulated Anthropic" in other.content[0].text


def test_unlisted_claude_id_reaches_anthropic_through_the_wildcard(stack, client):
    """claude-opus-4-20250514 is not in config.yaml; the simulated Anthropic still serves it."""
    message, headers, _ = ask(client, "claude-opus-4-20250514")
    assert "simulated Anthropic" in message.content[0].text
    assert headers["x-litellm-model-name"] == "anthropic/claude-opus-4-20250514"
    assert len(stack.primary_calls("claude-opus-4-20250514")) == 1


def test_first_failover_latency_is_reported(stack, client):
    """Not a timing assertion: records the figures the closing note reports."""
    model = "claude-opus-4-5-20251101"
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, models=[model])
    _, _, first = ask(client, model)
    cooled = sorted(ask(client, model)[2] for _ in range(5))[2]
    print(f"\nfirst failover {first * 1000:.0f} ms, during cooldown {cooled * 1000:.0f} ms, "
          f"proxy start-to-healthy {stack.logs['start_seconds']} s")
    assert len(stack.primary_calls(model)) == 1


def test_api_key_never_reaches_bedrock(stack, client):
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, models=["claude-sonnet-5"])
    ask(client, "claude-sonnet-5")
    (fallback,) = stack.fallback_calls("claude-sonnet-5")
    assert fallback["anthropic_credential_headers"] == [] and fallback["auth_kind"] == "sigv4"
    assert API_KEY not in str(fallback) and OAUTH_TOKEN not in str(fallback)


def run_smoke(stack, *args, **env):
    return subprocess.run(["bash", "test-proxy.sh", *args], cwd=PROJECT_DIR,
                          env={**stack.env, **env}, capture_output=True, text=True, timeout=300)


def test_smoke_script_passes_against_a_running_proxy(stack):
    stack.reset()
    result = run_smoke(stack, "all")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS") == 12 and "FAIL" not in result.stdout
    assert "PASS  readiness: healthy" in result.stdout
    assert 'answered by anthropic/claude-haiku-4-5-20251001: "Hello from simulated Anthropic' in result.stdout
    assert "PASS  /v1/messages stream from anthropic/claude-haiku-4-5-20251001: 5 deltas" in result.stdout
    assert "fallback: primary unreachable, answered by bedrock/" in result.stdout
    assert any(r["path"].startswith("/v1/messages") and r["stream"] for r in stack.sims.anthropic.requests())


def test_smoke_script_fallback_with_the_clients_oauth_token(stack):
    stack.reset()
    result = run_smoke(stack, "fallback", CLAUDE_CODE_OAUTH_TOKEN=OAUTH_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OAuth token sk-ant-oat01..." in result.stdout and OAUTH_TOKEN not in result.stdout
    assert stack.fallback_calls("claude-haiku-4-5")[0]["anthropic_credential_headers"] == []


def test_smoke_script_passes_nothing_it_did_not_see(stack):
    """Both upstreams fail one model: every answer check FAILs with the status it got."""
    stack.reset()
    model = "claude-opus-4-6"
    stack.sims.anthropic.set_fault("500", models=[model])
    stack.sims.bedrock.set_fault("500", models=[model])
    result = run_smoke(stack, "basic", MODEL=model)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PASS" not in result.stdout and result.stdout.count("FAIL") == 2
    # The failed fallback's own status (scripts/in_proxy/fallback_policy.py): Bedrock's 500,
    # which LiteLLM reports as 503 (ServiceUnavailableError).
    assert f"FAIL  /v1/messages {model}: HTTP 503" in result.stdout

    stack.reset()
    stack.sims.anthropic.set_fault("overloaded_midstream", after=1, models=["claude-opus-4-5"])
    cut = run_smoke(stack, "stream", MODEL="claude-opus-4-5")
    assert cut.returncode == 1 and "PASS" not in cut.stdout
    assert "FAIL  /v1/messages stream: an error event: " in cut.stdout and "overloaded_error" in cut.stdout
    stack.reset()


def test_make_test_says_who_answered_or_fails_in_one_line(stack):
    stack.reset()
    model = "claude-sonnet-4-5-20250929"
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, models=[model])
    done = stack.script("health", "test", "--model", model)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f">> {model} answered by Bedrock (bedrock/us.anthropic.claude-sonnet-4-5")
    assert "simulated Bedrock" in done.stdout

    stack.sims.bedrock.set_fault("500", models=[model])
    failed = stack.script("health", "test", "--model", model)
    assert failed.returncode == 1 and failed.stdout == ""
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith(f"error: POST /v1/messages for {model} failed with ")
    stack.reset()


def test_smoke_script_fails_loudly(stack, tmp_path):
    dead = tmp_path / "dead.env"
    dead.write_text(f"LITELLM_MASTER_KEY={stack.master_key}\nLITELLM_PORT=9\n")
    result = run_smoke(stack, "all", GATEWAY_ENV_FILE=str(dead))
    assert result.returncode == 1 and "FAIL  liveness" in result.stdout
    missing = run_smoke(stack, "health", GATEWAY_ENV_FILE=str(tmp_path / "nope.env"))
    assert missing.returncode == 2 and "cp .env.template .env" in missing.stderr
    unknown = run_smoke(stack, "everything")
    assert unknown.returncode == 2 and "unknown check" in unknown.stderr


def test_up_twice_keeps_one_proxy(stack):
    pid_before = (stack.workdir / "state" / "proxy.pid").read_text()
    again = stack.script("proxy", "up")
    assert again.returncode == 0 and "already running" in again.stdout
    assert (stack.workdir / "state" / "proxy.pid").read_text() == pid_before


def test_failed_start_prints_the_log_tail_and_leaves_nothing_running(stack, tmp_path):
    """A start that does not become healthy in time is stopped, its log shown, exit 1."""
    env = {**stack.env, "GATEWAY_STATE_DIR": str(tmp_path / "state"), "GATEWAY_LOG_DIR": str(tmp_path / "logs"),
           "GATEWAY_ENV_FILE": str(tmp_path / ".env"), "GATEWAY_START_TIMEOUT": "1"}
    write_env(tmp_path / ".env", {"LITELLM_MASTER_KEY": MASTER_KEY, "ANTHROPIC_API_KEY": API_KEY,
                                  "LITELLM_PORT": str(free_port())})
    result = subprocess.run([sys.executable, "-m", "scripts.proxy", "up"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "last lines of" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: no answer from")
    assert not (tmp_path / "state" / "proxy.pid").exists()
    pid = int(result.stdout.split("starting proxy (pid ")[1].split(")")[0])
    assert not is_alive(pid) or "litellm" not in command_line(pid)
    assert MASTER_KEY not in result.stderr and API_KEY not in result.stderr
