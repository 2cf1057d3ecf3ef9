"""Where everything lives, and the one registry of the GATEWAY_* overrides.

Each location (and a few behaviours) can be moved by an environment variable, so
tests and unusual setups point everything at a temporary directory. OVERRIDES names
every variable the toolkit reads for that; tests clear all of them.
"""
import os
from pathlib import Path
from typing import Optional

from scripts.core.errors import ToolkitError

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent

# Every GATEWAY_* variable that moves a location or changes a behaviour, with its meaning.
OVERRIDES = {
    "GATEWAY_ENV_FILE": "the .env file (default: .env in the project)",
    "GATEWAY_CONFIG": "the LiteLLM config (default: config.yaml in the project)",
    "GATEWAY_STATE_DIR": "pid file, lock, models-seen (default: state/)",
    "GATEWAY_LOG_DIR": "proxy and SSO refresher logs (default: logs/)",
    "GATEWAY_VENV": "the virtualenv (default: .venv)",
    "GATEWAY_USER_CONFIG_DIR": "per-user toolkit state (default: ~/.config/claude-gateway)",
    "GATEWAY_START_TIMEOUT": "seconds `make up` waits for the proxy (default 90)",
    "GATEWAY_PROXY_LOG": "the file the proxy writes its output to, rotated by size (set by `make up` and the "
                         "launchd service; unset: the terminal or the journal)",
    "GATEWAY_PROXY_LOG_MAX_BYTES": "size at which the proxy log rotates (default 10 MiB; 3 old copies kept)",
    "GATEWAY_PLATFORM": "linux or macos, instead of the detected platform",
    "GATEWAY_SERVICE_MANAGER": "a program run instead of systemctl/launchctl, given the whole command",
    "GATEWAY_AWS_SSO_UTIL": "the aws-sso-util executable (default: the venv's)",
    "GATEWAY_PEERS_CACHE": "where `make bench` installs the peer gateways (default ~/.cache/claude-gateway/peers)",
    "GATEWAY_REDIS_PORT": "the port of `make redis`'s local redis-server (default 47379)",
}


PROXY_LOG_MAX_BYTES = 10 * 1024 * 1024


def override(var: str) -> Optional[str]:
    """The value of a registered override, None when unset or empty."""
    if var not in OVERRIDES:
        raise KeyError(f"{var} is not a registered override (add it to paths.OVERRIDES)")
    return os.environ.get(var) or None


def _from_env(var: str, default: Path) -> Path:
    value = override(var)
    return Path(value).expanduser() if value else default


def env_file() -> Path:
    return _from_env("GATEWAY_ENV_FILE", PROJECT_DIR / ".env")


def env_template() -> Path:
    return PROJECT_DIR / ".env.template"


def config_file() -> Path:
    return _from_env("GATEWAY_CONFIG", PROJECT_DIR / "config.yaml")


def state_dir() -> Path:
    return _from_env("GATEWAY_STATE_DIR", PROJECT_DIR / "state")


def log_dir() -> Path:
    return _from_env("GATEWAY_LOG_DIR", PROJECT_DIR / "logs")


def venv_dir() -> Path:
    return _from_env("GATEWAY_VENV", PROJECT_DIR / ".venv")


def venv_bin(name: str) -> Path:
    return venv_dir() / "bin" / name


def effective_config_file() -> Path:
    """The LiteLLM config `make up` renders from config.yaml and .env (make print-config shows it)."""
    return state_dir() / "litellm-config.yaml"


def last_answers_file() -> Path:
    """Which model group answered each requested model last (written by the proxy, read by make status)."""
    return state_dir() / "last-answers.json"


def pid_file() -> Path:
    return state_dir() / "proxy.pid"


def proxy_log() -> Path:
    return log_dir() / "proxy.log"


def token_dir(provider: str) -> Path:
    """Where LiteLLM keeps a device login's tokens ("chatgpt", "github_copilot"): given to
    LiteLLM as CHATGPT_TOKEN_DIR / GITHUB_COPILOT_TOKEN_DIR, never put in .env."""
    return state_dir() / "auth" / provider


def proxy_log_max_bytes() -> int:
    raw = override("GATEWAY_PROXY_LOG_MAX_BYTES")
    if raw is None:
        return PROXY_LOG_MAX_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ToolkitError(f"GATEWAY_PROXY_LOG_MAX_BYTES={raw!r} is not a size in bytes: unset it or use e.g. "
                           f"{PROXY_LOG_MAX_BYTES}")
    return int(raw)


def start_timeout() -> float:
    return float(override("GATEWAY_START_TIMEOUT") or "90")


def redis_port() -> int:
    return int(override("GATEWAY_REDIS_PORT") or "47379")


def aws_sso_util() -> Path:
    return _from_env("GATEWAY_AWS_SSO_UTIL", venv_bin("aws-sso-util"))


def user_config_dir() -> Path:
    """Per-user toolkit state that must survive `make clean` (e.g. Claude Code routing mode)."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return _from_env("GATEWAY_USER_CONFIG_DIR", base / "claude-gateway")


def claude_mode_file() -> Path:
    """'proxy' or 'direct': which way the shell block sends Claude Code (make toggle-claude)."""
    return user_config_dir() / "claude-mode"
