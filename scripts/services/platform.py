"""Which service manager this machine has, decided in one place (like pipx's
constants.py), and where each one keeps per-user service files.

Locations derive from the home directory, so a test that moves HOME to a temp
directory moves them too. GATEWAY_PLATFORM=linux|macos overrides the detection
(tests use it to install the macOS files on Linux with a recording launchctl).
"""
import os
import sys
from pathlib import Path

from scripts.core import paths

LINUX = "linux"
MACOS = "macos"
PLATFORMS = (LINUX, MACOS)


def current() -> str:
    forced = paths.override("GATEWAY_PLATFORM")
    if forced in PLATFORMS:
        return forced
    return MACOS if sys.platform == "darwin" else LINUX


def systemd_user_dir() -> Path:
    """Where systemd looks for a user's own units (it honours XDG_CONFIG_HOME)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def launch_agents_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def service_dir(platform: str) -> Path:
    return launch_agents_dir() if platform == MACOS else systemd_user_dir()


def linger_enabled() -> bool:
    """True when systemd keeps this user's services running without a login."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    return bool(user) and Path("/var/lib/systemd/linger", user).exists()


def has_browser() -> bool:
    """Whether a login can open a browser here; without one, print the URL and code."""
    if current() == MACOS:
        return not os.environ.get("SSH_CONNECTION")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
