"""Tiers after Bedrock, end to end: one real proxy started by `scripts.proxy up` on the
effective config (config.yaml plus two env-defined models on the OpenAI-compatible
simulator, tried after Bedrock), driven by the real anthropic and openai SDKs and the
real Claude Code CLI while Anthropic answers 429 and Bedrock ThrottlingException.

Tier order for every Claude name: 1 Anthropic, 2 its Bedrock twin, 3 glm-4.6, 4 glm-4.5-air.
Each test uses a Claude model of its own: cooldowns are per deployment, and Bedrock's
(no retry-after) last the router's cooldown_time of 60 s.
"""
import hashlib
import stat
import time

import pytest
import yaml
from claude_cli import run_claude, transcript
from e2e_clients import CLIENTS, Target
from harness import start_simulators, start_stack

from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import command_line, read_pid
from scripts.sim.sandbox import ZAI_KEY

pytestmark = pytest.mark.e2e
TIER3, TIER4 = "glm-4.6", "glm-4.5-air"
WINDOW = 30  # retry-after of Anthropic's 429: longer than this module runs per model


def two_tiers(sims) -> dict:
    return {"PROXY_MODEL_KEYS": "glm,air",
            "MODEL_GLM_ALIAS": TIER3, "MODEL_GLM_UPSTREAM_MODEL": f"zai/{TIER3}", "MODEL_GLM_API_BASE": sims.zai_base,
            "MODEL_GLM_API_KEY": ZAI_KEY, "MODEL_GLM_REASONING_EFFORT": "low",
            "MODEL_AIR_ALIAS": TIER4, "MODEL_AIR_UPSTREAM_MODEL": f"openai/{TIER4}",
            "MODEL_AIR_API_BASE": sims.openai_url + "/v1", "MODEL_AIR_API_KEY": ZAI_KEY,
            "MODEL_AIR_REASONING_EFFORT": "medium",
            "CLAUDE_FALLBACK_AFTER_BEDROCK": "glm,air"}


def config_digest() -> str:
    return hashlib.sha256((PROJECT_DIR / "config.yaml").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    before = config_digest()
    sims = start_simulators()
    running = start_stack(tmp_path_factory.mktemp("e2e-tiers"), sims=sims, env_values=two_tiers(sims))
    running.logs["config_digest_before"] = before
    yield running
    running.stop()


@pytest.fixture(scope="module")
def target(stack):
    return Target(stack.base_url, stack.master_key)


def refuse_claude(stack, model: str) -> None:
    """Anthropic rate-limits the model and Bedrock throttles it; nothing else is faulted."""
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW, models=[model])
    stack.sims.bedrock.set_fault("throttle", models=[model.removeprefix("claude-")])


def calls(stack) -> dict:
    """Statuses of the inference calls each upstream received, per upstream (tier 3 and 4 apart)."""
    zai = stack.sims.openai.requests()
    return {"anthropic": [r["status"] for r in stack.primary_calls()],
            "bedrock": [r["status"] for r in stack.fallback_calls()],
            TIER3: [r["status"] for r in zai if r["model"] == TIER3],
            TIER4: [r["status"] for r in zai if r["model"] == TIER4]}


def test_the_proxy_runs_the_effective_config(stack):
    effective = stack.workdir / "state" / "litellm-config.yaml"
    pid = read_pid(stack.workdir / "state" / "proxy.pid")
    assert f"--config {effective}" in command_line(pid)
    assert stat.S_IMODE(effective.stat().st_mode) == 0o600
    assert ZAI_KEY not in effective.read_text() and stack.master_key not in effective.read_text()
    chains = {k: v for item in yaml.safe_load(effective.read_text())["router_settings"]["fallbacks"]
              for k, v in item.items()}
    assert chains["claude-haiku-4-5"] == ["claude-haiku-4-5-bedrock", TIER3, TIER4]
    assert config_digest() == stack.logs["config_digest_before"], "config.yaml is never written"
    served = stack.script("health", "models")
    assert served.returncode == 0 and {TIER3, TIER4} <= set(served.stdout.split()), served.stderr


@pytest.mark.parametrize("client, model", [("sdk-tools", "claude-haiku-4-5"),
                                           ("sdk-tools-stream", "claude-sonnet-4-5"),
                                           ("openai-create", "claude-opus-4-5"),
                                           ("openai-stream", "claude-opus-4-1")])
def test_clients_are_answered_by_tier_3_when_anthropic_and_bedrock_refuse(stack, target, client, model):
    refuse_claude(stack, model)
    outcome = CLIENTS[client](target, model)
    assert outcome.complete and outcome.answered_by == "zai", outcome
    seen = calls(stack)
    assert seen["anthropic"] == [429] and seen["bedrock"] == [429], seen
    assert seen[TIER3] == [200] * outcome.requests and seen[TIER4] == []
    if client.startswith("sdk-tools"):  # the tool round trip went through the adapter both ways
        (first, second) = stack.sims.openai.requests()
        assert first["tools"] == ["get_weather"] and second["roles"][-2:] == ["assistant", "tool"]
    assert stack.sims.openai.requests()[0]["reasoning_effort"] is None, "zai has no reasoning_effort: dropped"


def test_one_call_per_window_per_tier_and_the_last_tier_is_always_tried(stack, target):
    model, window = "claude-sonnet-4-6", 5
    direct = CLIENTS["sdk-create"](target, TIER4)  # served by its own name too (and its first call is paid)
    assert direct.complete and f"model {TIER4}" in direct.text, direct
    refuse_claude(stack, model)
    stack.sims.openai.set_fault("429", retry_after=window, models=[TIER3])
    started = time.monotonic()
    answers = [CLIENTS["sdk-create"](target, model) for _ in range(4)]

    assert time.monotonic() - started < window, "the tier-3 window ended before the checks ran"
    assert all(a.complete and f"model {TIER4}" in a.text for a in answers), answers
    assert calls(stack) == {"anthropic": [429], "bedrock": [429], TIER3: [429], TIER4: [200] * 4}
    assert {r["reasoning_effort"] for r in stack.sims.openai.requests() if r["model"] == TIER4} == {"medium"}, \
        "MODEL_AIR_REASONING_EFFORT reached the openai/ upstream"

    stack.sims.openai.clear_fault()
    time.sleep(max(0.0, window + 0.5 - (time.monotonic() - started)))
    again = CLIENTS["sdk-create"](target, model)
    assert f"model {TIER3}" in again.text, "tier 3 answers again after its window; tiers 1 and 2 still cool down"
    assert calls(stack) == {"anthropic": [429], "bedrock": [429], TIER3: [429, 200], TIER4: [200] * 4}

    stack.sims.openai.set_fault("429", retry_after=1, models=[TIER3, TIER4])
    failed = [CLIENTS["sdk-create"](target, model) for _ in range(2)]
    assert all("RateLimitError" in f.error for f in failed), failed
    assert calls(stack)[TIER3] == [429, 200, 429] and calls(stack)[TIER4] == [200] * 4 + [429, 429], \
        "every tier refused: tier 3 cools down, the last resort is tried by every request"
    stack.sims.openai.clear_fault()
    time.sleep(1.2)  # tier 3's window


def test_claude_code_reads_a_file_through_tier_3(stack, tmp_path, capsys):
    """The real CLI, streaming: tool_use from tier 3, Claude Code runs Read, tier 3 gets the result."""
    model = "claude-sonnet-4-5-20250929"
    (tmp_path / "notes.md").write_text("the word is tangerine\n")
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=WINDOW)
    stack.sims.bedrock.set_fault("throttle")
    events = run_claude(stack, f"Please use the tool Read with file_path={tmp_path}/notes.md", model, tmp_path)
    with capsys.disabled():
        print(f"\nClaude Code, Anthropic 429 + Bedrock ThrottlingException:\n{transcript(events)}\n{calls(stack)}")
    uses = [b for e in events if e.get("type") == "assistant" for b in e["message"]["content"] if b["type"] == "tool_use"]
    assert [(u["name"], u["input"]) for u in uses] == [("Read", {"file_path": f"{tmp_path}/notes.md"})]
    result = events[-1]
    assert result["subtype"] == "success" and not result["is_error"]
    assert result["result"].startswith(f"Hello from simulated Z.AI (model {TIER3}). Tool result received:")
    assert "the word is tangerine" in result["result"]
    seen = calls(stack)
    assert seen["anthropic"] == [429] and seen["bedrock"] == [429] and seen[TIER3] == [200, 200], seen
    assert all(r["stream"] for r in stack.sims.openai.requests()), "Claude Code streams, tier 3 streamed too"
    stack.sims.anthropic.clear_fault()
    stack.sims.bedrock.clear_fault()


def test_status_says_which_tier_answered_last(stack):
    status = stack.script("status")
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if line.startswith("answered by"))
    assert f"claude-sonnet-4-5-20250929 by {TIER3} (tier 3, zai/{TIER3}, since " in row
    assert f"claude-sonnet-4-5 by {TIER3} (tier 3" in row
    assert f"claude-sonnet-4-6 by {TIER3} (tier 3" in row, "the last answer for it came from tier 3 again"
    models = next(line for line in status.stdout.splitlines() if line.startswith("models"))
    assert "2 of them from .env" in models
