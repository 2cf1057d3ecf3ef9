"""The fault x client matrix: every client meets a fault at the same time, each on a
model of its own, and the simulators' logs say how often the primary was called.

Per client ("cell") and fault, up to three phases:
  1. the faulted request(s)     -> a complete answer from Bedrock, one primary call;
  2. again, inside the window   -> Bedrock again, no primary call while the deployment
                                   cools down (one call per request where LiteLLM does
                                   not cool down, see Fault.cooldown);
  3. after the window (fault cleared) -> Anthropic serves again.
Models are leased from a pool so that no cell meets a deployment still cooling down
from an earlier one; cooldowns are per deployment (public model name), faults and
records per upstream model id, so concurrent cells get distinct upstream ids.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from e2e_clients import CLIENTS, STREAMING, Outcome, Target

from scripts.core import configfile, paths

W = 5               # retry-after (s) of the simulated errors: the rate-limit window
T = 3               # GATEWAY_STREAM_TIMEOUT / GATEWAY_REQUEST_TIMEOUT of the suite's proxy
COOLDOWN_TIME = 60  # config.yaml router_settings.cooldown_time: the window when there is no retry-after
SLACK = 0.7         # s after a window before the recovery request


@dataclass(frozen=True)
class Fault:
    name: str
    spec: dict
    stream_cooldown: float      # how long LiteLLM cools the deployment down, for streaming clients
    plain_cooldown: float       # ... for non-streaming ones (0: no cooldown, every request tries Anthropic)
    clean: str = ""             # mid-answer faults: a clean error naming this (or a complete answer)
    clients: tuple = ()
    unsure: tuple = ()          # clients for which LiteLLM cools down or not, from run to run

    def cooldown(self, client: str) -> Optional[float]:
        if client in self.unsure:
            return None
        return self.stream_cooldown if client in STREAMING else self.plain_cooldown


# Each cell needs an Anthropic model id of its own (config.yaml has 9), and two stay spare for
# deployments LiteLLM cools down where the pool expected none: 7 clients at once. Every fault
# meets the Anthropic-format clients and both CLIs; the OpenAI-format SDK clients, which share
# one LiteLLM path, take turns, so that each meets a status error and each stream a failure
# inside the stream.
ALWAYS = ("sdk-create", "sdk-tools", "sdk-stream", "sdk-tools-stream", "claude-cli", "codex-cli")
AT_ONCE = len(ALWAYS) + 1
# LiteLLM 1.106.2's /v1/responses stream cut after content ends with response.completed and
# either the words so far or the fallback's continuation after them (both seen): the client
# cannot tell it was cut, so responses-stream is left out of the faults after content (reported).
AFTER_CONTENT = tuple(c for c in STREAMING if c != "responses-stream")

FAULTS = [
    Fault("429", {"mode": "429", "retry_after": W}, W, W, clients=ALWAYS + ("responses-tools",)),
    Fault("529", {"mode": "529", "retry_after": W}, W, W, clients=ALWAYS + ("responses-stream",)),
    Fault("500", {"mode": "500", "retry_after": W}, W, W, clients=ALWAYS + ("responses-create",)),
    Fault("503", {"mode": "503", "retry_after": W}, W, W, clients=ALWAYS + ("openai-create",)),
    # Before any content: LiteLLM still falls back inside the stream. An overloaded_error event
    # after the 200 cools the deployment down for cooldown_time on /v1/messages (LiteLLM 1.108.7,
    # measured: primary calls [1, 0, 0]; 1.106.2 never cooled down there); on
    # /v1/chat/completions (and /v1/responses, which LiteLLM serves through it) it sometimes does.
    # Without a stream the simulator answers 529 / hangs up.
    Fault("overloaded_error event before content", {"mode": "overloaded_midstream", "after": 0, "delay": 0.3,
                                                    "retry_after": W}, COOLDOWN_TIME, W,
          unsure=("openai-stream", "codex-cli"), clients=ALWAYS + ("openai-stream",)),
    Fault("connection dropped before content", {"mode": "drop_midstream", "after": 0, "delay": 0.3},
          0, COOLDOWN_TIME, unsure=("responses-stream", "codex-cli"), clients=ALWAYS + ("responses-stream",)),
    # After content reached the client no fallback is possible (no second message on one stream).
    Fault("overloaded_error event after content", {"mode": "overloaded_midstream", "after": 2, "delay": 0.3},
          0, 0, clean="overload", clients=AFTER_CONTENT),
    Fault("connection dropped after content", {"mode": "drop_midstream", "after": 2, "delay": 0.3},
          0, 0, clean="not completed", clients=AFTER_CONTENT),  # LiteLLM: "Response payload is not completed"
    Fault("slow first byte past the timeout", {"mode": "slow", "delay": T + 4}, COOLDOWN_TIME, COOLDOWN_TIME,
          clients=ALWAYS + ("responses-tools",)),
]
BY_NAME = {f.name: f for f in FAULTS}


# Claude Code takes an unknown name for a newest model: with ANTHROPIC_MODEL=claude-haiku it sends
# mid-conversation system turns, which Haiku 4.5 rejects (400), so Bedrock answers every request.
NOT_FOR_CLAUDE_CODE = {"claude-haiku"}
# Claude Code 2.1.197 asks for its default Opus (4.8) instead of Opus 4.1 (measured per model id).
REPLACED_BY_CLAUDE_CODE = {"claude-opus-4-1-20250805"}


def upstream_models() -> Dict[str, str]:
    """Public model name -> the Anthropic model id its primary deployment calls (falling-back names only)."""
    config = configfile.load(paths.config_file())
    out = {}
    for entry in config.data["model_list"]:
        name, params = entry["model_name"], entry["litellm_params"]
        if name in config.fallbacks and params["model"].startswith("anthropic/") and "api_base" not in params \
                and name not in NOT_FOR_CLAUDE_CODE:
            out[name] = params["model"].split("/", 1)[1]
    return out


class ModelPool:
    """Hands out models whose deployments are not cooling down, with distinct upstream ids."""

    def __init__(self, upstream: Dict[str, str]) -> None:
        self.upstream = upstream
        self.free_at = {name: 0.0 for name in upstream}

    def lease(self, count: int) -> List[str]:
        """Waits as long as the pool's own release times say it must (every name is free by
        the latest of them), never a guessed fixed time: a slow machine only waits longer."""
        if len(set(self.upstream.values())) < count:
            raise RuntimeError(f"model pool: {count} distinct upstream ids asked for, config.yaml has "
                               f"{len(set(self.upstream.values()))}; run fewer clients at once")
        while True:
            now = time.monotonic()
            free = [n for n in self.free_at if self.free_at[n] <= now]
            spare = {u: sum(1 for n in free if self.upstream[n] == u) for u in self.upstream.values()}
            picked: Dict[str, str] = {}  # upstreams with the most free names first: singles stay available
            for name in sorted(free, key=lambda n: (-spare[self.upstream[n]], n)):
                picked.setdefault(self.upstream[name], name)
            if len(picked) >= count:
                return list(picked.values())[:count]
            time.sleep(max(0.2, min(t for t in self.free_at.values() if t > now) - now))

    def release(self, name: str, cooled_for: float) -> None:
        self.free_at[name] = time.monotonic() + cooled_for + 1


@dataclass
class Cell:
    client: str
    model: str
    upstream: str
    cooldown: Optional[float]                           # None: LiteLLM may or may not cool it down
    outcomes: List[Outcome] = field(default_factory=list)
    primary: List[int] = field(default_factory=list)    # primary calls per phase
    bounds: List[float] = field(default_factory=list)   # wall-clock end of each phase
    window_start: Optional[float] = None                # when the faulted request reached Anthropic (sim clock)
    fallbacks: List[float] = field(default_factory=list)  # when requests reached Bedrock

    def last_in_window(self) -> Optional[float]:
        """Arrival at Bedrock of the last phase-2 request: it must fall inside the window."""
        inside = [t for t in self.fallbacks if len(self.bounds) > 1 and t <= self.bounds[1]]
        return max(inside, default=None)

    def primary_calls_by_phase(self, records: List[dict]) -> List[int]:
        times = sorted(r["t"] for r in records if r["path"] == "/v1/messages" and r["model"] == self.upstream)
        edges = [0.0] + self.bounds
        return [sum(1 for t in times if lo < t <= hi) for lo, hi in zip(edges, edges[1:])]


def lease_checked(stack, target: Target, pool: ModelPool, count: int) -> List[str]:
    """Leased models that Anthropic really answers: LiteLLM sometimes cools a deployment
    down where the pool expected none (a failure inside a stream), so each one is probed."""
    stack.reset()
    while True:
        models = pool.lease(count)
        with ThreadPoolExecutor(count) as workers:
            probes = list(workers.map(lambda m: CLIENTS["sdk-create"](target, m), models))
        cooled = [m for m, probe in zip(models, probes) if probe.answered_by != "anthropic"]
        for model in cooled:
            pool.release(model, COOLDOWN_TIME)
        if not cooled:
            return models


def long_cooldown_first(fault: Fault) -> List[str]:
    """The fault's clients, those LiteLLM may cool down for cooldown_time first: the pool hands
    out model ids with a second name first, so the next fault still finds every id usable."""
    return sorted(fault.clients, key=lambda c: (fault.cooldown(c) or COOLDOWN_TIME) < COOLDOWN_TIME)


def assign(clients: List[str], models: List[str], upstream: Dict[str, str]) -> Dict[str, str]:
    """client -> model, in order, except that Claude Code gets a model it asks for as given."""
    pairs = dict(zip(clients, models))
    cli = pairs.get("claude-cli")
    if cli and upstream[cli] in REPLACED_BY_CLAUDE_CODE:
        other = next((c for c, m in pairs.items() if upstream[m] not in REPLACED_BY_CLAUDE_CODE), None)
        if other:
            pairs["claude-cli"], pairs[other] = pairs[other], cli
    return pairs


def run_fault(stack, target: Target, pool: ModelPool, fault: Fault) -> Dict[str, Cell]:
    clients = long_cooldown_first(fault)
    models = assign(clients, lease_checked(stack, target, pool, len(clients)), pool.upstream)
    stack.reset()
    cells = {c: Cell(c, m, pool.upstream[m], fault.cooldown(c)) for c, m in models.items()}
    try:
        if fault.clean:
            _run_one_by_one(stack, target, cells.values(), fault)
        else:
            _run_together(stack, target, list(cells.values()), fault)
    finally:
        stack.sims.anthropic.clear_fault()
        for cell in cells.values():
            pool.release(cell.model, cell.cooldown or 0)  # a wrong guess is caught by lease_checked
    records = stack.sims.anthropic.requests()
    bedrock = stack.sims.bedrock.requests()
    for cell in cells.values():
        cell.primary = cell.primary_calls_by_phase(records)
        mine = [r for r in records if r["path"] == "/v1/messages" and r["model"] == cell.upstream and r["fault"]]
        cell.window_start = min((r["t"] for r in mine), default=None)
        cell.fallbacks = sorted(r["t"] for r in bedrock if r["model"] and cell.upstream in r["model"])
    return cells


def _run_together(stack, target: Target, cells: List[Cell], fault: Fault) -> None:
    """Phases 1+2 for all cells at once; then, fault cleared, phase 3 after each window."""
    stack.sims.anthropic.set_fault(**fault.spec, models=[c.upstream for c in cells])
    gate = threading.Barrier(len(cells), action=stack.sims.anthropic.clear_fault)

    def drive(cell: Cell) -> None:
        try:
            for _ in range(2):
                cell.outcomes.append(CLIENTS[cell.client](target, cell.model))
                cell.bounds.append(time.time())
        except BaseException:
            gate.abort()  # a broken driver must not leave the other cells waiting
            raise
        gate.wait(timeout=300)
        if (cell.cooldown or 0) >= COOLDOWN_TIME:
            return  # the cooldown_time path: recovery would take a minute, not waited for
        records = stack.sims.anthropic.requests()
        failed = [r["t"] for r in records if r["model"] == cell.upstream and r["fault"]]
        if cell.cooldown and failed:
            time.sleep(max(0.0, max(failed) + cell.cooldown + SLACK - time.time()))
        cell.outcomes.append(CLIENTS[cell.client](target, cell.model))
        cell.bounds.append(time.time())

    with ThreadPoolExecutor(len(cells)) as workers:
        list(workers.map(drive, cells))


def _run_one_by_one(stack, target: Target, cells, fault: Fault) -> None:
    """Mid-answer faults hit one request each (count=1): a client that retries by itself
    (Claude Code) then gets the answer from Anthropic."""
    for cell in cells:
        stack.sims.anthropic.set_fault(**fault.spec, count=1, models=[cell.upstream])
        cell.outcomes.append(CLIENTS[cell.client](target, cell.model))
        cell.bounds.append(time.time())
