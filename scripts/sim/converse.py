"""Bedrock Converse API <-> Claude Messages translation for the Bedrock simulator.

Bedrock runs Converse requests for Claude through the same model as InvokeModel, so
the simulator translates a Converse body into an Anthropic Messages body (then
validated and answered by messages.py) and translates the reply and its event
sequence back into Converse shapes:

  message_start -> messageStart {role}
  content_block_start (tool_use) -> contentBlockStart {start: {toolUse}, contentBlockIndex}
  text/input_json/thinking/signature deltas -> contentBlockDelta {delta: {...}, contentBlockIndex}
  content_block_stop -> contentBlockStop;  message_delta -> messageStop {stopReason}
  message_stop -> metadata {usage, metrics}
"""
from __future__ import annotations

import json
from typing import Optional

NULL_MESSAGES = ("1 validation error detected: Value null at 'messages' failed to satisfy "
                 "constraint: Member must not be null")
FIRST_USER = ("A conversation must start with a user message. Try again with a conversation "
              "that starts with a user message.")
NEED_TOOL_CONFIG = ("The toolConfig field must be defined when using toolUse and toolResult "
                    "content blocks.")


def _block(b: dict) -> Optional[dict]:
    """One Converse content block as an Anthropic block (None for cachePoint markers)."""
    if "text" in b:
        return {"type": "text", "text": b["text"]}
    if "toolUse" in b:
        tu = b["toolUse"]
        return {"type": "tool_use", "id": tu.get("toolUseId"), "name": tu.get("name"),
                "input": tu.get("input", {})}
    if "toolResult" in b:
        tr = b["toolResult"]
        parts = [{"type": "text", "text": c["text"] if "text" in c else json.dumps(c.get("json"))}
                 for c in tr.get("content", [])]
        return {"type": "tool_result", "tool_use_id": tr.get("toolUseId"), "content": parts}
    if "reasoningContent" in b:
        rt = b["reasoningContent"].get("reasoningText", {})
        return {"type": "thinking", "thinking": rt.get("text", ""), "signature": rt.get("signature")}
    if "cachePoint" in b:
        return None
    return {"type": "text", "text": "[attachment]"}  # image/document: content is irrelevant here


def _blocks(content: list) -> list:
    """Converse blocks -> Anthropic blocks; a cachePoint marks the block before it."""
    out = []
    for b in content:
        block = _block(b)
        if block is None:
            if out:
                out[-1]["cache_control"] = {"type": "ephemeral"}
        else:
            out.append(block)
    return out


def _tools(tool_config: dict) -> tuple:
    tools = [{"name": t["toolSpec"]["name"], "description": t["toolSpec"].get("description", ""),
              "input_schema": t["toolSpec"].get("inputSchema", {}).get("json", {})}
             for t in tool_config.get("tools", []) if "toolSpec" in t]
    choice = tool_config.get("toolChoice")
    if not choice:
        return tools, None
    if "tool" in choice:
        return tools, {"type": "tool", "name": choice["tool"].get("name")}
    return tools, {"type": "any" if "any" in choice else "auto"}


def converse_to_messages(body: dict) -> tuple:
    """(Anthropic invoke body, None) or (None, ValidationException message)."""
    msgs = body.get("messages")
    if msgs is None:
        return None, NULL_MESSAGES
    if not isinstance(msgs, list) or not msgs or not isinstance(msgs[0], dict) \
            or msgs[0].get("role") != "user":
        return None, FIRST_USER
    messages = [{"role": m.get("role"), "content": _blocks(m.get("content") or [])} for m in msgs]
    uses_tools = any(b["type"] in ("tool_use", "tool_result") for m in messages for b in m["content"])
    if uses_tools and not body.get("toolConfig"):
        return None, NEED_TOOL_CONFIG
    inference = body.get("inferenceConfig") or {}
    out = {"anthropic_version": "bedrock-2023-05-31", "messages": messages,
           "max_tokens": inference.get("maxTokens", 4096)}
    for src, dst in (("temperature", "temperature"), ("topP", "top_p"), ("stopSequences", "stop_sequences")):
        if src in inference:
            out[dst] = inference[src]
    if body.get("system"):
        out["system"] = _blocks(body["system"])
    extra = body.get("additionalModelRequestFields") or {}
    if body.get("toolConfig"):
        out["tools"], choice = _tools(body["toolConfig"])
        if choice:
            out["tool_choice"] = choice
            conflict = _tool_choice_conflict(body["toolConfig"], extra)
            if conflict:
                return None, conflict
    out.update(extra)  # e.g. thinking, top_k, anthropic_beta
    return out, None


def _tool_choice_conflict(tool_config: dict, extra: dict) -> Optional[str]:
    """Bedrock refuses a tool_choice type in the additional fields next to toolConfig.toolChoice
    (BerriAI/litellm issue #36536 quotes this answer)."""
    passed = extra.get("tool_choice")
    if not (isinstance(passed, dict) and "type" in passed):
        return None
    kind = next(iter(tool_config["toolChoice"]), "auto")
    return (f"The additional field tool_choice/type conflicts with the existing field "
            f"toolConfig.toolChoice.{kind}. Remove tool_choice/type and try again.")


def _converse_block(block: dict) -> dict:
    if block["type"] == "text":
        return {"text": block["text"]}
    if block["type"] == "tool_use":
        return {"toolUse": {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}}
    return {"reasoningContent": {"reasoningText": {"text": block["thinking"], "signature": block["signature"]}}}


def _usage(u: dict) -> dict:
    total_in = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
    usage = {"inputTokens": u["input_tokens"], "outputTokens": u["output_tokens"],
             "totalTokens": total_in + u["output_tokens"]}
    if u["cache_read_input_tokens"] or u["cache_creation_input_tokens"]:
        usage.update(cacheReadInputTokens=u["cache_read_input_tokens"],
                     cacheWriteInputTokens=u["cache_creation_input_tokens"])
    return usage


def converse_reply(msg: dict) -> dict:
    """The Converse response body for an Anthropic message."""
    return {"output": {"message": {"role": "assistant",
                                   "content": [_converse_block(b) for b in msg["content"]]}},
            "stopReason": msg["stop_reason"], "usage": _usage(msg["usage"]),
            "metrics": {"latencyMs": 1}}


def _delta(d: dict) -> Optional[dict]:
    kind = d["type"]
    if kind == "text_delta":
        return {"text": d["text"]}
    if kind == "input_json_delta":
        return {"toolUse": {"input": d["partial_json"]}} if d["partial_json"] else None
    if kind == "thinking_delta":
        return {"reasoningContent": {"text": d["thinking"]}}
    return {"reasoningContent": {"signature": d["signature"]}}


def converse_events(events: list) -> list:
    """(event type, payload) pairs of ConverseStream for an Anthropic event sequence."""
    out, usage = [], None
    for ev in events:
        kind = ev["type"]
        if kind == "message_start":
            usage = ev["message"]["usage"]
            out.append(("messageStart", {"role": "assistant"}))
        elif kind == "content_block_start" and ev["content_block"]["type"] == "tool_use":
            cb = ev["content_block"]
            out.append(("contentBlockStart", {"start": {"toolUse": {"toolUseId": cb["id"], "name": cb["name"]}},
                                              "contentBlockIndex": ev["index"]}))
        elif kind == "content_block_delta" and _delta(ev["delta"]) is not None:
            out.append(("contentBlockDelta", {"delta": _delta(ev["delta"]), "contentBlockIndex": ev["index"]}))
        elif kind == "content_block_stop":
            out.append(("contentBlockStop", {"contentBlockIndex": ev["index"]}))
        elif kind == "message_delta":
            usage = {**usage, "output_tokens": ev["usage"]["output_tokens"]}
            out.append(("messageStop", {"stopReason": ev["delta"]["stop_reason"]}))
        elif kind == "message_stop":
            out.append(("metadata", {"usage": _usage(usage), "metrics": {"latencyMs": 1}}))
    return out
