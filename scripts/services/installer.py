"""Install and remove the login services' files: render (scripts/services/render.py),
then this module is the one writer. Install is idempotent: when the files already
match, nothing is written and nothing runs; a failed step restores what was there.
Uninstall removes exactly the files install writes."""
from pathlib import Path
from typing import List, Optional, Tuple

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.core.files import write_atomic
from scripts.gateway import process
from scripts.services import manager as service_manager
from scripts.services import platform as platform_info
from scripts.services import render as service_render
from scripts.services import sso_profile
from scripts.services.control import run_steps


def _target(platform: str, unit: service_render.UnitFile) -> Path:
    return platform_info.service_dir(platform) / unit.name


def _is_current(path: Path, unit: service_render.UnitFile) -> bool:
    try:
        return path.read_text(encoding="utf-8") == unit.content and path.stat().st_mode & 0o777 == unit.mode
    except OSError:
        return False


def _write(path: Path, unit: service_render.UnitFile) -> None:
    write_atomic(path, unit.content, mode=unit.mode)


def _preflight(service: str) -> bool:
    """Check what the service needs; False when there is nothing to install."""
    if service == "proxy":
        process.litellm_command(process.preflight())
    else:
        name = settings_mod.load(validate=False).get("AWS_PROFILE")
        try:
            if not name:
                raise sso_profile.NotSsoProfile("AWS_PROFILE is not set in .env", "nothing to refresh")
            sso_profile.find(name)
        except sso_profile.NotSsoProfile as exc:
            print(f">> no AWS SSO refresher needed: {exc.reason}; nothing installed")
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
    stray = process.running_pid() if service == "proxy" else None
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
            process.stop()  # lets its requests in flight finish, as `make down` does
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
