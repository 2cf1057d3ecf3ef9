"""Shared by the format suites: a model per test, an Anthropic 429 on it, and who answered
according to the simulators' own request logs (not the proxy's word)."""
import contextlib
from typing import Iterator, List

import pytest
from e2e_matrix import upstream_models

NORMAL_MODEL = "claude-sonnet-4-5"  # never faulted: the normal mode's model
ANTHROPIC_GREETING = "Hello from simulated Anthropic"
BEDROCK_GREETING = "Hello from simulated Bedrock"
RATE_LIMIT_WINDOW = 60  # retry-after of the 429: the faulted model stays on Bedrock for the module


class Models:
    """A fresh model name for each 429 test: its cooldown never reaches another test."""

    def __init__(self) -> None:
        upstream = upstream_models()
        self.upstream = upstream
        spare = sorted(n for n in upstream if upstream[n] != upstream[NORMAL_MODEL])
        self._next = iter(spare)

    def fresh(self) -> str:
        name = next(self._next, None)
        if name is None:
            raise RuntimeError("no unfaulted model left in config.yaml for another 429 test")
        return name


@pytest.fixture(scope="module")
def models() -> Models:
    """One pool per test module (each module has its own proxy, so its own cooldowns)."""
    return Models()


@contextlib.contextmanager
def anthropic_429(stack, upstream: str) -> Iterator[None]:
    stack.reset()
    stack.sims.anthropic.set_fault("429", retry_after=RATE_LIMIT_WINDOW, models=[upstream])
    try:
        yield
    finally:
        stack.sims.anthropic.clear_fault()


def calls(stack, upstream: str) -> dict:
    """The primary's and the fallback's inference calls for one upstream model id, by status."""
    primary = [r["status"] for r in stack.sims.anthropic.requests()
               if r["path"].startswith("/v1/messages") and not r["path"].endswith("count_tokens")
               and r["model"] == upstream]
    fallback = [r["status"] for r in stack.sims.bedrock.requests() if r["model"] and upstream in r["model"]]
    return {"anthropic": primary, "bedrock": fallback}


def assert_answered(stack, upstream: str, mode: str, texts: List[str], requests: int) -> None:
    """normal: every answer from Anthropic, Bedrock untouched; 429: one 429 from Anthropic
    (the rest skipped it during the cooldown) and every answer from Bedrock."""
    seen = calls(stack, upstream)
    if mode == "normal":
        assert all(ANTHROPIC_GREETING in t for t in texts), texts
        assert seen == {"anthropic": [200] * requests, "bedrock": []}, seen
    else:
        assert all(BEDROCK_GREETING in t for t in texts), texts
        assert seen == {"anthropic": [429], "bedrock": [200] * requests}, seen


MODES = ("normal", "anthropic-429")


def mode_context(stack, models: Models, mode: str):
    """(model name, context manager) for a test in `mode`."""
    if mode == "normal":
        stack.reset()
        return NORMAL_MODEL, contextlib.nullcontext()
    name = models.fresh()
    return name, anthropic_429(stack, models.upstream[name])

