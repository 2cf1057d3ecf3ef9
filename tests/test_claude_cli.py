"""The real Claude Code CLI, started from a shell that read the configure-claude
block (HOME in tmp), through a real proxy to the simulated upstreams: answered
by Anthropic, and by Bedrock when Anthropic rate-limits, with Claude Code's
default model and with explicitly chosen older ones (whose requests differ:
no mid-conversation system message, no output_config)."""
import json
import os
import subprocess
from typing import Tuple

import pytest
from claude_cli import claude_binary
from harness import start_stack

from scripts.core.http import is_live
from scripts.core.paths import PROJECT_DIR
from scripts.sim.sandbox import PYTHON

pytestmark = pytest.mark.e2e
MODEL = "claude-sonnet-4-5-20250929"
FALLBACK_MODEL = "claude-haiku-4-5-20251001"
USERS_OWN_KEY = "users-own-key-must-not-matter"  # neither the proxy nor the simulator accepts it


@pytest.fixture(scope="module")
def claude():
    return claude_binary()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, claude):
    running = start_stack(tmp_path_factory.mktemp("claude-cli"))
    running.env["GATEWAY_USER_CONFIG_DIR"] = str(running.workdir / "user-config")
    configured = running.script("claude_shell", "configure", "--shells", "bash zsh fish")
    assert configured.returncode == 0, configured.stderr
    yield running
    running.stop()


def run_in_shell(stack, claude, command: str, shell: str = "bash", **extra: str) -> Tuple[dict, str]:
    """`SHELL -i -c COMMAND` as a user's new terminal would run it: (claude's JSON result, stderr)."""
    env = {"HOME": stack.env["HOME"], "PATH": f"{claude.parent}:{os.environ['PATH']}", "TERM": "dumb",
           "LANG": "C.UTF-8", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", **extra}
    done = subprocess.run([shell, "-i", "-c", command], env=env, cwd=stack.workdir, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.stdout.strip(), f"no output (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(done.stdout)
    assert done.returncode == 0 and not result["is_error"], result.get("result")
    return result, done.stderr


def ask(model: str) -> str:
    return f'ANTHROPIC_MODEL={model} claude -p "say hi" --output-format json'


def test_claude_is_answered_by_anthropic_through_the_proxy(stack, claude):
    stack.reset()
    # A user's own ANTHROPIC_API_KEY stays exported: Claude Code then sends it as
    # x-api-key beside the Bearer proxy key, and LiteLLM must use the Bearer one.
    result, _ = run_in_shell(stack, claude, ask(MODEL), ANTHROPIC_API_KEY=USERS_OWN_KEY)
    assert "simulated Anthropic" in result["result"]
    calls = stack.primary_calls(MODEL)
    assert [c["status"] for c in calls] == [200]
    assert calls[0]["auth_kind"] == "api_key" and "claude-code-20250219" in calls[0]["anthropic_beta"]
    assert stack.fallback_calls() == []


def test_bedrock_answers_when_anthropic_rate_limits(stack, claude):
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=2, models=[FALLBACK_MODEL])
    result, _ = run_in_shell(stack, claude, f"ANTHROPIC_MODEL={FALLBACK_MODEL} claude-proxy -p 'say hi' --output-format json")
    assert "simulated Bedrock" in result["result"], result["result"]
    assert 429 in [c["status"] for c in stack.primary_calls(FALLBACK_MODEL)]
    assert [c["status"] for c in stack.fallback_calls("claude-haiku-4-5")] == [200]
    stack.sims.anthropic.clear_fault()


def test_default_model_is_answered_through_the_proxy_and_falls_back(stack, claude):
    """No ANTHROPIC_MODEL: Claude Code's own default (claude-opus-4-8 in 2.1.197), whose
    requests carry a mid-conversation system message and output_config.effort."""
    stack.reset()
    result, _ = run_in_shell(stack, claude, 'claude -p "say hi" --output-format json')
    assert "simulated Anthropic" in result["result"], result["result"]
    (used,) = set(result["modelUsage"])
    model = used.split("[")[0]  # "claude-opus-4-8[1m]": the 1M-context variant
    assert [c["status"] for c in stack.primary_calls(model)] == [200]

    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=2, models=[model])
    result, _ = run_in_shell(stack, claude, 'claude -p "say hi" --output-format json')
    assert "simulated Bedrock" in result["result"], result["result"]
    assert [c["status"] for c in stack.fallback_calls(model)] == [200]
    stack.sims.anthropic.clear_fault()


def test_make_test_claude_runs_the_wire_request_and_the_cli(stack, claude):
    stack.reset()
    env = {**stack.env, "PATH": f"{claude.parent}:{os.environ['PATH']}"}
    done = subprocess.run([PYTHON, "-m", "scripts.claude_test", "--cli-model", MODEL], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    wire, cli = done.stdout.splitlines()
    # The wire request is the toolkit's own, not Claude Code's: routed like any other client.
    assert "Claude Code's wire format" in wire and "not Claude Code itself, so routed API key -> Bedrock" in wire
    assert "simulated Anthropic" in wire and "from Anthropic (" in wire
    (sent,) = [c for c in stack.primary_calls() if c["system_head"] == ["Answer in one word."]]
    assert "claude-code-20250219" not in sent["anthropic_beta"] and "interleaved-thinking-2025-05-14" in sent["anthropic_beta"]
    assert "claude -p (Claude Code 2.1" in cli and "simulated Anthropic" in cli
    assert cli.endswith(f"the proxy at {stack.base_url} counted 1 request(s) from Claude Code meanwhile")
    assert stack.master_key not in done.stdout + done.stderr


def test_make_test_claude_fails_when_claude_goes_around_the_proxy(stack, claude, tmp_path):
    """Claude Code's own settings send it straight to "Anthropic": `claude -p` answers, and
    test-claude must not call that a request through the proxy."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps({"env": {
        "ANTHROPIC_BASE_URL": stack.sims.anthropic_url, "ANTHROPIC_AUTH_TOKEN": "",
        "ANTHROPIC_API_KEY": "sk-ant-api03-straight-to-anthropic"}}))
    stack.reset()
    env = {**stack.env, "HOME": str(home), "PATH": f"{claude.parent}:{os.environ['PATH']}"}
    done = subprocess.run([PYTHON, "-m", "scripts.claude_test", "--cli-model", MODEL], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "claude -p" not in done.stdout  # the wire request's line only
    assert done.stderr.strip() == (f"error: `claude -p` answered, but the proxy at {stack.base_url} counted no "
                                   "request from Claude Code: something sends it elsewhere (an ANTHROPIC_BASE_URL "
                                   "in ~/.claude/settings.json?); `make show-claude` shows the routing")
    assert [c["status"] for c in stack.primary_calls(MODEL)] == [200]  # it did reach "Anthropic", directly


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_claude_proxy_in_zsh_and_fish(stack, claude, shell):
    stack.reset()
    result, _ = run_in_shell(stack, claude, "claude-proxy -p 'say hi' --output-format json", shell=shell,
                             ANTHROPIC_MODEL=MODEL)
    assert "simulated Anthropic" in result["result"]
    assert [c["status"] for c in stack.primary_calls(MODEL)] == [200]


def test_claude_proxy_starts_the_proxy_when_it_is_down(stack, claude):
    """Last: stops the module's proxy, then `claude-proxy` starts it again."""
    down = stack.script("proxy", "down")
    assert down.returncode == 0 and not is_live(stack.base_url), down.stderr
    result, stderr = run_in_shell(stack, claude, "claude-proxy -p 'say hi' --output-format json",
                                  ANTHROPIC_MODEL=MODEL, GATEWAY_STATE_DIR=stack.env["GATEWAY_STATE_DIR"],
                                  GATEWAY_LOG_DIR=stack.env["GATEWAY_LOG_DIR"])
    assert "simulated Anthropic" in result["result"]
    assert "proxy is up" in stderr and is_live(stack.base_url)
