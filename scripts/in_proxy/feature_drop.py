"""A fallback Bedrock refuses over one feature is retried once without it, in the same request.

Bedrock's contract for Claude is not fully published: public reports show it refusing beta
flags its own pages list for other models ("invalid beta flag" for Opus 4.7's
context-management / effort betas) and effort values (xhigh, max on Opus 4.5). When a Bedrock
attempt fails with such a 400, this callback (registered by the effective config, see
scripts/gateway/effective_config.py, feature_drop) learns what was refused, per Bedrock model,
and strips it from that model's next attempts; LiteLLM's router re-sends the attempt once
(router_settings.model_group_retry_policy: BadRequestErrorRetries 1 on the Bedrock twins). So
an unannounced contract difference costs a feature, not the answer. Each drop is counted,
gateway_fallback_feature_dropped_total{feature}, and logged once, naming what was dropped.

What is learned (scripts/in_proxy/refused_features.py reads the error text):
- "invalid beta flag: X": the flag X; a bare "invalid beta flag": every beta flag the client
  asked for (which one is unknown);
- an effort value refused: output_config.effort goes (the model's default effort applies).
A retry with nothing new learned is not sent (the 400 was about something else): the client
gets Bedrock's own error, as before.
"""
import collections
import logging

from prometheus_client import Counter

from scripts.in_proxy.litellm_surface import CustomLogger

from scripts.in_proxy.failures import FallbackSkipped, status_of
from scripts.in_proxy.fallback_policy import model_group_of
from scripts.in_proxy.refused_features import learned_from, strip

LOG = logging.getLogger("gateway.feature_drop")
MAX_ATTEMPTS = 1024  # attempts remembered; one request needs its own only while it runs
DROPPED = Counter("gateway_fallback_feature_dropped", "Features stripped from a Bedrock attempt because Bedrock "
                  "refused them (HTTP 400 naming them)", ["feature"])


def is_bedrock(kwargs: dict) -> bool:
    params = kwargs.get("litellm_params") if isinstance(kwargs.get("litellm_params"), dict) else {}
    provider = kwargs.get("custom_llm_provider") or params.get("custom_llm_provider")
    return (provider or str(kwargs.get("model") or "").split("/", 1)[0]) == "bedrock"


class NothingToDrop(FallbackSkipped):
    """The retry of a refused Bedrock attempt, not sent: nothing was learned that would change it."""
    status_code = 400


class FeatureDrop(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.refused: "dict[str, set]" = collections.defaultdict(set)  # model group -> features Bedrock refused
        self.failed: "collections.OrderedDict[tuple, str]" = collections.OrderedDict()  # (call, group) -> detail

    async def async_post_call_failure_deployment_hook(self, request_data, exception, call_type,
                                                      fallback_depth=None) -> None:
        if not is_bedrock(request_data) or status_of(exception) != 400 or isinstance(exception, FallbackSkipped):
            return
        group, detail = model_group_of(request_data), str(getattr(exception, "message", None) or exception)
        new = learned_from(detail) - self.refused[group]
        self.refused[group] |= new
        if new:
            LOG.warning("fallback %s: Bedrock refused %s (%s); its next attempts go without it", group,
                        ", ".join(sorted(new)), detail[:200])
        key = (request_data.get("litellm_call_id"), group)
        self.failed[key] = detail if new else ""
        while len(self.failed) > MAX_ATTEMPTS:
            self.failed.popitem(last=False)

    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        if not is_bedrock(kwargs):
            return None
        group = model_group_of(kwargs)
        retry = self.failed.pop((kwargs.get("litellm_call_id"), group), None)
        if retry == "":
            raise NothingToDrop(f"{group}: not retried, Bedrock's 400 named no feature the gateway can drop")
        dropped = strip(kwargs, self.refused.get(group, set()))
        for feature in dropped:
            DROPPED.labels(feature).inc()
        return kwargs if dropped else None


handler = FeatureDrop()
