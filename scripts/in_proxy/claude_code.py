"""Which requests are Claude Code's: the rule that decides who may use the subscription.

A Claude subscription token (CLAUDE_CODE_OAUTH_TOKEN) is for Claude Code; Anthropic
refuses it for other API traffic. The gateway therefore sends a request to the
subscription tier only when it carries everything the real CLI sends, recorded from the
pinned CLI (tests/claude_code_version.txt) by tests/test_claude_code_signature.py:

  1. User-Agent     starts with "claude-cli/"   (e.g. "claude-cli/2.1.197 (external, sdk-cli)")
  2. x-app          is "cli"
  3. anthropic-beta lists "claude-code-20250219"
  4. system         opens with Claude Code's own first block: its attribution line
                    ("x-anthropic-billing-header: cc_version=...; cc_entrypoint=...;")
                    followed by one of its identity lines (IDENTITIES), or the identity
                    line itself (CLAUDE_CODE_ATTRIBUTION_HEADER=0 turns the attribution off)

All four, on the Anthropic route (/v1/messages). Anything else is another client: the
API key, then Bedrock. The gateway only reads these; it never adds, rewrites or forwards
a header or system prompt to make a request pass as Claude Code's.
"""
from typing import Any, Dict, Mapping

USER_AGENT_PREFIX = "claude-cli/"
X_APP = "cli"
BETA_FLAG = "claude-code-20250219"
ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"
IDENTITIES = (
    "You are Claude Code, Anthropic's official CLI for Claude.",
    "You are Claude Code, Anthropic's official CLI for Claude, running within the Claude Agent SDK.",
    "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
)


def _texts(system: Any) -> list:
    if isinstance(system, str):
        return [system]
    if not isinstance(system, list):
        return []
    return [b.get("text") if isinstance(b, dict) and b.get("type") == "text" else None for b in system]


def opens_like_claude_code(system: Any) -> bool:
    texts = _texts(system)
    if texts and isinstance(texts[0], str) and texts[0].startswith(ATTRIBUTION_PREFIX):
        texts = texts[1:]
    return bool(texts) and isinstance(texts[0], str) and texts[0].strip() in IDENTITIES


def signals(headers: Mapping[str, str], body: Mapping[str, Any]) -> Dict[str, bool]:
    """Each part of the rule on its own (for the signature test and for diagnostics)."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    betas = {flag.strip() for flag in lower.get("anthropic-beta", "").split(",")}
    return {"user_agent": lower.get("user-agent", "").startswith(USER_AGENT_PREFIX),
            "x_app": lower.get("x-app", "") == X_APP,
            "beta": BETA_FLAG in betas,
            "system": opens_like_claude_code(body.get("system"))}


def is_claude_code(headers: Mapping[str, str], body: Mapping[str, Any]) -> bool:
    return all(signals(headers, body).values())
