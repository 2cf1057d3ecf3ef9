"""A fallback too large for Bedrock is not sent: the client hears why, and how to fix it, at once.

botocore's service model caps an InvokeModel body at 25,000,000 bytes
(botocore/data/bedrock-runtime/2023-09-30/service-2.json, InvokeModelRequest.body: blob, max
25000000), while Anthropic takes up to 32 MB; so a long Claude Code conversation can pass on
Anthropic and be refused by Bedrock, after a wait, during a rate limit. This hook (registered
with feature_drop.py by the effective config) measures the attempt's body before LiteLLM
sends it to Bedrock and stops it above the cap, with a 413 that names the remedy: compact the
conversation (/compact in Claude Code), or wait for Anthropic.
"""
import json

from scripts.in_proxy.litellm_surface import CustomLogger

from scripts.in_proxy.failures import FallbackSkipped
from scripts.in_proxy.fallback_policy import policy
from scripts.in_proxy.feature_drop import is_bedrock

BEDROCK_MAX_BODY = 25_000_000
BODY_PARTS = ("messages", "system", "tools")


def body_bytes(kwargs: dict) -> int:
    """The size of what the InvokeModel body carries (the request's own parts; the few fields
    LiteLLM adds are small against the cap)."""
    parts = {key: kwargs.get(key) for key in BODY_PARTS if kwargs.get(key) is not None}
    return len(json.dumps(parts, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def too_large_message(size: int) -> str:
    return (f"the conversation is {size:,} bytes, more than the {BEDROCK_MAX_BODY:,} bytes Bedrock accepts: "
            "compact it (/compact in Claude Code) or start a new one, then retry")


class TooLargeForBedrock(FallbackSkipped):
    status_code = 413


class BedrockSize(CustomLogger):
    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        if not is_bedrock(kwargs):
            return None
        size = body_bytes(kwargs)
        if size > BEDROCK_MAX_BODY:
            message = too_large_message(size)
            policy.not_sent(kwargs, 413, message)
            error = TooLargeForBedrock(message)
            error.message = message
            raise error
        return None


guard = BedrockSize()
