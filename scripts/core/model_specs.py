"""Env-defined models (the launcher's schema) and the tiers tried after Bedrock.

    PROXY_MODEL_KEYS=gpt5,glm
    MODEL_GLM_ALIAS=glm-4.6                  the name clients use (required)
    MODEL_GLM_UPSTREAM_MODEL=zai/glm-4.6     a LiteLLM model string, provider/model (required)
    MODEL_GLM_API_BASE=https://...           optional endpoint
    MODEL_GLM_API_KEY=...                    optional; else the provider's standard variable
    MODEL_GLM_REASONING_EFFORT=medium        optional: none|minimal|low|medium|high
    CLAUDE_FALLBACK_AFTER_BEDROCK=gpt5,glm   keys tried, in order, after each Claude model's Bedrock twin

Parsing only (stdlib, no I/O): every problem is one ToolkitError naming the variable
and the fix. The effective config (scripts/gateway/effective_config.py) turns the
result into LiteLLM model_list entries and fallbacks.
"""
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

from scripts.core.errors import ToolkitError

KEYS_VAR = "PROXY_MODEL_KEYS"
TIERS_VAR = "CLAUDE_FALLBACK_AFTER_BEDROCK"
FIELDS = ("ALIAS", "UPSTREAM_MODEL", "API_BASE", "API_KEY", "REASONING_EFFORT")
EFFORTS = ("none", "minimal", "low", "medium", "high")
# The variable LiteLLM reads a provider's key from when MODEL_<KEY>_API_KEY is not set.
# Providers missing here either log in (chatgpt, github_copilot: `make login-...`), use
# another credential chain (bedrock, vertex_ai) or are not known to the toolkit: for
# those the check is left to LiteLLM, at the first request.
PROVIDER_KEY_VARS = {
    "openai": "OPENAI_API_KEY", "zai": "ZAI_API_KEY", "openrouter": "OPENROUTER_API_KEY",
    "gemini": "GEMINI_API_KEY", "deepseek": "DEEPSEEK_API_KEY", "xai": "XAI_API_KEY",
    "mistral": "MISTRAL_API_KEY", "groq": "GROQ_API_KEY", "together_ai": "TOGETHERAI_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY", "moonshot": "MOONSHOT_API_KEY", "cerebras": "CEREBRAS_API_KEY",
}
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
_UPSTREAM = re.compile(r"^([a-z][a-z0-9_-]*)/(\S+)$")
_URL = re.compile(r"^https?://[^/\s?#]+(/\S*)?$")


@dataclass(frozen=True)
class ModelSpec:
    key: str                          # as written in PROXY_MODEL_KEYS
    alias: str                        # the model name clients use
    upstream_model: str               # LiteLLM model string, provider/model
    api_base: Optional[str] = None
    api_key_var: Optional[str] = None  # the variable holding the key: MODEL_<KEY>_API_KEY, else None
    reasoning_effort: Optional[str] = None

    @property
    def provider(self) -> str:
        return self.upstream_model.split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return var_prefix(self.key)


def var_prefix(key: str) -> str:
    return f"MODEL_{key.upper()}_"


def _listed(values: Mapping[str, str], var: str) -> List[str]:
    """The comma-separated entries of a variable; empty entries and repeats are errors."""
    raw = values.get(var) or ""
    entries = [part.strip() for part in raw.split(",")] if raw.strip() else []
    if "" in entries:
        raise ToolkitError(f"{var}={raw!r} has an empty entry: write the keys separated by single commas, e.g. gpt5,glm")
    seen = set()
    for entry in entries:
        if entry.lower() in seen:
            raise ToolkitError(f"{var} lists {entry} twice: keep one")
        seen.add(entry.lower())
    return entries


def _check_known_fields(values: Mapping[str, str], keys: List[str]) -> None:
    """A misspelt field (MODEL_GLM_API_BSE) would be silently ignored: refuse it."""
    prefixes = sorted((var_prefix(k) for k in keys), key=len, reverse=True)
    for var in sorted(values):
        owner = next((p for p in prefixes if var.startswith(p)), None)
        if owner is None:
            continue
        field = var[len(owner):]
        # MODEL_A_B_ALIAS belongs to key a_b when both a and a_b are listed.
        if field not in FIELDS and not any(var.startswith(p) for p in prefixes if len(p) > len(owner)):
            known = ", ".join(owner + f for f in FIELDS)
            raise ToolkitError(f"{var} in .env is not a field of an env-defined model: use one of {known}")


def _spec(key: str, values: Mapping[str, str]) -> ModelSpec:
    prefix = var_prefix(key)

    def get(field: str) -> Optional[str]:
        return (values.get(prefix + field) or "").strip() or None

    alias, upstream = get("ALIAS"), get("UPSTREAM_MODEL")
    if alias is None:
        raise ToolkitError(f"{prefix}ALIAS is not set: {KEYS_VAR} lists {key}; set {prefix}ALIAS to the model name "
                           "clients will use, e.g. glm-4.6")
    if not _ALIAS.match(alias):
        raise ToolkitError(f"{prefix}ALIAS={alias!r} is not a usable model name: letters, digits and . _ : / - only")
    if upstream is None:
        raise ToolkitError(f"{prefix}UPSTREAM_MODEL is not set: set it to a LiteLLM model string, e.g. zai/glm-4.6")
    match = _UPSTREAM.match(upstream)
    if not match:
        raise ToolkitError(f"{prefix}UPSTREAM_MODEL={upstream!r} is not a LiteLLM model string provider/model: "
                           "e.g. zai/glm-4.6, chatgpt/gpt-5.1-codex, openai/deepseek-v3.2 (with an API_BASE)")
    api_base = get("API_BASE")
    if api_base is not None and not _URL.match(api_base):
        raise ToolkitError(f"{prefix}API_BASE={api_base!r} is not an http(s) URL: e.g. https://api.z.ai/api/paas/v4")
    effort = get("REASONING_EFFORT")
    if effort is not None and effort.lower() not in EFFORTS:
        raise ToolkitError(f"{prefix}REASONING_EFFORT={effort!r} is not one of {'|'.join(EFFORTS)}")
    key_var = prefix + "API_KEY" if get("API_KEY") else None
    standard = PROVIDER_KEY_VARS.get(match.group(1))
    if key_var is None and standard and not values.get(standard):
        raise ToolkitError(f"no API key for {alias}: set {prefix}API_KEY (or {standard}) in .env")
    return ModelSpec(key, alias, upstream, api_base, key_var, effort.lower() if effort else None)


def parse_models(values: Mapping[str, str]) -> List[ModelSpec]:
    """The models PROXY_MODEL_KEYS defines, in its order, from .env's values (a provider's
    standard key variable too: the proxy's environment has nothing else of the shell)."""
    keys = _listed(values, KEYS_VAR)
    for key in keys:
        if not _KEY.match(key):
            raise ToolkitError(f"{KEYS_VAR} entry {key!r} is not a usable key: letters, digits and _ only, "
                               "starting with a letter (it becomes part of MODEL_<KEY>_... names)")
    _check_known_fields(values, keys)
    specs = [_spec(key, values) for key in keys]
    aliases: Dict[str, str] = {}
    for spec in specs:
        other = aliases.setdefault(spec.alias, spec.key)
        if other != spec.key:
            raise ToolkitError(f"{spec.prefix}ALIAS and {var_prefix(other)}ALIAS are both {spec.alias!r}: "
                               "give each model its own name")
    return specs


def parse_tiers(values: Mapping[str, str], specs: List[ModelSpec]) -> List[ModelSpec]:
    """The models CLAUDE_FALLBACK_AFTER_BEDROCK names, in its order."""
    by_key = {spec.key.lower(): spec for spec in specs}
    tiers = []
    for key in _listed(values, TIERS_VAR):
        if key.lower() not in by_key:
            listed = ",".join(spec.key for spec in specs) or "nothing"
            raise ToolkitError(f"{TIERS_VAR} names {key}, which {KEYS_VAR} does not define ({KEYS_VAR}={listed}): "
                               f"add it there with its MODEL_{key.upper()}_... lines, or remove it here")
        tiers.append(by_key[key.lower()])
    return tiers
