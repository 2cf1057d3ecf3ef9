"""The OpenAI-format adapters of the simulated model (scripts/sim/model_brain.py): a
chat-completions body (OpenAI-compatible tiers, Copilot) or a Responses body (ChatGPT's
Codex backend) as an Ask. Tool results (role "tool" messages, function_call_output
items) become a user turn's results, as the Messages format carries them."""
from __future__ import annotations

import re
from typing import List, Optional

from scripts.sim.brain_reading import document_text, image_description
from scripts.sim.model_brain import Ask, Turn

DATA_URL = re.compile(r"^data:([\w/+.-]+);base64,(.*)$", re.S)


def _data_url(url: str, image: bool) -> str:
    match = DATA_URL.match(url or "")
    if not match:
        return f"an image at {url}" if image else "a file the simulator cannot open"
    media, data = match.groups()
    if image and media.startswith("image/"):  # LiteLLM sends an Anthropic PDF document as an image_url data URL
        return image_description(media, data)
    return f"a document that says: {document_text(media, data)}"


def _part_texts(content) -> tuple:
    """(text, what attachments show) of a content string or list of parts, both formats."""
    if isinstance(content, str):
        return content, []
    texts, seen = [], []
    for part in content or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text", "output_text"):
            texts.append(part.get("text", ""))
        elif kind == "image_url":
            seen.append(_data_url((part.get("image_url") or {}).get("url", ""), True))
        elif kind == "input_image":
            seen.append(_data_url(part.get("image_url", ""), True))
        elif kind == "file":
            seen.append(_data_url((part.get("file") or {}).get("file_data", ""), False))
        elif kind == "input_file":
            seen.append(_data_url(part.get("file_data", ""), False))
    return " ".join(texts), seen


def _add(turns: List[Turn], role: str) -> Turn:
    if not turns or turns[-1].role != role:
        turns.append(Turn(role=role))
    return turns[-1]


def _chat_turns(messages: list) -> List[Turn]:
    turns: List[Turn] = []
    for msg in messages:
        role = msg.get("role")
        text, seen = _part_texts(msg.get("content"))
        if role == "tool":
            _add(turns, "user").results.append(" ".join([text] + seen))
        elif role == "assistant":
            turn = _add(turns, "assistant")
            turn.calls += [(c.get("function") or {}).get("name", "") for c in msg.get("tool_calls") or []]
        elif role == "user":  # after tool messages: the same turn (LiteLLM splits one Anthropic user turn so)
            turn = _add(turns, "user")
            turn.text, turn.seen = f"{turn.text} {text}".strip(), turn.seen + seen
    return turns


def _chat_forced(choice) -> Optional[str]:
    if choice == "required":
        return ""
    return (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None


def _format_schema(fmt) -> Optional[dict]:
    """response_format {type json_schema, json_schema {schema}} (chat) or text.format (Responses)."""
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    return (fmt.get("json_schema") or fmt).get("schema")


def chat_ask(body: dict, greeting: str) -> Ask:
    choice = body.get("tool_choice", "auto")
    tools = [{"name": f.get("name", ""), "schema": f.get("parameters") or {}, "description": f.get("description", "")}
             for f in ((t.get("function") or {}) for t in body.get("tools") or [] if isinstance(t, dict))]
    return Ask(turns=_chat_turns(body["messages"]), greeting=greeting, tools=[] if choice == "none" else tools,
               forced=_chat_forced(choice), json_schema=_format_schema(body.get("response_format")))


def _responses_turns(items) -> List[Turn]:
    if isinstance(items, str):
        return [Turn(role="user", text=items)]
    turns: List[Turn] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "function_call_output":
            output = item.get("output", "")
            text, seen = _part_texts(output) if isinstance(output, list) else (str(output), [])
            _add(turns, "user").results.append(" ".join([text] + seen).strip())
        elif kind == "function_call":
            _add(turns, "assistant").calls.append(item.get("name", ""))
        elif kind == "message" and item.get("role") == "user":
            turn = _add(turns, "user")
            text, seen = _part_texts(item.get("content"))
            turn.text, turn.seen = f"{turn.text} {text}".strip(), turn.seen + seen
    return turns or [Turn(role="user")]


def responses_ask(body: dict, greeting: str) -> Ask:
    choice = body.get("tool_choice") or "auto"
    tools = [{"name": t.get("name", ""), "schema": t.get("parameters") or {}, "description": t.get("description", "")}
             for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    forced = "" if choice == "required" else choice.get("name") if isinstance(choice, dict) else None
    if forced and forced not in [t["name"] for t in tools]:
        forced = ""
    return Ask(turns=_responses_turns(body["input"]), greeting=greeting, tools=[] if choice == "none" else tools,
               forced=forced, json_schema=_format_schema((body.get("text") or {}).get("format")))
