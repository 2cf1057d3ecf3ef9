"""The OpenAI Responses model as ChatGPT's Codex backend speaks it: request checks,
a deterministic reply and its server-sent events.

What the model answers (function calls, documents, structured output) is the shared
simulated model's, scripts/sim/model_brain.py, through scripts/sim/openai_brain.py.
"""
from __future__ import annotations

import json
import time
from typing import List, Optional

from scripts.sim.messages import new_id
from scripts.sim.model_brain import decide
from scripts.sim.openai_brain import responses_ask

TEXT_CHUNK_WORDS = 3


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


def _valid_output(output) -> bool:
    if isinstance(output, str):
        return True
    return isinstance(output, list) and all(isinstance(part, dict) and part.get("type") in
                                            ("input_text", "input_image", "input_file") for part in output)


def build_output(body: dict, greeting: str) -> List[dict]:
    answer = decide(responses_ask(body, greeting))
    if answer.call:
        name, args = answer.call
        return [{"id": new_id("fc_"), "type": "function_call", "status": "completed", "arguments": json.dumps(args),
                 "call_id": new_id("call_"), "name": name}]
    return [{"id": new_id("msg_"), "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": answer.text, "annotations": []}]}]


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
