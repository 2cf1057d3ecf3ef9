"""The real Claude Code CLI for tests (`claude_binary()`), pinned in
tests/claude_code_version.txt and installed with npm by tests/node_cli.py."""
from pathlib import Path

from node_cli import installed_binary
from node_cli import pinned_version as _pinned

PACKAGE = "@anthropic-ai/claude-code"


def pinned_version() -> str:
    return _pinned("claude_code_version.txt")


def claude_binary() -> Path:
    """Path of the pinned `claude` executable, installing it when missing."""
    return installed_binary(PACKAGE, pinned_version(), "claude")
