"""Shared fixtures. Every test runs with the toolkit's files moved to tmp:
no test can read or write the developer's real .env, state, logs or HOME."""
import os
from pathlib import Path

import pytest

from scripts.core.paths import OVERRIDES
from scripts.core.settings import NO_DOTENV

# Before any test imports LiteLLM: it would load the checkout's .env into this process.
os.environ.update(NO_DOTENV)

from scripts.sim.sandbox import write_env  # noqa: E402

# Variables of the developer's shell that would steer the toolkit or its upstreams; the
# test suite's own settings (where the CLI cache is, regenerate golden files) stay.
_STEERING_PREFIXES = ("ANTHROPIC_", "AWS_", "CLAUDE_CODE_", "LITELLM_", "GATEWAY_", "CHATGPT_", "GITHUB_COPILOT_")
_TEST_SETTINGS = ("GATEWAY_TEST_CACHE", "GATEWAY_UPDATE_GOLDEN")

PROJECT_DIR = Path(__file__).resolve().parent.parent
MASTER_KEY = "sk-test-master-key-0123456789abcdef"
API_KEY = "sk-ant-api03-test-key-0123456789"
OAUTH_TOKEN = "sk-ant-oat01-test-token-0123456789"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for var in list(os.environ):
        if (var in OVERRIDES or var.startswith(_STEERING_PREFIXES)) and var not in _TEST_SETTINGS:
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GATEWAY_ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setenv("GATEWAY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("GATEWAY_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for var, value in NO_DOTENV.items():  # cleared with the other LITELLM_* above
        monkeypatch.setenv(var, value)
    # Per-user config (Claude Code mode file, shell rc locations) stays in tmp too.
    for var in ("XDG_CONFIG_HOME", "ZDOTDIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def env_file(isolated: Path):
    """Write the isolated .env from keyword arguments; returns its path."""
    def write(**values: str) -> Path:
        write_env(isolated / ".env", values)
        return isolated / ".env"
    return write
