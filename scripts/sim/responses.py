"""The OpenAI Responses model as ChatGPT's Codex backend speaks it: request checks,
a deterministic reply and its server-sent events.

Deterministic rules, the same as the Claude simulators' (scripts/sim/messages.py):
- Reply text "<greeting> This is a deterministic reply from the simulator.".
- A function_call when `tools` holds a function, the input does not end with a
  function_call_output, tool_choice is not "none", and tool_choice forces one
  ("required" or a named function) or the last user text says "use the tool"; as in
  scripts/sim/chat_completions.py, "use the tool NAME with k=v, ..." picks NAME and sets
  those arguments, the others are built from the JSON schema (required properties:
  "sim", 1, true).
- An input ending with function_call_output items gets "<greeting> Tool result received: <output>".
"""
from __future__ import annotations

import json
import time
from typing import List, Optional

from scripts.sim.chat_completions import hinted_arguments, tool_hint
from scripts.sim.messages import new_id

TEXT_CHUNK_WORDS = 3


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def validate_input(items) -> Optional[str]:
    if isinstance(items, str):
        return None
    if not isinstance(items, list) or not items:
        return "Invalid 'input': expected a string or a non-empty array of input items."
    calls = set()
    for i, item in enumerate(items):
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind == "function_call":
            calls.add(item.get("call_id"))
        elif kind == "function_call_output" and item.get("call_id") not in calls:
            return f"No tool call found for function call output with call_id {item.get('call_id')}."
        elif kind == "function_call_output" and not _valid_output(item.get("output")):
            return f"Invalid type for 'input[{i}].output': expected a string or an array of input content parts."
        elif kind not in ("message", "reasoning", "function_call_output"):
            return f"Invalid value for 'input[{i}].type'."
        elif kind == "message" and item.get("role") not in ("user", "assistant", "system", "developer"):
            return f"Invalid value for 'input[{i}].role'."
    return None


def _functions(body: dict) -> List[dict]:
    return [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]


def _pick_function(body: dict) -> Optional[dict]:
    tools, items, choice = _functions(body), body["input"], body.get("tool_choice") or "auto"
    if not tools or choice == "none" or isinstance(items, str):
        return None
    if items[-1].get("type") == "function_call_output":
        return None
    if isinstance(choice, dict):
        return next((t for t in tools if t.get("name") == choice.get("name")), tools[0])
    hint = _hint(body)
    if choice != "required" and hint is None:
        return None
    named = hint.group(1) if hint else None
    return next((t for t in tools if t.get("name") == named), tools[0])


def _valid_output(output) -> bool:
    if isinstance(output, str):
        return True
    return isinstance(output, list) and all(isinstance(part, dict) and part.get("type") in
                                            ("input_text", "input_image", "input_file") for part in output)


def _output_text(output) -> str:
    """A function_call_output's output: a string, or (as the Responses API also takes it)
    a list of input_text / input_image / input_file parts, of which the text counts here."""
    if isinstance(output, list):
        return " ".join(part.get("text", "") for part in output if isinstance(part, dict)
                        and part.get("type") == "input_text")
    return str(output)


def _hint(body: dict):
    """The last user text's "use the tool NAME with k=v" (see chat_completions)."""
    items = body["input"]
    last_user = next((i for i in reversed(items) if i.get("type", "message") == "message"
                      and i.get("role") == "user"), None) if isinstance(items, list) else None
    return tool_hint(_text_of(last_user.get("content"))) if last_user is not None else None


def _reply_text(body: dict, greeting: str) -> str:
    items = body["input"]
    if isinstance(items, list):
        outputs = []
        for item in reversed(items):
            if item.get("type") != "function_call_output":
                break
            outputs.insert(0, _output_text(item.get("output", "")))
        if outputs:
            return f"{greeting} Tool result received: {' '.join(outputs)}"
    return f"{greeting} This is a deterministic reply from the simulator."


def build_output(body: dict, greeting: str) -> List[dict]:
    function = _pick_function(body)
    if function:
        arguments = json.dumps(hinted_arguments(function, _hint(body)))
        return [{"id": new_id("fc_"), "type": "function_call", "status": "completed", "arguments": arguments,
                 "call_id": new_id("call_"), "name": function["name"]}]
    text = _reply_text(body, greeting)
    return [{"id": new_id("msg_"), "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": text, "annotations": []}]}]


def build_response(body: dict, output: List[dict]) -> dict:
    in_tokens = max(1, len(json.dumps([body.get("instructions"), body["input"], body.get("tools")])) // 4)
    out_tokens = sum(len(json.dumps(item).split()) for item in output)
    return {"id": new_id("resp_"), "object": "response", "created_at": int(time.time()), "status": "completed",
            "model": body["model"], "output": output, "parallel_tool_calls": True,
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "tool_choice": body.get("tool_choice") or "auto", "tools": body.get("tools") or [],
            "store": False, "usage": {"input_tokens": in_tokens, "input_tokens_details": {"cached_tokens": 0},
                                      "output_tokens": out_tokens,
                                      "output_tokens_details": {"reasoning_tokens": 0},
                                      "total_tokens": in_tokens + out_tokens}}


def _words(text: str) -> List[str]:
    words = text.split(" ")
    return [" ".join(words[i:i + TEXT_CHUNK_WORDS]) + (" " if i + TEXT_CHUNK_WORDS < len(words) else "")
            for i in range(0, len(words), TEXT_CHUNK_WORDS)]


def _item_events(index: int, item: dict) -> List[tuple]:
    """(event, payload, is_delta) for one output item, from added to done."""
    started = dict(item, status="in_progress")
    if item["type"] == "function_call":
        started["arguments"] = ""
        ref = {"item_id": item["id"], "output_index": index}
        return [("response.output_item.added", {"output_index": index, "item": started}, False),
                ("response.function_call_arguments.delta", dict(ref, delta=item["arguments"]), True),
                ("response.function_call_arguments.done", dict(ref, arguments=item["arguments"]), False),
                ("response.output_item.done", {"output_index": index, "item": item}, False)]
    text = item["content"][0]["text"]
    ref = {"item_id": item["id"], "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": []}
    events = [("response.output_item.added", {"output_index": index, "item": dict(started, content=[])}, False),
              ("response.content_part.added", dict(ref, part=empty), False)]
    events += [("response.output_text.delta", dict(ref, delta=chunk, logprobs=[]), True) for chunk in _words(text)]
    return events + [("response.output_text.done", dict(ref, text=text, logprobs=[]), False),
                     ("response.content_part.done", dict(ref, part=item["content"][0]), False),
                     ("response.output_item.done", {"output_index": index, "item": item}, False)]


def response_events(response: dict) -> List[tuple]:
    """The event sequence of a streamed response: (SSE bytes, is_delta) frames."""
    pending = dict(response, status="in_progress", output=[], usage=None)
    events = [("response.created", {"response": pending}, False),
              ("response.in_progress", {"response": pending}, False)]
    for index, item in enumerate(response["output"]):
        events += _item_events(index, item)
    events.append(("response.completed", {"response": response}, False))
    return [(sse(name, dict(payload, type=name, sequence_number=n)), delta)
            for n, (name, payload, delta) in enumerate(events)]


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
