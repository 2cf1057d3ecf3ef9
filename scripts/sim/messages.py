"""The Claude Messages model shared by both simulators: validation, deterministic
reply generation and the streamed event sequence. Bedrock's InvokeModel for Claude
speaks the same message/event shapes as api.anthropic.com, so both use this.

What the model answers (tool calls, documents, structured output, web search) is the
shared simulated model's, scripts/sim/model_brain.py, through scripts/sim/messages_brain.py.
The rules kept here:
- thinking {"type":"enabled"|"adaptive"} puts a signed thinking block first (after a tool
  result only with interleaved thinking: the beta or adaptive); signatures are
  checked when thinking blocks are sent back (one scheme for both simulators, since
  real signatures are valid across platforms).
- Prompt caching: a cache_control prefix of >= 1024 estimated tokens is "written"
  the first time and "read" for 5 minutes (ttl "1h": an hour) after; tokens ~= JSON chars / 4.
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

from scripts.sim.messages_brain import ask_of, search_blocks, thinking_allowed
from scripts.sim.model_brain import decide

# (Anthropic id, display name, Bedrock model id), newest first as the real /v1/models
# orders them. Newer models have undated ids and irregular Bedrock ids; these are
# the ids LiteLLM 1.106's model map and the toolkit's config.yaml use.
DEFAULT_MODELS = [
    # Claude Code 2.1.337's defaults (claude-opus-5-5; claude-sonnet-5-5 on a subscription
    # login), which config.yaml does not list: served through the gateway's new-model path.
    ("claude-opus-5-5", "Claude Opus 5.5", "anthropic.claude-opus-5-5"),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "anthropic.claude-sonnet-5-5"),
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
# Claude 4.8 and later take role "system" turns right after a user turn (Claude Code's
# reminders); older models reject the role anywhere. Anthropic, "What's new in Claude 4.8"
# (platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-8): "Claude Opus 4.8
# accepts role: "system" messages immediately after a user turn ... No beta header is
# required." Claude Code before 2.1.337 sent the beta below with them, and gateways reported
# the API asking for it (github.com/astaxie/TokenHub/pull/73): the sources disagree, so the
# Anthropic simulator has a switch (--anthropic-mid-system-beta optional|required).
MID_SYSTEM_SINCE = (4, 8)
MID_SYSTEM_BETA = "mid-conversation-system-2026-04-07"
_CLAUDE_VERSION = re.compile(r"^claude-[a-z]+-(\d{1,2}(?:-\d{1,2})?)(?:-\d{8})?$")


def claude_version(model_id: Optional[str]) -> tuple:
    """(4, 8) for claude-opus-4-8, (5,) for claude-sonnet-5; () for an id of another shape."""
    match = _CLAUDE_VERSION.match(model_id or "")
    return tuple(int(p) for p in match[1].split("-")) if match else ()


def takes_mid_system(model_id: Optional[str]) -> bool:
    """Claude <family> 4.8 or later (claude-opus-4-8, claude-sonnet-5, claude-opus-5-5 ...)."""
    return claude_version(model_id) >= MID_SYSTEM_SINCE
THINKING_TEXT = "The request is simple; the simulator answers it deterministically."
CACHE_MIN_TOKENS, CACHE_TTLS = 1024, {"5m": 300, "1h": 3600}
TEXT_CHUNK_WORDS = 3


def new_id(prefix: str) -> str:
    return prefix + base64.b32encode(os.urandom(15)).decode().lower()


SIGNING_KEY = b"sim-thinking:"  # the Anthropic simulator's (and, with rules.signatures "shared", Bedrock's)
BEDROCK_SIGNING_KEY = b"sim-bedrock-thinking:"  # Bedrock's own, with rules.signatures "own"


def sign_thinking(text: str, key: bytes = SIGNING_KEY) -> str:
    return base64.b64encode(hashlib.sha256(key + text.encode()).digest()).decode()


def estimate_tokens(body: dict) -> int:
    parts = [body.get("system"), body.get("messages"), body.get("tools")]
    return max(1, len(json.dumps(parts, separators=(",", ":"))) // 4)


def validate_common(body: dict, mid_system: bool = False, key: bytes = SIGNING_KEY) -> Optional[str]:
    """Checks the real API applies to the Messages body (shared with Bedrock invoke).

    mid_system: the model and request allow role "system" turns after the first turn;
    key: the one thinking signatures must have been made with."""
    mt = body.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        return "max_tokens: Input should be a valid integer greater than or equal to 1"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: at least one message is required"
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        return "system: Input should be a valid string or list of text blocks"
    return _validate_messages(msgs, mid_system, key) or _validate_tools(body) or _validate_thinking(body)


def _role(msgs: list, i: int) -> Optional[str]:
    return msgs[i].get("role") if 0 <= i < len(msgs) and isinstance(msgs[i], dict) else None


def _validate_messages(msgs: list, mid_system: bool = False, key: bytes = SIGNING_KEY) -> Optional[str]:
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
            # Anthropic's extended thinking docs: thinking blocks go back with their signature
            # unchanged, which the API verifies.
            if block["type"] == "thinking" and block.get("signature") != sign_thinking(
                    block.get("thinking", ""), key):
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


def cache_usage(body: dict, cache: dict) -> tuple:
    """(cache_creation, cache_read, ttl) tokens for the prefix ending at the last cache_control;
    ttl "5m" or "1h" as that cache_control asks (extended-cache-ttl)."""
    pieces = list(body.get("tools") or [])
    system = body.get("system")
    pieces += system if isinstance(system, list) else []
    for msg in body["messages"]:
        pieces += msg["content"] if isinstance(msg["content"], list) else []
    marked = [i for i, p in enumerate(pieces) if isinstance(p, dict) and p.get("cache_control")]
    if body.get("cache_control") and pieces:
        marked.append(len(pieces) - 1)  # top-level cache_control caches the whole prompt
    if not marked:
        return 0, 0, "5m"
    last = pieces[marked[-1]].get("cache_control") or body.get("cache_control") or {}
    ttl = "1h" if last.get("ttl") == "1h" else "5m"
    prefix = json.dumps(pieces[:marked[-1] + 1], sort_keys=True)
    tokens = len(prefix) // 4
    if tokens < CACHE_MIN_TOKENS:
        return 0, 0, ttl  # the real API silently skips caching below the minimum
    key, now = hashlib.sha256(prefix.encode()).hexdigest(), time.monotonic()
    hit = cache.get(key, 0) > now
    if len(cache) > 10000:
        cache.clear()
    cache[key] = now + CACHE_TTLS[ttl]
    return (0, tokens, ttl) if hit else (tokens, 0, ttl)


def _answer_blocks(answer, body: dict) -> tuple:
    """(content blocks, stop_reason, stop_sequence, output tokens) of the model's answer."""
    if answer.call:
        name, args = answer.call
        block = {"type": "tool_use", "id": new_id("toolu_sim"), "name": name, "input": args}
        return [block], "tool_use", None, max(1, len(json.dumps(args)) // 4)
    if answer.search:
        blocks = search_blocks(answer, new_id)
        return blocks, "end_turn", None, len(answer.text.split())
    text, stop, stop_seq = answer.text, "end_turn", None
    for seq in body.get("stop_sequences") or []:
        if seq and seq in text:
            text, stop, stop_seq = text[:text.index(seq)], "stop_sequence", seq
    words = text.split(" ")
    room = body["max_tokens"]
    if len(words) > room:
        words, stop = words[:max(room, 0)], "max_tokens"
    return [{"type": "text", "text": " ".join(words)}], stop, stop_seq, len(words)


def build_message(body: dict, greeting: str, model: str, msg_id: str, cache: dict,
                  betas: Optional[list] = None, server_tools: bool = False) -> dict:
    """The full (non-streamed) assistant message for a validated Messages body.

    betas: the request's beta flags (interleaved thinking); server_tools: the upstream
    runs Anthropic's server tools (web search)."""
    content, out_tokens = [], 0
    if thinking_on(body) and thinking_allowed(body, betas or []):
        # display "omitted": the real API returns an empty thinking text, still signed.
        shown = "" if body["thinking"].get("display") == "omitted" else THINKING_TEXT
        content.append({"type": "thinking", "thinking": shown, "signature": sign_thinking(shown)})
        out_tokens += len(THINKING_TEXT.split())
    answer = decide(ask_of(body, greeting, server_tools))
    blocks, stop, stop_seq, tokens = _answer_blocks(answer, {**body, "max_tokens": body["max_tokens"] - out_tokens})
    content += blocks
    out_tokens += tokens
    created, read, ttl = cache_usage(body, cache)
    # The split by ttl: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
    split = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0, f"ephemeral_{ttl}_input_tokens": created}
    usage = {"input_tokens": max(1, estimate_tokens(body) - created - read),
             "cache_creation_input_tokens": created, "cache_read_input_tokens": read,
             "cache_creation": split, "output_tokens": out_tokens}
    if answer.search:
        usage["server_tool_use"] = {"web_search_requests": 1}
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
        cites = [{"type": "citations_delta", "citation": c} for c in block.get("citations") or []]
        return {"type": "text", "text": ""}, cites + [{"type": "text_delta", "text": t} for t in texts]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": t} for t in _chunks(block["thinking"], 24)]
        return ({"type": "thinking", "thinking": "", "signature": ""},
                deltas + [{"type": "signature_delta", "signature": block["signature"]}])
    if kind == "web_search_tool_result":
        return block, []  # sent whole in content_block_start
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
