"""What an upstream failure means for the fallback (scripts/in_proxy/fallback_policy.py):
which ones Bedrock could not fix, and how a failed fallback is described. Standard
library only."""
from dataclasses import dataclass
from typing import Optional

CLIENT_ERRORS = (400, 413, 422)
# 400s that are about the account or credential, not the request, so another upstream or
# tier can still answer: Anthropic's empty prepaid balance, a credential Anthropic limits
# ("only authorized for use with Claude Code"), LiteLLM's failed ChatGPT/Copilot login refresh.
NOT_THE_REQUEST = ("credit balance", "credential", "authenticationerror")


@dataclass(frozen=True)
class Failure:
    status: Optional[int]
    fallback_depth: int  # 0: the primary attempt, 1: the first fallback, ...
    model_group: str
    detail: str


class FallbackSkipped(Exception):
    """Raised in place of a fallback attempt that could only fail the same way."""


def is_client_error(failure: Failure) -> bool:
    detail = failure.detail.lower()
    return failure.status in CLIENT_ERRORS and not any(marker in detail for marker in NOT_THE_REQUEST)


def status_of(exception: BaseException) -> Optional[int]:
    status = getattr(exception, "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def primary_outcome(exception: BaseException) -> str:
    if getattr(exception, "cooldown_time", None):  # LiteLLM's RouterRateLimitError: no call was made
        return "was cooling down after a rate limit"
    status = status_of(exception)
    return f"answered HTTP {status}" if status else "failed"
