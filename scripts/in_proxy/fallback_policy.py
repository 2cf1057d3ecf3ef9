"""Which failures the Bedrock fallback is for, and what the client hears when it fails.

LiteLLM 1.106.2's router falls back on every error and, when the fallback fails too,
answers with the primary's error. So an invalid request (max_tokens: -5) went to
Anthropic and then to Bedrock, and during an Anthropic cooldown a Bedrock 503 reached
the client as `429 Try again in 60 seconds` (Claude Code then waits and retries a broken
fallback). It has no setting for either; this callback (config.yaml
litellm_settings.callbacks) uses its hooks:

- async_post_call_failure_deployment_hook records each failed upstream attempt of a
  request (keyed by litellm_call_id, which every attempt of one request shares);
- async_pre_call_deployment_hook stops a fallback attempt before it is sent when the
  primary refused the request itself (400, 413, 422: Bedrock runs the same model and
  would refuse it too), so the client gets the primary's own error at once. A 400 about
  the account (an empty credit balance, a login LiteLLM could not refresh) is not the
  request's fault: that one still falls back (scripts/in_proxy/failures.py);
- async_post_call_failure_hook gives the client the failed fallback's status and message
  instead of the primary's. LiteLLM uses the HTTPException it returns on its OpenAI
  routes; its /v1/messages handler ignores it and answers from the exception object,
  so the status and message are set on that object too.

It also counts the fallbacks that were sent and failed, once per request and fallback
target: gateway_fallback_failures_total{requested_model, fallback_model, status} (the alert
BedrockFallbackFailing reads it): LiteLLM's litellm_deployment_failed_fallbacks_total
counts a skipped fallback as a failed one, labelled with the primary's status, so a
client's invalid request would look like a broken Bedrock.
"""
import collections

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger
from prometheus_client import Counter

from scripts.in_proxy.failures import Failure, FallbackSkipped, is_client_error, primary_outcome, status_of

MAX_REQUESTS = 1024  # failures remembered; a request needs its own only while it runs
MAX_DETAIL = 400
FALLBACK_FAILURES = Counter("gateway_fallback_failures", "Fallback attempts that were sent upstream and failed "
                            "(a fallback not sent because the primary refused the request itself is not counted)",
                            ["requested_model", "fallback_model", "status"])


def _metadata(data) -> dict:
    for key in ("litellm_metadata", "metadata"):
        if isinstance(data.get(key), dict) and data[key].get("model_group"):
            return data[key]
    return {}


def _keep_recent(entries: "collections.OrderedDict", key, value) -> None:
    """Store key as the newest entry; the oldest go beyond MAX_REQUESTS."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > MAX_REQUESTS:
        entries.popitem(last=False)


class FallbackPolicy(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.failures: "collections.OrderedDict[str, Failure]" = collections.OrderedDict()
        self.counted: "collections.OrderedDict[tuple, None]" = collections.OrderedDict()

    def first_failure(self, call_id, group: str) -> bool:
        """Whether this request's fallback to this group was not counted yet: LiteLLM calls the
        hook once per wrapped call (a non-Anthropic tier behind /v1/messages: twice per attempt)."""
        if not call_id:
            return True
        if (call_id, group) in self.counted:
            return False
        _keep_recent(self.counted, (call_id, group), None)
        return True

    def remember(self, call_id: str, failure: Failure) -> None:
        _keep_recent(self.failures, call_id, failure)

    async def async_post_call_failure_deployment_hook(self, request_data, exception, call_type,
                                                      fallback_depth=None) -> None:
        call_id = request_data.get("litellm_call_id")
        metadata = _metadata(request_data)
        group = metadata.get("model_group") or str(request_data.get("model"))
        if fallback_depth and not isinstance(exception, FallbackSkipped) and self.first_failure(call_id, group):
            requested = metadata.get("original_model_group") or "unknown"
            FALLBACK_FAILURES.labels(requested, group, str(status_of(exception) or "none")).inc()
        if call_id:
            detail = str(getattr(exception, "message", None) or exception)[:MAX_DETAIL]
            self.remember(call_id, Failure(status_of(exception), fallback_depth or 0, group, detail))

    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        depth = kwargs.get("fallback_depth")
        primary = self.failures.get(kwargs.get("litellm_call_id") or "")
        if isinstance(depth, int) and depth > 0 and primary and primary.fallback_depth == 0 \
                and is_client_error(primary):
            raise FallbackSkipped(f"not sent: {primary.model_group} refused the request itself "
                                  f"(HTTP {primary.status}), the fallback would too")
        return None

    async def async_post_call_failure_hook(self, request_data, original_exception, user_api_key_dict,
                                           traceback_str=None):
        failure = self.failures.pop(request_data.get("litellm_call_id") or "", None)
        if failure is None or failure.fallback_depth == 0 or failure.status is None \
                or failure.status == status_of(original_exception):
            return None
        message = (f"the fallback {failure.model_group} failed with HTTP {failure.status} after the primary "
                   f"{primary_outcome(original_exception)}: {failure.detail}")
        # /v1/messages answers from this object (see the module doc); the others from the return value.
        original_exception.status_code = failure.status
        original_exception.message = message
        return HTTPException(status_code=failure.status, detail=message)


policy = FallbackPolicy()
