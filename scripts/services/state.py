"""The state of the login services: `make service-status`, `make sso-refresh-status`,
and the service rows of `make status`. The service manager is asked through
scripts/services/control.py, its one call site."""
from typing import Optional, Tuple

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.gateway import process
from scripts.services import manager as service_manager
from scripts.services import platform as platform_info
from scripts.services import sso_profile
from scripts.services.control import run_manager
from scripts.services.installer import unit_paths


def is_installed(service: str, platform: str) -> bool:
    return unit_paths(service, platform)[0].exists()


def describe(service: str, platform: str) -> Tuple[str, Optional[int]]:
    """A one-line state from the service manager, and the main pid if it runs."""
    if not is_installed(service, platform):
        return "not installed", None
    manager = service_manager.for_platform(platform)
    try:
        result = run_manager(manager.state_query(service))
    except ToolkitError as exc:
        return f"installed, state unknown ({exc})", None
    if result.returncode != 0:
        problem = (result.stderr or result.stdout).strip().splitlines()
        if platform == platform_info.MACOS:
            return "installed, not loaded (`make up` loads it)", None
        return f"installed, state unknown ({problem[-1] if problem else 'exit ' + str(result.returncode)})", None
    return manager.parse_state(result.stdout)


def status(service: str, platform: str) -> int:
    for path in unit_paths(service, platform):
        print(f"{'file':<10} {path}{'' if path.exists() else '  (not installed)'}")
    state, _ = describe(service, platform)
    print(f"{'state':<10} {state}")
    if service == "sso-refresh":
        print(f"{'login':<10} {aws_login_summary()}")
        log = paths.log_dir() / "sso-refresh.log"
        print(f"{'last runs':<10} {log}")
        print(process.tail(log, 6, []))
    if is_installed(service, platform):
        details = run_manager(service_manager.for_platform(platform).details(service))
        print((details.stdout + details.stderr).rstrip())
    return 0


def aws_login_summary(cfg: Optional[settings_mod.Settings] = None) -> str:
    try:
        cfg = cfg or settings_mod.load(validate=False)
        name = cfg.get("AWS_PROFILE")
        if not name and cfg.get("AWS_ACCESS_KEY_ID"):
            key_id = settings_mod.mask(cfg.get("AWS_ACCESS_KEY_ID"))
            return f"static keys from .env (AWS_ACCESS_KEY_ID {key_id}): no SSO"
        if not name:
            return "AWS_PROFILE not set (Bedrock uses the standard AWS credential chain)"
        profile = sso_profile.find(name)
    except sso_profile.NotSsoProfile:
        return f"profile {name}: not an SSO profile, nothing to refresh"
    except ToolkitError as exc:
        return str(exc)
    return f"profile {name}: {sso_profile.describe_remaining(profile.token_expiry())}"
