"""`make restart` that drops no request: the new proxy starts beside the old one.

The proxy's listening sockets have SO_REUSEPORT (gateway/serving.py), so the new proxy
binds the same port while the old one still listens and answers. Once every worker of
the new one listens (gateway/readiness.py), the pid file names it and the old one is
drained: it stops listening, finishes its requests in flight, and exits. Clients never
find the port closed; a keep-alive connection to the old proxy is closed between two
requests, and the next request opens a new one, which the new proxy answers.

If the new proxy fails to start, the old one keeps running, untouched.
"""
import sys
import time

from scripts.core import paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.gateway import process, readiness

# Until `make down`'s drain is shared (gateway/process.py), the old proxy gets this long to
# finish its requests in flight after SIGTERM before it is killed: a stream silent for
# GATEWAY_STREAM_TIMEOUT (120 s) has failed anyway.
DRAIN_SECONDS = 150.0


def _new_proxy_died(child) -> str:
    return "the new proxy exited during start-up" if child.poll() is not None else ""


def wait_listening(child, workers: int, timeout: float) -> float:
    """Seconds until every worker of the new proxy listens."""
    where = process.ready_dir()
    try:
        return procs.wait_until(lambda: readiness.count(where, child.pid) >= workers, timeout, interval=0.1,
                                abort=lambda: _new_proxy_died(child) or None)
    except TimeoutError:
        raise TimeoutError(f"the new proxy did not listen within {timeout:.0f}s") from None


def restart(cfg: settings_mod.Settings) -> int:
    """Start a new proxy beside the running one, then drain the old one (or plain start)."""
    old = process.running_pid()
    if old is None:
        return process.start(cfg)
    started = time.monotonic()
    child = process.spawn(cfg)
    print(f">> starting a new proxy (pid {child.pid}) beside the running one (pid {old}); "
          f"log: {paths.proxy_log()}", flush=True)
    try:
        wait_listening(child, cfg.workers, paths.start_timeout())
    except (RuntimeError, TimeoutError) as exc:
        print(f">> the running proxy (pid {old}) keeps serving", file=sys.stderr)
        process.failed_start(cfg, child, exc)
    paths.pid_file().write_text(f"{child.pid}\n")
    print(f">> new proxy listening after {time.monotonic() - started:.1f}s; draining the old one (pid {old})",
          flush=True)
    procs.terminate(old, timeout=DRAIN_SECONDS)
    readiness.forget_all_but(process.ready_dir(), child.pid)
    try:
        process.wait_until_live(cfg, child.pid, 10.0)
    except (RuntimeError, TimeoutError) as exc:
        raise ToolkitError(f"the new proxy (pid {child.pid}): {exc}: see `make logs`") from None
    print(f">> proxy restarted at {cfg.base_url} (pid {child.pid}; the old one drained and stopped)")
    return 0
