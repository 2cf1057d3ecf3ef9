"""The real clients the end-to-end suite drives through the proxy, each reduced to an Outcome.

A driver never raises: what the client raised (or the CLI reported) becomes
Outcome.error, so a test can tell "clean error" from "complete answer" from
"truncated answer presented as complete". The simulators' replies are
deterministic (scripts/sim_messages), so a complete answer is recognisable.
"""
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import anthropic
import codex_cli
import httpx
import openai

FULL_REPLY = "This is a deterministic reply from the simulator."
TOOL_REPLY = "Tool result received: sunny"
TOOLS = [{"name": "get_weather", "description": "Weather in a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
TOOL_PROMPT = "Please use the tool for Paris."
RESPONSES_TOOLS = [{"type": "function", "name": t["name"], "description": t["description"],
                    "parameters": t["input_schema"]} for t in TOOLS]
HELLO = [{"role": "user", "content": "Say hello."}]
CLIENT_TIMEOUT = 60  # seconds; the proxy must answer (or fail) well within it: more is a hang
CLI_TIMEOUT = 150   # Claude Code retries by itself (CLAUDE_CODE_MAX_RETRIES below) before it gives up


@dataclass
class Outcome:
    complete: bool = False          # a well-formed, finished answer (stream ended properly, tool call intact)
    text: str = ""
    answered_by: str = ""           # "anthropic" / "bedrock" / "zai" / "chatgpt", from the simulator's greeting or the proxy header
    error: str = ""                 # what the client raised or the CLI reported as an error
    requests: int = 1               # requests the client made to the proxy for this answer
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)

    @property
    def hung(self) -> bool:
        return bool(self.detail.get("hang"))

    @property
    def truncated(self) -> bool:
        """Presented as a finished answer without an error, but not the whole reply."""
        return not self.error and not self.complete

    def summary(self) -> str:
        if self.error:
            return f"clean error: {self.error[:70]}"
        return f"{self.answered_by or '?'} answer, {'complete' if self.complete else 'TRUNCATED'}"


@dataclass
class Target:
    base_url: str
    master_key: str
    claude: Optional[Path] = None   # the Claude Code binary (tests/claude_cli.py)
    home: Optional[Path] = None     # a temp HOME for the CLIs
    codex: Optional[Path] = None    # the Codex CLI binary (tests/codex_cli.py)
    cli_retries: int = 2            # retries the CLIs make by themselves before they give up

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(api_key=self.master_key, base_url=self.base_url, max_retries=0,
                                   timeout=CLIENT_TIMEOUT)

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(api_key=self.master_key, base_url=self.base_url + "/v1", max_retries=0,
                             timeout=CLIENT_TIMEOUT)


def _whole(text: str, ending: str = FULL_REPLY) -> bool:
    """Exactly one reply, to its last word (two overlapping answers on one stream are not whole)."""
    return text.endswith(ending) and text.count("Hello from simulated") == 1


def _upstream(text: str, model_header: str = "") -> str:
    """Who wrote the answer: the simulator's greeting says it. The proxy's x-litellm-model-name
    header is only a fallback: after a fallback inside a stream it still names Anthropic."""
    for name, greeting in (("anthropic", "Anthropic"), ("bedrock", "Bedrock"), ("zai", "Z.AI"), ("chatgpt", "ChatGPT")):
        if f"simulated {greeting}" in text:
            return name
    return model_header.split("/", 1)[0] if "/" in model_header else ""


def _measured(drive: Callable[[Target, str], Outcome]) -> Callable[[Target, str], Outcome]:
    def run(target: Target, model: str) -> Outcome:
        started = time.monotonic()
        try:
            outcome = drive(target, model)
        except (anthropic.APIError, openai.APIError, httpx.HTTPError) as exc:
            hang = isinstance(exc, (anthropic.APITimeoutError, openai.APITimeoutError, httpx.TimeoutException))
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}", detail={"hang": hang})
        outcome.seconds = time.monotonic() - started
        return outcome
    run.__name__ = drive.__name__
    return run


@_measured
def sdk_create(target: Target, model: str) -> Outcome:
    raw = target.anthropic().messages.with_raw_response.create(model=model, max_tokens=64, messages=HELLO)
    msg = raw.parse()
    text = "".join(b.text for b in msg.content if b.type == "text")
    return Outcome(complete=msg.stop_reason == "end_turn" and _whole(text), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")),
                   detail={"stop_reason": msg.stop_reason})


def _stream(client: anthropic.Anthropic, **kwargs) -> tuple:
    """(final message, raw event types, proxy model header) of one streamed request."""
    with client.messages.stream(**kwargs) as stream:
        events = [event.type for event in stream]
        return stream.get_final_message(), events, stream.response.headers.get("x-litellm-model-name", "")


@_measured
def sdk_stream(target: Target, model: str) -> Outcome:
    msg, events, header = _stream(target.anthropic(), model=model, max_tokens=64, messages=HELLO)
    text = "".join(b.text for b in msg.content if b.type == "text")
    ended = bool(events) and events[-1] == "message_stop"
    return Outcome(complete=ended and msg.stop_reason == "end_turn" and _whole(text), text=text,
                   answered_by=_upstream(text, header), detail={"last_event": events[-1] if events else None})


def _tool_round_trip(target: Target, model: str, stream: bool) -> Outcome:
    """tool_use from the model, then our tool_result back: both turns must be intact."""
    client = target.anthropic()
    ask = dict(model=model, max_tokens=128, tools=TOOLS, messages=[{"role": "user", "content": TOOL_PROMPT}])
    first = _stream(client, **ask)[0] if stream else client.messages.create(**ask)
    uses = [b for b in first.content if b.type == "tool_use"]
    if first.stop_reason != "tool_use" or len(uses) != 1 or uses[0].input != {"city": "sim"}:
        return Outcome(text=str(first.content), detail={"stop_reason": first.stop_reason}, requests=1)
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny"}]}
    follow = dict(ask, messages=ask["messages"] + [{"role": "assistant", "content": first.content}, result])
    if stream:
        second, events, header = _stream(client, **follow)
        ended = events[-1] == "message_stop"
    else:
        raw = client.messages.with_raw_response.create(**follow)
        second, header, ended = raw.parse(), raw.headers.get("x-litellm-model-name", ""), True
    text = "".join(b.text for b in second.content if b.type == "text")
    return Outcome(complete=ended and second.stop_reason == "end_turn" and _whole(text, TOOL_REPLY), text=text,
                   answered_by=_upstream(text, header), requests=2, detail={"tool_use_id": uses[0].id})


@_measured
def sdk_tools(target: Target, model: str) -> Outcome:
    return _tool_round_trip(target, model, stream=False)


@_measured
def sdk_tools_stream(target: Target, model: str) -> Outcome:
    return _tool_round_trip(target, model, stream=True)


@_measured
def openai_create(target: Target, model: str) -> Outcome:
    raw = target.openai().chat.completions.with_raw_response.create(
        model=model, max_tokens=64, messages=HELLO)
    choice = raw.parse().choices[0]
    text = choice.message.content or ""
    return Outcome(complete=choice.finish_reason == "stop" and _whole(text), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")),
                   detail={"finish_reason": choice.finish_reason})


@_measured
def openai_stream(target: Target, model: str) -> Outcome:
    raw = target.openai().chat.completions.with_raw_response.create(
        model=model, max_tokens=64, messages=HELLO, stream=True)
    parts: List[str] = []
    finish = None
    for chunk in raw.parse():
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    text = "".join(parts)
    return Outcome(complete=finish == "stop" and _whole(text), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")),
                   detail={"finish_reason": finish})


def cli_environment(target: Target, model: str, home: Path) -> Dict[str, str]:
    """What a user's shell gives Claude Code when it points at the proxy: nothing else."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "dumb",
            "ANTHROPIC_BASE_URL": target.base_url, "ANTHROPIC_AUTH_TOKEN": target.master_key,
            "ANTHROPIC_MODEL": model, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_MAX_RETRIES": str(target.cli_retries)}


def claude_cli(target: Target, model: str) -> Outcome:
    """`claude -p ... --output-format json`, the way a script or a user runs it."""
    started = time.monotonic()
    target.home.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="claude-home-", dir=target.home))  # one per run: runs overlap
    try:
        proc = subprocess.run([str(target.claude), "-p", "Say hello.", "--output-format", "json"],
                              cwd=home, env=cli_environment(target, model, home), capture_output=True,
                              text=True, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Outcome(error=f"no result after {CLI_TIMEOUT} s", seconds=CLI_TIMEOUT, detail={"hang": True})
    seconds = time.monotonic() - started
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Outcome(error=f"exit {proc.returncode}, no JSON result: {proc.stderr[-300:]}", seconds=seconds)
    text = str(result.get("result", ""))
    if proc.returncode != 0 or result.get("is_error"):
        return Outcome(error=f"exit {proc.returncode}: {text}", seconds=seconds, detail=result)
    return Outcome(complete=result.get("subtype") == "success" and _whole(text), text=text,
                   answered_by=_upstream(text), seconds=seconds, detail={"stop_reason": result.get("stop_reason")})


@_measured
def responses_create(target: Target, model: str) -> Outcome:
    raw = target.openai().responses.with_raw_response.create(model=model, max_output_tokens=64, input="Say hello.")
    response = raw.parse()
    text = response.output_text
    return Outcome(complete=response.status == "completed" and _whole(text), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")),
                   detail={"status": response.status})


@_measured
def responses_stream(target: Target, model: str) -> Outcome:
    raw = target.openai().responses.with_raw_response.create(model=model, max_output_tokens=64, input="Say hello.",
                                                             stream=True)
    events = list(raw.parse())
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    failed = [e for e in events if e.type in ("error", "response.failed")]
    if failed:  # the proxy reported the failure inside the stream
        return Outcome(error=f"{failed[0].type}: {failed[0].model_dump_json()[:300]}", text=text)
    done = bool(events) and events[-1].type == "response.completed" and events[-1].response.status == "completed"
    return Outcome(complete=done and _whole(text), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")),
                   detail={"last_event": events[-1].type if events else None})


@_measured
def responses_tools(target: Target, model: str) -> Outcome:
    """A function call forced by tool_choice, then its output back, both with parallel_tool_calls
    (what OpenAI-format agents send, and what Bedrock's Converse refused)."""
    client = target.openai()
    ask = [{"role": "user", "content": TOOL_PROMPT}]
    first = client.responses.create(model=model, input=ask, tools=RESPONSES_TOOLS, tool_choice="required",
                                    parallel_tool_calls=False, max_output_tokens=128)
    calls = [item for item in first.output if item.type == "function_call"]
    if first.status != "completed" or len(calls) != 1 or json.loads(calls[0].arguments) != {"city": "sim"}:
        return Outcome(text=str(first.output), detail={"status": first.status})
    follow = ask + [calls[0].model_dump(exclude_none=True),
                    {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"}]
    raw = client.responses.with_raw_response.create(model=model, input=follow, tools=RESPONSES_TOOLS,
                                                    tool_choice="auto", parallel_tool_calls=True,
                                                    max_output_tokens=128)
    second = raw.parse()
    text = second.output_text
    return Outcome(complete=second.status == "completed" and _whole(text, TOOL_REPLY), text=text,
                   answered_by=_upstream(text, raw.headers.get("x-litellm-model-name", "")), requests=2,
                   detail={"call_id": calls[0].call_id})


def codex(target: Target, model: str) -> Outcome:
    """`codex exec --json "Say hello."`: every request carries Codex's tools, tool_choice "auto"
    and parallel_tool_calls, over /v1/responses, streamed."""
    started = time.monotonic()
    try:
        result = codex_cli.run(target.codex, target.base_url, target.master_key, model, "Say hello.",
                               target.home, retries=target.cli_retries, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Outcome(error=f"no result after {CLI_TIMEOUT} s", seconds=CLI_TIMEOUT, detail={"hang": True})
    text = "\n".join(result.messages)
    seconds = time.monotonic() - started
    if result.error:
        return Outcome(error=result.error, text=text, seconds=seconds)
    return Outcome(complete=result.completed and _whole(text), text=text, answered_by=_upstream(text),
                   seconds=seconds, detail={"events": [e.get("type") for e in result.events]})


STREAMING = ("sdk-stream", "sdk-tools-stream", "openai-stream", "responses-stream", "claude-cli", "codex-cli")
CLIENTS: Dict[str, Callable[[Target, str], Outcome]] = {
    "sdk-create": sdk_create, "sdk-stream": sdk_stream, "sdk-tools": sdk_tools,
    "sdk-tools-stream": sdk_tools_stream, "openai-create": openai_create, "openai-stream": openai_stream,
    "responses-create": responses_create, "responses-stream": responses_stream,
    "responses-tools": responses_tools, "claude-cli": claude_cli, "codex-cli": codex,
}
