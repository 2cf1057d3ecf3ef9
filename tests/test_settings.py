import pytest
from conftest import API_KEY, MASTER_KEY, OAUTH_TOKEN

from scripts.core import settings
from scripts.core.errors import ToolkitError


def test_missing_env_file_names_the_fix():
    with pytest.raises(ToolkitError, match=r"cp \.env\.template \.env"):
        settings.load()


@pytest.mark.parametrize("values, fix", [
    ({"ANTHROPIC_API_KEY": API_KEY}, "make generate-key"),
    ({"LITELLM_MASTER_KEY": "nokeyprefix", "ANTHROPIC_API_KEY": API_KEY}, "must start with 'sk-'"),
    ({"LITELLM_MASTER_KEY": MASTER_KEY}, "set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN"),
    ({"LITELLM_MASTER_KEY": MASTER_KEY, "ANTHROPIC_API_KEY": API_KEY, "LITELLM_PORT": "http"}, "not a port"),
])
def test_invalid_settings_name_the_fix(env_file, values, fix):
    env_file(**values)
    with pytest.raises(ToolkitError, match=fix):
        settings.load()


def test_defaults_are_loopback_and_47000(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    cfg = settings.load()
    assert (cfg.host, cfg.port, cfg.base_url) == ("127.0.0.1", 47000, "http://127.0.0.1:47000")
    assert cfg.is_loopback


def test_env_file_wins_over_shell_and_secrets_never_come_from_shell(env_file, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT="47001")
    monkeypatch.setenv("LITELLM_PORT", "9999")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-from-shell")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    cfg = settings.load()
    assert cfg.port == 47001
    assert cfg.anthropic_credential == API_KEY
    assert cfg.get("AWS_REGION") == "eu-central-1"  # not in .env: the AWS chain may come from the shell


def test_the_subscription_token_is_kept_apart_from_the_api_key(env_file):
    """The token carries Claude Code's requests only: the toolkit's own calls (model
    listing) and the proxy's API-key tier use the API key whenever there is one."""
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, CLAUDE_CODE_OAUTH_TOKEN=OAUTH_TOKEN)
    cfg = settings.load()
    assert (cfg.api_key, cfg.subscription_token) == (API_KEY, OAUTH_TOKEN)
    assert (cfg.anthropic_credential, cfg.anthropic_credential_kind) == (API_KEY, "api-key")
    assert cfg.secrets == [MASTER_KEY, API_KEY, OAUTH_TOKEN]
    env = settings.proxy_environment(cfg)
    assert (env["GATEWAY_ANTHROPIC_CREDENTIAL"], env["GATEWAY_ANTHROPIC_SUBSCRIPTION"]) == (API_KEY, OAUTH_TOKEN)


def test_with_only_a_token_the_api_key_variable_stays_empty(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, CLAUDE_CODE_OAUTH_TOKEN=OAUTH_TOKEN)
    cfg = settings.load()
    assert (cfg.anthropic_credential, cfg.anthropic_credential_kind) == (OAUTH_TOKEN, "oauth-token")
    env = settings.proxy_environment(cfg)
    assert (env["GATEWAY_ANTHROPIC_CREDENTIAL"], env["GATEWAY_ANTHROPIC_SUBSCRIPTION"]) == ("", OAUTH_TOKEN)


def test_proxy_environment_scrubs_claude_code_shell_variables(env_file, monkeypatch):
    """A shell set up for Claude Code points ANTHROPIC_BASE_URL at the proxy itself;
    LiteLLM would read it and call itself in a loop."""
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:47000")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", MASTER_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", MASTER_KEY)
    env = settings.proxy_environment(settings.load())
    assert "ANTHROPIC_BASE_URL" not in env and "ANTHROPIC_AUTH_TOKEN" not in env
    assert "ANTHROPIC_API_KEY" not in env
    assert env["GATEWAY_ANTHROPIC_CREDENTIAL"] == API_KEY
    assert env["ANTHROPIC_API_BASE"] == "https://api.anthropic.com"
    assert env["LITELLM_MASTER_KEY"] == MASTER_KEY
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == env["LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS"] == "True"


def test_mask_never_shows_the_whole_secret():
    assert settings.mask(MASTER_KEY) == "sk-tes...cdef"
    assert settings.mask("short") == "****"
    assert settings.mask(None) == "(not set)"


def test_empty_values_count_as_unset_in_the_proxy_environment(env_file, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, AWS_PROFILE="")
    monkeypatch.setenv("AWS_PROFILE", "")  # as systemd's EnvironmentFile= sets it
    env = settings.proxy_environment(settings.load())
    assert "AWS_PROFILE" not in env
