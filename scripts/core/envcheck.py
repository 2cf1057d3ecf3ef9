"""The shapes of the .env values the toolkit understands.

A value that is slightly off starts fine and fails later, far from its cause:
`AWS_REGION='us-west-2 '` passes `make up` and every Bedrock fallback then fails
with "Invalid AWS region format". Each problem is one sentence naming the
variable, where it came from and the fix; secrets are never quoted.
"""
import ipaddress
import re
from typing import Callable, Dict, Optional
from urllib.parse import urlsplit

MIN_MASTER_KEY_LENGTH = 32
SECRETS = ("LITELLM_MASTER_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "AWS_SECRET_ACCESS_KEY",
           "AWS_SESSION_TOKEN", "GRAFANA_ADMIN_PASSWORD", "REDIS_URL")
MAX_WORKERS = 64
REDIS_SCHEMES = ("redis", "rediss", "unix")
# us-west-2, eu-central-1, us-gov-west-1, ap-southeast-3, il-central-1 ...
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _region(value: str) -> Optional[str]:
    if not _REGION.fullmatch(value):
        return "is not an AWS region: use one like us-west-2"
    return None


def _host(value: str) -> Optional[str]:
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return "is not a host name or IP address: use 127.0.0.1 (this machine only)"
    return None


def _port(value: str) -> Optional[str]:
    if not value.isdigit() or not 0 < int(value) < 65536:
        return "is not a port number (1-65535): use e.g. 47000"
    return None


def _url(value: str) -> Optional[str]:
    try:
        parts = urlsplit(value)
        parts.port  # raises ValueError on a bad port
    except ValueError:
        parts = None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or _host(parts.hostname):
        return "is not an http(s) URL: use one like https://host.example.com"
    if parts.query or parts.fragment:
        return "has a ?query or #fragment: give the URL up to its path only"
    return None


def _seconds(value: str) -> Optional[str]:
    try:
        ok = float(value) > 0
    except ValueError:
        ok = False
    return None if ok else "is not a number of seconds: use e.g. 300"


def _redis_url(value: str) -> Optional[str]:
    if urlsplit(value).scheme not in REDIS_SCHEMES:
        return ("must start with redis://, rediss:// or unix://: e.g. redis://:PASSWORD@127.0.0.1:6379/0, "
                "or run `make redis`")
    return None


def _workers(value: str) -> Optional[str]:
    if not value.isdigit() or not 1 <= int(value) <= MAX_WORKERS:
        return f"is not a worker count: use 1 to {MAX_WORKERS}"
    return None


def _master_key(value: str) -> Optional[str]:
    if not value.startswith("sk-"):
        return "must start with 'sk-' (LiteLLM requires it): run `make generate-key`"
    if len(value) < MIN_MASTER_KEY_LENGTH:
        return (f"is too short ({len(value)} characters, at least {MIN_MASTER_KEY_LENGTH}): "
                "run `make generate-key`")
    return None


CHECKS: Dict[str, Callable[[str], Optional[str]]] = {
    "LITELLM_MASTER_KEY": _master_key,
    "AWS_REGION": _region,
    "LITELLM_HOST": _host,
    "LITELLM_PORT": _port,
    "ANTHROPIC_API_BASE": _url,
    "AWS_BEDROCK_RUNTIME_ENDPOINT": _url,
    "AWS_ENDPOINT_URL_BEDROCK": _url,
    "AWS_ENDPOINT_URL": _url,
    "GATEWAY_STREAM_TIMEOUT": _seconds,
    "GATEWAY_REQUEST_TIMEOUT": _seconds,
    "GATEWAY_DRAIN_TIMEOUT": _seconds,
    "REDIS_URL": _redis_url,
    "GATEWAY_WORKERS": _workers,
}
# Values that are one token: whitespace anywhere in them is a mistake.
ONE_WORD = ("LITELLM_MASTER_KEY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", *CHECKS)
# Values that never start or end with whitespace (a quoted 'us-west-2 ').
STRIPPED = (*ONE_WORD, "AWS_PROFILE")


def problem(key: str, value: str, where: str) -> Optional[str]:
    """The first thing wrong with one value, as a sentence; None when it is fine."""
    shown = key if key in SECRETS else f"{key}={value!r}"
    if key in STRIPPED and value != value.strip():
        fixed = "" if key in SECRETS else f": write {key}={value.strip()}"
        return f"{shown} {where} has stray whitespace around the value{fixed or ': remove it'}"
    check = CHECKS.get(key)
    reason = check(value) if check else None
    if reason:
        return f"{shown} {where} {reason}"
    if key in ONE_WORD and any(ch.isspace() for ch in value):
        return f"{shown} {where} contains whitespace: a {key} value is one word"
    return None


def problems(values: Dict[str, str], where: Callable[[str], str]) -> Dict[str, str]:
    """{variable: its problem} for the known variables among values; where(key) says
    where each was set."""
    found = {key: problem(key, value, where(key)) for key, value in values.items() if value != ""}
    return {key: text for key, text in found.items() if text}
