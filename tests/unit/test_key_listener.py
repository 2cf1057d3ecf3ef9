"""The master key goes only to this toolkit's proxy (issue 22, finding 2), and the
port-in-use line shows no secret of another process (finding 6).

Another user's server (run as `nobody`, tests/foreign_listener.py) holds the proxy's
port and records every request's headers: every command that would send the key
refuses in one line, exits non-zero, and the server never sees the key. The happy path
against the real proxy is test_e2e_key_listener.py's."""
import os
import shutil
import subprocess
import sys

import pytest
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR
from foreign_listener import FAKE_KEY, start_as_nobody

from scripts.core import sockets
from scripts.core.procs import free_port

SENDERS = [("scripts.health", "health"), ("scripts.health", "test"), ("scripts.health", "models"),
           ("scripts.health", "verify-listener"), ("scripts.status",), ("scripts.claude_test", "--no-cli"),
           ("scripts.admin", "models", "list")]


@pytest.fixture
def foreign(env_file):
    listener = start_as_nobody()
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(listener.port))
    yield listener
    listener.stop()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)


def refusal_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_key_never_sent(foreign) -> None:
    for seen in foreign.requests():
        assert MASTER_KEY not in str(seen), f"the key reached another user's server: {seen}"


@pytest.mark.parametrize("command", SENDERS, ids=lambda c: " ".join(c[1:]) or c[0])
def test_a_sender_refuses_another_users_listener(foreign, command):
    line = refusal_line(run(*command))
    assert line == (f"error: something else (pid {_server_pid(foreign)}, user nobody) "
                    f"listens on 127.0.0.1:{foreign.port}: not sending the key")
    assert_key_never_sent(foreign)
    assert foreign.seen == [], "nothing at all was sent to it"


def _server_pid(foreign) -> int:
    """setpriv execs the server: the pid that holds the socket is the one started."""
    (listener,) = sockets.listeners(foreign.port)
    assert listener.pids == [foreign.process.pid] and listener.uid != os.getuid()
    return foreign.process.pid


def test_test_proxy_sh_refuses_another_users_listener(foreign):
    done = subprocess.run(["bash", "test-proxy.sh", "basic"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=60, env={**os.environ})
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (f"error: something else (pid {foreign.process.pid}, user nobody) listens on "
                                   f"127.0.0.1:{foreign.port}: not sending the key")
    assert "PASS" not in done.stdout and "FAIL" not in done.stdout
    assert_key_never_sent(foreign)
    assert foreign.seen == []


def test_port_in_use_names_the_program_but_not_its_arguments(foreign):
    """`make up` refuses the port (it always did) without printing the other process's
    command line, which carries a (fake) API key."""
    assert FAKE_KEY in open(f"/proc/{foreign.process.pid}/cmdline").read()  # the secret is really there
    line = refusal_line(run("scripts.proxy", "up"))
    assert FAKE_KEY not in line and FAKE_KEY[:12] not in line and "--api-key" not in line, line
    assert line == (f"error: port {foreign.port} on 127.0.0.1 is in use by python3 (pid {foreign.process.pid}, "
                    "user nobody): stop it or set LITELLM_PORT in .env")


def test_nothing_listening_is_not_running_and_sends_nothing(env_file):
    port = free_port()
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(port))
    line = refusal_line(run("scripts.health", "verify-listener"))
    assert line == f"error: the proxy is not running at http://127.0.0.1:{port}: run `make up`"


def test_this_users_server_that_is_not_the_proxy_is_refused_too(env_file):
    """A stray server of our own (a simulator, a dev server) on the port is not the proxy."""
    server = subprocess.Popen([sys.executable, "-c", "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0));"
                               "s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT=str(port))
        line = refusal_line(run("scripts.health", "models"))
        assert line == (f"error: something else (pid {server.pid}, user {sockets.user_name(os.getuid())}) listens on "
                        f"127.0.0.1:{port}: not sending the key")
    finally:
        server.kill()
        server.wait()


def test_the_foreign_listener_records_what_it_is_sent(foreign):
    """The assertion above can fail: a request with the key does reach its record."""
    from scripts.core.http import request
    request("GET", f"http://127.0.0.1:{foreign.port}/v1/models", headers={"Authorization": f"Bearer {MASTER_KEY}"})
    (seen,) = foreign.requests()
    assert seen["path"] == "/v1/models" and seen["headers"]["Authorization"] == f"Bearer {MASTER_KEY}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_claude_proxy_refuses_another_users_listener(foreign, isolated, shell, monkeypatch):
    """The shell block's claude-proxy: the foreign server answers the liveness probe (so no
    auto-start), then the listener check stops it before `claude` gets the key."""
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    from scripts import claude_shell
    monkeypatch.setenv("SHELL", f"/bin/{shell}")
    assert claude_shell.main(["configure", "--shells", shell]) == 0
    fake_bin = isolated / "bin"
    fake_bin.mkdir()
    (fake_bin / "claude").write_text("#!/bin/sh\necho CLAUDE RAN with $ANTHROPIC_AUTH_TOKEN\n")
    (fake_bin / "claude").chmod(0o755)
    env = {"HOME": os.environ["HOME"], "PATH": f"{fake_bin}:{os.environ['PATH']}", "TERM": "dumb",
           "LANG": "C.UTF-8"}
    done = subprocess.run([shell, "-i", "-c", "claude-proxy -p hi"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CLAUDE RAN" not in done.stdout, done.stdout + done.stderr
    assert (f"error: something else (pid {foreign.process.pid}, user nobody) listens on 127.0.0.1:{foreign.port}: "
            "not sending the key") in done.stderr.splitlines()
    assert_key_never_sent(foreign)
    assert [seen["path"] for seen in foreign.requests()] == ["/health/liveliness"]  # the probe, without a key
