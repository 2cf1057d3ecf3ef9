"""The real Claude Code CLI for tests: installed once with npm into a cache
outside the repo and reused (`claude_binary()`).

The pinned version is in tests/claude_code_version.txt (one line), so .ci/run
can pre-install the same one:
    npm install --prefix "$GATEWAY_TEST_CACHE/node" "@anthropic-ai/claude-code@$(cat tests/claude_code_version.txt)"
Cache: $GATEWAY_TEST_CACHE/node, default ~/.cache/claude-gateway-tests/node, with
"~" the account's real home (tests move $HOME to a temp dir). The install needs
npm and the npm registry; a failure fails the test that asked, never skips it.
"""
import fcntl
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

PACKAGE = "@anthropic-ai/claude-code"
VERSION_FILE = Path(__file__).resolve().parent / "claude_code_version.txt"
_REAL_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)


def pinned_version() -> str:
    return VERSION_FILE.read_text().strip()


def cache_dir() -> Path:
    base = os.environ.get("GATEWAY_TEST_CACHE")
    return Path(base).expanduser() if base else _REAL_HOME / ".cache" / "claude-gateway-tests"


def _installed_version(prefix: Path) -> str:
    manifest = prefix / "node_modules" / PACKAGE / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return ""


def claude_binary() -> Path:
    """Path of the pinned `claude` executable, installing it when missing."""
    prefix = cache_dir() / "node"
    binary = prefix / "node_modules" / ".bin" / "claude"
    version = pinned_version()
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(prefix) != version or not binary.exists():
            npm = shutil.which("npm")
            if not npm:
                raise RuntimeError("npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)")
            result = subprocess.run(
                [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                 f"{PACKAGE}@{version}"],
                capture_output=True, text=True, timeout=600, env={**os.environ, "HOME": str(_REAL_HOME)})
            if result.returncode != 0:
                raise RuntimeError(f"npm install {PACKAGE}@{version} failed:\n{result.stdout}\n{result.stderr}")
    check = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    if version not in check.stdout:
        raise RuntimeError(f"{binary} --version said {check.stdout!r}{check.stderr!r}, expected {version}")
    return binary


def run_print(binary: Path, base_url: str, proxy_key: str, home: Path, model: str, timeout: float = 180) -> dict:
    """`claude -p "say hi"` through a proxy the way the shell block configures it
    (ANTHROPIC_AUTH_TOKEN = the proxy key): its JSON result, which must not be an error."""
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "TERM": "dumb", "ANTHROPIC_BASE_URL": base_url,
           "ANTHROPIC_AUTH_TOKEN": proxy_key, "ANTHROPIC_MODEL": model, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    done = subprocess.run([str(binary), "-p", "say hi", "--output-format", "json"], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"claude -p exited {done.returncode} without JSON: {done.stderr[-1000:]}") from None
    assert done.returncode == 0 and not result.get("is_error"), done.stdout + done.stderr[-1000:]
    return result
