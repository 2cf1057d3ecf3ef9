""".env mistakes a user will make sooner or later, each through the real commands on a
real file: one line naming the fix, a non-zero exit where the command cannot go on,
warnings one line each on stderr and never twice, and the file left as it was."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core import envcheck, envfile
from scripts.keys import new_key

BASE = f"LITELLM_MASTER_KEY={MASTER_KEY}\nANTHROPIC_API_KEY={API_KEY}\n"


def run(*args, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", *args], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=60)


def one_line_error(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


def write(isolated, data: bytes, mode=0o600):
    path = isolated / ".env"
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("args", [("scripts.proxy", "up"), ("scripts.health", "health"), ("scripts.keys",),
                                  ("scripts.info",), ("scripts.status",)])
def test_invalid_utf8_names_the_line_and_changes_nothing(isolated, args):
    data = (BASE + "AWS_PROFILE=caf\xe9\n").encode("latin-1")
    path = write(isolated, data)
    line = one_line_error(run(*args))
    assert f"{path} line 3 is not UTF-8" in line and "save the file as UTF-8" in line
    assert path.read_bytes() == data


@pytest.mark.parametrize("args", [("scripts.proxy", "up"), ("scripts.keys",), ("scripts.info",)])
def test_env_that_is_a_directory(isolated, args):
    (isolated / ".env").mkdir()
    line = one_line_error(run(*args))
    assert "is a directory" in line and "cp .env.template .env" in line


@pytest.mark.skipif(os.getuid() == 0 and not shutil.which("setpriv"), reason="root reads any file; needs setpriv")
def test_unreadable_env(monkeypatch):
    """As root, the commands run as nobody (root's override dropped with setpriv), from a
    directory nobody may enter but whose .env it may not read."""
    workdir = Path(tempfile.mkdtemp(prefix="gateway-unreadable-"))
    try:
        workdir.chmod(0o755)
        path = write(workdir, BASE.encode(), mode=0o600)
        monkeypatch.setenv("GATEWAY_ENV_FILE", str(path))
        prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups") if os.getuid() == 0 else ()
        if not prefix:
            path.chmod(0)
        for args in (("scripts.proxy", "up"), ("scripts.keys",), ("scripts.info",)):
            line = one_line_error(run(*args, prefix=prefix))
            assert f"cannot read {path} (Permission denied)" in line and "chmod 600" in line
            assert ("chown" in line) == bool(prefix)
        assert path.read_bytes() == BASE.encode()
    finally:
        shutil.rmtree(workdir)


def test_bom_before_the_first_line_is_accepted(isolated):
    path = write(isolated, b"\xef\xbb\xbf" + f"LITELLM_MASTER_KEY={MASTER_KEY}\r\n".encode())
    assert envfile.read(path)["LITELLM_MASTER_KEY"] == MASTER_KEY
    result = run("scripts.proxy", "up")  # no Anthropic credential: the next check after the key
    assert "LITELLM_MASTER_KEY is not set" not in result.stderr
    assert "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN" in one_line_error(result)
    assert run("scripts.keys").returncode == 0
    assert path.read_bytes().startswith(b"\xef\xbb\xbfLITELLM_MASTER_KEY=sk-") and path.read_bytes().endswith(b"\r\n")


def test_line_without_equals_is_warned_with_its_number(isolated):
    path = write(isolated, (BASE + "# a comment\n\nANTHROPIC_API_BASE http://127.0.0.1:9\n").encode())
    result = run("scripts.info")
    assert result.returncode == 0
    warning = f"warning: {path} line 5 (ANTHROPIC_API_BASE ...) has no '=': write ANTHROPIC_API_BASE=value; " \
              "the line is ignored"
    assert result.stderr.splitlines() == [warning]
    assert "http://127.0.0.1:9" not in result.stderr  # a value is never echoed: it could be a secret


def test_duplicate_keys_warned_once_per_command_everywhere_env_is_read(isolated):
    write(isolated, (BASE + "AWS_PROFILE=dev\nAWS_PROFILE=prod\n").encode())
    expected = [f"warning: {isolated / '.env'} sets AWS_PROFILE on lines 3 and 4: line 4 is in force; delete line 3"]
    for args in (("scripts.info",), ("scripts.status",), ("scripts.claude_shell", "show"), ("scripts.keys",)):
        result = run(*args)
        assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == expected, args


def test_generate_key_updates_the_line_in_force_and_keeps_crlf(isolated):
    original = f"ANTHROPIC_API_KEY={API_KEY}\r\nLITELLM_MASTER_KEY=sk-first-0123456789abcdef0123456789\r\n" \
               f"AWS_PROFILE=dev\r\nexport LITELLM_MASTER_KEY=sk-second-0123456789abcdef012345678\r\n# end\r\n"
    path = write(isolated, original.encode(), mode=0o644)
    result = run("scripts.keys")
    assert result.returncode == 0, result.stderr
    assert "line 4, the line in force (line 2 sets it too and is ignored)" in result.stdout
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[:3] == original.split("\r\n")[:3] and lines[4:] == ["# end", ""]
    assert lines[3].startswith("export LITELLM_MASTER_KEY=sk-") and lines[3] != original.split("\r\n")[3]
    assert envfile.read(path)["LITELLM_MASTER_KEY"] == lines[3].split("=", 1)[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("line,variable,fix", [
    ("AWS_REGION='us-west-2 '", "AWS_REGION='us-west-2 '", "write AWS_REGION=us-west-2"),
    ("AWS_REGION=us-westt", "AWS_REGION='us-westt'", "us-west-2"),
    ("LITELLM_HOST=not a host", "LITELLM_HOST='not a host'", "is not a host name or IP address"),
    ("LITELLM_PORT=99999", "LITELLM_PORT='99999'", "1-65535"),
    ("ANTHROPIC_API_BASE=api.anthropic.com", "ANTHROPIC_API_BASE='api.anthropic.com'", "http(s) URL"),
    ("AWS_BEDROCK_RUNTIME_ENDPOINT=https://x y", "AWS_BEDROCK_RUNTIME_ENDPOINT='https://x y'", "http(s) URL"),
    ("GATEWAY_DRAIN_TIMEOUT=soon", "GATEWAY_DRAIN_TIMEOUT='soon'", "seconds"),
    ("LITELLM_MASTER_KEY=sk-", "LITELLM_MASTER_KEY in .env is too short", "make generate-key"),
    (f"ANTHROPIC_API_KEY=' {API_KEY}'", "ANTHROPIC_API_KEY in .env has stray whitespace", "remove it"),
])
def test_values_are_validated_and_name_the_variable(isolated, line, variable, fix):
    key = line.split("=", 1)[0]
    kept = "".join(f"{kept}\n" for kept in BASE.splitlines() if not kept.startswith(key + "="))
    path = write(isolated, (kept + line + "\n").encode())
    before = path.read_bytes()
    for args in (("scripts.proxy", "up"), ("scripts.health", "health")):
        error = one_line_error(run(*args))
        assert variable in error and fix in error, error
    assert API_KEY not in run("scripts.proxy", "up").stderr
    info = run("scripts.info")
    if key in ("LITELLM_HOST", "LITELLM_PORT"):  # every command needs the proxy's address
        assert variable in one_line_error(info)
    else:  # shows what it can, the problem a warning
        assert info.returncode == 0 and info.stderr.splitlines() == [f"warning: {error[len('error: '):]}"]
    assert path.read_bytes() == before


def test_host_that_does_not_resolve_is_not_a_busy_port(isolated):
    write(isolated, (BASE + "LITELLM_HOST=no-such-host.invalid\n").encode())
    line = one_line_error(run("scripts.proxy", "up"))
    assert "LITELLM_HOST=no-such-host.invalid in .env is not a host name this machine can resolve" in line
    assert "in use" not in line


def test_generated_keys_pass_the_minimum_length():
    assert envcheck.problem("LITELLM_MASTER_KEY", new_key(), "in .env") is None
    assert "too short" in envcheck.problem("LITELLM_MASTER_KEY", "sk-" + "a" * 28, "in .env")
    assert envcheck.problem("LITELLM_MASTER_KEY", "sk-" + "a" * 29, "in .env") is None


def test_env_readable_by_others_makes_up_warn(isolated):
    path = write(isolated, (BASE + "LITELLM_PORT=99999\n").encode(), mode=0o644)
    result = run("scripts.proxy", "up")
    assert result.stderr.splitlines()[0] == f"warning: {path} is readable by other users (mode 0644): " \
                                            f"run `chmod 600 {path}`"
    assert result.stderr.splitlines()[1].startswith("error: LITELLM_PORT")
