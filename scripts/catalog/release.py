"""A Claude id config.yaml does not list, served like a listed one: its whole chain.

Claude Code asks for the newest model the day it ships (2.1.337: claude-opus-5-5), before
`make update-models` lists it. config.yaml's `claude-*` wildcard would send it to Anthropic
on the API key only: no subscription twin, no Bedrock fallback, no tiers after Bedrock.
The running proxy (scripts/in_proxy/new_models.py) asks this module, at the id's first
request, for the deployments and fallbacks it would have had in config.yaml:

- find_entry(): the id paired with what Bedrock lists (ListFoundationModels +
  ListInferenceProfiles, as `make update-models` reads them: discovery.bedrock_offers,
  matching.pair), or the reason it has no Bedrock twin;
- chain(): the entries `make update-models` would write for it (managed_config's own
  renderer), rendered with config.yaml and .env by effective_config (subscription twin,
  tiers after Bedrock), keeping only what belongs to the new names.

Pure but for the Bedrock listing, which the caller supplies (and caches).
"""
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from scripts.catalog import managed_config
from scripts.catalog.discovery import Listing
from scripts.catalog.matching import Entry, Offer, pair, parse_anthropic_id
from scripts.core import paths
from scripts.core.files import PRIVATE, write_atomic
from scripts.core.settings import Settings
from scripts.gateway import effective_config

LABEL = Path("config.yaml")


@dataclass
class Chain:
    """What the router gains for one id; `note` says why it has no Bedrock twin (else "")."""
    model: str
    bedrock_id: Optional[str]
    model_list: List[dict] = field(default_factory=list)
    fallbacks: Dict[str, List[str]] = field(default_factory=dict)
    note: str = ""

    @property
    def names(self) -> List[str]:
        return list(dict.fromkeys(str(entry["model_name"]) for entry in self.model_list))


def is_claude_id(model: object) -> bool:
    """An id that reads as Anthropic's claude-<family>-<version>[-<date>] (what the wildcard serves)."""
    return isinstance(model, str) and parse_anthropic_id(model) is not None


def find_entry(model: str, bedrock: Optional[Listing], region: str) -> Entry:
    """The id with its Bedrock twin when Bedrock offers the same model; notes say why not."""
    offer = Offer(model, parse_anthropic_id(model), model)
    entry = next(e for e in pair([offer], bedrock.offers if bedrock else []) if e.anthropic is offer)
    if bedrock is not None and entry.bedrock is None:
        entry.notes.append(bedrock.unusable.get(model) or f"Bedrock does not offer it in {region}")
    return entry


def entry_config(entry: Entry) -> dict:
    """The model_list entries and fallbacks `make update-models` writes for this entry."""
    plan = managed_config.Plan([entry])
    models = yaml.safe_load("\n".join(managed_config.render_models(plan, ""))) or []
    fallbacks = yaml.safe_load("\n".join(managed_config.render_fallbacks(plan, ""))) or []
    return {"model_list": models, "fallbacks": fallbacks}


def chain(config: dict, settings: Settings, entry: Entry) -> Chain:
    """The deployments and fallbacks of entry.name (and its -bedrock and -subscription
    twins) in the effective config of config.yaml plus this entry."""
    added = entry_config(entry)
    data = dict(config)
    data["model_list"] = list(config.get("model_list") or []) + added["model_list"]
    router = dict(config.get("router_settings") or {})
    router["fallbacks"] = list(router.get("fallbacks") or []) + added["fallbacks"]
    data["router_settings"] = router
    rendered = effective_config.render(data, settings)
    before = {str(e.get("model_name")) for e in effective_config.render(config, settings)["model_list"]}
    new = [e for e in rendered["model_list"] if str(e.get("model_name")) not in before]
    names = {str(e["model_name"]) for e in new}
    fallbacks = {str(k): list(v) for item in rendered["router_settings"].get("fallbacks") or []
                 if isinstance(item, dict) for k, v in item.items() if str(k) in names}
    bedrock_id = entry.bedrock.upstream_id if entry.bedrock else None
    return Chain(entry.name, bedrock_id, new, fallbacks, "; ".join(entry.notes))


# --- what the running proxy added: a state file (0600) for status, models, print-config ----

def state_file() -> Path:
    return paths.state_dir() / "release-models.json"


def record(found: Chain, seconds: float) -> dict:
    """One id's line in the state file: only os.environ/ references, never a secret."""
    return {"model": found.model, "bedrock_id": found.bedrock_id, "names": found.names,
            "model_list": found.model_list, "fallbacks": found.fallbacks, "note": found.note,
            "discovery_seconds": round(seconds, 3), "at": time.time()}


def write_state(records: Dict[str, dict]) -> None:
    """Merged with what is there: each worker process (GATEWAY_WORKERS) adds its own ids."""
    merged = {item["model"]: item for item in read_state() if "model" in item}
    merged.update(records)
    write_atomic(state_file(), json.dumps({"pid": os.getpid(), "models": merged}, indent=1), mode=PRIVATE)


def clear_state() -> None:
    """A start forgets what the previous run added (its router is gone)."""
    state_file().unlink(missing_ok=True)


def read_state() -> List[dict]:
    """The ids the running proxy added, oldest first; [] when none (or no readable file)."""
    try:
        data = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return []
    models = data.get("models") if isinstance(data, dict) else None
    return sorted(models.values(), key=lambda r: r.get("at", 0)) if isinstance(models, dict) else []


def describe(item: dict) -> str:
    """One id as `make status` and `make health` show it."""
    if item.get("bedrock_id"):
        return f"{item['model']} (Bedrock {item['bedrock_id']})"
    return f"{item['model']} WITHOUT a Bedrock fallback: {item.get('note') or 'none found'}"


def as_config(items: List[dict]) -> dict:
    """The state file's additions as a config fragment (make print-config)."""
    return {"model_list": [e for item in items for e in item.get("model_list") or []],
            "router_settings": {"fallbacks": [{k: v} for item in items for k, v in (item.get("fallbacks") or {}).items()]}}
