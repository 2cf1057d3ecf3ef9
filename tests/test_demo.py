"""`make demo` from this checkout: the narrative must show what it claims, and a
story that does not happen must stop it with the step and the reason."""
import re
import subprocess
import sys

import pytest
from conftest import PROJECT_DIR
from harness import assert_demo_told_the_story

pytestmark = pytest.mark.e2e


def run_demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.demo", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=300)


def test_demo_narrates_fallback_cooldown_and_recovery(isolated):
    env_before = sorted(p.name for p in PROJECT_DIR.iterdir())
    result = run_demo()
    assert result.returncode == 0, result.stdout + result.stderr
    assert_demo_told_the_story(result.stdout)
    formats = re.split(r"\n== ", result.stdout)[6].splitlines()[1:7]  # one line per client format, Anthropic at 429
    assert [line.split(" HTTP ")[0].strip() for line in formats] == [
        "Anthropic Messages", "OpenAI Chat Completions", "OpenAI Responses", "Ollama",
        "Gemini v1 (google-genai default)", "Gemini v1beta"]
    assert all("HTTP 200, answered by Bedrock" in line for line in formats), formats
    assert sorted(p.name for p in PROJECT_DIR.iterdir()) == env_before  # wrote nothing into the checkout


def test_demo_stops_with_one_line_when_the_fallback_fails(isolated):
    """Bedrock answers 500: step 2's story (the same request answered by Bedrock) does not happen."""
    result = run_demo("--bedrock-fault", "500")
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: demo step 2 (Anthropic starts rate-limiting: HTTP 429, retry-after 5s) failed: "
                           "the client got HTTP ")
    assert line.endswith("Anthropic saw 1 call (429), Bedrock saw 1 call (500)")
    assert "answered by Anthropic" in result.stdout.split("\n== 2.")[0]  # step 1 still held
    assert "== 3." not in result.stdout and "Bedrock answered" not in result.stdout
    assert "demo stopped the proxy and the simulators" in result.stdout
