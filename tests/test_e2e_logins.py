"""ChatGPT and Copilot logins end to end: LiteLLM's own device-code flows against the
simulators (the code shown, the user's approval, tokens stored 0600), a real proxy
serving a chatgpt/ and a github_copilot/ model from them, the proxy refreshing the
ChatGPT login, a revoked login as one clear line in status and health (and a plain 401,
not a traceback, for the client), auth-status, and LiteLLM's admin CLI.

How the tests reach the simulators: the Copilot URLs through LiteLLM's own
GITHUB_COPILOT_DEVICE_CODE_URL / _ACCESS_TOKEN_URL / _API_KEY_URL and the chat base the
token exchange names; the ChatGPT backend through CHATGPT_API_BASE. ChatGPT's sign-in URLs
are fixed to https://auth.openai.com in LiteLLM, so the login and the proxy get
HTTPS_PROXY (scripts/sim/intercept.py) and SSL_CERT_FILE (its throw-away CA): LiteLLM's
unmodified code then talks TLS to "auth.openai.com", answered by the simulator.
"""
import json
import os
import queue
import subprocess
import threading
import time

import openai
import pytest

from harness import MASTER_KEY, start_simulators, start_stack
from scripts.core.http import request
from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port
from scripts.sim.faults import SimControl
from scripts.sim.sandbox import PYTHON

pytestmark = pytest.mark.e2e

LOGIN_MODELS = """model_list:
  - model_name: codex
    litellm_params:
      model: chatgpt/gpt-5.4
  - model_name: copilot-gpt
    litellm_params:
      model: github_copilot/gpt-4.1
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Simulators (not auto-approving) and the environment `make` would give the scripts;
    the proxy comes later (`proxy` fixture): LiteLLM drops chatgpt/ and github_copilot/
    models that have no login when it starts."""
    workdir = tmp_path_factory.mktemp("logins")
    ports = {name: free_port() for name in ("chatgpt", "copilot", "intercept")}
    sims = start_simulators(["--chatgpt-port", str(ports["chatgpt"]), "--copilot-port", str(ports["copilot"]),
                             "--intercept-port", str(ports["intercept"]), "--intercept-dir", str(workdir / "ca")])
    chatgpt, copilot = sims.urls["chatgpt"], sims.urls["copilot"]
    config = workdir / "config.yaml"
    config.write_text((PROJECT_DIR / "config.yaml").read_text().replace("model_list:\n", LOGIN_MODELS, 1))
    extra = {"GATEWAY_CONFIG": str(config), "CHATGPT_API_BASE": chatgpt + "/backend-api/codex",
             "GITHUB_COPILOT_DEVICE_CODE_URL": copilot + "/login/device/code",
             "GITHUB_COPILOT_ACCESS_TOKEN_URL": copilot + "/login/oauth/access_token",
             "GITHUB_COPILOT_API_KEY_URL": copilot + "/copilot_internal/v2/token",
             "HTTPS_PROXY": sims.urls["intercept"], "SSL_CERT_FILE": str(workdir / "ca" / "ca.pem")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_CODE_"))}
    env.update(GATEWAY_ENV_FILE=str(workdir / ".env"), GATEWAY_STATE_DIR=str(workdir / "state"),
               GATEWAY_LOG_DIR=str(workdir / "logs"), HOME=str(workdir / "home"), **extra)
    yield {"workdir": workdir, "sims": sims, "env": env, "extra": extra,
           "chatgpt": SimControl(chatgpt), "copilot": SimControl(copilot)}
    if sims.process.poll() is None:
        sims.stop()


def script(world, module, *args, timeout=120):
    return subprocess.run([PYTHON, "-m", f"scripts.{module}", *args], cwd=PROJECT_DIR, env=world["env"],
                          capture_output=True, text=True, timeout=timeout)


def read_until(process, marker: str, timeout: float) -> str:
    """stdout of a running login up to the line containing marker (the code LiteLLM printed)."""
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in iter(process.stdout.readline, "")],
                     daemon=True).start()
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        try:
            seen += lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no {marker!r} within {timeout}s; stdout so far: {seen!r}") from None
    process.remaining = lines
    return seen


def user_approves(world, provider: str, path: str, code: str) -> None:
    """What the user does in the browser: enter the code on the verification page."""
    reply = request("POST", world["sims"].urls[provider] + path, payload={"user_code": code}, timeout=5)
    assert reply.status == 200, reply.body


def login_with_user_step(world, target: str, marker: str, provider: str, path: str):
    process = subprocess.Popen([PYTHON, "-m", "scripts.login", "login", target], cwd=PROJECT_DIR,
                               env=world["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shown = read_until(process, marker, 60)
    code = shown.split(marker, 1)[1].split()[0].strip(".")
    user_approves(world, provider, path, code)
    process.wait(timeout=60)
    err = process.stderr.read()
    time.sleep(0.2)  # the reader thread drains the last lines
    out = shown + "".join(iter_queue(process.remaining))
    return process.returncode, out, err, code


def iter_queue(lines):
    while not lines.empty():
        yield lines.get()


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_chatgpt_login_shows_the_code_waits_and_stores_tokens_0600(world):
    rc, out, err, code = login_with_user_step(world, "chatgpt", "Enter code: ", "chatgpt", "/codex/device")
    assert rc == 0, err
    assert "Visit https://auth.openai.com/codex/device" in out, "LiteLLM's own prompt, with its fixed URL"
    assert "waiting for your approval: 14:5" in err, "the countdown follows LiteLLM's 15-minute window"
    assert "logged in to ChatGPT: device login, sim-user@example.com (plus)" in out
    folder = world["workdir"] / "state" / "auth" / "chatgpt"
    assert mode(folder) == 0o700 and mode(folder / "auth.json") == 0o600
    stored = json.loads((folder / "auth.json").read_text())
    assert stored["refresh_token"].startswith("rt_") and stored["account_id"].startswith("acct-")
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".login")] == [], "scratch folder removed"
    calls = world["chatgpt"].requests()
    polls = [c["status"] for c in calls if c["path"] == "/api/accounts/deviceauth/token"]
    assert polls[-1] == 200 and set(polls[:-1]) <= {403}, "pending (403) until the user entered the code"
    assert [c.get("grant") for c in calls if c["path"] == "/oauth/token"] == ["authorization_code"]
    assert code not in err


def test_copilot_login_shows_the_code_waits_and_stores_tokens_0600(world):
    rc, out, err, _ = login_with_user_step(world, "copilot", "enter code ", "copilot", "/login/device")
    assert rc == 0, err
    assert f"Please visit {world['sims'].urls['copilot']}/login/device" in out
    assert "waiting for your approval: 0:5" in err or "waiting for your approval: 1:00" in err
    assert "logged in to Copilot: device login, GitHub token ghu_" in out and "Copilot token valid until" in out
    folder = world["workdir"] / "state" / "auth" / "github_copilot"
    assert {p.name: mode(p) for p in folder.iterdir()} == {"access-token": 0o600, "api-key.json": 0o600}
    exchange = [c for c in world["copilot"].requests() if c["path"] == "/copilot_internal/v2/token"]
    assert [c["auth_kind"] for c in exchange] == ["github"]


@pytest.fixture(scope="module")
def proxy(world):
    """The real proxy, started after the logins, from the config with the two login models."""
    # The provider URLs go into .env, as a user's would: only .env reaches the sealed proxy.
    providers = {k: v for k, v in world["extra"].items() if k.startswith(("CHATGPT_", "GITHUB_COPILOT_"))}
    stack = start_stack(world["workdir"], sims=world["sims"], extra_env=world["extra"], env_values=providers)
    assert stack.env["GATEWAY_STATE_DIR"] == world["env"]["GATEWAY_STATE_DIR"], "the proxy reads the logins' tokens"
    yield stack
    stack.stop()


def client(stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)


def test_a_chatgpt_model_and_a_copilot_model_answer_through_the_proxy(world, proxy):
    answer = client(proxy).chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content.startswith("Hello from simulated ChatGPT (model gpt-5.4).")
    backend = [c for c in world["chatgpt"].requests() if c["path"] == "/backend-api/codex/responses"]
    assert backend[-1]["auth_kind"] == "chatgpt" and backend[-1]["originator"] == "codex_cli_rs"
    stream = client(proxy).chat.completions.create(model="copilot-gpt", stream=True,
                                                   messages=[{"role": "user", "content": "hi"}])
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("Hello from simulated Copilot (model gpt-4.1).")
    assert [c["auth_kind"] for c in world["copilot"].requests() if c["path"] == "/chat/completions"] == ["copilot"]


def test_the_proxy_refreshes_an_expired_chatgpt_login(world, proxy):
    # LiteLLM refreshes 60 s before expiry: a 62 s token needs a refresh 2 s after the login.
    request("POST", world["sims"].urls["chatgpt"] + "/_sim/auth", payload={"access_ttl": 62, "auto_approve": True})
    assert script(world, "login", "login", "chatgpt").returncode == 0
    auth_file = world["workdir"] / "state" / "auth" / "chatgpt" / "auth.json"
    before = json.loads(auth_file.read_text())["refresh_token"]
    time.sleep(2.5)
    answer = client(proxy).chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}])
    assert "simulated ChatGPT" in answer.choices[0].message.content
    grants = [c.get("grant") for c in world["chatgpt"].requests() if c["path"] == "/oauth/token"]
    assert grants[-1] == "refresh_token"
    after = json.loads(auth_file.read_text())
    assert after["refresh_token"] != before, "the rotated refresh token was stored"
    assert mode(auth_file) == 0o600
    status = script(world, "status").stdout
    assert "ChatGPT        device login, sim-user@example.com (plus), access token" in status


def test_a_revoked_login_is_a_clear_line_in_status_and_health(world, proxy):
    # Signed out everywhere: the backend refuses the access token (401) while it is fresh;
    # once it is due (62 s lifetime) LiteLLM's refresh is refused and LiteLLM says so in a
    # 400 naming an AuthenticationError. Either way: one line for the client, no traceback.
    request("POST", world["sims"].urls["chatgpt"] + "/_sim/auth", payload={"revoke": True})
    with pytest.raises(openai.APIStatusError) as refused:
        client(proxy).chat.completions.create(model="codex", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code in (400, 401) and "Traceback" not in str(refused.value.body)
    assert "AuthenticationError" in str(refused.value.body) or "token_invalidated" in str(refused.value.body)
    status = script(world, "status").stdout
    line = next(l for l in status.splitlines() if l.startswith("ChatGPT"))
    assert "REFUSED: the proxy could not use this login at" in line and ": expired or revoked)" in line
    assert line.endswith("`make login-chatgpt`")
    health = script(world, "health", "health")
    assert health.returncode == 1 and "1 login problem(s)" in health.stderr
    assert "login      FAIL  ChatGPT: REFUSED" in health.stdout and "login      ok    Copilot" in health.stdout
    # Logging in again clears it (the deployment itself may sit out LiteLLM's 60 s cooldown
    # after the refusal: router_settings.cooldown_time).
    assert script(world, "login", "login", "chatgpt").returncode == 0
    assert "REFUSED" not in script(world, "status").stdout
    assert script(world, "health", "health").returncode == 0


def test_a_revoked_copilot_login_and_logout(world, proxy):
    # The Copilot token is still within its lifetime: Copilot itself answers 401.
    request("POST", world["sims"].urls["copilot"] + "/_sim/auth", payload={"revoke": True})
    with pytest.raises(openai.AuthenticationError) as refused:
        client(proxy).chat.completions.create(model="copilot-gpt", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 401 and "Traceback" not in str(refused.value.body)
    assert "Copilot        REFUSED: the proxy could not use this login at" in script(world, "status").stdout
    out = script(world, "login", "logout", "copilot")
    assert out.returncode == 0 and "removed access-token, api-key.json" in out.stdout
    assert "Copilot" not in script(world, "status").stdout, "status shows only logins that exist"
    assert "Copilot        not logged in: `make login-copilot`" in script(world, "auth_status").stdout


def test_auth_status_lists_every_credential_masked(world, proxy):
    out = script(world, "auth_status")
    assert out.returncode == 0, out.stderr
    rows = {line[:14].strip(): line[15:] for line in out.stdout.splitlines() if not line.startswith("API key")}
    assert rows["proxy key"].startswith("LITELLM_MASTER_KEY sk-e2e...cdef (.env)")
    assert rows["Anthropic"] == "api-key sk-ant...6789, no expiry"
    assert rows["AWS"] == "static keys from .env (AWS_ACCESS_KEY_ID AKIAE2...0001): no SSO"
    assert rows["ChatGPT"].startswith("device login, sim-user@example.com (plus)")
    assert "API key        not set: OPENAI_API_KEY, ZAI_API_KEY" in out.stdout
    assert MASTER_KEY not in out.stdout


def test_admin_cli_against_the_running_proxy(world, proxy):
    listed = script(world, "admin", "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert "codex" in listed.stdout and "claude-sonnet-4-5" in listed.stdout
    assert "deprecated" not in listed.stderr and MASTER_KEY not in listed.stdout + listed.stderr
    info = script(world, "admin", "models", "info")
    assert "chatgpt/gpt-5.4" in info.stdout
    raw = script(world, "admin", "http", "request", "GET", "/v1/models")
    assert json.loads(raw.stdout)["data"], raw.stderr
    for command in (["keys", "list"], ["users", "list"], ["credentials", "list"], ["models", "add", "x"]):
        refused = script(world, "admin", *command)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.startswith(f"error: `litellm-proxy {' '.join(command[:2])}` needs LiteLLM's database")
        assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
