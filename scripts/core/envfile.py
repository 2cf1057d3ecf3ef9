"""Read and update the project's .env without disturbing what the user wrote.

The format is the one docker-compose and systemd's EnvironmentFile= share:
KEY=VALUE lines, optional surrounding quotes, comments with '#'. When a key is set
twice the last line wins (as for both of them); reading warns about that, and about
lines that are not KEY=VALUE, since either silently changes what the toolkit uses.
"""
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from scripts.core.errors import ToolkitError, warn
from scripts.core.files import PRIVATE, write_atomic

_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_WORD = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)")
BOM = "\ufeff"  # Windows editors put it before the first line; it is no part of the first key


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    # An unquoted value ends at an inline comment (" #"), as in docker-compose.
    return re.split(r"\s+#", value, maxsplit=1)[0]


@dataclass
class Scan:
    """What a .env text says: the values (last line wins), the line numbers that set
    each key, and the lines that set nothing although they are not comments."""
    values: Dict[str, str] = field(default_factory=dict)
    lines: Dict[str, List[int]] = field(default_factory=dict)
    ignored: List[Tuple[int, str]] = field(default_factory=list)  # (line number, why)


def _ignored_reason(line: str) -> str:
    """Why a line is no assignment, naming its first word but never a value (it may be a secret)."""
    word = _WORD.match(line)
    name = word.group(1) if word else None
    if "=" not in line:
        return (f"({name} ...) has no '=': write {name}=value" if name else "has no '=': write NAME=value")
    return "is not NAME=value (a name is letters, digits and _, not starting with a digit)"


def scan(text: str) -> Scan:
    result = Scan()
    for number, line in enumerate(text.removeprefix(BOM).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            result.ignored.append((number, _ignored_reason(line)))
            continue
        result.values[match.group(2)] = _unquote(match.group(3))
        result.lines.setdefault(match.group(2), []).append(number)
    return result


def parse(text: str) -> Dict[str, str]:
    return scan(text).values


def _numbers(numbers: List[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def warn_about(path: Path, found: Scan) -> None:
    """One warning line per ignored line and per key set more than once."""
    for number, reason in found.ignored:
        warn(f"{path} line {number} {reason}; the line is ignored")
    for key, numbers in found.lines.items():
        if len(numbers) > 1:
            others = "the others" if len(numbers) > 2 else f"line {numbers[0]}"
            warn(f"{path} sets {key} on lines {_numbers(numbers)}: line {numbers[-1]} is in force; "
                 f"delete {others}")


def _unreadable(path: Path, exc: OSError) -> ToolkitError:
    try:
        owner = path.stat().st_uid
    except OSError:
        owner = os.getuid()
    if owner != os.getuid():
        fix = f"make it yours: `sudo chown \"$(id -un)\" {path} && chmod 600 {path}`"
    else:
        fix = f"run `chmod 600 {path}`"
    return ToolkitError(f"cannot read {path} ({exc.strerror or exc}): {fix}")


def read_text(path: Path) -> str:
    """The file's text (a BOM kept), or ToolkitError naming the fix: missing, a
    directory, unreadable, not UTF-8."""
    if not path.exists():
        raise ToolkitError(f"no {path.name} file at {path}: run `cp .env.template .env` and fill it in")
    if path.is_dir():
        raise ToolkitError(f"{path} is a directory, not a file: move it away, then "
                           "`cp .env.template .env` and fill it in")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ToolkitError(f"{path} line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
                           "save the file as UTF-8 in your editor") from None


def read(path: Path) -> Dict[str, str]:
    found = scan(read_text(path))
    warn_about(path, found)
    return found.values


def is_private(path: Path) -> bool:
    """True when neither group nor others can read the file."""
    return path.stat().st_mode & 0o077 == 0


@dataclass(frozen=True)
class Written:
    line: int              # the line number KEY is now set on
    ignored: List[int]     # earlier lines setting KEY, which the written one overrides
    appended: bool


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def set_value(path: Path, key: str, value: str) -> Written:
    """Set KEY=value in place: the line in force (the last KEY line) gets the new
    value with its own `export` and line ending; every other line, comment and blank
    stays byte for byte; KEY is appended when absent. The file is written atomically
    and ends up 0600."""
    text = read_text(path) if path.exists() else ""
    bom = BOM if text.startswith(BOM) else ""
    lines = text.removeprefix(BOM).splitlines(keepends=True)
    numbers = [i for i, line in enumerate(lines)
               if (m := _LINE.match(line)) and m.group(2) == key and not line.lstrip().startswith("#")]
    newline = "\r\n" if any(line.endswith("\r\n") for line in lines) else "\n"
    if numbers:
        last = numbers[-1]
        prefix = _LINE.match(lines[last]).group(1)
        lines[last] = f"{prefix}{key}={value}{_ending(lines[last])}"
    else:
        if lines and not _ending(lines[-1]):
            lines[-1] += newline
        lines.append(f"{key}={value}{newline}")
        last = len(lines) - 1
    write_private(path, bom + "".join(lines))
    return Written(last + 1, [n + 1 for n in numbers[:-1]], not numbers)


def write_private(path: Path, text: str) -> None:
    """Atomic replace with mode 0600; follows a symlinked .env to its target."""
    write_atomic(path, text, mode=PRIVATE)
