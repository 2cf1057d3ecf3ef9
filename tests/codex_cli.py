"""The real OpenAI Codex CLI for tests: `codex_binary()` (pinned in tests/codex_version.txt,
installed with npm by tests/node_cli.py) and `run()`, one `codex exec --json` against the
proxy as a user configures it: a custom provider in CODEX_HOME/config.toml with
wire_api = "responses", base_url on the proxy and the master key from an env var.
"""
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

from node_cli import installed_binary
from node_cli import pinned_version as _pinned

PACKAGE = "@openai/codex"
KEY_VARIABLE = "GATEWAY_CODEX_KEY"
# Traced with strace on 0.169.0: without [analytics] and [features] below, `codex exec` also
# resolves chatgpt.com (analytics events) and github.com / api.github.com (the plugin
# marketplace sync, a git clone); with them it connects to the proxy and nothing else.
CONFIG = """\
model = "{model}"
model_provider = "gateway"
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false

[model_providers.gateway]
name = "Claude gateway"
base_url = "{base_url}/v1"
env_key = "{key_variable}"
wire_api = "responses"
request_max_retries = {retries}
stream_max_retries = {retries}
"""


def pinned_version() -> str:
    return _pinned("codex_version.txt")


def codex_binary() -> Path:
    """Path of the pinned `codex` executable, installing it when missing."""
    return installed_binary(PACKAGE, pinned_version(), "codex")


@dataclass
class Run:
    """What one `codex exec --json` printed, read from its JSONL events."""
    returncode: int
    events: List[dict] = field(default_factory=list)
    stderr: str = ""

    @property
    def messages(self) -> List[str]:
        return [e["item"]["text"] for e in self.events
                if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]

    @property
    def commands(self) -> List[dict]:
        return [e["item"] for e in self.events
                if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]

    @property
    def completed(self) -> bool:
        return any(e.get("type") == "turn.completed" for e in self.events)

    @property
    def error(self) -> str:
        """The turn's failure (warnings such as unknown model metadata are items, not failures)."""
        failed = [e["error"]["message"] for e in self.events if e.get("type") == "turn.failed"]
        failed += [e["message"] for e in self.events if e.get("type") == "error"]
        if not failed and self.returncode != 0:
            failed = [f"exit {self.returncode}: {self.stderr.strip()[-300:]}"]
        return failed[0] if failed else ""


def write_home(home: Path, base_url: str, model: str, retries: int) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(CONFIG.format(model=model, base_url=base_url, key_variable=KEY_VARIABLE,
                                                    retries=retries))
    return home


def run(binary: Path, base_url: str, key: str, model: str, prompt: str, homes: Path, *, retries: int = 2,
        timeout: float = 150, wrapper: Sequence[str] = ()) -> Run:
    """`codex exec` in a CODEX_HOME of its own (runs overlap), read-only sandbox, no session files.
    `wrapper` goes before the command (e.g. strace)."""
    homes.mkdir(parents=True, exist_ok=True)
    home = write_home(Path(tempfile.mkdtemp(prefix="codex-home-", dir=homes)), base_url, model, retries)
    env: Dict[str, str] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                           "CODEX_HOME": str(home), KEY_VARIABLE: key, "TERM": "dumb"}
    command = [*wrapper, str(binary), "exec", "--json", "--ephemeral", "--skip-git-repo-check",
               "--sandbox", "read-only", prompt]
    proc = subprocess.run(command, cwd=home, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    events = []
    for line in proc.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # not an event (Codex prints only JSONL on stdout with --json)
    return Run(proc.returncode, events, proc.stderr)


def transcript(result: Run, width: int = 160) -> List[str]:
    """One line per event, for reports."""
    return [json.dumps(e)[:width] for e in result.events]

