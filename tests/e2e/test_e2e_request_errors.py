"""End to end, a request that cannot be answered: the client (and `make test`) get one line
naming each attempt, why it failed and the fix; the proxy log gets one line for it.

The stack's Anthropic is a host that does not resolve (RFC 2606 reserves .invalid) and its
AWS profile is in no AWS config file: the setup issue 24 found, where `make test` showed
300 characters of Anthropic's DNS error and hid the Bedrock part, the retry got LiteLLM's
"429 No deployments available", and each failure wrote a 54-line traceback to the log.
"""
import pytest
from harness import start_stack

pytestmark = pytest.mark.e2e
PROFILE_FIX = "Bedrock: AWS profile dev-sso not found: fix AWS_PROFILE in .env (or `aws configure sso --profile dev-sso`)"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-request-errors"), anthropic_base="http://api.anthropic.invalid",
                          env_values={"AWS_PROFILE": "dev-sso", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    yield running
    running.stop()


def make_test(stack, model):
    """`make test MODEL=...` and what it added to the proxy log."""
    log_before = stack.log_file.stat().st_size
    done = stack.script("health", "test", "--model", model)
    return done, stack.log_file.read_bytes()[log_before:].decode()


def test_the_chain_of_attempts_in_one_line_then_the_cooldown_in_the_gateways_words(stack):
    first, logged = make_test(stack, "claude-haiku")
    assert first.returncode == 1 and first.stdout == ""
    (line,) = first.stderr.strip().splitlines()
    assert line == ("error: POST /v1/messages for claude-haiku failed with 502: claude-haiku: Anthropic: cannot "
                    f"resolve api.anthropic.invalid; {PROFILE_FIX}")
    again, _ = make_test(stack, "claude-haiku")
    (line,) = again.stderr.strip().splitlines()
    assert "No deployments available" not in line and "Try again in" not in line
    assert line.startswith("error: POST /v1/messages for claude-haiku failed with 502: claude-haiku: Anthropic: "
                           "cooling down until ") and line.endswith(f"after HTTP 500 (no call made); {PROFILE_FIX}")


def test_one_failed_request_is_one_log_line(stack):
    _done, logged = make_test(stack, "claude-sonnet")
    lines = [line for line in logged.splitlines() if line.strip()]
    assert len(lines) == 1, logged
    assert "request failed (litellm_call_id=" in lines[0] and "Traceback" not in logged
    assert lines[0].endswith(PROFILE_FIX)


def test_an_unknown_model_points_at_the_models_command(stack):
    done, logged = make_test(stack, "nonexistent")
    (line,) = done.stderr.strip().splitlines()
    assert line == ("error: POST /v1/messages for nonexistent failed with 400: unknown model 'nonexistent': "
                    "`make models` lists the names this proxy serves")
    assert len([line for line in logged.splitlines() if line.strip()]) == 1
