"""Proxy lifecycle: up, down, restart, run (foreground), logs.

`up` without an installed service starts a detached LiteLLM process, records
its pid in the state directory and waits until it answers; `down` stops
exactly the process `up` recorded, nothing else.
"""
import argparse
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Optional

from . import configfile, paths, procs, settings as settings_mod
from .errors import ToolkitError, run_main
from .http import is_live

LOG_ROTATE_BYTES = 10 * 1024 * 1024


def start_timeout() -> float:
    return float(os.environ.get("GATEWAY_START_TIMEOUT", "90"))


def litellm_command(cfg: settings_mod.Settings) -> List[str]:
    if not paths.venv_bin("litellm").exists():
        raise ToolkitError(f"{paths.venv_bin('litellm')} not found: run `make install`")
    # scripts.litellm_main is LiteLLM's own CLI with boto3 preloaded (see there);
    # run from PROJECT_DIR, and "litellm" in its command line marks it as ours.
    return [str(paths.venv_bin("python")), "-m", "scripts.litellm_main", "--config", str(paths.config_file()),
            "--host", cfg.host, "--port", str(cfg.port)]


def running_pid() -> Optional[int]:
    """The pid of the proxy `up` started, if it is still that process."""
    pid = procs.read_pid(paths.pid_file())
    if pid and procs.is_alive(pid) and "litellm" in procs.command_line(pid):
        return pid
    return None


def preflight() -> settings_mod.Settings:
    """Everything a start needs, checked before anything is started."""
    cfg = settings_mod.load()
    configfile.load(paths.config_file())
    if not cfg.is_loopback:
        print(f"warning: LITELLM_HOST={cfg.host} exposes the proxy beyond this machine", file=sys.stderr)
    return cfg


def _check_port(cfg: settings_mod.Settings) -> None:
    if not procs.port_is_free(cfg.host, cfg.port):
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


def wait_until_live(cfg: settings_mod.Settings, pid: int, timeout: float) -> float:
    """Seconds until the proxy answered; raises when it died or the deadline passed."""
    started = time.monotonic()
    show = sys.stdout.isatty()
    while True:
        elapsed = time.monotonic() - started
        if is_live(cfg.base_url, timeout=1.0):
            return elapsed
        if not procs.is_alive(pid) or procs.is_zombie(pid):
            raise RuntimeError("the proxy exited during start-up")
        if elapsed > timeout:
            raise RuntimeError(f"no answer from {cfg.base_url} after {timeout:.0f}s")
        if show:
            print(f"\r>> waiting for the proxy at {cfg.base_url} ... {elapsed:4.1f}s", end="", flush=True)
        time.sleep(0.2)


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    """Serialise concurrent `up`s so two can never start two proxies."""
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    with open(paths.state_dir() / "up.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _service():
    """The installed login service (make install-service), which then runs the proxy."""
    from .service import installed_proxy_service  # late: scripts.service imports this module
    return installed_proxy_service()


def up(_args: argparse.Namespace) -> int:
    cfg = preflight()
    if (managed := _service()):
        return managed.up(cfg)
    with _start_lock():
        return _start(cfg)


def _start(cfg: settings_mod.Settings) -> int:
    pid = running_pid()
    if pid:
        print(f">> proxy already running (pid {pid}) at {cfg.base_url}")
        return 0
    paths.pid_file().unlink(missing_ok=True)
    _check_port(cfg)
    command = litellm_command(cfg)
    with _open_log() as log:
        child = subprocess.Popen(command, env=settings_mod.proxy_environment(cfg), cwd=paths.PROJECT_DIR,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    paths.pid_file().write_text(f"{child.pid}\n")
    print(f">> starting proxy (pid {child.pid}), log: {paths.proxy_log()}")
    try:
        elapsed = wait_until_live(cfg, child.pid, start_timeout())
    except RuntimeError as exc:
        procs.terminate(child.pid)
        child.poll()
        paths.pid_file().unlink(missing_ok=True)
        print(f"\n>> last lines of {paths.proxy_log()}:", file=sys.stderr)
        print(tail(paths.proxy_log(), 20, [cfg.master_key, cfg.anthropic_credential]), file=sys.stderr)
        raise ToolkitError(f"{exc}; see the log lines above, or run `make proxy` to start it in the foreground")
    print(f"\r>> proxy is up at {cfg.base_url} (pid {child.pid}, healthy after {elapsed:.1f}s)" + " " * 10)
    return 0


def down(_args: argparse.Namespace) -> int:
    if (managed := _service()):
        return managed.down()
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


def restart(args: argparse.Namespace) -> int:
    cfg = preflight()  # a broken .env or config must not leave the user with no proxy at all
    if (managed := _service()):
        return managed.restart(cfg)
    down(args)
    return up(args)


def run(_args: argparse.Namespace) -> int:
    """Foreground: replace this process with LiteLLM (services use this too)."""
    cfg = preflight()
    _check_port(cfg)
    command = litellm_command(cfg)
    sys.stdout.flush()
    os.chdir(paths.PROJECT_DIR)
    os.execve(command[0], command, settings_mod.proxy_environment(cfg))
    return 1  # not reached


def logs(_args: argparse.Namespace) -> int:
    if (managed := _service()):
        return managed.logs()
    log = paths.proxy_log()
    if not log.exists():
        raise ToolkitError(f"no log at {log} yet: start the proxy with `make up`")
    os.execvp("tail", ["tail", "-n", "100", "-F", str(log)])
    return 1  # not reached


COMMANDS = {"up": up, "down": down, "restart": restart, "run": run, "logs": logs}


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args)


def main(argv: List[str]) -> int:
    return run_main(_body, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
