"""How a starting proxy says each of its workers listens: a marker file per worker in a
directory the starter names (GATEWAY_READY_DIR). A restart waits for the new proxy's
markers, not for an HTTP answer, which the old proxy (sharing the port) could give."""
import os
from pathlib import Path
from typing import Iterable

from scripts.core import paths

READY_DIR_VAR = "GATEWAY_READY_DIR"


def ready_dir() -> Path:
    """Where the workers of the proxies this state directory starts say they listen."""
    where = paths.state_dir() / "ready"
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    return where


def marker(directory: str, proxy_pid: int, worker_pid: int) -> str:
    return os.path.join(directory, f"{proxy_pid}-{worker_pid}")


def announce(proxy_pid: int) -> None:
    """Called by a worker once it listens (no-op when no directory was named)."""
    where = os.environ.get(READY_DIR_VAR)
    if where:
        with open(marker(where, proxy_pid, os.getpid()), "w") as handle:
            handle.write("listening\n")


def count(directory: Path, proxy_pid: int) -> int:
    """How many workers of proxy_pid said they listen."""
    return sum(1 for _ in _markers(directory, [proxy_pid]))


def forget_all_but(directory: Path, keep: int) -> None:
    """Remove the markers of every proxy but `keep` (stopped ones, failed starts)."""
    for path in directory.glob("*-*"):
        if not path.name.startswith(f"{keep}-"):
            path.unlink(missing_ok=True)


def _markers(directory: Path, pids: Iterable[int]):
    for pid in pids:
        yield from directory.glob(f"{pid}-*")
