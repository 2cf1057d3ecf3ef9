"""Prometheus gauges of the subscription's usage windows, set from the unified headers of
the latest subscription answer (scripts/in_proxy/credential_hooks.py). LiteLLM serves them with
its own metrics at /metrics/ (the default registry). `make status`, the Grafana row
"Claude subscription" and the alert SubscriptionWindowNearLimit read them.

    gateway_subscription_window_utilization{window}            0..1 of the window used
    gateway_subscription_window_reset_timestamp_seconds{window}
    gateway_subscription_window_status{window}                 0 allowed, 1 allowed_warning, 2 rejected
    gateway_subscription_status{claim}                         overall, same codes; claim: the window
    gateway_subscription_reset_timestamp_seconds{claim}        that decides it (five_hour, seven_day, ...)
    gateway_subscription_cooldown_until_timestamp_seconds      until when the gateway keeps
                                                               Claude Code off the subscription (0: it does not)
    gateway_subscription_updated_timestamp_seconds             when the last answer came
"""
import time
from typing import Optional

from prometheus_client import Gauge

from scripts.in_proxy.usage_windows import STATUSES, Usage

# mostrecent: with several worker processes (PROMETHEUS_MULTIPROC_DIR) the latest value wins.
_MODE = "mostrecent"
UTILIZATION = Gauge("gateway_subscription_window_utilization", "Share of the Claude subscription's usage window "
                    "used (0..1), from the last subscription answer", ["window"], multiprocess_mode=_MODE)
WINDOW_RESET = Gauge("gateway_subscription_window_reset_timestamp_seconds", "When the usage window resets "
                     "(epoch seconds)", ["window"], multiprocess_mode=_MODE)
WINDOW_STATUS = Gauge("gateway_subscription_window_status", "Usage window status: 0 allowed, 1 allowed_warning, "
                      "2 rejected", ["window"], multiprocess_mode=_MODE)
# Labelled by the deciding claim, so that neither exists (nor claims "allowed") before an answer.
STATUS = Gauge("gateway_subscription_status", "Overall subscription status: 0 allowed, 1 allowed_warning, "
               "2 rejected", ["claim"], multiprocess_mode=_MODE)
RESET = Gauge("gateway_subscription_reset_timestamp_seconds", "When the deciding window resets (epoch seconds)",
              ["claim"], multiprocess_mode=_MODE)
COOLDOWN_UNTIL = Gauge("gateway_subscription_cooldown_until_timestamp_seconds", "Until when Claude Code's requests "
                       "skip the subscription after a usage-limit 429 (epoch seconds; 0: not cooled down)",
                       multiprocess_mode=_MODE)
UPDATED = Gauge("gateway_subscription_updated_timestamp_seconds", "When the last subscription answer arrived "
                "(epoch seconds)", multiprocess_mode=_MODE)


def status_code(status: Optional[str]) -> float:
    return float(STATUSES.index(status)) if status in STATUSES else -1.0


def publish(usage: Usage, now: Optional[float] = None) -> None:
    for window in usage.windows:
        if window.utilization is not None:
            UTILIZATION.labels(window.name).set(window.utilization)
        if window.reset is not None:
            WINDOW_RESET.labels(window.name).set(window.reset)
        WINDOW_STATUS.labels(window.name).set(status_code(window.status))
    claim = usage.claim or "unknown"
    STATUS.clear()
    STATUS.labels(claim).set(status_code(usage.status))
    RESET.clear()
    if usage.reset is not None:
        RESET.labels(claim).set(usage.reset)
    UPDATED.set(now if now is not None else time.time())


def cooled_down_until(until: float) -> None:
    COOLDOWN_UNTIL.set(until)
