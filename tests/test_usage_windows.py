"""Reading a subscription's usage windows from Anthropic's unified headers, the cooldown
a usage-limit 429 means, and how `make status` shows them."""
import time

import pytest

from scripts.in_proxy import claude_code, usage_windows
from scripts.observability import subscription_usage
from scripts.observability.metrics import parse as parse_metrics

NOW = 1_800_000_000.0
LIMITED = {  # a usage-limit 429 as the simulator (and, per public reports, Anthropic) sends it
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-reset": str(int(NOW + 3 * 3600)),
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-5h-utilization": "1.0",
    "anthropic-ratelimit-unified-5h-reset": str(int(NOW + 3 * 3600)),
    "anthropic-ratelimit-unified-5h-status": "rejected",
    "anthropic-ratelimit-unified-7d-utilization": "0.41",
    "anthropic-ratelimit-unified-7d-reset": str(int(NOW + 4 * 86400)),
    "anthropic-ratelimit-unified-7d-status": "allowed",
    "anthropic-ratelimit-unified-overage-status": "rejected",
    "Retry-After": "60",
}


def test_parse_reads_every_window_and_the_overall_fields():
    usage = usage_windows.parse(LIMITED)
    assert (usage.status, usage.reset, usage.claim) == ("rejected", NOW + 3 * 3600, "five_hour")
    assert [(w.name, w.utilization, w.status) for w in usage.windows] == [("5h", 1.0, "rejected"),
                                                                          ("7d", 0.41, "allowed")]
    assert usage.rejected


def test_parse_accepts_litellms_prefixed_copies_and_ignores_other_headers():
    prefixed = {f"llm_provider-{k}": v for k, v in LIMITED.items()}
    assert usage_windows.parse(prefixed) == usage_windows.parse(LIMITED)
    assert usage_windows.parse({"anthropic-ratelimit-requests-remaining": "49"}) is None
    assert usage_windows.parse(None) is None


@pytest.mark.parametrize("retry_after, expected", [(None, 3 * 3600), (60, 3 * 3600), (5 * 3600, 5 * 3600)])
def test_a_usage_limit_cools_down_until_the_reset_whatever_the_retry_after(retry_after, expected):
    usage = usage_windows.parse(LIMITED)
    assert usage_windows.cooldown_seconds(usage, NOW, retry_after) == expected


def test_the_cooldown_is_capped_at_seven_days_and_needs_a_reset():
    far = {**LIMITED, "anthropic-ratelimit-unified-reset": str(int(NOW + 30 * 86400)),
           "anthropic-ratelimit-unified-5h-reset": str(int(NOW + 30 * 86400))}
    assert usage_windows.cooldown_seconds(usage_windows.parse(far), NOW) == 7 * 86400
    no_reset = {"anthropic-ratelimit-unified-status": "rejected"}
    assert usage_windows.cooldown_seconds(usage_windows.parse(no_reset), NOW) is None
    past = {**LIMITED, "anthropic-ratelimit-unified-reset": str(int(NOW - 10)),
            "anthropic-ratelimit-unified-5h-reset": str(int(NOW - 10))}
    assert usage_windows.cooldown_seconds(usage_windows.parse(past), NOW) == 1.0


def test_an_opus_only_window_leaves_the_other_models_running():
    assert usage_windows.claim_covers("seven_day_opus", "anthropic/claude-opus-4-8")
    assert not usage_windows.claim_covers("seven_day_opus", "anthropic/claude-sonnet-4-5-20250929")
    assert usage_windows.claim_covers("five_hour", "anthropic/claude-haiku-4-5-20251001")
    assert usage_windows.claim_covers(None, "anthropic/claude-haiku-4-5-20251001")


# ------------------------------------------------------------------ `make status`
def metrics(*lines: str) -> list:
    return parse_metrics("\n".join(lines))


def test_status_shows_each_window_with_its_reset():
    now = time.time()
    reading = subscription_usage.read(metrics(
        'gateway_subscription_window_utilization{window="7d"} 0.41',
        'gateway_subscription_window_utilization{window="5h"} 0.734',
        f'gateway_subscription_window_reset_timestamp_seconds{{window="5h"}} {now + 1800}',
        'gateway_subscription_window_status{window="5h"} 0.0',
        'gateway_subscription_window_status{window="7d"} 1.0',
        'gateway_subscription_status{claim="five_hour"} 0.0',
        f'gateway_subscription_updated_timestamp_seconds {now - 60}',
        'gateway_subscription_cooldown_until_timestamp_seconds 0.0'))
    text = subscription_usage.describe(reading, "the API key", now)
    reset = time.strftime("%H:%M:%S", time.localtime(now + 1800))
    assert text.startswith(f"5h 73% (resets {reset}), 7d 41% WARNING, as of ")


def test_status_during_a_usage_limit_says_until_when_and_where_claude_code_goes():
    now = time.time()
    reading = subscription_usage.read(metrics(
        'gateway_subscription_window_utilization{window="5h"} 1.0',
        'gateway_subscription_window_status{window="5h"} 2.0',
        'gateway_subscription_status{claim="five_hour"} 2.0',
        f'gateway_subscription_cooldown_until_timestamp_seconds {now + 120}'))
    until = time.strftime("%H:%M:%S", time.localtime(now + 120))
    assert subscription_usage.describe(reading, "Bedrock", now) == \
        f"LIMITED until {until} (five_hour): 5h 100% rejected: Claude Code uses Bedrock until then"


def test_status_before_the_first_subscription_answer():
    assert subscription_usage.describe(subscription_usage.read([]), "the API key").startswith("no answer since")


# ------------------------------------------------------------------ the Claude Code rule
CLI_HEADERS = {"User-Agent": "claude-cli/2.1.197 (external, sdk-cli)", "x-app": "cli",
               "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"}
CLI_BODY = {"system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=cli;"},
                       {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
                       {"type": "text", "text": "...the rest of the prompt..."}]}


def test_claude_code_needs_every_part_of_its_signature():
    assert claude_code.is_claude_code(CLI_HEADERS, CLI_BODY)
    assert claude_code.is_claude_code(CLI_HEADERS, {"system": CLI_BODY["system"][1:]})  # attribution turned off
    for header in CLI_HEADERS:
        assert not claude_code.is_claude_code({k: v for k, v in CLI_HEADERS.items() if k != header}, CLI_BODY)
    assert not claude_code.is_claude_code({**CLI_HEADERS, "User-Agent": "Anthropic/Python 0.75.0"}, CLI_BODY)
    assert not claude_code.is_claude_code({**CLI_HEADERS, "anthropic-beta": "interleaved-thinking-2025-05-14"},
                                          CLI_BODY)
    assert not claude_code.is_claude_code(CLI_HEADERS, {"system": "You are a helpful assistant."})
    assert not claude_code.is_claude_code(CLI_HEADERS, {"system": CLI_BODY["system"][2:] + CLI_BODY["system"][:2]})
    assert not claude_code.is_claude_code(CLI_HEADERS, {})
