"""Shared fault injection and request recording for the upstream simulators.

Each simulator owns one SimState. Faults are set at startup (CLI) or at run
time through the control API mounted on every simulator port:

    POST /_sim/fault     {"mode": ..., "count": N|null, "retry_after": s, "delay": s,
                          "models": [...], "exception": "throttlingException", "after": N}
    GET  /_sim/requests  -> [{upstream, method, path, model, stream, auth_kind,
                              status, fault, t, ...}]
    POST /_sim/reset     clears records and the fault (and the Anthropic subscription state)
    GET  /_sim/health    -> {"status": "ok", "upstream": ...}

Semantics: a fault applies to inference requests only (Anthropic /v1/messages;
Bedrock invoke, invoke-with-response-stream, converse, converse-stream), after auth
and validation passed, so a rejected request never uses it up. `count` is decremented
per request it is applied to; `models` restricts it to model ids equal to or
containing one of the strings. Mid-stream modes fire after `after` content deltas
(default MIDSTREAM_AFTER; 0: before any content, as an overloaded API often does
right after message_start), `delay` seconds after them, so the bytes before the cut
reach the client in reads of their own, as with a real upstream dying mid-answer.
Each simulator maps the modes to its own wire errors (anthropic.py, bedrock.py
FAULT_ERRORS). "Connection refused" is not a mode: use a closed port.

"trickle" is no failure: a stream whose frames come `delay` seconds apart (a long
generation), to prove that timeouts apply per read and never cut one.

SimControl is the matching client for tests and the demo (stdlib only, so it
works from any thread or process).
"""
from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import asdict, dataclass
from typing import Optional

from aiohttp import web

from scripts.core.http import (
    request as http_request,  # the handlers name their aiohttp argument `request`
)

MODES = ("429", "529", "500", "503", "slow", "trickle", "drop_midstream", "overloaded_midstream",
         "throttle", "expired_token", "none")
MAX_RECORDS = 10000  # bounded so long benchmark runs do not grow memory
REC = web.RequestKey("rec", dict)  # the request's record in the log, filled in by handlers


@dataclass
class Fault:
    mode: str
    count: Optional[int] = None  # None = until cleared
    retry_after: Optional[float] = None  # None: 429s say 5 s, other errors send no retry-after
    delay: float = 0  # "slow": before the first byte; "trickle": between stream frames; mid-stream: before the cut
    models: Optional[list] = None  # substrings of model ids the fault applies to
    exception: Optional[str] = None  # Bedrock in-stream exception type override
    after: Optional[int] = None  # mid-stream modes: content deltas sent first (None: MIDSTREAM_AFTER)

    def matches(self, model: Optional[str]) -> bool:
        if not self.models:
            return True
        return bool(model) and any(m == model or m in model for m in self.models)


def make_fault(spec: dict) -> Optional[Fault]:
    """Validate a control-API/CLI fault spec; mode "none" means no fault."""
    unknown = set(spec) - {"mode", "count", "retry_after", "delay", "models", "exception", "after"}
    if unknown:
        raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
    mode = str(spec.get("mode", ""))
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if mode == "none":
        return None
    count = spec.get("count")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError("count must be a positive integer or null")
    models = spec.get("models")
    if models is not None and not isinstance(models, list):
        raise ValueError("models must be a list of model ids")
    retry_after, delay = spec.get("retry_after"), spec.get("delay")
    return Fault(mode, count, None if retry_after is None else float(retry_after),
                 0.0 if delay is None else float(delay), models, spec.get("exception"),
                 None if spec.get("after") is None else int(spec["after"]))


def parse_fault_arg(text: str) -> Optional[Fault]:
    """CLI form: MODE[,count=N][,retry_after=S][,delay=S][,models=a|b][,exception=X][,after=N]."""
    mode, *opts = text.split(",")
    spec: dict = {"mode": mode}
    for opt in opts:
        key, _, value = opt.partition("=")
        if key == "models":
            spec[key] = value.split("|")
        elif key == "count":
            spec[key] = int(value)
        else:
            spec[key] = value  # make_fault converts numbers and rejects unknown keys
    return make_fault(spec)


class SimState:
    """Fault + request log of one simulator. Only touched from its event loop."""

    def __init__(self, upstream: str, fault: Optional[Fault] = None) -> None:
        self.upstream = upstream
        self.fault = fault
        self.records: collections.deque = collections.deque(maxlen=MAX_RECORDS)
        self.on_reset: list = []  # more of the simulator's state that /_sim/reset clears

    def take_fault(self, model: Optional[str]) -> Optional[Fault]:
        """Return the fault to apply to this request, consuming one use of its count."""
        fault = self.fault
        if fault is None or not fault.matches(model):
            return None
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.fault = None
        return fault

    def new_record(self, request: web.Request) -> dict:
        rec = {"upstream": self.upstream, "method": request.method, "path": request.path,
               "model": None, "stream": False, "auth_kind": "none", "status": None,
               "fault": None, "t": time.time()}
        self.records.append(rec)
        return rec

    def reset(self) -> None:
        self.records.clear()
        self.fault = None
        for clear in self.on_reset:
            clear()


def control_routes(state: SimState) -> list:
    """The /_sim/* routes; they are never recorded and never faulted."""

    async def set_fault(request: web.Request) -> web.Response:
        try:
            state.fault = make_fault(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"fault": asdict(state.fault) if state.fault else None})

    async def get_fault(request: web.Request) -> web.Response:
        return web.json_response({"fault": asdict(state.fault) if state.fault else None})

    async def requests_(request: web.Request) -> web.Response:
        return web.json_response(list(state.records))

    async def reset(request: web.Request) -> web.Response:
        state.reset()
        return web.json_response({"ok": True})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "upstream": state.upstream})

    return [web.post("/_sim/fault", set_fault), web.get("/_sim/fault", get_fault),
            web.get("/_sim/requests", requests_), web.post("/_sim/reset", reset),
            web.get("/_sim/health", health)]


def recorder(state: SimState, error_response):
    """Middleware: records every non-control request and its final status.

    error_response(status, exc) renders routing errors (404/405) in the
    upstream's own error format, so even those look like the real service.
    """

    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.path.startswith("/_sim/"):
            return await handler(request)
        rec = request[REC] = state.new_record(request)
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            resp = error_response(exc.status, exc)
        if resp is not None and rec["status"] is None and not rec.get("dropped"):
            rec["status"] = resp.status
        return resp

    return middleware


MIDSTREAM_AFTER = 2  # content deltas sent before a mid-stream fault fires


def drop_connection(request: web.Request) -> None:
    """Close the TCP connection without the terminating chunk, like a dying upstream.

    close() (FIN after flushing) rather than abort() (RST): an RST can make the
    client's kernel discard bytes already sent, and tests need to see the
    events that arrived before the cut.
    """
    request[REC]["dropped"] = True
    if request.transport is not None:
        request.transport.close()


async def pre_fault(request: web.Request, fault: Optional[Fault], stream: bool, respond):
    """Apply the part of a fault that happens before the first byte.

    Returns an error response (from respond(fault)), or None to continue normally;
    mid-stream modes on streaming requests are left to pump_stream. For a
    non-streaming request drop_midstream closes the connection with no reply and
    overloaded_midstream answers like an overloaded upstream.
    """
    if fault is None:
        return None
    request[REC]["fault"] = fault.mode
    if fault.mode == "slow":
        await asyncio.sleep(fault.delay)
        return None
    if fault.mode == "trickle":
        return None  # a healthy but slow stream: pump_stream spaces the frames out
    if fault.mode in ("drop_midstream", "overloaded_midstream") and stream:
        return None
    if fault.mode == "drop_midstream":
        drop_connection(request)
        return web.Response(status=200)  # never reaches the client: transport is gone
    return respond(fault)


async def pump_stream(request, resp, frames, fault, error_frame: bytes):
    """Write (bytes, is_delta) frames; inject a mid-stream fault after a few deltas."""
    midstream = fault is not None and fault.mode in ("drop_midstream", "overloaded_midstream")
    cut = -1
    if midstream:
        deltas = [i for i, (_, is_delta) in enumerate(frames) if is_delta]
        after = MIDSTREAM_AFTER if fault.after is None else max(0, fault.after)
        cut = deltas[min(after, len(deltas) - 1)] if deltas else 1
    for i, (data, _) in enumerate(frames):
        if i and fault is not None and fault.mode == "trickle":
            await asyncio.sleep(fault.delay)
        if i == cut:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.mode == "drop_midstream":
                drop_connection(request)
                return resp
            await resp.write(error_frame)
            return resp
        await resp.write(data)
    return resp


class SimControl:
    """Client for the control API: SimControl("http://127.0.0.1:PORT")."""

    def __init__(self, base_url: str, timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body=None):
        reply = http_request(method, self.base_url + path, payload=body, timeout=self.timeout)
        if reply.status >= 300:  # a bad fault spec must stop the test, not pass unnoticed
            raise RuntimeError(f"{method} {path} answered {reply.status}: {reply.body.decode(errors='replace')}")
        return reply.json()

    def set_fault(self, mode: str, count: Optional[int] = None, **opts) -> dict:
        return self._call("POST", "/_sim/fault", {"mode": mode, "count": count, **opts})

    def clear_fault(self) -> dict:
        return self._call("POST", "/_sim/fault", {"mode": "none"})

    def requests(self) -> list:
        return self._call("GET", "/_sim/requests")

    def reset(self) -> dict:
        return self._call("POST", "/_sim/reset")

    def health(self) -> dict:
        return self._call("GET", "/_sim/health")

    def subscription(self, **spec) -> dict:
        """Anthropic only: the subscription rules and usage windows (see sim/subscription.py)."""
        return self._call("POST", "/_sim/subscription", spec)

    def subscription_state(self) -> dict:
        return self._call("GET", "/_sim/subscription")
