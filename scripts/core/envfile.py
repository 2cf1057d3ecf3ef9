"""Read and update the project's .env without disturbing what the user wrote.

The format is the one docker-compose and systemd's EnvironmentFile= share:
KEY=VALUE lines, optional surrounding quotes, comments with '#'.
"""
import re
from pathlib import Path
from typing import Dict

from scripts.core.errors import ToolkitError
from scripts.core.files import PRIVATE, write_atomic

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    # An unquoted value ends at an inline comment (" #"), as in docker-compose.
    return re.split(r"\s+#", value, maxsplit=1)[0]


def parse(text: str) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            values[match.group(1)] = _unquote(match.group(2))
    return values


def read(path: Path) -> Dict[str, str]:
    if not path.exists():
        raise ToolkitError(f"no {path.name} file at {path}: run `cp .env.template .env` and fill it in")
    return parse(path.read_text(encoding="utf-8"))


def is_private(path: Path) -> bool:
    """True when neither group nor others can read the file."""
    return path.stat().st_mode & 0o077 == 0


def set_value(path: Path, key: str, value: str) -> None:
    """Set KEY=value in place: the first KEY line is replaced, every other line,
    comment and blank stays byte for byte; KEY is appended when absent.
    The file is written atomically and ends up 0600."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines(keepends=True)
    replaced = False
    for i, line in enumerate(lines):
        match = _LINE.match(line)
        if match and match.group(1) == key and not line.lstrip().startswith("#"):
            ending = "\n" if line.endswith("\n") else ""
            lines[i] = f"{key}={value}{ending}"
            replaced = True
            break
    if not replaced:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(f"{key}={value}\n")
    write_private(path, "".join(lines))


def write_private(path: Path, text: str) -> None:
    """Atomic replace with mode 0600; follows a symlinked .env to its target."""
    write_atomic(path, text, mode=PRIVATE)
