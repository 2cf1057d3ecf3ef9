"""uv, the installer of every virtualenv the toolkit makes (standard library only: it runs
before any venv exists)."""
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from scripts.core.errors import ToolkitError


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


def run(command: List[str], fix: str = "fix that and re-run `make install`") -> None:
    print(">> " + " ".join(command))
    if subprocess.run(command).returncode != 0:
        raise ToolkitError(f"`{' '.join(command)}` failed (see above): {fix}")


def attempt(command: List[str]) -> subprocess.CompletedProcess:
    """A uv call whose failure the caller handles (its output is returned, not raised)."""
    print(">> " + " ".join(command))
    return subprocess.run(command, capture_output=True, text=True)
