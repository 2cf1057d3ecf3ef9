"""The shell block that sends Claude Code through the proxy: which file each
shell reads, and the block's text (render only; scripts.claude.rcfile writes).

Which variable carries the proxy key, and why ANTHROPIC_AUTH_TOKEN
(measured with Claude Code 2.1.197 and LiteLLM 1.106.2; tests/test_claude_cli.py
runs the real CLI through the real proxy):
- Claude Code sends ANTHROPIC_AUTH_TOKEN as `Authorization: Bearer`, which
  LiteLLM checks before `x-api-key`, so a user's own ANTHROPIC_API_KEY left in
  the environment (sent as x-api-key beside it) cannot shadow the proxy key.
- It wins over a Claude subscription login (/login credentials) and over
  CLAUDE_CODE_OAUTH_TOKEN, in `claude -p` and interactively, without a prompt.
  ANTHROPIC_API_KEY instead makes interactive Claude Code ask "Detected a custom
  API key ... use this API key?" with "No (recommended)" preselected; a
  subscriber who accepts the default goes on with the subscription token,
  which the proxy rejects.
- Exporting ANTHROPIC_API_KEY would also overwrite a key the user exports for
  other tools.
The key itself is never written into an rc file: the block reads
LITELLM_MASTER_KEY from the project's .env each time a shell starts (parsed in
shell code like scripts.core.envfile parses it, never sourced), so rc files stay
shareable and `make generate-key` takes effect in the next shell.

With a custom ANTHROPIC_BASE_URL, Claude Code uses the main model for its small
background tasks unless ANTHROPIC_DEFAULT_HAIKU_MODEL names one; the block sets
it to HAIKU_MODEL (served with Bedrock fallback) unless the user chose one.
"""
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from scripts.core import paths, templates
from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings

SHELLS = ("bash", "zsh", "fish")
HAIKU_MODEL = "claude-haiku-4-5"
TEMPLATE_DIR = paths.PROJECT_DIR / "templates" / "shell"


@dataclass(frozen=True)
class Block:
    shell: str
    rc_path: Path
    body: str


def rc_path(shell: str) -> Path:
    """The startup file an interactive shell of this kind reads."""
    home = Path.home()
    if shell == "bash":
        return home / ".bashrc"
    if shell == "zsh":
        return Path(os.environ.get("ZDOTDIR") or home) / ".zshrc"
    if shell == "fish":
        return Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "fish" / "config.fish"
    raise ToolkitError(f"unsupported shell {shell!r}: choose from {' '.join(SHELLS)}")


def display_path(path: Path) -> str:
    """A path as the user knows it (~/.bashrc)."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def choose_shells(requested: str = "") -> List[str]:
    """Shells from --shells ("zsh bash" or "zsh,bash"), else the login shell ($SHELL)."""
    if requested.strip():
        names = [n for n in re.split(r"[\s,]+", requested.strip()) if n]
    else:
        login = Path(os.environ.get("SHELL", "")).name
        if login not in SHELLS:
            raise ToolkitError(f"cannot tell your shell from SHELL={os.environ.get('SHELL', '')!r}: "
                               f"name it, e.g. `make configure-claude SHELLS=\"zsh bash\"`")
        names = [login]
    unknown = [n for n in names if n not in SHELLS]
    if unknown:
        raise ToolkitError(f"unsupported shell {unknown[0]!r}: use SHELLS with any of {' '.join(SHELLS)}")
    return list(dict.fromkeys(names))


def quote(shell: str, value: str) -> str:
    """A literal string in the shell's own syntax."""
    if "\n" in value or "\r" in value:
        raise ToolkitError(f"path {value!r} contains a line break: move the project to a plain path")
    if shell == "fish":  # inside fish single quotes only \\ and \' are escapes
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return shlex.quote(value)


def substitutions(cfg: Settings) -> Dict[str, str]:
    """Template values (unquoted). The master key is deliberately not one of them."""
    if not cfg.master_key:
        raise ToolkitError("LITELLM_MASTER_KEY is not set in .env: run `make generate-key` first")
    return {
        "ENV_FILE": str(paths.env_file().absolute()),
        "PROXY_URL": cfg.base_url,
        "MODE_FILE": str(paths.claude_mode_file().absolute()),
        "PROJECT_DIR": str(paths.PROJECT_DIR),
    }


def render(shell: str, cfg: Settings) -> Block:
    template = (TEMPLATE_DIR / f"claude.{shell}").read_text(encoding="utf-8")
    values = substitutions(cfg)
    filled = {name: quote(shell, value) for name, value in values.items()}
    filled.update(PROJECT_LABEL=values["PROJECT_DIR"], HAIKU_MODEL=HAIKU_MODEL)  # a comment; a plain word
    return Block(shell, rc_path(shell), templates.fill(template, filled, f"claude.{shell}"))


def read_mode() -> str:
    """'proxy' or 'direct' as the shell block reads it (a missing file means proxy)."""
    try:
        text = paths.claude_mode_file().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return "proxy"
    return "direct" if text == "direct" else "proxy"
