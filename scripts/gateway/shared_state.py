"""REDIS_URL: LiteLLM's router state (cooldowns) shared by every worker and instance.

Without it each process keeps its cooldowns in memory, and a rate-limited Anthropic
gets one request per window from each process. With it, LiteLLM's router writes each
cooldown to Redis and reads its peers' (router_settings.redis_url; LiteLLM resolves
`os.environ/REDIS_URL` from the proxy's environment, so the password never enters a
config file).

redis_settings() gives the sections effective_config's shared_redis contributor adds: the
settings and the config as loaded in, the sections out; it never mutates its input.
"""
from typing import Any, Dict

from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings

ROUTER_REDIS_KEYS = ("redis_url", "redis_host", "redis_port", "redis_password")
# LiteLLM re-reads a cooldown key that is missing from its memory at most once per this
# many seconds (litellm/constants.py, default 1): a peer's fresh cooldown stays unseen
# that long, and a worker that gets a request meanwhile calls the rate-limited primary
# (measured: 2 calls in 1 of 4 windows). At this value it reads Redis on every request:
# +10 % CPU per request over the default, 1 call in 4 of 4 windows; any interval longer
# than the gap between two requests to a model at one worker lets the extra call back in.
COOLDOWN_READ_INTERVAL = "0.001"
# After 5 failed Redis calls LiteLLM's circuit breaker stops using Redis (cooldowns stay
# local, requests go on) and tries it again after this many seconds (default 60).
BREAKER_RETRY_SECONDS = "10"


def redis_settings(settings: Settings, config: dict) -> Dict[str, Dict[str, Any]]:
    """{section: {key: value}} the effective config gets for REDIS_URL (empty without it)."""
    if not settings.redis_url:
        return {}
    router = config.get("router_settings") or {}
    clash = [key for key in ROUTER_REDIS_KEYS if key in router]
    if clash:
        raise ToolkitError(f"config.yaml sets router_settings.{clash[0]} and .env sets REDIS_URL: "
                           "keep REDIS_URL and remove it from config.yaml")
    # LiteLLM 1.108.7 reports its Redis circuit breaker (litellm_redis_circuit_breaker_state,
    # which `make status` and the alerts read) only from its prometheus_system service logger
    # (1.106.2: from the Redis cache itself); measured: no gauge on /metrics without it.
    return {"router_settings": {"redis_url": "os.environ/REDIS_URL"},
            "litellm_settings": {"service_callback": ["prometheus_system"]}}


def proxy_variables(settings: Settings) -> Dict[str, str]:
    """Variables LiteLLM reads for the shared state (added to the proxy's environment)."""
    if not settings.redis_url:
        return {}
    return {"DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS": COOLDOWN_READ_INTERVAL,
            "REDIS_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": BREAKER_RETRY_SECONDS}

