"""End to end, "connection refused": a proxy whose ANTHROPIC_API_BASE is a port nothing
accepts on. Every client gets a complete answer from Bedrock; with no retry-after the
deployment cools down for cooldown_time (60 s), so when the port starts accepting
connections during that time, none arrives (recovery itself is not waited for).
"""
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import claude_cli
import codex_cli
import pytest
from e2e_clients import CLIENTS, Target
from e2e_matrix import ALWAYS, ModelPool, assign, upstream_models
from harness import start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def closed_port():
    """Bound but not listening: connections are refused, and no one else can take the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, closed_port):
    port = closed_port.getsockname()[1]
    running = start_stack(tmp_path_factory.mktemp("e2e-refused"), anthropic_base=f"http://127.0.0.1:{port}")
    yield running
    running.stop()


def count_connections(sock: socket.socket, stop: threading.Event, seen: list) -> None:
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        seen.append(conn.getpeername())
        conn.close()


def test_refused_primary_falls_back_and_stays_cooled_down(stack, closed_port, tmp_path):
    target = Target(stack.base_url, stack.master_key, claude=claude_cli.claude_binary(),
                    codex=codex_cli.codex_binary(), home=tmp_path)
    clients = ALWAYS + ("responses-tools",)  # one model id each
    pool = ModelPool(upstream_models())
    models = assign(list(clients), pool.lease(len(clients)), pool.upstream)
    with ThreadPoolExecutor(len(models)) as workers:
        first = dict(zip(models, workers.map(lambda c: CLIENTS[c](target, models[c]), models)))
    for client, outcome in first.items():
        assert outcome.complete and outcome.answered_by == "bedrock", (client, outcome)
    assert stack.sims.anthropic.requests() == []

    closed_port.listen(16)  # Anthropic "is back": any attempt would now be seen
    stop, seen = threading.Event(), []
    listener = threading.Thread(target=count_connections, args=(closed_port, stop, seen))
    listener.start()
    try:
        with ThreadPoolExecutor(len(models)) as workers:
            again = dict(zip(models, workers.map(lambda c: CLIENTS[c](target, models[c]), models)))
    finally:
        stop.set()
        listener.join()
    for client, outcome in again.items():
        assert outcome.complete and outcome.answered_by == "bedrock", (client, outcome)
    assert seen == [], "the primary was called again during cooldown_time"
    assert len(stack.fallback_calls()) == sum(o.requests for o in [*first.values(), *again.values()])
