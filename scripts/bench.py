"""`make bench`: how much the proxy costs, measured against the direct path.

Starts the simulated Anthropic and Bedrock APIs and its OWN proxy from this
project's config.yaml (`scripts.proxy up`, a .env of its own in a temp dir, a
free port), exactly as `make demo` does, then measures in one run: /v1/messages
latency (p50/p95/p99) and requests/s, non-streaming and streaming, at 1 and 16
concurrent clients, straight to the simulator and through the proxy; time to
first token; the same request on /v1/chat/completions and Ollama's /api/chat beside
/v1/messages (what the format translations cost); failover (cold, warm, during cooldown) against Bedrock answering
directly; start-to-healthy time, the proxy's peak memory, `make status` time.
It never measures a proxy it did not start: there is no URL option.

Client, simulators and proxy share this machine's cores: every figure includes
that contention, the direct path's too. GATEWAY_CONFIG and GATEWAY_VENV (and
GATEWAY_WORKERS, LITELLM_LOG: settings) are honoured, so a tuning
candidate is measured by pointing them at a copy.

Then, side by side in interleaved rounds: this proxy with 1 worker, with 2 workers on a
real Redis, and the Portkey gateway and claude-code-router (installed with npm on
demand; skipped, with the reason, when they cannot be had), in front of the same
simulators; last, failed requests across `make restart` under 8 clients.

    python -m scripts.bench [--json] [--requests N] [--load-requests N] [--clients N]
                            [--rounds N] [--peers portkey,ccr|none] [--no-side]
                            [--compare-venv VENV]
"""
import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from scripts.core import configfile, paths, procs
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import is_live
from scripts.gateway.client import installed_version
from scripts.gateway.process import tail
from scripts.perf import failover as bench_failover
from scripts.perf import proc as bench_proc
from scripts.perf.load import Result, Target, percentile, run, single
from scripts.perf.report import render, to_json
from scripts.perf import sidebyside
from scripts.perf.peers import PEERS
from scripts.perf.rows import build_rows
from scripts.sim.sandbox import API_KEY, Stack, start_stack

REGION = "us-west-2"  # the sandbox's AWS_REGION
PACKAGES = ("litellm", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "httpx", "aiohttp", "pydantic")
PASSED_ENV = ("GATEWAY_CONFIG", "GATEWAY_VENV", "GATEWAY_WORKERS", "LITELLM_LOG", "DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # progress; stdout is the report


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--requests", type=_positive, default=200, help="requests per 1-client run (default 200)")
    p.add_argument("--load-requests", type=_positive, default=800, help="requests per N-client run (default 800)")
    p.add_argument("--clients", type=_positive, default=16, help="concurrent clients of the load runs (default 16)")
    p.add_argument("--model", default="claude-sonnet-4-5", help="model name of the load runs")
    p.add_argument("--rounds", type=_positive, default=3, help="interleaved rounds of the side-by-side part (default 3)")
    p.add_argument("--side-requests", type=_positive, default=100, help="1-client requests per side-by-side round")
    p.add_argument("--side-load-requests", type=_positive, default=400,
                   help="N-client requests per side-by-side round (default 400)")
    p.add_argument("--peers", type=_peers, default="portkey,ccr",
                   help="peer gateways beside this proxy: portkey,ccr (default), or none")
    p.add_argument("--compare-venv", metavar="VENV",
                   help="instead of the 2-worker column: this tree's proxy run by another virtualenv "
                        "(another LiteLLM release), e.g. to measure a pin move")
    p.add_argument("--no-side", action="store_true", help="skip the side-by-side part (peers, 2 workers, restart)")
    return p.parse_args(argv)


def _peers(text: str) -> List[str]:
    names = [] if text == "none" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peer {unknown[0]!r}: use {', '.join(PEERS)} or none")
    return names


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def upstream_model(config: configfile.ProxyConfig, model: str) -> str:
    """The Anthropic model id the proxy sends for `model` (checked before anything starts)."""
    primary = (config.deployments.get(model) or [""])[0]
    if not primary.startswith("anthropic/") or "*" in model:
        raise ToolkitError(f"--model {model}: not a model name with an Anthropic deployment in "
                           f"{config.path}: use one that `make show-models` lists")
    return primary.split("/", 1)[1]


def _targets(stack: Stack, config: configfile.ProxyConfig, model: str) -> Tuple[Target, Target, List[Target], str]:
    upstream_id = upstream_model(config, model)
    hello = [{"role": "user", "content": "Say hello"}]
    prompt = {"max_tokens": 64, "messages": hello}
    common = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
    direct = Target("direct", f"{stack.sims.anthropic_url}/v1/messages", {**common, "x-api-key": API_KEY},
                    {"model": upstream_id, **prompt})
    proxy = Target("proxy", f"{stack.base_url}/v1/messages", {**common, "x-api-key": stack.master_key},
                   {"model": model, **prompt})
    # The same request in the other formats: LiteLLM's OpenAI path, and Ollama's route
    # on top of it (what the toolkit's translation at the edges adds).
    bearer = {"content-type": "application/json", "authorization": f"Bearer {stack.master_key}"}
    formats = [Target("openai", f"{stack.base_url}/v1/chat/completions", bearer,
                      {"model": model, "max_tokens": 64, "messages": hello}, token_marker=b'"content":'),
               Target("ollama", f"{stack.base_url}/api/chat", bearer,
                      {"model": model, "messages": hello, "options": {"num_predict": 64}},
                      token_marker=b'"done":false')]
    return direct, proxy, formats, upstream_id


def own_proxy(stack: Stack) -> int:
    """The pid of the proxy this run started; refuses any other listener on the port."""
    pid = procs.read_pid(stack.workdir / "state" / "proxy.pid")
    if not pid:
        raise ToolkitError("the bench's proxy left no pid file: run `make bench` again")
    if "litellm" not in procs.command_line(pid):
        raise ToolkitError(f"pid {pid} in the bench's pid file is not a LiteLLM proxy: run `make bench` again")
    if bench_proc.owns_port(pid, stack.port) is False:
        raise ToolkitError(f"port {stack.port} is answered by {procs.port_owner(stack.port)}, not the "
                           f"bench's proxy (pid {pid}): run `make bench` again")
    return pid


class Runner:
    """Runs each load scenario on both paths, with the servers' CPU per request."""

    def __init__(self, stack: Stack, pid: int, args: argparse.Namespace) -> None:
        self.stack, self.pid, self.args = stack, pid, args
        self.results: Dict[Tuple[bool, int, str], Result] = {}
        self.server_cpu: Dict[Tuple[bool, int, str], float] = {}

    def scenario(self, target: Target, stream: bool, clients: int) -> None:
        total = self.args.requests if clients == 1 else self.args.load_requests
        server = [self.stack.sims.process.pid] if target.name == "direct" else bench_proc.tree(self.pid)
        before = bench_proc.cpu_seconds(server)
        result = run(target, clients, total, stream)
        after = bench_proc.cpu_seconds(server)
        key = (stream, clients, target.name)
        self.results[key] = result
        if before is not None and after is not None:
            self.server_cpu[key] = (after - before) * 1000 / (total + clients)
        say(f"   {'stream' if stream else 'plain '} {clients:>2} client(s) {target.name:<6} "
            f"{result.rps:7.1f} req/s  p50 {_ms(percentile(result.latencies, 50))} ms"
            + (f"  ({len(result.errors)} errors: {result.errors[0]})" if result.errors else ""))


def _ms(seconds) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.1f}"


def status_seconds(stack: Stack) -> Tuple[Optional[float], str]:
    if not (paths.PROJECT_DIR / "scripts" / "status.py").exists():
        return None, "n/a (scripts.status not present)"
    started = time.monotonic()
    done = stack.script("status", timeout=60)
    elapsed = time.monotonic() - started
    return elapsed, f"exit {done.returncode}"


def measure(stack: Stack, config: configfile.ProxyConfig, args: argparse.Namespace) -> Tuple[list, list]:
    pid = own_proxy(stack)
    direct, proxy, formats, upstream_id = _targets(stack, config, args.model)
    start = {"healthy_s": float(stack.logs["start_seconds"]), "cpu_s": bench_proc.cpu_seconds(bench_proc.tree(pid))}
    first = single(proxy)  # the proxy's first request since it started
    start["first_ms"] = first.wall * 1000
    run(proxy, 1, 20, False)  # past one-time costs before anything is timed
    pairs = bench_failover.failover_pairs(config, [upstream_id])
    say(">> failover: the first since start (cold), requests during its cooldown, other models (warm)")
    failover = bench_failover.measure(stack, pairs)
    runner = Runner(stack, pid, args)
    for stream in (False, True):
        for clients in (1, args.clients):
            for target in [direct, proxy, *formats] if clients > 1 else [direct, proxy]:
                runner.scenario(target, stream, clients)
    say(f">> failover after recovery on {pairs[0].name}, then Bedrock directly")
    bench_failover.recovered(stack, pairs[0], failover, REGION)
    rss = bench_proc.peak_rss_mb(bench_proc.tree(pid))
    say(">> make status")
    status = status_seconds(stack)
    return build_rows(runner, failover, start, rss, status, args, first)


def header(args: argparse.Namespace, load_before: Tuple[float, ...]) -> Dict[str, str]:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    venv_cfg = paths.venv_dir() / "pyvenv.cfg"
    python = next((line.split("=", 1)[1].strip() for line in venv_cfg.read_text().splitlines()
                   if line.split("=")[0].strip() in ("version", "version_info")), "?") if venv_cfg.exists() else "?"
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    passed = ", ".join(f"{k}={os.environ[k]}" for k in PASSED_ENV if os.environ.get(k)) or "(none)"
    return {
        "machine": f"{platform.system()} {platform.machine()}, {cores} cores ({usable} usable), "
                   f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}",
        "shared cores": "client, simulators and proxy run on the same cores (direct path included)",
        "python": f"{python} ({paths.venv_dir()})",
        "versions": versions,
        "config": str(paths.config_file()),
        "environment": passed,
        "runs": f"{args.requests} requests at 1 client, {args.load_requests} at {args.clients} clients, "
                f"model {args.model}",
    }


def _version(package: str) -> str:
    found = installed_version(package)
    return "absent" if found.startswith("not installed") else found


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def _body(argv: List[str]) -> int:
    args = parse_args(argv)
    # Both stop the run at once: asyncio's own Ctrl-C handling would only cancel
    # the current load run and go on with the next one.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    config = configfile.load(paths.config_file())
    upstream_model(config, args.model)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="claude-gateway-bench-") as workdir:
        say(">> starting simulated Anthropic + Bedrock and a proxy of the bench's own on free ports")
        try:
            stack = start_stack(Path(workdir))
        except (RuntimeError, subprocess.SubprocessError) as exc:
            say(str(exc))
            raise ToolkitError("the bench's proxy did not start (output above): `make proxy` shows why") from None
        try:
            say(f">> proxy {stack.base_url} healthy after {stack.logs['start_seconds']}s; measuring")
            rows, notes = measure(stack, config, args)
            side = None if args.no_side else sidebyside.measure(
                stack, _targets(stack, config, args.model)[0], args.model, args, Path(workdir), say)
        except ToolkitError:
            if not is_live(stack.base_url):  # the figures are lost either way; say why, from its log
                say(f">> the bench's proxy no longer answers; the end of its log:\n"
                    f"{tail(stack.log_file, 25, [stack.master_key, API_KEY])}")
            raise
        finally:
            stack.stop()
            say(">> stopped the bench's proxy and the simulators")
    head = header(args, load_before)
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        notes.append(f"the machine was busy before the run (load average {load_before[0]:.1f} on "
                     f"{os.cpu_count()} cores): every figure includes that other work; compare runs made "
                     f"under the same load")
    if args.json:
        print(to_json(rows, head, notes, {"side_by_side": sidebyside.as_json(side)} if side else None))
    else:
        print(render(rows, head, notes) + ("\n\n" + sidebyside.render(side, args.clients, args.rounds) if side else ""))
    return 0


main = entry_point(__name__, _body)
