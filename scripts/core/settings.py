"""The effective settings: the project's .env, checked, with safe defaults.

.env wins over the calling shell for every toolkit variable. That matters: after
`make configure-claude` the user's shell exports ANTHROPIC_BASE_URL (this proxy)
and the master key as a client credential, and neither may leak into the proxy.

The proxy's environment is built, not inherited: a short list of system variables,
the .env values, what the toolkit computes. LiteLLM reads dozens of variables
(ANTHROPIC_*, OPENAI_*, AWS_*, LITELLM_*, ...) and would otherwise also load a .env
of its own (NO_DOTENV).
"""
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional

from scripts.core import envcheck, envfile, model_specs, paths
from scripts.core.errors import ToolkitError, warn
from scripts.core.model_specs import ModelSpec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 47000
# Seconds `make down` (and the service's stop) lets requests in flight finish: Claude
# Code's streams routinely run for minutes. GATEWAY_DRAIN_TIMEOUT in .env changes it.
DEFAULT_DRAIN_TIMEOUT = 300
ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"

# Every command needs the proxy's address (base_url): a wrong one is an error even
# where other problems are only warnings.
WHERE_IT_LISTENS = ("LITELLM_HOST", "LITELLM_PORT")
# Only ever read from .env, never inherited from the shell (see module doc).
FILE_ONLY = ("LITELLM_MASTER_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "REDIS_URL")
# Read from .env, else from the shell (the standard AWS chain and overrides).
FILE_OR_SHELL = (
    "LITELLM_HOST", "LITELLM_PORT", "AWS_PROFILE", "AWS_REGION",
    "ANTHROPIC_API_BASE", "AWS_BEDROCK_RUNTIME_ENDPOINT", "GATEWAY_WORKERS",
)
# Toolkit and LiteLLM run-time knobs the shell may set for one run when .env does
# not (`GATEWAY_STREAM_TIMEOUT=5 make up`, `LITELLM_LOG=DEBUG make proxy`, the
# candidates `make bench` measures); they reach the proxy and nothing else.
TUNING_FROM_SHELL = ("GATEWAY_STREAM_TIMEOUT", "GATEWAY_REQUEST_TIMEOUT", "LITELLM_LOG",
                     "DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS")
# The only variables of the calling environment (shell, systemd, launchd) the proxy
# gets besides .env, each because a process running as this user needs it:
SYSTEM_FOR_PROXY = (
    "PATH",  # boto3 runs an AWS profile's credential_process (aws-sso-util, granted) by name
    "HOME", "USER", "LOGNAME",  # ~/.aws/config, the AWS SSO token cache, getpass
    "LANG", "LANGUAGE", "TZ",  # text encoding and timestamps of the log (LC_* too)
    "TMPDIR", "TMP", "TEMP",  # temp files (per user on macOS)
    # a corporate network: outbound proxy (httpx and botocore honour these) and its CA
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",  # where the profile AWS_PROFILE names is defined
)
SYSTEM_PREFIXES_FOR_PROXY = ("LC_",)
# Switches off python-dotenv in a process that imports LiteLLM. LiteLLM 1.106.2 calls
# load_dotenv() when imported (litellm/__init__.py, litellm/proxy/proxy_cli.py) unless
# LITELLM_MODE=PRODUCTION, which gates nothing else; python-dotenv then walks up from
# LiteLLM's files (or the working directory for `python -c`) to the project's .env and
# loads every variable not already set: the user's AWS_PROFILE into `make demo`, a .env
# other than GATEWAY_ENV_FILE into `make up`. PYTHON_DOTENV_DISABLED (python-dotenv
# >= 1.2) does the same for any other library's load_dotenv().
NO_DOTENV = {"LITELLM_MODE": "PRODUCTION", "PYTHON_DOTENV_DISABLED": "1"}
# Opt-in: Ollama routes answer loopback clients that send no key (scripts/in_proxy/format_routes.py).
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


_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)([^@]+)(@)")


def mask_url(url: str) -> str:
    """A URL with the password in it (redis://:PASSWORD@host) masked."""
    return _PASSWORD_IN_URL.sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), url)


@dataclass(frozen=True)
class Settings:
    values: Dict[str, str]
    from_shell: FrozenSet[str] = field(default_factory=frozenset)  # keys the shell supplied, not .env

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key) or None

    def where(self, key: str) -> str:
        return "in your shell's environment" if key in self.from_shell else "in .env"

    def problems(self) -> Dict[str, str]:
        """{variable: what is wrong with it} for the values the toolkit understands (envcheck)."""
        return envcheck.problems(self.values, self.where)

    @property
    def drain_timeout(self) -> float:
        raw = self.get("GATEWAY_DRAIN_TIMEOUT") or os.environ.get("GATEWAY_DRAIN_TIMEOUT")
        if raw and not envcheck.problem("GATEWAY_DRAIN_TIMEOUT", raw, ""):
            return float(raw)
        return DEFAULT_DRAIN_TIMEOUT

    @property
    def host(self) -> str:
        return self.get("LITELLM_HOST") or DEFAULT_HOST

    @property
    def port(self) -> int:
        raw = self.get("LITELLM_PORT")
        if raw is None:
            return DEFAULT_PORT
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ToolkitError(f"LITELLM_PORT={raw!r} {self.where('LITELLM_PORT')} is not a port number: "
                               f"use e.g. {DEFAULT_PORT}")
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
    def api_key(self) -> Optional[str]:
        return self.get("ANTHROPIC_API_KEY")

    @property
    def subscription_token(self) -> Optional[str]:
        """The Claude subscription token: it carries Claude Code's requests only
        (scripts/gateway/credential_tiers.py), since Anthropic refuses it for anything else."""
        return self.get("CLAUDE_CODE_OAUTH_TOKEN")

    @property
    def anthropic_credential(self) -> Optional[str]:
        """The credential for the toolkit's own calls to Anthropic (listing models): the
        API key when set, the subscription token only when it is the one credential."""
        return self.api_key or self.subscription_token

    @property
    def anthropic_credential_kind(self) -> str:
        if self.api_key:
            return "api-key"
        return "oauth-token" if self.subscription_token else "none"

    @property
    def secrets(self) -> List[str]:
        """Every secret of .env, for masking what is shown (logs, errors)."""
        return [s for s in (self.master_key, self.api_key, self.subscription_token, self.get("REDIS_URL")) if s]

    @property
    def redis_url(self) -> Optional[str]:
        """Where the workers and instances share router state (cooldowns); None: in memory.
        (envcheck checks its form.)"""
        return self.get("REDIS_URL")

    @property
    def workers(self) -> int:
        """Proxy worker processes (GATEWAY_WORKERS, envcheck checks the count)."""
        raw = self.get("GATEWAY_WORKERS")
        problem = envcheck.problem("GATEWAY_WORKERS", raw, self.where("GATEWAY_WORKERS")) if raw else None
        if problem:
            raise ToolkitError(problem)
        count = int(raw or "1")
        if count > 1 and not self.redis_url:
            raise ToolkitError(f"GATEWAY_WORKERS={count} needs REDIS_URL in .env (workers share cooldowns "
                               "through Redis): run `make redis`, or set GATEWAY_WORKERS=1")
        return count

    @property
    def model_specs(self) -> List[ModelSpec]:
        """The env-defined models (PROXY_MODEL_KEYS, MODEL_<KEY>_...), read from .env only."""
        return model_specs.parse_models(self.values)

    @property
    def fallback_tiers(self) -> List[ModelSpec]:
        """The env-defined models tried after Bedrock (CLAUDE_FALLBACK_AFTER_BEDROCK), in order."""
        return model_specs.parse_tiers(self.values, self.model_specs)

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
        if not self.master_key:
            raise ToolkitError("LITELLM_MASTER_KEY is not set in .env: run `make generate-key`")
        if not self.anthropic_credential:
            raise ToolkitError("no Anthropic credential in .env: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN")
        found = self.problems()
        if found:
            raise ToolkitError(next(iter(found.values())))
        self.fallback_tiers  # raises on a bad env-defined model or tier
        self.workers  # raises when more than 1 worker has no REDIS_URL to share cooldowns
        return self


def load(validate: bool = True) -> Settings:
    """Settings from .env (required) and, for non-secrets, the shell. Without
    validate, what is wrong with the values is a warning (status, info and the
    like still show what they can); with it, the first problem is the error."""
    file_values = envfile.read(paths.env_file())
    values = {k: v for k, v in file_values.items() if v != ""}
    shell = set()
    for key in FILE_OR_SHELL:
        if key not in values and os.environ.get(key):
            values[key] = os.environ[key]
            shell.add(key)
    settings = Settings(values, frozenset(shell))
    if validate:
        return settings.validate()
    for key, problem in settings.problems().items():
        if key in WHERE_IT_LISTENS:
            raise ToolkitError(problem)
        warn(problem)
    return settings


def _from_calling_environment() -> Dict[str, str]:
    """The system variables the proxy needs, and the shell's tuning knobs; empty ones
    are unset (systemd's EnvironmentFile= turns `AWS_PROFILE=` into an empty variable,
    which boto3 would read as a profile named "")."""
    return {k: v for k, v in os.environ.items()
            if v and (k in SYSTEM_FOR_PROXY or k in TUNING_FROM_SHELL or k.startswith(SYSTEM_PREFIXES_FOR_PROXY))}


def proxy_environment(settings: Settings) -> Dict[str, str]:
    """The whole environment of the LiteLLM process: SYSTEM_FOR_PROXY from the calling
    environment, the .env values (with FILE_OR_SHELL from the shell when .env has
    none), and what the toolkit sets below. Nothing else of the shell gets through."""
    env = _from_calling_environment()
    env.update(settings.values)
    env.pop("CLAUDE_CODE_OAUTH_TOKEN", None)
    env.pop("ANTHROPIC_API_KEY", None)
    # config.yaml reads the API key from this variable, the subscription twins of its models
    # the token from the next (scripts/gateway/credential_tiers.py). The token never goes into the
    # first: it is for Claude Code's requests only. Both always set (empty: unused).
    env["GATEWAY_ANTHROPIC_CREDENTIAL"] = settings.api_key or ""
    env["GATEWAY_ANTHROPIC_SUBSCRIPTION"] = settings.subscription_token or ""
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
    env.update(login_token_dirs())
    env.update(toolkit_locations())
    env.update(NO_DOTENV)  # not even .env may turn LiteLLM's own .env loading back on
    return env


# LiteLLM's variables for where its chatgpt/ and github_copilot/ providers keep their logins.
TOKEN_DIR_VARIABLES = {"chatgpt": "CHATGPT_TOKEN_DIR", "github_copilot": "GITHUB_COPILOT_TOKEN_DIR"}


def toolkit_locations() -> Dict[str, str]:
    """Where this setup's files are, as absolute paths: the proxy runs the toolkit's own
    callbacks (scripts/gateway/), which must find the same state and logs as the command
    that started it, and so must a login run in the proxy's environment."""
    return {"GATEWAY_ENV_FILE": str(paths.env_file().absolute()), "GATEWAY_CONFIG": str(paths.config_file().absolute()),
            "GATEWAY_STATE_DIR": str(paths.state_dir().absolute()), "GATEWAY_LOG_DIR": str(paths.log_dir().absolute()),
            "GATEWAY_VENV": str(paths.venv_dir().absolute())}


def login_token_dirs() -> Dict[str, str]:
    """`make login-*` stores the tokens there and the proxy reads and refreshes them there
    (under the state directory, not LiteLLM's ~/.config/litellm default)."""
    return {var: str(paths.token_dir(provider)) for provider, var in TOKEN_DIR_VARIABLES.items()}
