"""The real Claude Code CLI for tests (`claude_binary()`), pinned in
tests/claude_code_version.txt and installed with npm by tests/node_cli.py."""
import json
import os
import subprocess
from pathlib import Path

from node_cli import installed_binary
from node_cli import pinned_version as _pinned

PACKAGE = "@anthropic-ai/claude-code"


def pinned_version() -> str:
    return _pinned("claude_code_version.txt")


def claude_binary() -> Path:
    """Path of the pinned `claude` executable, installing it when missing."""
    return installed_binary(PACKAGE, pinned_version(), "claude")


def run_print(binary: Path, base_url: str, proxy_key: str, home: Path, model: str, timeout: float = 180) -> dict:
    """`claude -p "say hi"` through a proxy the way the shell block configures it
    (ANTHROPIC_AUTH_TOKEN = the proxy key): its JSON result, which must not be an error."""
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "TERM": "dumb", "ANTHROPIC_BASE_URL": base_url,
           "ANTHROPIC_AUTH_TOKEN": proxy_key, "ANTHROPIC_MODEL": model, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    done = subprocess.run([str(binary), "-p", "say hi", "--output-format", "json"], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"claude -p exited {done.returncode} without JSON: {done.stderr[-1000:]}") from None
    assert done.returncode == 0 and not result.get("is_error"), done.stdout + done.stderr[-1000:]
    return result
