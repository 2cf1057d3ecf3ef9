"""The simulators' acceptance rules that come with a switch (scripts/sim/rules.py), driven by
boto3 and the anthropic SDK: each switch both ways, and the size limits at their sources' bytes."""
import json

import anthropic
import pytest
from botocore.config import Config
from conftest_sim import INVOKE_BODY, MODEL, US_MODEL, actl, bctl, boto, claude, fresh, sims  # noqa: F401

from scripts.sim.messages import BEDROCK_SIGNING_KEY, sign_thinking
from scripts.sim.rules import ANTHROPIC_MAX_BODY, BEDROCK_MAX_BODY

OPUS_47 = "us.anthropic.claude-opus-4-7"
ADAPTIVE = {"anthropic_beta": ["context-management-2025-06-27", "effort-2025-11-24"]}


def invoke(sims, model_id=US_MODEL, **body):
    # botocore validates the body's size client-side; LiteLLM sends with httpx, which does not.
    client = boto(sims) if len(json.dumps(body)) < BEDROCK_MAX_BODY else _unvalidated(sims)
    return json.loads(client.invoke_model(modelId=model_id, body=json.dumps({**INVOKE_BODY, **body}))["body"].read())


def _unvalidated(sims):
    import boto3
    from conftest_sim import ACCESS_KEY, SECRET_KEY
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sims.bedrock_url,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(retries={"total_max_attempts": 1}, parameter_validation=False))


def refused(sims, model_id=US_MODEL, **body) -> str:
    client = boto(sims)
    with pytest.raises(client.exceptions.ValidationException) as info:
        invoke(sims, model_id, **body)
    return info.value.response["Error"]["Message"]


@pytest.mark.parametrize("names, message", [(False, "invalid beta flag"),
                                            (True, "invalid beta flag: effort-2025-11-24")])
def test_a_model_refuses_the_betas_the_switch_names(sims, bctl, names, message):
    assert invoke(sims, OPUS_47, **ADAPTIVE)["stop_reason"] == "end_turn", "by default Opus 4.7 takes them"
    bctl.rules(refused_betas={"claude-opus-4-7": ["effort-2025-11-24"]}, beta_error_names_flag=names)
    assert refused(sims, OPUS_47, **ADAPTIVE) == message
    assert invoke(sims, OPUS_47, anthropic_beta=["context-management-2025-06-27"])["stop_reason"] == "end_turn"


def test_effort_values_follow_anthropics_list_and_the_per_model_switch(sims, bctl):
    assert invoke(sims, OPUS_47, output_config={"effort": "xhigh"})["stop_reason"] == "end_turn"
    assert "'bogus' is not supported" in refused(sims, OPUS_47, output_config={"effort": "bogus"})
    bctl.rules(refused_efforts={"claude-opus-4-7": ["xhigh"]})
    assert "'xhigh' is not supported" in refused(sims, OPUS_47, output_config={"effort": "xhigh"})


def test_anthropic_refuses_an_effort_it_does_not_know(claude):
    with pytest.raises(anthropic.BadRequestError, match="output_config.effort"):
        claude.messages.create(model="claude-opus-4-7", max_tokens=20, messages=[{"role": "user", "content": "hi"}],
                               extra_body={"output_config": {"effort": "bogus"}})


def test_thinking_signatures_shared_or_bedrock_s_own(sims, bctl):
    thought = {"type": "thinking", "thinking": "t", "signature": sign_thinking("t")}  # made by "Anthropic"
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [thought, {"type": "text", "text": "x"}]},
             {"role": "user", "content": "again"}]
    assert invoke(sims, messages=turns)["stop_reason"] == "end_turn"
    bctl.rules(signatures="own")
    assert "Invalid `signature`" in refused(sims, messages=turns)
    own = {**thought, "signature": sign_thinking("t", BEDROCK_SIGNING_KEY)}
    assert invoke(sims, messages=[turns[0], {"role": "assistant", "content": [own]}, turns[2]])["stop_reason"]


def test_mid_conversation_system_turns_without_the_beta_switch(sims, bctl):
    turns = [{"role": "user", "content": "hi"}, {"role": "system", "content": "reminder"}]
    assert invoke(sims, "us.anthropic.claude-opus-4-8", messages=turns)["stop_reason"] == "end_turn"
    bctl.rules(mid_system_without_beta=False)
    assert "role: Input should be" in refused(sims, "us.anthropic.claude-opus-4-8", messages=turns)


def test_bedrock_caps_invoke_bodies_at_botocores_limit(sims, bctl):
    bctl.rules(bedrock_max_body=20_000)  # the same rule at a size a test can send quickly
    big = [{"role": "user", "content": "x" * 25_000}]
    client = _unvalidated(sims)
    with pytest.raises(client.exceptions.ValidationException, match="more than the 20000 bytes"):
        client.invoke_model(modelId=US_MODEL, body=json.dumps({**INVOKE_BODY, "messages": big}))
    assert BEDROCK_MAX_BODY == 25_000_000


def test_anthropic_answers_413_above_its_limit(claude, actl):
    actl.rules(anthropic_max_body=20_000)
    with pytest.raises(anthropic.APIStatusError) as info:
        claude.messages.create(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "x" * 25_000}])
    assert info.value.status_code == 413 and "request_too_large" in str(info.value)
    assert ANTHROPIC_MAX_BODY == 32_000_000


def test_unknown_rules_are_refused_and_reset_restores_the_defaults(bctl):
    with pytest.raises(RuntimeError, match="unknown rule"):
        bctl.rules(no_such_rule=True)
    bctl.rules(signatures="own")
    bctl.reset()
    assert bctl.rules()["signatures"] == "shared"
