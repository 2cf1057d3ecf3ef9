"""Processes and ports: who is running, who holds a port."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def command_line(pid: int) -> str:
    """The process's command line ('' when unknown or gone)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.exists():
        try:
            return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            return ""
    result = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
    return result.stdout.strip()


def read_pid(pid_file: Path) -> Optional[int]:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def bind_error(host: str, port: int) -> Optional[OSError]:
    """Why a server could not listen on host:port (None: it could): EADDRINUSE when
    someone else does, a socket.gaierror for a host that does not resolve,
    EADDRNOTAVAIL for an address that is not this machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc
    return None


def port_is_free(host: str, port: int) -> bool:
    return bind_error(host, port) is None


def port_owner(port: int) -> str:
    """A short description of whoever listens on the port, best effort."""
    if sys.platform.startswith("linux") and shutil.which("ss"):
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
        if 'pid=' in out:
            # users:(("python3",pid=123,fd=6))
            detail = out.split("users:((", 1)[1].split("))", 1)[0]
            name, pid = detail.split(",")[0].strip('"'), detail.split("pid=")[1].split(",")[0]
            return f"{name} (pid {pid}: {command_line(int(pid))[:120]})"
    if shutil.which("lsof"):
        out = subprocess.run(["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
                             capture_output=True, text=True).stdout
        fields = {line[0]: line[1:] for line in out.splitlines() if line}
        if "p" in fields:
            return f"{fields.get('c', '?')} (pid {fields['p']})"
    return "another process"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def signal_group(pid: int, sig: int) -> bool:
    """Send sig to the process group pid leads (our detached proxy, its workers),
    else to pid alone; False when the process is gone."""
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        pass  # not a group leader (started by someone else), or not ours to signal as a group
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def terminate(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the process group, SIGKILL it if it outlives the deadline."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not signal_group(pid, sig):
            return
        try:
            wait_until(lambda: not is_alive(pid) or is_zombie(pid), timeout, interval=0.1)
            return
        except TimeoutError:
            continue


def stat_fields(pid: int) -> Optional[List[str]]:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, ...); None
    when the process is gone or there is no /proc (macOS). The name may itself
    hold ") ", so the split is at the last one."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> Optional[str]:
    """When the process started, as a token that tells two processes with the same
    pid apart: the start tick of /proc/<pid>/stat on Linux, `ps -o lstart=` (to the
    second) where there is no /proc. None when the process is gone."""
    fields = stat_fields(pid)
    if fields:
        return fields[19]  # field 22, starttime
    if Path("/proc/self/stat").exists():
        return None  # Linux, and the process is gone
    result = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True)
    return " ".join(result.stdout.split()) or None


def _linux_established(port: int) -> int:
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            # "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT, 01 = ESTABLISHED
            cols = row.split()
            if len(cols) > 3 and cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def connections_to(port: int) -> Optional[int]:
    """Open TCP connections whose server side is this machine's port (the proxy's
    clients, whatever they are doing); None when it cannot be told."""
    if Path("/proc/net/tcp").exists():
        return _linux_established(port)
    if not shutil.which("lsof"):
        return None
    out = subprocess.run(["lsof", "-nP", f"-iTCP:{port}", "-sTCP:ESTABLISHED", "-Fn"],
                         capture_output=True, text=True).stdout
    # "n127.0.0.1:47000->127.0.0.1:53422": the server side names the port first
    return sum(1 for line in out.splitlines() if line.startswith("n") and line[1:].split("->")[0].endswith(f":{port}"))


def is_zombie(pid: int) -> bool:
    fields = stat_fields(pid)
    return bool(fields) and fields[0] == "Z"


def wait_until(ready: Callable[[], bool], timeout: float, interval: float = 0.2,
               abort: Optional[Callable[[], Optional[str]]] = None,
               progress: Optional[Callable[[float], None]] = None) -> float:
    """Poll ready() every interval seconds; return the seconds it took.

    Raises TimeoutError when timeout passes first, and RuntimeError with abort()'s
    reason as soon as abort() returns one (e.g. the process being waited for died).
    progress(elapsed) is called before each sleep (a terminal's countdown)."""
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if ready():
            return elapsed
        reason = abort() if abort else None
        if reason:
            raise RuntimeError(reason)
        if elapsed > timeout:
            raise TimeoutError(f"not ready after {timeout:.0f}s")
        if progress:
            progress(elapsed)
        time.sleep(interval)
