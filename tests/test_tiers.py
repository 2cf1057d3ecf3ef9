"""Credential tiers: what config.yaml gains from .env (credential_tiers.py) and the per-request
decision (credential_routing.py), pure functions on the project's own config.yaml."""
import copy

import pytest
import yaml
from conftest import PROJECT_DIR

from scripts.core.settings import Settings
from scripts.gateway import credential_tiers
from scripts.in_proxy import credential_routing

CONFIG = yaml.safe_load((PROJECT_DIR / "config.yaml").read_text())
KEY, TOKEN = {"ANTHROPIC_API_KEY": "sk-ant-api03-k"}, {"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-t"}
BOTH = {**KEY, **TOKEN}


def chains(config: dict) -> dict:
    return {k: v for item in config["router_settings"]["fallbacks"] for k, v in item.items()}


def test_only_an_api_key_adds_nothing():
    assert credential_tiers.tier_additions(CONFIG, Settings(KEY)) == {"model_list": [], "fallbacks": [], "callbacks": []}
    assert credential_tiers.with_tiers(CONFIG, Settings(KEY)) == CONFIG


def test_every_api_key_model_gets_a_subscription_twin_with_the_token_reference():
    additions = credential_tiers.tier_additions(CONFIG, Settings(BOTH))
    originals = credential_tiers.api_key_deployments(CONFIG)
    assert len(additions["model_list"]) == len(originals) == 17  # 16 Claude names + fallback-test
    for original, twin in zip(originals, additions["model_list"]):
        assert twin["model_name"] == original["model_name"] + "-subscription"
        assert twin["litellm_params"] == {**original["litellm_params"],
                                          "api_key": "os.environ/GATEWAY_ANTHROPIC_SUBSCRIPTION"}
        assert twin["model_info"]["gateway_tier"] == "subscription"
        assert twin["model_info"]["gateway_base"] == original["model_name"]
    assert "sk-ant" not in yaml.safe_dump(additions)  # credentials stay os.environ/ references
    assert additions["callbacks"] == ["scripts.in_proxy.credential_hooks.handler"]
    # The wildcard has no fallback chain to join: it keeps the API key.
    assert not [t for t in additions["model_list"] if "*" in t["model_name"]]


def test_claude_code_chain_is_subscription_then_api_key_then_bedrock():
    merged = credential_tiers.with_tiers(CONFIG, Settings(BOTH))
    assert chains(merged)["claude-sonnet-4-5-subscription"] == ["claude-sonnet-4-5", "claude-sonnet-4-5-bedrock"]
    assert chains(merged)["fallback-test-subscription"] == ["fallback-test", "claude-haiku-bedrock"]
    assert chains(merged)["claude-sonnet-4-5"] == ["claude-sonnet-4-5-bedrock"]  # other clients: unchanged


def test_with_only_a_token_the_chain_skips_the_api_key():
    merged = credential_tiers.with_tiers(CONFIG, Settings(TOKEN))
    assert chains(merged)["claude-opus-4-8-subscription"] == ["claude-opus-4-8-bedrock"]


def test_config_yaml_entries_and_settings_are_kept_as_they_are():
    before = copy.deepcopy(CONFIG)
    merged = credential_tiers.with_tiers(CONFIG, Settings(BOTH))
    assert CONFIG == before, "the input is not modified"
    assert merged["model_list"][:len(CONFIG["model_list"])] == CONFIG["model_list"]
    assert merged["router_settings"]["fallbacks"][:len(CONFIG["router_settings"]["fallbacks"])] == \
        CONFIG["router_settings"]["fallbacks"]
    assert {k: v for k, v in merged["router_settings"].items() if k != "fallbacks"} == \
        {k: v for k, v in CONFIG["router_settings"].items() if k != "fallbacks"}
    assert merged["litellm_settings"]["callbacks"] == [*CONFIG["litellm_settings"]["callbacks"], credential_tiers.HOOK]
    assert credential_tiers.with_tiers(merged, Settings(BOTH))["litellm_settings"]["callbacks"].count(credential_tiers.HOOK) == 1


@pytest.mark.parametrize("values, expected", [
    (KEY, "every client: API key -> Bedrock"),
    (BOTH, "Claude Code: subscription -> API key -> Bedrock; other clients: API key -> Bedrock"),
    (TOKEN, "Claude Code: subscription -> Bedrock; other clients: straight to Bedrock"),
])
def test_the_paths_in_one_line(values, expected):
    assert credential_tiers.describe_paths(Settings(values)).startswith(expected)


# ------------------------------------------------------------------ per-request decision
def routes(values) -> credential_routing.Routes:
    merged = credential_tiers.with_tiers(CONFIG, Settings(values))
    return credential_routing.routes_of(merged["model_list"], merged["router_settings"]["fallbacks"],
                                  api_key_tier="ANTHROPIC_API_KEY" in values)


def test_claude_code_goes_to_the_subscription_everyone_else_as_before():
    both = routes(BOTH)
    assert credential_routing.route(both, "claude-sonnet-4-5", claude_code=True) == ("claude-sonnet-4-5-subscription", None)
    assert credential_routing.route(both, "claude-sonnet-4-5", claude_code=False) == ("claude-sonnet-4-5", None)
    assert credential_routing.route(both, "claude-sonnet-4-5-bedrock", claude_code=True).model == "claude-sonnet-4-5-bedrock"
    assert credential_routing.route(both, "claude-unlisted-9", claude_code=True).model == "claude-unlisted-9"
    assert credential_routing.route(both, "gpt-5", claude_code=False) == ("gpt-5", None)


def test_nobody_but_claude_code_reaches_a_twin_by_its_name():
    both = routes(BOTH)
    model, refusal = credential_routing.route(both, "claude-haiku-subscription", claude_code=False)
    assert refusal.startswith("claude-haiku-subscription is the Claude subscription, which carries Claude Code's "
                              "requests only: ask for claude-haiku")
    assert credential_routing.route(both, "claude-haiku-subscription", claude_code=True) == \
        ("claude-haiku-subscription", None)


@pytest.mark.parametrize("values", [BOTH, TOKEN], ids=["both", "token only"])
def test_a_token_count_is_refused_only_for_a_twin_asked_by_another_client(values):
    """count_tokens keeps every name where LiteLLM sends it; only a twin is guarded."""
    routing = routes(values)
    assert credential_routing.count_tokens_refusal(routing, {"model": "claude-haiku-subscription"}, False).startswith(
        "claude-haiku-subscription is the Claude subscription")
    assert credential_routing.count_tokens_refusal(routing, {"model": "claude-haiku-subscription"}, True) is None
    for model in ("claude-haiku", "claude-unlisted-9", None, 7):
        assert credential_routing.count_tokens_refusal(routing, {"model": model}, False) is None


def test_with_only_a_token_other_clients_go_straight_to_bedrock():
    token = routes(TOKEN)
    assert credential_routing.route(token, "claude-opus-4-8", claude_code=False) == ("claude-opus-4-8-bedrock", None)
    assert credential_routing.route(token, "fallback-test", claude_code=False) == ("claude-haiku-bedrock", None)
    assert credential_routing.route(token, "claude-opus-4-8", claude_code=True) == ("claude-opus-4-8-subscription", None)
    _, refusal = credential_routing.route(token, "claude-unlisted-9", claude_code=False)
    assert "no Bedrock fallback" in refusal and "set ANTHROPIC_API_KEY" in refusal
    _, refusal = credential_routing.route(token, "claude-unlisted-9", claude_code=True)
    assert "no subscription tier" in refusal


def test_subscription_deployments_are_listed_by_id():
    model_list = [{"model_name": "a-subscription", "litellm_params": {"model": "anthropic/claude-opus-4-8"},
                   "model_info": {"id": "1", "gateway_tier": "subscription", "gateway_base": "a"}},
                  {"model_name": "a", "litellm_params": {"model": "anthropic/claude-opus-4-8"}, "model_info": {"id": "2"}}]
    assert credential_routing.subscription_deployments(model_list) == [("1", "anthropic/claude-opus-4-8")]
