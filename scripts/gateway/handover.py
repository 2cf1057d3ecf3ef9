"""`make restart` that drops no request: the new proxy starts beside the old one.

The proxy's listening sockets have SO_REUSEPORT (in_proxy/serving.py), so the new proxy
binds the same port while the old one still listens and answers. Once every worker of
the new one listens (gateway/readiness.py), the pid file names it and the old one is
drained as `make down` drains (gateway/drain.py): it stops listening, answers what
still arrives on its open connections with `Connection: close`, finishes its requests
in flight, and exits. Clients never find the port closed.

The new proxy's start is also the check of the new config: if LiteLLM rejects it, or the
new proxy fails in any other way, the old one keeps serving, untouched.
"""
import sys
import time
from subprocess import Popen

from scripts.core import paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.gateway import config_check, drain, process, readiness


def _died(child: Popen):
    return "the new proxy exited during start-up" if child.poll() is not None else None


def wait_listening(child: Popen, workers: int, timeout: float) -> float:
    """Seconds until every worker of the new proxy listens."""
    where = readiness.ready_dir()
    try:
        return procs.wait_until(lambda: readiness.count(where, child.pid) >= workers, timeout, interval=0.1,
                                abort=lambda: _died(child))
    except TimeoutError:
        raise TimeoutError(f"the new proxy did not listen within {timeout:.0f}s") from None


def _new_proxy_failed(cfg: settings_mod.Settings, child: Popen, exc: Exception, log_start: int, old: int) -> None:
    """Stop the new proxy, keep the old one, raise the one-line error."""
    procs.terminate(child.pid)
    child.poll()
    readiness.forget_all_but(readiness.ready_dir(), old)
    said = config_check.complaint_in_log(process.log_since(paths.proxy_log(), log_start))
    if said:
        raise ToolkitError(f"LiteLLM rejects {paths.config_file()}: {process.hide_secrets(said, cfg.secrets)}; "
                           "the running proxy was left as it was: fix config.yaml, then `make restart`")
    print(f">> last lines of {paths.proxy_log()}:", file=sys.stderr)
    print(process.tail(paths.proxy_log(), 20, cfg.secrets), file=sys.stderr)
    raise ToolkitError(f"{exc}; the running proxy (pid {old}) was left as it was: see the log lines above")


def restart(cfg: settings_mod.Settings) -> int:
    """Start a new proxy beside the running one, then drain the old one (or a plain start)."""
    old = process.running_pid()
    if old is None:
        return process.start(cfg)
    started = time.monotonic()
    child, log_start = process.spawn(cfg)
    print(f">> starting a new proxy (pid {child.pid}) beside the running one (pid {old}); "
          f"log: {paths.proxy_log()}", flush=True)
    try:
        wait_listening(child, cfg.workers, paths.start_timeout())
    except (RuntimeError, TimeoutError) as exc:
        _new_proxy_failed(cfg, child, exc, log_start, old)
    process.record_pid(child.pid)
    print(f">> new proxy listening after {time.monotonic() - started:.1f}s; draining the old one (pid {old})",
          flush=True)
    # No count of requests in flight: the port's connections are now the new proxy's too.
    drain.stop_draining(old, None, process.drain_timeout())
    readiness.forget_all_but(readiness.ready_dir(), child.pid)
    try:
        process.wait_until_live(cfg, child.pid, 10.0)
    except (RuntimeError, TimeoutError) as exc:
        raise ToolkitError(f"the new proxy (pid {child.pid}): {exc}: see `make logs`") from None
    print(f">> proxy restarted at {cfg.base_url} (pid {child.pid})")
    return 0
