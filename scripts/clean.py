"""`make clean`: remove logs and state. Never .env, config.yaml or the venv."""
from typing import List

from scripts.core import paths
from scripts.core.errors import ToolkitError, entry_point
from scripts.gateway.process import running_pid

# Files the toolkit keeps in the state directory.
STATE_FILES = ("proxy.pid", "up.lock", "models-seen.json")
LOG_PATTERNS = ("proxy.log*", "sso-refresh.log*")


def _body(argv: List[str]) -> int:
    pid = running_pid()
    if pid:
        # Removing the pid file would orphan the proxy: `make down` could not find it.
        raise ToolkitError(f"the proxy is running (pid {pid}): run `make down` first, then `make clean`")
    # Only files the toolkit writes, so a state or log dir moved onto a shared
    # directory by GATEWAY_STATE_DIR / GATEWAY_LOG_DIR loses nothing else.
    owned = [*(log for pattern in LOG_PATTERNS for log in paths.log_dir().glob(pattern)),
             *(paths.state_dir() / name for name in STATE_FILES)]
    for item in owned:
        if item.is_file():
            item.unlink()
            print(f">> removed {item}")
    for directory in (paths.log_dir(), paths.state_dir()):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    print(">> kept .env, config.yaml and .venv")
    print(">> monitoring data (Docker volumes, state/monitoring) is kept: `make monitoring-clean` drops the volumes")
    return 0


main = entry_point(__name__, _body)
