"""The LiteLLM side of the credential tiers: one CustomLogger, loaded by the proxy from
litellm_settings.callbacks (scripts/gateway/credential_tiers.py adds it when a subscription token
is set). Only the proxy imports this module.

- async_pre_call_hook: sends Claude Code's requests to the subscription twin of their
  model and keeps every other request off it (credential_routing.route), before the router
  picks a deployment. It only ever changes `model`: headers and system prompt go upstream
  as the client sent them.
- async_log_failure_event: a subscription 429 that announces a reset
  (anthropic-ratelimit-unified-*) cools every subscription deployment the used-up claim
  covers down until that reset, in the router's own cooldown cache (so Redis shares it
  when configured). It runs after the router's failure callback, which cooled the one
  deployment for the retry-after or cooldown_time, and replaces that entry. Only
  subscription deployments are touched, and only Claude Code's requests reach them.
- async_log_success_event / failure: the unified headers of each subscription answer
  become the usage gauges (usage_gauges.py).
"""
import logging
import time
from typing import Any, Mapping, Optional

import litellm
from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.exception_mapping_utils import _get_response_headers
from litellm.proxy import proxy_server
from litellm.router_utils.cooldown_cache import CooldownCache

from scripts.gateway import credential_tiers
from scripts.in_proxy import claude_code, credential_routing, usage_gauges, usage_windows

log = logging.getLogger("claude_gateway.tiers")


def _subscription_call(kwargs: Mapping[str, Any]) -> bool:
    model_info = (kwargs.get("litellm_params") or {}).get("model_info") or {}
    return model_info.get("gateway_tier") == credential_tiers.TIER


def _answer_headers(kwargs: Mapping[str, Any], response: Any) -> Mapping[str, str]:
    """The upstream's response headers: LiteLLM logs them as response_headers (streamed
    and not), and keeps them as llm_provider-<name> in the response's hidden params."""
    raw = kwargs.get("response_headers")
    if raw:
        return dict(raw.items()) if hasattr(raw, "items") else {}
    hidden = getattr(response, "_hidden_params", None) or {}
    return hidden.get("additional_headers") or {}


class TierHooks(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._routes: Optional[credential_routing.Routes] = None
        self._router: Any = None

    def routes(self) -> credential_routing.Routes:
        """Read from the router once: the model list does not change while the proxy runs."""
        router = proxy_server.llm_router
        if self._routes is None or self._router is not router:
            self._routes = credential_routing.routes_of_router(router)
            self._router = router
        return self._routes

    async def async_pre_call_hook(self, user_api_key_dict, cache, data: dict, call_type):
        model = data.get("model")
        if not isinstance(model, str) or proxy_server.llm_router is None:
            return data
        headers = (data.get("proxy_server_request") or {}).get("headers") or {}
        from_claude_code = call_type == "anthropic_messages" and claude_code.is_claude_code(headers, data)
        decision = credential_routing.route(self.routes(), model, from_claude_code)
        if decision.refusal:
            raise HTTPException(status_code=403, detail=decision.refusal)
        data["model"] = decision.model
        return data

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        if _subscription_call(kwargs):
            usage = usage_windows.parse(_answer_headers(kwargs, response_obj))
            if usage is not None:
                usage_gauges.publish(usage)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        if not _subscription_call(kwargs):
            return
        exception = kwargs.get("exception")
        headers = _get_response_headers(original_exception=exception) if exception is not None else None
        usage = usage_windows.parse(headers)
        if usage is None:
            return
        usage_gauges.publish(usage)
        if getattr(exception, "status_code", None) != 429:
            return
        retry_after = litellm.utils._get_retry_after_from_exception_header(response_headers=headers)
        seconds = usage_windows.cooldown_seconds(usage, time.time(),
                                                 retry_after if retry_after and retry_after > 0 else None)
        if seconds is not None:
            self.cool_down(exception, usage.claim, seconds)

    def cool_down(self, exception: Exception, claim: Optional[str], seconds: float) -> None:
        router = proxy_server.llm_router
        cooled = []
        for deployment_id, model in credential_routing.subscription_deployments(router.model_list):
            if usage_windows.claim_covers(claim, model):
                # Delete first: the in-memory cache keeps an existing key's TTL on a new write,
                # so the router's own entry (the retry-after) would still expire the cooldown.
                router.cooldown_cache.cooldown_store.delete_cache(CooldownCache.get_cooldown_cache_key(deployment_id))
                router.cooldown_cache.add_deployment_to_cooldown(
                    model_id=deployment_id, original_exception=exception, exception_status=429, cooldown_time=seconds)
                cooled.append(model)
        until = time.time() + seconds
        usage_gauges.cooled_down_until(until)
        log.warning("Claude subscription usage limit (%s): %d subscription deployments skipped until %s; "
                    "Claude Code uses the next tier", claim or "unknown claim", len(cooled),
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(until)))


handler = TierHooks()
