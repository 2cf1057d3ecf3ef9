"""Robust where Bedrock's contract is uncertain (issue 23 part 5), end to end: the real proxy,
Anthropic at 429, the Bedrock simulator with the switches of scripts/sim/rules.py.

- Bedrock refusing a beta flag (named in its 400, or the bare "invalid beta flag") or an
  effort value: the same request is re-sent once without it and answered; the drop is
  counted (gateway_fallback_feature_dropped_total{feature}) and logged, naming it;
- a Bedrock 400 about anything else (a thinking signature Bedrock did not make, with the
  simulator's "own" signatures) is not re-sent: the client gets Bedrock's reason;
- a conversation above botocore's InvokeModel cap is not sent to Bedrock: a 413 names /compact.
"""
import anthropic
import pytest
import requests
from harness import start_stack

from scripts.sim.messages import sign_thinking

pytestmark = pytest.mark.e2e
OPUS_47, OPUS_45 = "claude-opus-4-7", "claude-opus-4-5-20251101"
BETAS = "effort-2025-11-24,context-management-2025-06-27"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-robust"))
    yield running
    running.stop()


@pytest.fixture
def client(stack):
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=60)
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


def ask(client, model, betas=BETAS, **extra):
    return client.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": "hi"}],
                                  extra_headers={"anthropic-beta": betas} if betas else None, **extra)


def dropped(stack) -> dict:
    text = requests.get(f"{stack.base_url}/metrics/", headers={"Authorization": f"Bearer {stack.master_key}"},
                        timeout=10).text
    samples = [line for line in text.splitlines() if line.startswith("gateway_fallback_feature_dropped_total{")]
    return {line.split('feature="', 1)[1].split('"', 1)[0]: float(line.rsplit(" ", 1)[1]) for line in samples}


def bedrock_betas(stack, model):
    return [(r["status"], r.get("anthropic_beta") or []) for r in stack.fallback_calls(model)]


@pytest.mark.parametrize("names", [True, False])
def test_a_refused_beta_flag_costs_the_feature_not_the_answer(stack, client, names):
    model = OPUS_47 if names else "claude-opus-4-8"
    before = dropped(stack).get("effort-2025-11-24", 0)
    stack.sims.bedrock.rules(refused_betas={model: ["effort-2025-11-24"]}, beta_error_names_flag=names)
    message = ask(client, model, extra_body={"output_config": {"effort": "high"}})
    assert "simulated Bedrock" in message.content[0].text
    calls = bedrock_betas(stack, model)
    assert [status for status, _ in calls] == [400, 200], calls
    assert "effort-2025-11-24" in calls[0][1] and "effort-2025-11-24" not in calls[1][1]
    if not names:  # which flag is unknown: all of the client's go
        assert "context-management-2025-06-27" not in calls[1][1]
    assert dropped(stack).get("effort-2025-11-24", 0) == before + 1
    assert f"fallback {model}-bedrock: Bedrock refused" in stack.log_file.read_text()

    again = ask(client, model, extra_body={"output_config": {"effort": "high"}})
    assert "simulated Bedrock" in again.content[0].text
    assert [status for status, _ in bedrock_betas(stack, model)] == [400, 200, 200], "learned: no second refusal"


def test_a_refused_effort_value_is_dropped(stack, client):
    # LiteLLM already clamps xhigh to high for Opus 4.5 on Bedrock; the simulator refuses what arrives.
    stack.sims.bedrock.rules(refused_efforts={OPUS_45: ["xhigh", "max", "high"]})
    message = ask(client, OPUS_45, betas=None, extra_body={"output_config": {"effort": "xhigh"}})
    assert "simulated Bedrock" in message.content[0].text
    calls = [(r["status"], r.get("output_config")) for r in stack.fallback_calls(OPUS_45)]
    assert [status for status, _ in calls] == [400, 200] and calls[1][1] is None, calls
    assert dropped(stack).get("output_config.effort", 0) >= 1


@pytest.mark.parametrize("signatures", ["shared", "own"])
def test_a_thinking_signature_from_anthropic_on_bedrock(stack, client, signatures):
    """Under "shared" keys the replay is answered as is; under Bedrock's own key Bedrock refuses it
    and LiteLLM itself re-sends the request without the replayed thinking: answered either way."""
    stack.sims.bedrock.rules(signatures=signatures)
    model = "claude-sonnet-4-5-20250929"
    thought = {"type": "thinking", "thinking": "t", "signature": sign_thinking("t")}
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [thought, {"type": "text", "text": "x"}]},
             {"role": "user", "content": "again"}]
    message = client.messages.create(model=model, max_tokens=2048, messages=turns,
                                     thinking={"type": "enabled", "budget_tokens": 1024})
    assert "simulated Bedrock" in message.content[-1].text
    calls = [(r["status"], r["thinking_replayed"]) for r in stack.fallback_calls(model)]
    assert calls == ([(200, 1)] if signatures == "shared" else [(400, 1), (200, 0)]), calls


def test_a_bedrock_400_about_something_else_is_not_re_sent(stack, client):
    """Bedrock refusing a mid-conversation system turn (the unsettled rule switched to refuse)."""
    stack.sims.bedrock.rules(mid_system_without_beta=False)
    model = "claude-opus-4-8"
    with pytest.raises(anthropic.BadRequestError, match="role: Input should be") as refused:
        client.messages.create(model=model, max_tokens=64, extra_headers={"anthropic-beta": "mid-conversation-system-2026-04-07"},
                               messages=[{"role": "user", "content": "hi"}, {"role": "system", "content": "reminder"}])
    assert "after the primary" in str(refused.value)
    assert [r["status"] for r in stack.fallback_calls(model)] == [400], "nothing to drop: not re-sent"


def test_a_conversation_above_bedrocks_cap_is_not_sent(stack, client):
    model = "claude-haiku-4-5-20251001"
    big = "x" * 25_100_000
    with pytest.raises(anthropic.APIStatusError) as refused:
        client.messages.create(model=model, max_tokens=16, messages=[{"role": "user", "content": big}])
    assert refused.value.status_code == 413 and "/compact" in str(refused.value), refused.value
    assert stack.fallback_calls(model) == [], "not sent to Bedrock"
