"""The proxy process that `make up` starts without a service: its command, its pid
file, its log, start and stop. The CLI (scripts/proxy.py) and the login service
(scripts/services/managed.py) both build on this; it knows nothing of either."""
import contextlib
import errno
import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

from scripts.core import configfile, envfile, paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, warn
from scripts.core.http import is_live

LOG_ROTATE_BYTES = 10 * 1024 * 1024


def litellm_command(cfg: settings_mod.Settings) -> List[str]:
    if not paths.venv_bin("litellm").exists():
        raise ToolkitError(f"{paths.venv_bin('litellm')} not found: run `make install`")
    # scripts.gateway.litellm_main is LiteLLM's own CLI with boto3 preloaded (see
    # there); run from PROJECT_DIR, and "litellm" in its command line marks it as ours.
    return [str(paths.venv_bin("python")), "-m", "scripts.gateway.litellm_main", "--config", str(paths.config_file()),
            "--host", cfg.host, "--port", str(cfg.port)]


def running_pid() -> Optional[int]:
    """The pid of the proxy `up` started, if it is still that process."""
    pid = procs.read_pid(paths.pid_file())
    if pid and procs.is_alive(pid) and "litellm" in procs.command_line(pid):
        return pid
    return None


def preflight() -> settings_mod.Settings:
    """Everything a start needs, checked before anything is started."""
    _warn_if_shared(paths.env_file())
    cfg = settings_mod.load()
    configfile.load(paths.config_file())
    return cfg


def _warn_if_shared(env_path: Path) -> None:
    """.env holds the master key and the upstream credentials: 0600, like ssh keys."""
    try:
        shared = env_path.is_file() and not envfile.is_private(env_path)
    except OSError:
        return  # a missing or unreadable .env gets its own error from settings.load
    if shared:
        warn(f"{env_path} is readable by other users (mode {env_path.stat().st_mode & 0o777:04o}): "
             f"run `chmod 600 {env_path}`")


def check_port(cfg: settings_mod.Settings) -> None:
    """The proxy can listen where .env says; a start warns when that is beyond this machine."""
    problem = procs.bind_error(cfg.host, cfg.port)
    if problem is None:
        if not cfg.is_loopback:
            warn(f"LITELLM_HOST={cfg.host} exposes the proxy beyond this machine")
        return
    if isinstance(problem, socket.gaierror):
        raise ToolkitError(f"LITELLM_HOST={cfg.host} {cfg.where('LITELLM_HOST')} is not a host name this machine "
                           "can resolve: use 127.0.0.1")
    if problem.errno != errno.EADDRINUSE:
        raise ToolkitError(f"cannot listen on {cfg.host} port {cfg.port} ({problem.strerror}): set LITELLM_HOST "
                           "in .env to an address of this machine, e.g. 127.0.0.1")
    owner = procs.port_owner(cfg.port)
    raise ToolkitError(f"port {cfg.port} on {cfg.host} is in use by {owner}: stop it or set LITELLM_PORT in .env")


def _open_log() -> "object":
    log = paths.proxy_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists() and log.stat().st_size > LOG_ROTATE_BYTES:
        log.replace(log.with_suffix(".log.1"))
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "ab")


def tail(path: Path, lines: int, secrets: List[str]) -> str:
    """The last lines of a log, with any known secret masked."""
    if not path.exists():
        return "(no log)"
    text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    for secret in filter(None, secrets):
        text = text.replace(secret, settings_mod.mask(secret))
    return text


def wait_until_live(cfg: settings_mod.Settings, pid: Optional[int], timeout: float) -> float:
    """Seconds until the proxy answered. RuntimeError when the process (if a pid is
    given) died, TimeoutError when the deadline passed."""
    def died() -> Optional[str]:
        if pid is not None and (not procs.is_alive(pid) or procs.is_zombie(pid)):
            return "the proxy exited during start-up"
        return None

    def show(elapsed: float) -> None:
        print(f"\r>> waiting for the proxy at {cfg.base_url} ... {elapsed:4.1f}s", end="", flush=True)

    try:
        return procs.wait_until(lambda: is_live(cfg.base_url, timeout=1.0), timeout, interval=0.2, abort=died,
                                progress=show if sys.stdout.isatty() else None)
    except TimeoutError:
        raise TimeoutError(f"no answer from {cfg.base_url} after {timeout:.0f}s") from None


@contextlib.contextmanager
def start_lock() -> Iterator[None]:
    """Serialise concurrent `up`s so two can never start two proxies."""
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    with open(paths.state_dir() / "up.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start(cfg: settings_mod.Settings) -> int:
    """Start a detached proxy (unless ours already runs) and wait until it answers."""
    pid = running_pid()
    if pid:
        print(f">> proxy already running (pid {pid}) at {cfg.base_url}")
        return 0
    paths.pid_file().unlink(missing_ok=True)
    check_port(cfg)
    command = litellm_command(cfg)
    with _open_log() as log:
        child = subprocess.Popen(command, env=settings_mod.proxy_environment(cfg), cwd=paths.PROJECT_DIR,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    paths.pid_file().write_text(f"{child.pid}\n")
    print(f">> starting proxy (pid {child.pid}), log: {paths.proxy_log()}")
    try:
        elapsed = wait_until_live(cfg, child.pid, paths.start_timeout())
    except (RuntimeError, TimeoutError) as exc:
        procs.terminate(child.pid)
        child.poll()
        paths.pid_file().unlink(missing_ok=True)
        print(f"\n>> last lines of {paths.proxy_log()}:", file=sys.stderr)
        print(tail(paths.proxy_log(), 20, [cfg.master_key, cfg.anthropic_credential]), file=sys.stderr)
        raise ToolkitError(f"{exc}; see the log lines above, or run `make proxy` to start it in the foreground")
    print(f"\r>> proxy is up at {cfg.base_url} (pid {child.pid}, healthy after {elapsed:.1f}s)" + " " * 10)
    return 0


def stop() -> int:
    """Stop exactly the process `up` recorded, nothing else."""
    pid = running_pid()
    if not pid:
        stale = paths.pid_file().exists()
        paths.pid_file().unlink(missing_ok=True)
        print(">> proxy is not running" + (" (removed a stale pid file)" if stale else ""))
        return 0
    procs.terminate(pid)
    paths.pid_file().unlink(missing_ok=True)
    print(f">> proxy stopped (pid {pid})")
    return 0


def exec_foreground(cfg: settings_mod.Settings) -> None:
    """Replace this process with LiteLLM (make proxy, and the services)."""
    check_port(cfg)
    command = litellm_command(cfg)
    sys.stdout.flush()
    os.chdir(paths.PROJECT_DIR)
    os.execve(command[0], command, settings_mod.proxy_environment(cfg))
