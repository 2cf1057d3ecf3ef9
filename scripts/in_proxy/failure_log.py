"""One log line per failed request; LiteLLM's tracebacks and repeats only with LITELLM_LOG=DEBUG.

LiteLLM 1.106.2 logs a failed proxied request several times: the router once per
fallback layer (router.py async_function_with_fallbacks(): "Error occurred while trying
to do fallbacks", three lines each, with its cooldown list), then the proxy once with a
traceback of 40-50 lines (common_request_processing.py log_llm_api_exception(),
verbose_proxy_logger.exception). One Anthropic 500 plus a Bedrock 503 wrote 48 lines,
4.3 KB. The filters below keep the proxy's record, on one line and without its
traceback, and drop the router's repeats, unless the logger is at DEBUG. On
/v1/messages the line then carries the gateway's own account of the attempts
(scripts/in_proxy/fallback_policy.py sets it on the exception before LiteLLM logs it).
"""
import logging
import re

from scripts.in_proxy.litellm_surface import verbose_proxy_logger, verbose_router_logger

# The starts of LiteLLM's messages (the two call sites named in the module doc).
FAILED_REQUEST = "litellm.proxy.proxy_server._handle_llm_api_exception(): Exception occured"
ROUTER_REPEAT = "litellm.router.py::async_function_with_fallbacks() - Error occurred while trying to do fallbacks"
MAX_LINE = 2000


def _exception_text(record: logging.LogRecord) -> str:
    """The exception's message (fallback_policy may have rewritten it), else the whole message."""
    args = record.args if isinstance(record.args, tuple) else ()
    for arg in args:
        if isinstance(arg, BaseException):
            message = getattr(arg, "message", None)
            return message if isinstance(message, str) and message else str(arg)
    return record.getMessage()


class OneLinePerFailure(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if verbose_proxy_logger.isEnabledFor(logging.DEBUG):
            return True
        message = str(record.msg)
        if message.startswith(ROUTER_REPEAT):
            return False  # the proxy's own line below says the same, once
        if not message.startswith(FAILED_REQUEST):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        call_id = args[0] if args and isinstance(args[0], str) else "?"
        text = re.sub(r"\s+", " ", _exception_text(record)).strip()
        record.msg, record.args = "request failed (litellm_call_id=%s): %s", (call_id, text[:MAX_LINE])
        record.exc_info, record.exc_text = None, None
        return True


def install() -> None:
    """First in line: LiteLLM's own filters render the message before this one would see it."""
    for logger in (verbose_proxy_logger, verbose_router_logger):
        if not any(isinstance(f, OneLinePerFailure) for f in logger.filters):
            logger.filters.insert(0, OneLinePerFailure())


install()  # at import: fallback_policy, a callback of config.yaml, imports this module
