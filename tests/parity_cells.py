"""The cells of the fallback parity matrix (tests/e2e/test_e2e_parity.py): one Claude Code
feature each, driven through the real `claude -p`, checked on what the user sees.

A cell gets a Column (which upstream must answer, through which Claude model) and a
Runner, raises AssertionError with what it saw when the feature does not work, and
returns one short line of what it observed (the matrix prints it)."""
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import anthropic
import jsonschema
from claude_cli import claude_binary
from sample_files import png, simple_pdf

DEFAULT_REPLY = "This is a deterministic reply from the simulator."
THINKING_TEXT = "The request is simple; the simulator answers it deterministically."
ALLOWED = ["--allowedTools", "Bash(echo:*)", "Read", "Agent", "Task", "WebSearch", "ToolSearch"]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"},
                                           "coastal": {"type": "boolean"}},
          "required": ["city", "population", "coastal"], "additionalProperties": False}
PDF_WORDS = "The quarterly word is tangerine"


@dataclass(frozen=True)
class Column:
    name: str           # as the matrix heads it
    model: str          # the Claude model Claude Code asks for
    greeting: str       # how the answering simulator opens its replies
    resume_model: str   # the model the resumed conversation uses (begun unfaulted on Anthropic)
    upstream: str       # the simulator that answers: anthropic, bedrock or openai

    def records(self, stack) -> list:
        """The inference calls of this column's model that its upstream answered or refused."""
        records = getattr(stack.sims, self.upstream).requests()
        if self.upstream == "openai":
            return records
        name = self.model.removeprefix("claude-") if self.upstream == "bedrock" else self.model
        return [rec for rec in records if name in (rec.get("model") or "") and "count_tokens" not in rec["path"]]


@dataclass
class Run:
    code: int
    events: list
    stderr: str

    @property
    def result(self) -> dict:
        return next((e for e in reversed(self.events) if e.get("type") == "result"), {})

    @property
    def text(self) -> str:
        return self.result.get("result") or ""

    def blocks(self, kind: str) -> list:
        return [b for e in self.events if e.get("type") in ("assistant", "user")
                for b in e["message"]["content"] if isinstance(b, dict) and b.get("type") == kind]

    def why(self) -> str:
        return f"exit {self.code}, result {self.text[:300]!r}, stderr {self.stderr[-300:]!r}"


class Runner:
    """Runs `claude -p` through the stack's proxy, each cell in a directory (and HOME) of its own."""

    def __init__(self, stack, root: Path):
        self.stack, self.root = stack, root

    def place(self, cell: str) -> Path:
        where = self.root / cell
        (where / "home").mkdir(parents=True, exist_ok=True)
        return where

    def claude(self, cell: str, model: str, prompt: str, *flags: str, env: Optional[dict] = None,
               stdin: Optional[str] = None) -> Run:
        where = self.place(cell)
        full_env = {"PATH": os.environ["PATH"], "HOME": str(where / "home"), "TERM": "dumb", "LANG": "C.UTF-8",
                    "ANTHROPIC_BASE_URL": self.stack.base_url, "ANTHROPIC_AUTH_TOKEN": self.stack.master_key,
                    "ANTHROPIC_MODEL": model, "ANTHROPIC_DEFAULT_HAIKU_MODEL": model.split("[")[0],
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
                    "CLAUDE_CODE_MAX_RETRIES": "0", **(env or {})}
        args = [str(claude_binary()), "-p", *([] if stdin is not None else [prompt]),
                "--output-format", "stream-json", "--verbose", *ALLOWED, *flags]
        done = subprocess.run(args, cwd=where, env=full_env, capture_output=True, text=True, timeout=180,
                              input=stdin if stdin is not None else "")
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return Run(done.returncode, events, done.stderr)


def answered(run: Run, col: Column) -> str:
    assert run.code == 0 and not run.result.get("is_error"), run.why()
    assert run.text.startswith(col.greeting), f"not answered by {col.name}: {run.why()}"
    return run.text


def plain(r: Runner, col: Column, cell: str) -> str:
    text = answered(r.claude(cell, col.model, "Say hello."), col)
    assert text.endswith(DEFAULT_REPLY), text
    return "answer complete"


def stream(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Say hello, streaming.", "--include-partial-messages")
    text = answered(run, col)
    deltas = [e["event"]["delta"]["text"] for e in run.events if e.get("type") == "stream_event"
              and e["event"].get("type") == "content_block_delta" and e["event"]["delta"].get("type") == "text_delta"]
    assert len(deltas) > 1 and "".join(deltas) == text, deltas
    return f"{len(deltas)} text deltas"


def _pong(run: Run, col: Column) -> str:
    text = answered(run, col)
    uses = [b for b in run.blocks("tool_use") if b["name"] == "Bash"]
    assert [u["input"].get("command") for u in uses] == ["echo pong"], run.blocks("tool_use")
    results = [b for b in run.blocks("tool_result") if "pong" in json.dumps(b.get("content"))]
    assert results and not results[0].get("is_error"), run.blocks("tool_result")
    assert "Tool result received: pong" in text, text
    return "Bash ran, output in the answer"


def tool(r: Runner, col: Column, cell: str) -> str:
    return _pong(r.claude(cell, col.model, "Use the Bash tool to run `echo pong` and tell me what it printed."), col)


def thinking(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Think it over, then say hello.")
    answered(run, col)
    thoughts = run.blocks("thinking")
    assert thoughts and thoughts[0].get("thinking") == THINKING_TEXT, f"no thinking block: {run.text[:200]}"
    return "thinking shown"


def thinking_tools(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Think first, then run `echo pong` with the Bash tool and report it.")
    seen = _pong(run, col)
    thoughts = run.blocks("thinking")
    assert len(thoughts) >= 2, f"interleaved thinking (one per step) expected, saw {len(thoughts)}"
    return f"{seen}; {len(thoughts)} thinking blocks (interleaved)"


def _cached(r: Runner, col: Column, cell: str, env: dict, ttl: str) -> str:
    prompt = f"Say hello ({cell})."
    first = r.claude(cell, col.model, prompt, env=env)
    answered(first, col)
    written = (first.result.get("usage") or {}).get("cache_creation") or {}
    again = r.claude(cell, col.model, prompt, env=env)
    answered(again, col)
    read = (again.result.get("usage") or {}).get("cache_read_input_tokens") or 0
    assert written.get(f"ephemeral_{ttl}_input_tokens"), f"no {ttl} cache write: {first.result.get('usage')}"
    assert read > 0, f"no cache read: {again.result.get('usage')}"
    return f"{ttl} write {written[f'ephemeral_{ttl}_input_tokens']}, then read {read}"


def cache_5m(r: Runner, col: Column, cell: str) -> str:
    return _cached(r, col, cell, {}, "5m")


def cache_1h(r: Runner, col: Column, cell: str) -> str:
    return _cached(r, col, cell, {"ENABLE_PROMPT_CACHING_1H": "1"}, "1h")


def vision(r: Runner, col: Column, cell: str) -> str:
    (r.place(cell) / "red.png").write_bytes(png(4, 3))
    text = answered(r.claude(cell, col.model, f"Read {r.place(cell)}/red.png and describe the image."), col)
    assert "image/png" in text and "4x3 pixels" in text, text
    return "image type and size in the answer"


def pdf(r: Runner, col: Column, cell: str) -> str:
    (r.place(cell) / "report.pdf").write_bytes(simple_pdf(PDF_WORDS))
    text = answered(r.claude(cell, col.model, f"Read {r.place(cell)}/report.pdf and tell me what it says."), col)
    assert PDF_WORDS in text, text
    return "the PDF's text quoted"


def structured(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Describe the city of Paris.", "--json-schema", json.dumps(SCHEMA))
    assert run.code == 0 and not run.result.get("is_error"), run.why()
    assert [b["name"] for b in run.blocks("tool_use")] == ["StructuredOutput"], run.blocks("tool_use")
    # The answer is the object alone; the upstream that offered StructuredOutput a 200 says who gave it.
    served = [rec for rec in col.records(r.stack) if "StructuredOutput" in (rec.get("tools") or [])]
    assert served and {rec["status"] for rec in served} == {200}, f"not answered by {col.name}: {served}"
    out = run.result.get("structured_output")
    jsonschema.validate(out, SCHEMA)
    return f"structured_output {json.dumps(out)}"


def count_tokens(r: Runner, col: Column, cell: str) -> str:
    """Through the anthropic SDK, as Claude Code calls it (the CLI has no flag that counts)."""
    client = anthropic.Anthropic(base_url=r.stack.base_url, api_key=r.stack.master_key, max_retries=0)
    counted = client.messages.count_tokens(model=col.model, messages=[{"role": "user", "content": "Say hello."}])
    assert counted.input_tokens > 0, counted
    return f"{counted.input_tokens} input tokens"


def context_1m(r: Runner, col: Column, cell: str) -> str:
    filler = "lorem ipsum dolor sit amet " * 31000  # ~840 KB, beyond 200k tokens
    run = r.claude(cell, f"{col.model}[1m]", "", stdin=filler + "\nSay hello.")
    answered(run, col)
    return f"{len(filler) // 1000} KB prompt answered"


def tool_search(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Use the ToolSearch tool to find the tool 'notebook'.",
                   env={"ENABLE_TOOL_SEARCH": "1"})
    text = answered(run, col)
    offered = [r.get("tools") for r in r.stack.sims.openai.requests()[-3:]] if "Z.AI" in col.greeting else ""
    assert [b["name"] for b in run.blocks("tool_use")] == ["ToolSearch"], f"{run.blocks('tool_use')} {offered}"
    assert "NotebookEdit" in text, text
    return "ToolSearch found NotebookEdit"


def web_search(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Search the web for claude gateway parity and cite what you find.")
    text = answered(run, col)
    if col.upstream == "anthropic":  # Anthropic's own server tool (the simulated search behind it)
        assert "https://search-result-1.example/claude-gateway-parity" in text, text
        return "results cited"
    # On a fallback LiteLLM's web search interception asks the .env's provider (the Tavily simulator)
    assert "https://search.example/1?q=" in text, text
    return "results cited (through the web search interception)"


def effort(level: str):
    def cell(r: Runner, col: Column, name: str) -> str:
        answered(r.claude(name, col.model, f"Say hello at {level} effort.", "--effort", level), col)
        return f"--effort {level} answered"
    cell.__name__ = f"effort_{level}"
    return cell


def subagent(r: Runner, col: Column, cell: str) -> str:
    run = r.claude(cell, col.model, "Use a subagent to run `echo pong` and report its output.")
    text = answered(run, col)
    agents = [b for b in run.blocks("tool_use") if b["name"] in ("Agent", "Task")]
    assert agents and "echo pong" in agents[0]["input"].get("prompt", ""), run.blocks("tool_use")
    assert "pong" in text.split("Tool result received:", 1)[-1], text
    return "subagent ran Bash, output in the answer"


def begin_on_anthropic(r: Runner, col: Column, anthropic_greeting: str) -> str:
    """The first half of the resume row, before any fault: a signed-thinking conversation on Anthropic."""
    run = r.claude(f"resume-{col.name}", col.resume_model, "Think it over, then say hello.")
    assert run.code == 0 and run.text.startswith(anthropic_greeting), run.why()
    assert run.blocks("thinking") and run.blocks("thinking")[0].get("signature"), "signed thinking expected"
    return run.result["session_id"]


def resumed(session: str):
    def cell(r: Runner, col: Column, name: str) -> str:
        run = r.claude(f"resume-{col.name}", col.resume_model, "Now say hello again.", "--resume", session)
        answered(run, col)
        return "continued after signed thinking"
    cell.__name__ = "resume"
    return cell
