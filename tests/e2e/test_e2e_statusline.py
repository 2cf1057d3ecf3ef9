"""Claude Code's status line, end to end: a real proxy from the project's config.yaml with the
subscription token and the API key, the simulated Anthropic (usage windows in its headers) and
Bedrock, the real Claude Code CLI and the anthropic SDK, and the real `claude-gateway` launcher
run from a directory outside the checkout, the way Claude Code runs its statusLine command.

The line follows what the proxy recorded: up with no answer yet; the subscription answering
Claude Code, with its 5h/7d windows; the API key answering the SDK; a usage limit (the
subscription LIMITED until its reset); Bedrock after Anthropic's 429; "down since" once the
proxy is stopped, because the status line saw it running before.
"""
import json
import re
import subprocess
import time

import anthropic
import pytest
from claude_cli import claude_binary, run_print
from harness import start_stack

from scripts.console import launcher

pytestmark = pytest.mark.e2e
MODEL = "claude-sonnet-4-5"
SESSION = json.dumps({"model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet"}, "workspace": {}})
CLOCK = r"\d\d:\d\d"


@pytest.fixture(scope="module")
def claude():
    return claude_binary()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, claude):
    running = start_stack(tmp_path_factory.mktemp("e2e-statusline"), credentials=("api_key", "token"))
    yield running
    running.stop()


def statusline(stack, cwd) -> str:
    """The real launcher's answer, as Claude Code would show it (the first line of stdout)."""
    # Claude Code passes its environment on; the shell block gave it ANTHROPIC_BASE_URL.
    env = {**stack.env, "GATEWAY_BIN_DIR": str(stack.workdir / "bin"), "ANTHROPIC_BASE_URL": stack.base_url}
    done = subprocess.run([str(stack.workdir / "bin" / "claude-gateway"), "statusline"], cwd=cwd, env=env,
                          input=SESSION, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done
    return done.stdout.splitlines()[0]


def ask_sdk(stack) -> str:
    client = anthropic.Anthropic(api_key=stack.master_key, base_url=stack.base_url, max_retries=0)
    answer = client.messages.create(model=MODEL, max_tokens=32, messages=[{"role": "user", "content": "hi"}])
    return answer.content[0].text


def test_the_status_line_follows_who_answers_and_the_proxy_going_down(stack, claude, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_BIN_DIR", str(stack.workdir / "bin"))
    launcher.install()
    seen = []

    def line() -> str:
        seen.append(statusline(stack, tmp_path))
        return seen[-1]

    assert re.fullmatch(rf"Sonnet · gateway: up since {CLOCK}, no answer yet", line()), seen
    run_print(claude, stack.base_url, stack.master_key, stack.workdir / "home", MODEL)
    windows = r"5h 2% \(resets [^)]+\) · 7d 2% \(resets [^)]+\)"
    assert re.fullmatch(rf"Sonnet · gateway: subscription since {CLOCK} · {windows}", line()), seen
    assert "simulated Anthropic" in ask_sdk(stack)
    assert re.match(rf"Sonnet · gateway: API key since {CLOCK} · 5h 2%", line()), seen

    stack.reset()
    stack.sims.anthropic.subscription(exhaust={"window": "5h", "reset_in": 600, "retry_after": None})
    run_print(claude, stack.base_url, stack.master_key, stack.workdir / "home", MODEL)  # goes on to the API key
    assert re.match(rf"Sonnet · gateway: API key since {CLOCK} · subscription LIMITED until {CLOCK} \(five_hour\) · "
                    r"5h 100% rejected · 7d ", line()), seen

    stack.sims.anthropic.set_fault("429", retry_after=30)
    assert "simulated" in ask_sdk(stack)
    assert re.match(rf"Sonnet · gateway: Bedrock since {CLOCK}", line()), seen
    stack.sims.anthropic.clear_fault()

    down = stack.script("proxy", "down")
    assert down.returncode == 0, down.stderr
    before = time.strftime("%H:%M")
    assert re.fullmatch(rf"Sonnet · gateway down since {CLOCK}", line()), seen
    assert seen[-1].endswith(before) or seen[-1].endswith(time.strftime("%H:%M"))
    with capsys.disabled():
        print("\nstatus lines seen:\n  " + "\n  ".join(seen))
