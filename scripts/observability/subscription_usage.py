"""The subscription's usage windows as `make status` shows them, read from the gauges
the proxy exports (scripts/in_proxy/usage_gauges.py) in its /metrics/ text.

    5h 73% (resets 17:00), 7d 41% (resets Tue 09:00), as of 14:02
    LIMITED until 17:00:00 (five_hour): 5h 100% rejected, 7d 41%: Claude Code uses the API key
"""
import time
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional

from scripts.observability.metrics import Sample

WINDOW_ORDER = ("5h", "7d")
STATUS_NAMES = {0.0: "", 1.0: "WARNING", 2.0: "rejected"}


@dataclass
class UsageReading:
    windows: Dict[str, Dict[str, float]] = field(default_factory=dict)  # window -> utilization/reset/status
    claim: Optional[str] = None
    cooldown_until: float = 0.0
    updated: float = 0.0


def read(samples: Iterable[Sample]) -> UsageReading:
    reading = UsageReading()
    fields = {"gateway_subscription_window_utilization": "utilization",
              "gateway_subscription_window_reset_timestamp_seconds": "reset",
              "gateway_subscription_window_status": "status"}
    for sample in samples:
        if sample.name in fields:
            reading.windows.setdefault(sample.labels.get("window", "?"), {})[fields[sample.name]] = sample.value
        elif sample.name == "gateway_subscription_status":
            reading.claim = sample.labels.get("claim")
        elif sample.name == "gateway_subscription_cooldown_until_timestamp_seconds":
            reading.cooldown_until = sample.value
        elif sample.name == "gateway_subscription_updated_timestamp_seconds":
            reading.updated = sample.value
    return reading


def clock(epoch: float, now: float) -> str:
    """A reset time as a person reads it: seconds when it is near, the weekday when not today."""
    local, today = time.localtime(epoch), time.localtime(now)
    if 0 <= epoch - now < 3600:
        return time.strftime("%H:%M:%S", local)
    if local.tm_yday == today.tm_yday and local.tm_year == today.tm_year:
        return time.strftime("%H:%M", local)
    return time.strftime("%a %H:%M", local)


def _window(name: str, values: Dict[str, float], now: float, with_reset: bool) -> str:
    text = f"{name} {values.get('utilization', 0.0) * 100:.0f}%"
    status = STATUS_NAMES.get(values.get("status", 0.0), "")
    text += f" {status}" if status else ""
    if with_reset and values.get("reset"):
        text += f" (resets {clock(values['reset'], now)})"
    return text


def describe(reading: UsageReading, next_tier: str, now: Optional[float] = None) -> str:
    now = time.time() if now is None else now
    if not reading.windows:
        return "no answer since the proxy started: Claude Code's first request shows the usage windows"
    names = [n for n in WINDOW_ORDER if n in reading.windows] + sorted(set(reading.windows) - set(WINDOW_ORDER))
    if reading.cooldown_until > now:
        windows = ", ".join(_window(n, reading.windows[n], now, with_reset=False) for n in names)
        return (f"LIMITED until {clock(reading.cooldown_until, now)} ({reading.claim or 'usage limit'}): {windows}: "
                f"Claude Code uses {next_tier} until then")
    windows = ", ".join(_window(n, reading.windows[n], now, with_reset=True) for n in names)
    return f"{windows}, as of {clock(reading.updated, now)}" if reading.updated else windows
