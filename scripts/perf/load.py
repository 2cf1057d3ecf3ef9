"""The load generator of `make bench`: N concurrent clients, each with its own
keep-alive connection (aiohttp on uvloop), sending the same request (/v1/messages,
or another format's route).

Per request it records the latency (send to last byte) and, when streaming, the
time to first token (send to the first line carrying the target's token marker:
Anthropic's content_block_delta event, an unfinished Ollama NDJSON line)."""
import asyncio
import json
import resource
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import aiohttp

from scripts.core.errors import ToolkitError

try:
    import uvloop
    _run = uvloop.run
except ImportError:  # the client still works, a little slower
    _run = asyncio.run

TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Target:
    name: str                 # "direct", "proxy" or another route's name ("ollama")
    url: str                  # the full URL of the route
    headers: Dict[str, str]
    body: dict
    token_marker: bytes = b"content_block_delta"  # a streamed line carrying content


@dataclass
class Result:
    latencies: List[float] = field(default_factory=list)  # seconds
    ttfts: List[float] = field(default_factory=list)      # seconds, streaming only
    errors: List[str] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0   # this process's CPU seconds during the run

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def percentile(values: List[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


class BadReply(Exception):
    pass


async def _one(session: aiohttp.ClientSession, target: Target, payload: bytes,
               stream: bool) -> Tuple[float, Optional[float]]:
    started = time.perf_counter()
    first_token = None
    async with session.post(target.url, data=payload, headers=target.headers) as resp:
        if resp.status != 200:
            raise BadReply(f"HTTP {resp.status}: {(await resp.text())[:160]}")
        if stream:
            async for line in resp.content:
                if first_token is None and target.token_marker in line:
                    first_token = time.perf_counter() - started
            if first_token is None:
                raise BadReply(f"the stream had no line with {target.token_marker.decode()}")
        else:
            await resp.read()
    return time.perf_counter() - started, first_token


async def _client(session, target, payload, stream, budget: List[int], result: Result, until) -> None:
    while budget[0] > 0 and not (until and until()):
        budget[0] -= 1
        try:
            latency, first_token = await _one(session, target, payload, stream)
        except (aiohttp.ClientError, asyncio.TimeoutError, BadReply) as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        result.latencies.append(latency)
        if first_token is not None:
            result.ttfts.append(first_token)


async def _load(target: Target, clients: int, total: int, stream: bool, until=None) -> Result:
    payload = json.dumps({**target.body, "stream": stream}).encode()
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT)
                for _ in range(clients)]
    result = Result()
    try:
        # One request per client first: opens its connection, never counted.
        warm = await asyncio.gather(*(_one(s, target, payload, stream) for s in sessions),
                                    return_exceptions=True)
        failed = [w for w in warm if isinstance(w, BaseException)]
        if failed:
            raise ToolkitError(f"{target.name} {target.url} failed the warm-up: {failed[0]}"[:300])
        budget = [total]
        cpu_before, started = _own_cpu(), time.perf_counter()
        await asyncio.gather(*(_client(s, target, payload, stream, budget, result, until) for s in sessions))
        result.wall = time.perf_counter() - started
        result.client_cpu = _own_cpu() - cpu_before
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    return result


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _single(target: Target) -> Result:
    result = Result()
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        started = time.perf_counter()
        try:
            result.latencies.append((await _one(session, target, json.dumps(target.body).encode(), False))[0])
        except (aiohttp.ClientError, asyncio.TimeoutError, BadReply) as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        result.wall = time.perf_counter() - started
    return result


def single(target: Target) -> Result:
    """One non-streaming request on a new connection."""
    return _run(_single(target))


def run(target: Target, clients: int, total: int, stream: bool,
        until: Optional[Callable[[], bool]] = None) -> Result:
    """`total` requests from `clients` concurrent keep-alive clients, or fewer: each
    client stops sending once until() is true (checked before each request)."""
    return _run(_load(target, clients, total, stream, until))
