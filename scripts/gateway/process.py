"""The proxy process that `make up` starts without a service: its command, its pid
file, its log, start and stop. The CLI (scripts/proxy.py) and the login service
(scripts/services/managed.py) both build on this; it knows nothing of either."""
import contextlib
import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

import yaml

from scripts.core import configfile, paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.core.files import write_atomic
from scripts.core.http import is_live
from scripts.gateway import tiers

LOG_ROTATE_BYTES = 10 * 1024 * 1024
EFFECTIVE_CONFIG = "litellm-config.yaml"
EFFECTIVE_HEADER = ("# Written by the toolkit at each proxy start: config.yaml plus the subscription tiers\n"
                    "# (scripts/gateway/tiers.py). Edit config.yaml, not this copy.\n")


def proxy_config(cfg: settings_mod.Settings) -> Path:
    """The config LiteLLM runs: config.yaml itself, or, with a subscription token,
    config.yaml plus its credential tiers (scripts/gateway/tiers.py) under the state
    directory, written by write_proxy_config before each start."""
    return paths.state_dir() / EFFECTIVE_CONFIG if cfg.subscription_token else paths.config_file()


def write_proxy_config(cfg: settings_mod.Settings) -> Path:
    path = proxy_config(cfg)
    if path != paths.config_file():
        merged = tiers.with_tiers(configfile.load(paths.config_file()).data, cfg)
        write_atomic(path, EFFECTIVE_HEADER + yaml.safe_dump(merged, sort_keys=False), mode=0o600)
    return path


def litellm_command(cfg: settings_mod.Settings) -> List[str]:
    if not paths.venv_bin("litellm").exists():
        raise ToolkitError(f"{paths.venv_bin('litellm')} not found: run `make install`")
    # scripts.gateway.litellm_main is LiteLLM's own CLI with boto3 preloaded (see
    # there); run from PROJECT_DIR, and "litellm" in its command line marks it as ours.
    return [str(paths.venv_bin("python")), "-m", "scripts.gateway.litellm_main", "--config", str(proxy_config(cfg)),
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
    cfg.check_keyless_bind()
    if not cfg.is_loopback:
        print(f"warning: LITELLM_HOST={cfg.host} exposes the proxy beyond this machine", file=sys.stderr)
    if cfg.ollama_keyless:
        print(f"warning: {settings_mod.OLLAMA_KEYLESS} is on: /api/* (Ollama) answers programs on this machine "
              "without a key", file=sys.stderr)
    return cfg


def check_port(cfg: settings_mod.Settings) -> None:
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
    write_proxy_config(cfg)
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
        print(tail(paths.proxy_log(), 20, cfg.secrets), file=sys.stderr)
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
    write_proxy_config(cfg)
    sys.stdout.flush()
    os.chdir(paths.PROJECT_DIR)
    os.execve(command[0], command, settings_mod.proxy_environment(cfg))
