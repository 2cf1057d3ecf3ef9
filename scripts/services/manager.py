"""The service manager commands, as data: which command installs, starts,
stops or inspects a service on each platform, and how to read its answers.

Nothing here runs anything; scripts/services/control.py runs these commands, in one place.
Linux: systemd user units (systemctl --user, journalctl --user).
macOS: LaunchAgents in the user's GUI domain (launchctl bootstrap/bootout/kickstart).
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from scripts.services import render as service_render
from scripts.services.platform import LINUX, MACOS, service_dir

Command = Tuple[str, ...]


@dataclass(frozen=True)
class Step:
    argv: Command
    may_fail: bool = False  # e.g. stopping what is not loaded: the goal is reached anyway

    def __str__(self) -> str:
        return " ".join(self.argv)


class Systemd:
    platform = LINUX

    def unit(self, service: str) -> str:
        """The unit the manager is told about: the timer for the SSO refresher."""
        return service_render.file_names(service, LINUX)[0]

    def _ctl(self, *args: str) -> Command:
        return ("systemctl", "--user", *args)

    def install_steps(self, service: str, replacing: bool) -> List[Step]:
        """The commands after the files are written; the last one starts the service."""
        unit = self.unit(service)
        # restart, not start: a replaced unit must run with its new settings
        return [Step(self._ctl("daemon-reload")), Step(self._ctl("enable", unit)), Step(self._ctl("restart", unit))]

    def uninstall_steps(self, service: str) -> Tuple[List[Step], List[Step]]:
        """(before the files go, after the files went)."""
        names = service_render.file_names(service, LINUX)
        before = [Step(self._ctl("disable", "--now", names[0]), may_fail=True)]
        before += [Step(self._ctl("stop", name), may_fail=True) for name in names[1:]]
        return before, [Step(self._ctl("daemon-reload"), may_fail=True)]

    def start(self, service: str) -> List[Step]:
        return [Step(self._ctl("start", self.unit(service)))]

    def stop(self, service: str) -> Step:
        return Step(self._ctl("stop", self.unit(service)))

    def restart(self, service: str) -> Step:
        return Step(self._ctl("restart", self.unit(service)))

    def logs(self, service: str) -> Command:
        return ("journalctl", "--user", "-u", self.unit(service), "-n", "100", "-f")

    def details(self, service: str) -> Command:
        return self._ctl("status", "--no-pager", "--lines", "10", *service_render.file_names(service, LINUX))

    def state_query(self, service: str) -> Command:
        return self._ctl("show", self.unit(service), "--property",
                         "ActiveState,SubState,UnitFileState,MainPID,NextElapseUSecRealtime,LastTriggerUSec")

    def parse_state(self, output: str) -> Tuple[str, Optional[int]]:
        """`systemctl show` lines -> ('active (running), enabled', main pid)."""
        props = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
        if "ActiveState" not in props:
            return "installed, state unknown (systemctl --user show said nothing)", None
        text = f"{props.get('ActiveState', '?')} ({props.get('SubState', '?')}), {props.get('UnitFileState', '?')}"
        if props.get("NextElapseUSecRealtime"):
            text += f", next run {props['NextElapseUSecRealtime']}"
        if props.get("LastTriggerUSec") not in (None, "", "n/a"):
            text += f", last run {props['LastTriggerUSec']}"
        pid = props.get("MainPID", "0")
        return text, (int(pid) if pid.isdigit() and int(pid) > 0 else None)


class Launchd:
    platform = MACOS

    def __init__(self) -> None:
        self.domain = f"gui/{os.getuid()}"

    def target(self, service: str) -> str:
        return f"{self.domain}/{service_render.LAUNCHD_LABELS[service]}"

    def plist(self, service: str) -> Path:
        return service_dir(MACOS) / service_render.file_names(service, MACOS)[0]

    def install_steps(self, service: str, replacing: bool) -> List[Step]:
        load = Step(("launchctl", "bootstrap", self.domain, str(self.plist(service))))
        # a loaded agent keeps its old definition until it is booted out
        return ([Step(("launchctl", "bootout", self.target(service)), may_fail=True)] if replacing else []) + [load]

    def uninstall_steps(self, service: str) -> Tuple[List[Step], List[Step]]:
        return [Step(("launchctl", "bootout", self.target(service)), may_fail=True)], []

    def start(self, service: str) -> List[Step]:
        # bootstrap fails when the agent is already loaded (after `make down` it is not); kickstart runs it
        return [Step(("launchctl", "bootstrap", self.domain, str(self.plist(service))), may_fail=True),
                Step(("launchctl", "kickstart", self.target(service)))]

    def stop(self, service: str) -> Step:
        return Step(("launchctl", "bootout", self.target(service)))

    def restart(self, service: str) -> Step:
        return Step(("launchctl", "kickstart", "-k", self.target(service)))

    def logs(self, service: str) -> Command:
        return ("tail", "-n", "100", "-F", str(service_render.Context.current().log_dir
                                               / service_render.LAUNCHD_LOGS[service]))

    def details(self, service: str) -> Command:
        return ("launchctl", "print", self.target(service))

    def state_query(self, service: str) -> Command:
        return self.details(service)

    def parse_state(self, output: str) -> Tuple[str, Optional[int]]:
        """`launchctl print` -> ('loaded, running', pid)."""
        fields = {}
        for line in output.splitlines():
            key, sep, value = line.strip().partition(" = ")
            if sep and key not in fields:
                fields[key] = value.strip()
        text = f"loaded, {fields.get('state', '?')}"
        if fields.get("last exit code") not in (None, "0", "(never exited)"):
            text += f", last exit code {fields['last exit code']}"
        pid = fields.get("pid", "")
        return text, (int(pid) if pid.isdigit() else None)


def for_platform(platform: str):
    return Launchd() if platform == MACOS else Systemd()
