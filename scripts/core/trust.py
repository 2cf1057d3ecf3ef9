"""Who may talk to the proxy at all: the policy of its trust boundary, without LiteLLM.

scripts/in_proxy/gatekeeper.py applies it to every request before LiteLLM runs; settings.py
reads the same variables for `make info` and checks their shapes. Everything is decided from
what the request's head says (Host, Origin, path, method, Content-Length), so a refusal costs
no body read, no upstream call, no metric series.

- Host: loopback names and addresses, LITELLM_HOST, host.docker.internal (how the monitoring
  containers reach the proxy) and GATEWAY_ALLOWED_HOSTS. Anything else is DNS rebinding: a
  page on evil.example whose name now resolves to 127.0.0.1 sends `Host: evil.example`.
- Origin: browsers send it on every cross-site request and on every same-site POST; no SDK or
  CLI the toolkit serves does. Only GATEWAY_ALLOWED_ORIGINS may use the proxy from a page.
- Routes: the contract's routes (DESIGN.md "Routes on the one port"), /health* and /metrics.
  LiteLLM serves ~1,000 more (admin UI, SSO, pass-through to Langfuse, model hub, docs...):
  none is the toolkit's, so none is served.
- Body: at most GATEWAY_MAX_BODY_BYTES, by default Anthropic's own limit for the Messages and
  Token Counting APIs, 32 MB ("Request size limits",
  https://docs.claude.com/en/api/getting-started): anything larger fails upstream anyway.
- Routing overrides in a body (api_base, api_key, aws_* ...): a client picks a model, never
  where or with whose credentials the proxy sends it.
"""
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, FrozenSet, Iterable, Mapping, Optional, Tuple

ORIGINS_VAR = "GATEWAY_ALLOWED_ORIGINS"
HOSTS_VAR = "GATEWAY_ALLOWED_HOSTS"
MAX_BODY_VAR = "GATEWAY_MAX_BODY_BYTES"
ANTHROPIC_MAX_REQUEST_BYTES = 32 * 1024 * 1024
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Docker Desktop's name for the host (monitoring/docker-compose.yml scrapes it). A page can only
# send it as Host when its own origin is that name, which no web site can be.
CONTAINER_HOST_NAMES = frozenset({"host.docker.internal"})
EXACT_ROUTES = frozenset({
    "/v1/messages", "/v1/messages/count_tokens", "/v1/chat/completions", "/v1/models",
    "/api/chat", "/api/generate", "/api/tags", "/api/show", "/api/version", "/api/ps", "/metrics",
    # `make admin` (LiteLLM's litellm-proxy CLI, read-only commands): models list/info, chat.
    "/models", "/model/info", "/v1/model/info", "/chat/completions",
})
# /v1/responses and its follow-ups (Codex CLI: /v1/responses/compact); /v1/models/{id} and
# Gemini's /v1beta/models/{model}:generateContent (one path segment: model and method); /health*.
PATTERN_ROUTES = re.compile(r"/v1/responses(/[^/]+)*|/v1(beta)?/models/[^/]+|/health(/[^/]+)*")
# Keys that choose where a request goes or with whose credentials, on any provider LiteLLM has.
ROUTING_KEYS = frozenset({
    "api_base", "base_url", "api_key", "api_version", "organization", "custom_llm_provider",
    "model_list", "user_config", "litellm_params", "azure_ad_token", "deployment_url", "extra_headers",
})
ROUTING_PREFIXES = ("aws_", "vertex_", "azure_", "watsonx_")
# Where LiteLLM also reads litellm parameters from (one level down, as LiteLLM's own check).
NESTED_PARAMS = ("metadata", "litellm_metadata", "extra_body")


@dataclass(frozen=True)
class Boundary:
    """The trust boundary as .env sets it."""
    bind_host: str = "127.0.0.1"
    hosts: FrozenSet[str] = field(default_factory=frozenset)
    origins: FrozenSet[str] = field(default_factory=frozenset)
    max_body_bytes: int = ANTHROPIC_MAX_REQUEST_BYTES

    def host_allowed(self, host_header: Optional[str]) -> bool:
        """Whether a request's Host names this proxy (no Host: HTTP/1.0, no browser sends that)."""
        if host_header is None:
            return True
        name = host_name(host_header)
        return (name in LOOPBACK_NAMES or name in CONTAINER_HOST_NAMES or name == self.bind_host.lower()
                or name in self.hosts or is_loopback_address(name))

    def origin_allowed(self, origin: str) -> bool:
        return origin.strip().rstrip("/").lower() in self.origins


def host_name(host_header: str) -> str:
    """The name in a Host header, without port and brackets, lower case."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def is_loopback_address(name: str) -> bool:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def route_served(path: str) -> bool:
    """Whether the path is one of the routes the toolkit serves (trailing slash or not)."""
    trimmed = path.rstrip("/") or "/"
    return trimmed in EXACT_ROUTES or bool(PATTERN_ROUTES.fullmatch(trimmed))


def routing_override(body: Any) -> Optional[str]:
    """The first key of a request body that would re-route the request, or None."""
    if not isinstance(body, Mapping):
        return None
    for scope in (body, *(body.get(key) for key in NESTED_PARAMS)):
        if isinstance(scope, Mapping):
            found = next((key for key in scope if _is_routing_key(key)), None)
            if found:
                return found
    return None


def _is_routing_key(key: Any) -> bool:
    return isinstance(key, str) and (key in ROUTING_KEYS or key.startswith(ROUTING_PREFIXES))


def names(raw: Optional[str]) -> FrozenSet[str]:
    """A comma- or space-separated list of .env, lower case, without trailing slashes."""
    return frozenset(item.strip().rstrip("/").lower() for item in re.split(r"[,\s]+", raw or "") if item.strip())


def origin_problem(origin: str) -> Optional[str]:
    if not re.fullmatch(r"https?://[a-z0-9.\-\[\]:]+", origin):
        return f"{origin!r} is not an origin: use scheme://host[:port], e.g. http://localhost:3000"
    return None


def body_limit_problem(raw: str) -> Optional[str]:
    if not raw.isdigit() or int(raw) < 1024:
        return "is not a byte count of at least 1024: use e.g. 33554432 (32 MB, Anthropic's own limit)"
    return None


def from_environment(environ: Mapping[str, str]) -> Boundary:
    """The boundary from the proxy's environment (settings.proxy_environment puts .env there)."""
    raw_limit = (environ.get(MAX_BODY_VAR) or "").strip()
    limit = int(raw_limit) if raw_limit and not body_limit_problem(raw_limit) else ANTHROPIC_MAX_REQUEST_BYTES
    return Boundary(bind_host=(environ.get("LITELLM_HOST") or "127.0.0.1").strip(),
                    hosts=names(environ.get(HOSTS_VAR)), origins=names(environ.get(ORIGINS_VAR)),
                    max_body_bytes=limit)


def problems(environ: Mapping[str, str]) -> Iterable[Tuple[str, str]]:
    """(variable, message) for each badly formed trust setting, for settings.problems()."""
    raw_limit = (environ.get(MAX_BODY_VAR) or "").strip()
    if raw_limit and body_limit_problem(raw_limit):
        yield MAX_BODY_VAR, f"{MAX_BODY_VAR}={raw_limit} {body_limit_problem(raw_limit)}"
    for origin in sorted(names(environ.get(ORIGINS_VAR))):
        if origin_problem(origin):
            yield ORIGINS_VAR, f"{ORIGINS_VAR}: {origin_problem(origin)}"
