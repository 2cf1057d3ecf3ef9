"""Credential tiers inside Anthropic: what the proxy's config gains from .env.

With a subscription token (CLAUDE_CODE_OAUTH_TOKEN), every Anthropic model name of
config.yaml that uses the API-key credential gets a twin `<name>-subscription`: the same
deployment with the subscription token, tried first for Claude Code's requests only
(scripts/in_proxy/credential_hooks.py decides per request, by claude_code.py's rule):

  credentials in .env   Claude Code                        every other client
  key + token           subscription -> API key -> Bedrock API key -> Bedrock
  token only            subscription -> Bedrock            Bedrock
  key only              API key -> Bedrock                 API key -> Bedrock (nothing added)

`tier_additions(config, settings)` is pure: the parsed config and the settings in, the
additions out (model_list entries, fallbacks, the hook callback); `with_tiers` merges
them into a copy. config.yaml's own entries are never changed. Credentials stay
`os.environ/` references: the values live in the proxy's environment only
(settings.proxy_environment).
"""
import copy
from typing import Dict, List

from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings

SUFFIX = "-subscription"
API_KEY_VARIABLE = "GATEWAY_ANTHROPIC_CREDENTIAL"
SUBSCRIPTION_VARIABLE = "GATEWAY_ANTHROPIC_SUBSCRIPTION"
API_KEY_REFERENCE = f"os.environ/{API_KEY_VARIABLE}"
SUBSCRIPTION_REFERENCE = f"os.environ/{SUBSCRIPTION_VARIABLE}"
HOOK = "scripts.in_proxy.credential_hooks.handler"
TIER = "subscription"  # model_info.gateway_tier of the twins


def api_key_deployments(config: dict) -> List[dict]:
    """config.yaml's Anthropic deployments on the API-key credential, wildcards left out
    (a `claude-*` route has no fallback chain a twin could join)."""
    return [entry for entry in config.get("model_list") or []
            if isinstance(entry, dict) and "*" not in str(entry.get("model_name", ""))
            and str((entry.get("litellm_params") or {}).get("model", "")).startswith("anthropic/")
            and (entry.get("litellm_params") or {}).get("api_key") == API_KEY_REFERENCE]


def configured_fallbacks(config: dict) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for item in (config.get("router_settings") or {}).get("fallbacks") or []:
        if isinstance(item, dict):
            found.update({str(k): [str(t) for t in v] for k, v in item.items() if isinstance(v, list)})
    return found


def twin(entry: dict) -> dict:
    name = str(entry["model_name"])
    return {"model_name": name + SUFFIX,
            "litellm_params": {**copy.deepcopy(entry["litellm_params"]), "api_key": SUBSCRIPTION_REFERENCE},
            "model_info": {**copy.deepcopy(entry.get("model_info") or {}), "gateway_tier": TIER,
                           "gateway_base": name}}


def tier_additions(config: dict, settings: Settings) -> dict:
    """{"model_list": [...], "fallbacks": [...], "callbacks": [...]}; empty without a token."""
    if not settings.subscription_token:
        return {"model_list": [], "fallbacks": [], "callbacks": []}
    entries = api_key_deployments(config)
    fallbacks = configured_fallbacks(config)
    chains = []
    for name in dict.fromkeys(str(e["model_name"]) for e in entries):
        chain = ([name] if settings.api_key else []) + fallbacks.get(name, [])
        if chain:
            chains.append({name + SUFFIX: chain})
    return {"model_list": [twin(e) for e in entries], "fallbacks": chains, "callbacks": [HOOK]}


def with_tiers(config: dict, settings: Settings) -> dict:
    """A copy of the config with tier_additions merged in."""
    additions = tier_additions(config, settings)
    merged = copy.deepcopy(config)
    if not additions["model_list"] and not additions["callbacks"]:
        return merged
    merged["model_list"] = list(merged.get("model_list") or []) + additions["model_list"]
    router = merged.setdefault("router_settings", {}) or {}
    router["fallbacks"] = list(router.get("fallbacks") or []) + additions["fallbacks"]
    merged["router_settings"] = router
    litellm = merged.setdefault("litellm_settings", {}) or {}
    callbacks = list(litellm.get("callbacks") or [])
    litellm["callbacks"] = callbacks + [c for c in additions["callbacks"] if c not in callbacks]
    merged["litellm_settings"] = litellm
    return merged


def after_bedrock(settings: Settings) -> List[str]:
    """The models CLAUDE_FALLBACK_AFTER_BEDROCK puts after Bedrock (none while .env has an
    error there: `make up` and the models row name it)."""
    try:
        return [spec.alias for spec in settings.fallback_tiers]
    except ToolkitError:
        return []


def tier_paths(settings: Settings) -> Dict[str, List[str]]:
    """The tiers Claude Code's and every other client's requests go through, in order."""
    key = ["API key"] if settings.api_key else []
    last = ["Bedrock", *after_bedrock(settings)]
    return {"Claude Code": (["subscription"] if settings.subscription_token else []) + key + last,
            "other clients": key + last}


def describe_paths(settings: Settings) -> str:
    """One line, as `make health` and `make status` show it."""
    routes = tier_paths(settings)
    if routes["Claude Code"] == routes["other clients"]:
        return f"every client: {' -> '.join(routes['other clients'])}"
    others = " -> ".join(routes["other clients"])
    if not settings.api_key:
        others = ("straight to Bedrock (the subscription token carries Claude Code's requests only; "
                  "ANTHROPIC_API_KEY would put Anthropic first)")
    return f"Claude Code: {' -> '.join(routes['Claude Code'])}; other clients: {others}"
