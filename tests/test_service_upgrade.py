"""Installed services survive `git pull`: a unit written by an earlier version of the
toolkit (the golden files, which every version renders byte for byte) still starts the
proxy and the SSO refresher from the current tree, without `make install-service`."""
import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from scripts.core.http import is_live, request
from scripts.core.paths import PROJECT_DIR, venv_dir
from scripts.core.procs import free_port, terminate, wait_until
from scripts.sim.sandbox import (
    API_KEY,
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    MASTER_KEY,
    start_simulators,
    write_env,
)

GOLDEN = Path(__file__).parent / "golden" / "linux"


def installed_unit(name: str, tmp_path: Path) -> dict:
    """The golden unit with this machine's paths, read the way systemd reads it."""
    text = (GOLDEN / name).read_text()
    for example, real in (("/opt/claude-gateway/.env", tmp_path / ".env"), ("/opt/claude-gateway/state", tmp_path / "state"),
                          ("/opt/claude-gateway/logs", tmp_path / "logs"), ("/opt/claude-gateway/.venv", venv_dir()),
                          ("/opt/claude-gateway", PROJECT_DIR)):
        text = text.replace(example, str(real))
    unit = {"Environment": {}}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        if key == "Environment":
            name_, _, val = value.partition("=")
            unit["Environment"][name_] = val
        else:
            unit[key] = value
    return unit


def run_unit(unit: dict, extra_env: dict, **popen) -> subprocess.Popen:
    env = {"PATH": os.environ["PATH"], "HOME": extra_env.pop("HOME"), **unit["Environment"], **extra_env}
    return subprocess.Popen(shlex.split(unit["ExecStart"]), cwd=unit["WorkingDirectory"], env=env,
                            start_new_session=True, **popen)


@pytest.mark.e2e
def test_an_old_proxy_unit_starts_the_proxy_from_the_new_tree(tmp_path):
    unit = installed_unit("claude-gateway.service", tmp_path)
    assert unit["ExecStart"].endswith(" -m scripts.proxy run")
    sims = start_simulators()
    port = free_port()
    write_env(tmp_path / ".env", {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_PORT": str(port),
                                  "ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_API_BASE": sims.anthropic_url,
                                  "AWS_BEDROCK_RUNTIME_ENDPOINT": sims.bedrock_url, "AWS_REGION": "us-west-2",
                                  "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET_KEY})
    log = (tmp_path / "unit.log").open("wb")
    proxy = run_unit(unit, {"HOME": str(tmp_path), "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
                     stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: is_live(base, timeout=1.0), 120, interval=0.3,
                   abort=lambda: proxy.poll() is not None and f"the proxy exited ({proxy.returncode})")
        reply = request("POST", f"{base}/v1/messages", headers={"Authorization": f"Bearer {MASTER_KEY}"},
                        payload={"model": "claude-sonnet-4-5", "max_tokens": 20,
                                 "messages": [{"role": "user", "content": "hi"}]}, timeout=60)
        assert reply.status == 200, reply.body
        assert reply.headers.get("x-litellm-model-name", "").startswith("anthropic/")
    finally:
        terminate(proxy.pid)
        proxy.wait(10)
        sims.stop()
        log.close()
    assert proxy.returncode in (0, -signal.SIGTERM), (tmp_path / "unit.log").read_text()[-2000:]


def test_an_old_sso_refresh_unit_runs_the_refresher_from_the_new_tree(tmp_path):
    unit = installed_unit("claude-gateway-sso-refresh.service", tmp_path)
    assert unit["ExecStart"].endswith(" -m scripts.sso_refresh")
    write_env(tmp_path / ".env", {"LITELLM_MASTER_KEY": MASTER_KEY})  # no AWS_PROFILE: nothing to refresh
    refresher = run_unit(unit, {"HOME": str(tmp_path)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = refresher.communicate(timeout=60)
    assert refresher.returncode == 2, err  # the documented "not configured" code, from the module itself
    assert "AWS_PROFILE is not set in .env" in err
