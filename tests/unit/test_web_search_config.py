"""Web search on the fallback in the effective config (scripts/gateway/web_search.py)."""
import pytest
from conftest import PROJECT_DIR

from scripts.core import configfile
from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings
from scripts.gateway import effective_config, web_search
from scripts.gateway.effective_config import render

TAVILY = {"GATEWAY_WEB_SEARCH_PROVIDER": "tavily", "TAVILY_API_KEY": "tvly-secret-0123456789"}
GLM_TIER = {"PROXY_MODEL_KEYS": "glm", "MODEL_GLM_ALIAS": "glm-4.6", "MODEL_GLM_UPSTREAM_MODEL": "zai/glm-4.6",
            "MODEL_GLM_API_KEY": "k", "CLAUDE_FALLBACK_AFTER_BEDROCK": "glm"}


@pytest.fixture(scope="module")
def shipped() -> dict:
    return configfile.load(PROJECT_DIR / "config.yaml").data


def test_a_provider_turns_on_litellms_interception_for_bedrock_and_the_tiers(shipped):
    config = render(shipped, Settings({**TAVILY, **GLM_TIER, "GATEWAY_WEB_SEARCH_API_BASE": "http://127.0.0.1:9"}))
    assert "websearch_interception" in config["litellm_settings"]["callbacks"]
    assert web_search.GUARD_CALLBACK not in config["litellm_settings"]["callbacks"]
    assert config["litellm_settings"]["websearch_interception_params"] == {
        "enabled_providers": ["bedrock", "zai"], "search_tool_name": "gateway-web-search"}
    assert config["general_settings"]["search_tools"] == [{
        "search_tool_name": "gateway-web-search", "litellm_params": {
            "search_provider": "tavily", "api_key": "os.environ/TAVILY_API_KEY",
            "api_base": "os.environ/GATEWAY_WEB_SEARCH_API_BASE"}}]
    assert "tvly-secret" not in effective_config.to_yaml(config)


@pytest.mark.parametrize("values, fix", [
    ({"GATEWAY_WEB_SEARCH_PROVIDER": "bing"}, "use one of"),
    ({"GATEWAY_WEB_SEARCH_PROVIDER": "tavily"}, "needs TAVILY_API_KEY"),
    ({"GATEWAY_WEB_SEARCH_PROVIDER": "searxng"}, "needs GATEWAY_WEB_SEARCH_API_BASE"),
])
def test_a_bad_provider_setting_is_one_line_naming_the_fix(shipped, values, fix):
    with pytest.raises(ToolkitError, match=fix):
        render(shipped, Settings(values))


@pytest.mark.parametrize("values, start", [({}, "no: a web search during a fallback is refused"),
                                           (TAVILY, "yes: through tavily"),
                                           ({"GATEWAY_WEB_SEARCH_PROVIDER": "tavily"}, "no: GATEWAY_WEB_SEARCH")])
def test_the_status_line_says_whether_web_search_survives_a_fallback(values, start):
    assert web_search.status_line(Settings(values)).startswith(start)
