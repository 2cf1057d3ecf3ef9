"""A LiteLLM callback (config.yaml: litellm_settings.callbacks) that remembers when the
proxy's ChatGPT or Copilot login was refused, for `make status` and `make health`.

LiteLLM answers the client itself: a 401 with the provider's message when the provider
refuses the token, a 400 naming an AuthenticationError when LiteLLM could not refresh an
expired login (its device-code login cannot run inside the proxy). What it keeps
nowhere is *that the login stopped working*: its metrics count refusals but cannot tell
whether the last answer was one, and the token files look the same before and after a
revocation. So: either refusal of a request to one of those providers writes
<token dir>/refused.json {at, status, message}; the next success removes it; a new
login removes it too. Other providers cost one dictionary lookup per request.
"""
import json
import os
import re
import time
from pathlib import Path

from litellm.integrations.custom_logger import CustomLogger

from scripts.core import paths

WATCHED = ("chatgpt", "github_copilot")
REFUSED = "refused.json"
AUTH_FAILURES = (401, 403)
ORIGINAL_MODEL = re.compile(r"original model: (\w+)/")


def refused_file(provider: str) -> Path:
    return paths.token_dir(provider) / REFUSED


def _provider(kwargs: dict, message: str = "") -> str:
    """The request's provider. A failure before the provider call (LiteLLM could not refresh
    the login while resolving the deployment) carries only the model group's name; LiteLLM's
    message then names the deployment: "... original model: chatgpt/gpt-5.4"."""
    params = kwargs.get("litellm_params") or {}
    provider = kwargs.get("custom_llm_provider") or params.get("custom_llm_provider") or ""
    if not provider:
        model = str(kwargs.get("model") or "")
        provider = model.split("/", 1)[0] if "/" in model else ""
    named = ORIGINAL_MODEL.search(message) if not provider else None
    return named.group(1) if named else provider


def _status(exception) -> int:
    try:
        return int(getattr(exception, "status_code", 0) or 0)
    except (TypeError, ValueError):
        return 0


class LoginWatch(CustomLogger):
    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        exception = kwargs.get("exception")
        status = _status(exception)
        message = str(getattr(exception, "message", exception) or "")
        provider = _provider(kwargs, message)
        if provider not in WATCHED or (status not in AUTH_FAILURES and "AuthenticationError" not in message):
            return
        message = message[:300]
        record = {"at": time.time(), "status": status, "message": message}
        path = refused_file(provider)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(record, out)
        except OSError:
            return  # no token directory: there is no login to report on

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        provider = _provider(kwargs)
        if provider in WATCHED:
            refused_file(provider).unlink(missing_ok=True)


watcher = LoginWatch()
