"""Model discovery's pure parts, no upstream needed: which Bedrock id a model gets, and
how ids from both sides are paired by family, version and date."""
from scripts.catalog import discovery, references
from scripts.catalog.matching import (
    Offer,
    build_entries,
    fallback_test_target,
    parse_anthropic_id,
    parse_bedrock_id,
)


def test_on_demand_model_without_profile_uses_the_bare_id():
    model = {"modelId": "anthropic.claude-3-haiku-20240307-v1:0", "inferenceTypesSupported": ["ON_DEMAND"]}
    assert discovery.choose_deployment(model, [], "eu-west-1") == model["modelId"]
    assert discovery.choose_deployment(model, ["global.x", "eu.x"], "eu-west-1") == "eu.x"
    assert discovery.choose_deployment({**model, "inferenceTypesSupported": ["INFERENCE_PROFILE"]}, [],
                                       "eu-west-1") is None


def test_matching_by_family_version_and_date():
    assert parse_anthropic_id("claude-3-5-sonnet-20241022") == parse_bedrock_id(
        "anthropic.claude-3-5-sonnet-20241022-v2:0")[1]
    assert parse_bedrock_id("eu.anthropic.claude-opus-4-6-v1")[:2] == ("claude-opus-4-6", parse_anthropic_id(
        "claude-opus-4-6"))
    assert parse_bedrock_id("anthropic.claude-3-sonnet-20240229-v1:0:28k") is None  # provisioned-only variant

    def offer(name, upstream):
        return Offer(name, parse_anthropic_id(name), upstream)
    anthropic = [offer("claude-haiku-5", "claude-haiku-5"), offer("claude-sonnet-4-5-20250929", "x"),
                 offer("claude-sonnet-4-6", "y")]
    bedrock = [offer("claude-haiku-5-20260301", "us.anthropic.claude-haiku-5-20260301-v1:0"),
               offer("claude-sonnet-4-5-20250929", "us.s45")]
    entries = {e.name: e for e in build_entries(anthropic, bedrock, reserved={"claude-haiku"})}
    assert entries["claude-haiku-5"].bedrock.upstream_id.endswith("haiku-5-20260301-v1:0")  # dated on one side
    assert entries["claude-sonnet-4-5"].alias_of == "claude-sonnet-4-5-20250929"
    assert entries["claude-sonnet"].alias_of == "claude-sonnet-4-6" and not entries["claude-sonnet"].has_fallback
    assert "claude-haiku" not in entries  # the user defines it outside the managed part


def test_fallback_test_follows_the_cheapest_family_and_a_dropped_name_gets_a_stand_in():
    def offer(name):
        return Offer(name, parse_anthropic_id(name), name)
    sonnet_only = build_entries([offer("claude-sonnet-4-6")], [offer("claude-sonnet-4-6")])
    assert fallback_test_target(sonnet_only).name == "claude-sonnet"
    both = build_entries([offer("claude-opus-4-8"), offer("claude-haiku-4-5-20251001")],
                         [offer("claude-opus-4-8"), offer("claude-haiku-4-5-20251001")])
    assert fallback_test_target(both).name == "claude-haiku"
    assert fallback_test_target(build_entries([offer("claude-opus-4-8")], [])) is None  # nothing to fall back to
    after = {"claude-sonnet", "claude-sonnet-bedrock", "claude-opus", "claude-opus-bedrock"}
    assert references.replacement("claude-haiku-bedrock", after) == "claude-sonnet-bedrock"
    assert references.replacement("claude-opus-4-1-20250805", after) == "claude-opus"
    assert references.replacement("claude-haiku-4-5", {"my-model"}) is None
