"""Each bad input ends in one line naming the fix, a non-zero exit, and no damage."""
import socket
import stat
import subprocess
import sys

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR


def run(*args, env_overrides=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=60)


def one_line_error(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("args", [("scripts.proxy", "up"), ("scripts.health", "health"),
                                  ("scripts.health", "test"), ("scripts.health", "models"),
                                  ("scripts.keys",), ("scripts.info",)])
def test_no_env_file(args):
    assert "cp .env.template .env" in one_line_error(run(*args))


def test_missing_master_key(env_file):
    env_file(ANTHROPIC_API_KEY=API_KEY)
    assert "make generate-key" in one_line_error(run("scripts.proxy", "up"))


def test_missing_anthropic_credential(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY)
    assert "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN" in one_line_error(run("scripts.proxy", "up"))


def test_invalid_config_names_file_and_key(env_file, isolated, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    bad = isolated / "config.yaml"
    bad.write_text("model_list:\n  - model_name: claude-x\n    litellm_params: {}\n")
    monkeypatch.setenv("GATEWAY_CONFIG", str(bad))
    line = one_line_error(run("scripts.proxy", "up"))
    assert "model_list[0].litellm_params.model" in line and str(bad) in line
    bad.write_text("model_list: [\n")
    assert "not valid YAML" in one_line_error(run("scripts.proxy", "up"))
    bad.write_text("model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/a}\n"
                   "router_settings:\n  fallbacks: [{a: [missing-group]}]\n")
    assert "missing-group is not a model_name" in one_line_error(run("scripts.proxy", "up"))


def test_port_in_use_names_the_owner(env_file):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(port))
        line = one_line_error(run("scripts.proxy", "up"))
    assert f"port {port}" in line and "in use by" in line and "LITELLM_PORT" in line


@pytest.mark.parametrize("command", ["health", "test", "models"])
def test_proxy_not_running(env_file, command):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(port))
    assert "make up" in one_line_error(run("scripts.health", command))


def test_generate_key_changes_only_its_line(env_file, isolated):
    path = env_file(ANTHROPIC_API_KEY=API_KEY, LITELLM_MASTER_KEY="sk-old", AWS_PROFILE="dev")
    path.chmod(0o644)
    result = run("scripts.keys")
    assert result.returncode == 0, result.stderr
    lines = path.read_text().splitlines()
    assert lines[0] == f"ANTHROPIC_API_KEY={API_KEY}" and lines[2] == "AWS_PROFILE=dev"
    new_key = lines[1].split("=", 1)[1]
    assert new_key.startswith("sk-") and len(new_key) >= 40 and new_key != "sk-old"
    assert new_key not in result.stdout  # printed masked only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_down_when_not_running_is_calm(env_file):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    result = run("scripts.proxy", "down")
    assert result.returncode == 0 and "not running" in result.stdout


def test_clean_keeps_env_and_foreign_files(env_file, isolated):
    path = env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    (isolated / "logs").mkdir()
    (isolated / "logs" / "proxy.log").write_text("x")
    (isolated / "logs" / "sso-refresh.log.1").write_text("x")
    (isolated / "state").mkdir()
    (isolated / "state" / "proxy.pid").write_text("999999999\n")
    (isolated / "state" / "models-seen.json").write_text("{}")
    (isolated / "state" / "someone-elses.txt").write_text("keep")
    result = run("scripts.clean")
    assert result.returncode == 0, result.stderr
    assert path.exists() and (isolated / "state" / "someone-elses.txt").read_text() == "keep"
    assert not (isolated / "logs").exists() and not (isolated / "state" / "proxy.pid").exists()
    assert not (isolated / "state" / "models-seen.json").exists()
