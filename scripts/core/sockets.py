"""Who listens on a TCP port: the listening sockets, the user each belongs to, and the
processes that hold them. Linux reads /proc/net/tcp{,6} (the uid column is the socket
owner's, readable by anyone) and /proc/<pid>/fd (readable for this user's processes,
or all as root); macOS asks `lsof`. Standard library only."""
import ipaddress
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Set

LISTEN = "0A"  # tcp_states.h: TCP_LISTEN, as /proc/net/tcp writes it
TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


@dataclass
class Listener:
    """One listening socket: its address, its owner's uid and the pids seen holding it
    (empty when they cannot be seen: another user's processes, to a user that is not root)."""
    address: str
    uid: Optional[int]
    inode: str = ""
    pids: List[int] = field(default_factory=list)


def user_name(uid: Optional[int]) -> str:
    if uid is None:
        return "unknown"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _address(hex_address: str) -> ipaddress._BaseAddress:
    """/proc/net/tcp's address: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    swapped = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(swapped)
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def table_rows() -> Iterator[List[str]]:
    """The columns of each row of /proc/net/tcp and tcp6: sl local_address rem_address
    st tx:rx tr:when retrnsmt uid timeout inode ..., addresses as HEXIP:HEXPORT."""
    for table in TABLES:
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        yield from (row.split() for row in rows)


def local_port(cols: List[str]) -> int:
    return int(cols[1].rsplit(":", 1)[1], 16)


def _linux_listeners(port: int) -> List[Listener]:
    return [Listener(str(_address(cols[1].rsplit(":", 1)[0])), int(cols[7]), cols[9])
            for cols in table_rows() if len(cols) >= 10 and cols[3] == LISTEN and local_port(cols) == port]


def _pids_holding(inodes: Set[str], first: Iterable[int]) -> dict:
    """{inode: [pid, ...]} for the sockets, looking at the `first` pids before all others
    (the proxy and its workers: usually the answer, without reading every process)."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    holders: dict = {}
    candidates = list(first)
    for pid in candidates + [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in candidates]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or another user's
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in wanted:
                holders.setdefault(wanted[target], []).append(pid)
        if pid in candidates and set(holders) == set(inodes):
            break  # all found among the candidates
    return holders


def _lsof_listeners(port: int) -> List[Listener]:
    """macOS (and Linux without /proc): lsof lists the pid and uid of each listener it
    may see; a user that is not root does not see other users' processes."""
    if not shutil.which("lsof"):
        return []
    out = subprocess.run(["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpun"],
                         capture_output=True, text=True).stdout
    found, pid, uid = [], None, None
    for line in out.splitlines():
        tag, value = line[:1], line[1:]
        if tag == "p":
            pid = int(value)
        elif tag == "u":
            uid = int(value)
        elif tag == "n" and pid is not None:
            found.append(Listener(value.rsplit(":", 1)[0].strip("[]"), uid, pids=[pid]))
    return found


def listeners(port: int, likely_pids: Iterable[int] = ()) -> List[Listener]:
    """Every socket listening on the port (any address), with its owner and holders."""
    if not Path(TABLES[0]).exists():
        return _lsof_listeners(port)
    found = _linux_listeners(port)
    holders = _pids_holding({s.inode for s in found}, likely_pids) if found else {}
    for sock in found:
        sock.pids = sorted(holders.get(sock.inode, []))
    return found


def children(pid: int) -> List[int]:
    """The direct children of a process (Linux; [] elsewhere or when it is gone)."""
    kids: List[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(k) for k in task.read_text().split()]
        except OSError:
            continue
    return kids


def may_reach(listener_address: str, host_addresses: Iterable[str]) -> bool:
    """Whether a connection to one of host_addresses can land on a socket bound there."""
    bound = ipaddress.ip_address(listener_address) if listener_address not in ("*", "") else None
    if bound is None or bound.is_unspecified:
        return True
    return str(bound) in set(host_addresses)
