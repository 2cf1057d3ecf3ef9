"""Simulator of the Anthropic API (api.anthropic.com) on aiohttp.

Endpoints: POST /v1/messages (JSON or SSE), POST /v1/messages/count_tokens,
GET /v1/models (paginated), GET /v1/models/{id}, plus the /_sim/* control API.
Replies say "Hello from simulated Anthropic (model M)." so tests can tell which
upstream answered. Reply rules are documented in messages.py.

Auth as the real API: an API key (any sk-ant-api* key, or only the configured
ones) in `x-api-key` or as `Authorization: Bearer sk-ant-api*` (what anthropic SDK
2.x sends), or an OAuth token `Authorization: Bearer sk-ant-oat*`, accepted only
together with `anthropic-beta: oauth-2025-04-20`. `anthropic-version` is required.

Faults (faults.py): 429/throttle -> rate_limit_error with retry-after (the fault's
retry_after, default 5) and the anthropic-ratelimit-* headers; 529 -> overloaded_error;
500/503 -> api_error (these carry retry-after only when the fault sets retry_after);
expired_token -> 401 "OAuth token has expired..."; overloaded_midstream -> an SSE
`event: error` overloaded_error after a few deltas (a 529 for non-streaming calls).

Subscription (OAuth) requests also meet the Claude-Code-only rule and the usage windows
of subscription.py. Each record keeps what identifies a client: user_agent, x_app,
anthropic_beta and system_head (the first two system text blocks, cut at 100 chars).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional

from aiohttp import web

from scripts.sim.faults import (
    REC,
    Fault,
    SimState,
    control_routes,
    pre_fault,
    pump_stream,
    recorder,
)
from scripts.sim.messages import (
    DEFAULT_MODELS,
    MID_SYSTEM_BETA,
    MID_SYSTEM_MODELS,
    build_message,
    estimate_tokens,
    message_events,
    new_id,
    tool_summary,
    validate_common,
)
from scripts.sim.model_list import created_at, model_page
from scripts.sim.subscription import RATE_LIMITED, Subscription, system_texts
from scripts.sim.subscription import control_routes as subscription_routes
from scripts.sim.summary import request_summary

ALLOWED_KEYS = {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences",
                "stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking",
                "service_tier", "container", "mcp_servers", "context_management",
                "output_format", "output_config", "cache_control", "diagnostics", "inference_geo",
                "speed"}
# The real API knows a fixed set of versions (SDK 2.x sends 2026-10-21, LiteLLM 2023-06-01);
# the simulator cannot know them all, so it accepts any well-formed date.
VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OAUTH_BETA = "oauth-2025-04-20"
# Real beta flags all end in a date; anything else is rejected like the real API does.
BETA_RE = re.compile(r"^[a-z][a-z0-9-]*-(\d{4}-\d{2}-\d{2}|\d{8})$")
FAULT_ERRORS = {  # mode -> (status, error type, message)
    "429": (429, "rate_limit_error", "This request would exceed your organization's rate limit "
            "of 50 requests per minute (simulated). Please try again later."),
    "529": (529, "overloaded_error", "Overloaded"),
    "overloaded_midstream": (529, "overloaded_error", "Overloaded"),
    "500": (500, "api_error", "Internal server error"),
    "503": (503, "api_error", "Service unavailable"),
    "expired_token": (401, "authentication_error",
                      "OAuth token has expired. Please obtain a new token or refresh your existing token."),
}
FAULT_ERRORS["throttle"] = FAULT_ERRORS["429"]


def error_response(status: int, kind: str, message: str, headers: Optional[dict] = None):
    """The real API's error envelope, always with a request-id."""
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return web.json_response(body, status=status,
                             headers={"request-id": new_id("req_sim"), **(headers or {})})


def ratelimit_headers(remaining: int, reset_in: float) -> dict:
    reset = (datetime.now(timezone.utc) + timedelta(seconds=reset_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {}
    for prefix, limit in (("requests", 50), ("tokens", 100000), ("input-tokens", 80000),
                          ("output-tokens", 20000)):
        headers[f"anthropic-ratelimit-{prefix}-limit"] = str(limit)
        headers[f"anthropic-ratelimit-{prefix}-remaining"] = str(min(remaining, limit))
        headers[f"anthropic-ratelimit-{prefix}-reset"] = reset
    return headers


def beta_flags(headers) -> list:
    return [b.strip() for v in headers.getall("anthropic-beta", []) for b in v.split(",") if b.strip()]


def _routing_error(status: int, exc: web.HTTPException) -> web.Response:
    kind = {404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
    return error_response(status, kind, exc.reason or "Not Found")


class AnthropicSim:
    def __init__(self, models: Optional[Iterable] = None, api_keys: Optional[Iterable[str]] = None,
                 oauth_tokens: Optional[Iterable[str]] = None, fault: Optional[Fault] = None,
                 claude_code_only: Optional[str] = None):
        """models: ids or (id, display_name) pairs; api_keys/oauth_tokens: if given, only these;
        claude_code_only: the shape of the Claude-Code-only rule (subscription.SHAPES)."""
        entries = [(m, m) if isinstance(m, str) else tuple(m) for m in (models or DEFAULT_MODELS)]
        self.models = [{"type": "model", "id": e[0], "display_name": e[1],
                        "created_at": created_at(e[0], i)} for i, e in enumerate(entries)]
        self.api_keys = set(api_keys or ())
        self.oauth_tokens = set(oauth_tokens or ())
        self.state = SimState("anthropic", fault)
        self.subscription = Subscription()
        self.state.on_reset.append(self.subscription.reset)
        if claude_code_only:
            self.subscription.configure({"claude_code_only": claude_code_only})
        self.cache: dict = {}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, _routing_error)],
                              client_max_size=64 * 1024 * 1024)
        app.add_routes(control_routes(self.state) + subscription_routes(self.subscription) + [
            web.post("/v1/messages", self.messages),
            web.post("/v1/messages/count_tokens", self.count_tokens),
            web.get("/v1/models", self.list_models),
            web.get("/v1/models/{model_id}", self.get_model),
        ])
        return app

    # --- gatekeeping -------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> Optional[web.Response]:
        rec, headers = request[REC], request.headers
        rec["headers"] = sorted({h.lower() for h in headers})
        rec["anthropic_beta"] = betas = beta_flags(headers)
        rec["user_agent"], rec["x_app"] = headers.get("user-agent"), headers.get("x-app")
        key = headers.get("x-api-key")
        bearer = headers.get("authorization", "")
        token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
        rec["auth_header"] = "x-api-key" if key is not None else "authorization" if token else None
        if key is None and token is not None and not token.startswith("sk-ant-api"):
            # OAuth access token (sk-ant-oat...): only with the OAuth beta flag.
            rec["auth_kind"] = "oauth"
            ok = token in self.oauth_tokens if self.oauth_tokens else token.startswith("sk-ant-oat")
            err = ("OAuth authentication is currently not supported." if OAUTH_BETA not in betas
                   else None if ok else "Invalid bearer token")
        elif key is not None or token is not None:
            # API key, in x-api-key or (as newer SDKs send it) as a Bearer token.
            rec["auth_kind"] = "api_key"
            key = key if key is not None else token
            ok = key in self.api_keys if self.api_keys else key.startswith("sk-ant-api")
            err = None if ok else "invalid x-api-key"
        else:
            err = "x-api-key header is required"
        if err:
            return error_response(401, "authentication_error", err)
        version = headers.get("anthropic-version")
        if version is None:
            return error_response(400, "invalid_request_error", "anthropic-version: header is required")
        if not VERSION_RE.match(version):
            return error_response(400, "invalid_request_error", f"anthropic-version: invalid version {version}")
        bad = [b for b in betas if not BETA_RE.match(b)]
        if bad:
            return error_response(400, "invalid_request_error",
                                  f"Unexpected value(s) `{', '.join(bad)}` for the `anthropic-beta` header. "
                                  "Please consult our documentation at docs.claude.com or try again "
                                  "without the header.")
        return None

    def _resolve(self, model) -> Optional[str]:
        """Exact ids, plus aliases without the date suffix (and "-latest"), like the real API."""
        if not isinstance(model, str):
            return None
        alias = model.removesuffix("-latest")
        for m in self.models:
            if m["id"] == model or re.sub(r"-\d{8}$", "", m["id"]) == alias:
                return m["id"]
        return None

    async def _body(self, request: web.Request, allowed: set, required: tuple):
        """(body, None) or (None, error response) after the checks shared by both POSTs."""
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None, error_response(400, "invalid_request_error", "Invalid JSON in request body")
        if not isinstance(body, dict):
            return None, error_response(400, "invalid_request_error", "Request body must be a JSON object")
        rec = request[REC]
        rec["model"], rec["stream"] = body.get("model"), body.get("stream") is True
        rec["system_head"] = [text[:100] for text in system_texts(body.get("system"))[:2]]
        rec["request"] = request_summary(body)
        for field in required:
            if field not in body:
                return None, error_response(400, "invalid_request_error", f"{field}: Field required")
        extra = sorted(set(body) - allowed)
        if extra:
            return None, error_response(400, "invalid_request_error",
                                        f"{extra[0]}: Extra inputs are not permitted")
        if "stream" in body and not isinstance(body["stream"], bool):
            return None, error_response(400, "invalid_request_error", "stream: Input should be a valid boolean")
        resolved = self._resolve(body["model"])
        if resolved is None:
            return None, error_response(404, "not_found_error", f"model: {body['model']}")
        return {**body, "model": resolved}, None

    def _fault_response(self, fault: Fault) -> web.Response:
        status, kind, message = FAULT_ERRORS[fault.mode]
        headers = {}
        if status == 429:
            window = 5 if fault.retry_after is None else fault.retry_after
            headers = {"retry-after": str(int(window)), **ratelimit_headers(0, window)}
        elif fault.retry_after is not None:
            # Only when the fault asks for it: whether the real API sends retry-after with a
            # 5xx/529 is not documented, and without one LiteLLM cools down for cooldown_time.
            headers = {"retry-after": str(int(fault.retry_after))}
        return error_response(status, kind, message, headers)

    def _subscription_refusal(self, body: dict) -> Optional[web.Response]:
        """A subscription token's answer before any work: not Claude Code, or a window used up."""
        refusal = self.subscription.refusal(body)
        if refusal is not None:
            return error_response(*refusal)
        used_up = self.subscription.used_up()
        if used_up is not None:
            return error_response(429, "rate_limit_error", RATE_LIMITED, used_up)
        return None

    @staticmethod
    def _mid_system(request: web.Request, body: dict) -> bool:
        return body["model"] in MID_SYSTEM_MODELS and MID_SYSTEM_BETA in request[REC]["anthropic_beta"]

    # --- handlers ------------------------------------------------------------------------------

    async def messages(self, request: web.Request) -> web.StreamResponse:
        err = self._auth(request)
        body, err = (None, err) if err else await self._body(request, ALLOWED_KEYS,
                                                                ("model", "messages", "max_tokens"))
        if err:
            return err
        problem = validate_common(body, self._mid_system(request, body))
        request[REC].update(tool_summary(body), rejected=problem)
        if problem:
            return error_response(400, "invalid_request_error", problem)
        oauth = request[REC]["auth_kind"] == "oauth"
        refused = self._subscription_refusal(body) if oauth else None
        if refused is not None:
            return refused
        stream = body.get("stream") is True
        fault = self.state.take_fault(body["model"])
        early = await pre_fault(request, fault, stream, self._fault_response)
        if early is not None:
            return early
        greeting = f"Hello from simulated Anthropic (model {body['model']})."
        msg = build_message(body, greeting, body["model"], new_id("msg_sim"), self.cache)
        usage = self.subscription.use() if oauth else ratelimit_headers(49, 60)
        headers = {"request-id": new_id("req_sim"), **usage}
        if not stream:
            return web.json_response(msg, headers=headers)
        return await self._stream(request, msg, headers, fault)

    async def _stream(self, request, msg, headers, fault) -> web.StreamResponse:
        resp = web.StreamResponse(headers={**headers, "content-type": "text/event-stream; charset=utf-8",
                                           "cache-control": "no-cache"})
        await resp.prepare(request)
        request[REC]["status"] = 200
        frames = [(_sse(ev["type"], ev), ev["type"] == "content_block_delta") for ev in message_events(msg)]
        overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        await pump_stream(request, resp, frames, fault, _sse("error", overloaded))
        return resp

    async def count_tokens(self, request: web.Request) -> web.Response:
        err = self._auth(request)
        allowed = ALLOWED_KEYS - {"max_tokens", "stream", "stop_sequences", "temperature", "top_p",
                                  "top_k", "metadata", "service_tier", "container"}
        body, err = (None, err) if err else await self._body(request, allowed, ("model", "messages"))
        if err:
            return err
        problem = validate_common({**body, "max_tokens": 1 << 30}, self._mid_system(request, body))
        if problem:
            return error_response(400, "invalid_request_error", problem)
        return web.json_response({"input_tokens": estimate_tokens(body)},
                                 headers={"request-id": new_id("req_sim")})

    async def list_models(self, request: web.Request) -> web.Response:
        err = self._auth(request)
        if err:
            return err
        page = model_page(self.models, request.query)
        if isinstance(page, str):
            return error_response(400, "invalid_request_error", page)
        return web.json_response(page, headers={"request-id": new_id("req_sim")})

    async def get_model(self, request: web.Request) -> web.Response:
        err = self._auth(request)
        if err:
            return err
        resolved = self._resolve(request.match_info["model_id"])
        if resolved is None:
            return error_response(404, "not_found_error", f"model: {request.match_info['model_id']}")
        return web.json_response(next(m for m in self.models if m["id"] == resolved))


def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
