"""What `make bench` reads about processes from /proc (Linux): the proxy's
process tree, its CPU time, its peak memory, and who listens on a port.

Off Linux each reader returns None and the bench prints "n/a"."""
import os
from pathlib import Path
from typing import Dict, List, Optional

from scripts.core.procs import stat_fields

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree(pid: int) -> List[int]:
    """The pid and all its descendants (uvicorn workers, helper processes)."""
    if not PROC.is_dir():
        return [pid]
    children: Dict[int, List[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: List[int]) -> Optional[float]:
    """User + system CPU time of the processes, in seconds (None off Linux)."""
    if not PROC.is_dir():
        return None
    ticks = 0
    for pid in pids:
        fields = stat_fields(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def peak_rss_mb(pids: List[int]) -> Optional[float]:
    """Sum of each process's peak resident set (VmHWM), in MiB."""
    return _sum_mb(pids, "status", "VmHWM:")


def pss_mb(pids: List[int]) -> Optional[float]:
    """Sum of the processes' proportional set sizes (shared pages split between their
    users, so forked workers are not counted twice), in MiB; None off Linux."""
    return _sum_mb(pids, "smaps_rollup", "Pss:")


def _sum_mb(pids: List[int], file: str, field: str) -> Optional[float]:
    """Sum over the processes of a "<field> <kB> kB" line of /proc/<pid>/<file>, in MiB."""
    if not PROC.is_dir():
        return None
    total_kb = 0
    for pid in pids:
        try:
            text = (PROC / str(pid) / file).read_text()
        except OSError:
            continue
        total_kb += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith(field))
    return total_kb / 1024


def _listening_inodes(port: int) -> set:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def owns_port(pid: int, port: int) -> Optional[bool]:
    """Whether the process (or one of its children) holds the listening socket on port."""
    if not PROC.is_dir():
        return None
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return False
    for member in tree(pid):
        if _socket_links(member) & wanted:
            return True
    return False


def _socket_links(pid: int) -> set:
    fd_dir = PROC / str(pid) / "fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return set()
    links = set()
    for fd in fds:
        try:
            links.add(os.readlink(fd_dir / fd))
        except OSError:
            continue  # closed while we looked
    return links
