"""`make bench` parts that can be checked without starting a proxy: the load
generator and the signed Bedrock request against the real simulators, the
/proc readers against real processes, the refusal of a foreign proxy, the
statistics and the report. (The full run starts a proxy: `make bench`.)"""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import bench
from scripts.core import configfile, paths
from scripts.core.errors import ToolkitError
from scripts.perf import failover as bench_failover
from scripts.perf import proc as bench_proc
from scripts.perf.load import Target, percentile, run
from scripts.perf.report import Row, judge, render, to_json
from scripts.sim.sandbox import API_KEY, Stack, start_simulators

MESSAGES = {"max_tokens": 32, "messages": [{"role": "user", "content": "Say hello"}]}


@pytest.fixture(scope="module")
def sims():
    started = start_simulators()
    yield started
    started.stop()


def _direct(sims, key: str = API_KEY) -> Target:
    return Target("direct", f"{sims.anthropic_url}/v1/messages",
                  {"x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json"},
                  {"model": "claude-sonnet-4-5-20250929", **MESSAGES})


@pytest.mark.parametrize("stream", [False, True])
def test_load_counts_every_request_and_times_first_tokens(sims, stream):
    result = run(_direct(sims), clients=4, total=40, stream=stream)
    assert result.errors == []
    assert len(result.latencies) == 40 and result.rps > 0 and result.wall > 0
    assert len(result.ttfts) == (40 if stream else 0)
    assert all(0 < t <= lat for t, lat in zip(result.ttfts, result.latencies))


def test_load_stops_with_one_line_when_the_warm_up_fails(sims):
    with pytest.raises(ToolkitError, match="direct .* failed the warm-up: HTTP 401"):
        run(_direct(sims, key="not-an-anthropic-key"), clients=2, total=10, stream=False)


def test_direct_bedrock_request_is_signed_and_accepted(sims):
    stack = Stack(Path("."), sims, {}, port=0)
    elapsed = bench_failover.Prober(stack).bedrock_direct("/model/us.anthropic.claude-opus-4-8/invoke", "us-west-2")
    assert 0 < elapsed < 10_000
    seen = [r for r in sims.bedrock.requests() if r["path"].endswith("/invoke")]
    assert seen[-1]["status"] == 200 and seen[-1]["auth_kind"] == "sigv4"


def test_failover_models_have_distinct_ids_and_a_bedrock_fallback():
    config = configfile.load(paths.PROJECT_DIR / "config.yaml")
    pairs = bench_failover.failover_pairs(config, ["claude-sonnet-4-5-20250929"])
    ids = [p.anthropic_id for p in pairs]
    assert len(pairs) >= 5
    assert all(a not in b for a in ids for b in ids if a != b)
    assert not any("claude-sonnet-4-5-20250929" in i for i in ids)
    assert "fallback-test" not in [p.name for p in pairs]  # its Anthropic side is a closed port
    assert ":" not in pairs[0].bedrock_id


def _listener(port_holder: str = "") -> subprocess.Popen:
    """A process listening on a free port, printing the port; `port_holder` ends up in its command line."""
    code = ("import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
            f"print(s.getsockname()[1], flush=True); time.sleep(60)  # {port_holder}")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_proc_readers_see_the_process_tree_its_cpu_memory_and_port():
    child = _listener()
    try:
        port = int(child.stdout.readline())
        members = bench_proc.tree(child.pid)
        assert members == [child.pid]
        assert child.pid in bench_proc.tree(bench_proc.os.getpid())
        assert bench_proc.peak_rss_mb([child.pid]) > 1
        before = bench_proc.cpu_seconds([bench_proc.os.getpid()])
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:
            pass
        assert bench_proc.cpu_seconds([bench_proc.os.getpid()]) - before >= 0.2
        assert bench_proc.owns_port(child.pid, port) is True
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            assert bench_proc.owns_port(child.pid, unused.getsockname()[1]) is False
    finally:
        child.kill()
        child.wait()


def _stack_with_pid(tmp_path: Path, pid: int, port: int) -> Stack:
    (tmp_path / "state").mkdir(exist_ok=True)
    (tmp_path / "state" / "proxy.pid").write_text(f"{pid}\n")
    return Stack(tmp_path, None, {}, port=port)


def test_refuses_a_pid_that_is_not_a_litellm_proxy(tmp_path):
    other = _listener()
    try:
        port = int(other.stdout.readline())
        with pytest.raises(ToolkitError, match=f"pid {other.pid} .* is not a LiteLLM proxy"):
            bench.own_proxy(_stack_with_pid(tmp_path, other.pid, port))
    finally:
        other.kill()
        other.wait()


def test_refuses_a_port_answered_by_another_process(tmp_path):
    ours, foreign = _listener("litellm"), _listener()
    try:
        int(ours.stdout.readline())
        foreign_port = int(foreign.stdout.readline())
        with pytest.raises(ToolkitError, match=f"port {foreign_port} is answered by .*not the bench's proxy"):
            bench.own_proxy(_stack_with_pid(tmp_path, ours.pid, foreign_port))
        with pytest.raises(ToolkitError, match="left no pid file"):
            bench.own_proxy(Stack(tmp_path / "empty", None, {}, port=foreign_port))
    finally:
        for proc in (ours, foreign):
            proc.kill()
            proc.wait()


def test_percentile_is_nearest_rank():
    values = [v / 1000 for v in range(100, 0, -1)]  # 0.001 .. 0.100, unsorted
    assert percentile(values, 50) == 0.050
    assert percentile(values, 95) == 0.095
    assert percentile(values, 99) == 0.099
    assert percentile([0.2], 99) == 0.2
    assert percentile([], 50) is None


def test_rows_give_ratio_difference_and_verdict():
    latency = judge(Row("s", "1 client latency p50", "ms", 2.0, 9.0), "+<=5 ms", lambda r: r.added <= 5)
    rate = judge(Row("s", "throughput", "req/s", 1000.0, 250.0), ">=200/s", lambda r: r.proxy >= 200)
    missing = judge(Row("s", "status", "s", None, None), "<=1 s", lambda r: r.proxy <= 1)
    assert (latency.ratio, latency.added, latency.met) == (4.5, 7.0, False)
    assert (rate.ratio, rate.added, rate.met) == (0.25, None, True)
    assert missing.met is None and missing.ratio is None
    text = render([latency, rate, missing], {"machine": "2 cores"}, ["a note"])
    assert "machine          2 cores" in text and "4.50x" in text and "MISSED" in text and "met" in text
    assert "n/a" in text and "  - a note" in text
    data = json.loads(to_json([latency], {"machine": "2 cores"}, []))
    assert data["rows"][0]["ratio"] == 4.5 and data["rows"][0]["added"] == 7.0


def test_bad_request_counts_are_refused(capsys):
    with pytest.raises(SystemExit) as exited:
        bench.parse_args(["--requests", "0"])
    assert exited.value.code == 2
    assert "'0' is not a positive whole number" in capsys.readouterr().err


def test_unknown_model_is_refused_before_anything_starts(capsys):
    started = time.monotonic()
    assert bench.main(["--model", "claude-nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --model claude-nope: not a model name") and "make show-models" in err[-1]
    assert time.monotonic() - started < 5  # no proxy was started
