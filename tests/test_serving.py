"""in_proxy/serving.py without LiteLLM: the forked workers' parent (real processes and
signals), the SO_REUSEPORT socket, the draining gate on a minimal ASGI app."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap

from conftest import PROJECT_DIR

from scripts.core.procs import is_alive, wait_until
from scripts.in_proxy import serving

PARENT = textwrap.dedent("""
    import os, sys, time
    from scripts.in_proxy import serving
    serving.MIN_WORKER_LIFE = float(sys.argv[2])
    def work():
        open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
        if sys.argv[3] == "fail":
            raise RuntimeError("boom")
        time.sleep(60)
    sys.exit(serving.Workers(2, work).run())
""")


def start_parent(where, min_life: float, mode: str) -> subprocess.Popen:
    where.mkdir()
    return subprocess.Popen([sys.executable, "-c", PARENT, str(where), str(min_life), mode], cwd=PROJECT_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_workers_start_and_all_stop_on_sigterm(tmp_path):
    pids = tmp_path / "pids"
    parent = start_parent(pids, 10.0, "serve")
    wait_until(lambda: len(os.listdir(pids)) == 2, 20, interval=0.05)
    workers = [int(name) for name in os.listdir(pids)]
    parent.send_signal(signal.SIGTERM)
    out, err = parent.communicate(timeout=20)
    assert parent.returncode == 0, err
    assert "2 workers" in out and "SO_REUSEPORT" in out
    assert not any(is_alive(pid) for pid in workers)


def test_a_worker_that_dies_at_once_stops_the_proxy(tmp_path):
    pids = tmp_path / "pids"
    parent = start_parent(pids, 10.0, "fail")
    out, err = parent.communicate(timeout=20)
    assert parent.returncode == 1
    assert "failed: RuntimeError('boom')" in err and "exited (exit 1)" in err


def test_a_worker_that_dies_later_is_replaced(tmp_path):
    pids = tmp_path / "pids"
    parent = start_parent(pids, 0.0, "serve")
    try:
        wait_until(lambda: len(os.listdir(pids)) == 2, 20, interval=0.05)
        first = int(os.listdir(pids)[0])
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(os.listdir(pids)) == 3, 20, interval=0.05)
        assert parent.poll() is None
    finally:
        parent.send_signal(signal.SIGTERM)
        out, err = parent.communicate(timeout=20)
    assert f"worker {first} exited (signal 9)" in err


def test_two_sockets_share_a_port_and_only_a_listening_one_takes_connections():
    first = serving.listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = serving.listening_socket("127.0.0.1", port)
    try:
        first.listen(8)
        for _ in range(8):  # the bound, not listening, second socket gets none of them
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
            first.accept()[0].close()
    finally:
        first.close()
        second.close()


def test_draining_gate_adds_connection_close_once_draining():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = serving.ClosingWhenDraining(app)

    def headers_sent() -> list:
        sent = []

        async def send(message):
            sent.append(message)

        asyncio.run(gate({"type": "http"}, None, send))
        return sent[0]["headers"]

    assert headers_sent() == [(b"content-type", b"text/plain")]
    gate.draining = True
    assert headers_sent() == [(b"content-type", b"text/plain"), (b"connection", b"close")]
