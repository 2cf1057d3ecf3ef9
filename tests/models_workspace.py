"""Helpers for the model-discovery tests: a directory with its own .env, config.yaml
copy and state, and `python -m scripts.models` run against it as `make` runs it."""
import os
import re
import subprocess
from pathlib import Path
from typing import List

from scripts.core.paths import PROJECT_DIR, venv_bin
from scripts.core.procs import free_port
from scripts.sim.messages import DEFAULT_MODELS
from scripts.sim.sandbox import write_env

ACCESS_KEY = "AKIAMODELSTEST000001"
SECRET_KEY = "models/secret/key/0123456789abcdefghij"
API_KEY = "sk-ant-api03-models-test-key"
NEW_MODEL = "claude-opus-5-20261101"
NEW_BEDROCK = "anthropic.claude-opus-5-20261101-v1:0"
ANTHROPIC_IDS = [NEW_MODEL] + [a for a, _, _ in DEFAULT_MODELS]
BEDROCK_IDS = [NEW_BEDROCK] + [b for _, _, b in DEFAULT_MODELS]
SIM_OPTIONS = dict(bedrock_access_key=ACCESS_KEY, bedrock_secret_key=SECRET_KEY)
MARKER = re.compile(r"^\s*# (>>>|<<<) managed by make update-models: (models|fallbacks) (>>>|<<<)\s*$")


def outside_managed(text: str) -> List[str]:
    """The file's lines outside the managed regions (markers included), in three chunks."""
    lines = text.splitlines(keepends=True)
    marks = [i for i, line in enumerate(lines) if MARKER.match(line)]
    assert len(marks) == 4, marks
    return ["".join(lines[:marks[0] + 1]), "".join(lines[marks[1]:marks[2] + 1]), "".join(lines[marks[3]:])]


class Workspace:
    def __init__(self, root: Path, config_text: str = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "home").mkdir(exist_ok=True)
        self.config = root / "config.yaml"
        self.config.write_bytes((config_text or (PROJECT_DIR / "config.yaml").read_text()).encode())
        self.port = free_port()

    def write_env(self, anthropic_url: str, bedrock_url: str, **values: str) -> None:
        env = {"LITELLM_MASTER_KEY": "sk-models-master-key-0123456789abcdef", "LITELLM_PORT": str(self.port),
               "ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_API_BASE": anthropic_url,
               "AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
               "AWS_ENDPOINT_URL_BEDROCK": bedrock_url, **values}
        write_env(self.root / ".env", {k: v for k, v in env.items() if v is not None})

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_CODE_"))}
        env.update(GATEWAY_ENV_FILE=str(self.root / ".env"), GATEWAY_CONFIG=str(self.config),
                   GATEWAY_STATE_DIR=str(self.root / "state"), GATEWAY_LOG_DIR=str(self.root / "logs"),
                   HOME=str(self.root / "home"), LITELLM_LOCAL_MODEL_COST_MAP="True")
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv_bin("python")), "-m", "scripts.models", *args], cwd=PROJECT_DIR,
                              env=self.env(), capture_output=True, text=True, timeout=240)
