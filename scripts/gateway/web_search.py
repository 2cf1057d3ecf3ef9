"""Web search on the fallback: which search provider answers Claude Code's WebSearch when
Bedrock (or a tier after it) serves the request.

Anthropic runs web search itself (a server tool); Bedrock does not, and LiteLLM refuses the
tool before it reaches Bedrock. LiteLLM's web search interception (callback
"websearch_interception", litellm_settings.websearch_interception_params) turns the tool into
a plain one on the providers it is enabled for, runs each search the model asks for through a
search provider (config `search_tools`) and hands the model the results, inside the request.

.env chooses the provider (GATEWAY_WEB_SEARCH_PROVIDER, one of LiteLLM's search providers) and
its key (the provider's own variable, e.g. TAVILY_API_KEY); GATEWAY_WEB_SEARCH_API_BASE
overrides its endpoint (a corporate gateway, the tests' simulator). Without a provider, the
fallback answers a web search with a 400 that names these settings
(scripts/in_proxy/web_search_guard.py), never with an empty search.
"""
from typing import Dict, List, Optional

from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings

PROVIDER_VAR, API_BASE_VAR = "GATEWAY_WEB_SEARCH_PROVIDER", "GATEWAY_WEB_SEARCH_API_BASE"
SEARCH_TOOL_NAME = "gateway-web-search"
# LiteLLM 1.106.2's search providers with one key each, and the variable each reads it from
# (litellm/llms/<provider>/search/transformation.py, key_env_vars).
PROVIDER_KEYS = {
    "tavily": "TAVILY_API_KEY", "brave": "BRAVE_API_KEY", "exa_ai": "EXA_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY", "serper": "SERPER_API_KEY", "firecrawl": "FIRECRAWL_API_KEY",
    "searchapi": "SEARCHAPI_API_KEY", "linkup": "LINKUP_API_KEY", "parallel_ai": "PARALLEL_AI_API_KEY",
    "you_com": "YOUCOM_API_KEY", "searxng": "SEARXNG_API_KEY",
}
KEYLESS = ("searxng",)  # a self-hosted SearXNG may need no key, but needs its URL
GUARD_CALLBACK = "scripts.in_proxy.web_search_guard.guard"
INTERCEPTION_CALLBACK = "websearch_interception"
# Providers the interception never takes over: Anthropic runs web search itself.
NATIVE_PROVIDERS = ("anthropic",)


def provider(settings: Settings) -> Optional[str]:
    """The configured search provider, checked; None when web search on the fallback is off."""
    name = settings.get(PROVIDER_VAR)
    if not name:
        return None
    name = name.strip().lower()
    if name not in PROVIDER_KEYS:
        raise ToolkitError(f"{PROVIDER_VAR}={name} is not a search provider this gateway knows: "
                           f"use one of {', '.join(sorted(PROVIDER_KEYS))}")
    key_var = PROVIDER_KEYS[name]
    if name not in KEYLESS and not settings.get(key_var):
        raise ToolkitError(f"{PROVIDER_VAR}={name} needs {key_var} in .env (the provider's API key)")
    if name in KEYLESS and not settings.get(API_BASE_VAR):
        raise ToolkitError(f"{PROVIDER_VAR}={name} needs {API_BASE_VAR} in .env (your SearXNG's URL)")
    return name


def search_tool(settings: Settings, name: str) -> dict:
    """The `search_tools` entry; the key stays a reference to its variable."""
    params: Dict[str, str] = {"search_provider": name}
    if settings.get(PROVIDER_KEYS[name]):
        params["api_key"] = f"os.environ/{PROVIDER_KEYS[name]}"
    if settings.get(API_BASE_VAR):
        params["api_base"] = f"os.environ/{API_BASE_VAR}"
    return {"search_tool_name": SEARCH_TOOL_NAME, "litellm_params": params}


def intercepted_providers(settings: Settings) -> List[str]:
    """Bedrock and the providers of the tiers after it: every upstream of a fallback."""
    found = ["bedrock"]
    for spec in settings.fallback_tiers:
        if spec.provider not in found and spec.provider not in NATIVE_PROVIDERS:
            found.append(spec.provider)
    return found


def status_line(settings: Settings) -> str:
    """One line for make health / make status: does web search survive a fallback?"""
    try:
        name = provider(settings)
    except ToolkitError as exc:
        return f"no: {exc}"
    if name is None:
        return (f"no: a web search during a fallback is refused; set {PROVIDER_VAR} (e.g. tavily) and its key "
                f"in .env (docs/web-search.md)")
    return f"yes: through {name} ({SEARCH_TOOL_NAME}) on {', '.join(intercepted_providers(settings))}"
