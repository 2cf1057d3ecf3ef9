"""A checkout whose .env is filled in for real use must change nothing the sandbox
shows, and a proxy started like `make up` gets only the toolkit's variables.

LiteLLM 1.106.2 calls load_dotenv() when imported; python-dotenv walks up from
LiteLLM's files to the project's .env and loads what the process did not set. This
module writes such a .env (a missing AWS profile, a junk API key, a wrong port) into
the project directory itself, restores the one that was there byte for byte, and
runs `make demo`, a fallback through the e2e stack and a short `make bench` with it.
"""
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import pytest
from conftest import PROJECT_DIR
from harness import API_KEY, assert_demo_told_the_story, start_stack

from scripts.catalog import managed_config
from scripts.core import paths, settings
from scripts.core.procs import read_pid
from scripts.sim.sandbox import PYTHON

pytestmark = pytest.mark.e2e
MISSING_PROFILE = "claude-gateway-test-missing-profile"
HOSTILE_ENV = (
    "# filled in for real use: none of it may reach a sandbox\n"
    "LITELLM_MASTER_KEY=sk-users-real-master-key-0123456789\n"
    "ANTHROPIC_API_KEY=sk-ant-api03-junk-key-from-the-project-env\n"
    f"AWS_PROFILE={MISSING_PROFILE}\n"
    "AWS_REGION=eu-central-1\n"
    "LITELLM_PORT=1\n"
)
# What the shell that runs `make up` may hold besides; none of it may reach LiteLLM.
SHELL = {"OPENAI_API_KEY": "sk-shell-openai", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
         "AWS_SESSION_TOKEN": "shell-session-token", "LITELLM_MODE": "DEV", "SHELL_ONLY_MARKER": "1"}
SANDBOX_ENV_FILE = {"LITELLM_MASTER_KEY", "LITELLM_PORT", "ANTHROPIC_API_BASE", "AWS_BEDROCK_RUNTIME_ENDPOINT",
                    "AWS_ENDPOINT_URL_BEDROCK", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # minus ANTHROPIC_API_KEY, see below
TOOLKIT_SET = {"GATEWAY_ANTHROPIC_CREDENTIAL", "GATEWAY_ANTHROPIC_SUBSCRIPTION", "LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
               "LITELLM_LOG", "GATEWAY_STREAM_TIMEOUT", "GATEWAY_REQUEST_TIMEOUT", *settings.NO_DOTENV,
               *settings.toolkit_locations(), *settings.login_token_dirs(),
               "GATEWAY_PROXY_LOG", "GATEWAY_PROXY_LOG_MAX_BYTES",  # where `make up` has the proxy write its log
               "GATEWAY_READY_DIR"}  # where each worker says it listens (gateway/readiness.py)


@pytest.fixture(scope="module")
def project_env():
    """The hostile .env in the project directory for this module; the previous one back after."""
    path = PROJECT_DIR / ".env"
    saved = path.read_bytes() if path.exists() else None
    mode = stat.S_IMODE(path.stat().st_mode) if saved is not None else None
    backup = PROJECT_DIR / ".env.bak.hostile-test"  # in case this process is killed before it restores
    if saved is not None:
        backup.write_bytes(saved)
        backup.chmod(0o600)
    path.write_text(HOSTILE_ENV)
    path.chmod(0o600)
    try:
        yield path
    finally:
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(saved)
            path.chmod(mode)
            backup.unlink()


def user_environment() -> dict:
    """This process's environment as a user's shell has it: no GATEWAY_ENV_FILE, LiteLLM's default mode."""
    return {k: v for k, v in os.environ.items() if k != "GATEWAY_ENV_FILE" and k not in settings.NO_DOTENV}


@pytest.fixture(scope="module")
def stack(project_env, tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("sealed"), extra_env=SHELL)
    yield running
    running.stop()


def test_litellm_loads_the_project_env_unless_sealed(project_env, tmp_path):
    """The hazard itself, and the switch that removes it (as the proxy's environment has it)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import os, litellm\nprint(os.environ.get('AWS_PROFILE'))\n")

    def seen(extra: dict) -> str:
        done = subprocess.run([PYTHON, str(probe)], cwd=tmp_path, env={**user_environment(), **extra},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert seen({}) == MISSING_PROFILE
    assert seen(settings.NO_DOTENV) == "None"


def test_update_models_check_ignores_a_env_in_its_working_directory(tmp_path, monkeypatch):
    """`python -c` makes python-dotenv look in the working directory: `make update-models`
    runs its LiteLLM check from the project, next to the user's .env."""
    (tmp_path / ".env").write_text("DEFAULT_NUM_WORKERS_LITELLM_PROXY=not-a-number\n")  # LiteLLM's import dies on it
    monkeypatch.chdir(tmp_path)
    for var in settings.NO_DOTENV:  # as in a user's shell (this process has them from conftest)
        monkeypatch.delenv(var)
    unsealed = subprocess.run([PYTHON, "-c", "import litellm"], capture_output=True, text=True, timeout=120)
    assert unsealed.returncode == 1 and "not-a-number" in unsealed.stderr
    managed_config.check_with_litellm(paths.config_file())  # raises ToolkitError when LiteLLM fails


def test_this_test_process_imports_litellm_sealed():
    import litellm  # the mode LiteLLM read when this process first imported it
    assert litellm.litellm_mode == "PRODUCTION"


def test_demo_tells_the_same_story(project_env):
    result = subprocess.run([sys.executable, "-m", "scripts.demo"], cwd=PROJECT_DIR, env=user_environment(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_demo_told_the_story(result.stdout)
    assert project_env.read_text() == HOSTILE_ENV


def test_fallback_is_unchanged(stack):
    client = anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)
    model = "claude-haiku-4-5-20251001"
    stack.sims.anthropic.set_fault("429", retry_after=3, models=[model])
    raw = client.messages.with_raw_response.create(model=model, max_tokens=32,
                                                   messages=[{"role": "user", "content": "hello"}])
    assert "simulated Bedrock" in raw.parse().content[0].text
    assert raw.headers["x-litellm-model-name"].startswith("bedrock/us.anthropic.claude-haiku-4-5")
    assert [r["status"] for r in stack.primary_calls(model)] == [429]
    assert [r["status"] for r in stack.fallback_calls("claude-haiku-4-5")] == [200]
    assert stack.primary_calls(model)[0]["auth_kind"] == "api_key"  # the sandbox's key, not the .env's junk


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc/PID/environ (Linux)")
def test_proxy_started_like_make_up_holds_only_the_toolkits_variables(stack):
    pid = read_pid(stack.workdir / "state" / "proxy.pid")
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    environ = dict(item.decode().split("=", 1) for item in raw if item)
    system = {k for k in environ if k in settings.SYSTEM_FOR_PROXY or k.startswith(settings.SYSTEM_PREFIXES_FOR_PROXY)}
    # ANTHROPIC_API_KEY of the sandbox's .env reaches LiteLLM only as GATEWAY_ANTHROPIC_CREDENTIAL.
    assert set(environ) - system == SANDBOX_ENV_FILE | TOOLKIT_SET
    assert not [k for k, v in SHELL.items() if environ.get(k) == v]
    assert environ["GATEWAY_ANTHROPIC_CREDENTIAL"] == API_KEY and environ["LITELLM_MODE"] == "PRODUCTION"
    assert "HOME" in system and "PATH" in system


def test_bench_measures_failover_as_before(project_env):
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "scripts.bench", "--requests", "20", "--load-requests", "40",
                             "--clients", "2", "--json", "--no-side"], cwd=PROJECT_DIR, env=user_environment(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout)["rows"]
    failover = {r["figure"]: r for r in rows if r["section"].startswith("failover")}
    # Each figure is a request Bedrock answered after Anthropic's 429 (the bench refuses anything else).
    assert failover and all(r["proxy"] is not None for r in failover.values()), failover
    print(f"\nbench with a hostile project .env: {time.monotonic() - started:.0f}s")
