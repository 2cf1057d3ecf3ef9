"""The `claude-gateway` launcher: a small sh script in a directory on PATH (~/.local/bin,
or GATEWAY_BIN_DIR) that runs scripts/cli.py with this checkout's .venv Python.

render() only returns the text; install() and remove() write. `make install` runs this
on the system Python before the venv exists, so it uses the standard library and core only.
A launcher that is not ours (no MARKER) is never overwritten or removed.
"""
import os
import shlex
from pathlib import Path
from typing import Optional

from scripts.core import files, paths, templates
from scripts.core.errors import ToolkitError, warn

TEMPLATE = paths.PROJECT_DIR / "templates" / "launcher" / "claude-gateway"
MARKER = "# claude-gateway: the console command of the claude-gateway checkout"
MODE = 0o755  # a program: readable and runnable; it holds no secret


def render() -> str:
    values = {"PYTHON": shlex.quote(str(paths.venv_bin("python").absolute())),
              "PROJECT_DIR": shlex.quote(str(paths.PROJECT_DIR)), "PROJECT_LABEL": str(paths.PROJECT_DIR)}
    if any(c in v for v in values.values() for c in "\n\r"):
        raise ToolkitError(f"the project path {paths.PROJECT_DIR} contains a line break: move it to a plain path")
    return templates.fill(TEMPLATE.read_text(encoding="utf-8"), values, "launcher/claude-gateway")


def _ours(path: Path) -> Optional[bool]:
    """True: our launcher; False: someone else's file; None: nothing there."""
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolkitError(f"cannot read {path}: {exc.strerror}: fix that path, then run `make install` "
                           "again") from None


def on_path(directory: Path) -> bool:
    entries = [Path(p).expanduser() for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return any(e == directory or (e.exists() and directory.exists() and e.samefile(directory)) for e in entries)


def install() -> str:
    """Write the launcher; returns the one line to print."""
    target, text = paths.launcher_file(), render()
    ours = _ours(target)
    if ours is False:
        raise ToolkitError(f"{target} exists and is not claude-gateway's launcher: move it away, or set "
                           "GATEWAY_BIN_DIR to another directory on your PATH, then run `make install` again")
    if ours and target.read_text(encoding="utf-8") == text:
        line = f">> {target} is up to date"
    else:
        files.write_atomic(target, text, mode=MODE)
        line = f">> wrote {target}: `claude-gateway --help` works from any directory"
    if not on_path(target.parent):
        warn(f"{target.parent} is not on your PATH: add it in your shell profile "
             f"(export PATH=\"{target.parent}:$PATH\") or run {target} by its full path")
    return line


def remove() -> str:
    target = paths.launcher_file()
    ours = _ours(target)
    if ours is None:
        return f">> no launcher at {target}"
    if not ours:
        return f">> {target} is not claude-gateway's launcher: left as it is"
    target.unlink()
    return f">> removed {target}"
