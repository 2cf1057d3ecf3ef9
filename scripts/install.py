"""`make install`: the project's .venv, created with uv from requirements.lock.

Runs on the system Python with the standard library only (nothing else exists
yet). A second run on an up-to-date venv only compares a stamp and returns.
"""
import hashlib
import sys
from pathlib import Path
from typing import List

from scripts.console import launcher
from scripts.core import paths
from scripts.core import uv as uv_tool
from scripts.core.errors import ToolkitError, entry_point

MIN_PYTHON = (3, 10)
LOCK = paths.PROJECT_DIR / "requirements.lock"
STAMP_NAME = ".toolkit-installed"


def check_python() -> None:
    if sys.version_info < MIN_PYTHON:
        have = ".".join(map(str, sys.version_info[:3]))
        need = ".".join(map(str, MIN_PYTHON))
        raise ToolkitError(f"Python {have} is too old: LiteLLM needs {need}+; run `make install PYTHON=python3.11`")


def wanted_stamp() -> str:
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def is_up_to_date(venv: Path) -> bool:
    stamp = venv / STAMP_NAME
    return (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text().strip() == wanted_stamp()


def install(venv: Path) -> None:
    uv = uv_tool.ensure_uv()
    if not (venv / "bin" / "python").exists():
        uv_tool.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    # --compile-bytecode: uv writes no .pyc by default, and LiteLLM then recompiles a
    # module from source on every request (a quarter of its CPU per request in
    # `make bench`), and its start-up takes seconds longer.
    uv_tool.run([uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"), str(LOCK)])
    (venv / STAMP_NAME).write_text(wanted_stamp() + "\n")


def _body(argv: List[str]) -> int:
    if "--remove-launcher" in argv:  # `make uninstall-all`
        print(f"Would remove the claude-gateway launcher {paths.launcher_file()}" if "--dry-run" in argv
              else launcher.remove())
        return 0
    check_python()
    venv = paths.venv_dir()
    dry_run = "--dry-run" in argv
    if is_up_to_date(venv) and "--force" not in argv:
        print(f">> {venv} is up to date with requirements.lock")
    elif dry_run:
        print(f"Would {'update' if venv.exists() else 'create'} {venv} with uv from requirements.lock")
    else:
        install(venv)
        print(f">> installed into {venv}")
    print(f"Would write the claude-gateway launcher {paths.launcher_file()}" if dry_run else launcher.install())
    return 0


main = entry_point(__name__, _body)
