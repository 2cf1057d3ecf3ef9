"""A throw-away stack: the simulated upstreams and a real LiteLLM proxy, started
with `python -m scripts.proxy up` from the project's own config.yaml exactly as
`make up` does, with its .env, state and logs in a directory of its own.

Used by `make demo`, `make bench` and the end-to-end tests; it never reads or
writes the user's .env and never touches a proxy the user already runs."""
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Optional

from scripts.core.paths import PROJECT_DIR, venv_bin
from scripts.core.procs import free_port
from scripts.core.settings import NO_DOTENV
from scripts.sim.faults import SimControl

MASTER_KEY = "sk-e2e-master-key-0123456789abcdef"
API_KEY = "sk-ant-api03-e2e-key-0123456789"
OAUTH_TOKEN = "sk-ant-oat01-e2e-token-0123456789"
AWS_ACCESS_KEY = "AKIAE2ETEST000000001"
AWS_SECRET_KEY = "e2e/secret/key/0123456789abcdefghijklmn"
ZAI_KEY = "zai-e2e-key-0123456789abcdef"  # the only key the OpenAI-compatible simulator accepts
TIER_MODEL = "glm-4.6"
PYTHON = str(venv_bin("python"))


@dataclass
class Simulators:
    process: subprocess.Popen
    anthropic_url: str
    bedrock_url: str
    urls: Dict[str, str] = field(default_factory=dict)  # every simulator's, optional ones included

    @property
    def anthropic(self) -> SimControl:
        return SimControl(self.anthropic_url)

    @property
    def bedrock(self) -> SimControl:
        return SimControl(self.bedrock_url)

    @property
    def openai_url(self) -> str:
        """The OpenAI-compatible API (Z.AI shape): a tier after Bedrock."""
        return self.urls["openai"]

    @property
    def zai_base(self) -> str:
        """What LiteLLM's zai/ provider takes as api_base (it appends /chat/completions)."""
        return self.openai_url + "/api/paas/v4"

    @property
    def openai(self) -> SimControl:
        return SimControl(self.openai_url)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_simulators(extra_args: Iterable[str] = ()) -> Simulators:
    command = [PYTHON, "-m", "scripts.simulators", "--anthropic-port", "0", "--bedrock-port", "0",
               "--bedrock-access-key", AWS_ACCESS_KEY, "--bedrock-secret-key", AWS_SECRET_KEY,
               "--openai-port", "0", "--openai-api-key", ZAI_KEY, *extra_args]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # the READY line, or EOF when it failed
    if not line.startswith("SIMULATORS READY"):
        process.kill()
        raise RuntimeError(f"simulators did not start: {line!r}")
    urls = dict(part.split("=", 1) for part in line.split()[2:])
    return Simulators(process, urls["anthropic"], urls["bedrock"], urls)


@dataclass
class Stack:
    workdir: Path
    sims: Simulators
    env: Dict[str, str]
    port: int
    master_key: str = MASTER_KEY
    logs: Dict[str, str] = field(default_factory=dict)
    owns_sims: bool = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The proxy's log (GATEWAY_LOG_DIR of the stack's environment)."""
        return Path(self.env["GATEWAY_LOG_DIR"]) / "proxy.log"

    def script(self, module: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run `python -m scripts.<module>` as the Makefile does, with this stack's .env."""
        return subprocess.run([PYTHON, "-m", f"scripts.{module}", *args], cwd=PROJECT_DIR, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def reset(self) -> None:
        self.sims.anthropic.reset()
        self.sims.bedrock.reset()
        self.sims.openai.reset()

    def primary_calls(self, model: Optional[str] = None) -> list:
        return [r for r in self.sims.anthropic.requests()
                if r["path"].startswith("/v1/messages") and (model is None or model in (r.get("model") or ""))]

    def fallback_calls(self, model: Optional[str] = None) -> list:
        return [r for r in self.sims.bedrock.requests()
                if r["path"].startswith("/model/") and (model is None or model in (r.get("model") or ""))]

    def stop(self) -> None:
        down = self.script("proxy", "down")
        self.logs["down"] = down.stdout + down.stderr
        if self.owns_sims:
            self.sims.stop()


def tier_dotenv(sims: Simulators) -> Dict[str, str]:
    """.env lines for one env-defined model on the OpenAI-compatible simulator, tried after
    Bedrock (start_stack's env_values)."""
    return {"PROXY_MODEL_KEYS": "glm", "MODEL_GLM_ALIAS": TIER_MODEL, "MODEL_GLM_UPSTREAM_MODEL": f"zai/{TIER_MODEL}",
            "MODEL_GLM_API_BASE": sims.zai_base, "MODEL_GLM_API_KEY": ZAI_KEY,
            "CLAUDE_FALLBACK_AFTER_BEDROCK": "glm"}


def write_env(path: Path, values: Dict[str, str]) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)


CREDENTIALS = {"api_key": ("ANTHROPIC_API_KEY", API_KEY), "token": ("CLAUDE_CODE_OAUTH_TOKEN", OAUTH_TOKEN)}


def start_stack(workdir: Path, *, credentials: Iterable[str] = ("api_key",), sim_args: Iterable[str] = (),
                extra_env: Optional[Dict[str, str]] = None, anthropic_base: Optional[str] = None,
                sims: Optional[Simulators] = None, env_values: Optional[Dict[str, str]] = None,
                shared_sims: Optional[Simulators] = None) -> Stack:
    """Simulators + a proxy started by `scripts.proxy up`; call .stop() when done.

    credentials: which Anthropic credentials the .env holds ("api_key", "token": the
    subscription token). anthropic_base: ANTHROPIC_API_BASE for the .env instead of the
    simulator (e.g. a closed port, for "connection refused"); the .env wins over extra_env
    for that variable. sims: simulators already running (the stack then owns them),
    instead of new ones. env_values: more .env lines (provider settings the proxy reads,
    which only .env passes to it: the proxy's environment is sealed from the calling shell).
    shared_sims: simulators another stack started and stops (two proxy instances in front of
    the same upstreams)."""
    workdir.mkdir(parents=True, exist_ok=True)
    sims = shared_sims or sims
    sims = sims or start_simulators(sim_args)
    port = free_port()
    dotenv = {
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "LITELLM_PORT": str(port),
        "ANTHROPIC_API_BASE": anthropic_base or sims.anthropic_url,
        "AWS_BEDROCK_RUNTIME_ENDPOINT": sims.bedrock_url,
        "AWS_ENDPOINT_URL_BEDROCK": sims.bedrock_url,  # the control plane, for `make health`
        "AWS_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET_KEY,
        **dict(CREDENTIALS[name] for name in credentials),
        **(env_values or {}),
    }
    write_env(workdir / ".env", dotenv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_CODE_"))}
    env.update({
        "GATEWAY_ENV_FILE": str(workdir / ".env"),
        "GATEWAY_STATE_DIR": str(workdir / "state"),
        "GATEWAY_LOG_DIR": str(workdir / "logs"),
        "HOME": str(workdir / "home"),
        **(extra_env or {}),
        **NO_DOTENV,  # every process of the stack ignores the project's .env (LiteLLM would load it)
    })
    stack = Stack(workdir, sims, env, port, owns_sims=not shared_sims)
    started = time.monotonic()
    up = stack.script("proxy", "up")
    stack.logs["up"] = up.stdout + up.stderr
    stack.logs["start_seconds"] = f"{time.monotonic() - started:.1f}"
    if up.returncode != 0:
        if not shared_sims:
            sims.stop()
        raise RuntimeError(f"proxy did not start:\n{up.stdout}\n{up.stderr}")
    return stack
