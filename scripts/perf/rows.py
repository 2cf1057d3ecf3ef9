"""Turns the measurements of `make bench` into report rows, with the issue's targets.

Targets (2 cores): p50 overhead <= 5 ms at 1 client; >= 200 requests/s at 16
clients with p95 <= 150 ms; streaming TTFT overhead <= 5 ms; first failover
<= 50 ms over a request during cooldown; start-to-healthy <= 5 s; status <= 1 s."""
from typing import Dict, List, Optional, Tuple

from scripts.perf.failover import Failover
from scripts.perf.load import Result, percentile
from scripts.perf.report import Row, judge

PLAIN, STREAM = "non-streaming /v1/messages", "streaming /v1/messages"
FORMATS = "{kind}, {clients} clients, other formats (direct column: /v1/messages through the proxy, same run)"


def _ms(value: Optional[float]) -> Optional[float]:
    return None if value is None else value * 1000


def _latency_rows(section: str, runner, stream: bool, clients: int) -> List[Row]:
    direct, proxy = runner.results[(stream, clients, "direct")], runner.results[(stream, clients, "proxy")]
    who = f"{clients} client{'s' if clients > 1 else ''}"
    rows = []
    if stream:
        for q in (50, 95):
            rows.append(Row(section, f"{who} TTFT p{q}", "ms", _ms(percentile(direct.ttfts, q)),
                            _ms(percentile(proxy.ttfts, q))))
    for q in (50, 95, 99):
        rows.append(Row(section, f"{who} latency p{q}", "ms", _ms(percentile(direct.latencies, q)),
                        _ms(percentile(proxy.latencies, q))))
    if clients > 1:
        rows.append(Row(section, f"{who} throughput", "req/s", direct.rps, proxy.rps))
    rows.append(Row(section, f"{who} server CPU per request", "ms",
                    runner.server_cpu.get((stream, clients, "direct")),
                    runner.server_cpu.get((stream, clients, "proxy"))))
    errors = len(direct.errors) + len(proxy.errors)
    if errors:
        rows.append(Row(section, f"{who} failed requests", "count", len(direct.errors), len(proxy.errors)))
    return rows


def _format_rows(runner, clients: int) -> List[Row]:
    """Other formats against the Anthropic route of the same proxy, same run: /v1/chat/completions
    (LiteLLM's OpenAI path) and /api/chat (the toolkit's Ollama translation on top of it)."""
    rows = []
    for stream in (False, True):
        anthropic = runner.results.get((stream, clients, "proxy"))
        section = FORMATS.format(kind="streaming" if stream else "non-streaming", clients=clients)
        for name, route in (("openai", "/v1/chat/completions"), ("ollama", "/api/chat")):
            other = runner.results.get((stream, clients, name))
            if anthropic is None or other is None:
                continue
            cpu = runner.server_cpu
            rows += [Row(section, f"{route} CPU per request", "ms",
                         cpu.get((stream, clients, "proxy")), cpu.get((stream, clients, name))),
                     Row(section, f"{route} throughput", "req/s", anthropic.rps, other.rps),
                     Row(section, f"{route} latency p50", "ms", _ms(percentile(anthropic.latencies, 50)),
                         _ms(percentile(other.latencies, 50)))]
            if other.errors:
                rows.append(Row(section, f"{route} failed requests", "count", len(anthropic.errors), len(other.errors)))
    return rows


def _judge_load(rows: List[Row], clients: int) -> None:
    for row in rows:
        if row.section == PLAIN and row.figure == "1 client latency p50":
            judge(row, "+<=5 ms", lambda r: r.added <= 5)
        elif row.section == STREAM and row.figure == "1 client TTFT p50":
            judge(row, "+<=5 ms", lambda r: r.added <= 5)
        elif row.section == PLAIN and row.figure == f"{clients} clients throughput":
            judge(row, ">=200/s", lambda r: r.proxy >= 200)
        elif row.section == PLAIN and row.figure == f"{clients} clients latency p95":
            judge(row, "<=150 ms", lambda r: r.proxy <= 150)


def _failover_rows(failover: Failover) -> List[Row]:
    section = "failover (429 from Anthropic, answered by Bedrock; direct = Bedrock sim, signed)"
    fig = failover.figures()
    cooldown = fig["cooldown"]
    over = "<=cooldown+50"
    rows = [
        judge(Row(section, f"first failover, cold ({failover.models['cold']})", "ms", fig["direct"], fig["cold"]),
              over, lambda r: r.proxy - cooldown <= 50),
        judge(Row(section, f"first failover, warm p50 ({len(failover.warm_ms)} models)", "ms",
                  fig["direct"], fig["warm"]), over, lambda r: r.proxy - cooldown <= 50),
        judge(Row(section, "failover after cooldown ended", "ms", fig["direct"], fig["recovered"]),
              over, lambda r: r.proxy - cooldown <= 50),
        Row(section, f"during cooldown p50 ({len(failover.cooldown_ms)} requests)", "ms", fig["direct"], cooldown),
    ]
    return rows


def build_rows(runner, failover: Failover, start: Dict[str, float], rss: Optional[float],
               status: Tuple[Optional[float], str], args, first: Result) -> Tuple[List[Row], List[str]]:
    rows: List[Row] = []
    for stream, section in ((False, PLAIN), (True, STREAM)):
        for clients in (1, args.clients):
            rows += _latency_rows(section, runner, stream, clients)
    _judge_load(rows, args.clients)
    rows += _format_rows(runner, args.clients)
    rows += _failover_rows(failover)
    life = "proxy process"
    rows += [
        judge(Row(life, "start to healthy (scripts.proxy up)", "s", None, start["healthy_s"]),
              "<=5 s", lambda r: r.proxy <= 5),
        Row(life, "CPU used to start", "s", None, start["cpu_s"]),
        Row(life, "first request after start", "ms", None, start["first_ms"]),
        Row(life, "peak RSS, whole process tree", "MiB", None, rss),
        judge(Row(life, "make status (python -m scripts.status)", "s", None, status[0]),
              "<=1 s", lambda r: r.proxy <= 1),
    ]
    return rows, _notes(runner, failover, status, args, first)


def _notes(runner, failover: Failover, status, args, first: Result) -> List[str]:
    notes = []
    peak = runner.results[(False, args.clients, "direct")]
    if peak.wall:
        notes.append(f"client headroom: at {args.clients} clients straight to the simulator the client served "
                     f"{peak.rps:.0f} req/s using {peak.client_cpu / peak.wall:.0%} of one core; through the "
                     f"proxy it used {_share(runner, args)} of one core")
    notes.append("server CPU per request: direct = the simulator process, proxy = the proxy's process tree")
    notes.append(f"failover models: cold {failover.models['cold']}; warm {failover.models.get('warm', '-')}; "
                 f"direct Bedrock request: POST {failover.bedrock_path or '(no fallback call recorded)'}")
    if status[0] is None:
        notes.append(f"make status: {status[1]}")
    elif status[1] != "exit 0":
        notes.append(f"make status ended with {status[1]} (timed anyway)")
    if first.errors:
        notes.append(f"first request after start failed: {first.errors[0]}")
    return notes


def _share(runner, args) -> str:
    result = runner.results[(False, args.clients, "proxy")]
    return f"{result.client_cpu / result.wall:.0%}" if result.wall else "n/a"
