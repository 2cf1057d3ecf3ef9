"""What a Bedrock 400 says it refused, and how to send the request without it
(scripts/in_proxy/feature_drop.py). Standard library only.

Features: "beta:<flag>" (one anthropic_beta flag), ALL_BETAS (a bare "invalid beta flag": all
the client's flags), EFFORT (output_config.effort). LiteLLM adds some flags itself from the
request's parameters (effort-2025-11-24 for output_config.effort, context-management-2025-06-27
for context_management), so dropping such a flag drops its parameter too.
"""
import re
from typing import List, Set

ALL_BETAS, EFFORT = "beta:*", "effort"
NAMED_BETA = re.compile(r"invalid beta flag:?\s*([a-z0-9][a-z0-9-]*\d)", re.I)
BARE_BETA = re.compile(r"invalid beta flag", re.I)
REFUSED_EFFORT = re.compile(r"effort", re.I)
# Flags LiteLLM derives from a parameter: (parameter, key inside it or None for the whole parameter).
PARAMETER_OF = {"effort-2025-11-24": ("output_config", "effort"),
                "context-management-2025-06-27": ("context_management", None)}
HEADER_KEYS = ("headers", "extra_headers")
# Where LiteLLM's proxy puts the client's anthropic-beta header for the upstream call
# (litellm/proxy/litellm_pre_call_utils.py, add_provider_specific_headers_to_request).
SCOPED_HEADERS = "provider_specific_header"


def learned_from(detail: str) -> Set[str]:
    named = NAMED_BETA.search(detail)
    if named:
        return {"beta:" + named.group(1)}
    if BARE_BETA.search(detail):
        return {ALL_BETAS}
    if REFUSED_EFFORT.search(detail) and "output_config" in detail:
        return {EFFORT}
    return set()


def _drop_parameter(kwargs: dict, parameter: str, key) -> bool:
    value = kwargs.get(parameter)
    if key is None:
        return kwargs.pop(parameter, None) is not None
    if isinstance(value, dict) and key in value:
        rest = {k: v for k, v in value.items() if k != key}
        if rest:
            kwargs[parameter] = rest
        else:
            kwargs.pop(parameter)
        return True
    return False


def _client_betas(kwargs: dict) -> List[tuple]:
    """(headers dict, header name, flags) for every anthropic-beta header the attempt carries."""
    found = []
    scoped = kwargs.get(SCOPED_HEADERS)
    scoped = scoped if isinstance(scoped, list) else [scoped]
    places = [kwargs.get(name) for name in HEADER_KEYS] + [s.get("extra_headers") for s in scoped if isinstance(s, dict)]
    for headers in places:
        if isinstance(headers, dict):
            found += [(headers, key, [b.strip() for b in str(value).split(",") if b.strip()])
                      for key, value in headers.items() if key.lower() == "anthropic-beta"]
    return found


def _drop_betas(kwargs: dict, refused: Set[str]) -> List[str]:
    dropped = []
    for headers, key, flags in _client_betas(kwargs):
        kept = [b for b in flags if not (ALL_BETAS in refused or "beta:" + b in refused)]
        dropped += [b for b in flags if b not in kept]
        if kept:
            headers[key] = ",".join(kept)
        else:
            del headers[key]
    return dropped


def strip(kwargs: dict, refused: Set[str]) -> List[str]:
    """Remove the refused features from an attempt's kwargs (in place); the names of those removed."""
    if not refused:
        return []
    dropped = _drop_betas(kwargs, refused)
    for flag, (parameter, key) in PARAMETER_OF.items():
        if ("beta:" + flag in refused or ALL_BETAS in refused) and _drop_parameter(kwargs, parameter, key):
            dropped.append(flag if key is None else f"{parameter}.{key}")
    if EFFORT in refused and _drop_parameter(kwargs, "output_config", "effort"):
        dropped.append("output_config.effort")
    return sorted(set(dropped))
