"""refusals.py's filter drops LiteLLM's second log line for a gateway refusal, whichever way
LiteLLM passes the failure: the exception itself (1.106.2) or its message (1.108.7,
auth_exception_handler's `_auth_failure_log_message(e)`), and nothing else."""
import contextvars
import logging

from scripts.in_proxy.refusals import GatewayRefusal, _DropRelogged

TEMPLATE = "litellm.proxy.proxy_server.user_api_key_auth(): Exception occured - %s\nRequester IP Address:%s%s"


def record(*args) -> logging.LogRecord:
    return logging.LogRecord("LiteLLM Proxy", logging.ERROR, __file__, 1, TEMPLATE, args, None)


def refused_then(check):
    """Run check in a context of its own (as each request is) after a refusal was raised there."""
    def run():
        refusal = GatewayRefusal(401, "authentication_error", "no proxy key: send the master key")
        return check(refusal)
    return contextvars.copy_context().run(run)


def test_the_relogged_refusal_is_dropped_as_exception_or_as_message():
    keep = _DropRelogged().filter
    assert refused_then(lambda r: keep(record(r, "127.0.0.1", ""))) is False
    assert refused_then(lambda r: keep(record(r.message, "127.0.0.1", ""))) is False


def test_other_lines_are_kept():
    keep = _DropRelogged().filter
    assert refused_then(lambda r: keep(record("some other failure", "127.0.0.1", ""))) is True
    # Another request's context: the same text there is not this request's refusal.
    assert contextvars.copy_context().run(
        lambda: keep(record("no proxy key: send the master key", "127.0.0.1", ""))) is True
