"""Add, replace and remove one managed block in a user's shell startup file,
never losing what the user wrote.

The block sits between two marker lines (BEGIN, END). Right after BEGIN a
comment records what adding the block changed around it (newlines added before
it, a file or directories created), so `remove` gives back the original bytes.

Safety rules, each one tested:
- the file is read and written as bytes (any encoding survives);
- a symlinked rc file (dotfile managers) is edited at its target: the link stays;
- writes are atomic (temp file in the target's directory, then rename) and keep
  the file's permission bits; a missing file is created 0644;
- before a change, the previous content is copied into a backup directory the
  caller names (outside the rc file's directory, so removal leaves no trace there);
- damaged markers (a BEGIN without END, an END alone, two blocks) are refused
  before anything is written, with the line number and the fix.
"""
import contextlib
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from scripts.core import files
from scripts.core.errors import ToolkitError

BEGIN = "# >>> claude-gateway >>>"
END = "# <<< claude-gateway <<<"
RESTORE_PREFIX = "# claude-gateway restore info (used by remove-claude): "
NEW_FILE_MODE = 0o644
CODEC = ("utf-8", "surrogateescape")  # round-trips any byte sequence


@dataclass
class RestoreInfo:
    """What adding the block changed outside it, undone by remove()."""
    newlines_before: int = 0
    created_file: bool = False
    created_dirs: List[str] = field(default_factory=list)

    def line(self) -> str:
        data = {"newlines_before": self.newlines_before, "created_file": self.created_file,
                "created_dirs": self.created_dirs}
        return RESTORE_PREFIX + json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, block: str) -> "RestoreInfo":
        for line in block.splitlines():
            if line.startswith(RESTORE_PREFIX):
                try:
                    data = json.loads(line[len(RESTORE_PREFIX):])
                    return cls(int(data.get("newlines_before", 0)), bool(data.get("created_file")),
                               [str(d) for d in data.get("created_dirs", [])])
                except (ValueError, TypeError, AttributeError):
                    break  # a hand-edited line: remove the block only
        return cls()


def target_of(path: Path) -> Path:
    """The file to edit: a symlink's final target, else the path itself."""
    return path.resolve() if path.is_symlink() else path


def read_text(path: Path) -> Optional[str]:
    target = target_of(path)
    if not target.exists():
        return None
    try:
        return target.read_bytes().decode(*CODEC)
    except OSError as exc:
        raise ToolkitError(f"cannot read {target}: {exc.strerror}: "
                           "fix that path (it must be a readable file), then run again") from None


def has_block(path: Path) -> bool:
    """Whether path holds the block's first marker (a quick look for `make status`)."""
    try:
        return BEGIN in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def find_block(text: str, path: Path) -> Optional[Tuple[int, int]]:
    """(start, end) character offsets of the block, END's line included, or None.
    Raises ToolkitError, naming the line, when the markers are damaged."""
    begins, ends, offset = [], [], 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            begins.append((number, offset))
        elif stripped == END:
            ends.append((number, offset + len(line)))
        offset += len(line)
    fix = "fix or delete the claude-gateway lines by hand, then run the command again"
    if len(begins) > 1 or len(ends) > 1:
        lines = ", ".join(str(n) for n, _ in begins + ends)
        raise ToolkitError(f"{path} has more than one claude-gateway marker (lines {lines}): {fix}")
    if begins and not ends:
        raise ToolkitError(f"{path} line {begins[0][0]} opens a claude-gateway block that is never closed "
                           f"(no '{END}' after it): {fix}")
    if ends and not begins:
        raise ToolkitError(f"{path} line {ends[0][0]} closes a claude-gateway block that was never opened "
                           f"(no '{BEGIN}' before it): {fix}")
    if not begins:
        return None
    if ends[0][0] < begins[0][0]:
        raise ToolkitError(f"{path} has the claude-gateway end marker (line {ends[0][0]}) before the begin "
                           f"marker (line {begins[0][0]}): {fix}")
    return begins[0][1], ends[0][1]


def block_text(body: str, info: RestoreInfo) -> str:
    return f"{BEGIN}\n{info.line()}\n{body.rstrip(chr(10))}\n{END}\n"


def planned_install(path: Path, body: str) -> Tuple[str, str]:
    """(new file text, what happens: 'added' | 'updated' | 'unchanged'); writes nothing."""
    text = read_text(path)
    if text is None:
        return block_text(body, RestoreInfo(created_file=True, created_dirs=_missing_dirs(target_of(path)))), "added"
    span = find_block(text, path)
    if span:
        start, end = span
        info = RestoreInfo.parse(text[start:end])
        new = text[:start] + block_text(body, info) + text[end:]
        return new, ("unchanged" if new == text else "updated")
    # A blank line between the user's content and ours; record what we added.
    newlines = 0 if text == "" else (1 if text.endswith("\n") else 2)
    info = RestoreInfo(newlines_before=newlines)
    return text + "\n" * newlines + block_text(body, info), "added"


def planned_removal(path: Path) -> Tuple[Optional[str], RestoreInfo, bool]:
    """(text after removal, restore info, whether a block was there); writes nothing."""
    text = read_text(path)
    if text is None:
        return None, RestoreInfo(), False
    span = find_block(text, path)
    if not span:
        return text, RestoreInfo(), False
    start, end = span
    info = RestoreInfo.parse(text[start:end])
    before = text[:start]
    newlines = info.newlines_before
    if newlines and before.endswith("\n" * newlines):
        before = before[:-newlines]
    return before + text[end:], info, True


def install(path: Path, body: str, backup_dir: Path) -> str:
    """Add or replace the block; returns 'added', 'updated' or 'unchanged'."""
    new, outcome = planned_install(path, body)
    if outcome != "unchanged":
        target = target_of(path)
        with _explained(target):
            for directory in reversed(_missing_dirs(target)):
                Path(directory).mkdir(mode=0o755)
            write_atomic(target, new, backup_dir)
    return outcome


def remove(path: Path, backup_dir: Path) -> str:
    """Take the block out again; returns 'removed', 'deleted' (the file was ours) or 'absent'."""
    new, info, found = planned_removal(path)
    if not found:
        return "absent"
    target = target_of(path)
    with _explained(target):
        if info.created_file and new == "":
            backup(target, backup_dir)
            target.unlink()
            for directory in info.created_dirs:  # deepest first, and only when empty
                try:
                    Path(directory).rmdir()
                except OSError:
                    break
            return "deleted"
        write_atomic(target, new, backup_dir)
    return "removed"


@contextlib.contextmanager
def _explained(target: Path) -> Iterator[None]:
    """A failed write (permissions, full disk) as one line; the atomic write left the file as it was."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or target
        raise ToolkitError(f"cannot write {where}: {exc.strerror} ({target} is unchanged): "
                           "fix that path (permissions, a file in the way, free space), then run again") from None


def backup_path(target: Path, backup_dir: Path) -> Path:
    """One backup per rc file (the content before our latest change)."""
    digest = hashlib.sha256(str(target).encode()).hexdigest()[:8]
    return backup_dir / f"{target.name.lstrip('.')}-{digest}.bak"


def backup(target: Path, backup_dir: Path) -> Path:
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy = backup_path(target, backup_dir)
    shutil.copy2(target, copy)
    return copy


def write_atomic(target: Path, text: str, backup_dir: Path) -> None:
    """Replace target's content atomically, keeping its mode; backs up the old content."""
    mode = None if target.exists() else NEW_FILE_MODE
    files.write_atomic(target, text.encode(*CODEC), mode=mode, backup=backup_path(target, backup_dir))


def _missing_dirs(target: Path) -> List[str]:
    """The target's parent directories that do not exist yet, deepest first."""
    missing, directory = [], target.parent
    while not directory.exists():
        missing.append(str(directory))
        directory = directory.parent
    return missing
