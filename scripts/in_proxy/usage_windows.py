"""A Claude subscription's usage windows, read from Anthropic's response headers.

Answers to subscription requests carry anthropic-ratelimit-unified-*: overall `status`
(allowed | allowed_warning | rejected), `reset` (epoch seconds) and
`representative-claim` (five_hour, seven_day, seven_day_opus, seven_day_sonnet), and
per window (5h, 7d, ...) `<window>-utilization` (0..1), `<window>-reset` and
`<window>-status`. A usage-limit 429 says when the window resets, hours ahead, with or
without a retry-after that long: the subscription is cooled down until that reset
(at most MAX_COOLDOWN), not for the retry-after alone.
"""
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

PREFIX = "anthropic-ratelimit-unified-"
# LiteLLM keeps a provider's response headers under this prefix in its hidden params.
PROVIDER_PREFIX = "llm_provider-"
MAX_COOLDOWN = 7 * 86400
STATUSES = ("allowed", "allowed_warning", "rejected")
_WINDOW_FIELD = re.compile(r"^(?P<window>[a-z0-9_]+)-(?P<field>utilization|reset|status)$")
# Which subscription models a used-up claim covers; any other claim covers them all.
CLAIM_MODELS = {"seven_day_opus": "opus", "seven_day_sonnet": "sonnet"}


@dataclass(frozen=True)
class Window:
    name: str
    utilization: Optional[float]
    status: Optional[str]
    reset: Optional[float]


@dataclass(frozen=True)
class Usage:
    status: Optional[str]
    reset: Optional[float]
    claim: Optional[str]
    windows: Tuple[Window, ...]

    @property
    def rejected(self) -> bool:
        return self.status == "rejected" or any(w.status == "rejected" for w in self.windows)


def _number(text: Optional[str]) -> Optional[float]:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def unified_fields(headers: Mapping[str, str]) -> dict:
    """The unified-* fields of a header mapping, keys without the prefix (any case)."""
    fields = {}
    for key, value in headers.items():
        name = str(key).lower()
        name = name[len(PROVIDER_PREFIX):] if name.startswith(PROVIDER_PREFIX) else name
        if name.startswith(PREFIX):
            fields[name[len(PREFIX):]] = str(value).strip()
    return fields


def parse(headers: Optional[Mapping[str, str]]) -> Optional[Usage]:
    """The usage a response announced, or None when it carried no unified headers."""
    fields = unified_fields(headers or {})
    if not fields:
        return None
    parts: dict = {}
    for key, value in fields.items():
        match = _WINDOW_FIELD.match(key)
        if match and not key.startswith("overage-"):
            parts.setdefault(match["window"], {})[match["field"]] = value
    windows = tuple(Window(name, _number(p.get("utilization")), p.get("status"), _number(p.get("reset")))
                    for name, p in sorted(parts.items()) if "utilization" in p)
    return Usage(fields.get("status"), _number(fields.get("reset")), fields.get("representative-claim"), windows)


def cooldown_seconds(usage: Usage, now: float, retry_after: Optional[float] = None) -> Optional[float]:
    """How long a usage-limit 429 keeps the subscription off: until the announced reset
    (the later of it and a retry-after), at most MAX_COOLDOWN. None: no reset announced."""
    resets = [usage.reset] if usage.reset else []
    resets += [w.reset for w in usage.windows if w.status == "rejected" and w.reset]
    if not resets:
        return None
    seconds = max(max(resets) - now, retry_after or 0.0)
    return min(max(seconds, 1.0), float(MAX_COOLDOWN))


def claim_covers(claim: Optional[str], model: str) -> bool:
    """Whether a used-up claim stops this model on the subscription (Opus-only windows
    leave Sonnet and Haiku running)."""
    family = CLAIM_MODELS.get(claim or "")
    return family is None or family in model
