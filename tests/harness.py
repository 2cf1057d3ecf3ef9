"""The end-to-end stack for tests (see scripts/sim/sandbox.py), and checks shared by e2e tests."""
import re
import time
from pathlib import Path

from scripts.sim.sandbox import (  # noqa: F401
                             API_KEY,
                             AWS_ACCESS_KEY,
                             AWS_SECRET_KEY,
                             MASTER_KEY,
                             OAUTH_TOKEN,
                             Simulators,
                             Stack,
                             start_simulators,
                             start_stack,
)


def assert_demo_told_the_story(out: str) -> None:
    """The lines of a `make demo` run whose story held, step by step."""
    steps = re.split(r"\n== ", out)
    assert len(steps) == 8, out  # the preamble, 5 fallback steps, one line per client format, a tool round trip
    assert "answered by Anthropic" in steps[1] and "Anthropic saw 1 call (200), Bedrock saw no call" in steps[1]
    assert "answered by Bedrock" in steps[2] and "Anthropic saw 1 call (429), Bedrock saw 1 call (200)" in steps[2]
    assert steps[3].count("answered by Bedrock") == 3 and "Anthropic calls during the window: 0," in steps[3]
    assert "answered by Anthropic" in steps[4] and "Bedrock answered 4 requests in all" in steps[4]
    # LiteLLM 1.106.2 split the fallbacks over series (+1 for the 429 itself), 1.108.7 shows one +4
    # line: the total is the next line's check, as the simulators saw it.
    assert re.search(r"\+\d+ +litellm_deployment_successful_fallbacks_total\{exception_status=\"429\"", steps[5])
    assert "LiteLLM counted 4 successful fallbacks and 1 cooldown" in steps[5]
    assert steps[6].startswith("6. Every client format") and steps[6].count("HTTP 200, answered by Bedrock") == 6
    assert steps[7].startswith("7. A tool round trip answered by Bedrock"), steps[7]
    assert 'Bedrock asked for the tool Bash with {"command": "echo pong"' in steps[7]
    assert "the client ran it: 'pong'" in steps[7] and "Tool result received: pong" in steps[7]
    assert "Bedrock saw 2 calls (200, 200)" in steps[7]
    assert "demo stopped the proxy and the simulators" in out


def logged_since(log: Path, offset: int, lines: int, timeout: float = 5.0) -> str:
    """What the proxy log got after `offset`, once it holds `lines` lines (or at the deadline):
    the log pipe's copying thread may still be writing what a fast refusal logged."""
    deadline = time.monotonic() + timeout
    while log.read_bytes()[offset:].count(b"\n") < lines and time.monotonic() < deadline:
        time.sleep(0.05)
    return log.read_bytes()[offset:].decode()
