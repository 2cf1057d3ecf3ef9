"""Which upstream failures the Bedrock fallback is for (scripts/in_proxy/failures.py).
The behaviour through a real proxy is in tests/e2e/test_e2e_refusals.py."""
import pytest

from scripts.in_proxy.failures import (Failure, chain_message, cooldown_text, is_client_error, is_unknown_model,
                                       status_of, unknown_model_message)

CREDIT = ("litellm.BadRequestError: AnthropicException - {\"type\":\"error\",\"error\":{\"type\":"
          "\"invalid_request_error\",\"message\":\"Your credit balance is too low to access the Anthropic API. "
          "Please go to Plans & Billing to upgrade or purchase credits.\"}}")


@pytest.mark.parametrize("status,detail,client_error", [
    (400, "max_tokens: Input should be a valid integer greater than or equal to 1", True),
    (413, "request_too_large", True),
    (422, "unprocessable", True),
    (400, CREDIT, False),  # billing, not the request: Bedrock can still answer it
    (400, "litellm.BadRequestError: ChatgptException - AuthenticationError: refresh failed", False),
    (400, "This credential is only authorized for use with Claude Code and cannot be used for other API "
          "requests.", False),  # the subscription tier: the API-key tier can still answer
    (429, "rate_limit_error", False),
    (401, "invalid x-api-key", False),
    (404, "model not found", False),
    (529, "overloaded_error", False),
    (None, "connection refused", False),
])
def test_only_a_request_the_primary_refused_itself_skips_the_fallback(status, detail, client_error):
    assert is_client_error(Failure(status, 0, "claude-haiku", detail)) is client_error


class Refused(Exception):
    status_code = 503


def test_status_of_reads_only_an_integer_status():
    assert status_of(Refused()) == 503 and status_of(ValueError()) is None


DNS = ("litellm.APIConnectionError: AnthropicException - [Errno -2] Name or service not known "
       "(https://api.anthropic.com/v1/messages)")
PROFILE = "litellm.APIConnectionError: BedrockException - The config profile (dev-sso) could not be found"


def test_the_chain_names_each_attempt_its_cause_and_the_fix():
    attempts = [Failure(None, 0, "claude-haiku", DNS, "anthropic/claude-haiku-4-5"),
                Failure(None, 1, "claude-haiku-bedrock", PROFILE, "bedrock/us.anthropic.claude-haiku-4-5")]
    assert chain_message("claude-haiku", attempts) == (
        "claude-haiku: Anthropic: cannot resolve api.anthropic.com; Bedrock: AWS profile dev-sso not found: "
        "fix AWS_PROFILE in .env (or `aws configure sso --profile dev-sso`)")


def test_an_unknown_cause_keeps_the_upstreams_words_on_one_line():
    busy = Failure(503, 1, "claude-opus-bedrock", "litellm.ServiceUnavailableError: BedrockException - "
                   "{\"message\":\n \"Bedrock is unable to process your request.\"}", "bedrock/x")
    cooling = cooldown_text("Anthropic", 0.0, "429", whole=False)
    assert chain_message("claude-opus", [busy], cooling) == (
        "claude-opus: Anthropic: cooling down after HTTP 429 (no call made); "
        "Bedrock: HTTP 503: Bedrock is unable to process your request.")


def test_the_gateways_words_for_a_cooldown_and_an_unknown_model():
    assert cooldown_text("claude-3-haiku", None, "429", whole=True) == (
        "all deployments of claude-3-haiku cool down after HTTP 429 (no call made): try again then")
    assert "until " in cooldown_text("x", 1.7e9, None, whole=True)
    assert unknown_model_message("nonexistent") == (
        "unknown model 'nonexistent': `make models` lists the names this proxy serves")
    assert is_unknown_model("litellm.BadRequestError: You passed in model=x. There are no healthy deployments for "
                            "this model")
