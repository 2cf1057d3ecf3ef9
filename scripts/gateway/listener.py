"""Before the master key leaves this process: is whoever listens on the proxy's port
this toolkit's proxy, run by this user?

Another user on the machine can listen on 127.0.0.1:47000 whenever our proxy is not
running (issue 22: `make health` then sent that process the key and said "master key
accepted"). So every command that sends the key asks `proxy_listens` first. The socket
table names each listening socket's owner (uid) and, through the fds, the processes
holding it: every socket that a connection to LITELLM_HOST:LITELLM_PORT can land on must
be held by a process of this user whose command line runs the proxy module (the pid
file's proxy, its forked workers, the service manager's proxy, or the new proxy of a
restart's handover, which listens beside the old one for a moment). Anything else gets
one line and no key. The same user's processes could read our .env anyway: the user is
the trust boundary, the module name catches a stray server of our own on the port."""
import os
import socket
from typing import List, Optional

from scripts.core import paths, procs, sockets
from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings

# In the proxy's command line (process.litellm_command, which imports it from here).
PROXY_MODULE = "scripts.in_proxy.litellm_main"
CONNECT_TIMEOUT = 0.5


def _host_addresses(host: str) -> List[str]:
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"  # where clients connect (Settings.base_url)
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except socket.gaierror:
        return [host]


def _likely_pids() -> List[int]:
    """The pid file's proxy and its workers: read first, so the check stays cheap."""
    pid = procs.read_pid(paths.pid_file())
    return [pid, *sockets.children(pid)] if pid else []


def _answers(host: str, port: int) -> bool:
    """Someone accepts connections there (lsof shows a user who is not root only their
    own processes: a listener it does not list is someone else's)."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def _is_our_proxy(listener: sockets.Listener) -> bool:
    return (listener.uid == os.getuid() and bool(listener.pids)
            and all(PROXY_MODULE in procs.command_line(pid) for pid in listener.pids))


def refusal(listener: sockets.Listener, host: str, port: int) -> str:
    pid = ", ".join(map(str, listener.pids)) or "unknown"
    return (f"something else (pid {pid}, user {sockets.user_name(listener.uid)}) listens on {host}:{port}: "
            "not sending the key")


def proxy_listens(cfg: Settings) -> Optional[List[int]]:
    """The pids of our proxy listening where cfg points; None when nothing listens there.
    ToolkitError (refusal) when anything else could take the connection."""
    addresses = _host_addresses(cfg.host)
    reachable = [s for s in sockets.listeners(cfg.port, _likely_pids()) if sockets.may_reach(s.address, addresses)]
    shown = cfg.base_url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
    if not reachable:
        if _answers(shown, cfg.port):
            raise ToolkitError(refusal(sockets.Listener(shown, None), shown, cfg.port))
        return None
    for listener in reachable:
        if not _is_our_proxy(listener):
            raise ToolkitError(refusal(listener, shown, cfg.port))
    return sorted({pid for s in reachable for pid in s.pids})


def require_proxy(cfg: Settings) -> List[int]:
    """proxy_listens, with nothing listening an error too (the caller is about to send)."""
    pids = proxy_listens(cfg)
    if pids is None:
        raise ToolkitError(f"the proxy is not running at {cfg.base_url}: run `make up`")
    return pids
