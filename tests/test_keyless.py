"""OLLAMA_ALLOW_KEYLESS: from .env only, loopback only (a reachable bind refuses to start,
in one line, with nothing started), announced at `make up` and in `make status`."""
import subprocess
import sys

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts import status
from scripts.core import paths, settings
from scripts.core.procs import free_port
from scripts.gateway import process

KEYLESS = {"LITELLM_MASTER_KEY": MASTER_KEY, "ANTHROPIC_API_KEY": API_KEY, "OLLAMA_ALLOW_KEYLESS": "true"}


@pytest.mark.parametrize("word, on", [("true", True), ("1", True), ("YES", True), (" on ", True),
                                      ("false", False), ("0", False), ("", False), ("maybe", False)])
def test_flag_words(word, on):
    assert settings.flag(word) is on


@pytest.mark.parametrize("command", ("up", "run", "restart"))
@pytest.mark.parametrize("host", ("0.0.0.0", "192.168.1.20", "::"))
def test_a_reachable_bind_refuses_to_start_in_one_line(env_file, command, host):
    env_file(**KEYLESS, LITELLM_HOST=host, LITELLM_PORT=str(free_port()))
    result = subprocess.run([sys.executable, "-m", "scripts.proxy", command], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (f"error: OLLAMA_ALLOW_KEYLESS needs a loopback LITELLM_HOST (now {host}): "
                                     "remove OLLAMA_ALLOW_KEYLESS from .env or set LITELLM_HOST=127.0.0.1")
    assert not paths.pid_file().exists()


def test_a_loopback_bind_starts_with_a_warning(env_file, capsys):
    env_file(**KEYLESS, LITELLM_HOST="127.0.0.1")
    cfg = process.preflight()
    assert cfg.ollama_keyless
    assert "warning: OLLAMA_ALLOW_KEYLESS is on: /api/* (Ollama) answers programs on this machine without a key" \
        in capsys.readouterr().err


def test_off_by_default_and_never_from_the_shell(env_file, monkeypatch, capsys):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_HOST="0.0.0.0")
    monkeypatch.setenv("OLLAMA_ALLOW_KEYLESS", "true")
    cfg = process.preflight()  # a shell export neither switches it on nor blocks the start
    assert not cfg.ollama_keyless and "OLLAMA" not in capsys.readouterr().err
    assert "OLLAMA_ALLOW_KEYLESS" not in settings.proxy_environment(cfg)
    env_file(**KEYLESS)
    assert settings.proxy_environment(settings.load())["OLLAMA_ALLOW_KEYLESS"] == "true"


def test_status_warns_while_it_is_on(env_file, capsys):
    env_file(**KEYLESS, LITELLM_PORT=str(free_port()))
    assert status.main([]) == 0
    warning = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Ollama API")]
    assert warning == ["Ollama API     WARNING: OLLAMA_ALLOW_KEYLESS is on: /api/* answers any program on this "
                       "machine without a key (remove it from .env and `make restart` to close)"]
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(free_port()))
    assert status.main([]) == 0
    assert "Ollama API" not in capsys.readouterr().out
