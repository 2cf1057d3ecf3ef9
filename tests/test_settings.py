import os

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


# What a developer's shell may hold: none of it may reach LiteLLM.
SHELL_ONLY = {
    "OPENAI_API_KEY": "sk-shell-openai", "ANTHROPIC_BASE_URL": "http://127.0.0.1:47000",
    "AWS_ACCESS_KEY_ID": "AKIASHELL", "AWS_SESSION_TOKEN": "shell-session", "AWS_DEFAULT_REGION": "ap-south-1",
    "LITELLM_MODE": "DEV", "DATABASE_URL": "postgres://shell", "PYTHONPATH": "/shell/lib",
    "GATEWAY_ENV_FILE_UNRELATED": "x", "SSH_AUTH_SOCK": "/tmp/agent", "REDIS_HOST": "shell-redis",
}


def test_proxy_environment_is_the_system_allowlist_plus_env_file_plus_the_toolkits_own(env_file, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, AWS_PROFILE="dev-sso", MY_TEAM_SETTING="x")
    for var in list(os.environ):  # this machine's own (SSL_CERT_FILE, USER, ...): the test sets its own
        if var != "HOME" and (var in settings.SYSTEM_FOR_PROXY or var.startswith("LC_")):
            monkeypatch.delenv(var)
    for var, value in {**SHELL_ONLY, "PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_TIME": "de_DE.UTF-8",
                       "HTTPS_PROXY": "http://proxy.corp:3128", "AWS_CONFIG_FILE": "/etc/aws/config",
                       "AWS_REGION": "eu-west-1", "GATEWAY_STREAM_TIMEOUT": "7", "TZ": ""}.items():
        monkeypatch.setenv(var, value)
    env = settings.proxy_environment(settings.load())
    system = {"PATH", "HOME", "LANG", "LC_TIME", "HTTPS_PROXY", "AWS_CONFIG_FILE"}
    from_env_file = {"LITELLM_MASTER_KEY", "AWS_PROFILE", "MY_TEAM_SETTING"}
    toolkit = {"GATEWAY_ANTHROPIC_CREDENTIAL", "GATEWAY_ANTHROPIC_SUBSCRIPTION", "ANTHROPIC_API_BASE", "LITELLM_LOCAL_MODEL_COST_MAP",
               "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "LITELLM_LOG", "GATEWAY_STREAM_TIMEOUT",
               "GATEWAY_REQUEST_TIMEOUT", "LITELLM_MODE", "PYTHON_DOTENV_DISABLED",
               *settings.toolkit_locations(), *settings.login_token_dirs()}
    assert set(env) == system | from_env_file | {"AWS_REGION"} | toolkit  # AWS_REGION: FILE_OR_SHELL
    assert env["GATEWAY_STREAM_TIMEOUT"] == "7" and env["AWS_REGION"] == "eu-west-1"  # shell knobs .env lacks
    assert env["LITELLM_MODE"] == "PRODUCTION" and env["PYTHON_DOTENV_DISABLED"] == "1"  # LiteLLM's load_dotenv off
    assert env["HTTPS_PROXY"] == "http://proxy.corp:3128" and env["GATEWAY_ANTHROPIC_CREDENTIAL"] == API_KEY


def test_env_file_wins_over_the_shells_tuning_and_cannot_turn_dotenv_loading_on(env_file, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, GATEWAY_STREAM_TIMEOUT="30",
             LITELLM_MODE="DEV", PYTHON_DOTENV_DISABLED="0")
    monkeypatch.setenv("GATEWAY_STREAM_TIMEOUT", "7")
    env = settings.proxy_environment(settings.load())
    assert env["GATEWAY_STREAM_TIMEOUT"] == "30"
    assert env["LITELLM_MODE"] == "PRODUCTION" and env["PYTHON_DOTENV_DISABLED"] == "1"
