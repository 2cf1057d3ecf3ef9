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
from typing import Iterator, List, Optional, Tuple

from scripts.core import envfile, paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, warn
from scripts.core.http import is_live
from scripts.gateway import config_check, drain, effective_config, logpipe, readiness
from scripts.gateway.proxy_env import environment

# In the proxy's command line (litellm_command): with the start time recorded beside
# the pid, it tells our proxy from any other process that reuses the pid.
PROXY_MODULE = "scripts.in_proxy.litellm_main"


def proxy_config(cfg: settings_mod.Settings) -> Path:
    """The config LiteLLM runs: config.yaml plus what .env adds (the models and tiers after
    Bedrock, the subscription's credential tiers: scripts/gateway/effective_config.py), under
    the state directory, written by write_proxy_config before each start."""
    return paths.effective_config_file()


def write_proxy_config(cfg: settings_mod.Settings) -> Path:
    return effective_config.write(cfg)


def litellm_command(cfg: settings_mod.Settings) -> List[str]:
    if not paths.venv_bin("litellm").exists():
        raise ToolkitError(f"{paths.venv_bin('litellm')} not found: run `make install`")
    # scripts.in_proxy.litellm_main is LiteLLM's own CLI with boto3 preloaded (see
    # there), run from PROJECT_DIR; running_pid() looks for it in the command line.
    return [str(paths.venv_bin("python")), "-m", PROXY_MODULE, "--config", str(proxy_config(cfg)),
            "--host", cfg.host, "--port", str(cfg.port), "--num_workers", str(cfg.workers)]


def record_pid(pid: int) -> None:
    """The pid file: the pid, then the process's start time (procs.start_time)."""
    paths.pid_file().write_text(f"{pid}\n{procs.start_time(pid) or ''}\n")


def _recorded() -> Optional[Tuple[int, Optional[str]]]:
    """(pid, start time) from the pid file; the start time is None in a file
    written before it was recorded."""
    try:
        lines = paths.pid_file().read_text().splitlines()
    except OSError:
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    return int(lines[0]), (lines[1].strip() or None) if len(lines) > 1 else None


def _is_ours(pid: int, started: Optional[str]) -> bool:
    if not procs.is_alive(pid) or procs.is_zombie(pid):
        return False
    if started is not None and procs.start_time(pid) != started:
        return False  # the pid now belongs to a process started later
    return PROXY_MODULE in procs.command_line(pid)


def running_pid() -> Optional[int]:
    """The pid of the proxy `up` started, if it is still that very process."""
    record = _recorded()
    return record[0] if record and _is_ours(*record) else None


def _forget_stale() -> str:
    """Remove a pid file that names no proxy of ours; say what it named."""
    record = _recorded()
    paths.pid_file().unlink(missing_ok=True)
    if not record:
        return ""
    if procs.is_alive(record[0]):
        return f" (removed a stale pid file: pid {record[0]} is another process now, left alone)"
    return " (removed a stale pid file)"


def preflight() -> settings_mod.Settings:
    """Everything a start needs, checked before anything is started."""
    _warn_if_shared(paths.env_file())
    cfg = settings_mod.load()
    effective_config.load_and_render(cfg)  # config.yaml and the .env models and tiers, checked together
    paths.proxy_log_max_bytes()  # a bad GATEWAY_PROXY_LOG_MAX_BYTES stops `up` before anything starts
    cfg.check_keyless_bind()
    if cfg.ollama_keyless:
        warn(f"{settings_mod.OLLAMA_KEYLESS} is on: /api/* (Ollama) answers programs on this machine without a key")
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
    """The log for what the proxy prints before litellm_main hands its output to the
    rotating writer (scripts/gateway/logpipe.py), e.g. a failed import."""
    log = paths.proxy_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    logpipe.rotate_if_over(log, paths.proxy_log_max_bytes())
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "ab")


def log_environment(log: Path) -> dict:
    """What tells litellm_main to write its output to `log`, rotated by size."""
    return {"GATEWAY_PROXY_LOG": str(log), "GATEWAY_PROXY_LOG_MAX_BYTES": str(paths.proxy_log_max_bytes())}


def tail(path: Path, lines: int, secrets: List[str]) -> str:
    """The last lines of a log, with any known secret masked."""
    if not path.exists():
        return "(no log)"
    return hide_secrets("\n".join(path.read_text(errors="replace").splitlines()[-lines:]), secrets)


def hide_secrets(text: str, secrets: List[Optional[str]]) -> str:
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
    child, log_start = spawn(cfg)
    record_pid(child.pid)
    print(f">> starting proxy (pid {child.pid}), log: {paths.proxy_log()}")
    try:
        elapsed = wait_until_live(cfg, child.pid, paths.start_timeout())
    except (RuntimeError, TimeoutError) as exc:
        paths.pid_file().unlink(missing_ok=True)
        failed_start(cfg, child, exc, log_start)
    readiness.forget_all_but(readiness.ready_dir(), child.pid)  # the markers of earlier starts
    print(f"\r>> proxy is up at {cfg.base_url} (pid {child.pid}, healthy after {elapsed:.1f}s)" + " " * 10)
    return 0


def spawn(cfg: settings_mod.Settings) -> Tuple[subprocess.Popen, int]:
    """A detached proxy (its own session) writing to the proxy log, and where in the log
    its lines start."""
    command = litellm_command(cfg)
    write_proxy_config(cfg)
    with _open_log() as log:
        log_start = os.fstat(log.fileno()).st_size
        env = {**environment(cfg), **log_environment(paths.proxy_log())}
        child = subprocess.Popen(command, env=env, cwd=paths.PROJECT_DIR,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    return child, log_start


def failed_start(cfg: settings_mod.Settings, child: subprocess.Popen, exc: Exception, log_start: int) -> None:
    """Stop what a failed start left and raise the one-line error."""
    procs.terminate(child.pid)
    child.poll()
    _explain_failed_start(cfg, exc, log_start)


def _explain_failed_start(cfg: settings_mod.Settings, exc: Exception, log_start: int) -> None:
    """Raise the one-line error: LiteLLM's complaint when it wrote a traceback into
    this start's part of the log, else the last log lines and what happened."""
    log = paths.proxy_log()
    said = config_check.complaint_in_log(log_since(log, log_start))
    if said:
        said = hide_secrets(said, cfg.secrets)
        raise ToolkitError(f"{exc}: {said} (LiteLLM's complaint; the traceback is in {log}): "
                           "fix config.yaml or .env, then `make up`")
    print(f"\n>> last lines of {log}:", file=sys.stderr)
    print(tail(log, 20, cfg.secrets), file=sys.stderr)
    raise ToolkitError(f"{exc}; see the log lines above, or run `make proxy` to start it in the foreground")


def log_since(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as handle:
            if handle.seek(0, os.SEEK_END) >= offset:  # else it was rotated meanwhile: read it all
                handle.seek(offset)
            else:
                handle.seek(0)
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def drain_timeout() -> float:
    """The drain time from .env; a .env that cannot be read must not stop `make down`."""
    try:
        return settings_mod.load(validate=False).drain_timeout
    except ToolkitError as exc:
        warn(f"{exc}; using the default drain time of {settings_mod.DEFAULT_DRAIN_TIMEOUT}s")
        return settings_mod.DEFAULT_DRAIN_TIMEOUT


def _port_of(pid: int) -> Optional[int]:
    """The port in the proxy's own command line (litellm_command): where it listens
    now, whatever .env says since."""
    words = procs.command_line(pid).split()
    if "--port" in words[:-1] and words[words.index("--port") + 1].isdigit():
        return int(words[words.index("--port") + 1])
    return None


def stop() -> int:
    """Stop exactly the process `up` recorded, nothing else, letting the requests in
    flight finish first (gateway/drain.py)."""
    pid = running_pid()
    if not pid:
        print(">> proxy is not running" + _forget_stale())
        return 0
    try:
        drain.stop_draining(pid, _port_of(pid), drain_timeout())
    finally:  # stopped, or killed on Ctrl-C: either way gone
        paths.pid_file().unlink(missing_ok=True)
    return 0


def rotate_service_log() -> None:
    """Under launchd (GATEWAY_PROXY_LOG set) a start that fails before LiteLLM runs, every
    10 s, writes its error to the log launchd opened: keep that bounded too."""
    log = paths.override("GATEWAY_PROXY_LOG")
    if log:
        logpipe.rotate_if_over(Path(log), paths.proxy_log_max_bytes())


def exec_foreground(cfg: settings_mod.Settings) -> None:
    """Replace this process with LiteLLM (make proxy, and the services)."""
    check_port(cfg)
    command = litellm_command(cfg)
    write_proxy_config(cfg)
    env = environment(cfg)
    log = paths.override("GATEWAY_PROXY_LOG")
    if log:  # the launchd service: its StandardOutPath would grow forever
        env.update(log_environment(Path(log)))
    sys.stdout.flush()
    os.chdir(paths.PROJECT_DIR)
    os.execve(command[0], command, env)
