"""More than one process, end to end, with a real redis-server: proxy A with 2 workers and
proxy B (1 worker, another port) share one Redis and the same simulated upstreams.

- the kernel spreads keep-alive connections over A's workers;
- a rate-limit window costs one primary call across A's workers, and across A and B;
- a burst at the first 429 costs at most the requests already in flight;
- /metrics adds up every worker's samples;
- Redis going away: every request still answered, `make status` and the circuit-breaker
  metric say so; Redis back: shared cooldowns again;
- `make restart` under 8 keep-alive clients loses no request;
- with the subscription tiers, a usage-limit 429 keeps the real Claude Code off the
  subscription on every worker until the window's reset, one subscription call in all.
"""
import concurrent.futures
import os
import shutil
import threading
import time

import pytest
import requests
from claude_cli import claude_binary, run_print
from harness import start_stack

from scripts.core.procs import free_port, is_alive
from scripts.observability.metrics import parse
from scripts.perf import proc
from scripts.perf.load import Target, run
from scripts.services.redis_local import LocalRedis

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")]
PAIRS = {  # model name -> the id Anthropic sees; one per test, as each window leaves a cooldown in Redis
    "workers": ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
    "instances": ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    "burst": ("claude-opus-4-1", "claude-opus-4-1-20250805"),
    "redis-back": ("claude-opus-4-5", "claude-opus-4-5-20251101"),
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    where = tmp_path_factory.mktemp("e2e-scale")
    server = LocalRedis(where / "redis", free_port(), "pw-" + os.urandom(12).hex())
    process = server.start()
    stacks = []
    try:
        stacks.append(start_stack(where / "a", env_values={"REDIS_URL": server.url, "GATEWAY_WORKERS": "2"}))
        stacks.append(start_stack(where / "b", env_values={"REDIS_URL": server.url}, shared_sims=stacks[0].sims))
        yield {"redis": server, "a": stacks[0], "b": stacks[1]}
    finally:
        for stack in reversed(stacks):
            stack.stop()
        server.stop() or process.kill()


def pid_of(stack) -> int:
    return int((stack.workdir / "state" / "proxy.pid").read_text().split()[0])


def workers_of(stack):
    parent = pid_of(stack)
    return [p for p in proc.tree(parent) if p != parent]


def ask(stack, model: str) -> int:
    """One request on a new connection (so the kernel picks a worker for each)."""
    reply = requests.post(f"{stack.base_url}/v1/messages", timeout=60,
                          headers={"x-api-key": stack.master_key, "anthropic-version": "2023-06-01"},
                          json={"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    return reply.status_code


def window(stacks, pair, before: float = 1.5, during: float = 3.0):
    """Steady traffic (one client, alternating over stacks), then Anthropic rate-limits
    `pair` for 30 s: (primary 429s seen by Anthropic, answers during the window)."""
    model, upstream_id = pair
    sims, stop, answers = stacks[0].sims, threading.Event(), []

    def client() -> None:
        turn = 0
        while not stop.is_set():
            answers.append(ask(stacks[turn % len(stacks)], model))
            turn += 1

    thread = threading.Thread(target=client)
    thread.start()
    try:
        time.sleep(before)
        sims.anthropic.reset()
        sims.anthropic.set_fault("429", count=100000, retry_after=30, models=[upstream_id])
        start = len(answers)
        time.sleep(during)
    finally:
        stop.set()
        thread.join()
        sims.anthropic.clear_fault()
    statuses = [call["status"] for call in stacks[0].primary_calls(upstream_id)]
    return statuses.count(429), answers[start:]


def test_connections_spread_over_the_workers(shared):
    a = shared["a"]
    workers = workers_of(a)
    assert len(workers) == 2
    before = {pid: proc.cpu_seconds([pid]) for pid in workers}
    target = Target("proxy", f"{a.base_url}/v1/messages",
                    {"x-api-key": a.master_key, "anthropic-version": "2023-06-01", "content-type": "application/json"},
                    {"model": "claude-sonnet-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    result = run(target, 16, 320, False)  # 16 keep-alive connections, as the bench's clients
    assert result.errors == [] and len(result.latencies) == 320
    used = {pid: proc.cpu_seconds([pid]) - before[pid] for pid in workers}
    assert min(used.values()) > 0.15 * sum(used.values()), f"CPU seconds per worker: {used}"


def test_one_primary_call_per_window_across_two_workers(shared):
    a = shared["a"]
    busy = {pid: proc.cpu_seconds([pid]) for pid in workers_of(a)}
    calls, answers = window([a], PAIRS["workers"])
    assert all(proc.cpu_seconds([pid]) - busy[pid] > 0 for pid in busy), "a worker served nothing"
    assert len(answers) >= 5 and set(answers) == {200}
    assert calls == 1


def test_one_primary_call_per_window_across_two_instances(shared):
    calls, answers = window([shared["a"], shared["b"]], PAIRS["instances"])
    assert len(answers) >= 5 and set(answers) == {200}
    assert calls == 1


def test_a_burst_at_the_first_429_costs_at_most_the_requests_in_flight(shared):
    a, b = shared["a"], shared["b"]
    model, upstream_id = PAIRS["burst"]
    a.sims.anthropic.reset()
    a.sims.anthropic.set_fault("429", count=100000, retry_after=30, models=[upstream_id])
    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            burst = list(pool.map(lambda i: ask((a, b)[i % 2], model), range(16)))
        in_burst = len(a.primary_calls(upstream_id))
        after = [ask((a, b)[i % 2], model) for i in range(8)]
    finally:
        a.sims.anthropic.clear_fault()
    assert set(burst + after) == {200}
    assert 1 <= in_burst <= 16
    assert len(a.primary_calls(upstream_id)) == in_burst, "a request after the burst still went to Anthropic"


def test_metrics_add_up_every_worker(shared):
    a = shared["a"]
    total = 0.0
    for _ in range(4):  # whichever worker answers /metrics/, the sum is the same
        reply = requests.get(f"{a.base_url}/metrics/", headers={"Authorization": f"Bearer {a.master_key}"},
                             timeout=30)
        assert reply.status_code == 200
        seen = sum(s.value for s in parse(reply.text) if s.name == "litellm_proxy_total_requests_metric_total")
        assert seen >= total
        total = seen
    assert total >= 320  # the spread test alone sent that many through A


def breakers_open(stack) -> int:
    """LiteLLM's Redis circuit breakers in the open state, over every worker."""
    reply = requests.get(f"{stack.base_url}/metrics/", headers={"Authorization": f"Bearer {stack.master_key}"},
                         timeout=30)
    return int(sum(s.value for s in parse(reply.text)
                   if s.name == "litellm_redis_circuit_breaker_state" and s.labels.get("state") == "open"))


def status_line(stack) -> str:
    done = stack.script("status", timeout=60)
    return next(line for line in done.stdout.splitlines() if line.startswith("shared state"))


def test_redis_down_then_back(shared):
    a, b, server = shared["a"], shared["b"], shared["redis"]
    assert "answering: 2 workers share cooldowns" in status_line(a)
    assert breakers_open(a) == 0
    assert server.stop()
    answers = [ask((a, b)[i % 2], "claude-sonnet-4-6") for i in range(24)]
    assert set(answers) == {200}, "a request failed while Redis was away"
    assert "NOT answering" in status_line(a)
    assert breakers_open(a) > 0, "no worker reported LiteLLM's Redis circuit breaker open"

    server.start()
    assert "answering: 2 workers share cooldowns" in status_line(a)
    # Each worker tries Redis again at its first use after REDIS_CIRCUIT_BREAKER_RECOVERY_TIMEOUT
    # (10 s): window() keeps traffic on both proxies past that before the 429s start.
    calls, answers = window([a, b], PAIRS["redis-back"], before=12)
    assert len(answers) >= 5 and set(answers) == {200}
    assert calls == 1


def test_restart_under_load_loses_no_request(shared):
    b = shared["b"]
    old = pid_of(b)
    target = Target("proxy", f"{b.base_url}/v1/messages",
                    {"x-api-key": b.master_key, "anthropic-version": "2023-06-01", "content-type": "application/json"},
                    {"model": "claude-sonnet-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    over, outcome = threading.Event(), {}
    # 8 keep-alive clients from before the restart until 2 s after it (bounded: 20000 requests)
    load = threading.Thread(target=lambda: outcome.setdefault("result", run(target, 8, 20000, False, over.is_set)))
    load.start()
    time.sleep(2)
    try:
        done = b.script("proxy", "restart", timeout=300)
        time.sleep(2)
    finally:
        over.set()
        load.join(timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "draining the old one" in done.stdout
    result = outcome["result"]
    assert result.errors == [], result.errors[:3]
    assert len(result.latencies) > 50
    new = pid_of(b)
    assert new != old and not is_alive(old) and is_alive(new)
    assert ask(b, "claude-sonnet-4-6") == 200


def test_a_usage_limit_keeps_claude_code_off_the_subscription_on_every_worker(shared, tmp_path):
    """The tier hook's long cooldown (until the window's reset) goes into the router's
    cooldown cache, which Redis shares: whichever worker a later run of Claude Code reaches
    sends it to the API key. Each `claude -p` is a new process, so new connections, which
    the kernel spreads over the two workers."""
    stack = start_stack(tmp_path / "s", credentials=("api_key", "token"),
                        env_values={"REDIS_URL": shared["redis"].url, "GATEWAY_WORKERS": "2"})
    try:
        claude, model = claude_binary(), "claude-sonnet-4-6"
        workers = workers_of(stack)
        assert len(workers) == 2
        stack.sims.anthropic.subscription(exhaust={"window": "5h", "reset_in": 120, "retry_after": 1})
        busy = {pid: proc.cpu_seconds([pid]) for pid in workers}
        # A worker's CPU: about 0.03 s per 15 s idle, about 0.19 s per run of Claude Code it serves.
        runs, served = 0, 0.12
        while runs < 4 or (runs < 12 and not all(proc.cpu_seconds([p]) - busy[p] > served for p in workers)):
            assert "simulated Anthropic" in run_print(claude, stack.base_url, stack.master_key, tmp_path / "home",
                                                      model)["result"]
            runs += 1
            time.sleep(1.2 if runs == 1 else 0)  # past the 429's retry-after: only the reset may hold it off
        used = {pid: proc.cpu_seconds([pid]) - busy[pid] for pid in workers}
        assert all(seconds > served for seconds in used.values()), f"a worker served no run: CPU seconds {used}"
        calls = [(r["auth_kind"], r["status"]) for r in stack.primary_calls()]
        assert calls == [("oauth", 429)] + [("api_key", 200)] * runs, calls
    finally:
        stack.stop()
