"""The effective settings: the project's .env, checked, with safe defaults.

.env wins over the calling shell for every toolkit variable. That matters: after
`make configure-claude` the user's shell exports ANTHROPIC_BASE_URL (this proxy)
and the master key as a client credential, and neither may leak into the proxy.
"""
import ipaddress
import os
from dataclasses import dataclass
from typing import Dict, Optional

from scripts.core import envfile, paths
from scripts.core.errors import ToolkitError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 47000
ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"

# Only ever read from .env, never inherited from the shell (see module doc).
FILE_ONLY = ("LITELLM_MASTER_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
# Read from .env, else from the shell (the standard AWS chain and overrides).
FILE_OR_SHELL = (
    "LITELLM_HOST", "LITELLM_PORT", "AWS_PROFILE", "AWS_REGION",
    "ANTHROPIC_API_BASE", "AWS_BEDROCK_RUNTIME_ENDPOINT",
)
# Variables LiteLLM itself would pick up from the environment; the proxy's
# environment is scrubbed of them so only what .env says reaches it.
SCRUBBED_FROM_PROXY = (
    "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY",
    "ANTHROPIC_API_BASE", "CLAUDE_CODE_OAUTH_TOKEN", "LITELLM_MASTER_KEY",
    "AWS_BEDROCK_RUNTIME_ENDPOINT", "OLLAMA_ALLOW_KEYLESS",
)
# Opt-in: Ollama routes answer loopback clients that send no key (scripts/gateway/format_routes.py).
# Read from .env only, so no shell export can switch authentication off.
OLLAMA_KEYLESS = "OLLAMA_ALLOW_KEYLESS"
TRUE_WORDS = ("1", "true", "yes", "on")


def flag(value: Optional[str]) -> bool:
    """A yes/no setting: 1, true, yes or on (any case) mean yes; anything else no."""
    return (value or "").strip().lower() in TRUE_WORDS


def mask(secret: Optional[str]) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if not secret:
        return "(not set)"
    if len(secret) < 16:
        return "*" * 4
    return f"{secret[:6]}...{secret[-4:]}"


@dataclass(frozen=True)
class Settings:
    values: Dict[str, str]

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key) or None

    @property
    def host(self) -> str:
        return self.get("LITELLM_HOST") or DEFAULT_HOST

    @property
    def port(self) -> int:
        raw = self.get("LITELLM_PORT")
        if raw is None:
            return DEFAULT_PORT
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ToolkitError(f"LITELLM_PORT={raw!r} in .env is not a port number: use e.g. {DEFAULT_PORT}")
        return int(raw)

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def master_key(self) -> Optional[str]:
        return self.get("LITELLM_MASTER_KEY")

    @property
    def anthropic_credential(self) -> Optional[str]:
        """The credential the primary uses: the subscription OAuth token when set
        (it spends the subscription, not API credit), else the API key."""
        return self.get("CLAUDE_CODE_OAUTH_TOKEN") or self.get("ANTHROPIC_API_KEY")

    @property
    def anthropic_credential_kind(self) -> str:
        if self.get("CLAUDE_CODE_OAUTH_TOKEN"):
            return "oauth-token"
        return "api-key" if self.get("ANTHROPIC_API_KEY") else "none"

    @property
    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    @property
    def ollama_keyless(self) -> bool:
        return flag(self.get(OLLAMA_KEYLESS))

    def check_keyless_bind(self) -> None:
        """Key-less Ollama routes are for this machine only: never on a reachable address."""
        if self.ollama_keyless and not self.is_loopback:
            raise ToolkitError(f"{OLLAMA_KEYLESS} needs a loopback LITELLM_HOST (now {self.host}): "
                               f"remove {OLLAMA_KEYLESS} from .env or set LITELLM_HOST=127.0.0.1")

    def validate(self) -> "Settings":
        """Check what the proxy cannot start without; each error names the fix."""
        key = self.master_key
        if not key:
            raise ToolkitError("LITELLM_MASTER_KEY is not set in .env: run `make generate-key`")
        if not key.startswith("sk-"):
            raise ToolkitError("LITELLM_MASTER_KEY must start with 'sk-' (LiteLLM requires it): run `make generate-key`")
        if not self.anthropic_credential:
            raise ToolkitError("no Anthropic credential in .env: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN")
        self.port  # raises on a bad port
        return self


def load(validate: bool = True) -> Settings:
    """Settings from .env (required) and, for non-secrets, the shell."""
    file_values = envfile.read(paths.env_file())
    values = {k: v for k, v in file_values.items() if v != ""}
    for key in FILE_OR_SHELL:
        if key not in values and os.environ.get(key):
            values[key] = os.environ[key]
    settings = Settings(values)
    return settings.validate() if validate else settings


def proxy_environment(settings: Settings) -> Dict[str, str]:
    """The environment the LiteLLM process gets: the shell's, scrubbed, plus .env."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_FROM_PROXY}
    # systemd's EnvironmentFile= turns `AWS_PROFILE=` into an empty variable,
    # which boto3 reads as a profile named "": an empty value means unset.
    for key in FILE_OR_SHELL:
        if env.get(key) == "":
            del env[key]
    env.update(settings.values)
    env.pop("CLAUDE_CODE_OAUTH_TOKEN", None)
    env.pop("ANTHROPIC_API_KEY", None)
    # config.yaml reads the primary's credential from this one variable.
    env["GATEWAY_ANTHROPIC_CREDENTIAL"] = settings.anthropic_credential or ""
    env.setdefault("ANTHROPIC_API_BASE", ANTHROPIC_DEFAULT_BASE)
    # LiteLLM's bundled cost map and Anthropic beta-header map are enough; it
    # would otherwise fetch them from GitHub, the beta map synchronously (5 s
    # timeout) on the first Bedrock fallback, which Claude Code would wait for.
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
    # Warnings and errors only: the per-request access lines cost CPU (make bench).
    env.setdefault("LITELLM_LOG", "WARNING")
    # config.yaml's upstream timeouts, seconds of silence per read (.env or shell may
    # override): a stalled stream fails over long before Claude Code's own 300 s idle
    # limit; a non-streaming answer arrives whole, so it may take as long as a generation.
    # Always set: LiteLLM fails every request when request_timeout's variable is missing.
    env.setdefault("GATEWAY_STREAM_TIMEOUT", "120")
    env.setdefault("GATEWAY_REQUEST_TIMEOUT", "600")
    return env
