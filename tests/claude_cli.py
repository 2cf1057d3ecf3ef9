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


def run_claude(stack, prompt: str, model: str, workdir: Path) -> list:
    """`claude -p PROMPT --output-format stream-json` through the proxy: its events."""
    home = stack.workdir / "claude-home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TERM": "dumb", "LANG": "C.UTF-8",
           "ANTHROPIC_BASE_URL": stack.base_url, "ANTHROPIC_AUTH_TOKEN": stack.master_key, "ANTHROPIC_MODEL": model,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_MAX_RETRIES": "0"}
    done = subprocess.run([str(claude_binary()), "-p", prompt, "--output-format", "stream-json", "--verbose"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def transcript(events: list) -> str:
    """The conversation as a reader would follow it (printed with -s: the report quotes it)."""
    lines = []
    for event in events:
        if event.get("type") in ("assistant", "user"):
            for block in event["message"]["content"]:
                body = block.get("text") or block.get("input") or block.get("content")
                lines.append(f"{event['type']:>9} {block['type']}: {json.dumps(body)[:160]}")
        elif event.get("type") == "result":
            lines.append(f"   result {event['subtype']}: {event['result']!r}")
    return "\n".join(lines)
