"""config.yaml: load it and check the parts the toolkit relies on.

LiteLLM validates the rest when it starts; these checks exist so that the
common mistakes fail in one line that names the file and the key, before a
proxy start that would bury them in a traceback.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import yaml

from scripts.core.errors import ToolkitError


@dataclass
class ProxyConfig:
    path: Path
    data: dict
    # model_name -> provider models of its deployments, in config order
    deployments: Dict[str, List[str]] = field(default_factory=dict)
    # model_name -> the model groups it falls back to
    fallbacks: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def public_models(self) -> List[str]:
        """The names clients use, without the fallback-only '-bedrock' groups."""
        targets = {t for group in self.fallbacks.values() for t in group}
        return [name for name in self.deployments if name not in targets]

    @property
    def wildcards(self) -> List[str]:
        return [name for name in self.deployments if "*" in name]

    def without_fallback(self) -> List[str]:
        return [n for n in self.public_models if n not in self.fallbacks and "*" not in n]


def _fail(path: Path, where: str, problem: str) -> ToolkitError:
    return ToolkitError(f"{path}: {where}: {problem} (fix config.yaml, or `git checkout config.yaml` for the shipped one)")


def load(path: Path) -> ProxyConfig:
    if not path.exists():
        raise ToolkitError(f"no config file at {path}: `git checkout config.yaml` restores the shipped one")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise _fail(path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return from_data(path, data)


def from_data(path: Path, data: object) -> ProxyConfig:
    """Check an already parsed config (config.yaml, or the effective config rendered from it)."""
    if not isinstance(data, dict):
        raise _fail(path, "top level", "expected a mapping with model_list")
    config = ProxyConfig(path, data)
    _read_model_list(config)
    _read_fallbacks(config)
    return config


def _read_model_list(config: ProxyConfig) -> None:
    models = config.data.get("model_list")
    if not isinstance(models, list) or not models:
        raise _fail(config.path, "model_list", "missing or empty")
    for i, entry in enumerate(models):
        where = f"model_list[{i}]"
        if not isinstance(entry, dict) or not entry.get("model_name"):
            raise _fail(config.path, f"{where}.model_name", "missing")
        params = entry.get("litellm_params")
        if not isinstance(params, dict) or not params.get("model"):
            raise _fail(config.path, f"{where}.litellm_params.model", f"missing for {entry['model_name']}")
        config.deployments.setdefault(str(entry["model_name"]), []).append(str(params["model"]))


def _read_fallbacks(config: ProxyConfig) -> None:
    router = config.data.get("router_settings") or {}
    if not isinstance(router, dict):
        raise _fail(config.path, "router_settings", "expected a mapping")
    for i, item in enumerate(router.get("fallbacks") or []):
        where = f"router_settings.fallbacks[{i}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise _fail(config.path, where, "each entry maps one model name to a list of fallbacks")
        (source, targets), = item.items()
        if not isinstance(targets, list):
            raise _fail(config.path, where, f"fallbacks of {source} must be a list")
        for name in [source, *targets]:
            if name not in config.deployments:
                raise _fail(config.path, where, f"{name} is not a model_name in model_list")
        config.fallbacks[str(source)] = [str(t) for t in targets]
