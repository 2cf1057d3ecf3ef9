"""The effective LiteLLM config: config.yaml plus what .env defines.

config.yaml stays the user's file; `make up` (and `make proxy`, the services) run LiteLLM
on the config rendered here, written to the state directory (0600), and `make print-config`
prints it with secrets masked. Secrets never enter it: credentials are LiteLLM
`os.environ/VAR` references, resolved by LiteLLM from the proxy's environment.

The rendering is a list of contributors. Each takes the settings and the config as the
contributors before it left it, and returns its Additions; render() applies them in order.
A new .env feature is one more contributor (and one more line in CONTRIBUTORS).
"""
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from scripts.core import configfile, paths
from scripts.core.errors import ToolkitError
from scripts.core.files import PRIVATE, write_atomic
from scripts.core.model_specs import KEYS_VAR, TIERS_VAR, ModelSpec
from scripts.core.settings import Settings, mask
from scripts.gateway import shared_state, credential_tiers

# LiteLLM callbacks the tiers need (see each module): cooldowns for the hops after the first,
# and which tier answered last (make status).
TIER_CALLBACKS = ["scripts.in_proxy.chain_cooldown.handler", "scripts.in_proxy.last_answer.handler"]
HEADER = ("# The effective LiteLLM config: {config} plus the models and tiers .env defines.\n"
          "# Written by `make up` to {target} on every start; edit config.yaml or .env, not this.\n")
SECTIONS = ("router_settings", "litellm_settings", "general_settings")
OPENAI_HOST = "api.openai.com"
SDK_RETRY_PROVIDERS = ("zai",)  # see model_entry
LABEL = Path("config.yaml")  # how errors name the user's file (render() never reads it)
# Keys whose string values are credentials, unless they reference a variable (os.environ/NAME).
SECRET_KEY = re.compile(r"(key|token|secret|password|credentials?)$|secret|password", re.I)
URL_USERINFO = re.compile(r"(://)[^/@\s]+@")


@dataclass
class Additions:
    """What one contributor adds. `source` names the .env variable(s) behind it, for errors."""
    source: str
    models: List[dict] = field(default_factory=list)  # model_list entries, appended
    fallbacks: Dict[str, List[str]] = field(default_factory=dict)  # targets appended to each name's fallbacks
    # model name -> model_info keys set on each of its deployments (a value None removes the key)
    model_info: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    callbacks: List[str] = field(default_factory=list)  # appended to litellm_settings.callbacks
    settings: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # section -> keys set (config.yaml must agree)


Contributor = Callable[[Settings, dict], Additions]


def model_entry(spec: ModelSpec) -> dict:
    """A model_list entry for an env-defined model; its key stays a reference to the variable."""
    params: Dict[str, Any] = {"model": spec.upstream_model}
    if spec.provider in SDK_RETRY_PROVIDERS:
        # The router passes max_retries 0 to every call (retries, cooldowns and fallbacks are its
        # job), but LiteLLM's zai/ config drops the parameter as unsupported, so the OpenAI SDK
        # under it retried a 429 twice after its retry-after: 3 calls and 10 s for one throttled
        # request (measured). allowed_openai_params keeps it; it never reaches the upstream.
        params["allowed_openai_params"] = ["max_retries"]
    if spec.api_base:
        params["api_base"] = spec.api_base
    if spec.api_key_var:
        params["api_key"] = f"os.environ/{spec.api_key_var}"
    if spec.reasoning_effort:
        # A default for requests that set none; LiteLLM maps it per provider (reasoning.effort,
        # thinking budget) or drops it where the provider has no such setting (drop_params).
        params["reasoning_effort"] = spec.reasoning_effort
    return {"model_name": spec.alias, "litellm_params": params}


def is_openai_compatible_server(spec: ModelSpec) -> bool:
    """openai/ on another server than OpenAI's: DeepSeek, vLLM, an aggregator."""
    return spec.provider == "openai" and bool(spec.api_base) and OPENAI_HOST not in (spec.api_base or "")


def env_models(settings: Settings, config: dict) -> Additions:
    """PROXY_MODEL_KEYS: each env-defined model served under its alias, next to config.yaml's."""
    taken = {str(entry.get("model_name")) for entry in config.get("model_list") or []}
    models = []
    for spec in settings.model_specs:
        if spec.alias in taken:
            raise ToolkitError(f"{spec.prefix}ALIAS={spec.alias} is already a model name in config.yaml: "
                               "choose another alias")
        models.append(model_entry(spec))
    sections = {}
    if any(is_openai_compatible_server(spec) for spec in settings.model_specs):
        # LiteLLM answers /v1/messages (Claude Code) for openai/ models through OpenAI's Responses
        # API, which OpenAI-compatible servers do not have (404); this LiteLLM setting sends
        # those requests to chat/completions, which every such server has.
        sections = {"litellm_settings": {"use_chat_completions_url_for_anthropic_messages": True}}
    return Additions(KEYS_VAR, models=models, settings=sections)


def claude_names(config: configfile.ProxyConfig) -> List[str]:
    """Public names served by Claude deployments only (Anthropic and/or Bedrock). Not the claude-*
    wildcard: LiteLLM looks fallbacks up by the requested id, never by a pattern (measured: a
    claude-* entry left an unlisted id's 429 without fallback), as for its Bedrock twin."""
    return [name for name in config.public_models if "*" not in name
            and all(model.split("/", 1)[0] in ("anthropic", "bedrock") for model in config.deployments[name])]


def tiers_after_bedrock(settings: Settings, config: dict) -> Additions:
    """CLAUDE_FALLBACK_AFTER_BEDROCK: the tiers every Claude name falls back to after its Bedrock twin.

    Cooldowns: config.yaml never cools Bedrock down (cooldown_time 0) because it is the last
    resort. With tiers after it, that would send every request to a throttled Bedrock before
    the next tier; so Bedrock twins and every tier but the last cool down like the primary
    (one call per window), and the last tier becomes the resort that never cools down."""
    chosen = settings.fallback_tiers
    if not chosen:
        return Additions(TIERS_VAR)
    parsed = configfile.from_data(LABEL, config)
    aliases = [spec.alias for spec in chosen]
    names = claude_names(parsed)
    fallbacks = {name: aliases for name in names}
    twins = sorted({t for name in names for t in parsed.fallbacks.get(name, []) if t not in aliases})
    model_info: Dict[str, Dict[str, Any]] = {twin: {"cooldown_time": None} for twin in twins
                                             if _cooldown_times(config, twin) == {0}}
    model_info[aliases[-1]] = {"cooldown_time": 0}
    return Additions(TIERS_VAR, fallbacks=fallbacks, model_info=model_info, callbacks=TIER_CALLBACKS)


def subscription_tiers(settings: Settings, config: dict) -> Additions:
    """CLAUDE_CODE_OAUTH_TOKEN: the `-subscription` twins Claude Code's requests try first
    (scripts/gateway/credential_tiers.py). After tiers_after_bedrock, so that a twin's chain (its
    name's chain) holds the tiers after Bedrock too."""
    found = credential_tiers.tier_additions(config, settings)
    chains = {name: targets for item in found["fallbacks"] for name, targets in item.items()}
    return Additions("CLAUDE_CODE_OAUTH_TOKEN", models=found["model_list"], fallbacks=chains,
                     callbacks=found["callbacks"])


def shared_redis(settings: Settings, config: dict) -> Additions:
    """REDIS_URL: router state (cooldowns) shared by every worker and instance (shared_state.py)."""
    return Additions("REDIS_URL", settings=shared_state.redis_settings(settings, config))


CONTRIBUTORS: List[Contributor] = [env_models, tiers_after_bedrock, subscription_tiers, shared_redis]


def _cooldown_times(config: dict, name: str) -> set:
    return {(entry.get("model_info") or {}).get("cooldown_time") for entry in config.get("model_list") or []
            if entry.get("model_name") == name}


def _apply_fallbacks(config: dict, additions: Additions) -> None:
    router = config.setdefault("router_settings", {})
    entries = router.setdefault("fallbacks", [])
    index = {next(iter(item)): item for item in entries if isinstance(item, dict) and len(item) == 1}
    for name, targets in additions.fallbacks.items():
        item = index.get(name)
        if item is None:
            item = index[name] = {name: []}
            entries.append(item)
        item[name] = list(item[name]) + [t for t in targets if t not in item[name]]


def _apply_model_info(config: dict, additions: Additions) -> None:
    for entry in config.get("model_list") or []:
        for key, value in additions.model_info.get(entry.get("model_name"), {}).items():
            info = entry.setdefault("model_info", {})
            if value is None:
                info.pop(key, None)
            else:
                info[key] = value
            if not info:
                del entry["model_info"]


def _apply_settings(config: dict, additions: Additions) -> None:
    for section, values in additions.settings.items():
        if section not in SECTIONS:
            raise ValueError(f"{additions.source}: unknown config section {section}")
        target = config.setdefault(section, {})
        for key, value in values.items():
            if key in target and target[key] != value:
                raise ToolkitError(f"config.yaml sets {section}.{key} to {target[key]!r} and {additions.source} "
                                   f"in .env needs {value!r}: remove it from config.yaml or unset {additions.source}")
            target[key] = value


def _apply_callbacks(config: dict, additions: Additions) -> None:
    if additions.callbacks:
        settings = config.setdefault("litellm_settings", {})
        callbacks = list(settings.get("callbacks") or [])
        settings["callbacks"] = callbacks + [c for c in additions.callbacks if c not in callbacks]


def apply(config: dict, additions: Additions) -> None:
    config.setdefault("model_list", []).extend(copy.deepcopy(additions.models))
    _apply_callbacks(config, additions)
    _apply_fallbacks(config, additions)
    _apply_model_info(config, additions)
    _apply_settings(config, additions)


def render(config: dict, settings: Settings, contributors: Optional[List[Contributor]] = None) -> dict:
    """config.yaml's data (left untouched) plus every contributor's additions, checked."""
    result = copy.deepcopy(config)
    for contribute in CONTRIBUTORS if contributors is None else contributors:
        apply(result, contribute(settings, result))
    configfile.from_data(LABEL, result)  # every fallback target must be a model name
    return result


def masked(value: Any, key: str = "") -> Any:
    """A copy with literal secrets (e.g. an api_key typed into config.yaml) and URL passwords masked."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    if not isinstance(value, str) or value.startswith("os.environ/"):
        return value
    if SECRET_KEY.search(key):
        return mask(value)
    return URL_USERINFO.sub(r"\1****@", value)


class _Dumper(yaml.SafeDumper):
    """Block style, except short lists of plain values (fallbacks, callbacks) on one line, as config.yaml has them."""

    def represent_list(self, data: list) -> yaml.Node:
        flow = len(data) <= 8 and all(isinstance(item, (str, int, float, bool)) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def to_yaml(config: dict) -> str:
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     allow_unicode=True)


def header(target: Path) -> str:
    return HEADER.format(config=paths.config_file(), target=target)


def _anchored_includes(data: dict, folder: Path) -> dict:
    """LiteLLM resolves `include:` files beside the config it reads: keep them beside config.yaml."""
    includes = data.get("include")
    if not isinstance(includes, list):
        return data
    return {**data, "include": [str(folder / item) if isinstance(item, str) else item for item in includes]}


def load_and_render(settings: Settings) -> dict:
    """The effective config for the current config.yaml and .env (reads, never writes)."""
    source = paths.config_file()
    return render(_anchored_includes(configfile.load(source).data, source.resolve().parent), settings)


def write(settings: Settings) -> Path:
    """Render and write the file LiteLLM starts from (atomically, 0600); returns its path."""
    target = paths.effective_config_file()
    write_atomic(target, header(target) + to_yaml(load_and_render(settings)), mode=PRIVATE)
    return target
