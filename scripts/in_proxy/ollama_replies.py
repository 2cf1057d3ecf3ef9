"""LiteLLM's OpenAI-format answers as Ollama's: whole replies, NDJSON streams, model lists.

Pure functions over plain dicts (scripts/in_proxy/ollama.py builds the requests). Ollama
reports times in nanoseconds; these are measured by the proxy (request to last byte,
request to first token), and load_duration is 0: nothing is loaded here.
"""
import datetime as dt
import hashlib
import json
import time
from typing import Any, Callable, Dict, List, Optional

from scripts.in_proxy.ollama import OllamaError, error_body

# OpenAI finish_reason -> Ollama done_reason (Ollama reports "stop" after tool calls too).
DONE_REASONS = {"stop": "stop", "length": "length", "tool_calls": "stop", "function_call": "stop",
                "content_filter": "stop"}
# The Ollama API release these routes follow: tool calls in streams, tool_name on tool
# messages, thinking; clients check it before they use those.
OLLAMA_API_VERSION = "0.12.0"


def created_at() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _counts(usage: Optional[dict]) -> dict:
    if not usage:
        return {}
    return {"prompt_eval_count": usage.get("prompt_tokens") or 0, "eval_count": usage.get("completion_tokens") or 0}


def _done(finish: Optional[str], usage: Optional[dict], total_ns: int, first_ns: Optional[int] = None) -> dict:
    done = {"done": True, "done_reason": DONE_REASONS.get(finish or "stop", "stop"),
            "total_duration": total_ns, "load_duration": 0, **_counts(usage)}
    if first_ns is not None:
        done.update(prompt_eval_duration=first_ns, eval_duration=max(total_ns - first_ns, 0))
    return done


def tool_calls(calls: List[dict]) -> List[dict]:
    """OpenAI tool calls (arguments as a JSON string) as Ollama's (arguments as an object)."""
    out = []
    for index, call in enumerate(calls):
        function = call.get("function") or {}
        text = function.get("arguments") or "{}"
        try:
            arguments = json.loads(text)
        except ValueError:
            raise OllamaError(502, f"the model's arguments for {function.get('name')!r} are not JSON: "
                                   f"{text[:200]}") from None
        out.append({"id": call.get("id"), "function": {"index": index, "name": function.get("name"),
                                                         "arguments": arguments}})
    return out


def chat_reply(response: dict, model: str, total_ns: int) -> dict:
    choice = (response.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    out: Dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
    if message.get("reasoning_content"):
        out["thinking"] = message["reasoning_content"]
    if message.get("tool_calls"):
        out["tool_calls"] = tool_calls(message["tool_calls"])
    return {"model": model, "created_at": created_at(), "message": out,
            **_done(choice.get("finish_reason"), response.get("usage"), total_ns)}


def generate_reply(response: dict, model: str, total_ns: int) -> dict:
    choice = (response.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    out = {"model": model, "created_at": created_at(), "response": message.get("content") or ""}
    if message.get("reasoning_content"):
        out["thinking"] = message["reasoning_content"]
    return {**out, **_done(choice.get("finish_reason"), response.get("usage"), total_ns)}


def load_reply(model: str, kind: str) -> dict:
    """The answer to a load request: nothing to load, the model is served upstream."""
    body = {"model": model, "created_at": created_at()}
    body.update({"message": {"role": "assistant", "content": ""}} if kind == "chat" else {"response": ""})
    return {**body, "done": True, "done_reason": "load"}


class StreamTranslator:
    """LiteLLM's OpenAI SSE stream (text, any split) in, Ollama's NDJSON objects out.

    Content and thinking go out as they come; tool calls, which OpenAI streams in
    fragments, go out whole in one object before the last; the last has done: true and
    the counts. An error frame becomes Ollama's {"error": ...}. `finished` is true once
    the stream ended either way; the caller emits nothing after that."""

    def __init__(self, model: str, kind: str, started_ns: int, clock: Callable[[], int] = time.monotonic_ns):
        self.model, self.kind, self.started, self.clock = model, kind, started_ns, clock
        self.finished = False
        self._buffer = ""
        self._finish: Optional[str] = None
        self._usage: Optional[dict] = None
        self._first: Optional[int] = None
        self._calls: Dict[int, dict] = {}

    def sse(self, text: str) -> List[dict]:
        self._buffer += text
        *frames, self._buffer = self._buffer.split("\n\n")
        out: List[dict] = []
        for frame in frames:
            for line in frame.splitlines():
                if line.startswith("data:") and not self.finished:  # ": ping" keep-alives carry nothing
                    out += self._event(line[5:].strip())
        return out

    def cut_short(self) -> List[dict]:
        """The stream ended without its end: say so instead of presenting a partial answer."""
        if self.finished:
            return []
        self.finished = True
        return [error_body("the upstream stream ended before the answer was complete")]

    def _event(self, data: str) -> List[dict]:
        if data == "[DONE]":
            return self._end()
        try:
            event = json.loads(data)
        except ValueError:
            return []
        if "error" in event:
            self.finished = True
            return [error_body(event["error"])]
        return self.chunk(event)

    def chunk(self, event: dict) -> List[dict]:
        if event.get("usage"):
            self._usage = event["usage"]
        out = []
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            for call in delta.get("tool_calls") or []:
                self._add_call(call)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
            text, thinking = delta.get("content"), delta.get("reasoning_content")
            if text or thinking:
                if self._first is None:
                    self._first = self.clock() - self.started
                out.append(self._piece(text or "", thinking))
        return out

    def _add_call(self, call: dict) -> None:
        slot = self._calls.setdefault(call.get("index", 0), {"id": None, "function": {"name": "", "arguments": ""}})
        slot["id"] = call.get("id") or slot["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""

    def _piece(self, text: str, thinking: Optional[str] = None, calls: Optional[List[dict]] = None) -> dict:
        piece: Dict[str, Any] = {"model": self.model, "created_at": created_at()}
        if self.kind == "chat":
            message: Dict[str, Any] = {"role": "assistant", "content": text}
            if thinking:
                message["thinking"] = thinking
            if calls:
                message["tool_calls"] = calls
            piece["message"] = message
        else:
            piece["response"] = text
            if thinking:
                piece["thinking"] = thinking
        piece["done"] = False
        return piece

    def _end(self) -> List[dict]:
        self.finished = True
        out = []
        if self._calls:
            try:
                calls = tool_calls([self._calls[i] for i in sorted(self._calls)])
            except OllamaError as exc:
                return [error_body(exc.message)]
            out.append(self._piece("", calls=calls))
        last = self._piece("")
        last.update(_done(self._finish, self._usage, self.clock() - self.started, self._first))
        return out + [last]


def _details(provider: str) -> dict:
    return {"parent_model": "", "format": "", "family": provider, "families": [provider],
            "parameter_size": "", "quantization_level": ""}


def describe(name: str, provider: str, modified_at: str) -> dict:
    """One model of /api/tags: the proxy's name, upstream provider as family; no local file."""
    return {"name": name, "model": name, "modified_at": modified_at, "size": 0,
            "digest": hashlib.sha256(name.encode()).hexdigest(), "details": _details(provider)}


def show(name: str, info: dict, modified_at: str) -> dict:
    """/api/show from LiteLLM's model group info (provider, context, capabilities)."""
    provider = info.get("provider") or ""
    capabilities = ["completion"]
    capabilities += [cap for cap, key in (("tools", "tools"), ("vision", "vision"), ("thinking", "thinking"))
                     if info.get(key)]
    model_info: Dict[str, Any] = {"general.architecture": provider, "general.basename": name}
    if info.get("context_length"):
        model_info[f"{provider}.context_length"] = int(info["context_length"])
    return {"modelfile": "", "parameters": "", "template": "", "details": _details(provider),
            "model_info": model_info, "capabilities": capabilities, "modified_at": modified_at}
