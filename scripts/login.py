"""`make login-chatgpt`, `make login-copilot`, `make logout PROVIDER=chatgpt|copilot`.

    python -m scripts.login login chatgpt
    python -m scripts.login logout copilot

The login runs with the environment the proxy gets (.env included), so the provider
settings LiteLLM reads (GITHUB_COPILOT_*_URL for GitHub Enterprise, HTTPS_PROXY, ...) are
the same for the login and for the proxy that later refreshes the tokens.
"""
import os
from typing import List

from scripts.auth import device
from scripts.auth.tokens import CHATGPT, COPILOT
from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point

PROVIDERS = {"chatgpt": CHATGPT, "copilot": COPILOT, "github_copilot": COPILOT}
USAGE = "usage: python -m scripts.login login|logout chatgpt|copilot (make login-chatgpt, make logout PROVIDER=copilot)"


def _provider(name: str) -> str:
    if name not in PROVIDERS:
        raise ToolkitError(f"unknown provider {name!r}: use PROVIDER=chatgpt or PROVIDER=copilot")
    return PROVIDERS[name]


def _use_proxy_environment() -> None:
    if paths.env_file().exists():
        env = settings_mod.proxy_environment(settings_mod.load(validate=False))
        os.environ.clear()
        os.environ.update(env)


def _body(argv: List[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("login", "logout"):
        raise ToolkitError(USAGE if argv[:1] != ["logout"] else
                           "logout needs a provider: `make logout PROVIDER=chatgpt` (or copilot)")
    action, provider = argv[0], _provider(argv[1])
    if action == "logout":
        print(device.logout(provider))
        return 0
    _use_proxy_environment()
    print(device.login(provider))
    return 0


main = entry_point(__name__, _body)
