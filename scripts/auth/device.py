"""`make login-chatgpt`, `make login-copilot`, `make logout`: LiteLLM's own device-code
logins, run in this process with the proxy's token directories.

LiteLLM prints the verification URL and the code, polls, and writes its token files; we
add a visible countdown and make the result safe: the login runs in a fresh directory
(mode 0700, umask 077, so every token file is 0600) and its files replace the previous
login's only once it succeeded, so a cancelled or failed login leaves the old one as it
was. The countdown follows LiteLLM's own polling windows: ChatGPT polls for
DEVICE_CODE_TIMEOUT_SECONDS (15 min); Copilot polls 12 times 5 s per code and asks for
a new code up to 3 times (litellm/llms/github_copilot/authenticator.py).
"""
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Optional

from litellm.llms.chatgpt import authenticator as chatgpt_auth
from litellm.llms.chatgpt.common_utils import ChatGPTAuthError
from litellm.llms.github_copilot import authenticator as copilot_auth
from litellm.llms.github_copilot.common_utils import GithubCopilotError

from scripts.auth.tokens import CHATGPT, COPILOT, LABELS, LOGIN_TARGETS, TOKEN_FILES, current
from scripts.core import paths
from scripts.core.errors import ToolkitError
from scripts.core.settings import TOKEN_DIR_VARIABLES

COPILOT_POLL_SECONDS = 12 * 5  # LiteLLM's _poll_for_access_token: 12 attempts, 5 s apart
TTY_TICK, LOG_TICK = 1.0, 15.0


class Countdown:
    """'waiting for approval: 14:58 left' on stderr, redrawn every second on a terminal,
    a line every 15 s otherwise (logs, CI), until stop()."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self, seconds: float) -> None:
        self.stop()
        self._stop.clear()
        deadline = time.monotonic() + seconds
        self._thread = threading.Thread(target=self._run, args=(deadline,), name="countdown", daemon=True)
        self._thread.start()

    def _run(self, deadline: float) -> None:
        tty = self.stream.isatty()
        while not self._stop.is_set():
            left = max(0, int(deadline - time.monotonic()))
            line = f"   waiting for your approval: {left // 60}:{left % 60:02d} left (Ctrl-C cancels)"
            self.stream.write(f"\r{line} " if tty else line + "\n")
            self.stream.flush()
            if left == 0 or self._stop.wait(TTY_TICK if tty else LOG_TICK):
                break
        if tty:
            self.stream.write("\n")
            self.stream.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None


def _chatgpt_authenticator(countdown: Countdown):
    class Watched(chatgpt_auth.Authenticator):
        # LiteLLM prints the URL and the code, then polls: the countdown runs while it polls.
        def _poll_for_authorization_code(self, device_code):
            countdown.start(chatgpt_auth.DEVICE_CODE_TIMEOUT_SECONDS)
            try:
                return super()._poll_for_authorization_code(device_code)
            finally:
                countdown.stop()

    return Watched()


def _copilot_authenticator(countdown: Countdown):
    class Watched(copilot_auth.Authenticator):
        def _poll_for_access_token(self, device_code):
            countdown.start(COPILOT_POLL_SECONDS)
            try:
                return super()._poll_for_access_token(device_code)
            finally:
                countdown.stop()

    return Watched()


def _log_in_chatgpt(countdown: Countdown) -> None:
    _chatgpt_authenticator(countdown).get_access_token()


def _log_in_copilot(countdown: Countdown) -> None:
    auth = _copilot_authenticator(countdown)
    auth.get_access_token()
    try:
        auth.get_api_key()  # the first Copilot token: proves this GitHub account has Copilot
    except GithubCopilotError as exc:
        raise ToolkitError(f"GitHub accepted the login but Copilot refused it ({exc.message}): check that "
                           f"this GitHub account has a Copilot subscription, then `{LOGIN_TARGETS[COPILOT]}`")


FLOWS: Dict[str, Callable[[Countdown], None]] = {CHATGPT: _log_in_chatgpt, COPILOT: _log_in_copilot}


def login(provider: str) -> str:
    """Run the device login; on success the new token files replace the old. Returns a summary."""
    final = paths.token_dir(provider)
    os.umask(0o077)
    final.parent.mkdir(parents=True, exist_ok=True)
    final.parent.chmod(0o700)
    scratch = final.parent / f".login-{provider}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    variable = TOKEN_DIR_VARIABLES[provider]
    previous, os.environ[variable] = os.environ.get(variable), str(scratch)
    countdown = Countdown()
    # LiteLLM warns "No existing access token found" on the way to a first login: expected here.
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    try:
        FLOWS[provider](countdown)
        _promote(scratch, final, TOKEN_FILES[provider])
    except (ChatGPTAuthError, GithubCopilotError) as exc:
        raise ToolkitError(f"{LABELS[provider]} login failed ({exc.message}): run `{LOGIN_TARGETS[provider]}` "
                           "again") from None
    finally:
        countdown.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        _restore(variable, previous)
    return f"logged in to {LABELS[provider]}: {current(provider).text}; tokens in {final} (mode 0600)"


def _promote(scratch: Path, final: Path, names) -> None:
    missing = [n for n in names if not (scratch / n).is_file()]
    if missing:
        raise ToolkitError(f"the login wrote no {', '.join(missing)}: run the login again")
    final.mkdir(mode=0o700, exist_ok=True)
    final.chmod(0o700)
    for name in names:
        (scratch / name).chmod(0o600)
        os.replace(scratch / name, final / name)
    (final / "refused.json").unlink(missing_ok=True)  # the proxy's note on the previous login


def _restore(variable: str, previous: Optional[str]) -> None:
    if previous is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = previous


def logout(provider: str) -> str:
    folder = paths.token_dir(provider)
    removed = [name for name in TOKEN_FILES[provider] + ("refused.json",) if (folder / name).exists()]
    for name in removed:
        (folder / name).unlink()
    if not removed:
        return f"{LABELS[provider]}: not logged in (nothing in {folder})"
    return (f"{LABELS[provider]}: removed {', '.join(removed)} from {folder}; its models answer 401 until "
            f"`{LOGIN_TARGETS[provider]}`. The login itself stays valid at the provider until you revoke it there.")
