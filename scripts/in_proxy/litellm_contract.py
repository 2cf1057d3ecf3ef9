"""What the toolkit relies on in LiteLLM, as data, and the check that it is still there.

scripts/in_proxy/litellm_surface.py is the only module that imports LiteLLM; every name it
takes is one entry here (tests/unit/test_litellm_contract.py holds the two files together).
The check runs in `make check-fast`: a LiteLLM upgrade that moves, renames or re-shapes one
of these fails in seconds with the symbol and the installed version, instead of one e2e
module at a time in the 12-minute suite. Why each internal is used and what would let it
go: docs/litellm-boundary.md.

This module imports nothing of LiteLLM itself (the check imports each module by name), so
a unit test can run the check on fake modules.
"""
import importlib
import importlib.metadata
import inspect
import typing
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, List, Optional, Tuple

EXTENSION, INTERNAL = "documented extension point", "internal"


@dataclass(frozen=True)
class Relied:
    """One LiteLLM name: `module`'s attribute `name` (dotted for a class's member), which
    must take the parameters `params` (by name), have the attributes `attrs`, and (for a
    property) return an object whose class has `returns_attrs`."""
    module: str
    name: str
    kind: str = INTERNAL
    params: Tuple[str, ...] = ()
    attrs: Tuple[str, ...] = ()
    returns_attrs: Tuple[str, ...] = ()

    @property
    def symbol(self) -> str:
        return f"{self.module}.{self.name}"


PROXY_SERVER = "litellm.proxy.proxy_server"
# The proxy_server globals the Ollama routes hand to LiteLLM's request processing, as its own
# routes do (format_routes._through_litellm), and those the hooks read at request time.
PROXY_SERVER_GLOBALS = ("app", "google_router", "read_request_body", "ProxyException", "user_api_key_auth",
                        "ProxyBaseLLMRequestProcessing", "proxy_logging_obj", "llm_router", "general_settings",
                        "proxy_config", "select_data_generator", "user_model", "user_temperature",
                        "user_request_timeout", "user_max_tokens", "user_api_base", "version", "master_key")
PROCESSING_PARAMS = ("request", "fastapi_response", "user_api_key_dict", "route_type", "proxy_logging_obj",
                     "llm_router", "general_settings", "proxy_config", "select_data_generator", "model",
                     "user_model", "user_temperature", "user_request_timeout", "user_max_tokens", "user_api_base",
                     "version")

RELIED: Tuple[Relied, ...] = (
    # Documented extension points: LiteLLM's CLI and its callback / custom_auth interfaces.
    # Also run as the `litellm` console script by gateway/config_check.py (--validate_config).
    Relied("litellm", "run_server", EXTENSION,
           params=("config", "host", "port", "num_workers", "skip_server_startup", "validate_config")),
    Relied("litellm.integrations.custom_logger", "CustomLogger", EXTENSION,
           attrs=("async_pre_call_hook", "async_log_success_event", "async_log_failure_event",
                  "log_success_fallback_event", "log_failure_fallback_event", "async_pre_call_deployment_hook",
                  "async_post_call_failure_deployment_hook", "async_post_call_failure_hook")),
    Relied("litellm.integrations.custom_logger", "CustomLogger.log_success_fallback_event", EXTENSION,
           params=("original_model_group", "kwargs", "original_exception")),
    Relied("litellm.proxy._types", "UserAPIKeyAuth", EXTENSION),
    Relied("litellm.proxy._types", "LitellmUserRoles", EXTENSION, attrs=("PROXY_ADMIN", "INTERNAL_USER_VIEW_ONLY")),
    Relied("litellm.proxy._types", "ProxyException", EXTENSION, params=("message", "type", "param", "code")),
    Relied("litellm.exceptions", "MidStreamFallbackError", EXTENSION),
    # Internals: each has a line in docs/litellm-boundary.md.
    Relied("litellm.proxy._types", "LiteLLMRoutes", attrs=("public_routes",)),
    Relied("litellm.constants", "LITELLM_PROXY_ADMIN_NAME"),
    Relied("litellm.constants", "LITELLM_PROXY_MASTER_KEY_ALIAS"),
    Relied("litellm.proxy.auth.auth_utils", "get_request_route", params=("request",)),
    Relied("litellm.proxy.common_utils.http_parsing_utils", "read_request_body", params=("request",)),
    Relied("litellm._logging", "verbose_proxy_logger", attrs=("filters", "warning")),
    Relied("litellm._logging", "verbose_proxy_stdout_logger", attrs=("filters",)),
    Relied("litellm._logging", "verbose_router_logger", attrs=("filters",)),
    # new_models.py: a Claude id config.yaml does not list gets its deployments and chain.
    Relied("litellm.router", "Router.add_deployment", params=("deployment",)),
    Relied("litellm.router", "Router.generate_model_id"),
    Relied("litellm.secret_managers.main", "get_secret", params=("secret_name",)),
    Relied("litellm.types.router", "Deployment", params=("model_name", "litellm_params", "model_info")),
    Relied("litellm.types.router", "LiteLLM_Params"),
    Relied("litellm.types.router", "holds_secret_pointer", params=("param_name",)),
    Relied("litellm.litellm_core_utils.core_helpers", "get_litellm_metadata_from_kwargs", params=("kwargs",)),
    Relied("litellm.litellm_core_utils.exception_mapping_utils", "_get_response_headers",
           params=("original_exception",)),
    Relied("litellm.utils", "_get_retry_after_from_exception_header", params=("response_headers",)),
    Relied("litellm.router_utils.cooldown_cache", "CooldownCache.get_cooldown_cache_key", params=("model_id",)),
    Relied("litellm.router_utils.cooldown_cache", "CooldownCache.add_deployment_to_cooldown",
           params=("model_id", "original_exception", "exception_status", "cooldown_time")),
    Relied("litellm.router_utils.cooldown_cache", "CooldownCache.get_active_cooldowns",
           params=("model_ids", "parent_otel_span")),
    Relied("litellm.router_utils.cooldown_cache", "CooldownCache.cooldown_store", returns_attrs=("delete_cache",)),
    Relied("litellm.router_utils.fallback_event_handlers", "_trigger_cooldown_for_failed_deployment",
           params=("litellm_router", "kwargs", "exception")),
    Relied("litellm.proxy.route_priority", "HOT_ROUTE_PATHS"),
    Relied("litellm.proxy.proxy_cli", "ProxyInitializationHelpers.get_default_unvicorn_init_args",
           params=("host", "port")),
    Relied("litellm.proxy.proxy_cli", "ProxyInitializationHelpers.get_loop_type"),
    *(Relied(PROXY_SERVER, name) for name in PROXY_SERVER_GLOBALS),
    Relied(PROXY_SERVER, "ProxyBaseLLMRequestProcessing.base_process_llm_request", params=PROCESSING_PARAMS),
    Relied(PROXY_SERVER, "ProxyBaseLLMRequestProcessing.handle_llm_api_exception",
           params=("e", "user_api_key_dict", "proxy_logging_obj", "version")),
    Relied("litellm.llms.chatgpt.authenticator", "Authenticator.get_access_token"),
    Relied("litellm.llms.chatgpt.authenticator", "Authenticator._poll_for_authorization_code",
           params=("device_code",)),
    Relied("litellm.llms.chatgpt.authenticator", "DEVICE_CODE_TIMEOUT_SECONDS"),
    Relied("litellm.llms.chatgpt.common_utils", "ChatGPTAuthError", params=("message",)),
    Relied("litellm.llms.github_copilot.authenticator", "Authenticator.get_access_token"),
    Relied("litellm.llms.github_copilot.authenticator", "Authenticator.get_api_key"),
    Relied("litellm.llms.github_copilot.authenticator", "Authenticator._poll_for_access_token",
           params=("device_code",)),
    Relied("litellm.llms.github_copilot.common_utils", "GithubCopilotError", params=("message",)),
)


def installed_version() -> str:
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _lookup(module: ModuleType, dotted: str) -> object:
    """module.a.b, looking class members up without calling descriptors (a property stays one)."""
    found: object = module
    for part in dotted.split("."):
        holder = found
        found = inspect.getattr_static(holder, part) if isinstance(holder, type) else getattr(holder, part)
        if isinstance(found, (staticmethod, classmethod)):
            found = getattr(holder, part)
    return found


def _parameter_names(thing: object) -> List[str]:
    """A function's parameters, or a click command's options (run_server is one)."""
    options = getattr(thing, "params", None)
    if isinstance(options, list) and all(hasattr(o, "name") for o in options):
        return [o.name for o in options]
    return list(inspect.signature(thing).parameters)  # type: ignore[arg-type]


def _shape_problem(entry: Relied, thing: object) -> Optional[str]:
    if entry.params:
        try:
            names = _parameter_names(thing)
        except (TypeError, ValueError):
            return "is no longer callable"
        missing = [p for p in entry.params if p not in names]
        if missing:
            return f"takes ({', '.join(names)}), no longer {', '.join(missing)}"
    absent = [a for a in entry.attrs if not hasattr(thing, a)]
    if absent:
        return f"has no {', '.join(absent)}"
    if entry.returns_attrs:
        getter = thing.fget if isinstance(thing, property) else thing
        returned = typing.get_type_hints(getter).get("return") if callable(getter) else None
        absent = [a for a in entry.returns_attrs if returned is None or not hasattr(returned, a)]
        if absent:
            return f"returns {getattr(returned, '__name__', returned)}, which has no {', '.join(absent)}"
    return None


def problem(entry: Relied, import_module: Callable[[str], ModuleType] = importlib.import_module,
            version: Optional[str] = None) -> Optional[str]:
    """None when `entry` holds, else one line naming the symbol and the installed LiteLLM."""
    said = None
    try:
        said = _shape_problem(entry, _lookup(import_module(entry.module), entry.name))
    except ImportError as exc:
        said = f"cannot be imported ({exc})"
    except AttributeError:
        said = "is gone"
    if said is None:
        return None
    return (f"{entry.symbol} {said} in litellm {version or installed_version()} "
            f"(the toolkit relies on it: see docs/litellm-boundary.md)")


def problems(entries=RELIED, import_module: Callable[[str], ModuleType] = importlib.import_module,
             version: Optional[str] = None) -> List[str]:
    return [p for p in (problem(e, import_module, version) for e in entries) if p]
