"""The managed parts of config.yaml: find, read, render and replace them.

Two regions belong to `make update-models`, each between a pair of marker lines:

    # >>> managed by make update-models: models >>>       (inside model_list)
    # <<< managed by make update-models: models <<<
    # >>> managed by make update-models: fallbacks >>>    (inside router_settings.fallbacks)
    # <<< managed by make update-models: fallbacks <<<

Only the lines between the markers are ever rewritten; every other byte of the
file (the markers included) is kept as it was. Like honcho's exporters, render()
only returns text; replace() is the one writer, and it validates first.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import yaml

from scripts.catalog.matching import Entry
from scripts.core import configfile
from scripts.core.errors import ToolkitError
from scripts.core.files import write_atomic
from scripts.gateway import config_check

PARTS = ("models", "fallbacks")
MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<dir>>>>|<<<) managed by make update-models: "
                    r"(?P<part>[a-z]+) (?P=dir)[ \t]*$")
ANTHROPIC_PARAMS = ("api_key: os.environ/GATEWAY_ANTHROPIC_CREDENTIAL",)
# parallel_tool_calls is dropped for Bedrock: with a tool_choice (Codex CLI, OpenAI-format agents)
# LiteLLM 1.106.2 sends it to Converse as a tool_choice without a type, and the request fails.
BEDROCK_PARAMS = ("aws_region_name: os.environ/AWS_REGION", 'additional_drop_params: ["parallel_tool_calls"]')
# Bedrock is the last resort: never cool it down (LiteLLM 1.106.2 can also cool the
# fallback down for the primary's mid-stream failure; see config.yaml).
BEDROCK_MODEL_INFO = ("model_info:", "  cooldown_time: 0  # never cool down the last resort (see router_settings)")
FALLBACK_TEST = "fallback-test"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, every call fails at once
KEPT_NOTE = "kept: your own entry outside this part names it, the upstreams no longer list it"
RESTORE = "put the marker lines back (see `git show HEAD:config.yaml`)"


@dataclass
class Region:
    start: int   # index of the first line after the opening marker
    end: int     # index of the closing marker
    indent: str


def find_regions(text: str, path: Path) -> Dict[str, Region]:
    lines = text.splitlines()
    opened: Dict[str, tuple] = {}
    regions: Dict[str, Region] = {}
    for i, line in enumerate(lines):
        match = MARKER.match(line.rstrip("\r"))
        if not match:
            continue
        part = match["part"]
        if match["dir"] == ">>>":
            if part in opened or part in regions:
                raise ToolkitError(f"{path}: line {i + 1}: a second '{part}' managed region starts here: "
                                   f"keep one pair of markers per region")
            opened[part] = (i, match["indent"])
        elif part not in opened:
            raise ToolkitError(f"{path}: line {i + 1}: '{part}' managed region ends before it starts: {RESTORE}")
        else:
            start, indent = opened.pop(part)
            regions[part] = Region(start + 1, i, indent)
    missing = [p for p in PARTS if p not in regions]
    if missing:
        raise ToolkitError(f"{path}: no complete '{missing[0]}' managed region (the "
                           f"'# >>> managed by make update-models: {missing[0]} >>>' marker pair): {RESTORE}")
    return regions


def _region_text(text: str, region: Region) -> str:
    return "\n".join(text.splitlines()[region.start:region.end])


def managed_model_list(text: str, path: Path) -> List[dict]:
    """The model_list entries inside the managed region, as YAML reads them."""
    try:
        items = yaml.safe_load(_region_text(text, find_regions(text, path)["models"])) or []
    except yaml.YAMLError as exc:
        raise ToolkitError(f"{path}: the managed models region is not valid YAML ({exc}): "
                           "run `git checkout config.yaml`, or fix it by hand") from None
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("litellm_params"), dict)]


def managed_ids(text: str, path: Path, provider: str) -> List[str]:
    """Ids of the `provider/...` deployments in the managed region (kept when a side fails)."""
    found = []
    for item in managed_model_list(text, path):
        model = str(item["litellm_params"].get("model", ""))
        if model.startswith(provider + "/") and model[len(provider) + 1:] not in found:
            found.append(model[len(provider) + 1:])
    return found


def managed_notes(text: str, path: Path) -> Dict[str, str]:
    """The '# <name>: <note>' comments render_models() put above entries without a fallback."""
    region = find_regions(text, path)["models"]
    notes = {}
    for line in text.splitlines()[region.start:region.end]:
        match = re.match(r"^\s*# (\S+): (.+?)\s*$", line)
        if match:
            notes[match[1]] = match[2]
    return notes


def outside_text(text: str, path: Path) -> str:
    """The file with the managed lines blanked out (line numbers kept): the user's part."""
    regions = find_regions(text, path)
    lines = text.splitlines()
    for part in PARTS:
        for i in range(regions[part].start, regions[part].end):
            lines[i] = ""
    return "\n".join(lines)


def names_outside(text: str, path: Path) -> Tuple[Set[str], Set[str]]:
    """(model_names, fallback sources) the user defines outside the managed regions."""
    try:
        data = yaml.safe_load(outside_text(text, path)) or {}
    except yaml.YAMLError as exc:
        raise ToolkitError(f"{path}: not valid YAML outside the managed regions ({exc}): fix config.yaml") from None
    names = {str(m.get("model_name")) for m in data.get("model_list") or [] if isinstance(m, dict)}
    fallbacks = (data.get("router_settings") or {}).get("fallbacks") or []
    return names, {str(k) for item in fallbacks if isinstance(item, dict) for k in item}


def _scalar(value: str) -> str:
    """A YAML scalar: bare when plainly safe, else double-quoted (JSON is valid YAML)."""
    return value if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:/-]*", value) and not value.endswith(":") \
        else json.dumps(value)


def _deployment(indent: str, name: str, model: str, params: tuple, info: tuple = ()) -> List[str]:
    return ([f"{indent}- model_name: {_scalar(name)}", f"{indent}  litellm_params:",
             f"{indent}    model: {_scalar(model)}"] + [f"{indent}    {p}" for p in params]
            + [f"{indent}  {line}" for line in info])


@dataclass
class Plan:
    """What the managed parts will hold."""
    entries: List[Entry]
    own_fallbacks: Set[str] = field(default_factory=set)  # models whose fallback the user wrote outside
    kept: List[dict] = field(default_factory=list)        # old deployments the user's own entries still name
    test_target: Optional[Entry] = None                   # what fallback-test falls back to
    own_test: bool = False                                # the user has a fallback-test of their own

    def names(self) -> Set[str]:
        """Every model_name the managed models region will define."""
        names = {e.name for e in self.entries} | {e.name + "-bedrock" for e in self.entries if e.has_fallback}
        names |= {str(item["model_name"]) for item in self.kept}
        return names | ({FALLBACK_TEST} if self.test_target and not self.own_test else set())


def render_models(plan: Plan, indent: str) -> List[str]:
    lines: List[str] = []
    for entry in plan.entries:
        lines += [f"{indent}# {entry.name}: {note}" for note in entry.notes]
        if entry.anthropic:
            lines += _deployment(indent, entry.name, f"anthropic/{entry.anthropic.upstream_id}", ANTHROPIC_PARAMS)
        if entry.bedrock:
            name = f"{entry.name}-bedrock" if entry.anthropic else entry.name
            lines += _deployment(indent, name, f"bedrock/{entry.bedrock.upstream_id}", BEDROCK_PARAMS,
                                 BEDROCK_MODEL_INFO)
    for item in plan.kept:
        lines += [f"{indent}# {item['model_name']}: {KEPT_NOTE}"] + _kept_deployment(indent, item)
    return lines + ([] if plan.own_test else _fallback_test(indent, plan.test_target))


def _kept_deployment(indent: str, item: dict) -> List[str]:
    params = item["litellm_params"]
    model = str(params["model"])
    base = (f"api_base: {_scalar(str(params['api_base']))}",) if params.get("api_base") else ()
    if model.startswith("bedrock/"):
        return _deployment(indent, str(item["model_name"]), model, BEDROCK_PARAMS + base, BEDROCK_MODEL_INFO)
    return _deployment(indent, str(item["model_name"]), model, base + ANTHROPIC_PARAMS)


def _fallback_test(indent: str, target: Optional[Entry]) -> List[str]:
    """`./test-proxy.sh fallback` asks for fallback-test: its Anthropic side is a closed port,
    so the answer must come from the Bedrock deployment of the cheapest model offered."""
    if target is None:
        return [f"{indent}# {FALLBACK_TEST} (./test-proxy.sh fallback): none, no model has both "
                "an Anthropic and a Bedrock deployment"]
    return ([f"{indent}# {FALLBACK_TEST} (./test-proxy.sh fallback): Anthropic side on a closed port (9), "
             f"so every request fails over to {target.name}-bedrock"]
            + _deployment(indent, FALLBACK_TEST, f"anthropic/{target.anthropic.upstream_id}",
                          (f"api_base: {CLOSED_PORT}",) + ANTHROPIC_PARAMS))


def render_fallbacks(plan: Plan, indent: str) -> List[str]:
    lines = [f"{indent}- {_scalar(e.name)}: [{_scalar(e.name + '-bedrock')}]"
             for e in plan.entries if e.has_fallback and e.name not in plan.own_fallbacks]
    if plan.test_target and not plan.own_test:
        lines.append(f"{indent}- {FALLBACK_TEST}: [{_scalar(plan.test_target.name + '-bedrock')}]")
    return lines


def render(text: str, path: Path, plan: Plan) -> str:
    """The whole file with both managed regions replaced; every other line unchanged.
    Models in plan.own_fallbacks have the user's fallback outside the region: none is added."""
    regions = find_regions(text, path)
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines[regions["models"].end].endswith("\r\n") else "\n"
    new = {"models": render_models(plan, regions["models"].indent),
           "fallbacks": render_fallbacks(plan, regions["fallbacks"].indent)}
    for part in sorted(PARTS, key=lambda p: -regions[p].start):  # bottom first: indexes stay valid
        region = regions[part]
        lines[region.start:region.end] = [line + newline for line in new[part]]
    return "".join(lines)


def check_with_litellm(candidate: Path) -> None:
    """Load the file the way the proxy will (gateway/config_check.py: about 8 s of CPU)."""
    config_check.check(candidate, config_check.placeholder_environment(), "LiteLLM rejects the updated config")


def validate(candidate: Path) -> None:
    """YAML, the toolkit's own checks, then LiteLLM's; raises ToolkitError."""
    configfile.load(candidate)
    check_with_litellm(candidate)


def replace(path: Path, new_text: str, check=validate) -> Path:
    """Validate new_text in a temp file beside config.yaml, back the old file up to
    config.yaml.bak, then move the temp file over it (atomic). Returns the backup."""
    backup = path.resolve().with_name(path.resolve().name + ".bak")
    write_atomic(path, new_text, backup=backup, check=check)
    return backup


def current_text(path: Path) -> str:
    if not path.exists():
        raise ToolkitError(f"no config file at {path}: `git checkout config.yaml` restores the shipped one")
    return path.read_bytes().decode("utf-8")  # bytes: keep \r\n line ends as they are


def managed_names(text: str, path: Path) -> Optional[Set[str]]:
    try:
        return {str(m.get("model_name")) for m in managed_model_list(text, path)}
    except ToolkitError:
        return None
