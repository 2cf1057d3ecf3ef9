"""The effective LiteLLM config: config.yaml plus the .env models and tiers, rendered by
contributors, written 0600 under the state directory, printed by `make print-config`."""
import copy
import hashlib
import os
import stat
import subprocess

import pytest
import yaml
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core import configfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings
from scripts.gateway import effective_config
from scripts.gateway.effective_config import Additions, render

ZAI_SECRET = "zai-secret-0123456789abcdef"
GPT5 = {"MODEL_GPT5_ALIAS": "gpt-5", "MODEL_GPT5_UPSTREAM_MODEL": "chatgpt/gpt-5.1-codex",
        "MODEL_GPT5_REASONING_EFFORT": "high"}
GLM = {"MODEL_GLM_ALIAS": "glm-4.6", "MODEL_GLM_UPSTREAM_MODEL": "zai/glm-4.6", "MODEL_GLM_API_KEY": ZAI_SECRET,
       "MODEL_GLM_API_BASE": "https://api.z.ai/api/paas/v4"}
TWO_TIERS = {"PROXY_MODEL_KEYS": "gpt5,glm", **GPT5, **GLM, "CLAUDE_FALLBACK_AFTER_BEDROCK": "gpt5,glm"}


@pytest.fixture(scope="module")
def shipped() -> dict:
    return configfile.load(PROJECT_DIR / "config.yaml").data


def entries(config: dict, name: str) -> list:
    return [e for e in config["model_list"] if e["model_name"] == name]


def fallbacks(config: dict) -> dict:
    return {k: v for item in config["router_settings"]["fallbacks"] for k, v in item.items()}


def test_without_env_models_the_config_is_config_yaml(shipped):
    assert render(shipped, Settings({})) == shipped


def test_render_never_changes_its_input(shipped):
    before = copy.deepcopy(shipped)
    render(shipped, Settings(TWO_TIERS))
    assert shipped == before


def test_env_models_are_served_next_to_the_claude_models(shipped):
    config = render(shipped, Settings({"PROXY_MODEL_KEYS": "gpt5,glm", **GPT5, **GLM}))
    assert config["model_list"][:len(shipped["model_list"])] == shipped["model_list"]
    (gpt5,) = entries(config, "gpt-5")
    (glm,) = entries(config, "glm-4.6")
    assert gpt5 == {"model_name": "gpt-5", "litellm_params": {"model": "chatgpt/gpt-5.1-codex",
                                                              "reasoning_effort": "high"}}
    assert glm["litellm_params"] == {"model": "zai/glm-4.6", "api_base": "https://api.z.ai/api/paas/v4",
                                     "api_key": "os.environ/MODEL_GLM_API_KEY",
                                     "allowed_openai_params": ["max_retries"]}  # why: model_entry
    assert fallbacks(config) == fallbacks(shipped), "no tiers: fallbacks unchanged"
    assert ZAI_SECRET not in effective_config.to_yaml(config)
    assert "use_chat_completions_url_for_anthropic_messages" not in config["litellm_settings"]


@pytest.mark.parametrize("api_base, chat", [("https://agentrouter.org/v1", True), (None, False),
                                            ("https://api.openai.com/v1", False)])
def test_openai_compatible_servers_answer_claude_code_through_chat_completions(shipped, api_base, chat):
    """LiteLLM sends /v1/messages for openai/ models to the Responses API, which such servers lack."""
    values = {"PROXY_MODEL_KEYS": "ds", "MODEL_DS_ALIAS": "deepseek-v3.2", "MODEL_DS_UPSTREAM_MODEL":
              "openai/deepseek-v3.2", "MODEL_DS_API_KEY": "k", **({"MODEL_DS_API_BASE": api_base} if api_base else {})}
    config = render(shipped, Settings(values))
    assert config["litellm_settings"].get("use_chat_completions_url_for_anthropic_messages", False) is chat


def test_tiers_follow_every_claude_names_bedrock_twin(shipped):
    config = render(shipped, Settings(TWO_TIERS))
    chains = fallbacks(config)
    for name, targets in fallbacks(shipped).items():
        assert chains[name] == targets + ["gpt-5", "glm-4.6"], name
    assert chains["claude-sonnet-4-5"] == ["claude-sonnet-4-5-bedrock", "gpt-5", "glm-4.6"]
    assert "claude-*" not in chains, "LiteLLM looks fallbacks up by the requested id, never by pattern"
    assert "gpt-5" not in chains and "glm-4.6" not in chains and "claude-sonnet-4-5-bedrock" not in chains


def test_cooldowns_give_one_call_per_window_to_every_tier_but_the_last(shipped):
    config = render(shipped, Settings(TWO_TIERS))
    for entry in config["model_list"]:
        cooldown = (entry.get("model_info") or {}).get("cooldown_time")
        assert cooldown == (0 if entry["model_name"] == "glm-4.6" else None), entry["model_name"]
    callbacks = shipped["litellm_settings"]["callbacks"]
    assert config["litellm_settings"]["callbacks"] == [*callbacks, *effective_config.TIER_CALLBACKS]
    no_tiers = render(shipped, Settings({"PROXY_MODEL_KEYS": "glm", **GLM}))
    assert entries(no_tiers, "claude-haiku-bedrock")[0]["model_info"] == {"cooldown_time": 0}, \
        "without tiers Bedrock stays the last resort"
    assert no_tiers["litellm_settings"]["callbacks"] == callbacks


def test_a_cooldown_the_user_chose_is_kept(shipped):
    data = copy.deepcopy(shipped)
    entries(data, "claude-haiku-bedrock")[0]["model_info"] = {"cooldown_time": 30}
    config = render(data, Settings(TWO_TIERS))
    assert entries(config, "claude-haiku-bedrock")[0]["model_info"] == {"cooldown_time": 30}


def test_an_alias_config_yaml_uses_is_refused(shipped):
    values = {"PROXY_MODEL_KEYS": "glm", **GLM, "MODEL_GLM_ALIAS": "claude-haiku"}
    with pytest.raises(ToolkitError, match=r"^MODEL_GLM_ALIAS=claude-haiku is already a model name in config.yaml"):
        render(shipped, Settings(values))


def test_contributors_extend_sections_and_refuse_to_overrule_config_yaml(shipped):
    def redis(settings: Settings, config: dict) -> Additions:
        return Additions("REDIS_URL", settings={"router_settings": {"redis_url": "os.environ/REDIS_URL",
                                                                    "num_retries": 0}})

    config = render(shipped, Settings({}), [redis])
    assert config["router_settings"]["redis_url"] == "os.environ/REDIS_URL"

    def retries(settings: Settings, config: dict) -> Additions:
        return Additions("SOME_VAR", settings={"router_settings": {"num_retries": 2}})

    with pytest.raises(ToolkitError, match=r"^config.yaml sets router_settings.num_retries to 0 and SOME_VAR in "
                                           r"\.env needs 2: remove it from config.yaml or unset SOME_VAR$"):
        render(shipped, Settings({}), [retries])


def test_a_contributor_sees_what_the_earlier_ones_added(shipped):
    seen = []

    def spy(settings: Settings, config: dict) -> Additions:
        seen.append([e["model_name"] for e in config["model_list"]][-1])
        return Additions("nothing")

    render(shipped, Settings({"PROXY_MODEL_KEYS": "glm", **GLM}), [*effective_config.CONTRIBUTORS, spy])
    assert seen == ["glm-4.6"]


def test_secrets_are_masked_and_references_kept():
    config = {"model_list": [{"model_name": "m", "litellm_params": {
        "model": "openai/x", "api_key": "sk-literal-secret-0123456789", "api_base": "https://user:pw@host/v1"}}],
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"}, "litellm_settings": {"max_tokens": 5}}
    masked = effective_config.masked(config)
    params = masked["model_list"][0]["litellm_params"]
    assert params["api_key"] == "sk-lit...6789" and params["api_base"] == "https://****@host/v1"
    assert masked["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert masked["litellm_settings"]["max_tokens"] == 5
    assert config["model_list"][0]["litellm_params"]["api_key"] == "sk-literal-secret-0123456789"


def test_includes_stay_beside_config_yaml(env_file, isolated, monkeypatch, shipped):
    source = isolated / "conf" / "config.yaml"
    source.parent.mkdir()
    source.write_text(yaml.safe_dump({**shipped, "include": ["more.yaml", "/abs/other.yaml"]}))
    monkeypatch.setenv("GATEWAY_CONFIG", str(source))
    config = effective_config.load_and_render(Settings({}))
    assert config["include"] == [str(source.parent / "more.yaml"), "/abs/other.yaml"]


def test_write_is_private_atomic_and_leaves_config_yaml_alone(env_file, isolated):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **TWO_TIERS)
    before = hashlib.sha256((PROJECT_DIR / "config.yaml").read_bytes()).hexdigest()
    cfg = settings_mod.load()
    target = effective_config.write(cfg)
    assert target == isolated / "state" / "litellm-config.yaml" == paths.effective_config_file()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert text.startswith("# The effective LiteLLM config") and ZAI_SECRET not in text and API_KEY not in text
    assert yaml.safe_load(text) == effective_config.load_and_render(cfg)
    assert os.listdir(target.parent) == ["litellm-config.yaml"]
    assert hashlib.sha256((PROJECT_DIR / "config.yaml").read_bytes()).hexdigest() == before


def make_print_config(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "print-config"], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


def test_make_print_config_is_the_effective_config_as_yaml(env_file, isolated):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **TWO_TIERS)
    done = make_print_config(dict(os.environ))
    assert done.returncode == 0, done.stderr
    printed = yaml.safe_load(done.stdout)
    assert printed == effective_config.masked(effective_config.load_and_render(settings_mod.load()))
    assert fallbacks(printed)["claude-opus-4-8"] == ["claude-opus-4-8-bedrock", "gpt-5", "glm-4.6"]
    assert ZAI_SECRET not in done.stdout and API_KEY not in done.stdout and MASTER_KEY not in done.stdout
    assert not (isolated / "state").exists(), "print-config writes nothing"


def test_make_print_config_fails_in_one_line_naming_the_variable(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY,
             **{**TWO_TIERS, "CLAUDE_FALLBACK_AFTER_BEDROCK": "gpt5,qwen"})
    done = make_print_config(dict(os.environ))
    assert done.returncode != 0 and done.stdout == ""
    (line,) = [ln for ln in done.stderr.splitlines() if not ln.startswith("make")]
    assert line.startswith("error: CLAUDE_FALLBACK_AFTER_BEDROCK names qwen, which PROXY_MODEL_KEYS does not define")


def test_show_models_lists_the_env_models_and_their_tier(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **TWO_TIERS)
    done = subprocess.run(["make", "--no-print-directory", "-s", "show-models"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    own = done.stdout.split("From .env (PROXY_MODEL_KEYS):")[1].split()
    assert own[own.index("gpt-5"):own.index("gpt-5") + 3] == ["gpt-5", "chatgpt/gpt-5.1-codex", "(provider"]
    assert "tier 3" in done.stdout and "tier 4" in done.stdout and ZAI_SECRET not in done.stdout
    assert "MODEL_GLM_API_KEY zai-se...cdef" in done.stdout and "login (`make login-chatgpt`)" in done.stdout
    assert "then gpt-5, then glm-4.6 (CLAUDE_FALLBACK_AFTER_BEDROCK)" in done.stdout


def test_health_and_info_name_each_tier_and_where_its_credential_comes_from(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY,
             **{**TWO_TIERS, "PROXY_MODEL_KEYS": "gpt5,glm,ds"}, MODEL_DS_ALIAS="deepseek-v3.2",
             MODEL_DS_UPSTREAM_MODEL="deepseek/v3.2", DEEPSEEK_API_KEY="ds-key-0123456789abcdef")
    done = subprocess.run(["make", "--no-print-directory", "-s", "info"], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    upstreams = [line.split(None, 1)[1] for line in done.stdout.splitlines() if line.startswith("upstream")]
    assert upstreams[2:] == [
        "tier 3   gpt-5  chatgpt/gpt-5.1-codex  (provider default)  credential: login (`make login-chatgpt`)",
        "tier 4   glm-4.6  zai/glm-4.6  https://api.z.ai/api/paas/v4  credential: MODEL_GLM_API_KEY zai-se...cdef",
        "model    deepseek-v3.2  deepseek/v3.2  (provider default)  credential: DEEPSEEK_API_KEY (the provider's variable)"]
    assert ZAI_SECRET not in done.stdout and "ds-key-0123456789abcdef" not in done.stdout


def test_the_subscription_twins_chain_holds_the_tiers_after_bedrock_too(shipped):
    """With CLAUDE_CODE_OAUTH_TOKEN Claude Code's requests try `<name>-subscription` first
    (scripts/gateway/credential_tiers.py): subscription -> API key -> Bedrock -> the env tiers."""
    values = {**TWO_TIERS, "ANTHROPIC_API_KEY": API_KEY, "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-t"}
    chains = fallbacks(render(shipped, Settings(values)))
    assert chains["claude-sonnet-4-5-subscription"] == ["claude-sonnet-4-5", "claude-sonnet-4-5-bedrock",
                                                        "gpt-5", "glm-4.6"]
    assert chains["claude-sonnet-4-5"] == ["claude-sonnet-4-5-bedrock", "gpt-5", "glm-4.6"]
    assert "claude-sonnet-4-5-subscription" not in chains["claude-sonnet-4-5"]
