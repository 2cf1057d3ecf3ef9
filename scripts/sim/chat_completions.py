"""The OpenAI chat-completions model of the OpenAI-compatible simulator: validation the
way OpenAI-compatible APIs validate, a deterministic reply, and its streamed chunks.

Deterministic rules (the same as the Claude simulators', messages.py, so tests read alike):
- Reply text: "<greeting> This is a deterministic reply from the simulator."
- A tool call is produced when `tools` is set, the last message is a user message,
  tool_choice is not "none", and tool_choice forces a tool ("required" or a named
  function) or the last user text contains "use the tool" (case-insensitive).
  "use the tool NAME" picks the tool NAME when there is one (else the first), and
  "use the tool NAME with key=value, key=value" sets those arguments; the others come from
  the parameters schema (required properties, or all: string "sim", number 1, bool true).
- A last message with role "tool" gets "<greeting> Tool result received: <contents>".
- thinking {"type": "enabled"} (Z.AI's switch) adds reasoning_content to the message.
- max_tokens / max_completion_tokens count words: a longer reply is cut, finish_reason "length".
"""
from __future__ import annotations

import json
import re
import time
from typing import Optional

from scripts.sim.messages import THINKING_TEXT, TEXT_CHUNK_WORDS, fake_input, new_id

ROLES = ("system", "developer", "user", "assistant", "tool")
TOOL_HINT = re.compile(r"use the tool(?:\s+([A-Za-z_][\w-]*))?(?:\s+with\s+([^\n]+))?", re.I)


def text_of(content) -> str:
    """Plain text of a message content: a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return ""


def _tool_call_ids(message: dict) -> list:
    return [call.get("id") for call in message.get("tool_calls") or [] if isinstance(call, dict)]


def _validate_tool_turns(messages: list) -> Optional[str]:
    """role "tool" answers the assistant tool_calls right before it, every one of them."""
    pending: list = []
    for i, msg in enumerate(messages):
        role = msg["role"]
        if role == "tool":
            if msg.get("tool_call_id") not in pending:
                return ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        f"with 'tool_calls'. (messages.[{i}].tool_call_id)")
            pending.remove(msg["tool_call_id"])
            continue
        if pending:
            return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {pending[0]}")
        if role == "assistant":
            pending = list(_tool_call_ids(msg))
    return None


def _validate_tools(body: dict) -> Optional[str]:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list):
        return "Invalid type for 'tools': expected an array."
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            return f"Invalid value for 'tools[{i}].type': expected 'function'."
        if not function.get("name"):
            return f"Missing required parameter: 'tools[{i}].function.name'."
    choice = body.get("tool_choice")
    names = [t["function"]["name"] for t in tools]
    if isinstance(choice, dict) and (choice.get("function") or {}).get("name") not in names:
        return f"Invalid value for 'tool_choice': function {(choice.get('function') or {}).get('name')!r} not in tools."
    if isinstance(choice, str) and choice not in ("none", "auto", "required"):
        return f"Invalid value for 'tool_choice': {choice!r}."
    return None


def validate(body: dict) -> Optional[str]:
    """The 400s an OpenAI-compatible API gives for a malformed chat-completions body."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Missing required parameter: 'messages'."
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES:
            return f"Invalid value for 'messages[{i}].role': expected one of {', '.join(ROLES)}."
        if msg["role"] in ("user", "system", "developer") and not isinstance(msg.get("content"), (str, list)):
            return f"Missing required parameter: 'messages[{i}].content'."
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            return f"Invalid '{key}': integer below minimum value. Expected a value >= 1."
    if "stream" in body and not isinstance(body["stream"], bool):
        return "Invalid type for 'stream': expected a boolean."
    return _validate_tool_turns(messages) or _validate_tools(body)


def _pick_tool(body: dict) -> Optional[tuple]:
    """(tool function, arguments) when the rules above call for a tool."""
    tools, choice, last = body.get("tools"), body.get("tool_choice", "auto"), body["messages"][-1]
    if not tools or choice == "none" or last["role"] != "user":
        return None
    functions = [t["function"] for t in tools]
    hint = tool_hint(text_of(last.get("content")))
    if isinstance(choice, dict):
        function = next(f for f in functions if f["name"] == choice["function"]["name"])
    elif hint or choice == "required":
        named = hint.group(1) if hint else None
        function = next((f for f in functions if f["name"] == named), functions[0])
    else:
        return None
    return function, hinted_arguments(function, hint)


def tool_hint(text: str) -> Optional[re.Match]:
    """The last "use the tool [NAME] [with k=v, ...]" of a user text (the user's own words
    come after Claude Code's reminders)."""
    hints = list(TOOL_HINT.finditer(text))
    return hints[-1] if hints else None


def hinted_arguments(function: dict, hint: Optional[re.Match]) -> dict:
    """Arguments from the function's schema, with the hint's k=v pairs over them."""
    args = fake_input(function.get("parameters") or {})
    for pair in (hint.group(2) or "").split(",") if hint else []:
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            args[key.strip()] = value.strip().rstrip(".")  # the sentence's full stop is not part of it
    return args


def build_completion(body: dict, greeting: str, model: str) -> dict:
    """The whole (non-streamed) chat.completion for a validated body."""
    message: dict = {"role": "assistant", "content": None}
    picked = _pick_tool(body)
    if picked:
        function, args = picked
        message["tool_calls"] = [{"id": new_id("call_sim"), "type": "function",
                                  "function": {"name": function["name"], "arguments": json.dumps(args)}}]
        finish, out_tokens = "tool_calls", max(1, len(json.dumps(args)) // 4)
    else:
        results = [text_of(m.get("content")) for m in _trailing_tool_messages(body["messages"])]
        text = f"{greeting} Tool result received: {' '.join(results)}" if results else \
            f"{greeting} This is a deterministic reply from the simulator."
        words, finish = text.split(" "), "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if limit and len(words) > limit:
            words, finish = words[:limit], "length"
        message["content"], out_tokens = " ".join(words), len(words)
    if (body.get("thinking") or {}).get("type") == "enabled":
        message["reasoning_content"] = THINKING_TEXT
    prompt_tokens = max(1, len(json.dumps(body["messages"])) // 4)
    return {"id": new_id("chatcmpl-sim"), "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens,
                      "total_tokens": prompt_tokens + out_tokens, "prompt_tokens_details": {"cached_tokens": 0}}}


def _trailing_tool_messages(messages: list) -> list:
    tail = []
    for msg in reversed(messages):
        if msg["role"] != "tool":
            break
        tail.insert(0, msg)
    return tail


def completion_chunks(completion: dict) -> list:
    """The chat.completion.chunk objects an SSE stream sends for this completion (usage in the last, as Z.AI)."""
    head = {k: completion[k] for k in ("id", "created", "model")}

    def chunk(delta: dict, finish: Optional[str] = None, **extra) -> dict:
        return {**head, "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}

    choice = completion["choices"][0]
    message = choice["message"]
    chunks = [chunk({"role": "assistant", "content": ""})]
    if message.get("reasoning_content"):
        chunks.append(chunk({"reasoning_content": message["reasoning_content"]}))
    words = re.findall(r"\S+\s*", message.get("content") or "")
    chunks += [chunk({"content": "".join(words[i:i + TEXT_CHUNK_WORDS])})
               for i in range(0, len(words), TEXT_CHUNK_WORDS)]
    for index, call in enumerate(message.get("tool_calls") or []):
        start = {"index": index, "id": call["id"], "type": "function",
                 "function": {"name": call["function"]["name"], "arguments": ""}}
        chunks.append(chunk({"tool_calls": [start]}))
        raw = call["function"]["arguments"]
        chunks += [chunk({"tool_calls": [{"index": index, "function": {"arguments": raw[i:i + 12]}}]})
                   for i in range(0, len(raw), 12)]
    chunks.append(chunk({}, choice["finish_reason"], usage=completion["usage"]))
    return chunks
