"""What the Bedrock simulator accepts in an InvokeModel body (and in a Converse body once
converse.py has turned it into one), each rule with the public source it comes from;
docs/simulators.md has the table. Rules the sources leave open are switches (rules.py)."""
from typing import Optional

from scripts.sim.messages import BEDROCK_SIGNING_KEY, SIGNING_KEY, claude_version, takes_mid_system, validate_common
from scripts.sim.rules import Rules, effort_problem, refused_beta

# AWS's Messages API page lists the request body's fields; anything else is "extraneous".
INVOKE_KEYS = {"anthropic_version", "anthropic_beta", "max_tokens", "messages", "system",
               "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice",
               "thinking", "metadata"}
# Beta flags Bedrock takes in anthropic_beta. DOCUMENTED_BETAS: the values AWS's Bedrock user
# guide lists for anthropic_beta ("Anthropic Claude Messages API", https://docs.aws.amazon.com/
# bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html, and
# the per-feature pages it links: computer use, tool search, context management, effort).
DOCUMENTED_BETAS = {
    "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24",
    "token-efficient-tools-2025-02-19", "interleaved-thinking-2025-05-14", "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14", "context-1m-2025-08-07", "context-management-2025-06-27",
    "effort-2025-11-24", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29"}
# Flags Claude Code sends that no AWS page lists and no public report shows Bedrock refusing:
# unsettled, accepted (a model-specific refusal is rules.refused_betas, see scripts/sim/rules.py).
# Claude-Code and OAuth flags (claude-code-20250219, oauth-2025-04-20) are API-only: a request
# carrying one gets "invalid beta flag", as the reports quote.
UNSETTLED_BETAS = {
    "fine-grained-tool-streaming-2025-05-14", "structured-outputs-2025-11-13", "compact-2026-01-12",
    "dangerous-tool-use-2026-09-03", "mid-conversation-output-config-2026-07-01",
    "mid-conversation-tool-changes-2026-07-01", "thinking-binding-controls-2026-08-01",
    "thinking-display-updates-2026-08-18"}
BEDROCK_BETAS = DOCUMENTED_BETAS | UNSETTLED_BETAS
# Models whose InvokeModel body may carry output_config (effort, format): the models Anthropic's
# effort and structured outputs pages name (Opus 4.5 and later, Sonnet 4.6 and later); the others
# reject the key like any extraneous one ("extraneous key [...] is not permitted", AWS's wording).
OUTPUT_CONFIG_MODELS = {"claude-opus-4-5-20251101", "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-7",
                        "claude-opus-4-8", "claude-sonnet-5"}
OUTPUT_CONFIG_KEYS = {"effort", "format"}
OUTPUT_CONFIG_SINCE = (4, 6)  # every Claude model released after those takes it too (claude-opus-5-5 ...)


def validate_invoke(body: dict, betas_ok: set, anthropic_id: Optional[str] = None,
                    rules: Optional[Rules] = None) -> Optional[str]:
    rules = rules or Rules()
    output_config_ok = anthropic_id in OUTPUT_CONFIG_MODELS or claude_version(anthropic_id) >= OUTPUT_CONFIG_SINCE
    allowed = INVOKE_KEYS | ({"output_config"} if output_config_ok else set())
    extra = [k for k in body if k not in allowed]
    if extra:
        return (f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted, "
                "please reformat your input and try again.")
    output_config = body.get("output_config", {})
    bad = sorted(set(output_config) - OUTPUT_CONFIG_KEYS) if isinstance(output_config, dict) else ["output_config"]
    if bad:
        return f"output_config.{bad[0]}: Extra inputs are not permitted"
    # AWS's Messages API page: anthropic_version must be bedrock-2023-05-31.
    if body.get("anthropic_version") != "bedrock-2023-05-31":
        return "invalid anthropic_version"
    betas = body.get("anthropic_beta", [])
    if not isinstance(betas, list) or any(b not in betas_ok for b in betas):
        return "invalid beta flag"
    problem = refused_beta(rules, anthropic_id or "", betas) or effort_problem(rules, anthropic_id or "", body)
    if problem:
        return problem
    for key in ("max_tokens", "messages"):
        if key not in body:
            return (f"Malformed input request: #: required key [{key}] not found, "
                    "please reformat your input and try again.")
    # LiteLLM never forwards mid-conversation-system-* to Bedrock; whether Bedrock takes the turns
    # without it is unsettled (rules.mid_system_without_beta).
    mid_system = takes_mid_system(anthropic_id) and rules.mid_system_without_beta
    key = BEDROCK_SIGNING_KEY if rules.signatures == "own" else SIGNING_KEY
    return validate_common(body, mid_system, key)


def too_large(raw: bytes, rules: Rules, path: str) -> Optional[str]:
    """botocore's cap on InvokeModel bodies (rules.BEDROCK_MAX_BODY); Converse has no body blob."""
    if "/invoke" in path and len(raw) > rules.bedrock_max_body:
        return (f"Input is too long: the request body is {len(raw)} bytes, "
                f"more than the {rules.bedrock_max_body} bytes InvokeModel accepts.")
    return None
