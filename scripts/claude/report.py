"""`make show-claude`: which startup files have the block (and whether it is
current), the proxy/direct mode, and what the calling shell actually exports."""
import os
from pathlib import Path
from typing import List, Optional

from scripts.claude import blocks as claude_blocks
from scripts.claude import rcfile
from scripts.claude.blocks import SHELLS
from scripts.claude.blocks import display_path as _home
from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.core.http import is_live

SHOWN_VARIABLES = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY",
                   "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_MODEL")
SECRETS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")


def _settings() -> Optional[settings_mod.Settings]:
    try:
        return settings_mod.load(validate=False)
    except ToolkitError:
        return None


def block_state(shell: str, cfg: Optional[settings_mod.Settings]) -> str:
    path = claude_blocks.rc_path(shell)
    text = rcfile.read_text(path)
    if text is None:
        return "no such file"
    try:
        span = rcfile.find_block(text, path)
    except ToolkitError as exc:
        return f"DAMAGED: {exc}"
    if span is None:
        return "no block"
    line = text[:span[0]].count("\n") + 1
    if cfg is None or not cfg.master_key:
        return f"block at line {line} (cannot compare: no usable .env)"
    fresh = rcfile.block_text(claude_blocks.render(shell, cfg).body, rcfile.RestoreInfo())
    current = _body_of(text[span[0]:span[1]]) == _body_of(fresh)
    status = "up to date" if current else "outdated: run `make update-claude`"
    return f"block at line {line}, {status}"


def _body_of(block: str) -> str:
    """A block without its marker and restore-info lines, for comparing."""
    return "\n".join(l for l in block.splitlines()
                     if l.strip() not in (rcfile.BEGIN, rcfile.END) and not l.startswith(rcfile.RESTORE_PREFIX))


def _value(name: str, cfg: Optional[settings_mod.Settings]) -> str:
    value = os.environ.get(name)
    if value is None:
        return "(not set)"
    if name not in SECRETS:
        return value
    shown = settings_mod.mask(value)
    if cfg and cfg.master_key:
        shown += "  (the proxy key from .env)" if value == cfg.master_key else "  (not the proxy key in .env)"
    return shown


def verdict(cfg: Optional[settings_mod.Settings]) -> str:
    """Where `claude` started from this shell would send its requests."""
    base = os.environ.get("ANTHROPIC_BASE_URL")
    token = os.environ.get("ANTHROPIC_AUTH_TOKEN")
    if not base:
        return "claude goes directly to the Anthropic API (no ANTHROPIC_BASE_URL)"
    if cfg and base.rstrip("/") != cfg.base_url:
        return f"claude goes to {base}, which is not this proxy ({cfg.base_url})"
    if cfg and token != cfg.master_key:
        return ("claude reaches the proxy without its key (ANTHROPIC_AUTH_TOKEN is not the .env key): "
                "open a new shell")
    return "claude goes through this proxy"


def describe() -> List[str]:
    cfg = _settings()
    mode = claude_blocks.read_mode()
    mode_file = paths.claude_mode_file()
    lines = [f"mode          {mode}  ({_home(mode_file)}{'' if mode_file.exists() else ', not written yet'}; "
             "`make toggle-claude` switches new shells)"]
    for shell in SHELLS:
        lines.append(f"{shell:<13} {_home(claude_blocks.rc_path(shell)):<30} {block_state(shell, cfg)}")
    lines.append(f"this shell's environment (login shell {Path(os.environ.get('SHELL', '?')).name}):")
    lines += [f"  {name:<30} {_value(name, cfg)}" for name in SHOWN_VARIABLES]
    lines.append(f"  => {verdict(cfg)}")
    if os.environ.get("ANTHROPIC_BASE_URL") and mode == "direct":
        lines.append("  note: mode is direct but this shell still points at a proxy: open a new shell")
    if cfg is None:
        lines.append(f"proxy         unknown: no .env at {paths.env_file()} (`cp .env.template .env`)")
    else:
        state = "answering" if is_live(cfg.base_url) else "not running (`make up`, or use `claude-proxy`)"
        lines.append(f"proxy         {cfg.base_url} {state}")
    return lines
