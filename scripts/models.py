"""Model discovery into config.yaml (`make update-models`) and the model table (`make show-models`).

    python -m scripts.models update [--dry-run]   list both upstreams, rewrite the managed parts
    python -m scripts.models show                 public names, ids, fallbacks, last seen

Example: `make update-models DRY_RUN=1` prints the diff it would apply and writes nothing.
"""
import argparse
import difflib
import sys
from pathlib import Path
from typing import Dict, List, Optional

from scripts.catalog import discovery, managed_config, references
from scripts.catalog import seen as models_seen
from scripts.catalog.discovery import Listing, SideFailure
from scripts.catalog.matching import (
    Entry,
    Offer,
    anthropic_offers,
    build_entries,
    fallback_test_target,
    parse_bedrock_id,
)
from scripts.core import configfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import is_live
from scripts.gateway import process, upstreams

LABEL = {"anthropic": "Anthropic", "bedrock": "Bedrock"}


def kept_offers(side: str, text: str, path: Path) -> List[Offer]:
    """The offers config.yaml's managed part already has for a side that could not be listed."""
    ids = managed_config.managed_ids(text, path, side)
    if side == "anthropic":
        return anthropic_offers(ids)
    offers: Dict[object, Offer] = {}
    for model_id in ids:
        parsed = parse_bedrock_id(model_id)
        if parsed:
            offers.setdefault(parsed[1], Offer(parsed[0], parsed[1], model_id))
    return list(offers.values())


def discover(settings: settings_mod.Settings, text: str, path: Path) -> tuple:
    """side -> Listing (fresh, or kept from config.yaml) and side -> error of the failed sides."""
    listers = {"anthropic": discovery.anthropic_listing, "bedrock": discovery.bedrock_listing}
    listings: Dict[str, Listing] = {}
    errors: Dict[str, str] = {}
    for side, lister in listers.items():
        try:
            listings[side] = lister(settings)
            print(f">> {LABEL[side]}: {listings[side].summary}")
        except SideFailure as exc:
            errors[side] = str(exc)
            print(f"warning: {exc}", file=sys.stderr)
    if len(errors) == len(listers):
        raise ToolkitError(f"neither Anthropic nor Bedrock could be listed, {path} is unchanged: "
                           "fix the problems above and re-run `make update-models`")
    for side in errors:
        kept = kept_offers(side, text, path)
        listings[side] = Listing(kept, "kept")
        print(f">> {LABEL[side]}: kept the {len(kept)} model ids config.yaml has for it", file=sys.stderr)
    return listings, errors


def annotate(entries: List[Entry], listings: Dict[str, Listing], errors: Dict[str, str], region: str,
             old_notes: Dict[str, str]) -> None:
    """Say why a model has no fallback (as a comment above it in config.yaml). When the
    side that would know failed, the note config.yaml already has is kept."""
    for entry in entries:
        if entry.alias_of or entry.has_fallback:
            continue
        missing = "bedrock" if entry.bedrock is None else "anthropic"
        only = "Anthropic only" if missing == "bedrock" else "Bedrock only"
        old = old_notes.get(entry.name, "")
        if missing in errors:
            note = old if old.startswith(only) else f"{only} ({LABEL[missing]} could not be listed): no fallback"
        elif missing == "bedrock":
            reason = listings["bedrock"].unusable.get(entry.name) or f"Bedrock does not offer it in {region}"
            note = f"Anthropic only ({reason}): no Bedrock fallback"
        else:
            note = "Bedrock only (Anthropic does not list it): served from Bedrock, no fallback"
        entry.notes.append(note)


def print_plan(entries: List[Entry], listings: Dict[str, Listing]) -> None:
    width = max((len(e.name) for e in entries), default=10) + 2
    for e in entries:
        if e.alias_of:
            line = f"-> {e.alias_of}"
        else:
            primary = f"anthropic/{e.anthropic.upstream_id}" if e.anthropic else ""
            fallback = f"bedrock/{e.bedrock.upstream_id}" if e.bedrock else ""
            line = f"{primary}  fallback {fallback}" if primary and fallback else (primary or fallback)
            line += "".join(f"  [{n}]" for n in e.notes)
        print(f"   {e.name:<{width}}{line}")
    names = {e.name for e in entries}
    for side in LABEL:
        for name, reason in sorted(listings[side].unusable.items()):
            if name not in names:
                print(f"   {name:<{width}}not configured ({LABEL[side]} lists it: {reason})")


def make_plan(text: str, path: Path, entries: List[Entry], own_models: set, own_fallbacks: set,
              before: set) -> managed_config.Plan:
    """The managed parts to write. Old deployments that the user's own entries still name are
    kept (the file stays valid), with one warning per entry saying what to change."""
    plan = managed_config.Plan(entries, own_fallbacks, test_target=fallback_test_target(entries),
                               own_test=managed_config.FALLBACK_TEST in own_models)
    offered = plan.names()
    gone = references.dangling(references.user_references(text, path), before, offered)
    plan.kept = references.kept_items(text, path, gone)
    for name, refs in gone.items():
        for ref in refs:
            print("warning: " + references.advice(name, ref, offered, path), file=sys.stderr)
    return plan


def proxy_running(settings: settings_mod.Settings) -> bool:
    try:
        return bool(process.running_pid()) or is_live(settings.base_url)
    except ToolkitError:  # e.g. a bad LITELLM_PORT: then no proxy of ours is reachable either
        return False


def update(args: argparse.Namespace) -> int:
    settings = settings_mod.load(validate=False)
    path = paths.config_file()
    text = managed_config.current_text(path)
    own_models, own_fallbacks = managed_config.names_outside(text, path)
    listings, errors = discover(settings, text, path)
    region = settings.get("AWS_REGION") or "(no AWS_REGION)"
    entries = build_entries(listings["anthropic"].offers, listings["bedrock"].offers, own_models)
    annotate(entries, listings, errors, region, managed_config.managed_notes(text, path))
    print_plan(entries, listings)
    before = managed_config.managed_names(text, path) or set()
    plan = make_plan(text, path, entries, own_models, own_fallbacks, before)
    new_text = managed_config.render(text, path, plan)
    after = plan.names()
    change = f"{len(after - before)} model names added, {len(before - after)} removed"
    if args.dry_run:
        return dry_run(path, text, new_text, change)
    if new_text == text:
        print(f">> {path} is up to date: nothing written")
    else:
        backup = managed_config.replace(path, new_text)
        print(f">> wrote {path} ({change}; previous file: {backup})")
    models_seen.record({side: None if side in errors else [o.upstream_id for o in listings[side].offers]
                        for side in LABEL}, errors)
    if proxy_running(settings):
        print(">> the proxy is running: " + ("run `make restart` to serve the new list" if new_text != text
                                            else "no restart needed"))
    return 0


def dry_run(path: Path, text: str, new_text: str, change: str) -> int:
    if new_text == text:
        print(f">> {path} is up to date: nothing would change")
        return 0
    diff = difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                fromfile=f"{path} (now)", tofile=f"{path} (updated)")
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    print(f"Would write {path} ({change}); nothing written (dry run)")
    return 0


def _first(models: List[str], provider: str) -> Optional[str]:
    return next((m.split("/", 1)[1] for m in models if m.startswith(provider + "/")), None)


def table_rows(config: configfile.ProxyConfig, managed: set, seen: dict) -> List[tuple]:
    rows = []
    for name in config.public_models:
        own = config.deployments[name]
        targets = config.fallbacks.get(name, [])
        anthropic = _first(own, "anthropic")
        bedrock = _first([m for t in targets for m in config.deployments.get(t, [])] + own, "bedrock")
        fallback = "yes" if targets == [f"{name}-bedrock"] else ", ".join(targets) or "none"
        wildcard = "*" in name
        rows.append((name if name in managed else f"{name} *", anthropic or "-", bedrock or "-", fallback,
                     "(wildcard)" if wildcard else models_seen.describe(seen["anthropic"], anthropic),
                     "(wildcard)" if wildcard else models_seen.describe(seen["bedrock"], bedrock)))
    return rows


def print_table(rows: List[tuple]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def env_rows(settings: settings_mod.Settings) -> List[tuple]:
    """The models .env defines (PROXY_MODEL_KEYS), with their place in the tiers after Bedrock."""
    tiers = settings.fallback_tiers
    return [(spec.alias, spec.upstream_model, spec.api_base or "(provider default)",
             upstreams.credential_source(settings, spec), spec.reasoning_effort or "-",
             f"tier {tiers.index(spec) + 3}" if spec in tiers else "-") for spec in settings.model_specs]


def show(_args: argparse.Namespace) -> int:
    path = paths.config_file()
    config = configfile.load(path)
    settings = settings_mod.load(validate=False)
    managed = managed_config.managed_names(managed_config.current_text(path), path) or set()
    seen = models_seen.load()
    header = ("PUBLIC NAME", "ANTHROPIC ID", "BEDROCK ID", "FALLBACK", "ANTHROPIC SEEN", "BEDROCK SEEN")
    print_table([header] + table_rows(config, managed, seen))
    print(f"\n{path}; * = your own entry, outside the managed part. SEEN = in the last successful listing.")
    for line in models_seen.footer(seen):
        print(line)
    own = env_rows(settings)
    if own:
        print("\nFrom .env (PROXY_MODEL_KEYS):\n")
        print_table([("NAME", "UPSTREAM MODEL", "API BASE", "CREDENTIAL", "REASONING", "AFTER BEDROCK")] + own)
        tiers = [spec.alias for spec in settings.fallback_tiers]
        if tiers:
            print(f"\nEvery Claude name falls back to its Bedrock twin, then {', then '.join(tiers)} "
                  "(CLAUDE_FALLBACK_AFTER_BEDROCK).")
    return 0


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.models", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    sub = parser.add_subparsers(dest="command", required=True)
    upd = sub.add_parser("update", help="discover models on Anthropic and Bedrock into config.yaml")
    upd.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    sub.add_parser("show", help="table of configured models and when each side last listed them")
    args = parser.parse_args(argv)
    return update(args) if args.command == "update" else show(args)


main = entry_point(__name__, _body)
