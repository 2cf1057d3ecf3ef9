"""scripts.monitoring (make monitoring, monitoring-down, monitoring-clean, monitoring-native)
without a Docker engine: one-line errors that point at the native way, the Grafana
password note, the compose command each engine gets, the native Prometheus config."""
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import monitoring
from scripts.core.errors import ToolkitError
from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import free_port
from scripts.core.settings import Settings
from scripts.observability import prometheus as monitoring_native

COMPOSE = PROJECT_DIR / "monitoring" / "docker-compose.yml"
PROMETHEUS_YML = PROJECT_DIR / "monitoring" / "prometheus" / "prometheus.yml"
needs_compose = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                   reason="needs docker-compose (Debian package `docker-compose`)")


def test_native_config_only_rewrites_the_target_and_intervals():
    original = yaml.safe_load(PROMETHEUS_YML.read_text())
    text = monitoring_native.render_config(PROMETHEUS_YML.read_text(), "127.0.0.1:47555", "1s")
    rendered = yaml.safe_load(text)
    assert text.startswith("# Written by `make monitoring-native`")
    assert rendered["scrape_configs"][0]["static_configs"] == [{"targets": ["127.0.0.1:47555"]}]
    assert rendered["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    rendered["scrape_configs"][0]["static_configs"] = original["scrape_configs"][0]["static_configs"]
    rendered["global"] = original["global"]
    assert rendered == original


def test_native_config_without_the_proxy_job_names_the_fix():
    with pytest.raises(ToolkitError, match="no scrape job 'litellm-proxy'"):
        monitoring_native.render_config("scrape_configs: []\n", "127.0.0.1:47000")


def run_monitoring(*args: str, path: str, env_file: Path, config: Path = PROJECT_DIR / "config.yaml"):
    return subprocess.run([sys.executable, "-m", "scripts.monitoring", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={"PATH": path, "GATEWAY_ENV_FILE": str(env_file), "HOME": str(env_file.parent),
                               "GATEWAY_CONFIG": str(config)})


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("command", ["up", "down"])
def test_without_docker_or_compose_one_line_points_at_the_native_way(command, env_file, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_monitoring(command, path=str(empty), env_file=env_file())
    assert_one_line_error(result, "Docker Compose is not installed", "make monitoring-native")


@pytest.mark.skipif(shutil.which("docker") is None or shutil.which("docker-compose") is None
                    or subprocess.run(["docker", "info"], capture_output=True).returncode == 0,
                    reason="needs a docker client and docker-compose without a running engine")
def test_without_a_docker_engine_one_line_points_at_the_native_way(env_file):
    result = run_monitoring("up", path="/usr/local/bin:/usr/bin:/bin", env_file=env_file())
    assert_one_line_error(result, "no Docker engine is running", "make monitoring-native")


@needs_compose
def test_default_grafana_password_is_said_out_loud(env_file):
    result = run_monitoring("up", "--dry-run", path="/usr/bin:/bin", env_file=env_file(LITELLM_PORT="47000"))
    assert result.returncode == 0, result.stderr
    assert "GRAFANA_ADMIN_PASSWORD is not set in .env" in result.stdout
    assert f"-p {monitoring.PROJECT} -f {COMPOSE}" in result.stdout and "up -d" in result.stdout


@needs_compose
def test_password_from_env_is_neither_noted_nor_printed(env_file):
    result = run_monitoring("up", "--dry-run", path="/usr/bin:/bin",
                            env_file=env_file(GRAFANA_ADMIN_PASSWORD="pw-never-printed", LITELLM_PORT="47001"))
    assert result.returncode == 0, result.stderr
    assert "pw-never-printed" not in result.stdout + result.stderr
    assert "GRAFANA_ADMIN_PASSWORD is not set" not in result.stdout
    assert "LITELLM_PORT is 47001" in result.stdout  # the scrape target would miss the proxy


@needs_compose
@pytest.mark.parametrize("settings, note", [
    ('  callbacks: ["prometheus"]\n  require_auth_for_metrics_endpoint: false\n', None),
    ('  callbacks: ["prometheus"]\n', "require_auth_for_metrics_endpoint: false, so the proxy refuses Prometheus"),
    ("  drop_params: true\n", 'lacks litellm_settings.callbacks: ["prometheus"]'),
])
def test_a_config_that_keeps_prometheus_out_is_noted(settings, note, env_file, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("model_list:\n  - model_name: m\n    litellm_params: {model: anthropic/m}\n"
                      f"litellm_settings:\n{settings}")
    result = run_monitoring("up", "--dry-run", path="/usr/bin:/bin", env_file=env_file(), config=config)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if "config.yaml" in line]
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0] and "make restart" in notes[0]


@needs_compose
def test_clean_asks_before_dropping_the_volumes(env_file):
    result = run_monitoring("clean", path="/usr/bin:/bin", env_file=env_file())
    assert_one_line_error(result, "clean --yes")
    result = run_monitoring("clean", "--yes", "--dry-run", path="/usr/bin:/bin", env_file=env_file())
    assert "--profile bridge --profile host down --volumes" in result.stdout


def test_native_without_prometheus_names_the_package(env_file, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_monitoring("native", path=str(empty), env_file=env_file(LITELLM_PORT="47000"))
    assert_one_line_error(result, "prometheus is not installed", "apt install prometheus")


@pytest.mark.parametrize("engine_os, platform, expected", [
    ("Ubuntu 24.04.1 LTS", "linux", "host"),
    ("Docker Desktop", "linux", "bridge"),
    ("Docker Desktop", "darwin", "bridge"),
    ("", "darwin", "bridge"),
])
def test_profile_follows_the_engine(engine_os, platform, expected, monkeypatch):
    monkeypatch.delenv("MONITORING_NETWORK", raising=False)
    assert monitoring.choose_profile(engine_os, platform) == expected


def test_profile_override_is_checked(monkeypatch):
    monkeypatch.setenv("MONITORING_NETWORK", "bridge")
    assert monitoring.choose_profile("Debian GNU/Linux 12", "linux") == "bridge"
    monkeypatch.setenv("MONITORING_NETWORK", "overlay")
    with pytest.raises(ToolkitError, match="MONITORING_NETWORK='overlay'"):
        monitoring.choose_profile("", "linux")


def test_wait_gives_up_at_the_deadline_naming_what_did_not_answer():
    url = f"http://127.0.0.1:{free_port()}/-/ready"
    with pytest.raises(ToolkitError, match=f"Prometheus did not answer at {re.escape(url)} within 0 s"):
        monitoring.wait_until_answering([("Prometheus", url)], timeout=0)


def test_password_note_only_for_the_default():
    assert monitoring.grafana_password(Settings({"GRAFANA_ADMIN_PASSWORD": "x1"})) == ("x1", None)
    password, note = monitoring.grafana_password(Settings({}))
    assert password == "admin" and "not set in .env" in note


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs prometheus (Debian package `prometheus`)")
def test_native_on_a_taken_port_names_the_fix(env_file):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_monitoring("native", "--listen", f"127.0.0.1:{port}", path="/usr/bin:/bin",
                                env_file=env_file(LITELLM_PORT="47000"))
    assert_one_line_error(result, f"port {port} is in use", "make monitoring-down")


def fake_docker_bin(tmp_path: Path, engine_os: str) -> Path:
    """A docker whose engine answers `info`, and a docker-compose that records its call and fails."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f'#!/bin/sh\n[ "$1" = info ] && {{ echo "{engine_os}"; exit 0; }}\nexit 1\n')
    (bin_dir / "docker-compose").write_text(
        f'#!/bin/sh\necho "$* password=$GRAFANA_ADMIN_PASSWORD" > {tmp_path}/compose-call\nexit 3\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("engine_os, profile", [("Ubuntu 24.04.1 LTS", "host" if sys.platform == "linux" else "bridge"),
                                                ("Docker Desktop", "bridge")])
def test_up_hands_compose_the_profile_and_password_and_reports_its_failure(engine_os, profile, env_file, tmp_path):
    bin_dir = fake_docker_bin(tmp_path, engine_os)
    result = run_monitoring("up", path=f"{bin_dir}:/usr/bin:/bin",
                            env_file=env_file(GRAFANA_ADMIN_PASSWORD="pw-for-compose"))
    assert_one_line_error(result, "docker compose up failed", "make monitoring")
    call = (tmp_path / "compose-call").read_text().split()
    expected = ["-p", monitoring.PROJECT, "-f", str(COMPOSE), "--profile", profile, "up", "-d"]
    assert call == expected + ["password=pw-for-compose"]
    assert "pw-for-compose" not in result.stdout + result.stderr
