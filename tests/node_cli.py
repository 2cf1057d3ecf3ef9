"""Real command-line clients from npm for tests (Claude Code, Codex CLI): each installed
once, at the version pinned in a file beside this one, into a cache outside the repo,
and reused.

Cache: $GATEWAY_TEST_CACHE/node, default ~/.cache/claude-gateway-tests/node, with "~"
the account's real home (tests move $HOME to a temp dir). .ci/run installs the same
pinned versions there first:
    npm install --prefix "$CACHE/node" --save-exact "<package>@$(cat tests/<name>_version.txt)"
The install needs npm and the npm registry; a failure fails the test that asked, never
skips it.
"""
import fcntl
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

TESTS = Path(__file__).resolve().parent
_REAL_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)


def pinned_version(version_file: str) -> str:
    return (TESTS / version_file).read_text().strip()


def cache_dir() -> Path:
    base = os.environ.get("GATEWAY_TEST_CACHE")
    return Path(base).expanduser() if base else _REAL_HOME / ".cache" / "claude-gateway-tests"


def _installed_version(prefix: Path, package: str) -> str:
    manifest = prefix / "node_modules" / package / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return ""


def installed_binary(package: str, version: str, command: str) -> Path:
    """Path of `command` from `package`@`version`, installing it when missing."""
    prefix = cache_dir() / "node"
    binary = prefix / "node_modules" / ".bin" / command
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(prefix, package) != version or not binary.exists():
            npm = shutil.which("npm")
            if not npm:
                raise RuntimeError("npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)")
            result = subprocess.run(
                [npm, "install", "--prefix", str(prefix), "--save-exact", "--no-audit", "--no-fund",
                 "--loglevel=error", f"{package}@{version}"],
                capture_output=True, text=True, timeout=600, env={**os.environ, "HOME": str(_REAL_HOME)})
            if result.returncode != 0:
                raise RuntimeError(f"npm install {package}@{version} failed:\n{result.stdout}\n{result.stderr}")
    check = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    if version not in check.stdout:
        raise RuntimeError(f"{binary} --version said {check.stdout!r}{check.stderr!r}, expected {version}")
    return binary
