"""The proxy under the installed login service: make up/down/restart/logs go through
the service manager once this checkout's service is installed."""
import plistlib
from typing import Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError
from scripts.gateway import process
from scripts.services import manager as service_manager
from scripts.services import platform as platform_info
from scripts.services.control import run_manager, run_steps
from scripts.services.installer import unit_paths


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
        # The service manager sends SIGTERM and waits (TimeoutStopSec / ExitTimeOut, rendered
        # from the drain time): the proxy finishes its requests in flight first (gateway/drain.py).
        print(f">> stopping the proxy service: requests in flight get up to {process.drain_timeout():.0f}s "
              "to finish (GATEWAY_DRAIN_TIMEOUT)", flush=True)
        run_steps([self.manager.stop("proxy")])
        print(">> proxy service stopped (it starts again at the next login, or with `make up`)")
        return 0

    def logs(self) -> int:
        return run_manager(self.manager.logs("proxy"), capture=False).returncode

    def _wait(self, cfg: settings_mod.Settings) -> int:
        timeout = paths.start_timeout()
        try:
            process.wait_until_live(cfg, None, timeout)
        except TimeoutError:
            raise ToolkitError(f"the proxy service did not answer at {cfg.base_url} within {timeout:.0f}s: "
                               "see `make service-status` and `make logs`") from None
        print(f"\r>> proxy is up at {cfg.base_url} (run by the login service)")
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
