"""scripts/catalog/release.py: the chain of a Claude id config.yaml does not list is the one a
listed model has (the same renderers), and what the proxy added reads back for status."""
import json

import pytest
from conftest import PROJECT_DIR

from scripts.catalog import discovery, release
from scripts.core import configfile
from scripts.core.settings import Settings
from scripts.gateway import effective_config

NEW = "claude-opus-9-1"
BOTH = {"ANTHROPIC_API_KEY": "sk-ant-api03-x", "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-x", "AWS_REGION": "us-west-2"}
GLM = {"PROXY_MODEL_KEYS": "glm", "MODEL_GLM_ALIAS": "glm-4.6", "MODEL_GLM_UPSTREAM_MODEL": "zai/glm-4.6",
       "MODEL_GLM_API_KEY": "zai-x", "MODEL_GLM_API_BASE": "https://api.z.ai/api/paas/v4",
       "CLAUDE_FALLBACK_AFTER_BEDROCK": "glm"}


@pytest.fixture(scope="module")
def shipped() -> dict:
    return configfile.load(PROJECT_DIR / "config.yaml").data


def listing(*model_ids: str) -> discovery.Listing:
    models = [{"modelId": f"anthropic.{m}", "inferenceTypesSupported": ["INFERENCE_PROFILE"]} for m in model_ids]
    profiles = [{"inferenceProfileId": f"{geo}.anthropic.{m}", "models": [
        {"modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/anthropic.{m}"}]}
        for m in model_ids for geo in ("us", "global")]
    return discovery.bedrock_offers(models, profiles, "us-west-2")


def test_only_claude_ids_take_the_new_model_path():
    assert release.is_claude_id("claude-opus-5-5") and release.is_claude_id("claude-sonnet-4-5-20250929")
    for other in ("claude-opus-5-5-bedrock", "claude-opus-5-5-subscription", "gpt-5", "claude-*", None, 7):
        assert not release.is_claude_id(other), other


@pytest.mark.parametrize("env", [BOTH, {**BOTH, **GLM}, {"ANTHROPIC_API_KEY": "k", "AWS_REGION": "us-west-2"}],
                         ids=["both credentials", "tiers after Bedrock", "api key only"])
def test_a_new_id_gets_what_the_same_model_in_config_yaml_gets(shipped, env):
    settings = Settings(env)
    found = release.chain(shipped, settings, release.find_entry(NEW, listing(NEW), "us-west-2"))
    # The same model written into config.yaml the way `make update-models` writes it:
    listed = dict(shipped, model_list=shipped["model_list"] + release.entry_config(
        release.find_entry(NEW, listing(NEW), "us-west-2"))["model_list"])
    listed["router_settings"] = dict(shipped["router_settings"], fallbacks=shipped["router_settings"]["fallbacks"]
                                     + [{NEW: [f"{NEW}-bedrock"]}])
    rendered = effective_config.render(listed, settings)
    names = {NEW, f"{NEW}-bedrock", f"{NEW}-subscription"}
    assert found.model_list == [e for e in rendered["model_list"] if e["model_name"] in names]
    assert found.fallbacks == {k: v for item in rendered["router_settings"]["fallbacks"] for k, v in item.items()
                               if k in names}
    assert found.bedrock_id == f"us.anthropic.{NEW}" and found.note == ""
    tiers = ["glm-4.6"] if "CLAUDE_FALLBACK_AFTER_BEDROCK" in env else []
    assert found.fallbacks[NEW] == [f"{NEW}-bedrock", *tiers]
    if "CLAUDE_CODE_OAUTH_TOKEN" in env:
        assert found.fallbacks[f"{NEW}-subscription"] == [NEW, f"{NEW}-bedrock", *tiers]
    else:
        assert f"{NEW}-subscription" not in found.names


def test_an_id_bedrock_does_not_offer_keeps_its_anthropic_tiers_and_says_why(shipped):
    found = release.chain(shipped, Settings(BOTH), release.find_entry(NEW, listing("claude-opus-9-2"), "us-west-2"))
    assert found.names == [NEW, f"{NEW}-subscription"] and found.bedrock_id is None
    assert found.fallbacks == {f"{NEW}-subscription": [NEW]}
    assert found.note == "Bedrock does not offer it in us-west-2"


def test_what_the_proxy_added_reads_back_for_status(shipped, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_STATE_DIR", str(tmp_path))
    assert release.read_state() == []
    found = release.chain(shipped, Settings(BOTH), release.find_entry(NEW, listing(NEW), "us-west-2"))
    bare = release.chain(shipped, Settings(BOTH), release.find_entry("claude-opus-9-2", None, "us-west-2"))
    bare.note = "Bedrock: AWS_REGION is not set in .env: set it"
    release.write_state({NEW: release.record(found, 0.25), "claude-opus-9-2": release.record(bare, 0.1)})
    assert (tmp_path / "release-models.json").stat().st_mode & 0o777 == 0o600
    text = (tmp_path / "release-models.json").read_text()
    assert "sk-ant" not in text and json.loads(text)["models"][NEW]["discovery_seconds"] == 0.25
    assert [release.describe(item) for item in release.read_state()] == [
        f"{NEW} (Bedrock us.anthropic.{NEW})",
        "claude-opus-9-2 WITHOUT a Bedrock fallback: Bedrock: AWS_REGION is not set in .env: set it"]
    fragment = release.as_config(release.read_state())
    assert {e["model_name"] for e in fragment["model_list"]} == {NEW, f"{NEW}-bedrock", f"{NEW}-subscription",
                                                                 "claude-opus-9-2", "claude-opus-9-2-subscription"}
    release.clear_state()
    assert release.read_state() == []
