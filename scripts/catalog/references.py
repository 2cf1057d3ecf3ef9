"""The user's own entries that name managed models, and what to do when an update drops one.

A fallback written outside the managed parts, e.g. `my-llm: [claude-haiku-4-5]`, names a
model `make update-models` manages. When the upstreams stop offering that model, dropping
it would make the user's entry (and so config.yaml) invalid. The update keeps the old
deployment instead, writes everything else, and says which line to change and to what.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

import yaml

from scripts.catalog import managed_config
from scripts.catalog.matching import FAMILY_ORDER, parse_anthropic_id

# router_settings lists of {model: [fallback, ...]} entries (LiteLLM's three kinds of fallbacks)
REFERENCE_KEYS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")


@dataclass
class Reference:
    """One `source: [target, ...]` entry of the user's, and where it is."""
    line: int   # 1-based line in config.yaml
    key: str    # the router_settings key it is under
    source: str
    targets: List[str]

    @property
    def names(self) -> List[str]:
        return [self.source, *self.targets]

    def text(self) -> str:
        return f"{self.source}: [{', '.join(self.targets)}]"


def _scalars(node) -> List[str]:
    if isinstance(node, yaml.SequenceNode):
        return [str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)]
    return []


def _mapping(node, key: str):
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value
    return None


def user_references(text: str, path: Path) -> List[Reference]:
    """The fallback entries outside the managed parts, with their line numbers. Entries of
    another shape are skipped here: the toolkit's config check names those."""
    try:
        root = yaml.compose(managed_config.outside_text(text, path))
    except yaml.YAMLError:
        return []  # names_outside() already reported it
    router = _mapping(root, "router_settings")
    found = []
    for key in REFERENCE_KEYS:
        items = _mapping(router, key)
        for item in items.value if isinstance(items, yaml.SequenceNode) else []:
            if isinstance(item, yaml.MappingNode) and len(item.value) == 1:
                source, targets = item.value[0]
                if isinstance(source, yaml.ScalarNode):
                    found.append(Reference(item.start_mark.line + 1, key, str(source.value), _scalars(targets)))
    return found


def dangling(references: Iterable[Reference], before: Set[str], after: Set[str]) -> Dict[str, List[Reference]]:
    """Managed names the update would remove -> the user's entries that still name them."""
    gone: Dict[str, List[Reference]] = {}
    for ref in references:
        for name in ref.names:
            if name in before and name not in after and ref not in gone.get(name, []):
                gone.setdefault(name, []).append(ref)
    return gone


def kept_items(text: str, path: Path, names: Iterable[str]) -> List[dict]:
    """The old managed deployments of these names, in config order."""
    wanted = set(names)
    return [item for item in managed_config.managed_model_list(text, path) if str(item["model_name"]) in wanted]


def _family(name: str) -> Optional[str]:
    base = name[: -len("-bedrock")] if name.endswith("-bedrock") else name
    key = parse_anthropic_id(base)
    match = re.fullmatch(r"claude-([a-z]+)", base)
    return key.family if key else match[1] if match else None


def replacement(name: str, after: Set[str]) -> Optional[str]:
    """A name the update keeps that can stand in for `name`: the family alias of the same
    family (same side), else the cheapest family alias offered."""
    suffix = "-bedrock" if name.endswith("-bedrock") else ""
    family = _family(name)
    families = ([family] if family else []) + list(reversed(FAMILY_ORDER))
    return next((f"claude-{f}{suffix}" for f in families if f"claude-{f}{suffix}" in after), None)


def advice(name: str, ref: Reference, after: Set[str], path: Path) -> str:
    """One line: which entry, what happened, what to change."""
    where = f"{path} line {ref.line}: router_settings.{ref.key} entry \"{ref.text()}\""
    if ref.source == managed_config.FALLBACK_TEST:
        fix = (f"delete your own {managed_config.FALLBACK_TEST} (its model_list entry and this line): "
               "update-models now writes one that follows the models offered")
    else:
        other = replacement(name, after)
        fix = f"replace {name} with {other} in it, or delete it" if other else "delete it"
    return (f"{where} names {name}, which the upstreams no longer offer: its old deployment is kept "
            f"so config.yaml stays valid; {fix}")
