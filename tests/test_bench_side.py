"""The side-by-side part of `make bench` without a proxy: peers forced onto the loopback
address (real node), a peer that cannot be had is skipped with the reason, the load
generator stops on a condition, the table."""
import os
import shutil
import socket
import subprocess
import time

import pytest

from scripts import bench
from scripts.perf import peers, proc, sidebyside
from scripts.perf.load import Target, run
from scripts.sim.sandbox import API_KEY, start_simulators


@pytest.fixture(scope="module")
def sims():
    started = start_simulators()
    yield started
    started.stop()


def test_loopback_check_tells_127_from_every_interface():
    with socket.socket() as inside, socket.socket() as everywhere:
        inside.bind(("127.0.0.1", 0))
        inside.listen(1)
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen(1)
        assert peers.listens_on_loopback_only(inside.getsockname()[1])
        assert not peers.listens_on_loopback_only(everywhere.getsockname()[1])


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed (.ci/run installs it)")
def test_the_shim_keeps_a_node_server_that_asks_for_every_interface_on_loopback():
    port = peers.procs.free_port()
    script = f"require('http').createServer((q, s) => s.end('ok')).listen({port}, () => console.log('up'))"
    server = subprocess.Popen(["node", "--require", str(peers.LOOPBACK_SHIM), "-e", script],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "up"
        assert peers.listens_on_loopback_only(port)
        lines = [line for line in open("/proc/net/tcp").read().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].rsplit(":", 1)[1], 16) == port]
        assert [line.split()[1].split(":")[0] for line in lines] == ["0100007F"]
    finally:
        server.kill()
        server.wait()


def test_a_peer_without_npm_is_skipped_with_the_reason(sims, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_PEERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    said = []
    running, skipped = peers.start_all(["portkey"], sims, tmp_path, said.append)
    assert running == []
    assert skipped == ["Portkey gateway (@portkey-ai/gateway@1.15.2) skipped: Node.js/npm not installed "
                       "(Debian: apt-get install nodejs npm)"]
    assert said == [f"   {skipped[0]}"]


def test_unknown_peer_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--peers", "portkey,kong"])
    assert "unknown peer 'kong': use portkey, ccr or none" in capsys.readouterr().err
    assert bench.parse_args(["--peers", "none"]).peers == []


def test_load_stops_when_told(sims):
    target = Target("direct", f"{sims.anthropic_url}/v1/messages",
                    {"x-api-key": API_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"},
                    {"model": "claude-sonnet-4-5-20250929", "max_tokens": 8,
                     "messages": [{"role": "user", "content": "hi"}]})
    deadline = time.monotonic() + 0.5
    result = run(target, 4, 10_000_000, False, until=lambda: time.monotonic() > deadline)
    assert result.errors == [] and 0 < len(result.latencies) < 10_000_000
    assert result.wall < 5


def test_pss_splits_what_rss_counts_whole():
    own = [os.getpid()]
    assert 0 < proc.pss_mb(own) <= proc.peak_rss_mb(own)


def test_table_has_a_column_each_and_ratios_to_one_worker():
    target = Target("x", "http://127.0.0.1:1/", {}, {})
    columns = [sidebyside.Column(name, target, list, None, "", "") for name in ("direct", "proxy, 1 worker", "peer")]
    for column, rps in zip(columns, (1000.0, 50.0, 200.0)):
        column.figures = {"p50_ms": 10.0, "rps": rps, "cpu_ms": 5.0, "window_calls": 1.0}
    text = sidebyside.render({"columns": columns, "notes": ["claude-code-router skipped: why"],
                              "restart": {"restart_failed": 0.0, "restart_requests": 900.0, "restart_s": 12.0}}, 16, 3)
    assert "medians of 3 interleaved rounds" in text
    throughput = next(line for line in text.splitlines() if line.startswith("16 clients throughput"))
    assert "1000 (20.00x)" in throughput and "200 (4.00x)" in throughput
    assert "0 failed of 900 requests" in text and "claude-code-router skipped: why" in text
    assert "failed requests across make restart 0" in text and "primary calls in a 429 window 1" in text
    assert "1 client overhead p50 +0.0 ms" in text
