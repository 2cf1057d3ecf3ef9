"""The simulated model, one for every simulated upstream (Anthropic, Bedrock invoke and
Converse, the OpenAI-compatible, ChatGPT and Copilot tiers): deterministic, no weights,
and acting on what a request asks the way a model would. Each wire format has a thin
adapter that turns its body into an Ask and the Answer back into its own shapes.

What it does (scripts/sim/brain_intent.py reads the request's words):
- Calls the tool the user asks for, by name ("the Bash tool") or by task (a command in
  backticks or after "run" -> the shell tool; a file to read/edit/write; a pattern to
  search; a subagent; a tool whose name fits the request, "weather in Paris" ->
  get_weather {"city": "Paris"}), with arguments from the request, valid for the schema.
  tool_choice "any"/a named tool forces a call; "none" forbids one.
- After tool results it answers "<greeting> Tool result received: <the results>", so a
  command's output reaches the user's answer.
- Reads the documents (PDF text, plain text) and images (type, size) it is given.
- Answers through Claude Code's StructuredOutput tool when offered (`claude -p
  --json-schema` sends the schema as that tool), or as JSON text when the request has an
  output schema (output_format / response_format), with an object valid for the schema.
- Runs the web search server tool when offered (Answer.search: the adapter emits the
  search blocks and cites the results).
- Otherwise: "<greeting> This is a deterministic reply from the simulator."
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from scripts.sim.brain_intent import WEB, stated_values, arguments, choose, human_text
from scripts.sim.brain_schema import object_for
from scripts.sim.web_search import Page, search

DEFAULT_REPLY = "This is a deterministic reply from the simulator."
STRUCTURED_TOOL = "StructuredOutput"  # Claude Code 2.1's tool for --json-schema (seen in its requests)


@dataclass
class Turn:
    role: str                                           # "user" or "assistant"
    text: str = ""                                      # what was written (user: reminders included)
    results: List[str] = field(default_factory=list)    # tool results' text, documents read in them included
    calls: List[str] = field(default_factory=list)      # names of the tools the assistant called
    seen: List[str] = field(default_factory=list)       # what attached documents and images show


@dataclass
class Ask:
    turns: List[Turn]
    greeting: str
    tools: List[dict] = field(default_factory=list)     # {"name", "schema", "description"}
    forced: Optional[str] = None                        # tool_choice: a tool name, "" for any, None for auto
    json_schema: Optional[dict] = None                  # the answer text must be JSON valid for it
    web_search: bool = False                            # the server's web search tool is offered


@dataclass
class Answer:
    text: str = ""
    call: Optional[Tuple[str, dict]] = None             # (tool name, input)
    search: Optional[str] = None                        # query the server-side web search ran
    pages: List[Page] = field(default_factory=list)     # what it found (the text cites them)


def _request(turns: List[Turn]) -> str:
    """The user's latest own words."""
    for turn in reversed(turns):
        if turn.role == "user" and human_text(turn.text):
            return human_text(turn.text)
    return ""


def _conversation(turns: List[Turn]) -> str:
    return " ".join(human_text(t.text) + " " + " ".join(t.results + t.seen) for t in turns)


def structured_object(schema: dict, turns: List[Turn]) -> dict:
    """An object valid for the schema, taking the values the conversation states."""
    values = stated_values(_conversation(turns))
    return object_for(schema, lambda name, sub: values.get(name))


def _reply_text(ask: Ask) -> str:
    last = ask.turns[-1]
    if last.results:  # Claude Code's Read of a PDF: the text result, the document beside it
        return f"{ask.greeting} Tool result received: {' '.join(last.results + last.seen)}"
    if last.seen:
        return f"{ask.greeting} I was given {'; '.join(last.seen)}"
    return f"{ask.greeting} {DEFAULT_REPLY}"


def _web_search(ask: Ask, request: str) -> Optional[Answer]:
    match = WEB.search(request)
    if not (ask.web_search and match) or ask.turns[-1].results:
        return None
    query = re.sub(r"^(?:the\s+)?query\s*:?\s*", "", match.group(1).strip(), flags=re.I)
    pages = search(query)
    listed = "; ".join(f"{p.title} ({p.url})" for p in pages)
    return Answer(text=f"{ask.greeting} The web search for \"{query}\" found: {listed}", search=query, pages=pages)


def _tool_call(ask: Ask, request: str) -> Optional[Answer]:
    tools = [t for t in ask.tools if t["name"] != STRUCTURED_TOOL or ask.forced == STRUCTURED_TOOL]
    if not tools or ask.turns[-1].results and ask.forced is None:
        return None
    tool = choose(request, tools, ask.forced)
    if tool is None:
        return None
    args, wrong = arguments(tool, request)
    if wrong and ask.forced is None:
        return None  # the request does not say enough for this tool: answer instead
    return Answer(call=(tool["name"], args))


def _structured(ask: Ask) -> Optional[Answer]:
    tool = next((t for t in ask.tools if t["name"] == STRUCTURED_TOOL), None)
    answered = len(ask.turns) > 1 and STRUCTURED_TOOL in ask.turns[-2].calls
    if tool is None or answered or ask.forced not in (None, "", STRUCTURED_TOOL):
        return None
    return Answer(call=(STRUCTURED_TOOL, structured_object(tool["schema"], ask.turns)))


def decide(ask: Ask) -> Answer:
    """What the model answers to this request."""
    request = _request(ask.turns)
    answer = _web_search(ask, request) or _tool_call(ask, request) or _structured(ask)
    if answer:
        return answer
    if ask.json_schema is not None:
        return Answer(text=json.dumps(structured_object(ask.json_schema, ask.turns)))
    return Answer(text=_reply_text(ask))
