"""The side-by-side part of `make bench`: this proxy with 1 worker (as `make up` runs it
by default), with 2 workers sharing a real Redis, and the peers (perf/peers.py), all in
front of the same simulators, measured in interleaved rounds (each round runs every
column once, so a busy machine slows them alike) and reported as medians.

Figures per column: 1-client latency p50, N-client throughput and server CPU per
request, start to first answer, peak RSS, and the primary calls during a 429 window
(Anthropic rate-limits one model for 30 s; 11 requests, each on a new connection, so
several workers all get some). Last, on this proxy alone: failed requests across
`make restart` under 8 keep-alive clients.
"""
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import requests

from scripts.core.errors import ToolkitError
from scripts.core.procs import free_port, read_pid
from scripts.perf import peers as peer_mod
from scripts.perf import proc
from scripts.perf.load import Target, percentile, run
from scripts.services.redis_local import LocalRedis, server_binary
from scripts.sim.sandbox import Stack, start_stack

WINDOW_REQUESTS = 11
RESTART_CLIENTS = 8


@dataclass
class Column:
    name: str
    target: Target
    pids: Callable[[], List[int]]
    start_s: Optional[float]
    window_model: str      # what the column's clients ask for in the 429 window
    window_upstream: str   # the Anthropic id the simulator rate-limits
    figures: Dict[str, float] = field(default_factory=dict)
    rounds: List[Dict[str, float]] = field(default_factory=list)


def proxy_column(name: str, stack: Stack, model: str, start_s: float, window: tuple) -> Column:
    pid = read_pid(stack.workdir / "state" / "proxy.pid") or 0
    target = Target(name, f"{stack.base_url}/v1/messages",
                    {"x-api-key": stack.master_key, "anthropic-version": "2023-06-01",
                     "content-type": "application/json"},
                    {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello"}]})
    return Column(name, target, lambda: proc.tree(read_pid(stack.workdir / "state" / "proxy.pid") or pid),
                  start_s, window[0], window[1])


def load_round(column: Column, singles: int, loads: int, clients: int) -> None:
    one = run(column.target, 1, singles, False)
    pids = column.pids()
    before = proc.cpu_seconds(pids)
    many = run(column.target, clients, loads, False)
    after = proc.cpu_seconds(pids)
    figures = {"p50_ms": (percentile(one.latencies, 50) or 0) * 1000, "rps": many.rps,
               "failed": len(one.errors) + len(many.errors)}
    if before is not None and after is not None:
        figures["cpu_ms"] = (after - before) * 1000 / (loads + clients)
    column.rounds.append(figures)


def medians(column: Column) -> None:
    for key in column.rounds[0]:
        column.figures[key] = statistics.median(r[key] for r in column.rounds if key in r)
    pids = column.pids()
    column.figures["rss_mb"] = proc.peak_rss_mb(pids) or 0
    column.figures["worker_rss_mb"] = max((proc.peak_rss_mb([p]) or 0) for p in pids)
    column.figures["pss_mb"] = proc.pss_mb(pids) or 0
    if column.start_s is not None:
        column.figures["start_s"] = column.start_s


def window_calls(column: Column, stack: Stack) -> None:
    """Primary calls (and answers) while Anthropic rate-limits the column's model."""
    anthropic = stack.sims.anthropic
    anthropic.reset()
    anthropic.set_fault("429", count=100000, retry_after=30, models=[column.window_upstream])
    answered = 0
    try:
        for _ in range(WINDOW_REQUESTS):
            reply = requests.post(column.target.url, headers=column.target.headers, timeout=60,
                                  json={**column.target.body, "model": column.window_model})
            answered += reply.status_code == 200
    finally:
        anthropic.clear_fault()
    column.figures["window_calls"] = len(stack.primary_calls(column.window_upstream))
    column.figures["window_answered"] = answered


def restart_failures(stack: Stack, target: Target) -> Dict[str, float]:
    """Failed requests of RESTART_CLIENTS keep-alive clients across `scripts.proxy restart`."""
    over, outcome = threading.Event(), {}
    load = threading.Thread(target=lambda: outcome.setdefault(
        "result", run(target, RESTART_CLIENTS, 200000, False, over.is_set)))
    load.start()
    time.sleep(2)
    started = time.monotonic()
    try:
        done = stack.script("proxy", "restart", timeout=300)
        took = time.monotonic() - started
        time.sleep(2)
    finally:
        over.set()
        load.join(timeout=120)
    result = outcome.get("result")
    if done.returncode != 0 or result is None:
        return {"restart_failed": -1.0, "restart_s": took}
    return {"restart_failed": float(len(result.errors)), "restart_requests": float(len(result.latencies)),
            "restart_s": took}


def start_redis_stack(workdir: Path, sims, notes: List[str]) -> Optional[tuple]:
    """A Redis and a proxy with 2 workers sharing it (None, with a note, without redis-server)."""
    try:
        server_binary()
    except ToolkitError as exc:  # no redis-server: the column is skipped, the note names the fix
        notes.append(f"proxy, 2 workers + Redis skipped: {exc}")
        return None
    redis = LocalRedis(workdir / "redis", free_port(), "bench-" + str(time.time_ns()))
    redis.start()
    started = time.monotonic()
    stack = start_stack(workdir / "two-workers", shared_sims=sims,
                        env_values={"REDIS_URL": redis.url, "GATEWAY_WORKERS": "2"})
    return redis, stack, time.monotonic() - started


def litellm_version(venv: Path) -> str:
    """The LiteLLM version installed in another virtualenv (read from its metadata, not imported)."""
    found = sorted(venv.glob("lib/python*/site-packages/litellm-*.dist-info"))
    if not found:
        raise ToolkitError(f"--compare-venv {venv}: no LiteLLM installed there: create it with `uv venv` and "
                           "`uv pip sync` of a requirements.lock")
    return found[-1].name[len("litellm-"):-len(".dist-info")]


def start_compare_stack(venv: Path, workdir: Path, sims) -> tuple:
    """A 1-worker proxy of this tree run by another virtualenv's Python (another LiteLLM)."""
    version = litellm_version(venv)
    started = time.monotonic()
    stack = start_stack(workdir / "compare-venv", shared_sims=sims, extra_env={"GATEWAY_VENV": str(venv)})
    return f"proxy, LiteLLM {version}", stack, time.monotonic() - started


def measure(stack: Stack, direct: Target, model: str, args, workdir: Path, say) -> dict:
    """Every column, interleaved; the peers and the 2-worker proxy are started here and
    stopped before returning. The bench's own proxy is restarted last."""
    notes: List[str] = []
    say(">> side by side: starting a 2-worker proxy on a real Redis, and the peers")
    extra = None if getattr(args, "compare_venv", None) else start_redis_stack(workdir, stack.sims, notes)
    compare = start_compare_stack(Path(args.compare_venv), workdir, stack.sims) if getattr(
        args, "compare_venv", None) else None
    running, skipped = peer_mod.start_all(args.peers, stack.sims, workdir, say)
    notes += skipped
    columns = [Column("direct", direct, lambda: [stack.sims.process.pid], None, "", ""),
               proxy_column("proxy, 1 worker", stack, model, float(stack.logs["start_seconds"]),
                            ("claude-haiku-4-5", "claude-haiku-4-5-20251001"))]
    if extra:
        columns.append(proxy_column("proxy, 2 workers + Redis", extra[1], model, extra[2],
                                    ("claude-opus-4-1", "claude-opus-4-1-20250805")))
    if compare:
        columns.append(proxy_column(compare[0], compare[1], model, compare[2],
                                    ("claude-opus-4-1", "claude-opus-4-1-20250805")))
    columns += [Column(p.name, p.target, p.pids, p.start_s, peer_mod.MODEL, peer_mod.MODEL) for p in running]
    try:
        for number in range(args.rounds):
            say(f">> side by side, round {number + 1} of {args.rounds}")
            for column in columns:
                load_round(column, args.side_requests, args.side_load_requests, args.clients)
                say(f"   {column.name:<28} p50 {column.rounds[-1]['p50_ms']:6.1f} ms  "
                    f"{column.rounds[-1]['rps']:7.1f} req/s  CPU/request {column.rounds[-1].get('cpu_ms', 0):5.2f} ms")
        for column in columns:
            medians(column)
            if column.name != "direct":
                window_calls(column, stack)
        say(f">> make restart of the bench's proxy under {RESTART_CLIENTS} clients")
        restart = restart_failures(stack, columns[1].target)
    finally:
        for peer in running:
            peer.stop()
        if extra:
            extra[1].stop()
            extra[0].stop()
        if compare:
            compare[1].stop()
    return {"columns": columns, "notes": notes, "restart": restart}


FIGURES = [  # key, label, format
    ("p50_ms", "1 client latency p50 (ms)", "{:.1f}"),
    ("rps", "{clients} clients throughput (req/s)", "{:.0f}"),
    ("cpu_ms", "server CPU per request (ms)", "{:.2f}"),
    ("start_s", "start to first answer (s)", "{:.1f}"),
    ("rss_mb", "peak RSS, all processes (MiB)", "{:.0f}"),
    ("worker_rss_mb", "peak RSS, largest process (MiB)", "{:.0f}"),
    ("pss_mb", "memory now, shared pages split (PSS, MiB)", "{:.0f}"),
    ("window_calls", "primary calls in a 429 window (11 requests)", "{:.0f}"),
    ("window_answered", "  of the 11, answered (200)", "{:.0f}"),
    ("failed", "failed requests in the load runs", "{:.0f}"),
]


def render(result: dict, clients: int, rounds: int) -> str:
    columns: List[Column] = result["columns"]
    width = max(12, *(len(c.name) + 2 for c in columns))
    lines = [f"side by side: medians of {rounds} interleaved rounds; ratios are to 'proxy, 1 worker' of this run", ""]
    lines.append(f"{'figure':<46}" + "".join(f"{c.name:>{width}}" for c in columns))
    lines.append("-" * len(lines[-1]))
    base = columns[1].figures if len(columns) > 1 else {}
    for key, label, fmt in FIGURES:
        cells = []
        for column in columns:
            value = column.figures.get(key)
            text = "-" if value is None else fmt.format(value)
            if key in ("rps", "cpu_ms", "p50_ms") and value and base.get(key) and column is not columns[1]:
                text += f" ({value / base[key]:.2f}x)"
            cells.append(f"{text:>{width}}")
        lines.append(f"{label.format(clients=clients):<46}" + "".join(cells))
    restart = result["restart"]
    if restart.get("restart_failed", -1) >= 0:
        lines.append(f"\nmake restart under {RESTART_CLIENTS} clients (proxy, 1 worker): "
                     f"{restart['restart_failed']:.0f} failed of {restart['restart_requests']:.0f} requests; "
                     f"the restart took {restart['restart_s']:.1f}s")
    else:
        lines.append(f"\nmake restart under {RESTART_CLIENTS} clients: the restart itself failed")
    lines += targets(result)
    lines += [f"  - {note}" for note in result["notes"]]
    return "\n".join(lines)


def targets(result: dict) -> List[str]:
    """Issue 17's targets, judged on this run (a missing column or figure: not judged)."""
    by_name = {c.name: c.figures for c in result["columns"]}
    direct, one, two = by_name.get("direct", {}), by_name.get("proxy, 1 worker", {}), \
        by_name.get("proxy, 2 workers + Redis", {})
    checks = []
    if one.get("rps") and two.get("rps"):
        checks.append((f"2 workers + Redis throughput {two['rps'] / one['rps']:.2f}x of 1 worker", ">= 2.5x",
                       two["rps"] / one["rps"] >= 2.5))
    if one.get("p50_ms") is not None and direct.get("p50_ms") is not None:
        added = one["p50_ms"] - direct["p50_ms"]
        checks.append((f"1 client overhead p50 +{added:.1f} ms", "<= 5 ms", added <= 5))
    if one.get("start_s") is not None:
        checks.append((f"start to first answer {one['start_s']:.1f} s", "<= 4 s", one["start_s"] <= 4))
    workers = [c for c in (one, two) if c.get("worker_rss_mb")]
    if workers:
        largest = max(c["worker_rss_mb"] for c in workers)
        checks.append((f"peak RSS per worker {largest:.0f} MiB", "<= 300 MiB", largest <= 300))
    if result["restart"].get("restart_failed", -1) >= 0:
        failed = result["restart"]["restart_failed"]
        checks.append((f"failed requests across make restart {failed:.0f}", "= 0", failed == 0))
    calls = [c["window_calls"] for c in (one, two) if "window_calls" in c]
    if calls:
        checks.append((f"primary calls in a 429 window {', '.join(f'{n:.0f}' for n in calls)}", "= 1",
                       all(n == 1 for n in calls)))
    return ["", "targets (issue 17):"] + [f"  {text:<58} {goal:<10} {'met' if ok else 'MISSED'}"
                                          for text, goal, ok in checks]


def as_json(result: dict) -> dict:
    return {"columns": {c.name: {**c.figures, "rounds": c.rounds} for c in result["columns"]},
            "restart": result["restart"], "notes": result["notes"]}
