"""Env-defined models (PROXY_MODEL_KEYS, MODEL_<KEY>_...) and CLAUDE_FALLBACK_AFTER_BEDROCK:
each field, and each bad value as one error naming the variable."""
import subprocess
import sys

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core import settings
from scripts.core.errors import ToolkitError
from scripts.core.model_specs import EFFORTS, ModelSpec, parse_models, parse_tiers

GLM = {"PROXY_MODEL_KEYS": "glm", "MODEL_GLM_ALIAS": "glm-4.6", "MODEL_GLM_UPSTREAM_MODEL": "zai/glm-4.6",
       "MODEL_GLM_API_KEY": "zai-key"}
GPT5 = {"MODEL_GPT5_ALIAS": "gpt-5", "MODEL_GPT5_UPSTREAM_MODEL": "chatgpt/gpt-5.1-codex"}


def models(**values: str) -> list:
    return parse_models(values)


def test_no_keys_no_models():
    assert models() == [] and models(PROXY_MODEL_KEYS="") == [] and models(PROXY_MODEL_KEYS="  ") == []


def test_every_field_is_read():
    (spec,) = models(**GLM, MODEL_GLM_API_BASE="https://api.z.ai/api/paas/v4", MODEL_GLM_REASONING_EFFORT="High")
    assert spec == ModelSpec("glm", "glm-4.6", "zai/glm-4.6", "https://api.z.ai/api/paas/v4", "MODEL_GLM_API_KEY",
                             "high")
    assert spec.provider == "zai" and spec.prefix == "MODEL_GLM_"


def test_optional_fields_are_optional_and_the_order_is_kept():
    specs = models(**{**GLM, **GPT5, "PROXY_MODEL_KEYS": " gpt5 , glm "})
    assert [s.alias for s in specs] == ["gpt-5", "glm-4.6"]
    assert (specs[0].api_base, specs[0].api_key_var, specs[0].reasoning_effort) == (None, None, None)


@pytest.mark.parametrize("effort", EFFORTS)
def test_each_reasoning_effort(effort):
    (spec,) = models(**GLM, MODEL_GLM_REASONING_EFFORT=effort)
    assert spec.reasoning_effort == effort


def test_keys_are_case_insensitive_and_may_hold_underscores():
    (spec,) = models(PROXY_MODEL_KEYS="Deep_Seek", MODEL_DEEP_SEEK_ALIAS="deepseek-v3.2",
                     MODEL_DEEP_SEEK_UPSTREAM_MODEL="openai/deepseek-v3.2", MODEL_DEEP_SEEK_API_KEY="k",
                     MODEL_DEEP_SEEK_API_BASE="https://agentrouter.org/v1")
    assert spec.key == "Deep_Seek" and spec.alias == "deepseek-v3.2"


def test_the_providers_own_key_variable_in_env_file_will_do(env_file, monkeypatch):
    values = {k: v for k, v in GLM.items() if k != "MODEL_GLM_API_KEY"}
    assert parse_models({**values, "ZAI_API_KEY": "from-env-file"})[0].api_key_var is None
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **values)
    monkeypatch.setenv("ZAI_API_KEY", "from-shell")  # never reaches the proxy's sealed environment
    with pytest.raises(ToolkitError, match=r"^no API key for glm-4.6: set MODEL_GLM_API_KEY \(or ZAI_API_KEY\) in"):
        settings.load()


def test_login_providers_need_no_key():
    (spec,) = models(PROXY_MODEL_KEYS="gpt5", **GPT5)
    assert spec.api_key_var is None and spec.provider == "chatgpt"


def test_two_keys_of_one_prefix_do_not_shadow_each_other():
    specs = models(PROXY_MODEL_KEYS="a,a_b", MODEL_A_ALIAS="a", MODEL_A_UPSTREAM_MODEL="chatgpt/gpt-5",
                   MODEL_A_B_ALIAS="ab", MODEL_A_B_UPSTREAM_MODEL="chatgpt/gpt-5-mini")
    assert [s.alias for s in specs] == ["a", "ab"]


def test_unlisted_keys_are_ignored():
    """Definitions may stay in .env while their key is taken out of PROXY_MODEL_KEYS."""
    assert models(**GPT5) == [] and [s.key for s in models(**GLM, **GPT5)] == ["glm"]


BAD = [
    ({"PROXY_MODEL_KEYS": "glm,,gpt5"}, r"^PROXY_MODEL_KEYS='glm,,gpt5' has an empty entry"),
    ({"PROXY_MODEL_KEYS": "glm,GLM"}, r"^PROXY_MODEL_KEYS lists GLM twice"),
    ({"PROXY_MODEL_KEYS": "gpt-5"}, r"^PROXY_MODEL_KEYS entry 'gpt-5' is not a usable key"),
    ({"PROXY_MODEL_KEYS": "5gpt"}, r"^PROXY_MODEL_KEYS entry '5gpt' is not a usable key"),
    ({"MODEL_GLM_ALIAS": ""}, r"^MODEL_GLM_ALIAS is not set"),
    ({"MODEL_GLM_ALIAS": "glm 4.6"}, r"^MODEL_GLM_ALIAS='glm 4.6' is not a usable model name"),
    ({"MODEL_GLM_UPSTREAM_MODEL": ""}, r"^MODEL_GLM_UPSTREAM_MODEL is not set"),
    ({"MODEL_GLM_UPSTREAM_MODEL": "glm-4.6"}, r"^MODEL_GLM_UPSTREAM_MODEL='glm-4.6' is not a LiteLLM model string"),
    ({"MODEL_GLM_UPSTREAM_MODEL": "Zai/glm-4.6"}, r"^MODEL_GLM_UPSTREAM_MODEL='Zai/glm-4.6' is not a LiteLLM"),
    ({"MODEL_GLM_API_BASE": "api.z.ai/v4"}, r"^MODEL_GLM_API_BASE='api.z.ai/v4' is not an http\(s\) URL"),
    ({"MODEL_GLM_API_BASE": "ftp://api.z.ai"}, r"^MODEL_GLM_API_BASE='ftp://api.z.ai' is not an http\(s\) URL"),
    ({"MODEL_GLM_REASONING_EFFORT": "max"}, r"^MODEL_GLM_REASONING_EFFORT='max' is not one of none\|minimal\|low"),
    ({"MODEL_GLM_API_KEY": ""}, r"^no API key for glm-4.6: set MODEL_GLM_API_KEY \(or ZAI_API_KEY\) in \.env$"),
    ({"MODEL_GLM_API_BSE": "https://x"}, r"^MODEL_GLM_API_BSE in \.env is not a field of an env-defined model"),
    ({"PROXY_MODEL_KEYS": "glm,zai", "MODEL_ZAI_ALIAS": "glm-4.6", "MODEL_ZAI_UPSTREAM_MODEL": "zai/glm-4.6",
      "MODEL_ZAI_API_KEY": "k"},
     r"^MODEL_ZAI_ALIAS and MODEL_GLM_ALIAS are both 'glm-4.6'"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m.split("'")[0].strip("^ ")[:40] for _, m in BAD])
def test_bad_values_are_one_line_naming_the_variable(change, message):
    with pytest.raises(ToolkitError, match=message) as caught:
        models(**{**GLM, **change})
    assert "\n" not in str(caught.value)


TIER_BAD = [
    ("glm,mystery", r"^CLAUDE_FALLBACK_AFTER_BEDROCK names mystery, which PROXY_MODEL_KEYS does not define "
                    r"\(PROXY_MODEL_KEYS=glm\)"),
    ("glm,glm", r"^CLAUDE_FALLBACK_AFTER_BEDROCK lists glm twice"),
    ("glm,", r"^CLAUDE_FALLBACK_AFTER_BEDROCK='glm,' has an empty entry"),
]


@pytest.mark.parametrize("tiers, message", TIER_BAD)
def test_bad_tiers_name_the_variable(tiers, message):
    values = {**GLM, "CLAUDE_FALLBACK_AFTER_BEDROCK": tiers}
    with pytest.raises(ToolkitError, match=message):
        parse_tiers(values, parse_models(values))


def test_tiers_keep_their_order_and_need_no_models_without_them():
    values = {**GLM, **GPT5, "PROXY_MODEL_KEYS": "glm,gpt5", "CLAUDE_FALLBACK_AFTER_BEDROCK": "GPT5,glm"}
    assert [s.alias for s in parse_tiers(values, parse_models(values))] == ["gpt-5", "glm-4.6"]
    assert parse_tiers({}, []) == []


def test_settings_validate_the_models_and_tiers(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **GLM, CLAUDE_FALLBACK_AFTER_BEDROCK="glm")
    cfg = settings.load()
    assert [s.alias for s in cfg.fallback_tiers] == ["glm-4.6"]
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **GLM, MODEL_GLM_REASONING_EFFORT="extreme")
    with pytest.raises(ToolkitError, match="MODEL_GLM_REASONING_EFFORT"):
        settings.load()


def test_the_schema_is_read_from_env_file_only(env_file, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    for key, value in GLM.items():
        monkeypatch.setenv(key, value)
    assert settings.load().model_specs == []


def test_make_up_refuses_a_bad_model_in_one_line_and_starts_nothing(env_file, isolated):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **{**GLM, "MODEL_GLM_UPSTREAM_MODEL": "glm-4.6"})
    done = subprocess.run([sys.executable, "-m", "scripts.proxy", "up"], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: MODEL_GLM_UPSTREAM_MODEL='glm-4.6' is not a LiteLLM model string provider/model: e.g. zai/glm-4.6, "
        "chatgpt/gpt-5.1-codex, openai/deepseek-v3.2 (with an API_BASE)"]
    assert not (isolated / "state" / "proxy.pid").exists() and not (isolated / "state" / "litellm-config.yaml").exists()
