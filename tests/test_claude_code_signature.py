"""What the pinned Claude Code CLI (tests/claude_code_version.txt) sends, recorded by the
Anthropic simulator, against the rule the gateway uses to recognise it
(scripts/in_proxy/claude_code.py). A CLI upgrade that changes its signature fails here,
with the recorded values in the message, before the subscription silently stops
carrying Claude Code's requests.

Recorded from 2.1.197 with `claude -p` (the attribution line's cc_entrypoint is "cli" in
an interactive session):
    User-Agent      claude-cli/2.1.197 (external, sdk-cli)
    x-app           cli
    anthropic-beta  claude-code-20250219,... (plus oauth-2025-04-20 on a subscription login)
    system[0]       x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;
    system[1]       You are a Claude agent, built on Anthropic's Claude Agent SDK.
"""
import json
import os
import subprocess

import pytest
from claude_cli import claude_binary, pinned_version
from conftest_sim import actl, bctl, fresh, sims  # noqa: F401

from scripts.in_proxy import claude_code

pytestmark = pytest.mark.e2e
CREDENTIALS = {  # how a user's CLI may authenticate: its subscription, an API key, the shell block's token
    "subscription": {"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-signature-0123456789"},
    "api key": {"ANTHROPIC_API_KEY": "sk-ant-api03-signature-0123"},
    "proxy key": {"ANTHROPIC_AUTH_TOKEN": "sk-ant-api03-proxy-key-0123"},
}


@pytest.fixture(scope="module")
def claude():
    return claude_binary()


def recorded_as_sent(record: dict) -> tuple:
    """The parts of a recorded request the rule reads, as headers and body."""
    headers = {"user-agent": record["user_agent"] or "", "x-app": record["x_app"] or "",
               "anthropic-beta": ",".join(record["anthropic_beta"])}
    return headers, {"system": [{"type": "text", "text": text} for text in record["system_head"]]}


@pytest.mark.parametrize("login", sorted(CREDENTIALS))
def test_the_pinned_cli_is_recognised_by_every_part_of_the_rule(sims, actl, claude, tmp_path, login):
    # HOME: conftest's isolated one; TERM as a terminal would have it.
    env = {"HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "ANTHROPIC_BASE_URL": sims.anthropic_url,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "TERM": "dumb", **CREDENTIALS[login]}
    done = subprocess.run([str(claude), "-p", "say hi", "--output-format", "json"], env=env, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert "simulated Anthropic" in json.loads(done.stdout)["result"], done.stdout + done.stderr[-500:]
    calls = [r for r in actl.requests() if r["path"] == "/v1/messages"]
    assert calls, "the CLI sent no message request"
    for record in calls:
        headers, body = recorded_as_sent(record)
        parts = claude_code.signals(headers, body)
        assert all(parts.values()), f"Claude Code {pinned_version()} ({login}) sent {headers} {body}: {parts}"
        assert record["user_agent"].startswith(f"claude-cli/{pinned_version()} ")
        assert (record["auth_kind"] == "oauth") == (login == "subscription")
