"""Load a config file the way the proxy will, before anything depends on it.

LiteLLM reads most of config.yaml only when the proxy starts (litellm_settings,
general_settings, callbacks, the Router): `litellm_settings: oops` passes the
toolkit's own checks (core/configfile.py) and kills the proxy ten seconds into its
start. So `make restart` (before it stops the running proxy) and `make update-models`
(before it replaces config.yaml) run LiteLLM's own loader, ProxyConfig.load_config,
in a child process with the proxy's environment: about 8 s of CPU, the import of
litellm.proxy.proxy_server, and nothing is served or bound.
"""
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError

MARK = "GATEWAY-CONFIG-CHECK:"
TIMEOUT = 300  # seconds; the import alone takes 10-25 s on a busy 2-core machine
LOAD = f"""
import asyncio, os, sys
try:
    from litellm.proxy.proxy_server import proxy_config
    asyncio.run(proxy_config.load_config(router=None, config_file_path=sys.argv[1]))
except BaseException as exc:  # whatever LiteLLM raised is the answer: report its first line
    text = (f"{{type(exc).__name__}}: {{exc}}".strip().splitlines() or ["(no message)"])[0]
    print("{MARK}", text, file=sys.stderr, flush=True)
    os._exit(1)
sys.stdout.flush()
os._exit(0)  # LiteLLM may leave threads behind; the answer is in
"""


def placeholder_environment() -> Dict[str, str]:
    """The proxy's environment for a config with no .env behind it (update-models
    checks a candidate file): placeholders where config.yaml reads a variable."""
    cfg = settings_mod.Settings({"LITELLM_MASTER_KEY": "sk-config-check-placeholder-key-0000",
                                 "ANTHROPIC_API_KEY": "sk-ant-config-check", "AWS_REGION": "us-east-1"})
    return settings_mod.proxy_environment(cfg)


def complaint(config: Path, env: Dict[str, str]) -> Optional[str]:
    """None when LiteLLM loads the file, else the first line of its complaint."""
    python = paths.venv_bin("python")
    try:
        result = subprocess.run([str(python) if python.exists() else sys.executable, "-c", LOAD, str(config)],
                                capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=paths.PROJECT_DIR)
    except subprocess.TimeoutExpired:
        return f"loading it took over {TIMEOUT} s"
    if result.returncode == 0:
        return None
    said = [line.split(MARK, 1)[1].strip() for line in result.stderr.splitlines() if MARK in line]
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
