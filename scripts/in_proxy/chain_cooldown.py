"""One call per cooldown window for every tier of a fallback chain, not only the first.

A LiteLLM callback that the effective config registers when CLAUDE_FALLBACK_AFTER_BEDROCK
puts tiers after Bedrock (`litellm_settings.callbacks: [..., scripts.in_proxy.chain_cooldown.handler]`).

Why it exists (LiteLLM 1.106.2, measured with the simulators): LiteLLM cools a deployment
down from its failure callback, which runs once per request: the request's logging object
refuses every failure after the first. Its fallback loop makes up for that only for a
fallback target whose own fallbacks failed too. In the chain Anthropic -> Bedrock -> tier,
the tier answers inside the call that Bedrock failed in, so nothing cooled Bedrock down:
with Anthropic and Bedrock throttled, 3 requests made 3 Bedrock calls, each one waiting
for a throttled Bedrock before the tier answered.

LiteLLM reports every hop of a chain to CustomLogger.log_success_fallback_event /
log_failure_fallback_event, with the hop's exception stamped with the deployment that
failed. For each hop after the first this hands the failure to LiteLLM's own helper for
failed fallback deployments, so the precedence is LiteLLM's (the deployment's
cooldown_time, then the answer's retry-after, then router cooldown_time; 0 never cools
down) and so are the metrics. The first hop (the requested model) is left to LiteLLM's
failure callback, mid-stream failures to LiteLLM's policy (it never cools down for them),
and a deployment already cooling down is not cooled again.
"""
from typing import Optional

from litellm.exceptions import MidStreamFallbackError
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy import proxy_server  # loaded by the proxy itself, which has imported it already
from litellm.router_utils.fallback_event_handlers import _trigger_cooldown_for_failed_deployment


def _router():
    """The proxy's router, read at each event (the proxy sets it after loading its config)."""
    return getattr(proxy_server, "llm_router", None)


def _requested_group(kwargs: dict) -> Optional[str]:
    for bucket in ("litellm_metadata", "metadata"):
        metadata = kwargs.get(bucket)
        if isinstance(metadata, dict) and metadata.get("original_model_group"):
            return metadata["original_model_group"]
    return None


def cool_down_failed_hop(router, failed_group: str, kwargs: dict, exception: Exception) -> bool:
    """Cool the deployment a hop after the first failed on down; True when it was handed over."""
    deployment_id = getattr(exception, "failed_deployment_id", None)
    if router is None or not deployment_id or isinstance(exception, MidStreamFallbackError):
        return False
    if failed_group == _requested_group(kwargs):
        return False  # the requested model: LiteLLM's failure callback decides
    if router.cooldown_cache.get_active_cooldowns(model_ids=[deployment_id], parent_otel_span=None):
        return False
    _trigger_cooldown_for_failed_deployment(litellm_router=router, kwargs=kwargs, exception=exception)
    return True


class TierCooldown(CustomLogger):
    async def log_success_fallback_event(self, original_model_group: str, kwargs: dict,
                                         original_exception: Exception) -> None:
        cool_down_failed_hop(_router(), original_model_group, kwargs, original_exception)

    async def log_failure_fallback_event(self, original_model_group: str, kwargs: dict,
                                         original_exception: Exception) -> None:
        cool_down_failed_hop(_router(), original_model_group, kwargs, original_exception)


handler = TierCooldown()
