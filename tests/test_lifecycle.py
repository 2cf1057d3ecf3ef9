"""up/down against stand-in processes (no proxy start): the pid file identifies our
proxy precisely, and a stop waits for requests in flight up to the drain time, then
kills. The real proxy's drain is proved in test_e2e_lifecycle.py."""
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core.procs import free_port, is_alive, start_time, wait_until
from scripts.services.render import Context, render

# A server that ignores SIGTERM and keeps its one client: a proxy whose request in
# flight never ends. Its command line names our proxy's module and a --port, like ours.
STUBBORN = textwrap.dedent("""
    import signal, socket, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    server = socket.create_server(("127.0.0.1", int(sys.argv[3])))
    print("ready", flush=True)
    client, _ = server.accept()
    time.sleep(120)
""")


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=60)


def started(*argv):
    """A process in its own session (as `make up` starts the proxy), once it runs."""
    process = subprocess.Popen(list(argv), start_new_session=True, stdout=subprocess.PIPE, text=True)
    wait_until(lambda: start_time(process.pid) is not None, 5, interval=0.05)
    return process


@pytest.fixture
def pid_file(isolated):
    path = isolated / "state" / "proxy.pid"
    path.parent.mkdir()
    return path


@pytest.fixture
def processes():
    running = []
    yield running
    for process in running:
        process.kill()
        process.wait()


@pytest.mark.parametrize("record", ["legacy", "wrong start time", "right start time"])
def test_unrelated_process_with_litellm_in_its_arguments_is_not_our_proxy(env_file, pid_file, processes, record):
    other = started(sys.executable, "-c", "import time; time.sleep(60)", "litellm", "--config", "litellm.yaml")
    processes.append(other)
    pid_file.write_text({"legacy": f"{other.pid}\n", "wrong start time": f"{other.pid}\n1\n",
                         "right start time": f"{other.pid}\n{start_time(other.pid)}\n"}[record])
    with socket.socket() as holder:  # `up` gets as far as the port check, past "already running"
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(port))
        up = run("scripts.proxy", "up")
    assert "already running" not in up.stdout and f"port {port} on 127.0.0.1 is in use" in up.stderr
    assert other.poll() is None
    pid_file.write_text(f"{other.pid}\n")
    down = run("scripts.proxy", "down")
    assert down.stdout.strip() == (f">> proxy is not running (removed a stale pid file: pid {other.pid} is "
                                   "another process now, left alone)")
    assert other.poll() is None and not pid_file.exists()


def test_down_stops_the_process_it_recorded(env_file, pid_file, processes):
    ours = started(sys.executable, "-c", "import time; time.sleep(60)", "-m", "scripts.in_proxy.litellm_main")
    processes.append(ours)
    pid_file.write_text(f"{ours.pid}\n{start_time(ours.pid)}\n")
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    down = run("scripts.proxy", "down")
    assert down.returncode == 0 and down.stdout.strip() == f">> proxy stopped (pid {ours.pid})"
    assert ours.wait(timeout=5) is not None and not pid_file.exists()


def test_down_kills_after_the_drain_time_with_the_request_still_in_flight(env_file, pid_file, processes):
    port = free_port()
    stubborn = started(sys.executable, "-c", STUBBORN, "scripts.in_proxy.litellm_main", "--port", str(port))
    processes.append(stubborn)
    assert stubborn.stdout.readline().strip() == "ready"
    pid_file.write_text(f"{stubborn.pid}\n{start_time(stubborn.pid)}\n")
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, GATEWAY_DRAIN_TIMEOUT="2")
    with socket.create_connection(("127.0.0.1", port)):
        began = time.monotonic()
        down = run("scripts.proxy", "down")
        took = time.monotonic() - began
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        f">> draining: the proxy (pid {stubborn.pid}) takes no new requests and waits up to 2s for 1 request "
        "in flight (GATEWAY_DRAIN_TIMEOUT in .env; Ctrl-C stops it now)",
        f">> proxy killed (pid {stubborn.pid}): the drain time of 2s passed with 1 request in flight"]
    assert took >= 2 and stubborn.wait(timeout=5) is not None and not is_alive(stubborn.pid)
    assert not pid_file.exists()


@pytest.mark.parametrize("platform,line", [("linux", "TimeoutStopSec=630s"),
                                           ("macos", "<key>ExitTimeOut</key>\n\t<integer>630</integer>")])
def test_service_stop_timeout_follows_the_drain_time(isolated, env_file, platform, line):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, GATEWAY_DRAIN_TIMEOUT="600")
    ctx = Context.current()
    assert ctx.drain_timeout == 600
    assert line in render("proxy", platform, ctx)[0].content
