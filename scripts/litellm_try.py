"""`make check-litellm VERSION=x.y.z`: the suite against another LiteLLM release, in a
virtualenv of its own, so a pin move shows which contact points break before it is made.

The venv is state/litellm-try/<version>: requirements.lock, then that LiteLLM on top.
`litellm[proxy]==<version>` with its dependencies when that resolves from the registry;
otherwise (1.110.x needs an unpublished litellm-proxy, 1.108.8-1.109.x unpublished
litellm-enterprise / litellm-proxy-extras releases) the bare `litellm==<version>` over the
lock's packages, which the report says. Then the tests that start nothing (`make
check-fast`: the LiteLLM surface's contract test names each moved internal), and with
--e2e the whole suite, its proxies run by that venv (GATEWAY_VENV). The project's .venv
is never touched.

    python -m scripts.litellm_try VERSION [--e2e] [-- PYTEST_ARGS...]
"""
import argparse
import os
import re
import subprocess
from typing import List

from scripts.core import paths
from scripts.core import uv as uv_tool
from scripts.core.errors import ToolkitError, entry_point

LOCK = paths.PROJECT_DIR / "requirements.lock"
# Never these two: they were published with a credential stealer.
REFUSED = {"1.82.7", "1.82.8"}


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.litellm_try", description=__doc__.splitlines()[0])
    p.add_argument("version", help="a LiteLLM release, e.g. 1.110.2")
    p.add_argument("--e2e", action="store_true", help="the whole suite, not only the tests that start nothing")
    p.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = p.parse_args(argv)
    if not re.fullmatch(r"\d+\.\d+\.\d+(\.post\d+|rc\d+)?", args.version):
        raise ToolkitError(f"VERSION={args.version!r} is not a release number: use e.g. `make check-litellm VERSION=1.110.2`")
    if args.version in REFUSED:
        raise ToolkitError(f"LiteLLM {args.version} was published with a credential stealer: pick another VERSION")
    return args


def build_venv(version: str) -> tuple:
    """(venv, how LiteLLM got there): a venv with the lock's packages and that LiteLLM."""
    uv = uv_tool.ensure_uv()
    venv = paths.state_dir() / "litellm-try" / version
    python = str(venv / "bin" / "python")
    if not (venv / "bin" / "python").exists():
        uv_tool.run([uv, "venv", "--quiet", "--python", "python3.11", str(venv)],
                    fix="install Python 3.11 or remove state/litellm-try")
    uv_tool.run([uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", python, str(LOCK)],
                fix="the project's requirements.lock must install first (`make install`)")
    with_extra = uv_tool.attempt([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                                  f"litellm[proxy]=={version}"])
    if with_extra.returncode == 0:
        return venv, f"litellm[proxy]=={version} with its own dependencies"
    why = (with_extra.stderr.strip().splitlines() or ["no reason given"])
    reason = next((line.strip() for line in why if "because" in line.lower()), why[-1].strip())
    uv_tool.run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--no-deps", "--python", python,
                 f"litellm=={version}"], fix=f"LiteLLM {version} is not on the package registry: pick another VERSION")
    return venv, f"litellm=={version} alone over requirements.lock ([proxy] does not resolve: {reason[:200]})"


def _body(argv: List[str]) -> int:
    args = parse_args(argv)
    venv, how = build_venv(args.version)
    print(f">> LiteLLM {args.version} in {venv}: {how}")
    selection = [] if args.e2e else ["-m", "not e2e"]
    env = {**os.environ, "GATEWAY_VENV": str(venv)}
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", *selection, *args.pytest_args],
                            cwd=paths.PROJECT_DIR, env=env)
    verdict = "passed" if result.returncode == 0 else f"FAILED (pytest exit {result.returncode}; see above)"
    print(f">> the suite{'' if args.e2e else ' without e2e'} on LiteLLM {args.version} ({how}): {verdict}")
    return result.returncode


main = entry_point(__name__, _body)
