"""Load a config file the way the proxy will, before anything depends on it.

LiteLLM reads most of config.yaml only when the proxy starts (litellm_settings,
general_settings, callbacks, the Router): `litellm_settings: oops` passes the
toolkit's own checks (core/configfile.py) and kills the proxy ten seconds into its
start. So `make restart` (before it stops the running proxy) and `make update-models`
(before it replaces config.yaml) run LiteLLM's own CLI with its `--validate_config` flag
(ProxyConfig.load_config, then exit) in a child process with the proxy's environment:
about 8 s of CPU, the import of litellm.proxy.proxy_server, and nothing is served or bound.
"""
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError

FAILED = "LiteLLM: config validation failed:"  # how `litellm --validate_config` reports its complaint
TIMEOUT = 300  # seconds; the import alone takes 10-25 s on a busy 2-core machine


def placeholder_environment() -> Dict[str, str]:
    """The proxy's environment for a config with no .env behind it (update-models
    checks a candidate file): placeholders where config.yaml reads a variable."""
    cfg = settings_mod.Settings({"LITELLM_MASTER_KEY": "sk-config-check-placeholder-key-0000",
                                 "ANTHROPIC_API_KEY": "sk-ant-config-check", "AWS_REGION": "us-east-1"})
    return settings_mod.proxy_environment(cfg)


def litellm_cli() -> str:
    """LiteLLM's console script in the toolkit's venv (a child process: this side never imports LiteLLM)."""
    cli = paths.venv_bin("litellm")
    if cli.exists():
        return str(cli)
    found = shutil.which("litellm")
    if not found:
        raise ToolkitError("LiteLLM's CLI is not installed: run `make install`")
    return found


def complaint(config: Path, env: Dict[str, str]) -> Optional[str]:
    """None when LiteLLM loads the file, else the first line of its complaint."""
    try:
        result = subprocess.run([litellm_cli(), "--config", str(config), "--validate_config"],
                                capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=paths.PROJECT_DIR)
    except subprocess.TimeoutExpired:
        return f"loading it took over {TIMEOUT} s"
    if result.returncode == 0:
        return None
    said = [line.split(FAILED, 1)[1].strip() for line in result.stderr.splitlines() if FAILED in line]
    return said[-1] if said else (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]


def check(config: Path, env: Dict[str, str], what: str) -> None:
    """ToolkitError '<what> (<LiteLLM's complaint>)' unless LiteLLM loads the file."""
    said = complaint(config, env)
    if said:
        raise ToolkitError(f"{what} ({said})")


def complaint_in_log(text: str) -> Optional[str]:
    """The exception line of the last Python traceback in a log (Uvicorn writes
    LiteLLM's start-up failures as 'ERROR:    Traceback ...'), None without one."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip().endswith("Traceback (most recent call last):")]
    if not starts:
        return None
    for line in lines[starts[-1] + 1:]:
        if line.strip() and not line[0].isspace():
            return line.strip()
    return None
