"""Render the service files from templates/: no side effects, ever.

render() returns UnitFile objects (file name, content, mode); scripts/services/installer.py
is the one writer. As in honcho's export, rendering and writing are split, so
the golden-file tests compare exactly the text that would be installed.

Each service is started with the toolkit's locations spelled out (GATEWAY_*),
so it runs the same .env, config.yaml, state and logs as the shell that
installed it, whatever overrides that shell had.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple
from xml.sax.saxutils import escape as xml_escape

from scripts.core import paths, templates
from scripts.core.errors import ToolkitError
from scripts.core.settings import DEFAULT_DRAIN_TIMEOUT
from scripts.gateway.process import drain_timeout
from scripts.services.platform import LINUX, MACOS

TEMPLATES = paths.PROJECT_DIR / "templates"
SERVICES = ("proxy", "sso-refresh")
UNIT_MODE = 0o644

# service -> platform -> [(file name, template path)]; the first file is the one
# the service manager is told about (the timer, for sso-refresh on Linux).
FILES: Dict[str, Dict[str, List[Tuple[str, str]]]] = {
    "proxy": {
        LINUX: [("claude-gateway.service", "systemd/claude-gateway.service")],
        MACOS: [("com.claude-gateway.proxy.plist", "launchd/com.claude-gateway.proxy.plist")],
    },
    "sso-refresh": {
        LINUX: [("claude-gateway-sso-refresh.timer", "systemd/claude-gateway-sso-refresh.timer"),
                ("claude-gateway-sso-refresh.service", "systemd/claude-gateway-sso-refresh.service")],
        MACOS: [("com.claude-gateway.sso-refresh.plist", "launchd/com.claude-gateway.sso-refresh.plist")],
    },
}
LAUNCHD_LABELS = {"proxy": "com.claude-gateway.proxy", "sso-refresh": "com.claude-gateway.sso-refresh"}
LAUNCHD_LOGS = {"proxy": "proxy.log", "sso-refresh": "sso-refresh.launchd.log"}
# Seconds the service manager waits after SIGTERM beyond the drain time (LiteLLM's own
# shutdown after the last request) before it kills the proxy.
STOP_MARGIN = 30


@dataclass(frozen=True)
class UnitFile:
    name: str
    content: str
    mode: int = UNIT_MODE


@dataclass(frozen=True)
class Context:
    """Every location a service file names."""
    project_dir: Path
    venv_dir: Path
    env_file: Path
    config_file: Path
    state_dir: Path
    log_dir: Path
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT  # GATEWAY_DRAIN_TIMEOUT when the files were rendered

    @classmethod
    def current(cls) -> "Context":
        return cls(paths.PROJECT_DIR, paths.venv_dir(), paths.env_file(), paths.config_file(),
                   paths.state_dir(), paths.log_dir(), drain_timeout())

    @property
    def stop_timeout(self) -> int:
        """Seconds from SIGTERM to SIGKILL: systemd's TimeoutStopSec, launchd's ExitTimeOut."""
        return int(self.drain_timeout + 0.999) + STOP_MARGIN

    @property
    def python(self) -> Path:
        return self.venv_dir / "bin" / "python"

    def environment(self) -> List[Tuple[str, str]]:
        return [("GATEWAY_ENV_FILE", str(self.env_file)), ("GATEWAY_CONFIG", str(self.config_file)),
                ("GATEWAY_STATE_DIR", str(self.state_dir)), ("GATEWAY_LOG_DIR", str(self.log_dir)),
                ("GATEWAY_VENV", str(self.venv_dir))]


def file_names(service: str, platform: str) -> List[str]:
    return [name for name, _ in FILES[service][platform]]


def render(service: str, platform: str, ctx: Context) -> List[UnitFile]:
    if service not in SERVICES:
        raise ToolkitError(f"unknown service {service!r}: use one of {', '.join(SERVICES)}")
    for value in (str(ctx.project_dir), str(ctx.python), *(v for _, v in ctx.environment())):
        if "\n" in value or "\r" in value:
            raise ToolkitError(f"path {value!r} contains a line break: move the project to a plain path")
    values = _systemd_values(ctx) if platform == LINUX else _launchd_values(service, ctx)
    return [UnitFile(name, _fill(template, values)) for name, template in FILES[service][platform]]


def _fill(template: str, values: Dict[str, str]) -> str:
    return templates.fill((TEMPLATES / template).read_text(encoding="utf-8"), values, template)


# ---- systemd -------------------------------------------------------------------
# Unit files expand %-specifiers everywhere and split ExecStart on blanks unless
# quoted ($VARIABLES expand in ExecStart's arguments, never in its program, and
# ours are constants): each value is escaped for its place.

def _specifiers(value: str) -> str:
    return value.replace("%", "%%")


def _quoted(value: str) -> str:
    return '"' + _specifiers(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _executable(value: str) -> str:
    """ExecStart's program: quoted when needed; systemd never expands $ in it."""
    if any(ch in value for ch in " \t\"'\\;"):
        return _quoted(value)
    return _specifiers(value)


def _systemd_values(ctx: Context) -> Dict[str, str]:
    environment = "\n".join(f"Environment={_quoted(f'{k}={v}')}" if any(c in v for c in ' "\\\'') else
                            f"Environment={_specifiers(f'{k}={v}')}" for k, v in ctx.environment())
    return {"PROJECT_DIR": _specifiers(str(ctx.project_dir)), "ENV_FILE": _specifiers(str(ctx.env_file)),
            "PYTHON": _executable(str(ctx.python)), "ENVIRONMENT": environment,
            "STOP_TIMEOUT": str(ctx.stop_timeout)}


# ---- launchd ---------------------------------------------------------------------

def _launchd_values(service: str, ctx: Context) -> Dict[str, str]:
    # launchd appends the proxy's output to StandardOutPath forever: the proxy writes it
    # to the same file itself instead, rotated by size (scripts/gateway/logpipe.py).
    own_log = [("GATEWAY_PROXY_LOG", str(ctx.log_dir / LAUNCHD_LOGS[service]))] if service == "proxy" else []
    environment = "\n".join(f"\t\t<key>{xml_escape(k)}</key>\n\t\t<string>{xml_escape(v)}</string>"
                            for k, v in ctx.environment() + own_log)
    return {"LABEL": LAUNCHD_LABELS[service], "PYTHON": xml_escape(str(ctx.python)),
            "PROJECT_DIR": xml_escape(str(ctx.project_dir)), "ENVIRONMENT": environment,
            "LOG_FILE": xml_escape(str(ctx.log_dir / LAUNCHD_LOGS[service])), "STOP_TIMEOUT": str(ctx.stop_timeout)}
