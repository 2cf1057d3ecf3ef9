"""Simulated ChatGPT subscription: the sign-in service (auth.openai.com's device-code and
token endpoints) and the Codex backend (chatgpt.com/backend-api/codex/responses), on
one port, each under the path it has on the real host.

    POST /api/accounts/deviceauth/usercode {client_id}            -> device_auth_id, user_code, interval
    POST /api/accounts/deviceauth/token {device_auth_id, user_code} -> 403 while pending, then the
                                                                     authorization code and PKCE pair
    POST /codex/device (user_code)                                 the user entering the code
    POST /oauth/token  form grant_type=authorization_code          -> id, access and refresh tokens
                       JSON grant_type=refresh_token               -> new tokens; the old refresh
                                                                     token is spent (rotation)
    POST /backend-api/codex/responses                               Responses API, SSE only
    POST /_sim/auth {access_ttl, auto_approve, revoke}             control (plus the /_sim/* of faults.py)

LiteLLM reaches the backend through CHATGPT_API_BASE=<url>/backend-api/codex. Its sign-in
URLs are fixed to https://auth.openai.com: tests reach this simulator there through
scripts/sim/intercept.py (HTTPS_PROXY and SSL_CERT_FILE, which LiteLLM's HTTP client obeys).
The backend refuses what the real one refuses: a missing, forged, expired or revoked token,
a wrong account header, `stream` other than true, `store` other than false, missing
instructions, parameters it does not take, models a ChatGPT plan does not offer.
"""
from __future__ import annotations

import json
import os
import time
from typing import Optional
from urllib.parse import parse_qs

from aiohttp import web

from scripts.sim.faults import REC, Fault, SimState, control_routes, pre_fault, pump_stream, recorder
from scripts.sim.messages import new_id
from scripts.sim.oauth import DeviceGrants, LoginControl, TokenSigner, b64url, bearer, pkce_pair
from scripts.sim.responses import build_output, build_response, response_events, sse, validate_input

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"  # the Codex CLI's, which LiteLLM uses
REDIRECT_URI = "https://auth.openai.com/deviceauth/callback"
AUTH_CLAIM = "https://api.openai.com/auth"
DEFAULT_MODELS = ("gpt-5.5", "gpt-5.4", "gpt-5.4-pro", "gpt-5.3-codex", "gpt-5.2-codex", "gpt-5.2",
                  "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.1-codex-mini", "gpt-5")
BACKEND_KEYS = {"model", "input", "instructions", "stream", "store", "include", "tools", "tool_choice",
                "reasoning", "previous_response_id", "truncation", "service_tier", "parallel_tool_calls",
                "prompt_cache_key", "text"}
ACCESS_TTL = 10 * 24 * 3600  # what a Codex login's access token lasts


def _error(status: int, message: str, code: Optional[str] = None, kind: str = "invalid_request_error"):
    return web.json_response({"error": {"message": message, "type": kind, "code": code}}, status=status)


def _detail(status: int, message: str):
    """The Codex backend's own refusals are FastAPI-style {"detail": ...}."""
    return web.json_response({"detail": message}, status=status)


def _routing_error(status: int, exc: web.HTTPException) -> web.Response:
    return _detail(status, exc.reason or "Not Found")


class ChatGPTSim(LoginControl):
    ttl_field = "access_ttl"

    def __init__(self, models=None, fault: Optional[Fault] = None, auto_approve: bool = False,
                 email: str = "sim-user@example.com", plan: str = "plus") -> None:
        self.models = set(models or DEFAULT_MODELS)
        self.state = SimState("chatgpt", fault)
        self.grants = DeviceGrants(auto_approve=auto_approve)
        self.codes: dict = {}  # authorization code -> (code_verifier, used)
        self.refresh_tokens: dict = {}  # refresh token -> "live" | "used"
        self.signer = TokenSigner()
        self.access_ttl = ACCESS_TTL
        self.account = {"chatgpt_account_id": "acct-" + b64url(os.urandom(6)), "chatgpt_plan_type": plan}
        self.email = email

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, _routing_error)])
        app.add_routes(control_routes(self.state) + [
            web.post("/_sim/auth", self.control),
            web.post("/api/accounts/deviceauth/usercode", self.usercode),
            web.post("/api/accounts/deviceauth/token", self.device_token),
            web.post("/codex/device", self.enter_code),
            web.post("/oauth/token", self.oauth_token),
            web.post("/backend-api/codex/responses", self.responses),
        ])
        return app

    def revoke(self) -> None:
        # "Sign out of all devices": every token issued so far stops working.
        self.signer.revoke_all()
        self.refresh_tokens = {t: "revoked" for t in self.refresh_tokens}

    # --- sign-in ---------------------------------------------------------------------------------

    async def usercode(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if body.get("client_id") != CLIENT_ID:
            return _error(400, "Unknown client_id.", "invalid_client")
        grant = self.grants.new()
        return web.json_response({"device_auth_id": grant.device_code, "user_code": grant.user_code,
                                  "interval": "5"})

    async def device_token(self, request: web.Request) -> web.Response:
        body = await _json(request)
        grant = self.grants.grants.get(body.get("device_auth_id"))
        if grant is None or grant.user_code != body.get("user_code"):
            return _error(404, "Device authorization not found.", "deviceauth_not_found")
        outcome = self.grants.poll(grant.device_code)
        if outcome == "pending":
            return _error(403, "Device authorization is pending.", "deviceauth_authorization_pending")
        if outcome != "ok":
            return _error(400, f"Device authorization {outcome}.", f"deviceauth_{outcome}")
        verifier, challenge = pkce_pair()
        code = "ac_" + b64url(os.urandom(18))
        self.codes[code] = [verifier, False]
        return web.json_response({"authorization_code": code, "code_challenge": challenge,
                                  "code_verifier": verifier})

    async def enter_code(self, request: web.Request) -> web.Response:
        form = await request.post() if request.content_type != "application/json" else await request.json()
        if not self.grants.approve(str(form.get("user_code", ""))):
            return web.json_response({"approved": False, "message": "Invalid or expired code."}, status=400)
        return web.json_response({"approved": True})

    async def oauth_token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in parse_qs(await request.text(), keep_blank_values=True).items()}
        else:
            form = await _json(request)
        if form.get("client_id") != CLIENT_ID:
            return _error(401, "Invalid client.", "invalid_client")
        grant_type = request[REC]["grant"] = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        return _error(400, f"Unsupported grant_type: {grant_type}", "unsupported_grant_type")

    def _exchange_code(self, form: dict) -> web.Response:
        entry = self.codes.get(form.get("code", ""))
        if entry is None or entry[1]:
            return _error(400, "Invalid authorization code.", "invalid_grant")
        if form.get("redirect_uri") != REDIRECT_URI:
            return _error(400, "redirect_uri does not match.", "invalid_grant")
        if form.get("code_verifier") != entry[0]:
            return _error(400, "PKCE verification failed.", "invalid_grant")
        entry[1] = True
        return web.json_response(self._tokens())

    def _refresh(self, form: dict) -> web.Response:
        token = form.get("refresh_token", "")
        status = self.refresh_tokens.get(token)
        if status == "used":
            return _error(401, "Your refresh token has already been used to generate a new access token. "
                               "Please try signing in again.", "refresh_token_reused")
        if status != "live":
            return _error(401, "Your refresh token has been invalidated. Please try signing in again.",
                          "refresh_token_invalidated")
        self.refresh_tokens[token] = "used"
        return web.json_response(self._tokens())

    def _tokens(self) -> dict:
        refresh = "rt_" + b64url(os.urandom(24))
        self.refresh_tokens[refresh] = "live"
        profile = {"https://api.openai.com/profile": {"email": self.email}, AUTH_CLAIM: self.account}
        return {"access_token": self.signer.mint({"aud": ["https://api.openai.com/v1"], **profile},
                                                 self.access_ttl),
                "id_token": self.signer.mint({"aud": [CLIENT_ID], "email": self.email, **profile}, 3600),
                "refresh_token": refresh, "token_type": "Bearer", "expires_in": int(self.access_ttl)}

    # --- the Codex backend ---------------------------------------------------------------------

    def _auth(self, request: web.Request) -> Optional[web.Response]:
        rec = request[REC]
        token = bearer(request.headers)
        if token is None:
            return _detail(401, "Unauthorized")
        claims, problem = self.signer.check(token)
        rec["auth_kind"] = "chatgpt" if claims else problem
        if problem == "expired":
            return _error(401, "Provided authentication token is expired. Please try signing in again.",
                          "token_expired")
        if problem:
            return _error(401, "Your authentication token has been invalidated. Please try signing in again.",
                          "token_invalidated")
        account = request.headers.get("chatgpt-account-id")
        if account is not None and account != claims[AUTH_CLAIM]["chatgpt_account_id"]:
            return _detail(403, "Account mismatch")
        return None

    def _check_body(self, body: dict) -> Optional[str]:
        unknown = sorted(set(body) - BACKEND_KEYS)
        if unknown:
            return f"Unsupported parameter: {unknown[0]}"
        if not body.get("instructions"):
            return "Instructions are required"
        if body.get("store") is not False:
            return "Store must be set to false"
        if body.get("stream") is not True:
            return "Stream must be set to true"
        if body.get("model") not in self.models:
            return f"The '{body.get('model')}' model is not supported when using Codex with a ChatGPT account."
        return validate_input(body.get("input"))

    async def responses(self, request: web.Request) -> web.StreamResponse:
        err = self._auth(request)
        if err:
            return err
        try:
            body = await request.json()
        except ValueError:
            return _detail(400, "Invalid JSON body")
        rec = request[REC]
        rec.update(model=body.get("model"), stream=True, tools=len(body.get("tools") or []),
                   session=request.headers.get("session_id"), originator=request.headers.get("originator"),
                   inputs=_item_types(body.get("input")))
        problem = self._check_body(body) if isinstance(body, dict) else "Invalid body"
        if problem:
            return _detail(400, problem)
        fault = self.state.take_fault(body["model"])
        early = await pre_fault(request, fault, True, _fault_response)
        if early is not None:
            return early
        response = build_response(body, build_output(body, f"Hello from simulated ChatGPT (model {body['model']})."))
        stream = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache",
                                             "x-request-id": new_id("req_")})
        await stream.prepare(request)
        rec["status"] = 200
        failed = {"type": "response.failed", "response": {"status": "failed",
                                                          "error": {"code": "server_error", "message": "overloaded"}}}
        return await pump_stream(request, stream, response_events(response), fault, sse("response.failed", failed))


def _item_types(items) -> list:
    """The kinds of the input items, in order (tests see a tool round trip arrive intact)."""
    if not isinstance(items, list):
        return ["text"] if isinstance(items, str) else []
    return [item.get("type", "message") if isinstance(item, dict) else "?" for item in items]


def _fault_response(fault: Fault) -> web.Response:
    if fault.mode in ("429", "throttle"):
        resets = 60 if fault.retry_after is None else fault.retry_after
        return web.json_response({"error": {"type": "usage_limit_reached", "message": "The usage limit has been "
                                             "reached", "plan_type": "plus", "resets_in_seconds": int(resets),
                                             "resets_at": int(time.time() + resets)}}, status=429)
    status = {"503": 503, "529": 503}.get(fault.mode, 500)
    return _error(status, "An error occurred while processing your request.", None, "server_error")


async def _json(request: web.Request) -> dict:
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
