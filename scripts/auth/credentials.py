"""Every credential the toolkit uses, one line each, for `make auth-status` and the
credential rows of `make status`: kind, where it comes from, expiry where knowable.
Secrets are masked; nothing here calls a provider (status stays well under a second)."""
import datetime as dt
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from scripts.auth import tokens
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.services import sso_profile
from scripts.services.state import aws_login_summary

# The standard variables LiteLLM reads for the providers the toolkit documents.
PROVIDER_KEYS = ("OPENAI_API_KEY", "ZAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY")
WIDTH = 14


def row(label: str, value: str) -> str:
    return f"{label:<{WIDTH}} {value}"


NO_ANTHROPIC = "no credential: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in .env"


def anthropic_text(cfg: settings_mod.Settings) -> str:
    """Both Anthropic credentials on one line (make status)."""
    if not cfg.api_key and not cfg.subscription_token:
        return NO_ANTHROPIC
    parts = [f"api-key {settings_mod.mask(cfg.api_key)}"] if cfg.api_key else []
    if cfg.subscription_token:
        parts.append(f"oauth-token {settings_mod.mask(cfg.subscription_token)}, {oauth_expiry(cfg.subscription_token)}")
    return "; ".join(parts)


def oauth_expiry(token: Optional[str]) -> str:
    """Claude Code's own credentials file knows the expiry when the token came from there."""
    try:
        oauth = json.loads((Path.home() / ".claude" / ".credentials.json").read_text())["claudeAiOauth"]
        if oauth.get("accessToken") == token and oauth.get("expiresAt"):
            expiry = dt.datetime.fromtimestamp(int(oauth["expiresAt"]) / 1000, dt.timezone.utc)
            return sso_profile.describe_remaining(expiry)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not Claude Code's token, or no readable credentials file: say so below
    return "expiry unknown (`claude setup-token` tokens last a year)"


def anthropic_rows(cfg: settings_mod.Settings) -> List[str]:
    """Each Anthropic credential with its expiry (make auth-status): the token carries
    Claude Code's own requests, the key everything else (scripts/gateway/credential_tiers.py)."""
    key, token = cfg.api_key, cfg.subscription_token
    if token:
        rows = [row("Anthropic", f"oauth-token {settings_mod.mask(token)}, {oauth_expiry(token)}")]
        return rows + ([row("", f"api-key {settings_mod.mask(key)} as well, no expiry")] if key else [])
    return [row("Anthropic", f"api-key {settings_mod.mask(key)}, no expiry" if key else NO_ANTHROPIC)]


def login_rows(everything: bool) -> List[str]:
    """ChatGPT and Copilot device logins; without `everything`, only those that exist."""
    found = [tokens.current(p) for p in (tokens.CHATGPT, tokens.COPILOT)]
    return [row(tokens.LABELS[login.provider], login.text) for login in found if everything or login.state != "none"]


def _source(cfg: settings_mod.Settings, name: str) -> Optional[str]:
    if cfg.get(name):
        return ".env"
    return "shell" if os.environ.get(name) else None


def provider_key_rows(cfg: settings_mod.Settings) -> List[str]:
    """Provider API keys the proxy would get (.env wins, then the shell), masked."""
    rows, unset, names = [], [], list(PROVIDER_KEYS)
    try:  # the settings' own parse of PROXY_MODEL_KEYS, so this report and the proxy agree
        names += [spec.prefix + "API_KEY" for spec in cfg.model_specs]
    except ToolkitError as exc:  # a bad env-defined model: the other credentials still matter here
        rows.append(row("API key", f"env-defined models unreadable: {exc}"))
    for name in names:
        source = _source(cfg, name)
        if source is None:
            unset.append(name)
            continue
        value = cfg.get(name) or os.environ.get(name)
        rows.append(row("API key", f"{name} {settings_mod.mask(value)} ({source})"))
    if unset:
        rows.append(row("API key", "not set: " + ", ".join(unset)))
    return rows


def all_rows(cfg: settings_mod.Settings) -> List[str]:
    key = cfg.master_key
    proxy_key = (f"LITELLM_MASTER_KEY {settings_mod.mask(key)} (.env): what clients send to this proxy" if key
                 else "LITELLM_MASTER_KEY not set: `make generate-key`")
    return ([row("proxy key", proxy_key)] + anthropic_rows(cfg) + [row("AWS", aws_login_summary(cfg))]
            + login_rows(everything=True) + provider_key_rows(cfg))


def login_health(deployments: Dict[str, List[str]], served: List[str]) -> List[Tuple[str, bool]]:
    """(line, healthy) per login that exists or that config.yaml's models need. LiteLLM
    1.106.2 drops a chatgpt/ or github_copilot/ deployment it cannot log in when the proxy
    starts (router: "Error creating deployment"), so a name configured but not served means
    the login was missing or refused at start."""
    lines = []
    for provider in (tokens.CHATGPT, tokens.COPILOT):
        login = tokens.current(provider)
        names = [name for name, models in deployments.items() if any(m.startswith(provider + "/") for m in models)]
        if login.state == "none" and not names:
            continue
        label = tokens.LABELS[provider]
        dropped = [name for name in names if name not in served]
        if dropped:
            fix = f"`{tokens.LOGIN_TARGETS[provider]}`, then `make restart`" if login.state != "refused" else \
                f"`{tokens.LOGIN_TARGETS[provider]}`"
            lines.append((f"{label}: {', '.join(dropped)} not served (no usable login when the proxy started): "
                          f"{fix}", False))
        lines.append((f"{label}: {login.text}", login.usable or (login.state == "none" and not names)))
    return lines
