"""Each claim `make demo` prints, judged from recorded observations: the line is
printed only when the observations support it, otherwise StepFailed says what
happened instead. The observations are those of real runs (LiteLLM 1.106.2)."""
import pytest

from scripts.sim.story import (
    Answer,
    Seen,
    StepFailed,
    calls,
    error_message,
    judge_cooldown,
    judge_counters,
    judge_normal,
    judge_rate_limited,
    judge_recovered,
)

ANTHROPIC = Answer(200, "anthropic/claude-sonnet-4-5-20250929", "Anthropic", 157.0)
BEDROCK = Answer(200, "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Bedrock", 176.0)
# What the client got when Bedrock answered 500 behind Anthropic's 429 (--bedrock-fault 500).
FAILED_FALLBACK = Answer(429, "", "unknown upstream", 212.0, "litellm.RateLimitError: AnthropicException - "
                         "This request would exceed your organization's rate limit")
# The counters that moved in a good run (step 5).
DELTAS = {
    'litellm_deployment_cooled_down_total{api_provider="anthropic", exception_status="429"}': 1.0,
    'litellm_deployment_failure_responses_total{exception_status="429", model_group="claude-sonnet-4-5"}': 1.0,
    'litellm_deployment_failure_responses_total{model_group="claude-sonnet-4-5"}': 3.0,
    'litellm_deployment_success_responses_total{api_provider="bedrock", model_group="claude-sonnet-4-5-bedrock"}': 4.0,
    "litellm_deployment_successful_fallbacks_total": 3.0,
    'litellm_deployment_successful_fallbacks_total{exception_status="429"}': 1.0,
    'litellm_proxy_total_requests_metric_total{api_provider="anthropic"}': 2.0,
    "litellm_proxy_total_requests_metric_total": 0.0,
}


def test_calls_are_counted_from_the_records():
    assert calls([]) == "no call"
    assert calls([429]) == "1 call (429)"
    assert calls([200, 200, 500]) == "3 calls (200, 200, 500)"
    assert Seen([200, 429, 200], [200]).since(Seen([200], [])) == Seen([429, 200], [200])


def test_normal_answer_is_anthropic_seen_by_both_simulators():
    (line,) = judge_normal(ANTHROPIC, Seen([200], []))
    assert line == ("answered by Anthropic (anthropic/claude-sonnet-4-5-20250929) in 157 ms: HTTP 200; "
                    "Anthropic saw 1 call (200), Bedrock saw no call")


@pytest.mark.parametrize("answer, seen, reason", [
    (BEDROCK, Seen([500], [200]), "answered by bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0, not Anthropic"),
    (Answer(500, "", "unknown upstream", 9.0, "boom"), Seen([500], [500]), "the client got HTTP 500 (boom)"),
    (Answer(0, "", "nobody", 1.0, "Connection refused"), Seen([], []), "no answer (Connection refused)"),
    (ANTHROPIC, Seen([429, 200], []), "Anthropic saw 2 calls (429, 200) and Bedrock saw no call"),
])
def test_normal_step_fails_with_what_happened(answer, seen, reason):
    with pytest.raises(StepFailed, match=reason.replace("(", r"\(").replace(")", r"\)")):
        judge_normal(answer, seen)


def test_rate_limited_request_is_answered_by_bedrock_and_the_client_sees_no_429():
    first, second = judge_rate_limited(BEDROCK, Seen([429], [200]))
    assert first == ("the same request is answered by Bedrock "
                     "(bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0) in 176 ms")
    assert second == "Anthropic saw 1 call (429), Bedrock saw 1 call (200); the client got HTTP 200, not the 429"


def test_a_failed_fallback_is_named_with_both_simulators_records():
    """The issue's run: Anthropic's 429 reached the client, the old demo said "no error"."""
    with pytest.raises(StepFailed) as failed:
        judge_rate_limited(FAILED_FALLBACK, Seen([429], [500]))
    assert str(failed.value) == ("the client got HTTP 429 (litellm.RateLimitError: AnthropicException - This request "
                                 "would exceed your organization's rate limit); Anthropic saw 1 call (429), "
                                 "Bedrock saw 1 call (500)")


@pytest.mark.parametrize("seen, reason", [
    (Seen([], [200]), "Anthropic saw no call where one 429 was expected"),
    (Seen([429], [500, 200]), r"Bedrock saw 2 calls \(500, 200\) where one answer was expected"),
])
def test_rate_limited_step_needs_exactly_one_429_and_one_bedrock_answer(seen, reason):
    with pytest.raises(StepFailed, match=reason):
        judge_rate_limited(BEDROCK, seen)


def test_cooldown_counts_anthropic_calls_in_the_window():
    lines = judge_cooldown([BEDROCK] * 3, Seen([], [200, 200, 200]), seconds_into_window=0.4, window=5)
    assert lines[:3] == ["answered by Bedrock (bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0) in 176 ms"] * 3
    assert lines[3] == ("Anthropic calls during the window: 0, so no request waited on a 429; "
                        "Bedrock answered 3 of 3")


@pytest.mark.parametrize("answers, seen, into, reason", [
    ([BEDROCK] * 3, Seen([429], [200, 200, 200]), 0.4, r"Anthropic got 1 call \(429\) during its cooldown"),
    ([BEDROCK, ANTHROPIC, BEDROCK], Seen([200], [200, 200]), 0.4, "answered by anthropic/.*, not Bedrock"),
    ([BEDROCK] * 3, Seen([], [200, 200, 200]), 5.2, "ended 5.2s after the rate limit began, past its 5s window"),
    ([BEDROCK] * 3, Seen([], [200, 200]), 0.4, r"Bedrock saw 2 calls \(200, 200\) for 3 requests"),
])
def test_cooldown_step_fails_with_what_happened(answers, seen, into, reason):
    with pytest.raises(StepFailed, match=reason):
        judge_cooldown(answers, seen, seconds_into_window=into, window=5)


def test_recovery_is_anthropic_again_and_bedrock_is_counted_over_the_whole_demo():
    lines = judge_recovered(ANTHROPIC, Seen([200], []), whole_demo=Seen([200, 429, 200], [200, 200, 200, 200]))
    assert lines == ["answered by Anthropic (anthropic/claude-sonnet-4-5-20250929) in 157 ms",
                     "Bedrock answered 4 requests in all (its simulator's records)"]
    one = judge_recovered(ANTHROPIC, Seen([200], []), whole_demo=Seen([200], [200, 500]))
    assert one[1] == "Bedrock answered 1 request in all (its simulator's records)"


def test_recovery_step_fails_while_bedrock_still_answers():
    with pytest.raises(StepFailed, match="answered by bedrock/.*, not Anthropic; Anthropic saw 1 call \\(429\\)"):
        judge_recovered(BEDROCK, Seen([429], [200]), Seen([429], [200]))


def test_counters_are_printed_as_they_moved_and_must_match_the_simulators():
    lines = judge_counters(DELTAS, bedrock_answers=4)
    assert lines[0] == '+1    litellm_deployment_cooled_down_total{api_provider="anthropic", exception_status="429"}'
    assert len(lines) == 8  # the 7 series that moved, then the verdict
    assert lines[-1] == "LiteLLM counted 4 successful fallbacks and 1 cooldown, as the simulators saw"


@pytest.mark.parametrize("deltas, answers, reason", [
    (DELTAS, 5, "LiteLLM counted 4 successful fallbacks for 5 Bedrock answers"),
    ({k: v for k, v in DELTAS.items() if "cooled_down" not in k}, 4, "LiteLLM counted 0 cooldowns for one rate limit"),
])
def test_counters_that_disagree_with_the_simulators_fail_the_step(deltas, answers, reason):
    with pytest.raises(StepFailed, match=reason):
        judge_counters(deltas, bedrock_answers=answers)


@pytest.mark.parametrize("body, message", [
    (b'{"type":"error","error":{"type":"rate_limit_error","message":"slow\\n down"}}', "slow down"),
    (b'{"error":{"message":"No deployments available","code":"429"}}', "No deployments available"),
    (b'{"error":"plain"}', "plain"),
    (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
    (b"x" * 400, "x" * 160 + "..."),
])
def test_error_message_is_one_short_line(body, message):
    assert error_message(body) == message
