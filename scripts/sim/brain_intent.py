"""What a user's request asks the simulated model to do, read from the words the way a
model would (no magic phrases): a command to run, a file to read, edit or write, a
pattern to search, a web search, a subagent, a tool named by the user, or a task a
tool's name or description covers. The tool is picked by its schema (a shell tool has a
`command`/`cmd` property, a reader a `file_path`/`path`, ...) so Claude Code's `Bash`
{command, description} (seen in the pinned CLI's requests) and Codex's `exec_command`
{cmd} (openai/codex, codex-rs/core/src/tools/handlers/shell_spec.rs) or `shell`
{command: argv} are all found."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from scripts.sim.brain_schema import object_for, problems

REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
BACKTICKS = re.compile(r"`([^`\n]+)`")
RUN = re.compile(r"\brun(?: the command)?\s+([^`\n;]+?)(?:[.;!?](?:\s|$)|\s+and\s|$)", re.I)
PATH = re.compile(r"(?<![\w/])(/[\w.\-/]+\w|(?:[\w\-]+/)*[\w\-]+\.[A-Za-z]\w{0,4})(?![\w/])")
QUOTED = r"['\"`]([^'\"`]+)['\"`]"
EDIT = re.compile(r"\breplace\s+" + QUOTED + r"\s+with\s+" + QUOTED, re.I)
WRITE = re.compile(r"\b(?:write|create)\b.*?\b(?:with|containing|saying)\s+(?:the\s+text\s+)?" + QUOTED, re.I)
GREP = re.compile(r"\b(?:grep|search)\s+(?:the\s+\w+\s+)?(?:for\s+)?" + QUOTED, re.I)
GLOB = re.compile(r"\b(?:find|list)\s+(?:the\s+)?files\s+(?:matching|named|like)\s+['\"`]?([^\s'\"`]+)", re.I)
WEB = re.compile(r"\b(?:search the web|web search|search online|look up online|search the internet)"
                 r"(?:\s+for)?[\s:]+(.+?)(?:[.?!]\s*$|$)", re.I | re.S)
SUBAGENT = re.compile(r"\b(?:use|ask|start|launch|spawn)\s+(?:a|the)\s+sub-?agent\s+(?:to\s+)?", re.I)
PAIR = re.compile(r"\b([A-Za-z_]\w*)\s*[=:]\s*(\"[^\"]*\"|'[^']*'|[^\s,;]+)")
PLACE = re.compile(r"\b(?:in|for|at|of)\s+([A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)*)")
PLACE_PROPS = ("city", "location", "place", "town", "country", "region")
STOP = {"the", "tool", "tools", "with", "from", "that", "this", "what", "when", "please", "file", "files"}


def human_text(text: str) -> str:
    """The user's own words: Claude Code wraps its context in <system-reminder> tags."""
    return REMINDER.sub(" ", text).strip()


def _props(tool: dict) -> dict:
    return (tool.get("schema") or {}).get("properties") or {}


def _has(tool: dict, *names: str) -> bool:
    return any(n in _props(tool) for n in names)


def _kind(tool: dict) -> str:
    """What a tool does, judged from its input schema (and name where schemas look alike)."""
    name = tool["name"].lower()
    if _has(tool, "old_string") and _has(tool, "new_string"):
        return "edit"
    if _has(tool, "content") and _has(tool, "file_path", "path"):
        return "write"
    if _has(tool, "command", "cmd"):
        return "shell"
    if _has(tool, "prompt") and ("agent" in name or name == "task"):
        return "agent"
    if _has(tool, "pattern"):
        return "glob" if "glob" in name else "grep"
    if _has(tool, "query") and "search" in name:
        return "search"
    if _has(tool, "file_path", "path") and not _has(tool, "url"):
        return "read"
    return "other"


def stated_values(text: str) -> Dict[str, object]:
    """Argument values the request states, by the property names tools use for them."""
    found: Dict[str, object] = {k: v.strip("\"'") for k, v in PAIR.findall(text) if not v.startswith("//")}
    command = BACKTICKS.search(text) or RUN.search(text)
    if command:
        found.setdefault("command", command.group(1).strip())
        found.setdefault("cmd", found["command"])
        found.setdefault("description", f"Run {found['command']}"[:60])
    path = PATH.search(BACKTICKS.sub(" ", text)) or PATH.search(text)
    if path:
        found.setdefault("file_path", path.group(1))
        found.setdefault("path", path.group(1))
    for pattern, keys in ((EDIT, ("old_string", "new_string")), (WRITE, ("content",)),
                          (GREP, ("pattern",)), (GLOB, ("pattern",)), (WEB, ("query",))):
        match = pattern.search(text)
        if match:
            for key, value in zip(keys, match.groups()):
                found.setdefault(key, value.strip())
    quoted = re.search(QUOTED, BACKTICKS.sub(" ", text))
    if quoted:
        found.setdefault("query", quoted.group(1))  # "find the tool 'notebook'": what to look for
    place = PLACE.search(text)
    if place:
        for key in PLACE_PROPS:
            found.setdefault(key, place.group(1))
    return found


def _wants(text: str) -> List[str]:
    """Tool kinds the request asks for, most specific first."""
    kinds = []
    checks = (("agent", SUBAGENT), ("search", WEB), ("edit", EDIT), ("write", WRITE),
              ("shell", BACKTICKS), ("shell", RUN), ("glob", GLOB), ("grep", GREP))
    for kind, pattern in checks:
        if pattern.search(text) and kind not in kinds:
            kinds.append(kind)
    if PATH.search(text) and re.search(r"\b(read|show|open|view|contents?|says?|look at|summari[sz]e|what)",
                                       text, re.I):
        kinds.append("read")
    return kinds


def named_tool(text: str, tools: List[dict]) -> Optional[dict]:
    """A tool the user names: "the Bash tool", "use get_weather", a snake_case name."""
    for tool in tools:
        name = re.escape(tool["name"])
        if re.search(rf"\b(?:the\s+)?{name}\s+tool\b|\buse\s+(?:the\s+)?{name}\b", text) or (
                "_" in tool["name"] and re.search(rf"\b{name}\b", text)):
            return tool
    return None


def _words(text: str) -> set:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOP}


def task_tool(text: str, tools: List[dict]) -> Optional[dict]:
    """The tool whose name (or, failing that, description) shares the most words with the request."""
    asked = _words(text)
    scored = []
    for i, tool in enumerate(tools):
        name_words = _words(re.sub(r"([a-z])([A-Z])", r"\1 \2", tool["name"]).replace("_", " "))
        score = 2 * len(asked & name_words) + len(asked & _words(tool.get("description", "")[:200]))
        if score:
            scored.append((-score, i, tool))
    return min(scored)[2] if scored else None


NAME_HINTS = {"read": ("read", "view", "cat", "open"), "shell": ("bash", "shell", "exec", "command"),
              "edit": ("edit",), "write": ("write",), "grep": ("grep", "search"), "glob": ("glob", "find"),
              "agent": ("agent", "task"), "search": ("search",)}


def _best(tools: List[dict], kind: str) -> Optional[dict]:
    """The tool of this kind whose name says so (Read over EnterWorktree, which also takes
    a path), then one taking a file_path, then any."""
    found = [t for t in tools if _kind(t) == kind]
    named = [t for t in found if any(h in t["name"].lower() for h in NAME_HINTS.get(kind, ()))]
    return next(iter(named or [t for t in found if _has(t, "file_path")] or found), None)


def choose(text: str, tools: List[dict], forced: Optional[str] = None) -> Optional[dict]:
    """The tool this request calls for (`forced`: the name tool_choice requires, "" any)."""
    if forced:
        return next(t for t in tools if t["name"] == forced)
    named = named_tool(text, tools)
    if named:
        return named
    for kind in _wants(text):
        tool = _best(tools, kind)
        if tool:
            return tool
    picked = task_tool(text, [t for t in tools if _kind(t) == "other"])
    if picked or forced is None:
        return picked
    return tools[0]  # tool_choice "any": the model must call one


def arguments(tool: dict, text: str) -> Tuple[dict, List[str]]:
    """The input for `tool` from the request, and what is still wrong with it for the schema."""
    values = stated_values(text)
    schema = tool.get("schema") or {}
    if _kind(tool) == "agent":
        prompt = SUBAGENT.sub("", text, count=1).strip()
        values.update(prompt=prompt[:1].upper() + prompt[1:], description=prompt[:40],
                      subagent_type="general-purpose")

    def lookup(name: str, sub: dict) -> Optional[object]:
        value = values.get(name)
        if value is not None and sub.get("type") == "array" and isinstance(value, str):
            return ["bash", "-lc", value]  # a shell tool taking argv (Codex's `shell`)
        return value

    args = object_for(schema, lookup)
    return args, problems(args, schema)
