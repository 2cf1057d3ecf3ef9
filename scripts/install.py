"""`make install`: the project's .venv, created with uv from requirements.lock.

Runs on the system Python with the standard library only (nothing else exists
yet). A second run on an up-to-date venv only compares a stamp and returns.
"""
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from scripts.core import paths
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


def find_uv() -> Optional[str]:
    found = shutil.which("uv")
    if found:
        return found
    for candidate in (Path.home() / ".local/bin/uv", Path(sys.prefix) / "bin/uv"):
        if candidate.exists():
            return str(candidate)
    return None


def ensure_uv() -> str:
    uv = find_uv()
    if uv:
        return uv
    print(">> uv not found; installing it with pip")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "uv"],
                            capture_output=True, text=True)
    uv = find_uv()
    if result.returncode != 0 or not uv:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ToolkitError(f"could not install uv ({last}): install it with `pip install --user uv` and re-run `make install`")
    return uv


def _run(command: List[str]) -> None:
    print(">> " + " ".join(command))
    if subprocess.run(command).returncode != 0:
        raise ToolkitError(f"`{' '.join(command)}` failed (see above): fix that and re-run `make install`")


def install(venv: Path) -> None:
    uv = ensure_uv()
    if not (venv / "bin" / "python").exists():
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    # --compile-bytecode: uv writes no .pyc by default, and LiteLLM then recompiles a
    # module from source on every request (a quarter of its CPU per request in
    # `make bench`), and its start-up takes seconds longer.
    _run([uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"), str(LOCK)])
    (venv / STAMP_NAME).write_text(wanted_stamp() + "\n")


def _body(argv: List[str]) -> int:
    check_python()
    venv = paths.venv_dir()
    if is_up_to_date(venv) and "--force" not in argv:
        print(f">> {venv} is up to date with requirements.lock")
        return 0
    install(venv)
    print(f">> installed into {venv}")
    return 0


main = entry_point(__name__, _body)
