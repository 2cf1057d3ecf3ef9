"""The per-request tier decision, pure: which model group a request goes to.

Routes is read once from the router's model list and fallbacks (credential_hooks.py); route()
then decides per request, from the requested model name and whether the request is
Claude Code's (claude_code.py):

- Claude Code, model with a subscription twin: the twin (its fallbacks: API key, Bedrock).
- Anyone else naming a twin directly: refused (403), no upstream call.
- Another client when no API key is set (token only): the model's first fallback
  (its Bedrock twin); refused when it has none, since the token is not theirs to use.
- Everything else: unchanged, as without a subscription.
"""
import fnmatch
import os
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from scripts.gateway import credential_tiers


@dataclass(frozen=True)
class Routes:
    twins: Dict[str, str]                 # model name -> its subscription twin
    anthropic_names: FrozenSet[str]       # names served by Anthropic on the API key (wildcards too)
    fallbacks: Dict[str, List[str]]
    api_key_tier: bool

    @property
    def twin_names(self) -> FrozenSet[str]:
        return frozenset(self.twins.values())

    def is_anthropic(self, model: str) -> bool:
        return model in self.anthropic_names or any(
            "*" in name and fnmatch.fnmatchcase(model, name) for name in self.anthropic_names)


class Decision(NamedTuple):
    model: str
    refusal: Optional[str] = None  # a 403 message instead of any upstream call


def routes_of(model_list: Iterable[Mapping], fallbacks: Iterable, api_key_tier: bool) -> Routes:
    twins: Dict[str, str] = {}
    anthropic = set()
    for deployment in model_list:
        info = deployment.get("model_info") or {}
        name = str(deployment.get("model_name", ""))
        if info.get("gateway_tier") == credential_tiers.TIER:
            twins[str(info.get("gateway_base"))] = name
        elif str((deployment.get("litellm_params") or {}).get("model", "")).startswith("anthropic/"):
            anthropic.add(name)
    chains = {str(k): [str(t) for t in v] for item in fallbacks or [] if isinstance(item, dict)
              for k, v in item.items() if isinstance(v, list)}
    return Routes(twins, frozenset(anthropic), chains, api_key_tier)


def routes_of_router(router: Any) -> Routes:
    """The Routes of LiteLLM's running router; an API key tier exists when the proxy has the key."""
    return routes_of(router.model_list, router.fallbacks or [], api_key_tier=bool(os.environ.get(credential_tiers.API_KEY_VARIABLE)))


def count_tokens_refusal(routes: Routes, body: Mapping[str, Any], from_claude_code: bool) -> Optional[str]:
    """/v1/messages/count_tokens runs no pre-call hook (LiteLLM counts through the named
    deployment directly): the 403 message when another client than Claude Code names a
    subscription twin there, else None (every other count goes where LiteLLM sends it)."""
    model = body.get("model")
    if not isinstance(model, str) or model not in routes.twin_names:
        return None
    return route(routes, model, from_claude_code).refusal


def route(routes: Routes, model: str, claude_code: bool) -> Decision:
    if model in routes.twin_names:
        if claude_code:
            return Decision(model)
        base = next(b for b, t in routes.twins.items() if t == model)
        return Decision(model, f"{model} is the Claude subscription, which carries Claude Code's requests only: "
                               f"ask for {base}")
    if claude_code and model in routes.twins:
        return Decision(routes.twins[model])
    if routes.api_key_tier or not routes.is_anthropic(model):
        return Decision(model)
    if claude_code:
        return Decision(model, f"{model} has no subscription tier (`make update-models` lists new models) and no "
                               "ANTHROPIC_API_KEY is set in .env")
    chain = routes.fallbacks.get(model) or []
    if chain:
        return Decision(chain[0])
    return Decision(model, f"{model} has no Bedrock fallback, and only CLAUDE_CODE_OAUTH_TOKEN is set, which "
                           "carries Claude Code's requests only: set ANTHROPIC_API_KEY in .env, or use a model "
                           "with a Bedrock fallback (`make show-models`)")


def subscription_deployments(model_list: Iterable[Mapping]) -> List[Tuple[str, str]]:
    """(deployment id, provider model) of every subscription twin."""
    return [(str((d.get("model_info") or {}).get("id")), str((d.get("litellm_params") or {}).get("model", "")))
            for d in model_list if (d.get("model_info") or {}).get("gateway_tier") == credential_tiers.TIER]
