"""Simulated GitHub Copilot: GitHub's device-code login (github.com), the Copilot token
exchange (api.github.com) and the chat endpoint (api.githubcopilot.com), on one port.

    POST /login/device/code {client_id, scope}       -> device_code, user_code, verification_uri
    POST /login/device (user_code)                   the user entering the code
    POST /login/oauth/access_token {client_id, device_code, grant_type}
                                                     -> {"error": "authorization_pending"} (HTTP 200,
                                                        as GitHub answers), then the access token
    GET  /copilot_internal/v2/token  (Authorization: token <GitHub token>)
                                                     -> a short-lived Copilot token and the API base
    POST /chat/completions (Bearer <Copilot token>)  OpenAI chat completions, JSON or SSE
    POST /_sim/auth {token_ttl, auto_approve, revoke}  control (plus the /_sim/* of faults.py)

LiteLLM reads every URL of this flow from its GITHUB_COPILOT_DEVICE_CODE_URL,
GITHUB_COPILOT_ACCESS_TOKEN_URL and GITHUB_COPILOT_API_KEY_URL variables; the chat base
comes from the token exchange's `endpoints.api`, which names this simulator.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Optional

from aiohttp import web

from scripts.sim.faults import REC, Fault, SimState, control_routes, pre_fault, pump_stream, recorder
from scripts.sim.messages import fake_input, new_id
from scripts.sim.oauth import DeviceGrants, LoginControl, b64url, bearer

CLIENT_ID = "Iv1.b507a08c87ecfe98"  # the Copilot plugin's OAuth app, which LiteLLM uses
DEFAULT_MODELS = ("gpt-4.1", "gpt-4o", "gpt-5-mini", "claude-sonnet-4.6", "claude-haiku-4.5", "gemini-3.7-flash")
TOKEN_TTL = 1800  # Copilot tokens live 30 minutes; clients refresh them before that
ROLES = ("system", "developer", "user", "assistant", "tool")


def _github_error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message, "documentation_url": "https://docs.github.com/rest"},
                             status=status)


def _api_error(status: int, message: str, code: str) -> web.Response:
    return web.json_response({"error": {"message": message, "code": code}}, status=status)


def _routing_error(status: int, exc: web.HTTPException) -> web.Response:
    return _github_error(status, exc.reason or "Not Found")


class CopilotSim(LoginControl):
    def __init__(self, models=None, fault: Optional[Fault] = None, auto_approve: bool = False) -> None:
        self.models = set(models or DEFAULT_MODELS)
        self.state = SimState("copilot", fault)
        self.grants = DeviceGrants(auto_approve=auto_approve)
        self.github_tokens: set = set()
        self.key = os.urandom(32)
        self.token_ttl = TOKEN_TTL
        self.base_url = ""  # set once the port is known: the token exchange names it

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, _routing_error)])
        app.add_routes(control_routes(self.state) + [
            web.post("/_sim/auth", self.control),
            web.post("/login/device/code", self.device_code),
            web.post("/login/device", self.enter_code),
            web.post("/login/oauth/access_token", self.access_token),
            web.get("/copilot_internal/v2/token", self.copilot_token),
            web.post("/chat/completions", self.chat),
        ])
        return app

    def revoke(self) -> None:
        # The user revoked the app in GitHub's settings: GitHub tokens and Copilot tokens die.
        self.github_tokens.clear()
        self.key = os.urandom(32)

    # --- GitHub's device flow --------------------------------------------------------------------

    async def device_code(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body.get("client_id") != CLIENT_ID:
            return _form_or_json(request, {"error": "unauthorized_client"}, 400)
        grant = self.grants.new()
        return _form_or_json(request, {"device_code": grant.device_code, "user_code": grant.user_code,
                                       "verification_uri": f"{self.base_url}/login/device",
                                       "expires_in": int(self.grants.ttl), "interval": 5})

    async def enter_code(self, request: web.Request) -> web.Response:
        form = await _body(request)
        ok = self.grants.approve(str(form.get("user_code", "")))
        return web.json_response({"approved": ok}, status=200 if ok else 400)

    async def access_token(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body.get("client_id") != CLIENT_ID:
            return _form_or_json(request, {"error": "incorrect_client_credentials"})
        if body.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code":
            return _form_or_json(request, {"error": "unsupported_grant_type"})
        outcome = self.grants.poll(str(body.get("device_code", "")))
        if outcome != "ok":
            error = {"pending": "authorization_pending", "expired": "expired_token"}.get(outcome, "bad_verification_code")
            return _form_or_json(request, {"error": error})
        token = "ghu_" + b64url(os.urandom(27))
        self.github_tokens.add(token)
        return _form_or_json(request, {"access_token": token, "token_type": "bearer", "scope": "read:user"})

    # --- the Copilot token exchange and API ----------------------------------------------------------

    async def copilot_token(self, request: web.Request) -> web.Response:
        token = bearer(request.headers, "token") or bearer(request.headers)
        request[REC]["auth_kind"] = "github" if token in self.github_tokens else "invalid"
        if token not in self.github_tokens:
            return _github_error(401, "Bad credentials")
        expires = int(time.time() + self.token_ttl)
        fields = f"tid={b64url(os.urandom(12))};exp={expires};sku=copilot_for_individual_subscriber;8kp=1"
        return web.json_response({"token": f"{fields}:{self._sign(fields)}", "expires_at": expires,
                                  "refresh_in": int(self.token_ttl * 5 / 6), "sku": "copilot_for_individual_subscriber",
                                  "chat_enabled": True, "endpoints": {"api": self.base_url}})

    def _sign(self, fields: str) -> str:
        return hmac.new(self.key, fields.encode(), hashlib.sha256).hexdigest()

    def _auth(self, request: web.Request) -> Optional[web.Response]:
        token = bearer(request.headers) or ""
        fields, _, signature = token.rpartition(":")
        valid = bool(fields) and hmac.compare_digest(self._sign(fields), signature)
        expires = dict(p.split("=", 1) for p in fields.split(";") if "=" in p).get("exp", "0") if valid else "0"
        request[REC]["auth_kind"] = "copilot" if valid else "invalid"
        if not valid:
            return web.Response(status=401, text="unauthorized: token expired or invalid\n")
        if time.time() >= int(expires):
            return web.Response(status=401, text="unauthorized: token expired\n")
        if not request.headers.get("editor-version"):
            return web.Response(status=400, text="bad request: missing Editor-Version header for IDE auth\n")
        return None

    async def chat(self, request: web.Request) -> web.StreamResponse:
        err = self._auth(request)
        if err:
            return err
        try:
            body = await request.json()
        except ValueError:
            return _api_error(400, "invalid JSON body", "invalid_request_body")
        problem = _check_chat(body, self.models)
        if problem:
            return _api_error(400, *problem)
        rec = request[REC]
        stream = body.get("stream") is True
        rec.update(model=body["model"], stream=stream, initiator=request.headers.get("x-initiator"))
        fault = self.state.take_fault(body["model"])
        early = await pre_fault(request, fault, stream, _fault_response)
        if early is not None:
            return early
        message = _reply(body, f"Hello from simulated Copilot (model {body['model']}).")
        completion = {"id": new_id("chatcmpl-"), "object": "chat.completion", "created": int(time.time()),
                      "model": body["model"], "choices": [{"index": 0, "message": message,
                                                           "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
                      "usage": {"prompt_tokens": len(json.dumps(body["messages"])) // 4,
                                "completion_tokens": len(json.dumps(message).split()), "total_tokens": 0}}
        completion["usage"]["total_tokens"] = completion["usage"]["prompt_tokens"] + completion["usage"]["completion_tokens"]
        if not stream:
            return web.json_response(completion)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        rec["status"] = 200
        return await pump_stream(request, resp, _chunks(completion), fault, b'data: {"error": "stream cut"}\n\n')


def _check_chat(body, models) -> Optional[tuple]:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        return "messages: a non-empty array is required", "invalid_request_body"
    if body.get("model") not in models:
        return "The requested model is not supported.", "model_not_supported"
    for i, msg in enumerate(body["messages"]):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES:
            return f"messages[{i}].role: invalid value", "invalid_request_body"
    return None


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def _reply(body: dict, greeting: str) -> dict:
    """Same deterministic rules as the other simulators (scripts/sim/messages.py)."""
    msgs, tools = body["messages"], [t for t in body.get("tools") or [] if t.get("type") == "function"]
    results = []
    for msg in reversed(msgs):
        if msg["role"] != "tool":
            break
        results.insert(0, _text(msg.get("content")))
    if results:
        return {"role": "assistant", "content": f"{greeting} Tool result received: {' '.join(results)}"}
    choice = body.get("tool_choice") or "auto"
    asked = msgs[-1]["role"] == "user" and "use the tool" in _text(msgs[-1].get("content")).lower()
    if tools and choice != "none" and (asked or choice == "required" or isinstance(choice, dict)):
        fn = tools[0]["function"]
        if isinstance(choice, dict):
            fn = next((t["function"] for t in tools if t["function"]["name"] == choice["function"]["name"]), fn)
        call = {"id": new_id("call_"), "type": "function",
                "function": {"name": fn["name"], "arguments": json.dumps(fake_input(fn.get("parameters") or {}))}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": f"{greeting} This is a deterministic reply from the simulator."}


def _chunks(completion: dict) -> list:
    """(bytes, is_delta) SSE frames of a completion, ending with data: [DONE]."""
    message, base = completion["choices"][0]["message"], {k: completion[k] for k in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"

    def frame(delta: dict, finish=None, usage=None) -> bytes:
        chunk = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])
        if usage:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk)}\n\n".encode()

    frames = [(frame({"role": "assistant", "content": ""}), False)]
    if message.get("tool_calls"):
        call = dict(message["tool_calls"][0], index=0)
        frames.append((frame({"tool_calls": [call]}), True))
    else:
        words = message["content"].split(" ")
        frames += [(frame({"content": w + (" " if i < len(words) - 1 else "")}), True) for i, w in enumerate(words)]
    frames.append((frame({}, completion["choices"][0]["finish_reason"], completion["usage"]), False))
    return frames + [(b"data: [DONE]\n\n", False)]


def _fault_response(fault: Fault) -> web.Response:
    if fault.mode in ("429", "throttle"):
        headers = {"retry-after": str(int(fault.retry_after or 5))}
        return web.json_response({"error": {"message": "Sorry, you have been rate-limited.", "code": "rate_limited"}},
                                 status=429, headers=headers)
    return _api_error(503 if fault.mode in ("503", "529") else 500, "upstream error", "server_error")


async def _body(request: web.Request) -> dict:
    text = await request.text()
    try:
        body = json.loads(text or "{}")
    except ValueError:
        body = {k: v for k, v in (p.split("=", 1) for p in text.split("&") if "=" in p)}
    return body if isinstance(body, dict) else {}


def _form_or_json(request: web.Request, data: dict, status: int = 200) -> web.Response:
    """GitHub answers form-encoded unless the client asks for JSON."""
    if "application/json" in request.headers.get("accept", ""):
        return web.json_response(data, status=status)
    return web.Response(status=status, text="&".join(f"{k}={v}" for k, v in data.items()),
                        content_type="application/x-www-form-urlencoded")
