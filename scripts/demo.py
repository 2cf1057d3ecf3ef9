"""`make demo`: the fallback, shown on simulated upstreams in about a minute.

Starts the simulated Anthropic and Bedrock APIs and a real proxy from this
project's config.yaml on free ports, with a .env of its own in a temp dir (the
user's .env and any proxy they run are never touched), then narrates: a normal
answer, a rate limit, the same request answered by Bedrock, the cooldown, the
recovery, and the Prometheus counters that moved. Cleans up on exit and Ctrl-C.
"""
import signal
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from scripts.core.errors import entry_point
from scripts.core.http import request
from scripts.gateway.client import answered_by
from scripts.observability import metrics
from scripts.sim.sandbox import Stack, start_stack

MODEL = "claude-sonnet-4-5"
WINDOW = 5  # the simulated 429's retry-after, in seconds
COUNTERS = ("fallback", "cooled_down", "deployment_failure_responses", "proxy_total_requests",
            "deployment_success_responses")
SHOWN_LABELS = ("api_provider", "model_group", "exception_status")


def say(text: str = "") -> None:
    print(text, flush=True)


def ask(stack: Stack) -> Tuple[str, float]:
    started = time.monotonic()
    reply = request("POST", f"{stack.base_url}/v1/messages", timeout=60,
                    headers={"x-api-key": stack.master_key, "anthropic-version": "2023-06-01"},
                    payload={"model": MODEL, "max_tokens": 64,
                             "messages": [{"role": "user", "content": "Say hello"}]})
    elapsed = (time.monotonic() - started) * 1000
    if reply.status != 200:
        return f"HTTP {reply.status}: {reply.body[:200]!r}", elapsed
    return answered_by(reply.headers), elapsed


def counters(stack: Stack) -> Dict[str, float]:
    """The proxy's Prometheus counters the demo talks about, by series."""
    reply = request("GET", f"{stack.base_url}/metrics/", timeout=10,
                    headers={"Authorization": f"Bearer {stack.master_key}"})
    found: Dict[str, float] = {}
    for sample in metrics.parse(reply.body.decode()):
        if any(word in sample.name for word in COUNTERS) and sample.name.endswith("_total"):
            series = sample.series(SHOWN_LABELS)
            found[series] = found.get(series, 0.0) + sample.value
    return found


def step(title: str) -> None:
    say(f"\n== {title}")


def narrate(stack: Stack) -> None:
    anthropic, bedrock = stack.sims.anthropic, stack.sims.bedrock
    before = counters(stack)

    step(f"1. A normal request for {MODEL}")
    who, ms = ask(stack)
    say(f"   answered by {who} in {ms:.0f} ms")

    step(f"2. Anthropic starts rate-limiting: HTTP 429, retry-after {WINDOW}s")
    anthropic.set_fault("429", retry_after=WINDOW)
    window_start = time.monotonic()
    who, ms = ask(stack)
    say(f"   the same request is answered by {who} in {ms:.0f} ms")
    say(f"   Anthropic saw {len(_calls(anthropic, 429))} call (a 429); the client saw no error")

    step("3. During the cooldown Anthropic is skipped")
    timings = [ask(stack) for _ in range(3)]
    for who, ms in timings:
        say(f"   answered by {who} in {ms:.0f} ms")
    say(f"   Anthropic calls during the window: {len(_calls(anthropic, 429)) - 1} (no request waits on a 429)")

    step(f"4. Anthropic recovers; after the {WINDOW}s window it is used again")
    anthropic.clear_fault()
    time.sleep(max(0.0, WINDOW + 0.5 - (time.monotonic() - window_start)))
    who, ms = ask(stack)
    say(f"   answered by {who} in {ms:.0f} ms")
    say(f"   Bedrock served {len([r for r in bedrock.requests() if r['path'].startswith('/model/')])} requests in all")

    step("5. Prometheus counters that moved (GET /metrics/)")
    after = counters(stack)
    for series in sorted(after):
        delta = after[series] - before.get(series, 0.0)
        if delta:
            say(f"   +{delta:<4.0f} {series}")


def _calls(control, status: int) -> List[dict]:
    return [r for r in control.requests() if r["path"].startswith("/v1/messages") and r["status"] == status]


def _stop_on_sigterm(*_args) -> None:
    raise KeyboardInterrupt


def _body(argv: List[str]) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="claude-gateway-demo-") as workdir:
        say(">> starting simulated Anthropic + Bedrock and a proxy from config.yaml on free ports")
        say("   (your .env and any proxy you already run are not touched)")
        stack = start_stack(Path(workdir))
        try:
            say(f">> proxy {stack.base_url} healthy after {stack.logs['start_seconds']}s; "
                f"Anthropic sim {stack.sims.anthropic_url}, Bedrock sim {stack.sims.bedrock_url}")
            narrate(stack)
        finally:
            stack.stop()
            say("\n>> demo stopped the proxy and the simulators")
    return 0


main = entry_point(__name__, _body)
