"""The gateway's own refusals (scripts/in_proxy/master_key.py raises them): their exception
type, their body in the format of the API the route belongs to, and one log line each.

Kept apart from master_key.py on purpose: LiteLLM loads a custom_auth module from a file
next to config.yaml when there is one, as a second copy of that module. Everything with an
identity (this exception class, which the app's exception handler matches; the log
filter) lives here and is imported the normal way, so both copies share it.
"""
import contextvars
import logging
from typing import Dict, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from scripts.in_proxy.litellm_surface import (ProxyException, get_request_route, verbose_proxy_logger,
                                              verbose_proxy_stdout_logger)

ANTHROPIC_PREFIXES = ("/v1/messages", "/messages", "/anthropic/")
OLLAMA_PREFIX = "/api/"
GEMINI_MARKERS = (":generateContent", ":streamGenerateContent", ":countTokens", ":embedContent")
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
MAX_LOGGED_PATH = 120
# The message of the refusal the current request raised (each request runs in a context of its own)
_RAISED: "contextvars.ContextVar[Optional[str]]" = contextvars.ContextVar("gateway_refusal", default=None)


class GatewayRefusal(ProxyException):
    """A request the gateway refuses before LiteLLM does any work for it. A ProxyException,
    so LiteLLM's auth error handler passes it through unchanged (status included)."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message=message, type=kind, param=None, code=status)
        self.status = status
        _RAISED.set(self.message)


def log_refusal(request: Request, route: str, reason: str) -> None:
    """One short line per refused request; never the key, never a forged line break."""
    path = route.encode("unicode_escape").decode("ascii")[:MAX_LOGGED_PATH]
    client = request.client.host if request.client else "?"
    verbose_proxy_logger.warning("refused %s %s from %s: %s", request.method, path, client, reason)


def error_body(route: str, status: int, kind: str, message: str) -> Dict[str, object]:
    """The error as the route's API writes it, so each SDK shows the message."""
    if route.startswith(OLLAMA_PREFIX):
        return {"error": message}  # Ollama's shape (scripts/in_proxy/ollama.py)
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
    exception types). A refusal is already logged by log_refusal. LiteLLM 1.106.2 passes
    the exception as a log argument; 1.108.7 passes its message (str(e)), so a record is
    also recognised by an argument equal to the message this request's refusal carried."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        raised = _RAISED.get()
        return not any(isinstance(arg, GatewayRefusal) or (raised is not None and arg == raised) for arg in args)


# At import, so it holds in any process that can raise a GatewayRefusal. First in line:
# LiteLLM's own filters render the message and drop the arguments this one looks at.
for _logger in (verbose_proxy_logger, verbose_proxy_stdout_logger):
    _logger.filters.insert(0, _DropRelogged())
