"""The gateway's own refusals (scripts/in_proxy/master_key.py raises them): their exception
type, their body in the format of the API the route belongs to, and one log line each.

Kept apart from master_key.py on purpose: LiteLLM loads a custom_auth module from a file
next to config.yaml when there is one, as a second copy of that module. Everything with an
identity (this exception class, which the app's exception handler matches; the log
filter) lives here and is imported the normal way, so both copies share it.
"""
import logging
from typing import Dict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from litellm._logging import verbose_proxy_logger, verbose_proxy_stdout_logger
from litellm.proxy._types import ProxyException
from litellm.proxy.auth.auth_utils import get_request_route

ANTHROPIC_PREFIXES = ("/v1/messages", "/messages", "/anthropic/")
GEMINI_MARKERS = (":generateContent", ":streamGenerateContent", ":countTokens", ":embedContent")
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
MAX_LOGGED_PATH = 120


class GatewayRefusal(ProxyException):
    """A request the gateway refuses before LiteLLM does any work for it. A ProxyException,
    so LiteLLM's auth error handler passes it through unchanged (status included)."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message=message, type=kind, param=None, code=status)
        self.status = status


def log_refusal(request: Request, route: str, reason: str) -> None:
    """One short line per refused request; never the key, never a forged line break."""
    path = route.encode("unicode_escape").decode("ascii")[:MAX_LOGGED_PATH]
    client = request.client.host if request.client else "?"
    verbose_proxy_logger.warning("refused %s %s from %s: %s", request.method, path, client, reason)


def error_body(route: str, status: int, kind: str, message: str) -> Dict[str, object]:
    """The error as the route's API writes it, so each SDK shows the message."""
    if route.startswith(ANTHROPIC_PREFIXES):
        return {"type": "error", "error": {"type": kind, "message": message}}
    if route.startswith("/v1beta/") or any(marker in route for marker in GEMINI_MARKERS):
        return {"error": {"code": status, "message": message, "status": GEMINI_STATUS.get(status, "UNKNOWN")}}
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


async def render(request: Request, exc: GatewayRefusal) -> JSONResponse:
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else {}
    return JSONResponse(error_body(get_request_route(request), exc.status, exc.type, exc.message),
                        status_code=exc.status, headers=headers)


def install(app: FastAPI) -> None:
    """Before the app starts (litellm_main): refusals rendered per route. Without it they
    are still 401/403 with the same message, in OpenAI's shape (LiteLLM's handler)."""
    app.add_exception_handler(GatewayRefusal, render)


class _DropRelogged(logging.Filter):
    """LiteLLM logs every auth failure again (two lines; with a traceback for other
    exception types). A refusal is already logged by log_refusal."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(arg, GatewayRefusal) for arg in args)


# At import, so it holds in any process that can raise a GatewayRefusal. First in line:
# LiteLLM's own filters render the message and drop the arguments this one looks at.
for _logger in (verbose_proxy_logger, verbose_proxy_stdout_logger):
    _logger.filters.insert(0, _DropRelogged())
