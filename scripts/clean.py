"""`make clean`: remove logs and state. Never .env, config.yaml or the venv."""
import shutil
from pathlib import Path
from typing import List

from scripts.core import paths
from scripts.core.errors import ToolkitError, entry_point
from scripts.gateway.process import running_pid

# Files and folders the toolkit writes in the state directory and can rebuild: the pid
# and lock, the config `make up` renders, the proxy's notes, the status line's records
# (proxy-alive.lock stays: a running service's proxy holds it), the workers' ready
# markers and Prometheus's per-process files.
STATE_FILES = ("proxy.pid", "up.lock", "models-seen.json", "litellm-config.yaml", "last-answers.json",
               "answered-by.json", "subscription-usage.json", "statusline-seen.json")
STATE_DIRS = ("ready", "prometheus-multiproc")
LOG_PATTERNS = ("proxy.log*", "sso-refresh.log*")
# Kept, each with the command that removes it: credentials and data a rebuild cannot bring back.
KEPT = {"auth": "`make logout PROVIDER=chatgpt` (or copilot)",
        "redis": "`python -m scripts.redis_server stop`, then delete the folder",
        "monitoring": "`make monitoring-clean` drops the Docker volumes"}


def _remove(item: Path) -> bool:
    if item.is_dir() and not item.is_symlink():
        shutil.rmtree(item)
    elif item.is_file() or item.is_symlink():
        item.unlink()
    else:
        return False
    return True


def _body(argv: List[str]) -> int:
    pid = running_pid()
    if pid:
        # Removing the pid file would orphan the proxy: `make down` could not find it.
        raise ToolkitError(f"the proxy is running (pid {pid}): run `make down` first, then `make clean`")
    # Only what the toolkit writes, so a state or log dir moved onto a shared
    # directory by GATEWAY_STATE_DIR / GATEWAY_LOG_DIR loses nothing else.
    state = paths.state_dir()
    owned = [*(log for pattern in LOG_PATTERNS for log in sorted(paths.log_dir().glob(pattern))),
             *(state / name for name in (*STATE_FILES, *STATE_DIRS))]
    for item in owned:
        if _remove(item):
            print(f">> removed {item}")
    for directory in (paths.log_dir(), state):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            print(f">> removed the empty folder {directory}")
    for name, how in KEPT.items():
        if (state / name).exists():
            print(f">> kept {state / name}: {how}")
    print(">> kept .env, config.yaml and .venv")
    return 0


main = entry_point(__name__, _body)
