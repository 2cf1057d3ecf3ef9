"""make install-all / uninstall-all in a temp HOME with the recording service manager:
DRY_RUN writes nothing, a failing step does not stop the others, the summary says what
each step did, and uninstall-all stops the proxy and leaves no file the toolkit made."""
import os
from pathlib import Path

import pytest
from test_service_install import dotenv, make, manager, stand_in_proxy, unit_dir  # noqa: F401 (fixtures)


def tree(*roots: Path) -> dict:
    """Every file and folder under roots, with the bytes of each file."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            found[str(path)] = path.read_bytes() if path.is_file() else "dir"
    return found


@pytest.fixture
def sso_profile(tmp_path, monkeypatch, dotenv):
    config = tmp_path / "aws-config"
    config.write_text("[profile dev]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    dotenv.write_text(dotenv.read_text() + "AWS_PROFILE=dev\n")
    return dotenv


def test_dry_run_install_all_writes_nothing_anywhere(manager, sso_profile, isolated):
    (Path.home() / ".bashrc").write_text("# mine\n")
    before = tree(isolated)
    result = make("install-all", "DRY_RUN=1", "SHELLS=bash")
    assert result.returncode == 0, result.stderr
    assert tree(isolated) == before and manager() == []
    assert f"Would write {unit_dir() / 'claude-gateway.service'} (mode 0644)" in result.stdout
    assert "Would write ~/.bashrc (added the bash block)" in result.stdout
    assert "dry run: " in result.stdout and result.stdout.rstrip().endswith(
        ">> DRY_RUN: nothing was written, started or stopped")
    assert "all installed" not in result.stdout


def test_without_a_service_manager_the_other_steps_still_run(manager, sso_profile, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "daemon-reload")  # what a machine without a systemd user manager answers
    result = make("install-all", "SHELLS=bash")
    assert result.returncode != 0
    out = result.stdout
    assert "login service            FAILED (exit 1): fix the error above, then `make install-service`" in out
    assert "AWS SSO refresher        FAILED (exit 1): fix the error above, then `make install-sso-refresh`" in out
    assert "Claude Code shell block  done: ~/.bashrc: added the claude-gateway block" in out and "venv                     done: " in out
    assert "claude-gateway" in (Path.home() / ".bashrc").read_text()
    assert result.stderr.strip().splitlines()[-2] == (
        "error: 2 of 4 steps failed (login service, AWS SSO refresher): run the command named for each above")


def test_uninstall_all_stops_the_proxy_and_removes_what_install_made(manager, dotenv, isolated):
    home = Path.home()
    (home / ".bashrc").write_text("# mine\n")
    assert make("install-service").returncode == 0
    assert make("configure-claude", "SHELLS=bash").returncode == 0
    assert list((home / ".config" / "claude-gateway" / "backups").iterdir())  # install made a backup
    stray, _pid_file = stand_in_proxy(isolated)
    try:
        result = make("uninstall-all")
        assert result.returncode == 0, result.stderr
        assert f"stopped the proxy (pid {stray.pid})" in result.stdout
        assert stray.wait(timeout=10) is not None
    finally:
        stray.kill()
        stray.wait()
    assert (home / ".bashrc").read_text() == "# mine\n"
    assert not (home / ".config" / "claude-gateway").exists() and not (home / ".config" / "systemd").exists()
    assert "backup file(s) in" in result.stdout


def test_uninstall_all_keeps_the_backups_when_asked_and_says_where(manager, dotenv):
    (Path.home() / ".bashrc").write_text("# mine\n")
    assert make("configure-claude", "SHELLS=bash").returncode == 0
    result = make("uninstall-all", "KEEP_BACKUPS=1")
    assert result.returncode == 0, result.stderr
    backups = Path.home() / ".config" / "claude-gateway" / "backups"
    assert list(backups.iterdir()) and f"backup file(s) of your shell profiles in {backups}" in result.stdout
    assert os.environ["HOME"] == str(Path.home())

