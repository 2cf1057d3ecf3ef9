"""The happy path of the listener check (scripts/gateway/listener.py) against the real
proxy: the commands that send the key find this user's proxy on the port and go on.
Another user's listener on the port is test_key_listener.py's."""
import subprocess

import pytest
from harness import start_stack

from scripts.core import sockets
from scripts.core.paths import PROJECT_DIR

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-key-listener"))
    yield running
    running.stop()


def test_verify_listener_names_the_proxy_that_the_pid_file_names(stack):
    done = stack.script("health", "verify-listener")
    assert done.returncode == 0, done.stderr
    pid = int((stack.workdir / "state" / "proxy.pid").read_text().split()[0])
    (listener,) = [s for s in sockets.listeners(stack.port)]
    assert listener.pids == [pid]
    assert done.stdout.strip() == (f"ok: {stack.base_url} is this toolkit's proxy (pid {pid}, "
                                   f"user {sockets.user_name(listener.uid)})")


@pytest.mark.parametrize("command", [("health", "models"), ("status",), ("health", "test")])
def test_the_senders_reach_the_proxy(stack, command):
    done = stack.script(*command)
    assert done.returncode == 0, done.stdout + done.stderr


def test_test_proxy_sh_basic_passes_the_check(stack):
    done = subprocess.run(["bash", "test-proxy.sh", "basic"], cwd=PROJECT_DIR, env=stack.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASS") == 2
