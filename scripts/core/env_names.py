"""Misspelt .env names: a typo in a variable's name is never an error anywhere else.

`ANTROPIC_API_KEY=...` or `AWS_REGON=eu-west-1` starts fine and the value is simply
unused, so `make up` says which known variable each such name is close to (difflib
against the variables of .env.template and the ones the toolkit reads).
"""
import difflib
import re
from pathlib import Path
from typing import Iterable, List

from scripts.core import envcheck, envfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, warn
# A name this close to a known one (ANTROPIC_API_KEY: 0.97, AWS_REGON: 0.95) is a typo;
# unrelated variables users keep in .env (OPENAI_API_KEY vs ZAI_API_KEY: 0.81) are not.
CLOSE_ENOUGH = 0.88


def template_names(template_text: str) -> List[str]:
    """The variables .env.template names, set (`X=`) or shown commented out (`# X=`)."""
    return sorted(set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", template_text, re.M)))


def misspelt(names: Iterable[str], known: Iterable[str]) -> List[str]:
    """`NAME: did you mean KNOWN?` for each name that is not known but close to one.
    MODEL_<KEY>_ fields have their own stricter check (core/model_specs.py)."""
    known = sorted(set(known))
    found = []
    for name in names:
        if name in known or name.startswith("MODEL_"):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=CLOSE_ENOUGH)
        if close:
            found.append(f"{name}: did you mean {close[0]}? (.env sets {name}, which the toolkit does not read)")
    return found


def known_variables() -> List[str]:
    """.env.template's variables and every one the toolkit itself reads from .env."""
    try:
        template = template_names(paths.env_template().read_text(encoding="utf-8"))
    except OSError:
        template = []  # a checkout without the template still knows the toolkit's own names
    return sorted({*template, *settings_mod.FILE_ONLY, *settings_mod.FILE_OR_SHELL, *settings_mod.TUNING_FROM_SHELL,
                   *envcheck.CHECKS, *envcheck.ONE_WORD, *settings_mod.toolkit_locations(),
                   settings_mod.OLLAMA_KEYLESS, "PROXY_MODEL_KEYS", "CLAUDE_FALLBACK_AFTER_BEDROCK"})


def warn_misspelt(env_path: Path) -> List[str]:
    """One warning per misspelt name in .env; the warnings, for tests. A missing or
    unreadable .env is left to settings.load, which names its fix."""
    try:
        names = envfile.parse(envfile.read_text(env_path))
    except ToolkitError:
        return []
    found = misspelt(names, known_variables())
    for line in found:
        warn(line)
    return found
