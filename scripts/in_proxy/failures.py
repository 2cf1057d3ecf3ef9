"""What an upstream failure means for the fallback (scripts/in_proxy/fallback_policy.py):
which ones Bedrock could not fix, and how a failed request is told to the client, in one
line: each attempt, why it failed, and the fix (`claude-haiku: Anthropic: cannot resolve
api.anthropic.com; Bedrock: AWS profile dev-sso not found: fix AWS_PROFILE in .env`).
No LiteLLM import: unit tests run it without a proxy."""
import datetime as dt
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from scripts.core.providers import NAMES as UPSTREAMS

CLIENT_ERRORS = (400, 413, 422)
# 400s that are about the account or credential, not the request, so another upstream or
# tier can still answer: Anthropic's empty prepaid balance, a credential Anthropic limits
# ("only authorized for use with Claude Code"), LiteLLM's failed ChatGPT/Copilot login refresh.
NOT_THE_REQUEST = ("credit balance", "credential", "authenticationerror")
MAX_REASON = 160


@dataclass(frozen=True)
class Failure:
    status: Optional[int]
    fallback_depth: int  # 0: the primary attempt, 1: the first fallback, ...
    model_group: str
    detail: str
    deployment: str = ""  # LiteLLM's model string of the attempt (anthropic/..., bedrock/...)
    host: str = ""  # the host it was sent to, when known (a DNS error often does not say)


class FallbackSkipped(Exception):
    """Raised in place of a fallback attempt that could only fail the same way."""


def is_client_error(failure: Failure) -> bool:
    detail = failure.detail.lower()
    return failure.status in CLIENT_ERRORS and not any(marker in detail for marker in NOT_THE_REQUEST)


def status_of(exception: BaseException) -> Optional[int]:
    status = getattr(exception, "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


# (pattern in the upstream's error text, its reason in our words, the fix). Sources: the
# messages botocore (ProfileNotFound, SSO token errors), httpx/getaddrinfo and the
# providers' APIs put in the exceptions LiteLLM passes on.
KNOWN_CAUSES: List[Tuple[str, str, str]] = [
    (r"config profile \((?P<x>[^)]+)\) could not be found", "AWS profile {x} not found",
     "fix AWS_PROFILE in .env (or `aws configure sso --profile {x}`)"),
    (r"(?:token|sso).{0,40}(?:expired|has expired)|refresh failed|UnauthorizedSSOTokenError",
     "the AWS SSO login has expired", "run `make start` (it signs in with AWS SSO)"),
    (r"Unable to locate credentials|NoCredentialsError", "no AWS credentials",
     "set AWS_PROFILE (or AWS keys) in .env"),
    (r"(?:Name or service not known|nodename nor servname|Temporary failure in name resolution|getaddrinfo)"
     r"(?:.{0,200}?(?P<x>[a-z0-9.-]+\.(?:com|aws|net|ai|org)))?", "cannot resolve {x}",
     "check the network (or the endpoint override in .env)"),
    (r"Connection refused|All connection attempts failed|ConnectError", "connection refused",
     "check the network (or the endpoint override in .env)"),
    (r"invalid x-api-key|authentication_error|invalid api key", "the API key was refused",
     "fix ANTHROPIC_API_KEY in .env"),
    (r"credit balance is too low", "the account's credit balance is too low", "add credits to the Anthropic account"),
]


def _known(detail: str, host: str) -> Optional[Tuple[str, str]]:
    for pattern, reason, fix in KNOWN_CAUSES:
        found = re.search(pattern, detail, re.I | re.S)
        if found:
            subject = (found.groupdict().get("x") or host or "its host").strip()
            return reason.format(x=subject), fix.format(x=subject)
    return None


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """The text on one line: the upstream's own "message" when it sent a JSON error body,
    LiteLLM's `litellm.XError: ProviderException - ` prefixes off, cut at limit."""
    inner = re.search(r'"message":\s*"((?:[^"\\]|\\.)*)"', text)
    text = re.sub(r"\s+", " ", inner.group(1) if inner else text).strip()
    text = re.sub(r"^(?:litellm\.\w+: )?(?:\w+Exception - )?", "", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def upstream_name(failure: Failure) -> str:
    provider = failure.deployment.split("/", 1)[0] if "/" in failure.deployment else ""
    if failure.model_group.endswith("-subscription"):
        return "Anthropic subscription"
    return UPSTREAMS.get(provider) or (failure.model_group if provider == "" else provider)


def reason(failure: Failure) -> Tuple[str, Optional[str]]:
    """(why this attempt failed, the fix when the cause is known)."""
    known = _known(failure.detail, failure.host)
    if known:
        return known
    status = f"HTTP {failure.status}: " if failure.status else ""
    return status + one_line(failure.detail), None


def clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def chain_message(requested: str, attempts: List[Failure], cooldown: Optional[str] = None) -> str:
    """`requested: Anthropic: why; Bedrock: why: fix` (cooldown: what LiteLLM skipped first)."""
    parts, fix = ([cooldown] if cooldown else []), None
    for attempt in attempts:
        why, attempt_fix = reason(attempt)
        parts.append(f"{upstream_name(attempt)}: {why}")
        fix = attempt_fix or fix
    return f"{requested}: " + "; ".join(parts) + (f": {fix}" if fix else "")


def cooldown_text(group: str, until: Optional[float], status: Optional[str], whole: bool) -> str:
    """The gateway's words where LiteLLM says `No deployments available ... Try again in 60
    seconds`: whole, every deployment of the group; else the first step of a chain."""
    when = f" until {clock(until)}" if until else ""
    after = f" after HTTP {status}" if status and status != "None" else ""
    if whole:
        return f"all deployments of {group} cool down{when}{after} (no call made): try again then"
    return f"{group}: cooling down{when}{after} (no call made)"


def unknown_model_message(model: str) -> str:
    return f"unknown model {model!r}: `make models` lists the names this proxy serves"


def is_unknown_model(detail: str) -> bool:
    """LiteLLM's words for a model name no deployment serves (router.py, 1.106.2)."""
    return "no healthy deployments for this model" in detail or "Invalid model name passed in" in detail
