"""Request bodies that are JSON but not an object, refused before LiteLLM reads them.

LiteLLM 1.106.2 reads the body before any auth and calls `.get` on it: a JSON array or
string (`[1, 2]`, `"hi"`) raised AttributeError in its auth, whose error handler then
imports prisma (not installed) and fails again. So every such request, with or without a
key, got `500 Internal Server Error` and left a 9.6 KB traceback in the proxy log. Every
API the proxy serves takes a JSON object (or a form, for uploads), so this ASGI
middleware, the outermost on LiteLLM's app (litellm_main adds it), looks at the first
byte of the body that is not whitespace: anything but `{` is a 400 in the route's API
format and one short log line, before LiteLLM or an upstream sees it. Nothing is
buffered: the first chunk is handed on to LiteLLM as it came. Forms, octet streams and
compressed bodies pass untouched, and so does an empty body.
"""
from starlette.datastructures import Headers
from starlette.requests import Request

from scripts.in_proxy.refusals import GatewayRefusal, log_refusal, render

MESSAGE = "the request body must be a JSON object ({...}), as the API of this route defines it"
WITH_BODY = ("POST", "PUT", "PATCH")
NOT_JSON = ("multipart/", "application/x-www-form-urlencoded", "application/octet-stream")
WHITESPACE = b" \t\r\n"


def checked(scope) -> bool:
    """Whether this request's body is one LiteLLM parses as JSON."""
    if scope["type"] != "http" or scope.get("method") not in WITH_BODY:
        return False
    headers = Headers(scope=scope)
    content_type = headers.get("content-type", "").strip().lower()
    encoding = headers.get("content-encoding", "").strip().lower()
    return not content_type.startswith(NOT_JSON) and encoding in ("", "identity")


class JsonObjectBodies:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if not checked(scope):
            await self.app(scope, receive, send)
            return
        held = []
        first = b""
        while True:  # up to the first byte that is not whitespace (the first chunk, nearly always)
            message = await receive()
            held.append(message)
            if message["type"] != "http.request":
                break
            first = message.get("body", b"").lstrip(WHITESPACE)[:1]
            if first or not message.get("more_body"):
                break
        if first and first != b"{":
            request = Request(scope)
            log_refusal(request, scope.get("path", ""), "request body is not a JSON object")
            response = await render(request, GatewayRefusal(400, "invalid_request_error", MESSAGE))
            await response(scope, receive, send)
            return

        async def replay():
            return held.pop(0) if held else await receive()
        await self.app(scope, replay, send)


def install(app) -> None:
    """Before the app starts: outermost of LiteLLM's middlewares."""
    app.add_middleware(JsonObjectBodies)
