"""`make status` against a real proxy started by the harness, and each of its
rows on its own: Claude Code routing, the OAuth token's expiry, the AWS SSO
login, the cooldown read from LiteLLM's metrics."""
import datetime as dt
import hashlib
import json
import subprocess
import time

import pytest
from conftest import API_KEY, MASTER_KEY, OAUTH_TOKEN, PROJECT_DIR
from harness import start_stack

from scripts import status
from scripts.core.http import request
from scripts.core.procs import free_port

MODEL = "claude-opus-4-1"  # no other test here sends to it


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("status"))
    yield running
    running.stop()


def make_status(stack, capsys) -> str:
    started = time.monotonic()
    env = {k: v for k, v in stack.env.items() if k != "XDG_CONFIG_HOME"}  # the temp HOME decides
    result = subprocess.run(["make", "--no-print-directory", "-s", "status"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n`make status` took {elapsed:.2f}s wall time:\n{result.stdout}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def rows(text: str) -> dict:
    return {line[:14].strip(): line[15:] for line in text.splitlines()}


def ask(stack, model=MODEL):
    reply = request("POST", f"{stack.base_url}/v1/messages", headers={"Authorization": f"Bearer {stack.master_key}"},
                    payload={"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
                    timeout=60)
    assert reply.status == 200, reply.body
    return reply.headers["x-litellm-model-name"]


@pytest.mark.e2e
def test_status_of_a_running_proxy(stack, capsys):
    out = rows(make_status(stack, capsys))
    assert "running (pid " in out["proxy"] and "started by make up" in out["proxy"]
    assert f"healthy at {stack.base_url}, port {stack.port}" in out["proxy"]
    assert out["LiteLLM"] == "1.106.2 (running)"
    assert out["service"].startswith("not installed") and out["SSO refresher"].startswith("not installed")
    assert out["Anthropic"] == "api-key sk-ant...6789"
    assert out["AWS SSO"] == "static keys from .env (AWS_ACCESS_KEY_ID AKIAE2...0001): no SSO"
    assert out["Claude Code"].startswith("direct, not through the proxy")
    assert out["models"].startswith("18 names, 17 with a Bedrock fallback")
    # LiteLLM's first /metrics/ answer after a start takes seconds; status says so rather than wait.
    first_metrics_call = out["primary"].startswith("unknown (no metrics within 0.8s: timed out;")
    assert first_metrics_call or out["primary"] == "Anthropic serving (no model in cooldown)"


def wait_for_metrics(stack) -> None:
    deadline = time.monotonic() + 30
    while request("GET", f"{stack.base_url}/metrics/", headers={"Authorization": f"Bearer {stack.master_key}"},
                  timeout=30).status != 200:
        assert time.monotonic() < deadline, "no metrics from the proxy"
        time.sleep(0.5)


@pytest.mark.e2e
def test_cooldown_after_a_429_and_recovery(stack, capsys):
    wait_for_metrics(stack)
    assert rows(make_status(stack, capsys))["primary"] == "Anthropic serving (no model in cooldown)"
    stack.reset()
    stack.sims.anthropic.set_fault("429", count=1, retry_after=2)
    assert ask(stack).startswith("bedrock/"), "the 429 fell back to Bedrock"
    window_start = time.monotonic()
    assert rows(make_status(stack, capsys))["primary"] == (
        f"COOLDOWN: {MODEL} (after 429): Bedrock answers until Anthropic does again")
    time.sleep(max(0.0, 2.5 - (time.monotonic() - window_start)))
    assert ask(stack).startswith("anthropic/"), "Anthropic answers again after the retry-after"
    assert rows(make_status(stack, capsys))["primary"] == "Anthropic serving (no model in cooldown)"


def test_status_without_a_proxy(env_file, capsys):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(free_port()))
    assert status.main([]) == 0
    out = rows(capsys.readouterr().out)
    assert out["proxy"].startswith("not answering at http://127.0.0.1:") and "`make up`" in out["proxy"]
    assert "primary" not in out and out["LiteLLM"].endswith("(installed)")


def test_claude_code_routing(isolated, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    home = isolated / "home"
    assert "direct, not through the proxy (no shell block" in status.claude_row()
    (home / ".zshrc").write_text("export PATH=$PATH\n# >>> claude-gateway >>>\nexport X=1\n# <<< claude-gateway <<<\n")
    assert status.claude_row().endswith("proxy (shell block in ~/.zshrc; `make toggle-claude` switches)")
    mode = home / ".config" / "claude-gateway" / "claude-mode"
    mode.parent.mkdir(parents=True)
    mode.write_text("direct\n")
    assert "direct (shell block in ~/.zshrc" in status.claude_row()
    mode.write_text("proxy\n")
    (home / ".zshrc").unlink()
    assert "direct, not through the proxy" in status.claude_row(), "without a block the mode does not matter"


def test_oauth_token_expiry_from_claude_codes_credentials(env_file, isolated, capsys):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, CLAUDE_CODE_OAUTH_TOKEN=OAUTH_TOKEN, LITELLM_PORT=str(free_port()))
    assert status.main([]) == 0
    assert "expiry unknown" in rows(capsys.readouterr().out)["Anthropic"]
    expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30, minutes=5)
    credentials = isolated / "home" / ".claude" / ".credentials.json"
    credentials.parent.mkdir()
    credentials.write_text(json.dumps({"claudeAiOauth": {"accessToken": OAUTH_TOKEN,
                                                         "expiresAt": int(expiry.timestamp() * 1000)}}))
    assert status.main([]) == 0
    line = rows(capsys.readouterr().out)["Anthropic"]
    assert line.startswith("oauth-token sk-ant...6789, valid until") and "(30d left)" in line


def test_aws_sso_login_expiry(env_file, isolated, monkeypatch, capsys):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, AWS_PROFILE="dev",
             LITELLM_PORT=str(free_port()))
    config = isolated / "aws-config"
    config.write_text("[profile dev]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    cache = isolated / "home" / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3, minutes=30)
    (cache / (hashlib.sha1(b"https://example.awsapps.com/start").hexdigest() + ".json")).write_text(json.dumps(
        {"accessToken": "t", "expiresAt": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    assert status.main([]) == 0
    assert rows(capsys.readouterr().out)["AWS SSO"].startswith("profile dev: valid until")


# As LiteLLM 1.106.2 wrote them after a 429 on claude-haiku-4-5 and then one success:
# the cooldown series keeps 2, the deployment's own series went back to 0.
RECOVERED = """\
litellm_deployment_state{api_base="http://127.0.0.1:44833/v1/messages",api_provider="",litellm_model_name="claude-haiku-4-5-20251001",model_id="9ed2"} 0.0
litellm_deployment_state{api_base="",api_provider="anthropic",litellm_model_name="claude-haiku-4-5",model_id="9ed2"} 2.0
litellm_deployment_cooled_down_total{api_base="",api_provider="anthropic",exception_status="429",litellm_model_name="claude-haiku-4-5",model_id="9ed2"} 1.0
"""


def test_cooldown_reading_of_the_metrics():
    assert status.cooling_down(RECOVERED) == []
    cooling = RECOVERED.replace('model_id="9ed2"} 0.0', 'model_id="9ed2"} 1.0')
    assert status.cooling_down(cooling) == [("claude-haiku-4-5", "429")]
