"""`make demo` from this checkout: the narrative must show what it claims."""
import re
import subprocess
import sys

import pytest
from conftest import PROJECT_DIR

pytestmark = pytest.mark.e2e


def test_demo_narrates_fallback_cooldown_and_recovery(isolated):
    env_before = sorted(p.name for p in PROJECT_DIR.iterdir())
    result = subprocess.run([sys.executable, "-m", "scripts.demo"], cwd=PROJECT_DIR, capture_output=True,
                            text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    steps = re.split(r"\n== ", out)
    assert "answered by Anthropic" in steps[1]
    assert "answered by Bedrock" in steps[2] and "Anthropic saw 1 call" in steps[2]
    assert steps[3].count("answered by Bedrock") == 3 and "Anthropic calls during the window: 0" in steps[3]
    assert "answered by Anthropic" in steps[4]
    assert re.search(r"\+1 +litellm_deployment_successful_fallbacks_total\{exception_status=\"429\"", steps[5])
    formats = steps[6].splitlines()[1:7]  # one line per client format, all while Anthropic answers 429
    assert [line.split(" HTTP ")[0].strip() for line in formats] == [
        "Anthropic Messages", "OpenAI Chat Completions", "OpenAI Responses", "Ollama",
        "Gemini v1 (google-genai default)", "Gemini v1beta"]
    assert all("HTTP 200, answered by Bedrock" in line for line in formats), formats
    assert "demo stopped the proxy and the simulators" in out
    assert sorted(p.name for p in PROJECT_DIR.iterdir()) == env_before  # wrote nothing into the checkout
