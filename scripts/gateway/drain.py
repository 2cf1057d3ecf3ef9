"""Stop the proxy without cutting the answers it is sending.

On SIGTERM, Uvicorn (which LiteLLM's CLI runs, without a graceful-shutdown timeout)
closes its listening socket at once, so new requests are refused and go nowhere
half-done, closes idle keep-alive connections, lets every request in flight
finish, streams included, then runs LiteLLM's shutdown and exits. What it does not
have is a deadline: that is the drain time (GATEWAY_DRAIN_TIMEOUT), after which the
process group is killed. While it waits, the open client connections on the
proxy's port are the requests in flight (the idle ones are gone by then).
"""
import signal
import sys
import time
from typing import Optional

from scripts.core import procs
from scripts.core.errors import warn

SETTLE = 0.3  # seconds for Uvicorn to close idle connections after SIGTERM
KILL_WAIT = 10.0


def _requests(count: int) -> str:
    return f"{count} request{'' if count == 1 else 's'} in flight"


def _gone(pid: int) -> bool:
    return not procs.is_alive(pid) or procs.is_zombie(pid)


class Drain:
    """Says what the stop is waiting for, once per change (a line each, so a log or a
    test sees every step; a terminal gets the same lines)."""

    def __init__(self, pid: int, port: Optional[int], timeout: float):
        self.pid, self.port, self.timeout = pid, port, timeout
        self.started = time.monotonic()
        self.last: Optional[int] = None
        self.first: Optional[int] = None

    def in_flight(self) -> Optional[int]:
        return procs.connections_to(self.port) if self.port else None

    def report(self, elapsed: float) -> None:
        count = self.in_flight()
        if count is None or count == self.last:
            return
        if self.first is None and count:
            self.first = count
            print(f">> draining: the proxy (pid {self.pid}) takes no new requests and waits up to "
                  f"{self.timeout:.0f}s for {_requests(count)} (GATEWAY_DRAIN_TIMEOUT in .env; Ctrl-C stops it now)",
                  flush=True)
        elif self.first is not None:
            print(f">> draining: {_requests(count)} after {elapsed:.0f}s", flush=True)
        self.last = count

    def finished(self) -> str:
        if self.first:
            return f" after its {_requests(self.first)} finished ({time.monotonic() - self.started:.1f}s)"
        return ""


def stop_draining(pid: int, port: Optional[int], timeout: float) -> None:
    """SIGTERM, wait up to timeout for the requests in flight and the exit, then SIGKILL."""
    drain = Drain(pid, port, timeout)
    procs.signal_group(pid, signal.SIGTERM)
    time.sleep(SETTLE)
    try:
        procs.wait_until(lambda: _gone(pid), timeout, interval=0.2, progress=drain.report)
        print(f">> proxy stopped (pid {pid}){drain.finished()}")
        return
    except TimeoutError:
        left = drain.in_flight()
        reason = f"the drain time of {timeout:.0f}s passed" + (f" with {_requests(left)}" if left else "")
    except KeyboardInterrupt:
        left = drain.in_flight()
        reason = "interrupted" + (f" with {_requests(left)}" if left else "")
        _kill(pid)
        print(f"\n>> proxy killed (pid {pid}): {reason}", file=sys.stderr)
        raise
    _kill(pid)
    print(f">> proxy killed (pid {pid}): {reason}")


def _kill(pid: int) -> None:
    procs.signal_group(pid, signal.SIGKILL)
    try:
        procs.wait_until(lambda: _gone(pid), KILL_WAIT, interval=0.1)
    except TimeoutError:
        warn(f"pid {pid} outlived SIGKILL by {KILL_WAIT:.0f}s (stuck in the kernel?): check `ps -p {pid}`")
