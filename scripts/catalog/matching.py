"""Pair the models Anthropic lists with the ones Bedrock offers, and name them.

Both sides name the same model differently:
    Anthropic  claude-sonnet-4-5-20250929      Bedrock  anthropic.claude-sonnet-4-5-20250929-v1:0
    Anthropic  claude-opus-4-6                 Bedrock  anthropic.claude-opus-4-6-v1
    Anthropic  claude-3-5-sonnet-20241022      Bedrock  anthropic.claude-3-5-sonnet-20241022-v2:0
so each id is reduced to a ModelKey (family, version, date) and the keys are
compared. The public names are Anthropic's ids (what Claude Code asks for), plus
an undated alias for each dated model (claude-sonnet-4-5) and one alias per
family (claude-opus, claude-sonnet, claude-haiku) for the newest model in it.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

FAMILY_ORDER = ("opus", "sonnet", "haiku")
_VERSION = r"\d{1,2}(?:-\d{1,2})*"
_NEW_STYLE = re.compile(rf"^claude-([a-z]+)-({_VERSION})(?:-(\d{{8}}))?$")    # claude-opus-4-5-20251101
_OLD_STYLE = re.compile(rf"^claude-({_VERSION})-([a-z]+)(?:-(\d{{8}}))?$")    # claude-3-5-sonnet-20241022
# [geo.]anthropic.<id>[-vN[:M]]; context-window variants (":200k") are provisioned-only and never match.
_BEDROCK = re.compile(r"^(?:([a-z-]+)\.)?anthropic\.(claude-[a-z0-9-]+?)(?:-v(\d+)(?::(\d+))?)?$")


@dataclass(frozen=True)
class ModelKey:
    family: str
    version: Tuple[int, ...]
    date: str  # "" when the id has none

    @property
    def age(self) -> tuple:
        """Sorts older before newer: version first, then the snapshot date."""
        return (self.version, self.date)


def parse_anthropic_id(model_id: str) -> Optional[ModelKey]:
    match = _NEW_STYLE.match(model_id)
    if match:
        family, version, date = match.groups()
    else:
        match = _OLD_STYLE.match(model_id)
        if not match:
            return None
        version, family, date = match.groups()
    return ModelKey(family, tuple(int(p) for p in version.split("-")), date or "")


def parse_bedrock_id(model_id: str) -> Optional[Tuple[str, ModelKey, Tuple[int, int]]]:
    """(Anthropic-style id, key, model revision) of a Bedrock model or inference profile id."""
    match = _BEDROCK.match(model_id)
    if not match:
        return None
    _geo, inner, major, minor = match.groups()
    key = parse_anthropic_id(inner)
    return (inner, key, (int(major or 0), int(minor or 0))) if key else None


@dataclass
class Offer:
    """A model as one side offers it: the id to configure and a note for the user."""
    name: str          # Anthropic-style id (the public name)
    key: ModelKey
    upstream_id: str   # what follows "anthropic/" or "bedrock/" in config.yaml
    note: str = ""


@dataclass
class Entry:
    """One public model name of the managed part of config.yaml."""
    name: str
    anthropic: Optional[Offer]
    bedrock: Optional[Offer]
    alias_of: str = ""  # the model an alias points at
    notes: List[str] = field(default_factory=list)

    @property
    def has_fallback(self) -> bool:
        return self.anthropic is not None and self.bedrock is not None


def anthropic_offers(ids: Iterable[str]) -> List[Offer]:
    offers = []
    for model_id in ids:
        key = parse_anthropic_id(model_id)
        if key:
            offers.append(Offer(model_id, key, model_id))
    return offers


def pair(anthropic: List[Offer], bedrock: List[Offer]) -> List[Entry]:
    """One Entry per model: same key on both sides, else same family and version when
    exactly one of each is left and at most one of them carries a date."""
    by_key = {o.key: o for o in bedrock}
    entries, left = [], []
    for offer in anthropic:
        twin = by_key.pop(offer.key, None)
        if twin:
            entries.append(Entry(offer.name, offer, twin))
        else:
            left.append(offer)
    for offer in left:
        same = [b for b in by_key.values() if (b.key.family, b.key.version) == (offer.key.family, offer.key.version)]
        mates = [a for a in left if (a.key.family, a.key.version) == (offer.key.family, offer.key.version)]
        twin = same[0] if len(same) == 1 and len(mates) == 1 and not (same[0].key.date and offer.key.date) else None
        if twin:
            del by_key[twin.key]
        entries.append(Entry(offer.name, offer, twin))
    entries += [Entry(b.name, None, b) for b in by_key.values()]
    return entries


def _family_rank(family: str) -> tuple:
    return (FAMILY_ORDER.index(family), "") if family in FAMILY_ORDER else (len(FAMILY_ORDER), family)


def _key(entry: Entry) -> ModelKey:
    return (entry.anthropic or entry.bedrock).key


def build_entries(anthropic: List[Offer], bedrock: List[Offer], reserved: Iterable[str] = ()) -> List[Entry]:
    """Models newest first per family (opus, sonnet, haiku, then others), each followed by
    its undated alias, then the family aliases. Names in `reserved` (the user's own
    entries elsewhere in config.yaml, or their "-bedrock" twins) are never generated."""
    reserved = set(reserved) | {name[: -len("-bedrock")] for name in reserved if name.endswith("-bedrock")}
    models = sorted(pair(anthropic, bedrock), key=lambda e: e.name)
    models.sort(key=lambda e: _key(e).age, reverse=True)  # stable sorts: newest first within a family
    models.sort(key=lambda e: _family_rank(_key(e).family))
    taken = {e.name for e in models} | reserved
    newest_dated: Dict[str, Entry] = {}
    for entry in models:  # newest first, so the first one seen per alias wins
        if _key(entry).date:
            newest_dated.setdefault(entry.name[: -len(_key(entry).date) - 1], entry)
    out: List[Entry] = []
    for entry in models:
        if entry.name not in reserved:
            out.append(entry)
        alias = entry.name[: -len(_key(entry).date) - 1] if _key(entry).date else ""
        if alias and newest_dated.get(alias) is entry and alias not in taken:
            out.append(Entry(alias, entry.anthropic, entry.bedrock, alias_of=entry.name))
    out += family_aliases(models, taken)
    return out


def family_aliases(models: List[Entry], taken: Iterable[str]) -> List[Entry]:
    """claude-<family> -> the newest model of the family that Anthropic serves (the
    primary), or the newest Bedrock-only one when Anthropic serves none."""
    out, taken = [], set(taken)
    families = sorted({_key(e).family for e in models}, key=_family_rank)
    for family in families:
        members = [e for e in models if _key(e).family == family]
        primary = [e for e in members if e.anthropic] or members
        newest = max(primary, key=lambda e: _key(e).age)
        name = f"claude-{family}"
        if name not in taken:
            out.append(Entry(name, newest.anthropic, newest.bedrock, alias_of=newest.name))
    return out


def fallback_test_target(entries: List[Entry]) -> Optional[Entry]:
    """The model `fallback-test` falls back to: the cheapest family alias with both an
    Anthropic and a Bedrock deployment (claude-haiku, else claude-sonnet, claude-opus),
    else the first model with both; None when no model has both."""
    both = {e.name: e for e in entries if e.has_fallback}
    for family in reversed(FAMILY_ORDER):
        if f"claude-{family}" in both:
            return both[f"claude-{family}"]
    return next(iter(both.values()), None)
