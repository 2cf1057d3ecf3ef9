"""Lifecycle against one real proxy (the project's config.yaml, simulated upstreams):

- `make health` proves the Bedrock fallback can work with a signed control-plane
  call, and says when the credentials expire or that they have;
- `make restart` with a config LiteLLM rejects keeps the running proxy;
- `make up` with such a config fails in one line;
- `make down` lets a long stream finish, refusing new requests meanwhile (last: it
  stops the module's proxy).
"""
import functools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anthropic
import pytest
from conftest import API_KEY, MASTER_KEY
from harness import AWS_ACCESS_KEY, AWS_SECRET_KEY, start_stack
from test_service_install import STAND_IN

from scripts.catalog import managed_config
from scripts.core.errors import ToolkitError
from scripts.core.http import is_live
from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port, read_pid, wait_until
from scripts.sim.sandbox import PYTHON, write_env

pytestmark = pytest.mark.e2e
COMPLAINT = "AttributeError: 'str' object has no attribute 'items'"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-lifecycle"))
    yield running
    running.stop()


def dotenv(stack) -> dict:
    path = Path(stack.env["GATEWAY_ENV_FILE"])
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def script(stack, *args, **env):
    return subprocess.run([PYTHON, "-m", *args], cwd=PROJECT_DIR, env={**stack.env, **env},
                          capture_output=True, text=True, timeout=300)


def rejected_config(tmp_path: Path) -> Path:
    """The shipped config with one mistake the toolkit's own checks let through."""
    text = (PROJECT_DIR / "config.yaml").read_text()
    assert "\nlitellm_settings:\n" in text
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("\nlitellm_settings:\n", "\nlitellm_settings: oops\nunused_settings:\n"))
    return bad


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_health_proves_bedrock_with_a_signed_call_and_no_inference(stack):
    stack.reset()
    result = script(stack, "scripts.health", "health")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("bedrock "))
    assert line.startswith("bedrock    ok    the default AWS credential chain (env), no expiry; us-west-2: "
                           f"signed ListFoundationModels answered by {stack.sims.bedrock_url}")
    calls = stack.sims.bedrock.requests()
    assert [(c["method"], c["path"], c["auth_kind"], c["status"], c["region"]) for c in calls] == [
        ("GET", "/foundation-models", "sigv4", 200, "us-west-2")]
    assert stack.primary_calls() == []


def test_health_says_when_profile_credentials_expire(stack, tmp_path):
    """A profile whose credentials come from a credential_process with an Expiration,
    as SSO and assume-role credentials have one."""
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 3600 + 90))
    process = tmp_path / "creds.py"
    process.write_text(f"import json; print(json.dumps({{'Version': 1, 'AccessKeyId': {AWS_ACCESS_KEY!r}, "
                       f"'SecretAccessKey': {AWS_SECRET_KEY!r}, 'Expiration': {expires!r}}}))\n")
    (tmp_path / "aws-config").write_text(f"[profile gateway-e2e]\ncredential_process = {sys.executable} {process}\n")
    values = {k: v for k, v in dotenv(stack).items() if not k.startswith("AWS_ACCESS_KEY_ID")
              and not k.startswith("AWS_SECRET_ACCESS_KEY")}
    write_env(tmp_path / ".env", {**values, "AWS_PROFILE": "gateway-e2e"})
    result = script(stack, "scripts.health", "health", GATEWAY_ENV_FILE=str(tmp_path / ".env"),
                    AWS_CONFIG_FILE=str(tmp_path / "aws-config"))
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("bedrock "))
    assert line.startswith("bedrock    ok    AWS profile gateway-e2e (custom-process), expire in 2h0")
    assert f"{expires[:10]} {expires[11:16]} UTC" in line


def test_health_fails_in_one_line_when_the_credentials_are_expired(stack, tmp_path):
    write_env(tmp_path / ".env", {**dotenv(stack), "AWS_SESSION_TOKEN": "expired-token"})
    result = script(stack, "scripts.health", "health", GATEWAY_ENV_FILE=str(tmp_path / ".env"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: Bedrock: the AWS credentials are expired or missing (ExpiredTokenException: The security token "
        "included in the request is expired): run `make start` (it signs in with AWS SSO), then `make health`"]
    assert "liveness   ok" in result.stdout  # the proxy itself is fine: only the fallback is not


def test_restart_with_a_config_litellm_rejects_keeps_the_running_proxy(stack, tmp_path):
    pid = read_pid(stack.workdir / "state" / "proxy.pid")
    result = script(stack, "scripts.proxy", "restart", GATEWAY_CONFIG=str(rejected_config(tmp_path)))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: LiteLLM rejects {tmp_path / 'config.yaml'}: {COMPLAINT}; the running proxy was left as it was: "
        "fix config.yaml, then `make restart`"]
    assert read_pid(stack.workdir / "state" / "proxy.pid") == pid and is_live(stack.base_url)


def test_up_with_a_config_litellm_rejects_fails_in_one_line(stack, tmp_path):
    write_env(tmp_path / ".env", {**dotenv(stack), "LITELLM_PORT": str(free_port())})
    result = script(stack, "scripts.proxy", "up", GATEWAY_CONFIG=str(rejected_config(tmp_path)),
                    GATEWAY_ENV_FILE=str(tmp_path / ".env"), GATEWAY_STATE_DIR=str(tmp_path / "state"),
                    GATEWAY_LOG_DIR=str(tmp_path / "logs"))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: the proxy exited during start-up: {COMPLAINT} (LiteLLM's complaint; the traceback is in "
        f"{tmp_path / 'logs' / 'proxy.log'}): fix config.yaml or .env, then `make up`"]
    assert not (tmp_path / "state" / "proxy.pid").exists()


def test_update_models_checks_with_the_same_litellm_load(tmp_path):
    with pytest.raises(ToolkitError, match=re.escape(f"LiteLLM rejects the updated config ({COMPLAINT})")):
        managed_config.check_with_litellm(rejected_config(tmp_path))


def test_service_restart_with_a_rejected_config_never_reaches_the_service_manager(tmp_path, isolated, env_file):
    """With the login service installed (a recording stand-in for systemctl), restart checks
    first and stops nothing; down says how long the service's stop lets requests finish."""
    manager, record = tmp_path / "systemctl", tmp_path / "commands.log"
    manager.write_text(STAND_IN)
    manager.chmod(0o755)
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, GATEWAY_DRAIN_TIMEOUT="90")
    env = {**os.environ, "GATEWAY_SERVICE_MANAGER": str(manager), "STANDIN_RECORD": str(record),
           "GATEWAY_PLATFORM": "linux"}
    run = functools.partial(subprocess.run, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert run([PYTHON, "-m", "scripts.service", "install", "proxy"]).returncode == 0
    assert "TimeoutStopSec=120s" in (isolated / "home/.config/systemd/user/claude-gateway.service").read_text()
    record.unlink()
    restart = run([PYTHON, "-m", "scripts.proxy", "restart"], env={**env, "GATEWAY_CONFIG": str(rejected_config(tmp_path))})
    assert restart.returncode == 1 and restart.stderr.splitlines()[-1].startswith("error: LiteLLM rejects ")
    assert not record.exists()  # the service manager was never asked to restart
    down = run([PYTHON, "-m", "scripts.proxy", "down"])
    assert down.stdout.splitlines()[0] == (">> stopping the proxy service: requests in flight get up to 90s to "
                                           "finish (GATEWAY_DRAIN_TIMEOUT)")
    assert record.read_text().splitlines() == ["systemctl --user stop claude-gateway.service"]


def test_down_lets_a_long_stream_finish_and_refuses_new_requests(stack):
    """Runs last: it stops the module's proxy."""
    stack.reset()
    stack.sims.anthropic.set_fault("trickle", delay=1.0)  # a frame a second: a stream of several seconds
    client = anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0, timeout=120)
    first_event, outcome = threading.Event(), {}

    def stream():
        try:
            with client.messages.stream(model="claude-sonnet", max_tokens=64,
                                        messages=[{"role": "user", "content": "tell me a long story"}]) as events:
                for _ in events:
                    first_event.set()
                outcome["message"] = events.get_final_message()
        except Exception as exc:  # the assertion below shows what the client saw
            outcome["error"] = repr(exc)
        first_event.set()

    reader = threading.Thread(target=stream)
    reader.start()
    assert first_event.wait(60)
    down = subprocess.Popen([PYTHON, "-m", "scripts.proxy", "down"], cwd=PROJECT_DIR, env=stack.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    draining = down.stdout.readline()
    assert draining.startswith(">> draining: the proxy (pid ") and "for 1 request in flight" in draining
    wait_until(lambda: refuses(stack.port), 10, interval=0.1)  # new connections are refused ...
    assert reader.is_alive() and not outcome  # ... while the stream goes on
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model="claude-sonnet", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    reader.join(60)
    rest, errors = down.communicate(timeout=60)
    assert down.returncode == 0 and errors == "", errors
    assert "error" not in outcome, outcome
    message = outcome["message"]
    assert message.stop_reason == "end_turn" and "simulated Anthropic" in message.content[0].text
    assert rest.splitlines()[-1].startswith(">> proxy stopped (pid ") and \
        "after its 1 request in flight finished" in rest
    assert not is_live(stack.base_url)
    assert json.dumps(stack.fallback_calls()) == "[]"  # answered whole by the primary, never cut
