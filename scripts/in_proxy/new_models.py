"""Every Claude model the day it ships: an id config.yaml does not list gets its whole chain
at its first request (subscription twin for Claude Code, API key, Bedrock, the tiers after it).

Without this, config.yaml's `claude-*` wildcard carries such an id (Claude Code 2.1.337's
default claude-opus-5-5) to Anthropic on the API key only, and nothing tells the user.
async_pre_call_hook runs before the router picks a deployment and before credential_hooks
(this callback is listed first, effective_config.release_models), so the request that
brought the id already takes the new chain:

1. Bedrock's listing (ListFoundationModels + ListInferenceProfiles, boto3 in a thread,
   cached; listed again when older than RELIST_SECONDS, since a release adds models);
2. scripts/catalog/release.py pairs the id and renders its deployments and fallbacks
   exactly as config.yaml + .env would have them (managed_config + effective_config);
3. they go into LiteLLM's running router with its own Router.add_deployment and its
   fallbacks list; the state file (0600) tells `make status`, `make health`,
   `make print-config` what was added, and one log line says it, naming the id, and
   says too when Bedrock does not offer it (it is then served without a Bedrock fallback).

Each id is looked up once per worker process: the router and this cache are per worker.
"""
import asyncio
import logging
import os
import time
from typing import Any, Dict, Optional, Tuple

from scripts.catalog import discovery, release
from scripts.core import configfile, paths
from scripts.core.errors import ToolkitError
from scripts.core.settings import Settings
from scripts.gateway import credential_tiers
from scripts.in_proxy.litellm_surface import (CustomLogger, Deployment, LiteLLM_Params, get_secret,
                                              holds_secret_pointer, proxy_router)

log = logging.getLogger("claude_gateway.new_models")
RELIST_SECONDS = 10.0  # a listing older than this is fetched again for an id it lacks


def proxy_settings() -> Settings:
    """The settings the proxy runs with: its environment (made from .env at start), the
    Anthropic credentials under the names the proxy gets them (settings.proxy_environment)."""
    values = {k: v for k, v in os.environ.items() if v}
    values["ANTHROPIC_API_KEY"] = os.environ.get(credential_tiers.API_KEY_VARIABLE, "")
    values["CLAUDE_CODE_OAUTH_TOKEN"] = os.environ.get(credential_tiers.SUBSCRIPTION_VARIABLE, "")
    return Settings({k: v for k, v in values.items() if v})


def deployment(router: Any, entry: dict) -> Deployment:
    """A model_list entry as LiteLLM's Router.set_model_list turns it into a Deployment: plain
    os.environ/ values resolved, credential references kept for call time, its id generated.
    (LiteLLM internals: the surface module should own this function.)"""
    params = {k: get_secret(v) if isinstance(v, str) and v.startswith("os.environ/") and not holds_secret_pointer(k)
              else v for k, v in entry["litellm_params"].items()}
    info = dict(entry.get("model_info") or {})
    info["id"] = router.generate_model_id(entry["model_name"], params)
    return Deployment(model_name=entry["model_name"], litellm_params=LiteLLM_Params(**params), model_info=info)


def add_to_router(router: Any, found: release.Chain) -> None:
    for entry in found.model_list:
        router.add_deployment(deployment(router, entry))
    router.fallbacks = list(router.fallbacks or []) + [{name: targets} for name, targets in found.fallbacks.items()]


def first_chain(found: release.Chain) -> list:
    """The longest chain of the id: Claude Code's, from the subscription twin when there is one."""
    twin = found.model + credential_tiers.SUFFIX
    start = twin if twin in found.names else found.model
    return [start, *found.fallbacks.get(start, [])]


class NewModels(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._done: Dict[str, dict] = {}
        self._lock = asyncio.Lock()
        self._listing: Optional[Tuple[float, Optional[discovery.Listing], str]] = None
        release.clear_state()

    def _wanted(self, router: Any, model: Any) -> bool:
        return release.is_claude_id(model) and model not in router.model_names and model not in self._done

    async def async_pre_call_hook(self, user_api_key_dict, cache, data: dict, call_type):
        router = proxy_router()
        model = data.get("model")
        if router is None or not self._wanted(router, model):
            return data
        async with self._lock:  # one discovery at a time: concurrent first requests wait for it
            if self._wanted(router, model):
                await self.discover(router, model)
        return data

    async def discover(self, router: Any, model: str) -> None:
        started = time.monotonic()
        settings = proxy_settings()
        region = settings.get("AWS_REGION") or ""
        listing, failure = await self.bedrock_listing(settings, model)
        entry = release.find_entry(model, listing, region)
        if failure:
            entry.notes.append(failure)
        try:
            found = release.chain(configfile.load(paths.config_file()).data, settings, entry)
        except ToolkitError as exc:  # config.yaml broke since the start: the wildcard keeps serving it
            log.warning("new Claude model %s: left on the claude-* route, its chain could not be rendered: %s",
                        model, exc)
            self._done[model] = {"model": model, "note": str(exc)}
            return
        add_to_router(router, found)
        seconds = time.monotonic() - started
        self._done[model] = release.record(found, seconds)
        release.write_state(self._done)
        if found.bedrock_id:
            log.warning("new Claude model %s: served with its full chain (%s), Bedrock %s; found in %.0f ms "
                        "(`make update-models` puts it in config.yaml)", model, " -> ".join(first_chain(found)),
                        found.bedrock_id, seconds * 1000)
        else:
            log.warning("new Claude model %s: served WITHOUT a Bedrock fallback (%s), chain %s", model, found.note,
                        " -> ".join(first_chain(found)))

    async def bedrock_listing(self, settings: Settings, model: str) -> Tuple[Optional[discovery.Listing], str]:
        """(listing, "") or (None, why there is none); a fresh one when the cached one lacks the id."""
        cached = self._listing
        if cached and (time.monotonic() - cached[0] < RELIST_SECONDS or (
                cached[1] and any(o.name == model for o in cached[1].offers))):
            return cached[1], cached[2]
        try:
            listing, failure = await asyncio.to_thread(discovery.bedrock_listing, settings), ""
        except discovery.SideFailure as exc:
            listing, failure = None, str(exc)
        self._listing = (time.monotonic(), listing, failure)
        return listing, failure


handler = NewModels()
