"""The end-to-end stack for tests (see scripts/sim/sandbox.py), and checks shared by e2e tests."""
import re

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
    assert len(steps) == 7, out  # the preamble, 5 fallback steps, one line per client format
    assert "answered by Anthropic" in steps[1] and "Anthropic saw 1 call (200), Bedrock saw no call" in steps[1]
    assert "answered by Bedrock" in steps[2] and "Anthropic saw 1 call (429), Bedrock saw 1 call (200)" in steps[2]
    assert steps[3].count("answered by Bedrock") == 3 and "Anthropic calls during the window: 0," in steps[3]
    assert "answered by Anthropic" in steps[4] and "Bedrock answered 4 requests in all" in steps[4]
    assert re.search(r"\+1 +litellm_deployment_successful_fallbacks_total\{exception_status=\"429\"", steps[5])
    assert "LiteLLM counted 4 successful fallbacks and 1 cooldown" in steps[5]
    assert steps[6].startswith("6. Every client format") and steps[6].count("HTTP 200, answered by Bedrock") == 6
    assert "demo stopped the proxy and the simulators" in out
