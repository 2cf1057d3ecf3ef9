"""`make demo`: the fallback, shown on simulated upstreams in about a minute.

Starts the simulated Anthropic and Bedrock APIs and a real proxy from this
project's config.yaml on free ports, with a .env of its own in a temp dir (the
user's .env and any proxy they run are never touched), then narrates: a normal
answer, a rate limit, the same request answered by Bedrock, the cooldown, the
recovery, the Prometheus counters that moved, and the same rate-limited model answered
through each client format the port speaks. Cleans up on exit and Ctrl-C.
"""
import signal
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from scripts.core.errors import ToolkitError, entry_point
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


def format_requests(stack: Stack) -> List[Tuple[str, str, Dict[str, str], dict]]:
    """(client format, path, headers, body): the same question in each format the port speaks."""
    key, hello = stack.master_key, [{"role": "user", "content": "Say hello"}]
    bearer = {"Authorization": f"Bearer {key}"}
    gemini = {"x-goog-api-key": key}, {"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}
    return [
        ("Anthropic Messages", "/v1/messages", {"x-api-key": key, "anthropic-version": "2023-06-01"},
         {"model": MODEL, "max_tokens": 64, "messages": hello}),
        ("OpenAI Chat Completions", "/v1/chat/completions", bearer, {"model": MODEL, "messages": hello}),
        ("OpenAI Responses", "/v1/responses", bearer, {"model": MODEL, "input": "Say hello"}),
        ("Ollama", "/api/chat", bearer, {"model": MODEL, "messages": hello, "stream": False}),
        ("Gemini v1 (google-genai default)", f"/v1/models/{MODEL}:generateContent", *gemini),
        ("Gemini v1beta", f"/v1beta/models/{MODEL}:generateContent", *gemini),
    ]


def formats(stack: Stack) -> None:
    """One line per client format: the same rate-limited model, who answered according to
    the simulators' own request logs."""
    step(f"6. Every client format on the same port, while Anthropic rate-limits {MODEL}")
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW)
    unanswered = []
    try:
        for label, path, headers, body in format_requests(stack):
            seen = (len(stack.primary_calls()), len(stack.fallback_calls()))
            reply = request("POST", stack.base_url + path, headers=headers, payload=body, timeout=60)
            anthropic = [r["status"] for r in stack.primary_calls()[seen[0]:]]
            bedrock = [r["status"] for r in stack.fallback_calls()[seen[1]:]]
            who = "Bedrock" if 200 in bedrock else "Anthropic" if 200 in anthropic else "nobody"
            say(f"   {label:<33} HTTP {reply.status}, answered by {who} "
                f"(Anthropic saw {anthropic or 'no call'}, Bedrock {bedrock or 'no call'}): POST {path}")
            if reply.status != 200 or who != "Bedrock":
                unanswered.append(label)
    finally:
        stack.sims.anthropic.clear_fault()
    if unanswered:
        raise ToolkitError(f"not answered by Bedrock through {', '.join(unanswered)}: see the lines above")


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
            formats(stack)
        finally:
            stack.stop()
            say("\n>> demo stopped the proxy and the simulators")
    return 0


main = entry_point(__name__, _body)
