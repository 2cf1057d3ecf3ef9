"""Where everything lives. Each location can be moved by an environment variable,
so tests (and unusual setups) point everything at a temporary directory."""
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
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


def pid_file() -> Path:
    return state_dir() / "proxy.pid"


def proxy_log() -> Path:
    return log_dir() / "proxy.log"


def user_config_dir() -> Path:
    """Per-user toolkit state that must survive `make clean` (e.g. Claude Code routing mode)."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return _from_env("GATEWAY_USER_CONFIG_DIR", base / "claude-gateway")


def claude_mode_file() -> Path:
    """'proxy' or 'direct': which way the shell block sends Claude Code (make toggle-claude)."""
    return user_config_dir() / "claude-mode"
