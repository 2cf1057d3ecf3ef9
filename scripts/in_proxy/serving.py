"""How the proxy listens: LiteLLM's app on Uvicorn, on a listening socket of ours that
has SO_REUSEPORT, in one process or in several workers forked after LiteLLM's imports.

Why not `uvicorn.run(workers=N)`, which LiteLLM's CLI calls:
- Uvicorn spawns fresh workers that import LiteLLM again: 23 s of start-up CPU for 2
  workers against 9 s here, where the workers are forked after the import (its pages
  are then shared).
- Uvicorn's workers share one listening socket, and which of them accepts depends on who
  wakes first (asyncio accepts a whole backlog per wake-up): issue 17 saw one worker take
  all 16 keep-alive connections in 3 of 4 runs. Here each worker binds a socket of its
  own in one SO_REUSEPORT group, and the kernel spreads connections by address hash.
- A new proxy can bind the same port while the old one still listens: a restart starts
  the new one, waits until it listens, then drains the old one (gateway/handover.py).

The socket is bound but not listening until Uvicorn serves (asyncio calls listen()
after LiteLLM's start-up event), so the kernel never queues a connection on a worker
that cannot answer yet. The app, its settings and its start-up are LiteLLM's own: its
CLI runs with --skip_server_startup first (in_proxy/litellm_main.py).
"""
import asyncio
import os
import signal
import socket
import sys
import time
from typing import Callable, Dict

import uvicorn
from prometheus_client import multiprocess

from scripts.gateway import readiness

# A worker that dies this soon after its start is not restarted again and again:
# the whole proxy stops (the service manager, if any, restarts it).
MIN_WORKER_LIFE = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STARTUP_FAILURE = 3  # uvicorn.run's exit code when the app's start-up fails


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port in the port's SO_REUSEPORT group (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host, port))
    return sock


class ClosingWhenDraining:
    """ASGI wrapper around LiteLLM's app: once the proxy drains, every response carries
    `Connection: close`, so a keep-alive client's next request opens a new connection,
    which the kernel gives to a proxy still listening. (Uvicorn's own shutdown closes
    idle keep-alive connections at once; under load the client's next request is often
    already on its way, and it fails: 8 of 8 clients in a restart before this.)"""

    def __init__(self, app) -> None:
        self.app = app
        self.draining = False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message) -> None:
            if self.draining and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)


class _Server(uvicorn.Server):
    """Uvicorn's server that says when it listens (readiness.py) and drains gently."""

    proxy_pid = 0
    gate: ClosingWhenDraining

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            readiness.announce(self.proxy_pid)

    async def shutdown(self, sockets=None) -> None:
        """Stop listening, then wait for the connections to end: busy ones after their
        response (Connection: close), idle ones at Uvicorn's keep-alive timeout (5 s).
        The stopper's drain time bounds the wait; Uvicorn's shutdown does the rest."""
        self.gate.draining = True
        for server in self.servers:
            server.close()
        while self.server_state.connections and not self.force_exit:
            await asyncio.sleep(0.05)
        await super().shutdown(sockets=sockets)


def serve(host: str, port: int, proxy_pid: int) -> None:
    """Run LiteLLM's app (set up already by its CLI) with LiteLLM's Uvicorn arguments on
    a socket of ours, until SIGTERM/SIGINT: Uvicorn then stops listening, lets the
    requests in flight finish, and runs LiteLLM's shutdown."""
    # Imported here: importing this module (tests do) must not cost LiteLLM's 7 s import.
    from litellm.proxy.proxy_cli import ProxyInitializationHelpers

    args = ProxyInitializationHelpers.get_default_unvicorn_init_args(host=host, port=port)
    loop = ProxyInitializationHelpers.get_loop_type()
    if loop:
        args["loop"] = loop
    from litellm.proxy.proxy_server import app

    args["app"] = gate = ClosingWhenDraining(app)
    sock = listening_socket(host, port)
    server = _Server(uvicorn.Config(**args))
    server.proxy_pid, server.gate = proxy_pid, gate
    server.run(sockets=[sock])
    if not server.started:  # LiteLLM's start-up failed (its traceback is in the log)
        raise SystemExit(STARTUP_FAILURE)


class Workers:
    """The parent of forked workers: starts them, forwards stop signals, and replaces a
    worker that died after a while (a crash in one request must not halve the proxy)."""

    def __init__(self, count: int, work: Callable[[], None]) -> None:
        self.count, self.work = count, work
        self.started: Dict[int, float] = {}
        self.stopping = False

    def _fork(self) -> None:
        pid = os.fork()
        if pid == 0:
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                self.work()
            except BaseException as exc:  # noqa: BLE001 (reported, then the worker exits non-zero)
                print(f"gateway worker {os.getpid()} failed: {exc!r}", file=sys.stderr, flush=True)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.started[pid] = time.monotonic()

    def _stop(self, _signum: int, _frame: object) -> None:
        """Pass a stop on as SIGTERM: a Ctrl-C already reached the workers (same process
        group), and a second SIGINT would make Uvicorn cut their requests short."""
        self.stopping = True
        for pid in list(self.started):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue

    def run(self) -> int:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._stop)
        for _ in range(self.count):
            self._fork()
        print(f"gateway: {self.count} workers (pids {', '.join(map(str, self.started))}) share the port "
              "through SO_REUSEPORT", flush=True)
        return self._reap()

    def _reap(self) -> int:
        code = 0
        while self.started:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            born = self.started.pop(pid, None)
            if born is None or self.stopping:
                continue
            lived = time.monotonic() - born
            print(f"gateway: worker {pid} exited ({_describe(status)}) after {lived:.0f}s", file=sys.stderr, flush=True)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                multiprocess.mark_process_dead(pid)  # its live gauges leave /metrics
            if lived < MIN_WORKER_LIFE:
                code = 1
                self._stop(signal.SIGTERM, None)
                continue
            self._fork()
        return code


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def clear_metrics_dir() -> None:
    """The workers' Prometheus sample files start empty on every start (LiteLLM's CLI
    would do this, but not with --skip_server_startup)."""
    where = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not where:
        return
    os.makedirs(where, mode=0o700, exist_ok=True)
    for name in os.listdir(where):
        if name.endswith(".db"):
            os.unlink(os.path.join(where, name))


def run(host: str, port: int, workers: int) -> int:
    """Serve in this process (1 worker) or in `workers` forked workers."""
    proxy_pid = os.getpid()
    if workers <= 1:
        serve(host, port, proxy_pid)
        return 0
    clear_metrics_dir()
    return Workers(workers, lambda: serve(host, port, proxy_pid)).run()

