"""LiteLLM's own ChatGPT and Copilot device-code logins, with a countdown while they poll.

The LiteLLM half of `make login-chatgpt` / `make login-copilot`: scripts/login.py hands
`log_in` to scripts/auth/device.login, which owns the rest (the scratch token directory,
the countdown's display, replacing the old login only on success). LiteLLM prints the
verification URL and the code, polls, and writes its token files into the directory its
*_TOKEN_DIR variable names. The countdown follows LiteLLM's own polling windows: ChatGPT
polls for DEVICE_CODE_TIMEOUT_SECONDS (15 min); Copilot polls 12 times 5 s per code and
asks for a new code up to 3 times (litellm/llms/github_copilot/authenticator.py).
"""
import logging
from typing import Callable, Dict, Protocol

from scripts.core.errors import ToolkitError
from scripts.in_proxy.litellm_surface import (ChatGPTAuthError, GithubCopilotError, chatgpt_authenticator,
                                              copilot_authenticator)

COPILOT_POLL_SECONDS = 12 * 5  # LiteLLM's _poll_for_access_token: 12 attempts, 5 s apart


class Countdown(Protocol):
    def start(self, seconds: float) -> None: ...

    def stop(self) -> None: ...


def _chatgpt(countdown: Countdown) -> None:
    class Watched(chatgpt_authenticator.Authenticator):
        # LiteLLM prints the URL and the code, then polls: the countdown runs while it polls.
        def _poll_for_authorization_code(self, device_code):
            countdown.start(chatgpt_authenticator.DEVICE_CODE_TIMEOUT_SECONDS)
            try:
                return super()._poll_for_authorization_code(device_code)
            finally:
                countdown.stop()

    Watched().get_access_token()


def _copilot(countdown: Countdown) -> None:
    class Watched(copilot_authenticator.Authenticator):
        def _poll_for_access_token(self, device_code):
            countdown.start(COPILOT_POLL_SECONDS)
            try:
                return super()._poll_for_access_token(device_code)
            finally:
                countdown.stop()

    auth = Watched()
    auth.get_access_token()
    try:
        auth.get_api_key()  # the first Copilot token: proves this GitHub account has Copilot
    except GithubCopilotError as exc:
        raise ToolkitError(f"GitHub accepted the login but Copilot refused it ({exc.message}); check that this "
                           "GitHub account has a Copilot subscription") from None


# Keyed by LiteLLM's provider names (scripts/auth/tokens.py uses the same).
FLOWS: Dict[str, Callable[[Countdown], None]] = {"chatgpt": _chatgpt, "github_copilot": _copilot}


def log_in(provider: str, countdown: Countdown) -> None:
    """Run LiteLLM's device login for `provider`; ToolkitError(reason) when it fails."""
    # LiteLLM warns "No existing access token found" on the way to a first login: expected here.
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    try:
        FLOWS[provider](countdown)
    except (ChatGPTAuthError, GithubCopilotError) as exc:
        raise ToolkitError(exc.message) from None
