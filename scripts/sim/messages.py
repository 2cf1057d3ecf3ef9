"""The Claude Messages model shared by both simulators: validation, deterministic
reply generation and the streamed event sequence. Bedrock's InvokeModel for Claude
speaks the same message/event shapes as api.anthropic.com, so both use this.

Deterministic rules (so tests can assert exact behaviour):
- Reply text: "<greeting> This is a deterministic reply from the simulator.", where
  the caller's greeting names the upstream and model.
- A tool_use block is produced when `tools` is set, the last message carries no
  tool_result, tool_choice is not "none", and either tool_choice forces a tool
  ("any"/"tool") or the last user text contains "use the tool" (case-insensitive).
  The tool is the one named by tool_choice, else the first; its input is built from
  the input_schema (required properties, or all: string "sim", number 1, bool true).
- A last message with tool_result blocks gets "<greeting> Tool result received: <content>".
- thinking {"type":"enabled"|"adaptive"} puts a signed thinking block first; signatures are
  checked when thinking blocks are sent back (one scheme for both simulators, since
  real signatures are valid across platforms).
- Prompt caching: a cache_control prefix of >= 1024 estimated tokens is "written"
  the first time and "read" for 5 minutes after; tokens ~= JSON chars / 4.
- max_tokens counts words: a longer reply is cut with stop_reason "max_tokens".
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from typing import Optional

# (Anthropic id, display name, Bedrock model id), newest first as the real /v1/models
# orders them. Newer models have undated ids and irregular Bedrock ids; these are
# the ids LiteLLM 1.106's model map and the toolkit's config.yaml use.
DEFAULT_MODELS = [
    ("claude-sonnet-5", "Claude Sonnet 5", "anthropic.claude-sonnet-5"),
    ("claude-opus-4-8", "Claude Opus 4.8", "anthropic.claude-opus-4-8"),
    ("claude-opus-4-7", "Claude Opus 4.7", "anthropic.claude-opus-4-7"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "anthropic.claude-sonnet-4-6"),
    ("claude-opus-4-6", "Claude Opus 4.6", "anthropic.claude-opus-4-6-v1"),
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", "anthropic.claude-opus-4-5-20251101-v1:0"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "anthropic.claude-opus-4-1-20250805-v1:0"),
    ("claude-opus-4-20250514", "Claude Opus 4", "anthropic.claude-opus-4-20250514-v1:0"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "anthropic.claude-sonnet-4-20250514-v1:0"),
]
# Claude 4.8+ and the 5 family take role "system" turns after the first one (Claude Code's
# reminders; on the API with the beta below); older models reject the role anywhere.
MID_SYSTEM_MODELS = ("claude-opus-4-8", "claude-sonnet-5")
MID_SYSTEM_BETA = "mid-conversation-system-2026-04-07"
THINKING_TEXT = "The request is simple; the simulator answers it deterministically."
CACHE_MIN_TOKENS, CACHE_TTL = 1024, 300
TEXT_CHUNK_WORDS = 3


def new_id(prefix: str) -> str:
    return prefix + base64.b32encode(os.urandom(15)).decode().lower()


def sign_thinking(text: str) -> str:
    return base64.b64encode(hashlib.sha256(b"sim-thinking:" + text.encode()).digest()).decode()


def text_of(content) -> str:
    """Plain text of a message content (string or block list), tool results included."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif block.get("type") == "tool_result":
            parts.append(text_of(block.get("content", "")))
    return " ".join(parts)


def estimate_tokens(body: dict) -> int:
    parts = [body.get("system"), body.get("messages"), body.get("tools")]
    return max(1, len(json.dumps(parts, separators=(",", ":"))) // 4)


def validate_common(body: dict, mid_system: bool = False) -> Optional[str]:
    """Checks the real API applies to the Messages body (shared with Bedrock invoke).

    mid_system: the model and request allow role "system" turns after the first turn."""
    mt = body.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        return "max_tokens: Input should be a valid integer greater than or equal to 1"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: at least one message is required"
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        return "system: Input should be a valid string or list of text blocks"
    return _validate_messages(msgs, mid_system) or _validate_tools(body) or _validate_thinking(body)


def _role(msgs: list, i: int) -> Optional[str]:
    return msgs[i].get("role") if 0 <= i < len(msgs) and isinstance(msgs[i], dict) else None


def _validate_messages(msgs: list, mid_system: bool = False) -> Optional[str]:
    for i, msg in enumerate(msgs):
        # A mid-conversation system turn follows a user turn and ends the list or precedes an assistant turn.
        placed = mid_system and _role(msgs, i - 1) == "user" and _role(msgs, i + 1) in (None, "assistant")
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant") and not (
                placed and msg.get("role") == "system"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = msg.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            return f"messages.{i}.content: Input should be a valid string or list"
        for j, block in enumerate(content):
            if not isinstance(block, dict) or "type" not in block:
                return f"messages.{i}.content.{j}.type: Field required"
            if block["type"] == "thinking" and block.get("signature") != sign_thinking(
                    block.get("thinking", "")):
                return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        err = _check_tool_pairing(msgs, i)
        if err:
            return err
    return None


def _ids(msg: Optional[dict], block_type: str, key: str) -> list:
    content = msg.get("content") if msg else None
    if not isinstance(content, list):
        return []
    return [b.get(key) for b in content if isinstance(b, dict) and b.get("type") == block_type]


def _check_tool_pairing(msgs: list, i: int) -> Optional[str]:
    """tool_use must be answered by tool_result in the very next message, and vice versa."""
    results = _ids(msgs[i], "tool_result", "tool_use_id")
    prev_uses = _ids(msgs[i - 1], "tool_use", "id") if i else []
    stray = [r for r in results if r not in prev_uses]
    if stray:
        return (f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{stray[0]}. Each `tool_result` block must have a corresponding `tool_use` "
                "block in the previous message.")
    uses = _ids(msgs[i], "tool_use", "id")
    if uses and i + 1 < len(msgs):
        missing = [u for u in uses if u not in _ids(msgs[i + 1], "tool_result", "tool_use_id")]
        if missing:
            return (f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {missing[0]}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message.")
    return None


def _validate_tools(body: dict) -> Optional[str]:
    tools = body.get("tools") or []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not tool.get("name"):
            return f"tools.{i}.name: Field required"
        if tool.get("type", "custom") == "custom" and "input_schema" not in tool:
            return f"tools.{i}.custom.input_schema: Field required"
    choice = body.get("tool_choice")
    if choice is not None:
        if isinstance(choice, dict) and "type" not in choice:
            # Bedrock's answer to a tool_choice without one (BerriAI/litellm issues #22637, #34276)
            return "tool_choice.type: Field required"
        if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
            return "tool_choice: Input tag does not match any of the expected tags"
        if choice["type"] == "tool" and choice.get("name") not in [t["name"] for t in tools]:
            return f"tool_choice.name: tool `{choice.get('name')}` not found in `tools`"
    return None


def tool_summary(body: dict) -> dict:
    """What a request says about tools, for the simulators' request log (tests read it)."""
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    return {"tools": [t.get("name") for t in tools if isinstance(t, dict)], "tool_choice": body.get("tool_choice")}


def thinking_on(body: dict) -> bool:
    return (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")


def _validate_thinking(body: dict) -> Optional[str]:
    thinking = body.get("thinking")
    if thinking is None:
        return None
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in ("enabled", "disabled", "adaptive", "between_tools"):
        return "thinking.type: Input should be 'enabled', 'disabled', 'adaptive' or 'between_tools'"
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if body["max_tokens"] <= budget:
            return "`max_tokens` must be greater than `thinking.budget_tokens`."
    if kind in ("enabled", "adaptive"):
        if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
            return "Thinking may not be enabled when tool_choice forces tool use."
        if body.get("temperature", 1) != 1:
            return "`temperature` may only be set to 1 when thinking is enabled."
    return None


def _fake_value(schema: dict):
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    return {"integer": 1, "number": 1, "boolean": True, "array": [],
            "object": fake_input(schema)}.get(kind, "sim")


def fake_input(schema: dict) -> dict:
    props = schema.get("properties") or {}
    return {k: _fake_value(props.get(k, {})) for k in (schema.get("required") or list(props))}


def _pick_tool(body: dict) -> Optional[dict]:
    tools, choice = body.get("tools"), body.get("tool_choice") or {"type": "auto"}
    last = body["messages"][-1]
    if not tools or choice["type"] == "none" or _ids(last, "tool_result", "tool_use_id"):
        return None
    if choice["type"] == "tool":
        return next(t for t in tools if t["name"] == choice["name"])
    asked = last["role"] == "user" and "use the tool" in text_of(last["content"]).lower()
    return tools[0] if choice["type"] == "any" or asked else None


def cache_usage(body: dict, cache: dict) -> tuple:
    """(cache_creation, cache_read) tokens for the prefix ending at the last cache_control."""
    pieces = list(body.get("tools") or [])
    system = body.get("system")
    pieces += system if isinstance(system, list) else []
    for msg in body["messages"]:
        pieces += msg["content"] if isinstance(msg["content"], list) else []
    marked = [i for i, p in enumerate(pieces) if isinstance(p, dict) and p.get("cache_control")]
    if body.get("cache_control") and pieces:
        marked.append(len(pieces) - 1)  # top-level cache_control caches the whole prompt
    if not marked:
        return 0, 0
    prefix = json.dumps(pieces[:marked[-1] + 1], sort_keys=True)
    tokens = len(prefix) // 4
    if tokens < CACHE_MIN_TOKENS:
        return 0, 0  # the real API silently skips caching below the minimum
    key, now = hashlib.sha256(prefix.encode()).hexdigest(), time.monotonic()
    hit = cache.get(key, 0) > now
    if len(cache) > 10000:
        cache.clear()
    cache[key] = now + CACHE_TTL
    return (0, tokens) if hit else (tokens, 0)


def _reply_text(body: dict, greeting: str) -> str:
    last = body["messages"][-1]
    results = [b for b in last["content"] if b.get("type") == "tool_result"] \
        if isinstance(last["content"], list) else []
    if results:
        got = " ".join(text_of(b.get("content", "")) for b in results)
        return f"{greeting} Tool result received: {got}"
    return f"{greeting} This is a deterministic reply from the simulator."


def build_message(body: dict, greeting: str, model: str, msg_id: str, cache: dict) -> dict:
    """The full (non-streamed) assistant message for a validated Messages body."""
    content, out_tokens, stop, stop_seq = [], 0, "end_turn", None
    if thinking_on(body):
        # display "omitted": the real API returns an empty thinking text, still signed.
        shown = "" if body["thinking"].get("display") == "omitted" else THINKING_TEXT
        content.append({"type": "thinking", "thinking": shown, "signature": sign_thinking(shown)})
        out_tokens += len(THINKING_TEXT.split())
    tool = _pick_tool(body)
    if tool:
        args = fake_input(tool.get("input_schema") or {})
        content.append({"type": "tool_use", "id": new_id("toolu_sim"), "name": tool["name"],
                        "input": args})
        out_tokens, stop = out_tokens + max(1, len(json.dumps(args)) // 4), "tool_use"
    else:
        text = _reply_text(body, greeting)
        for seq in body.get("stop_sequences") or []:
            if seq and seq in text:
                text, stop, stop_seq = text[:text.index(seq)], "stop_sequence", seq
        words = text.split(" ")
        room = body["max_tokens"] - out_tokens
        if len(words) > room:
            words, stop = words[:max(room, 0)], "max_tokens"
        content.append({"type": "text", "text": " ".join(words)})
        out_tokens += len(words)
    created, read = cache_usage(body, cache)
    usage = {"input_tokens": max(1, estimate_tokens(body) - created - read),
             "cache_creation_input_tokens": created, "cache_read_input_tokens": read,
             "output_tokens": out_tokens}
    return {"id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": stop_seq, "usage": usage}


def _chunks(text: str, size: int) -> list:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _block_stream(block: dict) -> tuple:
    """(empty content_block for content_block_start, list of deltas) for one block."""
    kind = block["type"]
    if kind == "text":
        words = re.findall(r"\S+\s*", block["text"]) or [""]
        texts = ["".join(words[i:i + TEXT_CHUNK_WORDS]) for i in range(0, len(words), TEXT_CHUNK_WORDS)]
        return {"type": "text", "text": ""}, [{"type": "text_delta", "text": t} for t in texts]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": t} for t in _chunks(block["thinking"], 24)]
        return ({"type": "thinking", "thinking": "", "signature": ""},
                deltas + [{"type": "signature_delta", "signature": block["signature"]}])
    raw = json.dumps(block["input"])
    deltas = [{"type": "input_json_delta", "partial_json": p} for p in [""] + _chunks(raw, 12)]
    return {**block, "input": {}}, deltas


def message_events(msg: dict) -> list:
    """The SSE event sequence the real API streams for this message."""
    head = {**msg, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**msg["usage"], "output_tokens": 1}}
    events = [{"type": "message_start", "message": head}]
    for i, block in enumerate(msg["content"]):
        start, deltas = _block_stream(block)
        events.append({"type": "content_block_start", "index": i, "content_block": start})
        if i == 0:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": i, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": i})
    events.append({"type": "message_delta", "usage": {"output_tokens": msg["usage"]["output_tokens"]},
                   "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": msg["stop_sequence"]}})
    events.append({"type": "message_stop"})
    return events
