"""The config `make update-models` writes runs a real proxy: it serves a model that
only discovery knew about and falls back to Bedrock for it, and for every other
discovered model, when Anthropic answers 429.

The user's flow, with GATEWAY_CONFIG on a temp copy of config.yaml: the proxy runs
with the shipped list, `update` adds the new model and asks for `make restart`,
the restart serves it.
"""
import anthropic
import pytest
from harness import start_stack
from models_workspace import ANTHROPIC_IDS, BEDROCK_IDS, NEW_BEDROCK, NEW_MODEL, outside_managed

from scripts.core import configfile
from scripts.core.paths import PROJECT_DIR

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("models-proxy")
    config = root / "config.yaml"
    config.write_bytes((PROJECT_DIR / "config.yaml").read_bytes())
    stack = start_stack(root / "stack", extra_env={"GATEWAY_CONFIG": str(config)},
                        sim_args=["--anthropic-models", ",".join(ANTHROPIC_IDS),
                                  "--bedrock-models", ",".join(BEDROCK_IDS)])
    try:
        update = stack.script("models", "update")
        restart = stack.script("proxy", "restart") if update.returncode == 0 else None
        yield stack, config, update, restart
    finally:
        stack.stop()


@pytest.fixture
def client(run):
    stack = run[0]
    stack.reset()
    return anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)


def ask(client, model):
    raw = client.messages.with_raw_response.create(
        model=model, max_tokens=32, messages=[{"role": "user", "content": "hello"}])
    return raw.parse().content[0].text, raw.headers["x-litellm-model-name"]


def test_update_asks_for_a_restart_while_the_proxy_runs(run):
    _, config, update, restart = run
    assert update.returncode == 0, update.stderr
    assert "the proxy is running: run `make restart` to serve the new list" in update.stdout
    assert restart is not None and restart.returncode == 0, restart.stderr
    assert outside_managed(config.read_text()) == outside_managed((PROJECT_DIR / "config.yaml").read_text())


def test_new_model_is_served_and_falls_back_to_bedrock(run, client):
    stack = run[0]
    text, served_by = ask(client, NEW_MODEL)
    assert "simulated Anthropic" in text and served_by == f"anthropic/{NEW_MODEL}"
    stack.sims.anthropic.set_fault("429", retry_after=1, models=[NEW_MODEL])
    text, served_by = ask(client, NEW_MODEL)
    assert "simulated Bedrock" in text and served_by == f"bedrock/us.{NEW_BEDROCK}"
    assert [r["status"] for r in stack.primary_calls(NEW_MODEL)] == [200, 429]
    assert len(stack.fallback_calls(NEW_BEDROCK)) == 1


def test_every_discovered_model_falls_back(run, client):
    stack, config_path = run[0], run[1]
    config = configfile.load(config_path)
    managed = [name for name, targets in config.fallbacks.items() if targets == [f"{name}-bedrock"]
               and name != "fallback-test"]
    assert NEW_MODEL in managed and "claude-opus" in managed and len(managed) >= 15
    stack.sims.anthropic.set_fault("429", retry_after=1)
    for name in managed:
        text, served_by = ask(client, name)
        bedrock_id = config.deployments[f"{name}-bedrock"][0]
        assert "simulated Bedrock" in text and served_by == bedrock_id, name
    assert config.deployments["claude-opus-bedrock"] == [f"bedrock/us.{NEW_BEDROCK}"]


def test_second_update_needs_no_restart(run):
    again = run[0].script("models", "update")
    assert again.returncode == 0, again.stderr
    assert "is up to date: nothing written" in again.stdout
    assert "the proxy is running: no restart needed" in again.stdout
