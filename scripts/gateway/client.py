"""Talking to a running proxy: the auth header, one request with a clear error when
the proxy is not there, who answered a proxied request, and the installed LiteLLM
version. health, status, test-claude, demo and bench share these."""
from typing import Dict, Optional

from scripts.core import paths
from scripts.core.errors import ToolkitError
from scripts.core.http import Reply, request
from scripts.core.settings import Settings
from scripts.gateway import credential_tiers

TEST_PROMPT = "Reply with the single word: pong"


def auth_headers(master_key: Optional[str]) -> Dict[str, str]:
    """The proxy key as clients send it (LiteLLM also reads x-api-key; Bearer is universal)."""
    return {"Authorization": f"Bearer {master_key}"} if master_key else {}


def call(cfg: Settings, method: str, path: str, payload=None, timeout: float = 5.0,
         headers: Optional[Dict[str, str]] = None) -> Reply:
    """One request to the proxy with the master key; ToolkitError when nothing answers."""
    try:
        return request(method, cfg.base_url + path, headers={**auth_headers(cfg.master_key), **(headers or {})},
                       payload=payload, timeout=timeout)
    except OSError as exc:
        raise ToolkitError(f"the proxy is not running at {cfg.base_url} ({exc}): run `make up`") from None


UPSTREAM_NAMES = {"bedrock": "Bedrock", "anthropic": "Anthropic", "zai": "Z.AI", "chatgpt": "ChatGPT",
                  "github_copilot": "Copilot"}


def upstream_of(deployment: str) -> str:
    """Anthropic, Bedrock or the provider of an env-defined model (zai/glm-4.6: Z.AI), from
    LiteLLM's deployment name (x-litellm-model-name)."""
    provider = deployment.split("/", 1)[0] if "/" in deployment else ""
    return UPSTREAM_NAMES.get(provider, provider or "unknown upstream")


def answered_by(headers: Dict[str, str]) -> str:
    """Which upstream served a proxied request, from LiteLLM's response headers."""
    deployment = headers.get("x-litellm-model-name", "")
    provider = upstream_of(deployment)
    if provider == "Anthropic" and headers.get("x-litellm-model-group", "").endswith(credential_tiers.SUFFIX):
        provider = "Anthropic subscription"
    fallbacks = headers.get("x-litellm-attempted-fallbacks", "0")
    via = f", after {fallbacks} fallback" if fallbacks not in ("", "0") else ""
    return f"{provider} ({deployment or 'no x-litellm-model-name header'}{via})"


def installed_version(package: str) -> str:
    """Read the version from the venv's metadata without importing the package."""
    for lib in sorted(paths.venv_dir().glob("lib/python*/site-packages")):
        for dist in lib.glob(f"{package}-*.dist-info"):
            return dist.name[len(package) + 1:-len(".dist-info")]
    return "not installed (`make install`)"
