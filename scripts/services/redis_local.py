"""A redis-server of the toolkit's own for one machine (`make redis`), and the same
server the tests start on a free port.

It runs from the Debian or Homebrew package, bound to the loopback address only, with
a generated password (requirepass) and no persistence: cooldowns live seconds to
minutes, and a restarted Redis starting empty costs at most one request per model to a
rate-limited upstream. Its config (which holds the password) and its password file
are 0600 in its directory under the state directory; the password is never printed.
"""
import secrets
import shutil
import socket
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from scripts.core import paths, procs
from scripts.core.errors import ToolkitError
from scripts.core.files import PRIVATE, write_atomic

HOMEBREW_DIRS = ("/opt/homebrew/bin", "/usr/local/bin")
READY_TIMEOUT = 10.0


def server_binary() -> Path:
    found = shutil.which("redis-server") or next(
        (str(Path(d) / "redis-server") for d in HOMEBREW_DIRS if (Path(d) / "redis-server").exists()), None)
    if not found:
        raise ToolkitError("redis-server not found: install it (`sudo apt-get install redis-server` on "
                           "Debian/Ubuntu, `brew install redis` on macOS), or point REDIS_URL at your team's Redis")
    return Path(found)


@dataclass
class LocalRedis:
    directory: Path
    port: int
    password: str

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def conf(self) -> Path:
        return self.directory / "redis.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "redis.pid"

    def config_text(self) -> str:
        return "\n".join([
            "# Written by the claude-gateway toolkit (scripts/services/redis_local.py); 0600: holds the password",
            "bind 127.0.0.1",
            "protected-mode yes",
            f"port {self.port}",
            f"requirepass {self.password}",
            f"dir {self.directory}",
            f"pidfile {self.pid_file}",
            f"logfile {self.directory / 'redis.log'}",
            'save ""',
            "appendonly no",
            "daemonize no",
            "",
        ])

    def ping(self) -> bool:
        return ping_url(self.url) is None

    def running_pid(self) -> Optional[int]:
        pid = procs.read_pid(self.pid_file)
        if pid and procs.is_alive(pid) and "redis-server" in procs.command_line(pid):
            return pid
        return None

    def start(self) -> subprocess.Popen:
        """Start redis-server (detached, its own session) and wait for PONG."""
        binary = server_binary()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self.conf, self.config_text(), mode=PRIVATE)
        if not procs.port_is_free("127.0.0.1", self.port):
            raise ToolkitError(f"port {self.port} is in use by {procs.port_owner(self.port)}: stop it, or "
                               "point REDIS_URL at the Redis you already run")
        child = subprocess.Popen([str(binary), str(self.conf)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        try:
            procs.wait_until(self.ping, READY_TIMEOUT, interval=0.05,
                             abort=lambda: "redis-server exited" if child.poll() is not None else None)
        except (RuntimeError, TimeoutError) as exc:
            child.kill()
            detail = (child.communicate(timeout=5)[1] or b"").decode(errors="replace").strip()[-300:]
            raise ToolkitError(f"redis-server did not answer on port {self.port} ({exc}): "
                               f"{detail or 'see ' + str(self.directory / 'redis.log')}") from None
        return child

    def stop(self) -> bool:
        pid = self.running_pid()
        if pid is None:
            return False
        procs.terminate(pid)
        return True


def ping_url(url: str, timeout: float = 1.0) -> Optional[str]:
    """None when the Redis at url answers an (authenticated) PING, else why not. RESP is
    spoken by hand: `make status` must not import a client library."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "rediss":
        return "not checked (TLS)"
    words = []
    if parsed.password:
        user = urllib.parse.unquote(parsed.username or "") or "default"
        words.append(_command("AUTH", user, urllib.parse.unquote(parsed.password)))
    words.append(_command("PING"))
    try:
        if parsed.scheme == "unix":
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(timeout)
            conn.connect(parsed.path)
        else:
            conn = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=timeout)
        with conn:
            conn.sendall(b"".join(words))
            reply = _read_lines(conn, len(words))
    except OSError as exc:
        return exc.strerror or str(exc)
    if reply.endswith(b"+PONG\r\n") and not reply.startswith(b"-"):
        return None
    return reply.decode(errors="replace").strip().splitlines()[0][:120] if reply.strip() else "no answer"


def _read_lines(conn: socket.socket, count: int) -> bytes:
    reply = b""
    while reply.count(b"\r\n") < count:
        chunk = conn.recv(256)
        if not chunk:
            break
        reply += chunk
    return reply


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def directory() -> Path:
    return paths.state_dir() / "redis"


def password_file(where: Path) -> Path:
    return where / "password"


def load_or_create_password(where: Path) -> str:
    """The password of this state directory's Redis: generated once, kept 0600."""
    file = password_file(where)
    if file.exists():
        password = file.read_text().strip()
        if password:
            return password
    password = secrets.token_urlsafe(32)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(file, password + "\n", mode=PRIVATE)
    return password


def for_state_dir() -> LocalRedis:
    where = directory()
    return LocalRedis(where, paths.redis_port(), load_or_create_password(where))
