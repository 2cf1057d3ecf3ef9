"""Simulator of an OpenAI-compatible chat-completions API, in Z.AI's shape (api.z.ai/api/paas/v4),
so tests and `make demo` can use a tier after Bedrock without the network.

Endpoints, under /api/paas/v4 (Z.AI, LiteLLM's zai/ provider appends /chat/completions to
ZAI_API_BASE or api_base) and /v1 (other OpenAI-compatible providers, openai/ with an api_base):
  POST .../chat/completions   JSON, or SSE (`data: {chunk}` lines, then `data: [DONE]`)
  GET  .../models             the served models, OpenAI's list shape
plus the /_sim/* control API (faults.py). Replies say "Hello from simulated Z.AI (model M)."
(the name is a constructor argument); reply and validation rules: chat_completions.py.

Rejected as such APIs reject them (error envelope {"error": {"code": "...", "message": "..."}},
Z.AI's codes; shape "openai" uses OpenAI's {"error": {"message", "type", "param", "code"}}):
- no `Authorization: Bearer` -> 401 (1001); a key not accepted -> 401 (1000). Any key is
  accepted unless api_keys lists the accepted ones.
- an unknown model -> 400 (1211 "Unknown Model"); shape "openai": 404 model_not_found.
- a malformed body (no messages, bad roles, tool messages without their tool_calls, ...) -> 400 (1214).
Faults: 429/throttle -> 429 (1302, retry-after when the fault sets one); 529 -> 429 (1305,
overloaded); 500 -> 500; 503 -> 503; expired_token -> 401 (1003); overloaded_midstream ->
an SSE `data: {"error": ...}` after a few deltas; see faults.py for the others.
"""
from __future__ import annotations

import json
import time
from typing import Iterable, Optional

from aiohttp import web

from scripts.sim.chat_completions import build_completion, completion_chunks, validate
from scripts.sim.faults import REC, Fault, SimState, control_routes, pre_fault, pump_stream, recorder
from scripts.sim.messages import new_id

DEFAULT_MODELS = ("glm-4.6", "glm-4.5", "glm-4.5-air", "deepseek-v3.2")
PREFIXES = ("/api/paas/v4", "/v1")
# status, Z.AI code, OpenAI type, message
ERRORS = {
    "no_auth": (401, "1001", "invalid_request_error", "Authorization header is missing, cannot authenticate."),
    "bad_key": (401, "1000", "invalid_request_error", "Authentication failed: invalid API key."),
    "expired_token": (401, "1003", "invalid_request_error", "Authentication token expired."),
    "unknown_model": (400, "1211", "invalid_request_error", "Unknown Model, please check the model code."),
    "invalid": (400, "1214", "invalid_request_error", "{detail}"),
    "429": (429, "1302", "rate_limit_error",
            "Rate limit reached for requests: high concurrency usage of this API, please reduce concurrency."),
    "529": (429, "1305", "server_error", "The service may be temporarily overloaded, please try again later."),
    "500": (500, "500", "server_error", "Internal Error"),
    "503": (503, "503", "server_error", "Service Unavailable"),
}
ERRORS["throttle"] = ERRORS["429"]
ERRORS["overloaded_midstream"] = ERRORS["529"]


class OpenAICompatSim:
    def __init__(self, models: Optional[Iterable[str]] = None, api_keys: Optional[Iterable[str]] = None,
                 fault: Optional[Fault] = None, name: str = "Z.AI", shape: str = "zai") -> None:
        if shape not in ("zai", "openai"):
            raise ValueError("shape must be zai or openai")
        self.models = list(models or DEFAULT_MODELS)
        self.api_keys = set(api_keys or ())
        self.name, self.shape = name, shape
        self.state = SimState("openai-compat", fault)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, self._routing_error)],
                              client_max_size=64 * 1024 * 1024)
        routes = control_routes(self.state)
        for prefix in PREFIXES:
            routes += [web.post(prefix + "/chat/completions", self.chat_completions),
                       web.get(prefix + "/models", self.list_models)]
        app.add_routes(routes)
        return app

    # --- errors ----------------------------------------------------------------------------

    def error(self, kind: str, detail: str = "", headers: Optional[dict] = None) -> web.Response:
        status, code, openai_type, message = ERRORS[kind]
        message = message.format(detail=detail)
        if self.shape == "openai":
            if kind == "unknown_model":
                status, code = 404, "model_not_found"
                message = f"The model `{detail}` does not exist or you do not have access to it."
            body = {"error": {"message": message, "type": openai_type, "param": None, "code": code}}
        else:
            body = {"error": {"code": code, "message": message}}
        return web.json_response(body, status=status, headers=headers)

    def _routing_error(self, status: int, exc: web.HTTPException) -> web.Response:
        return web.json_response({"error": {"code": str(status), "message": exc.reason or "Not Found"}}, status=status)

    def _fault_response(self, fault: Fault) -> web.Response:
        kind = fault.mode if fault.mode in ERRORS else "500"
        headers = {"retry-after": str(int(fault.retry_after))} if fault.retry_after is not None else None
        return self.error(kind, headers=headers)

    def _auth(self, request: web.Request) -> Optional[web.Response]:
        rec, header = request[REC], request.headers.get("authorization", "")
        rec["headers"] = sorted({h.lower() for h in request.headers})
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            return self.error("no_auth")
        rec["auth_kind"] = "bearer"
        key = header[7:].strip()
        return None if not self.api_keys or key in self.api_keys else self.error("bad_key")

    # --- handlers ----------------------------------------------------------------------------

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        rec = request[REC]
        denied = self._auth(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self.error("invalid", "Invalid JSON in request body.")
        if not isinstance(body, dict) or not body.get("model"):
            return self.error("invalid", "Missing required parameter: 'model'.")
        rec.update(model=body["model"], stream=body.get("stream") is True, reasoning_effort=body.get("reasoning_effort"),
                   tools=[(t.get("function") or {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)],
                   roles=[m.get("role") for m in body.get("messages") or [] if isinstance(m, dict)])
        if body["model"] not in self.models:
            return self.error("unknown_model", body["model"])
        problem = validate(body)
        if problem:
            return self.error("invalid", problem)
        stream = body.get("stream") is True
        fault = self.state.take_fault(body["model"])
        early = await pre_fault(request, fault, stream, self._fault_response)
        if early is not None:
            return early
        completion = build_completion(body, f"Hello from simulated {self.name} (model {body['model']}).",
                                      body["model"])
        rec["finish_reason"] = completion["choices"][0]["finish_reason"]
        headers = {"x-request-id": new_id("req_sim")}
        if not stream:
            return web.json_response(completion, headers=headers)
        return await self._stream(request, completion, headers, fault)

    async def _stream(self, request: web.Request, completion: dict, headers: dict,
                      fault: Optional[Fault]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={**headers, "content-type": "text/event-stream; charset=utf-8",
                                           "cache-control": "no-cache"})
        await resp.prepare(request)
        request[REC]["status"] = 200
        frames = [(_sse(chunk), bool(chunk["choices"][0]["delta"].get("content")
                                     or chunk["choices"][0]["delta"].get("tool_calls")))
                  for chunk in completion_chunks(completion)]
        frames.append((b"data: [DONE]\n\n", False))
        status, code, _, message = ERRORS["529"]
        await pump_stream(request, resp, frames, fault, _sse({"error": {"code": code, "message": message}}))
        return resp

    async def list_models(self, request: web.Request) -> web.Response:
        denied = self._auth(request)
        if denied:
            return denied
        created = int(time.time())
        return web.json_response({"object": "list", "data": [
            {"id": model, "object": "model", "created": created, "owned_by": "simulator"} for model in self.models]})


def _sse(data: dict) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
