"""Shared fixtures. Every test runs with the toolkit's files moved to tmp:
no test can read or write the developer's real .env, state, logs or HOME."""
import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
MASTER_KEY = "sk-test-master-key-0123456789abcdef"
API_KEY = "sk-ant-api03-test-key-0123456789"
OAUTH_TOKEN = "sk-ant-oat01-test-token-0123456789"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GATEWAY_ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setenv("GATEWAY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("GATEWAY_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Per-user config (Claude Code mode file, shell rc locations) stays in tmp too.
    for var in ("XDG_CONFIG_HOME", "ZDOTDIR", "GATEWAY_USER_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN",
                "LITELLM_MASTER_KEY", "LITELLM_HOST", "LITELLM_PORT", "AWS_PROFILE", "AWS_REGION",
                "ANTHROPIC_API_BASE", "AWS_BEDROCK_RUNTIME_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def env_file(isolated: Path):
    """Write the isolated .env from keyword arguments; returns its path."""
    def write(**values: str) -> Path:
        path = isolated / ".env"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
        return path
    return write
