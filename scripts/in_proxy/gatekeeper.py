"""The proxy's trust boundary, applied before LiteLLM runs (scripts/core/trust.py is the policy).

An ASGI middleware, the outermost on LiteLLM's app (litellm_main adds it last). In order:
1. A Host that is not this proxy's: 403 (DNS rebinding).
2. Browsers: a preflight (OPTIONS with Access-Control-Request-Method) is answered here, never
   by LiteLLM's CORSMiddleware (which allows every origin): 204 for a listed origin, else 403,
   and always 403 when it asks for Private Network Access. Any other request with an Origin
   that is not listed: 403. Responses lose LiteLLM's `access-control-*` headers; a listed
   origin gets its own allow-origin.
3. A route the toolkit does not serve: 404.
4. No valid key: the one-line 401 of master_key.py, before a byte of the body is read.
   (Measured before this: 8 keyless 100 MB POSTs grew the proxy 640 -> 2,287 MB RSS, since
   LiteLLM reads and parses the body before its auth.) The key-less Ollama mode's loopback
   clients pass here without a key, unless they carry an Origin.
5. The body: larger than GATEWAY_MAX_BODY_BYTES (by Content-Length, or counted while it
   arrives) is a 413; a body that has not arrived within BODY_DEADLINE seconds a 408.
6. A JSON body that sets where the request goes (api_base, api_key, aws_* ...): 400 (LiteLLM
   refused api_base too, as a bare 500 with a 12 KB traceback).
Every refusal is one log line (refusals.log_refusal) and a short body in the route's API format.
A refused request never reaches LiteLLM, so it adds no metric series.
"""
import asyncio
import hmac
import os
from typing import Any, Callable, List, Optional, Tuple

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from scripts.core import settings, trust
from scripts.in_proxy import body_shape, format_routes, master_key
from scripts.in_proxy.refusals import GatewayRefusal, log_refusal, render

BODY_DEADLINE = 60.0  # seconds for a whole body: 32 MB over loopback takes well under one
KEYLESS_ROUTES = ("/health/liveliness", "/health/liveness", "/health/readiness")  # `make health`, services
KEY_HEADERS = (b"x-litellm-api-key", b"authorization", b"api-key", b"x-api-key", b"x-goog-api-key",
               b"ocp-apim-subscription-key")  # LiteLLM's, in its order (master_key.py)
FOREIGN_HOST = "this proxy answers only to its own address: add the name to GATEWAY_ALLOWED_HOSTS in .env"
FOREIGN_ORIGIN = ("web pages may not use this proxy: add the page's origin to GATEWAY_ALLOWED_ORIGINS "
                  "in .env to allow it")
PRIVATE_NETWORK = "web pages on the public internet may not reach this proxy (Private Network Access)"
KEYLESS_FROM_PAGE = "key-less Ollama requests may not come from a web page: send the proxy's key"
NOT_SERVED = "this route is not served by the gateway (see docs/security.md for the routes it serves)"
TOO_LARGE = "the request body is larger than GATEWAY_MAX_BODY_BYTES ({limit} bytes): send a smaller request"
TOO_SLOW = "the request body did not arrive within {seconds:.0f} s"
OVERRIDE = "the request body sets {key!r}: the proxy decides where requests go and with which credentials; remove it"


class Refused(Exception):
    def __init__(self, status: int, kind: str, message: str, reason: str, headers: Tuple = ()) -> None:
        super().__init__(message)
        self.refusal = GatewayRefusal(status, kind, message)
        self.reason, self.headers = reason, headers


class Gatekeeper:
    def __init__(self, app, boundary: Optional[trust.Boundary] = None) -> None:
        self.app = app
        self.boundary = boundary or trust.from_environment(os.environ)
        self.keyless = settings.flag(os.environ.get(settings.OLLAMA_KEYLESS))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":  # no contract route is a websocket (LiteLLM's realtime API is not served)
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            origin = self.check_head(scope, headers)
            if origin is not None and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await self.preflight(origin, headers)(scope, receive, send)
                return
            receive = await self.checked_body(scope, headers, receive)
        except Refused as refused:
            await self.refuse(scope, refused, send)
            return
        await self.app(scope, receive, self.cors_headers(origin, send))

    def check_head(self, scope, headers: Headers) -> Optional[str]:
        """Steps 1-4; the request's Origin (None: not from a page)."""
        if not self.boundary.host_allowed(headers.get("host")):
            raise Refused(403, "permission_error", FOREIGN_HOST, "foreign Host header")
        origin = headers.get("origin")
        if origin is not None and "access-control-request-private-network" in headers:
            raise Refused(403, "permission_error", PRIVATE_NETWORK, "private network access preflight")
        if origin is not None and not self.boundary.origin_allowed(origin):
            raise Refused(403, "permission_error", FOREIGN_ORIGIN, "origin not allowed")
        path = scope.get("path", "")
        if not trust.route_served(path):
            raise Refused(404, "not_found_error", NOT_SERVED, "route not served")
        if origin is None or scope["method"] != "OPTIONS":
            self.check_key(scope, headers, origin)
        return origin

    def check_key(self, scope, headers: Headers, origin: Optional[str]) -> None:
        path = scope.get("path", "").rstrip("/")
        if path in KEYLESS_ROUTES:
            return
        presented = presented_keys(scope)
        if not presented and self.keyless and path.startswith("/api/") and loopback_client(scope):
            if origin is not None:
                raise Refused(403, "permission_error", KEYLESS_FROM_PAGE, "key-less request from a web page")
            return  # format_routes.lend_master_key authenticates it
        expected = master_key.proxy_server().master_key
        if isinstance(expected, str) and any(matches(key, expected) for key in presented):
            return
        problem = master_key.key_problem(Request(scope), presented[0] if presented else None, expected)
        if problem == master_key.NO_KEY and path.startswith("/api/"):
            problem = format_routes.NO_KEY  # Ollama's clients set the key elsewhere
        raise Refused(401, "authentication_error", problem or master_key.WRONG_KEY, (problem or "").split(":")[0],
                      ((b"www-authenticate", b"Bearer"),))

    async def checked_body(self, scope, headers: Headers, receive) -> Callable:
        """Steps 5-6 for a request with a body: a receive that hands LiteLLM the body read here."""
        if scope["method"] not in body_shape.WITH_BODY:
            return receive
        limit = self.boundary.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        body, last = await read_bounded(receive, limit)
        model_request = not scope.get("path", "").startswith("/health")  # master_key refuses those that spend
        if model_request and body_shape.checked(scope) and body.lstrip(body_shape.WHITESPACE)[:1] == b"{":
            key = trust.routing_override(parsed(body))
            if key:
                raise Refused(400, "invalid_request_error", OVERRIDE.format(key=key), f"routing override {key!r}")
        return replaying(body, last, receive)

    def preflight(self, origin: str, headers: Headers) -> Response:
        """A listed origin's preflight (steps 1-3 passed): what it asked for, for 10 minutes."""
        allow = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                 (b"access-control-allow-methods", headers["access-control-request-method"].encode("latin-1")),
                 (b"access-control-max-age", b"600")]
        wanted = headers.get("access-control-request-headers")
        if wanted:
            allow.append((b"access-control-allow-headers", wanted.encode("latin-1")))
        response = Response(status_code=204)
        response.raw_headers.extend(allow)
        return response

    def cors_headers(self, origin: Optional[str], send) -> Callable:
        """LiteLLM's `access-control-*` headers out; a listed origin's own allow-origin in."""
        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if not k.lower().startswith(b"access-control-")]
                if origin is not None:
                    kept += [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
                message = {**message, "headers": kept}
            await send(message)
        return sending

    async def refuse(self, scope, refused: Refused, send) -> None:
        request = Request(scope)
        log_refusal(request, scope.get("path", ""), refused.reason)
        response = await render(request, refused.refusal)
        response.raw_headers.extend(refused.headers)
        if scope["method"] in body_shape.WITH_BODY:  # the body is left unread: the connection cannot carry on
            response.raw_headers.append((b"connection", b"close"))
        await response(scope, _nothing, send)


async def _nothing() -> dict:
    return {"type": "http.disconnect"}


def presented_keys(scope) -> List[str]:
    """Every key the request carries where LiteLLM looks for one (Bearer prefix removed)."""
    found = []
    for name, value in scope.get("headers") or ():
        name, text = name.lower(), value.decode("latin-1").strip()
        bearer = text.lower().startswith("bearer ")
        if name == b"authorization":  # LiteLLM reads it with the Bearer prefix only
            found.append(text[7:].strip() if bearer else "")
        elif name in KEY_HEADERS:  # x-litellm-api-key may carry the prefix too
            found.append(text[7:].strip() if bearer else text)
    query = scope.get("query_string", b"").decode("latin-1")
    found += [part[4:] for part in query.split("&") if part.startswith("key=")]  # Gemini's ?key=
    return [key for key in found if key]


def matches(given: str, expected: str) -> bool:
    """Constant time: how long the comparison takes tells nothing about the key."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def loopback_client(scope) -> bool:
    client = scope.get("client")
    return bool(client) and trust.is_loopback_address(client[0])


def too_large(limit: int) -> Refused:
    return Refused(413, "request_too_large", TOO_LARGE.format(limit=limit), "body too large")


async def read_bounded(receive, limit: int) -> Tuple[bytes, dict]:
    """The whole body, refused as soon as it passes `limit` bytes or BODY_DEADLINE seconds."""
    chunks, size = [], 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BODY_DEADLINE
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.001))
        except asyncio.TimeoutError:
            raise Refused(408, "timeout_error", TOO_SLOW.format(seconds=BODY_DEADLINE), "body too slow") from None
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), message


def parsed(body: bytes) -> Any:
    """The JSON body, or None when it is no JSON (LiteLLM then says what is wrong with it)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def replaying(body: bytes, last: dict, receive) -> Callable:
    """A receive that gives the body read here once, then the connection's own messages."""
    pending = [{"type": "http.request", "body": body, "more_body": False}] if last["type"] == "http.request" else [last]

    async def replay() -> dict:
        return pending.pop(0) if pending else await receive()
    return replay


def install(app) -> None:
    """Before the app starts: outermost of all middlewares, LiteLLM's CORSMiddleware included."""
    app.add_middleware(Gatekeeper)
