"""Install, remove and inspect the login services of the proxy and the AWS SSO refresher.

The proxy service starts it at login and restarts it when it fails; the SSO
refresher runs every 4 hours and shortly after login.

    python -m scripts.service install proxy           make install-service
    python -m scripts.service install sso-refresh --dry-run
    python -m scripts.service status sso-refresh      make sso-refresh-status

scripts/service_render.py renders the files; this module is the one writer and
the one place a service manager command runs. GATEWAY_SERVICE_MANAGER names a
program to run instead, given the whole command as arguments (the tests record
the exact commands that way). Install is idempotent: when the files already
match, nothing is written and nothing runs. Uninstall removes exactly the files
install writes. make up/down/restart/logs use the service once it is installed
(installed_proxy_service()).
"""
import argparse
import os
import plistlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from . import paths, platform_info, proxy, procs, service_manager, service_render, settings as settings_mod, sso_profile
from .errors import ToolkitError, run_main
from .http import is_live

# ---- running the service manager: the one call site ----------------------------------


def run_manager(argv: Sequence[str], *, capture: bool = True) -> subprocess.CompletedProcess:
    stand_in = os.environ.get("GATEWAY_SERVICE_MANAGER")
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


# ---- writing ------------------------------------------------------------------------


def _target(platform: str, unit: service_render.UnitFile) -> Path:
    return platform_info.service_dir(platform) / unit.name


def _is_current(path: Path, unit: service_render.UnitFile) -> bool:
    try:
        return path.read_text(encoding="utf-8") == unit.content and path.stat().st_mode & 0o777 == unit.mode
    except OSError:
        return False


def _write(path: Path, unit: service_render.UnitFile) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(unit.content, encoding="utf-8")
    temp.chmod(unit.mode)
    os.replace(temp, path)


def _preflight(service: str) -> bool:
    """Check what the service needs; False when there is nothing to install."""
    if service == "proxy":
        proxy.litellm_command(proxy.preflight())
    else:
        name = settings_mod.load(validate=False).get("AWS_PROFILE")
        try:
            if not name:
                raise sso_profile.NotSsoProfile("AWS_PROFILE is not set in .env")
            sso_profile.find(name)
        except sso_profile.NotSsoProfile as exc:
            print(f">> no AWS SSO refresher needed: {str(exc).split(': nothing')[0]}; nothing installed")
            return False
    python = paths.venv_bin("python")
    if not python.exists():
        raise ToolkitError(f"{python} not found: run `make install`")
    return True


def install(service: str, platform: str, dry_run: bool) -> int:
    if not _preflight(service):
        return 0
    manager = service_manager.for_platform(platform)
    units = service_render.render(service, platform, service_render.Context.current())
    changed = [u for u in units if not _is_current(_target(platform, u), u)]
    if not changed:
        print(f">> {service} service already installed and up to date: nothing changed (`make status`)")
        return 0
    replacing = any(_target(platform, u).exists() for u in units)
    steps = manager.install_steps(service, replacing)
    stray = proxy.running_pid() if service == "proxy" else None
    if dry_run:
        for unit in changed:
            print(f"Would write {_target(platform, unit)} (mode {unit.mode:04o})")
        if stray:
            print(f"Would stop the proxy `make up` started (pid {stray}): the service runs it from now on")
        for step in steps:
            print(f"Would run: {step}")
        return 0
    previous = {u.name: _snapshot(_target(platform, u)) for u in changed}
    for unit in changed:
        _write(_target(platform, unit), unit)
        print(f">> wrote {_target(platform, unit)}")
    try:
        run_steps(steps[:-1])
        if stray:  # just before the last step starts the service on the same port
            procs.terminate(stray)
            paths.pid_file().unlink(missing_ok=True)
            print(f">> stopped the proxy `make up` started (pid {stray}): the service runs it from now on")
        run_steps(steps[-1:])
    except ToolkitError:
        for unit in changed:  # leave things as they were, so running install again retries
            _restore(_target(platform, unit), previous[unit.name])
        raise
    _report_installed(service, platform)
    return 0


def _snapshot(path: Path) -> Optional[Tuple[bytes, int]]:
    return (path.read_bytes(), path.stat().st_mode & 0o777) if path.exists() else None


def _restore(path: Path, snapshot: Optional[Tuple[bytes, int]]) -> None:
    if snapshot is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(snapshot[0])
        path.chmod(snapshot[1])


def _report_installed(service: str, platform: str) -> None:
    what = ("the proxy starts at login and restarts when it fails" if service == "proxy"
            else "the AWS SSO login is refreshed every 4 hours and shortly after login")
    print(f">> {service} service installed: {what} (`make status`)")
    if platform == platform_info.LINUX and not platform_info.linger_enabled():
        print(">> note: to start it at boot, before you log in: sudo loginctl enable-linger $USER")


def uninstall(service: str, platform: str, dry_run: bool) -> int:
    manager = service_manager.for_platform(platform)
    present = [path for path in unit_paths(service, platform) if path.exists()]
    if not present:
        print(f">> {service} service is not installed: nothing to remove")
        return 0
    before, after = manager.uninstall_steps(service)
    if dry_run:
        for step in before:
            print(f"Would run: {step}")
        for path in present:
            print(f"Would remove {path}")
        for step in after:
            print(f"Would run: {step}")
        return 0
    run_steps(before)
    for path in present:
        path.unlink()
        print(f">> removed {path}")
    run_steps(after)
    if service == "proxy":
        print(">> the proxy service is gone and the proxy stopped; `make up` starts it by hand")
    return 0


def unit_paths(service: str, platform: str) -> List[Path]:
    return [platform_info.service_dir(platform) / name for name in service_render.file_names(service, platform)]


# ---- the proxy under the service manager (make up/down/restart/logs) ------------------------


class ManagedProxy:
    """The proxy as the installed service runs it."""

    def __init__(self, platform: str):
        self.platform = platform
        self.manager = service_manager.for_platform(platform)

    def up(self, cfg: settings_mod.Settings) -> int:
        run_steps(self.manager.start("proxy"))
        return self._wait(cfg)

    def restart(self, cfg: settings_mod.Settings) -> int:
        run_steps([self.manager.restart("proxy")])
        return self._wait(cfg)

    def down(self) -> int:
        run_steps([self.manager.stop("proxy")])
        print(">> proxy service stopped (it starts again at the next login, or with `make up`)")
        return 0

    def logs(self) -> int:
        return run_manager(self.manager.logs("proxy"), capture=False).returncode

    def _wait(self, cfg: settings_mod.Settings) -> int:
        started, timeout = time.monotonic(), proxy.start_timeout()
        while not is_live(cfg.base_url, timeout=1.0):
            if time.monotonic() - started > timeout:
                raise ToolkitError(f"the proxy service did not answer at {cfg.base_url} within {timeout:.0f}s: "
                                   "see `make service-status` and `make logs`")
            time.sleep(0.3)
        print(f">> proxy is up at {cfg.base_url} (run by the login service)")
        return 0


def installed_proxy_service() -> Optional[ManagedProxy]:
    """The login service, when one is installed for this setup (the same .env)."""
    platform = platform_info.current()
    path = unit_paths("proxy", platform)[0]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if _installed_env_file(text, platform) != str(paths.env_file()):
        return None  # a service of another checkout or setup: not this proxy
    return ManagedProxy(platform)


def _installed_env_file(text: str, platform: str) -> Optional[str]:
    if platform == platform_info.MACOS:
        try:
            return plistlib.loads(text.encode())["EnvironmentVariables"]["GATEWAY_ENV_FILE"]
        except (plistlib.InvalidFileException, KeyError, TypeError, ValueError):
            return None
    for line in text.splitlines():
        value = line.partition("=")[2].strip()
        if line.startswith("Environment=") and value.strip('"').startswith("GATEWAY_ENV_FILE="):
            if value.startswith('"'):
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return value.partition("=")[2].replace("%%", "%")
    return None


# ---- command line ----------------------------------------------------------------------


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.service", description=__doc__.splitlines()[0],
                                     epilog="example: python -m scripts.service install proxy --dry-run")
    parser.add_argument("action", choices=("install", "uninstall", "status"))
    parser.add_argument("service", choices=service_render.SERVICES)
    parser.add_argument("--dry-run", action="store_true", help="print what would be written and run; change nothing")
    args = parser.parse_args(argv)
    platform = platform_info.current()
    if args.action == "install":
        return install(args.service, platform, args.dry_run)
    if args.action == "uninstall":
        return uninstall(args.service, platform, args.dry_run)
    from .service_status import status  # late: service_status imports this module
    return status(args.service, platform)


def main(argv: List[str]) -> int:
    return run_main(_body, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
