"""Claude Code's status line setting: configure-claude points it at `claude-gateway statusline`
only where the user has none of their own; remove-claude takes out only ours.

Claude Code reads `"statusLine": {"type": "command", "command": "..."}` from its user settings
(~/.claude/settings.json, or $CLAUDE_CONFIG_DIR/settings.json) and runs the command with the
session's JSON on stdin (docs.claude.com/en/docs/claude-code/statusline). Every other key of
the file is kept as it was (same order; rewritten atomically with its mode); a file that is not
a JSON object is refused before anything is written.
"""
import json
import shlex
from pathlib import Path
from typing import Optional, Tuple

from scripts.claude.blocks import display_path
from scripts.core import files, paths
from scripts.core.errors import ToolkitError

KEY = "statusLine"
SUBCOMMAND = "statusline"


def command() -> str:
    """What Claude Code runs (through a shell, so the launcher's path is quoted)."""
    return f"{shlex.quote(str(paths.launcher_file()))} {SUBCOMMAND}"


def is_ours(value: object) -> bool:
    """A status line that runs some claude-gateway launcher's `statusline` (any checkout's)."""
    if not isinstance(value, dict) or value.get("type") != "command":
        return False
    words = str(value.get("command", "")).split()
    return len(words) == 2 and words[1] == SUBCOMMAND and words[0].strip("'\"").endswith("/claude-gateway")


def _read(path: Path) -> Optional[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolkitError(f"cannot read {path}: {exc.strerror}: fix that file, then run again") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ToolkitError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}): fix it (Claude Code cannot "
                           "read it either), then run again; nothing was written") from None
    if not isinstance(data, dict):
        raise ToolkitError(f"{path} holds no JSON object: fix it, then run again; nothing was written")
    return data


def _write(path: Path, data: dict) -> None:
    try:
        files.write_atomic(path, json.dumps(data, indent=2) + "\n")  # an existing file keeps its mode
    except OSError as exc:
        raise ToolkitError(f"cannot write {path}: {exc.strerror} ({path} is unchanged): fix its permissions, "
                           "then run again") from None


def plan_install() -> Tuple[str, Optional[dict]]:
    """(what happens: added | ours | theirs | no-launcher, the new settings or None); writes nothing."""
    path = paths.claude_settings_file()
    data = _read(path)
    current = (data or {}).get(KEY)
    if current is not None:
        return ("ours" if is_ours(current) else "theirs"), None
    if not paths.launcher_file().exists():
        return "no-launcher", None
    return "added", {**(data or {}), KEY: {"type": "command", "command": command(), "padding": 0}}


def install(dry_run: bool) -> str:
    path = paths.claude_settings_file()
    where = display_path(path)
    outcome, new = plan_install()
    if outcome == "theirs":
        return f">> {where}: you have a status line of your own: kept (`claude-gateway statusline` can go in it)"
    if outcome == "ours":
        return f">> {where}: the claude-gateway status line is already set"
    if outcome == "no-launcher":
        return f">> no status line set: {paths.launcher_file()} is missing (`make install` writes it)"
    if dry_run:
        return f"Would write {where} (statusLine: {command()})"
    _write(path, new or {})
    return f">> {where}: Claude Code's status line shows who answers (`claude-gateway statusline`)"


def remove(dry_run: bool) -> Optional[str]:
    """Take our statusLine out; another status line is never touched. None when there was none of ours."""
    path = paths.claude_settings_file()
    data = _read(path)
    if not data or not is_ours(data.get(KEY)):
        return None
    if dry_run:
        return f"Would write {display_path(path)} (remove the claude-gateway statusLine)"
    _write(path, {k: v for k, v in data.items() if k != KEY})
    return f">> {display_path(path)}: removed the claude-gateway status line; your other settings are as they were"


def describe() -> str:
    """One line for `make show-claude`: whose status line Claude Code shows."""
    path = paths.claude_settings_file()
    try:
        current = (_read(path) or {}).get(KEY)
    except ToolkitError as exc:
        return str(exc)
    if current is None:
        return f"none in {display_path(path)} (`make configure-claude` adds claude-gateway's)"
    if is_ours(current):
        return f"claude-gateway's ({display_path(path)}: {current.get('command')})"
    return f"your own ({display_path(path)}); `claude-gateway statusline` can go in it"
