"""The rate-limit window's promise, as docs/security-local.md states it (issue 22,
finding 7): one Anthropic call per window, plus the requests already in flight at the
first 429, so with CLIENTS concurrent clients at most CLIENTS calls per window.

8 clients send back to back (each waits for its answer, as Claude Code sessions do)
while Anthropic answers every call with a 429 carrying retry-after RETRY_AFTER: each
window starts at a 429 and ends when LiteLLM's cooldown does; the next call after it
opens the next window. The simulator's own record of each call (its clock) is what is
counted."""
import threading
import time
from typing import List

import pytest
import requests
from harness import start_stack

pytestmark = pytest.mark.e2e
CLIENTS = 8
RETRY_AFTER = 3  # seconds: several windows in one run
RUN_SECONDS = 10
MODEL, UPSTREAM_ID = "claude-haiku-4-5", "claude-haiku-4-5-20251001"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("e2e-window-burst"))
    yield running
    running.stop()


def windows(times: List[float]) -> List[List[float]]:
    """The calls grouped by window: a window runs RETRY_AFTER seconds from its first call."""
    grouped: List[List[float]] = []
    for t in sorted(times):
        if grouped and t < grouped[-1][0] + RETRY_AFTER:
            grouped[-1].append(t)
        else:
            grouped.append([t])
    return grouped


def test_anthropic_calls_per_window_stay_within_the_clients_in_flight(stack):
    stack.reset()
    stop, statuses = threading.Event(), []

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                reply = session.post(f"{stack.base_url}/v1/messages", timeout=60,
                                     headers={"x-api-key": stack.master_key, "anthropic-version": "2023-06-01"},
                                     json={"model": MODEL, "max_tokens": 16,
                                           "messages": [{"role": "user", "content": "hi"}]})
                statuses.append(reply.status_code)

    stack.sims.anthropic.set_fault("429", count=100000, retry_after=RETRY_AFTER, models=[UPSTREAM_ID])
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(RUN_SECONDS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        stack.sims.anthropic.clear_fault()
    calls = stack.primary_calls(UPSTREAM_ID)
    per_window = [len(w) for w in windows([c["t"] for c in calls])]
    print(f"\nwindow burst: {len(statuses)} requests by {CLIENTS} clients, Anthropic calls per window {per_window}")
    assert set(statuses) == {200}, "every request answered (by Bedrock during a window)"
    assert {c["status"] for c in calls} == {429}
    assert len(per_window) >= 2, "the run saw fewer than two windows"
    assert len(statuses) > sum(per_window), "every request reached Anthropic: no cooldown held"
    assert max(per_window) <= CLIENTS, f"more Anthropic calls in a window than clients in flight: {per_window}"
