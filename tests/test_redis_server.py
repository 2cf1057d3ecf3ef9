"""`make redis`: a real redis-server under the state directory, loopback only, with a
generated password that never reaches the output, and REDIS_URL in .env."""
import os
import shutil
import socket
import stat
import subprocess
import sys

import pytest
import redis
from conftest import API_KEY, MASTER_KEY, PROJECT_DIR

from scripts.core import envfile
from scripts.core.procs import free_port

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server not installed (.ci/run installs it)")


def make_redis(*args: str, path: str = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "scripts.redis_server", *args], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def redis_port(monkeypatch):
    port = free_port()
    monkeypatch.setenv("GATEWAY_REDIS_PORT", str(port))
    yield port
    make_redis("stop")


def test_make_redis_starts_a_private_loopback_redis_and_fills_redis_url(env_file, isolated, redis_port):
    env = env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, REDIS_URL="")
    done = make_redis("start")
    assert done.returncode == 0, done.stderr
    url = envfile.read(env)["REDIS_URL"]
    password = (isolated / "state" / "redis" / "password").read_text().strip()
    assert url == f"redis://:{password}@127.0.0.1:{redis_port}/0"
    assert password not in done.stdout + done.stderr
    for private in (env, isolated / "state" / "redis" / "password", isolated / "state" / "redis" / "redis.conf"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    client = redis.Redis.from_url(url)
    assert client.ping()
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("save")["save"] == ""
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=redis_port, password="wrong").ping()
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="(?i)auth"):
        redis.Redis(host="127.0.0.1", port=redis_port).get("x")

    again = make_redis("start")
    assert again.returncode == 0 and "already running" in again.stdout and "already points at it" in again.stdout
    assert envfile.read(env)["REDIS_URL"] == url
    assert make_redis("status").returncode == 0
    assert "stopped" in make_redis("stop").stdout
    assert make_redis("status").returncode == 1


def test_make_redis_leaves_a_team_redis_url_alone(env_file, redis_port):
    team = "redis://:team-password-0123456789@10.0.0.5:6379/2"
    env = env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, REDIS_URL=team)
    done = make_redis("start")
    assert done.returncode == 0, done.stderr
    assert "points elsewhere" in done.stdout and "team-password-0123456789" not in done.stdout
    assert envfile.read(env)["REDIS_URL"] == team


def test_make_redis_without_redis_server_names_the_fix(env_file, redis_port, tmp_path):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    if any(os.path.exists(os.path.join(d, "redis-server")) for d in ("/opt/homebrew/bin", "/usr/local/bin")):
        pytest.skip("a Homebrew-style redis-server is installed where the toolkit also looks")
    done = make_redis("start", path=str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: redis-server not found: install it")
    assert len(done.stderr.strip().splitlines()) == 1


def test_make_redis_on_a_busy_port_names_the_owner(env_file, redis_port):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", redis_port))
        busy.listen(1)
        done = make_redis("start")
    assert done.returncode == 1
    assert f"port {redis_port} is in use by" in done.stderr
