"""Running the service manager: the one place a systemctl/launchctl command runs.

GATEWAY_SERVICE_MANAGER names a program to run instead, given the whole command as
arguments (the tests record the exact commands that way)."""
import shutil
import subprocess
from typing import Sequence

from scripts.core import paths
from scripts.core.errors import ToolkitError
from scripts.services import manager as service_manager


def run_manager(argv: Sequence[str], *, capture: bool = True) -> subprocess.CompletedProcess:
    stand_in = paths.override("GATEWAY_SERVICE_MANAGER")
    command = [stand_in, *argv] if stand_in else list(argv)
    if not stand_in and shutil.which(argv[0]) is None:
        raise ToolkitError(f"{argv[0]} not found: this machine has no {argv[0]}, so use `make up` instead of a service")
    try:
        return subprocess.run(command, capture_output=capture, text=True, timeout=60 if capture else None)
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"`{' '.join(argv)}` did not finish within 60s: check the service manager") from None


def run_steps(steps: Sequence[service_manager.Step]) -> None:
    for step in steps:
        print(f">> {step}")
        result = run_manager(step.argv)
        if result.returncode == 0:
            continue
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"exit {result.returncode}"
        if step.may_fail:
            print(f"   (that failed, which is fine here: {detail})")
            continue
        fix = ("this session has no systemd user manager: log in to a session that has one; without it, run "
               "the proxy with `make up` (after `make uninstall-service`, if the service is installed)"
               if "bus" in detail.lower() else "fix that, then run the same make target again")
        raise ToolkitError(f"`{step}` failed ({detail}): {fix}")
