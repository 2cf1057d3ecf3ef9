"""`make demo`: the fallback, shown on simulated upstreams in about a minute.

Starts the simulated Anthropic and Bedrock APIs and a real proxy from this
project's config.yaml on free ports, with a .env of its own in a temp dir (the
user's .env and any proxy they run are never touched), then narrates: a normal
answer, a rate limit, the same request answered by Bedrock, the cooldown, the
recovery, the Prometheus counters that moved, and the same rate-limited model answered
through each client format the port speaks. Cleans up on exit and Ctrl-C.

Every sentence about what happened is computed from what the demo observed: the
client's status codes, LiteLLM's x-litellm-model-name header, the simulators'
records of the calls they got, the proxy's counters. The judges in
scripts/sim/story.py turn those observations into the printed lines, or into
StepFailed when the story did not happen: the demo then names the step and the
reason in one line and exits 1. --anthropic-fault/--bedrock-fault exist to test that.

    python -m scripts.demo [--anthropic-fault SPEC] [--bedrock-fault SPEC]
"""
import argparse
import signal
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import is_live, request
from scripts.gateway.client import upstream_of
from scripts.observability import metrics
from scripts.sim import story
from scripts.sim.faults import parse_fault_arg
from scripts.sim.sandbox import Stack, start_stack
from scripts.sim.story import Answer, Seen, StepFailed

MODEL = "claude-sonnet-4-5"
WINDOW = 5  # the simulated 429's retry-after, in seconds
COOLDOWN_REQUESTS = 3
COUNTERS = ("fallback", "cooled_down", "deployment_failure_responses", "proxy_total_requests",
            "deployment_success_responses")
SHOWN_LABELS = ("api_provider", "model_group", "exception_status")


def say(text: str = "") -> None:
    print(text, flush=True)


def ask(stack: Stack) -> Answer:
    started = time.monotonic()
    try:
        reply = request("POST", f"{stack.base_url}/v1/messages", timeout=60,
                        headers={"x-api-key": stack.master_key, "anthropic-version": "2023-06-01"},
                        payload={"model": MODEL, "max_tokens": 64,
                                 "messages": [{"role": "user", "content": "Say hello"}]})
    except OSError as exc:
        return Answer(0, "", "nobody", (time.monotonic() - started) * 1000, str(exc))
    ms = (time.monotonic() - started) * 1000
    deployment = reply.headers.get("x-litellm-model-name", "")
    error = "" if reply.status == 200 else story.error_message(reply.body)
    return Answer(reply.status, deployment, upstream_of(deployment), ms, error)


def records(stack: Stack) -> Seen:
    return Seen([r["status"] for r in stack.primary_calls()], [r["status"] for r in stack.fallback_calls()])


def counters(stack: Stack) -> Dict[str, float]:
    """The proxy's Prometheus counters the demo talks about, by series."""
    reply = request("GET", f"{stack.base_url}/metrics/", timeout=10,
                    headers={"Authorization": f"Bearer {stack.master_key}"})
    if reply.status != 200:
        raise StepFailed(f"GET /metrics/ answered {reply.status}: {story.error_message(reply.body)}")
    found: Dict[str, float] = {}
    for sample in metrics.parse(reply.body.decode()):
        if any(word in sample.name for word in COUNTERS) and sample.name.endswith("_total"):
            series = sample.series(SHOWN_LABELS)
            found[series] = found.get(series, 0.0) + sample.value
    return found


class Narrator:
    """Runs the steps in order; each prints what its judge made of the observations."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.number = 0

    def step(self, title: str, run) -> None:
        self.number += 1
        say(f"\n== {self.number}. {title}")
        before = records(self.stack)
        try:
            lines = run(before)
        except StepFailed as exc:
            for line in exc.lines:
                say(f"   {line}")
            raise ToolkitError(f"demo step {self.number} ({title}) failed: {exc}") from None
        for line in lines:
            say(f"   {line}")


def narrate(stack: Stack, steps: Narrator) -> None:
    anthropic = stack.sims.anthropic
    start, counted = records(stack), counters(stack)

    def normal(before: Seen) -> List[str]:
        return story.judge_normal(ask(stack), records(stack).since(before))
    steps.step(f"A normal request for {MODEL}", normal)

    anthropic.set_fault("429", retry_after=WINDOW)
    window_start = time.monotonic()
    # LiteLLM starts the cooldown when it gets the 429, before the fallback's answer
    # arrives: the window surely ends WINDOW seconds after that answer (a busy machine
    # can take a second between the two).
    answered = {}

    def rate_limited(before: Seen) -> List[str]:
        answer = ask(stack)
        answered["at"] = time.monotonic()
        return story.judge_rate_limited(answer, records(stack).since(before))
    steps.step(f"Anthropic starts rate-limiting: HTTP 429, retry-after {WINDOW}s", rate_limited)

    def cooldown(before: Seen) -> List[str]:
        answers = [ask(stack) for _ in range(COOLDOWN_REQUESTS)]
        into_window = time.monotonic() - window_start
        return story.judge_cooldown(answers, records(stack).since(before), into_window, WINDOW)
    steps.step("During the cooldown Anthropic is skipped", cooldown)

    anthropic.clear_fault()
    time.sleep(max(0.0, WINDOW + 0.5 - (time.monotonic() - answered["at"])))

    def recovered(before: Seen) -> List[str]:
        answer = ask(stack)
        now = records(stack)
        return story.judge_recovered(answer, now.since(before), now.since(start))
    steps.step(f"Anthropic recovers; after the {WINDOW}s window it is used again", recovered)

    def moved(_before: Seen) -> List[str]:
        after = counters(stack)
        deltas = {series: value - counted.get(series, 0.0) for series, value in after.items()}
        return story.judge_counters(deltas, records(stack).since(start).bedrock.count(200))
    steps.step("Prometheus counters that moved (GET /metrics/)", moved)


def _fault(text: str) -> str:
    try:
        parse_fault_arg(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    return text


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__.splitlines()[0])
    spec = "MODE[,count=N][,retry_after=S][,delay=S][,models=a|b]"
    p.add_argument("--anthropic-fault", type=_fault, metavar=spec,
                   help="testing the demo's own checks: the simulated Anthropic fails from the start "
                        "(modes as in `python -m scripts.simulators --help`)")
    p.add_argument("--bedrock-fault", type=_fault, metavar=spec,
                   help="the same for the simulated Bedrock, e.g. --bedrock-fault 500: the demo must then "
                        "stop at the step that needs Bedrock and say why")
    return p.parse_args(argv)


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


def formats(stack: Stack, steps: Narrator) -> None:
    """One line per client format: the same rate-limited model, who answered according to
    the simulators' own request logs."""

    def every_format(_before: Seen) -> List[str]:
        lines, unanswered = [], []
        stack.sims.anthropic.set_fault("429", retry_after=WINDOW)
        try:
            for label, path, headers, body in format_requests(stack):
                seen = (len(stack.primary_calls()), len(stack.fallback_calls()))
                reply = request("POST", stack.base_url + path, headers=headers, payload=body, timeout=60)
                anthropic = [r["status"] for r in stack.primary_calls()[seen[0]:]]
                bedrock = [r["status"] for r in stack.fallback_calls()[seen[1]:]]
                who = "Bedrock" if 200 in bedrock else "Anthropic" if 200 in anthropic else "nobody"
                lines.append(f"{label:<33} HTTP {reply.status}, answered by {who} "
                             f"(Anthropic saw {anthropic or 'no call'}, Bedrock {bedrock or 'no call'}): POST {path}")
                if reply.status != 200 or who != "Bedrock":
                    unanswered.append(f"{label} (HTTP {reply.status}, answered by {who})")
        finally:
            stack.sims.anthropic.clear_fault()
        if unanswered:
            raise StepFailed(f"not answered by Bedrock through {', '.join(unanswered)}", lines)
        return lines
    steps.step(f"Every client format on the same port, while Anthropic rate-limits {MODEL}", every_format)


def _stop_on_sigterm(*_args) -> None:
    raise KeyboardInterrupt


def _stop(stack: Stack) -> None:
    stack.stop()
    still = [name for name, running in (("the proxy", is_live(stack.base_url)),
                                        ("the simulators", stack.sims.process.poll() is None)) if running]
    say("\n>> demo stopped the proxy and the simulators" if not still else
        f"\n>> warning: {' and '.join(still)} of the demo still run: {stack.logs.get('down', '').strip()}")


def _body(argv: List[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sim_args = [*(["--anthropic-fault", args.anthropic_fault] if args.anthropic_fault else []),
                *(["--bedrock-fault", args.bedrock_fault] if args.bedrock_fault else [])]
    with tempfile.TemporaryDirectory(prefix="claude-gateway-demo-") as workdir:
        say(f">> starting simulated Anthropic + Bedrock and a proxy from config.yaml on free ports, "
            f"with a .env of its own in {workdir}")
        try:
            stack = start_stack(Path(workdir), sim_args=sim_args)
        except RuntimeError as exc:
            say(str(exc))
            raise ToolkitError("the demo's proxy did not start (output above): `make proxy` shows why") from None
        try:
            say(f">> proxy {stack.base_url} healthy after {stack.logs['start_seconds']}s; "
                f"Anthropic sim {stack.sims.anthropic_url}, Bedrock sim {stack.sims.bedrock_url}")
            steps = Narrator(stack)
            narrate(stack, steps)
            formats(stack, steps)
        finally:
            _stop(stack)
    return 0


main = entry_point(__name__, _body)
