"""install / uninstall / status of the login services in a temp HOME, with the
service manager replaced by a recording stand-in at its one call site
(GATEWAY_SERVICE_MANAGER): the exact commands, idempotence, clean uninstall,
--dry-run, rollback, and make up/down/restart/logs going through the service."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core.procs import start_time
from scripts.service import main as service_main
from scripts.services import render as service_render
from scripts.services.render import Context

STAND_IN = textwrap.dedent("""\
    #!/bin/sh
    # Records each command (one line, words joined by blanks), fails on request.
    echo "$*" >> "$STANDIN_RECORD"
    for word in "$@"; do
        if [ -n "$STANDIN_FAIL" ] && [ "$word" = "$STANDIN_FAIL" ]; then
            echo "Failed to connect to bus: No medium found" >&2
            exit 1
        fi
        if [ "$word" = show ]; then
            echo "$STANDIN_SHOW" | tr ';' '\\n'
        fi
    done
""")
UID = os.getuid()


@pytest.fixture
def manager(tmp_path, monkeypatch):
    """The recording stand-in; calling the fixture's result returns the commands so far."""
    script = tmp_path / "stand-in"
    script.write_text(STAND_IN)
    script.chmod(0o755)
    record = tmp_path / "commands.log"
    monkeypatch.setenv("GATEWAY_SERVICE_MANAGER", str(script))
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)

    def commands():
        lines = record.read_text().splitlines() if record.exists() else []
        record.unlink(missing_ok=True)
        return lines
    return commands


@pytest.fixture
def dotenv(env_file):
    return env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


@pytest.fixture
def service(capsys, monkeypatch):
    """`python -m scripts.service ARGS`, run in-process (fast); returns code, stdout, stderr."""
    def call(*args, env=None):
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = service_main(list(args))
        out, err = capsys.readouterr()
        for key in env or {}:
            monkeypatch.delenv(key)
        return subprocess.CompletedProcess(args, code, out, err)
    return call


def golden(platform: str, name: str) -> str:
    """The golden file (rendered for /opt/claude-gateway) with this test's real paths:
    the installed file is compared with it, not with the output of the render() that wrote it."""
    ctx = Context.current()
    text = (Path(__file__).parent / "golden" / platform / name).read_text()
    for example, real in (("/opt/claude-gateway/.env", ctx.env_file), ("/opt/claude-gateway/config.yaml", ctx.config_file),
                          ("/opt/claude-gateway/state", ctx.state_dir), ("/opt/claude-gateway/logs", ctx.log_dir),
                          ("/opt/claude-gateway/.venv", ctx.venv_dir), ("/opt/claude-gateway", ctx.project_dir)):
        text = text.replace(example, str(real))
    return text


def files_under(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def unit_dir() -> Path:
    return Path.home() / ".config" / "systemd" / "user"


def test_install_proxy_writes_the_rendered_unit_and_runs_exact_commands(service, manager, dotenv):
    result = service("install", "proxy")
    assert result.returncode == 0, result.stderr
    unit = unit_dir() / "claude-gateway.service"
    assert unit.read_text() == golden("linux", "claude-gateway.service")
    assert unit.stat().st_mode & 0o777 == 0o644
    assert manager() == ["systemctl --user daemon-reload", "systemctl --user enable claude-gateway.service",
                         "systemctl --user restart claude-gateway.service"]
    assert "enable-linger" in result.stdout


def test_second_install_changes_nothing_and_runs_nothing(service, manager, dotenv):
    assert service("install", "proxy").returncode == 0
    manager()
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in unit_dir().iterdir()}
    again = service("install", "proxy")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert manager() == []
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in unit_dir().iterdir()} == before


def test_changed_unit_is_rewritten_and_reloaded(service, manager, dotenv):
    assert service("install", "proxy").returncode == 0
    manager()
    unit = unit_dir() / "claude-gateway.service"
    unit.write_text(unit.read_text().replace("RestartSec=5s", "RestartSec=1s"))
    assert service("install", "proxy").returncode == 0
    assert "RestartSec=5s" in unit.read_text()
    assert manager() == ["systemctl --user daemon-reload", "systemctl --user enable claude-gateway.service",
                         "systemctl --user restart claude-gateway.service"]


def test_uninstall_removes_exactly_what_install_wrote(service, manager, dotenv, isolated):
    home = Path.home()
    (unit_dir()).mkdir(parents=True)
    (unit_dir() / "my-own.service").write_text("[Service]\nExecStart=/bin/true\n")
    before = files_under(home)
    assert service("install", "proxy").returncode == 0
    assert set(files_under(home)) - set(before) == {".config/systemd/user/claude-gateway.service"}
    manager()
    result = service("uninstall", "proxy")
    assert result.returncode == 0, result.stderr
    assert manager() == ["systemctl --user disable --now claude-gateway.service", "systemctl --user daemon-reload"]
    assert files_under(home) == before
    again = service("uninstall", "proxy")
    assert "not installed" in again.stdout and manager() == []


def test_dry_run_writes_nothing_and_runs_nothing(service, manager, dotenv):
    result = service("install", "proxy", "--dry-run")
    assert result.returncode == 0
    path = unit_dir() / "claude-gateway.service"
    assert f"Would write {path} (mode 0644)" in result.stdout
    assert "Would run: systemctl --user daemon-reload" in result.stdout
    assert not path.exists() and manager() == []
    assert service("install", "proxy").returncode == 0
    manager()
    result = service("uninstall", "proxy", "--dry-run")
    assert f"Would remove {path}" in result.stdout and path.exists() and manager() == []


def test_sso_refresher_installs_timer_and_service(service, manager, env_file, tmp_path, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, AWS_PROFILE="dev")
    config = tmp_path / "aws-config"
    config.write_text("[profile dev]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
                      "sso_account_id = 111122223333\nsso_role_name = Bedrock\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    result = service("install", "sso-refresh")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in unit_dir().iterdir()) == ["claude-gateway-sso-refresh.service",
                                                           "claude-gateway-sso-refresh.timer"]
    assert manager() == ["systemctl --user daemon-reload", "systemctl --user enable claude-gateway-sso-refresh.timer",
                         "systemctl --user restart claude-gateway-sso-refresh.timer"]
    assert service("install", "sso-refresh").returncode == 0 and manager() == []
    assert service("uninstall", "sso-refresh").returncode == 0
    assert manager() == ["systemctl --user disable --now claude-gateway-sso-refresh.timer",
                         "systemctl --user stop claude-gateway-sso-refresh.service", "systemctl --user daemon-reload"]
    assert list(unit_dir().iterdir()) == []


def test_sso_refresher_without_sso_profile_installs_nothing(service, manager, dotenv):
    result = service("install", "sso-refresh")
    assert result.returncode == 0 and "AWS_PROFILE is not set" in result.stdout
    assert not unit_dir().exists() and manager() == []


def test_failed_command_rolls_back_and_names_the_fix(service, manager, dotenv):
    unit_dir().mkdir(parents=True)
    (unit_dir() / "my-own.service").write_text("mine\n")
    result = service("install", "proxy", env={"STANDIN_FAIL": "daemon-reload"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: `systemctl --user daemon-reload` failed")
    assert "make up" in lines[0]
    assert [p.name for p in unit_dir().iterdir()] == ["my-own.service"]
    assert (unit_dir() / "my-own.service").read_text() == "mine\n"


def test_bad_env_installs_nothing(service, manager, env_file):
    env_file(ANTHROPIC_API_KEY=API_KEY)
    result = service("install", "proxy")
    assert result.returncode == 1 and "make generate-key" in result.stderr
    assert not unit_dir().exists() and manager() == []


def test_macos_launch_agent(service, manager, dotenv):
    macos = {"GATEWAY_PLATFORM": "macos"}
    plist = Path.home() / "Library" / "LaunchAgents" / "com.claude-gateway.proxy.plist"
    assert service("install", "proxy", env=macos).returncode == 0
    assert manager() == [f"launchctl bootstrap gui/{UID} {plist}"]
    assert plist.read_text() == golden("macos", "com.claude-gateway.proxy.plist")
    plist.write_text(plist.read_text().replace("<integer>10</integer>", "<integer>1</integer>"))
    assert service("install", "proxy", env=macos).returncode == 0
    assert manager() == [f"launchctl bootout gui/{UID}/com.claude-gateway.proxy",
                         f"launchctl bootstrap gui/{UID} {plist}"]
    assert service("uninstall", "proxy", env=macos).returncode == 0
    assert manager() == [f"launchctl bootout gui/{UID}/com.claude-gateway.proxy"] and not plist.exists()


def test_status_reports_the_manager_state(service, manager, dotenv):
    assert "not installed" in service("status", "proxy").stdout
    assert service("install", "proxy").returncode == 0
    manager()
    show = "ActiveState=active;SubState=running;UnitFileState=enabled;MainPID=4242"
    result = service("status", "proxy", env={"STANDIN_SHOW": show})
    assert "active (running), enabled" in result.stdout
    assert manager()[-1] == "systemctl --user status --no-pager --lines 10 claude-gateway.service"


def test_make_lifecycle_goes_through_the_installed_service(service, manager, dotenv):
    assert service("install", "proxy").returncode == 0
    manager()
    down = run("scripts.proxy", "down")
    assert down.returncode == 0 and manager() == ["systemctl --user stop claude-gateway.service"]
    # The stand-in starts nothing, so `up` reports the service that never answered.
    up = run("scripts.proxy", "up", env={"GATEWAY_START_TIMEOUT": "1"})
    assert up.returncode == 1 and "make service-status" in up.stderr
    assert manager() == ["systemctl --user start claude-gateway.service"]
    restart = run("scripts.proxy", "restart", env={"GATEWAY_START_TIMEOUT": "1"})
    assert restart.returncode == 1 and manager() == ["systemctl --user restart claude-gateway.service"]
    logs = run("scripts.proxy", "logs")
    assert logs.returncode == 0
    assert manager() == ["journalctl --user -u claude-gateway.service -n 100 -f"]


def test_a_service_of_another_setup_is_left_alone(manager, dotenv, tmp_path):
    other = Context.current()
    other = Context(other.project_dir, other.venv_dir, tmp_path / "other.env", other.config_file,
                    other.state_dir, other.log_dir)
    unit_dir().mkdir(parents=True)
    (unit_dir() / "claude-gateway.service").write_text(service_render.render("proxy", "linux", other)[0].content)
    down = run("scripts.proxy", "down")
    assert down.returncode == 0 and "not running" in down.stdout and manager() == []


def make(*args):
    return subprocess.run(["make", "--no-print-directory", "-s", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)


def test_make_targets_dry_run(manager, dotenv):
    result = make("install-service", "DRY_RUN=1")
    assert result.returncode == 0, result.stderr
    assert f"Would write {unit_dir() / 'claude-gateway.service'} (mode 0644)" in result.stdout
    assert not unit_dir().exists() and manager() == []


def test_make_uninstall_all_keeps_env_and_config(manager, dotenv, service, tmp_path, monkeypatch):
    config = tmp_path / "aws-config"
    config.write_text("[profile dev]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    dotenv.write_text(dotenv.read_text() + "AWS_PROFILE=dev\n")
    assert service("install", "proxy").returncode == 0 and service("install", "sso-refresh").returncode == 0
    kept = {path: path.read_bytes() for path in (dotenv, PROJECT_DIR / "config.yaml")}
    manager()
    result = make("uninstall-all")
    assert result.returncode == 0, result.stderr
    assert list(unit_dir().iterdir()) == []
    assert manager()[:2] == ["systemctl --user disable --now claude-gateway.service", "systemctl --user daemon-reload"]
    assert {path: path.read_bytes() for path in kept} == kept


def test_install_stops_the_proxy_make_up_started(service, manager, dotenv, isolated):
    """The service needs the port: the proxy `make up` started (a stand-in process
    named like it, recorded in the pid file with its start time) is stopped right
    before the service starts."""
    stray = subprocess.Popen(["bash", "-c", "exec -a 'python -m scripts.in_proxy.litellm_main' sleep 60"],
                             start_new_session=True)
    deadline = time.monotonic() + 5
    while not Path(f"/proc/{stray.pid}/cmdline").read_bytes().startswith(b"python -m"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid_file = isolated / "state" / "proxy.pid"
    pid_file.parent.mkdir()
    pid_file.write_text(f"{stray.pid}\n{start_time(stray.pid)}\n")
    try:
        assert f"Would stop the proxy `make up` started (pid {stray.pid})" in service("install", "proxy",
                                                                                     "--dry-run").stdout
        assert stray.poll() is None
        result = service("install", "proxy")
        assert f"stopped the proxy `make up` started (pid {stray.pid})" in result.stdout
        assert stray.wait(timeout=10) is not None and not pid_file.exists()
        assert result.stdout.index("enable claude-gateway.service") < result.stdout.index("stopped the proxy") \
            < result.stdout.index("restart claude-gateway.service")
    finally:
        stray.kill()
        stray.wait()
