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
- async_post_call_failure_hook gives the client the failed fallback's status instead of
  the primary's, and one line naming each attempt and why it failed, with the fix when
  the cause is known (scripts/in_proxy/failures.py); a model no deployment serves points
  at `make models`, and a group whose every deployment cools down says until when and
  after which status, where LiteLLM said "No deployments available ... Try again in 60
  seconds" (read from LiteLLM's cooldown cache: _active_cooldowns, the one internal used). LiteLLM uses the HTTPException it returns on its OpenAI
  routes; its /v1/messages handler ignores it and answers from the exception object,
  so the status and message are set on that object too.

It also counts the fallbacks that were sent and failed, once per request and fallback
target: gateway_fallback_failures_total{requested_model, fallback_model, status} (the alert
BedrockFallbackFailing reads it): LiteLLM's litellm_deployment_failed_fallbacks_total
counts a skipped fallback as a failed one, labelled with the primary's status, so a
client's invalid request would look like a broken Bedrock.
"""
import collections
import os
import urllib.parse
from typing import List, Optional, Tuple

from fastapi import HTTPException
from prometheus_client import Counter

from scripts.in_proxy import failure_log  # noqa: F401 (its logging filter, installed at import)
from scripts.in_proxy.failures import (Failure, FallbackSkipped, chain_message, cooldown_text, is_client_error,
                                       is_unknown_model, status_of, unknown_model_message, upstream_name)
from scripts.in_proxy.litellm_surface import CustomLogger, proxy_router

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


def model_group_of(data) -> str:
    return _metadata(data).get("model_group") or str(data.get("model"))


def _keep_recent(entries: "collections.OrderedDict", key, value) -> None:
    """Store key as the newest entry; the oldest go beyond MAX_REQUESTS."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > MAX_REQUESTS:
        entries.popitem(last=False)


class FallbackPolicy(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.failures: "collections.OrderedDict[str, List[Failure]]" = collections.OrderedDict()
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
        _keep_recent(self.failures, call_id, [*self.failures.get(call_id, []), failure])

    def primary_failure(self, call_id: str) -> Optional[Failure]:
        attempts = self.failures.get(call_id) or []
        return attempts[0] if attempts and attempts[0].fallback_depth == 0 else None

    def not_sent(self, kwargs: dict, status: int, message: str) -> None:
        """An attempt another callback's pre-call hook stops: LiteLLM reports no failure for it, so
        it is recorded here, and the client gets this status and message instead of the primary's."""
        call_id, depth = kwargs.get("litellm_call_id"), kwargs.get("fallback_depth")
        if call_id and isinstance(depth, int):
            self.remember(call_id, Failure(status, depth, model_group_of(kwargs), message))

    async def async_post_call_failure_deployment_hook(self, request_data, exception, call_type,
                                                      fallback_depth=None) -> None:
        call_id = request_data.get("litellm_call_id")
        metadata = _metadata(request_data)
        group = model_group_of(request_data)
        if fallback_depth and not isinstance(exception, FallbackSkipped) and self.first_failure(call_id, group):
            requested = metadata.get("original_model_group") or "unknown"
            FALLBACK_FAILURES.labels(requested, group, str(status_of(exception) or "none")).inc()
        if call_id and not isinstance(exception, FallbackSkipped):
            detail = str(getattr(exception, "message", None) or exception)[:MAX_DETAIL]
            params = request_data.get("litellm_params") or {}
            deployment = str(params.get("model") or request_data.get("model"))
            self.remember(call_id, Failure(status_of(exception), fallback_depth or 0, group, detail, deployment,
                                           _host(params.get("api_base") or request_data.get("api_base"), deployment)))

    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        depth = kwargs.get("fallback_depth")
        primary = self.primary_failure(kwargs.get("litellm_call_id") or "")
        if isinstance(depth, int) and depth > 0 and primary and primary.fallback_depth == 0 \
                and is_client_error(primary):
            raise FallbackSkipped(f"not sent: {primary.model_group} refused the request itself "
                                  f"(HTTP {primary.status}), the fallback would too")
        return None

    async def async_post_call_failure_hook(self, request_data, original_exception, user_api_key_dict,
                                           traceback_str=None):
        attempts = self.failures.pop(request_data.get("litellm_call_id") or "", [])
        requested = str(_metadata(request_data).get("original_model_group") or request_data.get("model"))
        told = _what_to_tell(requested, attempts, original_exception)
        if told is None:
            return None
        status, message = told
        # /v1/messages answers from this object (see the module doc); the others from the return value.
        original_exception.status_code = status
        original_exception.message = message
        return HTTPException(status_code=status, detail=message)


# Where a provider's requests go when the deployment names no api_base: the variables
# LiteLLM reads then (the proxy's environment always has ANTHROPIC_API_BASE: settings.py).
BASE_VARIABLES = {"anthropic": "ANTHROPIC_API_BASE", "bedrock": "AWS_BEDROCK_RUNTIME_ENDPOINT"}


def _host(api_base, deployment: str) -> str:
    """The host an attempt was sent to, or "" when it cannot be known here."""
    if not (isinstance(api_base, str) and api_base):
        api_base = os.environ.get(BASE_VARIABLES.get(deployment.split("/", 1)[0], ""), "")
    return urllib.parse.urlsplit(api_base).hostname or "" if api_base else ""


def _what_to_tell(requested: str, attempts: List[Failure], exception) -> Optional[Tuple[int, str]]:
    """(status, one-line message) for the client, or None to leave LiteLLM's answer as it is:
    a request refused for itself (only the primary tried) keeps the upstream's own words."""
    cooling = _cooldown_of(exception)
    if not attempts:
        if is_unknown_model(str(exception)):
            return 400, unknown_model_message(requested)
        if cooling:
            return 429, cooldown_text(requested, *cooling, whole=True)
        return None
    if cooling is None and all(a.fallback_depth == 0 for a in attempts):
        if attempts[0].status == 404:  # an id only the claude-* wildcard routes, unknown upstream too
            return 404, f"{unknown_model_message(requested)} ({upstream_name(attempts[0])} answered 404)"
        return None
    # The last attempt's status (a failed fallback's own, not the primary's); one that got
    # no HTTP answer (DNS, no credentials) is a bad gateway.
    prefix = cooldown_text("Anthropic", *cooling, whole=False) if cooling else None
    return (attempts[-1].status or 502), chain_message(requested, attempts, prefix)


def _cooldown_of(exception) -> Optional[Tuple[Optional[float], Optional[str]]]:
    """(when the cooldown ends, the status that caused it) when LiteLLM made no call because
    every deployment of the group cools down (its RouterRateLimitError), else None."""
    if not getattr(exception, "cooldown_time", None):
        return None
    active = _active_cooldowns(list(getattr(exception, "cooldown_list", None) or []))
    if not active:
        return None, None
    ends = [float(v.get("timestamp", 0)) + float(v.get("cooldown_time", 0)) for _id, v in active]
    return max(ends), str(active[0][1].get("status_code"))


def _active_cooldowns(model_ids: List[str]) -> list:
    """LiteLLM internal: the router's cooldown cache, [(deployment id, {status_code,
    timestamp, cooldown_time, ...})] (litellm/router_utils/cooldown_cache.py, 1.106.2)."""
    router = proxy_router()
    if router is None or not model_ids:
        return []
    return router.cooldown_cache.get_active_cooldowns(model_ids=model_ids, parent_otel_span=None)


policy = FallbackPolicy()
