"""Acceptance rules the public sources disagree on or do not settle: one switch each.

Each simulator holds a Rules object; tests flip a switch through the control API
(POST /_sim/rules {"name": value}, GET /_sim/rules; SimControl.rules()), /_sim/reset puts
the defaults back. docs/simulators.md lists every rule with its source; the defaults here
follow the source named next to each switch.
"""
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List

from aiohttp import web

# botocore's service model for bedrock-runtime (botocore/data/bedrock-runtime/2023-09-30/
# service-2.json, InvokeModelRequest.body and InvokeModelWithResponseStreamRequest.body:
# blob, max 25000000).
BEDROCK_MAX_BODY = 25_000_000
# Anthropic's API errors page (https://docs.claude.com/en/api/errors, "Request size limits"):
# 413 request_too_large above 32 MB for the Messages API. MB read as 10^6 bytes (unsettled).
ANTHROPIC_MAX_BODY = 32_000_000
# Anthropic's effort parameter (https://docs.claude.com/en/docs/build-with-claude/effort):
# low, medium, high, max, and xhigh (Opus 4.7's level); anything else is a 400.
EFFORT_VALUES = ("low", "medium", "high", "xhigh", "max")


@dataclass
class Rules:
    # Bedrock, beta flags one model refuses although other models take them: {anthropic id: [flag]}.
    # Public reports (Claude Code's issue tracker, April 2026) say Opus 4.7 refused
    # context-management-2025-06-27 and effort-2025-11-24; AWS's model parameters page lists
    # both. Unsettled: empty by default, tests set it.
    refused_betas: Dict[str, List[str]] = field(default_factory=dict)
    # Whether Bedrock's "invalid beta flag" names the flag. The reports quote the bare text
    # ("The model returned the following errors: invalid beta flag"): off by default.
    beta_error_names_flag: bool = False
    # Bedrock, output_config.effort values one model refuses: {anthropic id: [value]}; a report says
    # Opus 4.5 on Bedrock refuses xhigh and max. Unsettled: empty by default.
    refused_efforts: Dict[str, List[str]] = field(default_factory=dict)
    # Thinking signatures: "shared" (one key, a signature from Anthropic verifies on Bedrock) or
    # "own" (Bedrock signs with its own key: a replayed Anthropic signature is refused).
    # Anthropic's extended thinking docs say signatures are compatible across platforms (the
    # Claude API, Bedrock, Vertex AI); nothing on AWS's side confirms it: "shared" by default.
    signatures: str = "shared"
    # Bedrock, a role "system" turn after the first turn on the models that take them
    # (messages.MID_SYSTEM_MODELS) without the mid-conversation-system beta, which LiteLLM does
    # not forward to Bedrock. AWS documents nothing either way: accepted by default.
    mid_system_without_beta: bool = True
    # Largest body accepted (bytes), per the source named at the constants above.
    bedrock_max_body: int = BEDROCK_MAX_BODY
    anthropic_max_body: int = ANTHROPIC_MAX_BODY


def control_routes(rules: Rules) -> list:
    async def set_rules(request: web.Request) -> web.Response:
        try:
            update = await request.json()
            known = {f.name for f in fields(Rules)}
            unknown = sorted(set(update) - known)
            if unknown:
                raise ValueError(f"unknown rule {unknown[0]}: one of {', '.join(sorted(known))}")
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        for name, value in update.items():
            setattr(rules, name, value)
        return web.json_response(asdict(rules))

    async def get_rules(request: web.Request) -> web.Response:
        return web.json_response(asdict(rules))

    return [web.post("/_sim/rules", set_rules), web.get("/_sim/rules", get_rules)]


def reset(rules: Rules) -> None:
    for name, value in asdict(Rules()).items():
        setattr(rules, name, value)


def refused_beta(rules: Rules, anthropic_id: str, betas: list) -> str:
    """The Bedrock error for a flag this model refuses, or ""."""
    refused = [b for b in betas if b in rules.refused_betas.get(anthropic_id, [])]
    if not refused:
        return ""
    return f"invalid beta flag: {refused[0]}" if rules.beta_error_names_flag else "invalid beta flag"


def effort_problem(rules: Rules, anthropic_id: str, body: dict) -> str:
    effort = (body.get("output_config") or {}).get("effort") if isinstance(body.get("output_config"), dict) else None
    if effort is None:
        return ""
    if effort not in EFFORT_VALUES or effort in rules.refused_efforts.get(anthropic_id, []):
        return f"output_config.effort: {effort!r} is not supported for this model"
    return ""
