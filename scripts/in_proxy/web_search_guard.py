"""A web search on the fallback without a search provider: a refusal that names the setting.

Registered by the effective config (scripts/gateway/effective_config.py,
web_search_on_fallback) only when .env sets no GATEWAY_WEB_SEARCH_PROVIDER. Then LiteLLM's
web search interception is off and LiteLLM 1.106.2 refuses Anthropic's server-side web
search tool before Bedrock with a 400 that points at LiteLLM's docs (issue 23: Claude Code
showed it inside the tool result). This hook stops that attempt first, with a 400 naming the
.env settings that make web search survive a fallback; fallback_policy.py hands its message
to the client ("the fallback X failed with HTTP 400 after the primary answered HTTP 429: ...").
Anthropic itself runs web search, so its deployments are left alone.
"""
from scripts.in_proxy.litellm_surface import CustomLogger

from scripts.in_proxy.failures import FallbackSkipped
from scripts.in_proxy.fallback_policy import policy

NATIVE_PROVIDERS = ("anthropic",)
MESSAGE = ("web search is not available on the fallback: set GATEWAY_WEB_SEARCH_PROVIDER (e.g. tavily) and the "
           "provider's key (e.g. TAVILY_API_KEY) in .env, then `make restart` (docs/web-search.md)")


class WebSearchNotConfigured(FallbackSkipped):
    """Not sent: no search provider would answer the search. A client error (400) for the report."""
    status_code = 400

    def __init__(self) -> None:
        super().__init__(MESSAGE)
        self.message = MESSAGE


def provider_of(kwargs: dict) -> str:
    params = kwargs.get("litellm_params") if isinstance(kwargs.get("litellm_params"), dict) else {}
    named = kwargs.get("custom_llm_provider") or params.get("custom_llm_provider")
    return str(named or str(kwargs.get("model") or "").split("/", 1)[0])


def asks_for_web_search(kwargs: dict) -> bool:
    """Anthropic's server tool: type web_search_YYYYMMDD (Anthropic's web search tool docs)."""
    tools = kwargs.get("tools")
    return isinstance(tools, list) and any(
        isinstance(tool, dict) and str(tool.get("type") or "").startswith("web_search_") for tool in tools)


class WebSearchGuard(CustomLogger):
    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        if provider_of(kwargs) not in NATIVE_PROVIDERS and asks_for_web_search(kwargs):
            policy.not_sent(kwargs, 400, MESSAGE)  # the client hears this, not the primary's 429
            raise WebSearchNotConfigured()
        return None


guard = WebSearchGuard()
