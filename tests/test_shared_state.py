"""REDIS_URL and GATEWAY_WORKERS: settings, the config contribution, the proxy's command
and environment (unit tests; the real Redis and proxies are in test_e2e_scale.py)."""
import copy
import stat

import pytest
import yaml
from conftest import API_KEY, MASTER_KEY

from scripts.core import paths, settings
from scripts.core.errors import ToolkitError
from scripts.gateway import effective_config, process, proxy_env, readiness, shared_state

URL = "redis://:s3cret-password-0123456789@127.0.0.1:47379/0"


def load(env_file, **values):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **values)
    return settings.load()


def test_without_redis_one_worker_and_nothing_added(env_file):
    cfg = load(env_file)
    assert (cfg.workers, cfg.redis_url) == (1, None)
    assert shared_state.redis_settings(cfg, {"router_settings": {"num_retries": 0}}) == {}
    assert shared_state.proxy_variables(cfg) == {}


@pytest.mark.parametrize("values, fix", [
    ({"GATEWAY_WORKERS": "2"}, r"GATEWAY_WORKERS=2 needs REDIS_URL in \.env .*make redis"),
    ({"GATEWAY_WORKERS": "0", "REDIS_URL": URL}, "GATEWAY_WORKERS='0' in .* is not a worker count: use 1 to 64"),
    ({"GATEWAY_WORKERS": "two", "REDIS_URL": URL}, "not a worker count"),
    ({"REDIS_URL": "127.0.0.1:6379"}, r"^REDIS_URL in .* must start with redis://, rediss:// or unix://"),
])
def test_bad_worker_or_redis_settings_name_the_fix(env_file, values, fix):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, **values)
    with pytest.raises(ToolkitError, match=fix):
        settings.load()


def test_redis_url_never_comes_from_the_shell(env_file, monkeypatch):
    monkeypatch.setenv("REDIS_URL", URL)
    monkeypatch.setenv("GATEWAY_WORKERS", "2")
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY)
    with pytest.raises(ToolkitError, match="needs REDIS_URL"):
        settings.load()


def test_redis_contribution_is_a_reference_and_leaves_its_input_alone(env_file):
    cfg = load(env_file, REDIS_URL=URL, GATEWAY_WORKERS="2")
    config = {"router_settings": {"num_retries": 0, "allowed_fails": 0}}
    before = copy.deepcopy(config)
    sections = shared_state.redis_settings(cfg, config)
    assert sections == {"router_settings": {"redis_url": "os.environ/REDIS_URL"}}
    assert config == before
    rendered = copy.deepcopy(config)
    effective_config.apply(rendered, effective_config.shared_redis(cfg, config))
    assert rendered["router_settings"]["redis_url"] == "os.environ/REDIS_URL"
    assert (rendered["router_settings"]["num_retries"], rendered["router_settings"]["allowed_fails"]) == (0, 0)
    assert config == before
    assert shared_state.proxy_variables(cfg)["DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS"] == "0.001"


def test_redis_in_config_yaml_and_env_at_once_is_refused(env_file):
    cfg = load(env_file, REDIS_URL=URL)
    with pytest.raises(ToolkitError, match="router_settings.redis_host and .env sets REDIS_URL"):
        shared_state.redis_settings(cfg, {"router_settings": {"redis_host": "10.0.0.1"}})


def test_command_runs_the_rendered_config_with_workers(env_file):
    cfg = load(env_file, REDIS_URL=URL, GATEWAY_WORKERS="3")
    paths.venv_bin("litellm").exists() or pytest.skip("no .venv: run `make install`")
    command = process.litellm_command(cfg)
    assert command[command.index("--num_workers") + 1] == "3"
    rendered = process.write_proxy_config(cfg)
    assert command[command.index("--config") + 1] == str(rendered)
    assert stat.S_IMODE(rendered.stat().st_mode) == 0o600
    text = rendered.read_text()
    assert "s3cret" not in text  # the password stays in the environment
    data = yaml.safe_load(text)
    assert data["router_settings"]["redis_url"] == "os.environ/REDIS_URL"
    assert data["model_list"] == yaml.safe_load(paths.config_file().read_text())["model_list"]


def test_command_without_redis_has_one_worker_and_no_redis(env_file):
    cfg = load(env_file)
    paths.venv_bin("litellm").exists() or pytest.skip("no .venv: run `make install`")
    command = process.litellm_command(cfg)
    assert command[command.index("--num_workers") + 1] == "1"
    assert "redis_url" not in yaml.safe_load(process.write_proxy_config(cfg).read_text())["router_settings"]


def test_environment_of_several_workers(env_file, monkeypatch):
    monkeypatch.setenv("DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS", "0.05")  # a bench candidate
    env = proxy_env.environment(load(env_file, REDIS_URL=URL, GATEWAY_WORKERS="2"))
    assert env["REDIS_URL"] == URL
    assert env["DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS"] == "0.05"
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith(str(paths.state_dir()))
    assert env[readiness.READY_DIR_VAR] == str(readiness.ready_dir())
    assert "PROMETHEUS_MULTIPROC_DIR" not in proxy_env.environment(load(env_file))


def test_ready_markers_count_per_proxy(tmp_path, monkeypatch):
    monkeypatch.setenv(readiness.READY_DIR_VAR, str(tmp_path))
    readiness.announce(111)
    open(readiness.marker(str(tmp_path), 111, 5), "w").close()
    open(readiness.marker(str(tmp_path), 222, 6), "w").close()
    assert (readiness.count(tmp_path, 111), readiness.count(tmp_path, 222)) == (2, 1)
    readiness.forget_all_but(tmp_path, 222)
    assert (readiness.count(tmp_path, 111), readiness.count(tmp_path, 222)) == (0, 1)


def test_masked_url_hides_the_password():
    shown = settings.mask_url(URL)
    assert "s3cret-password-0123456789" not in shown
    assert shown.startswith("redis://:s3cret...") and shown.endswith("@127.0.0.1:47379/0")
