"""Which upstream failures the Bedrock fallback is for (scripts/in_proxy/failures.py).
The behaviour through a real proxy is in tests/test_e2e_refusals.py."""
import pytest

from scripts.in_proxy.failures import Failure, is_client_error, primary_outcome, status_of

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


class Cooling(Exception):
    cooldown_time = 12.0


def test_what_the_client_is_told_about_the_primary():
    assert status_of(Refused()) == 503 and status_of(ValueError()) is None
    assert primary_outcome(Refused()) == "answered HTTP 503"
    assert primary_outcome(Cooling()) == "was cooling down after a rate limit"
    assert primary_outcome(ValueError()) == "failed"
