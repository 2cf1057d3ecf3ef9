"""When each upstream last listed each model: state/models-seen.json.

Written by `make update-models` (never by --dry-run), read by `make show-models`:

    {"anthropic": {"checked": "2026-...Z", "ok": true, "error": null,
                   "last_ok": "2026-...Z", "seen": {"claude-opus-4-8": "2026-...Z", ...}},
     "bedrock":   {... "seen": {"us.anthropic.claude-opus-4-8": "2026-...Z", ...}}}

Keys of "seen" are the ids config.yaml uses (Anthropic model ids, Bedrock inference
profile or model ids). It lives in the state directory, so `make clean` forgets it.
"""
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, Optional

from scripts.core import paths
from scripts.core.files import PRIVATE, write_atomic

SIDES = ("anthropic", "bedrock")


def state_file() -> Path:
    return paths.state_dir() / "models-seen.json"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load() -> Dict[str, dict]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return {side: data.get(side) if isinstance(data.get(side), dict) else {} for side in SIDES}


def record(results: Dict[str, Optional[Iterable[str]]], errors: Dict[str, str]) -> None:
    """results: side -> ids it listed now, or None when the side failed (errors[side] says why)."""
    data, when = load(), now()
    for side in SIDES:
        entry = data[side]
        entry.update(checked=when, ok=results.get(side) is not None, error=errors.get(side))
        if results.get(side) is not None:
            entry["last_ok"] = when
            entry.setdefault("seen", {}).update({i: when for i in results[side]})
    write_atomic(state_file(), json.dumps(data, indent=1, sort_keys=True), mode=PRIVATE)


def describe(side_state: dict, upstream_id: Optional[str]) -> str:
    """'yes' when the last successful listing had the id, else when it was last seen."""
    if not upstream_id:
        return "-"
    if not side_state.get("last_ok"):
        return "not checked"
    seen = (side_state.get("seen") or {}).get(upstream_id)
    if not seen:
        return "never seen"
    day = seen[:16].replace("T", " ")
    return f"yes {day}" if seen >= side_state["last_ok"] else f"GONE, last {day}"


def footer(data: Dict[str, dict]) -> Iterable[str]:
    for side in SIDES:
        state = data[side]
        label = side.capitalize()
        if not state.get("checked"):
            yield f"{label}: never listed (run `make update-models`)"
        elif state.get("ok"):
            yield f"{label}: listed {state['checked'][:16].replace('T', ' ')} UTC"
        else:
            yield f"{label}: last listing {state['checked'][:16].replace('T', ' ')} UTC FAILED: {state.get('error')}"
