"""Ollama's /api/chat and /api/generate requests as OpenAI chat requests: pure functions.

The routes (scripts/in_proxy/format_routes.py) hand LiteLLM the request built here, so
LiteLLM's router, fallbacks, cooldowns, callbacks and metrics treat an Ollama client
exactly as an OpenAI one; the answers go back through scripts/in_proxy/ollama_replies.py.
Raises OllamaError (status, message) for what the client must fix.

Mapping (Ollama -> OpenAI): messages (system/user/assistant/tool, images -> image_url
data URLs, assistant tool_calls -> tool_calls with ids, tool messages -> tool_call_id of
the call they answer), system and prompt (generate), tools (same shape), format "json"
-> response_format json_object, a JSON schema -> json_schema; options temperature, top_p,
seed, stop, presence/frequency_penalty as named, num_predict -> max_tokens (negative:
no limit). Options of a local runtime (num_ctx, num_gpu, mirostat, ...), keep_alive,
template, raw and context have no upstream meaning and are ignored.
"""
import base64
import binascii
import json
from typing import Any, Collection, Dict, List, Optional, Tuple

# Ollama option -> OpenAI parameter.
OPTIONS = {"temperature": "temperature", "top_p": "top_p", "num_predict": "max_tokens", "seed": "seed",
           "stop": "stop", "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty"}
# The first bytes of each image type an upstream accepts (Anthropic, Bedrock and OpenAI
# need the media type; Ollama clients send bare base64).
IMAGE_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
               (b"RIFF", "image/webp"))
ROLES = ("system", "user", "assistant", "tool")


class OllamaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def served_name(name: Any, served: Collection[str]) -> str:
    """The proxy's model name for what an Ollama client sent: Ollama clients add the tag
    ":latest" to a bare name, the proxy's names have none."""
    if not isinstance(name, str) or not name:
        raise OllamaError(400, "model is required")
    if name.endswith(":latest") and name not in served:
        return name[: -len(":latest")]
    return name


def loads_only(body: dict, kind: str) -> bool:
    """Ollama's way to load a model: a chat without messages, a generate without prompt."""
    if kind == "chat":
        return not body.get("messages")
    return not body.get("prompt") and not body.get("images")


def chat_request(body: dict, served: Collection[str]) -> dict:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise OllamaError(400, "messages: expected a list of messages")
    return _request(body, served, chat_messages(messages))


def generate_request(body: dict, served: Collection[str]) -> dict:
    if body.get("suffix"):
        raise OllamaError(400, "suffix (fill-in-the-middle) is not supported by the gateway's models: "
                               "send the text before the cursor as the prompt")
    messages: List[dict] = []
    if body.get("system"):
        messages.append({"role": "system", "content": _text(body["system"], "system")})
    messages.append({"role": "user", "content": _content(body.get("prompt"), body.get("images"), "prompt")})
    return _request(body, served, messages)


def _request(body: dict, served: Collection[str], messages: List[dict]) -> dict:
    stream = body.get("stream", True)  # Ollama streams unless told not to
    if not isinstance(stream, bool):
        raise OllamaError(400, "stream: expected true or false")
    # No stream_options.include_usage: the token counts it adds to a stream's last line cost
    # LiteLLM 1.106.2 ~5 ms of CPU per streamed request (a third more; measured A/B), so
    # streamed answers end without prompt_eval_count/eval_count, as Ollama allows.
    payload = {"model": served_name(body.get("model"), served), "messages": messages, "stream": stream}
    if body.get("tools"):
        payload["tools"] = _tools(body["tools"])
    payload.update(response_format(body.get("format")))
    payload.update(options(body.get("options")))
    return payload


def chat_messages(raw: List[Any]) -> List[dict]:
    out: List[dict] = []
    pending: List[Tuple[str, str]] = []  # (id, name) of the last assistant's calls not yet answered
    for i, message in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise OllamaError(400, f"{where}.role: expected one of {', '.join(ROLES)}")
        role = message["role"]
        if role == "tool":
            out.append(_tool_result(message, pending, where))
            continue
        converted: Dict[str, Any] = {"role": role,
                                     "content": _content(message.get("content"), message.get("images"), where)}
        pending = []
        if role == "assistant" and message.get("tool_calls"):
            converted["tool_calls"] = _tool_calls(message["tool_calls"], i, where)
            converted["content"] = converted["content"] or None  # no empty text block beside the calls
            pending = [(c["id"], c["function"]["name"]) for c in converted["tool_calls"]]
        out.append(converted)
    return out


def _tool_calls(calls: Any, index: int, where: str) -> List[dict]:
    """Ollama's calls carry no id (older clients) or one we gave them: ids derived from the
    message position stay the same each time a client resends the conversation."""
    if not isinstance(calls, list):
        raise OllamaError(400, f"{where}.tool_calls: expected a list")
    out = []
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise OllamaError(400, f"{where}.tool_calls[{j}].function.name: required")
        arguments = function.get("arguments") or {}
        if isinstance(arguments, str):  # some clients send the OpenAI form
            arguments = _json_object(arguments, f"{where}.tool_calls[{j}].function.arguments")
        out.append({"id": call.get("id") or f"call_{index}_{j}", "type": "function",
                    "function": {"name": function["name"], "arguments": json.dumps(arguments)}})
    return out


def _tool_result(message: dict, pending: List[Tuple[str, str]], where: str) -> dict:
    """A tool message answers one call of the assistant message before it: the one with its
    tool_call_id, else the first unanswered one with its tool_name, else the first one."""
    call_id = message.get("tool_call_id")
    if not call_id:
        name = message.get("tool_name") or message.get("name")
        match = next((p for p in pending if not name or p[1] == name), None)
        if match is None:
            named = f" to {name!r}" if name else ""
            raise OllamaError(400, f"{where}: a tool message must answer a call{named} of the assistant "
                                   "message before it (tool_calls)")
        call_id = match[0]
    pending[:] = [p for p in pending if p[0] != call_id]
    return {"role": "tool", "tool_call_id": call_id, "content": _text(message.get("content"), where)}


def _content(text: Any, images: Any, where: str):
    text = _text(text, where)
    if not images:
        return text
    if not isinstance(images, list):
        raise OllamaError(400, f"{where}.images: expected a list of base64 images")
    parts: List[dict] = [{"type": "text", "text": text}] if text else []
    for j, image in enumerate(images):
        parts.append({"type": "image_url", "image_url": {"url": data_url(image, f"{where}.images[{j}]")}})
    return parts


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OllamaError(400, f"{where}.content: expected a string")
    return value


def data_url(image: Any, where: str) -> str:
    """A data URL with the media type an upstream needs, from Ollama's bare base64."""
    if isinstance(image, str) and image.startswith("data:image/"):
        return image
    if not isinstance(image, str):
        raise OllamaError(400, f"{where}: expected a base64 string")
    try:
        head = base64.b64decode(image[:16] + "=" * (-len(image[:16]) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise OllamaError(400, f"{where}: not base64") from None
    for magic, media_type in IMAGE_MAGIC:
        if head.startswith(magic) and (media_type != "image/webp" or head[8:12] == b"WEBP"):
            return f"data:{media_type};base64,{image}"
    raise OllamaError(400, f"{where}: not a PNG, JPEG, GIF or WebP image")


def _tools(tools: Any) -> List[dict]:
    """Ollama's tools already have OpenAI's shape: checked, passed on."""
    if not isinstance(tools, list):
        raise OllamaError(400, "tools: expected a list")
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise OllamaError(400, f"tools[{i}].function.name: required")
    return [{"type": "function", "function": tool["function"]} for tool in tools]


def response_format(value: Any) -> dict:
    if value in (None, ""):
        return {}
    if value == "json":
        return {"response_format": {"type": "json_object"}}
    if isinstance(value, dict):
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": value}}}
    raise OllamaError(400, 'format: expected "json" or a JSON schema object')


def options(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OllamaError(400, "options: expected an object")
    out = {target: value[name] for name, target in OPTIONS.items() if value.get(name) is not None}
    limit = out.get("max_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise OllamaError(400, "options.num_predict: expected an integer")
    if limit is not None and limit < 0:  # -1: no limit, -2: fill the context: the model's own maximum
        del out["max_tokens"]
    return out


def _json_object(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise OllamaError(400, f"{where}: not JSON") from None
    if not isinstance(value, dict):
        raise OllamaError(400, f"{where}: expected a JSON object")
    return value


def error_body(message: Any) -> dict:
    """Ollama's error shape, from a message or LiteLLM's {"message": ...} error object."""
    if isinstance(message, dict):
        message = message.get("message") or json.dumps(message)
    return {"error": str(message)}


def parse_json_object(body: bytes) -> Optional[dict]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
