"""The one module that imports LiteLLM: every LiteLLM name the toolkit uses comes from here.

Each name is an entry of litellm_contract.RELIED, which `make check-fast` checks against
the installed LiteLLM (tests/unit/test_litellm_contract.py also fails when a name is taken
here without an entry). Why each internal is needed and what would let it go:
docs/litellm-boundary.md.

`litellm.proxy.proxy_server` is reached through proxy_server(), not imported here: the
device logins (in_proxy/device_login.py) use this module too and must not pay for the
proxy's import (its app, its routes, ~10 s of CPU on a busy machine). In the proxy
process LiteLLM's CLI has imported it already.
"""
import importlib
from types import ModuleType

from litellm import run_server
from litellm._logging import verbose_proxy_logger, verbose_proxy_stdout_logger, verbose_router_logger
from litellm.constants import LITELLM_PROXY_ADMIN_NAME, LITELLM_PROXY_MASTER_KEY_ALIAS
from litellm.exceptions import MidStreamFallbackError
from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.core_helpers import get_litellm_metadata_from_kwargs
from litellm.litellm_core_utils.exception_mapping_utils import _get_response_headers
from litellm.llms.chatgpt import authenticator as chatgpt_authenticator
from litellm.llms.chatgpt.common_utils import ChatGPTAuthError
from litellm.llms.github_copilot import authenticator as copilot_authenticator
from litellm.llms.github_copilot.common_utils import GithubCopilotError
from litellm.proxy._types import LiteLLMRoutes, LitellmUserRoles, ProxyException, UserAPIKeyAuth
from litellm.proxy.auth.auth_utils import get_request_route
from litellm.proxy.common_utils.http_parsing_utils import read_request_body
from litellm.proxy.proxy_cli import ProxyInitializationHelpers
from litellm.proxy.route_priority import HOT_ROUTE_PATHS
from litellm.router import Router
from litellm.router_utils.cooldown_cache import CooldownCache
from litellm.router_utils.fallback_event_handlers import _trigger_cooldown_for_failed_deployment
from litellm.secret_managers.main import get_secret
from litellm.types.router import Deployment, LiteLLM_Params, holds_secret_pointer
from litellm.utils import _get_retry_after_from_exception_header

from scripts.in_proxy.litellm_contract import PROXY_SERVER

# Re-exported: the other in_proxy modules import these names from here.
__all__ = [
    "run_server",
    "verbose_proxy_logger",
    "verbose_proxy_stdout_logger",
    "verbose_router_logger",
    "LITELLM_PROXY_ADMIN_NAME",
    "LITELLM_PROXY_MASTER_KEY_ALIAS",
    "MidStreamFallbackError",
    "CustomLogger",
    "get_litellm_metadata_from_kwargs",
    "_get_response_headers",
    "chatgpt_authenticator",
    "ChatGPTAuthError",
    "copilot_authenticator",
    "GithubCopilotError",
    "LiteLLMRoutes",
    "LitellmUserRoles",
    "ProxyException",
    "UserAPIKeyAuth",
    "get_request_route",
    "read_request_body",
    "ProxyInitializationHelpers",
    "HOT_ROUTE_PATHS",
    "CooldownCache",
    "_trigger_cooldown_for_failed_deployment",
    "_get_retry_after_from_exception_header",
    "Router",
    "get_secret",
    "Deployment",
    "LiteLLM_Params",
    "holds_secret_pointer",
]


def proxy_server() -> ModuleType:
    """LiteLLM's proxy module, whose globals (llm_router, master_key, ...) its start-up sets."""
    return importlib.import_module(PROXY_SERVER)


def proxy_router():
    """The proxy's router, read at each call: the proxy sets it after loading its config."""
    return getattr(proxy_server(), "llm_router", None)


def delete_cooldown(router, deployment_id: str) -> None:
    """Forget a deployment's cooldown entry in the router's cooldown store (Redis too, when shared)."""
    router.cooldown_cache.cooldown_store.delete_cache(CooldownCache.get_cooldown_cache_key(deployment_id))
