"""`make check-cli-latest`: the CLI-driven tests against the newest published Claude Code and
Codex CLIs (what `npm view <package> version` says now), not the pins CI runs
(tests/claude_code_version.txt, tests/codex_version.txt).

They install into a cache of their own ($GATEWAY_TEST_CACHE_LATEST, default
~/.cache/claude-gateway-tests-latest), so the pinned CLIs other test runs use are never
replaced. Which tests: every tests/*/test_*.py that imports claude_cli or codex_cli. The
versions are printed first and last; the exit status is pytest's.

    python tests/cli_latest.py [pytest arguments]      e.g. `make check-cli-latest PYTEST_ARGS=-x`
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from node_cli import _REAL_HOME, override_variable  # noqa: E402

CLIS = {"@anthropic-ai/claude-code": "claude_code_version.txt", "@openai/codex": "codex_version.txt"}
CLI_HELPERS = ("claude_cli", "codex_cli")  # tests/ modules that install and run a CLI


def newest(package: str) -> str:
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("error: npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)")
    done = subprocess.run([npm, "view", package, "version"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(_REAL_HOME)})
    version = done.stdout.strip()
    if done.returncode != 0 or not re.fullmatch(r"\d+\.\d+\.\d+\S*", version):
        raise SystemExit(f"error: `npm view {package} version` failed ({done.stderr.strip()[-300:] or version!r}): "
                         "check the network and the npm registry setting")
    return version


def imports_any(path: Path, modules: set) -> bool:
    names = "|".join(sorted(modules))
    return bool(re.search(rf"^\s*(from ({names}) import|import ({names})\b)", path.read_text(encoding="utf-8"), re.M))


def cli_test_files() -> list:
    """Test files that import a CLI helper, directly or through another tests/ helper (e2e_clients)."""
    helpers = set(CLI_HELPERS)
    while True:
        more = {p.stem for p in TESTS.glob("*.py") if not p.stem.startswith("test_") and p.stem not in helpers
                and imports_any(p, helpers)}
        if not more:
            break
        helpers |= more
    return sorted(str(p) for p in TESTS.glob("*/test_*.py") if imports_any(p, helpers))


def main(argv: list) -> int:
    versions = {package: newest(package) for package in CLIS}
    pins = {package: (TESTS / name).read_text().strip() for package, name in CLIS.items()}
    summary = ", ".join(f"{p} {v} (pinned {pins[p]})" for p, v in versions.items())
    print(f">> newest published CLIs: {summary}", flush=True)
    cache = os.environ.get("GATEWAY_TEST_CACHE_LATEST") or str(_REAL_HOME / ".cache" / "claude-gateway-tests-latest")
    env = {**os.environ, "GATEWAY_TEST_CACHE": cache,
           **{override_variable(CLIS[p]): v for p, v in versions.items()}}
    files = cli_test_files()
    print(f">> {len(files)} CLI-driven test files, CLIs cached in {cache}", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *files, *argv], env=env, cwd=TESTS.parent)
    print(f">> ran against {summary}: pytest exit status {code}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
