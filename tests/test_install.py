"""make install: idempotent, and clear when uv or Python are missing."""
import os
import subprocess
import sys

import pytest
from conftest import PROJECT_DIR

from scripts import install
from scripts.core.errors import ToolkitError


def run_install(env):
    return subprocess.run([sys.executable, "-m", "scripts.install"], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=300)


def test_second_run_on_an_up_to_date_venv_is_a_no_op():
    """The project's own .venv (make check installed it) is up to date with the lock."""
    env = {**os.environ, "GATEWAY_VENV": str(PROJECT_DIR / ".venv")}
    stamp = PROJECT_DIR / ".venv" / install.STAMP_NAME
    before = stamp.stat().st_mtime_ns
    result = run_install(env)
    assert result.returncode == 0, result.stderr
    assert "is up to date with requirements.lock" in result.stdout
    assert stamp.stat().st_mtime_ns == before


def test_uv_that_cannot_be_installed_is_one_clear_line(tmp_path):
    env = {**os.environ, "GATEWAY_VENV": str(tmp_path / "venv"), "PATH": "/nonexistent",
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if install.find_uv() and not install.find_uv().startswith(("/root/.pyenv", "/usr")):
        pytest.skip("uv is installed under HOME or the interpreter prefix, so it cannot be hidden")
    result = subprocess.run([sys.executable, "-m", "scripts.install"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: could not install uv")
    assert "pip install --user uv" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_too_old_python_names_the_fix(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 9, 18, "final", 0))
    with pytest.raises(ToolkitError, match=r"Python 3\.9\.18 is too old.*make install PYTHON=python3\.11"):
        install.check_python()


def test_the_lock_pins_exact_versions_and_a_safe_litellm():
    pins = [line for line in (PROJECT_DIR / "requirements.lock").read_text().splitlines()
            if line and not line.startswith((" ", "#"))]
    assert pins and all("==" in line for line in pins)
    assert "litellm==1.106.2" in pins
    assert not any(line.startswith(("litellm==1.82.7", "litellm==1.82.8")) for line in pins)
