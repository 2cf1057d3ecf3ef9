"""The rendered service files themselves: golden files for both platforms,
`systemd-analyze verify` on the systemd units, plistlib on the plists.

After a deliberate template change: GATEWAY_UPDATE_GOLDEN=1 pytest tests/test_service_render.py
rewrites tests/golden/, then review the diff.
"""
import datetime as dt
import os
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.core.paths import PROJECT_DIR
from scripts.services import render as service_render
from scripts.services.platform import LINUX, MACOS
from scripts.services.render import Context, render

GOLDEN = Path(__file__).parent / "golden"
EXAMPLE = Context(project_dir=Path("/opt/claude-gateway"), venv_dir=Path("/opt/claude-gateway/.venv"),
                  env_file=Path("/opt/claude-gateway/.env"), config_file=Path("/opt/claude-gateway/config.yaml"),
                  state_dir=Path("/opt/claude-gateway/state"), log_dir=Path("/opt/claude-gateway/logs"))
CASES = [(service, platform, name) for service in service_render.SERVICES for platform in (LINUX, MACOS)
         for name in service_render.file_names(service, platform)]


def rendered(service, platform, ctx=EXAMPLE):
    return {unit.name: unit for unit in render(service, platform, ctx)}


@pytest.mark.parametrize("service,platform,name", CASES)
def test_rendered_file_matches_golden(service, platform, name):
    unit = rendered(service, platform)[name]
    golden = GOLDEN / platform / name
    if os.environ.get("GATEWAY_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(unit.content)
    assert unit.content == golden.read_text(), f"{name} differs from {golden}"
    assert unit.mode == 0o644


def test_every_template_has_a_golden_file():
    templates = {p.name for p in (PROJECT_DIR / "templates").glob("*/*")
                 if p.suffix in (".service", ".timer", ".plist")}
    assert templates == {name for _, _, name in CASES}
    assert {p.name for p in GOLDEN.glob("*/*")} == templates


def systemd_verify(directory: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`systemd-analyze verify --user` needs a runtime dir, not a running user manager."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    units = sorted(str(p) for p in directory.iterdir())
    return subprocess.run(["systemd-analyze", "verify", "--user", "--man=no", *units], capture_output=True, text=True,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)}, timeout=60)


needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (Debian package systemd)")


def write_units(ctx: Context, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for service in service_render.SERVICES:
        for unit in render(service, LINUX, ctx):
            (directory / unit.name).write_text(unit.content)
    return directory


@needs_systemd
def test_systemd_analyze_verifies_the_units_of_this_checkout(tmp_path, env_file):
    env_file(LITELLM_MASTER_KEY="sk-x")  # EnvironmentFile= must exist
    result = systemd_verify(write_units(Context.current(), tmp_path / "units"), tmp_path)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


@needs_systemd
def test_systemd_verify_catches_a_broken_unit(tmp_path, env_file):
    """The check above can fail: a unit naming a python that does not exist is rejected."""
    env_file(LITELLM_MASTER_KEY="sk-x")
    ctx = Context.current()
    broken = Context(ctx.project_dir, tmp_path / "no-venv", ctx.env_file, ctx.config_file, ctx.state_dir, ctx.log_dir)
    result = systemd_verify(write_units(broken, tmp_path / "units"), tmp_path)
    assert result.returncode != 0 and "no-venv/bin/python" in result.stderr


@needs_systemd
def test_awkward_paths_are_escaped_for_systemd(tmp_path):
    """Blanks, % (specifiers) and $ (variables) in the project path survive into the unit."""
    project = tmp_path / "my gateway 100% $HOME"
    (project / ".venv" / "bin").mkdir(parents=True)
    os.symlink(shutil.which("python3"), project / ".venv" / "bin" / "python")
    (project / ".env").write_text("LITELLM_MASTER_KEY=sk-x\n")
    ctx = Context(project, project / ".venv", project / ".env", project / "config.yaml", project / "state",
                  project / "logs")
    units = write_units(ctx, tmp_path / "units")
    result = systemd_verify(units, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    text = (units / "claude-gateway.service").read_text()
    assert f'ExecStart="{project}/.venv/bin/python"'.replace("%", "%%") in text
    assert f'Environment="GATEWAY_ENV_FILE={project}/.env"'.replace("%", "%%") in text


def test_line_break_in_a_path_is_refused(tmp_path):
    ctx = Context(tmp_path / "a\nb", tmp_path, tmp_path / ".env", tmp_path, tmp_path, tmp_path)
    with pytest.raises(service_render.ToolkitError, match="line break"):
        render("proxy", LINUX, ctx)


def test_systemd_proxy_unit_settings():
    text = rendered("proxy", LINUX)["claude-gateway.service"].content
    for line in ("ExecStart=/opt/claude-gateway/.venv/bin/python -m scripts.proxy run",
                 "WorkingDirectory=/opt/claude-gateway", "EnvironmentFile=/opt/claude-gateway/.env",
                 "Environment=GATEWAY_ENV_FILE=/opt/claude-gateway/.env", "Restart=on-failure", "RestartSec=5s",
                 "WantedBy=default.target"):
        assert line in text.splitlines()


@needs_systemd
def test_timer_runs_every_4_hours_and_catches_up(tmp_path):
    timer = rendered("sso-refresh", LINUX)["claude-gateway-sso-refresh.timer"].content
    settings = dict(line.split("=", 1) for line in timer.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Persistent"] == "true" and settings["OnStartupSec"] == "2min"
    out = subprocess.run(["systemd-analyze", "calendar", "--iterations=3", settings["OnCalendar"]],
                         capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}, check=True).stdout
    times = [dt.datetime.strptime(m, "%Y-%m-%d %H:%M:%S") for m in re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", out)]
    gaps = {later - earlier for earlier, later in zip(times, times[1:]) if later != earlier}
    assert gaps == {dt.timedelta(hours=4)}, out


def test_launchd_plists_parse_with_plistlib():
    proxy = plistlib.loads(rendered("proxy", MACOS)["com.claude-gateway.proxy.plist"].content.encode())
    assert proxy["Label"] == "com.claude-gateway.proxy"
    assert proxy["ProgramArguments"] == ["/opt/claude-gateway/.venv/bin/python", "-m", "scripts.proxy", "run"]
    assert proxy["RunAtLoad"] is True and proxy["KeepAlive"] is True
    assert proxy["WorkingDirectory"] == "/opt/claude-gateway"
    assert proxy["StandardOutPath"] == proxy["StandardErrorPath"] == "/opt/claude-gateway/logs/proxy.log"
    # The proxy writes its output to the same file itself, rotated by size (launchd never rotates it).
    assert proxy["EnvironmentVariables"] == {**dict(EXAMPLE.environment()),
                                             "GATEWAY_PROXY_LOG": "/opt/claude-gateway/logs/proxy.log"}
    sso = plistlib.loads(rendered("sso-refresh", MACOS)["com.claude-gateway.sso-refresh.plist"].content.encode())
    assert sso["ProgramArguments"][1:] == ["-m", "scripts.sso_refresh"]
    assert sso["StartInterval"] == 14400 and sso["RunAtLoad"] is True and "KeepAlive" not in sso


def test_plist_values_are_xml_escaped(tmp_path):
    project = tmp_path / "R&D <gateway>"
    ctx = Context(project, project / ".venv", project / ".env", project / "config.yaml", project / "state",
                  project / "logs")
    plist = plistlib.loads(render("proxy", MACOS, ctx)[0].content.encode())
    assert plist["ProgramArguments"][0] == f"{project}/.venv/bin/python"
    assert plist["EnvironmentVariables"]["GATEWAY_ENV_FILE"] == f"{project}/.env"
