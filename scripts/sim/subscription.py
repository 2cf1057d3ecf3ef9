"""What the Anthropic simulator does with a Claude subscription (OAuth) token.

Two rules of the real API, both reported with captured responses by users of other
gateways and agents:

1. A subscription token is for Claude Code. A request whose system prompt does not open
   the way Claude Code's does is refused in one of two reported shapes (`shape`):
   "invalid_request" answers 400 invalid_request_error "This credential is only
   authorized for use with Claude Code ..."; "rate_limit" answers 429 rate_limit_error
   for Opus and Sonnet while Haiku answers. "off" accepts everything.
   Claude Code's opening, as the pinned CLI sends it (tests/test_claude_code_signature.py
   records it): an optional attribution block "x-anthropic-billing-header: cc_version=...",
   then one of its identity lines (IDENTITIES).
2. Usage windows. Every answer to a subscription request carries the
   anthropic-ratelimit-unified-* headers: per window (5h, 7d) its utilization (0..1),
   reset (epoch seconds) and status (allowed, allowed_warning from WARNING on, rejected),
   and overall status, reset and representative-claim. Each answered request adds
   `per_request` to every window. A window at 1.0 is used up: 429 rate_limit_error with
   those headers (and retry-after only when `exhaust` asked for one) until its reset,
   when it starts again at 0 with a full-length window.

Control API (on the simulator's port, never recorded):
    GET  /_sim/subscription  -> the state below
    POST /_sim/subscription  {"claude_code_only": "invalid_request"|"rate_limit"|"off",
                              "per_request": 0.02,
                              "windows": {"5h": {"utilization": 0.7, "reset_in": 3600}},
                              "exhaust": {"window": "5h", "reset_in": 4, "retry_after": 2|null}}
API-key requests are untouched by both rules and carry no unified headers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, Optional

from aiohttp import web

IDENTITIES = (
    "You are Claude Code, Anthropic's official CLI for Claude.",
    "You are Claude Code, Anthropic's official CLI for Claude, running within the Claude Agent SDK.",
    "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
)
ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"
SHAPES = ("invalid_request", "rate_limit", "off")
NOT_CLAUDE_CODE = ("This credential is only authorized for use with Claude Code and cannot be used for other "
                   "API requests.")
RATE_LIMITED = "This request would exceed your account's rate limit. Please try again later."
WINDOWS = {"5h": 5 * 3600, "7d": 7 * 86400}  # window name -> length in seconds
CLAIMS = {"5h": "five_hour", "7d": "seven_day"}
WARNING = 0.8
HEADER = "anthropic-ratelimit-unified-"


def system_texts(system) -> list:
    if isinstance(system, str):
        return [system]
    if not isinstance(system, list):
        return []
    return [b.get("text", "") for b in system if isinstance(b, dict) and b.get("type") == "text"]


def opens_like_claude_code(system) -> bool:
    """The system prompt opens with Claude Code's identity (after its attribution block)."""
    texts = system_texts(system)
    if texts and texts[0].startswith(ATTRIBUTION_PREFIX):
        texts = texts[1:]
    return bool(texts) and texts[0].strip() in IDENTITIES


@dataclass
class Window:
    length: float
    utilization: float = 0.0
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.utilization, self.reset_at = 0.0, now + self.length

    def status(self) -> str:
        return "rejected" if self.utilization >= 1.0 else "allowed_warning" if self.utilization >= WARNING \
            else "allowed"


@dataclass
class Subscription:
    shape: str = "invalid_request"
    per_request: float = 0.02
    retry_after: Optional[int] = None  # sent with the 429 of a window `exhaust` used up
    windows: Dict[str, Window] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        now = time.time()
        self.shape, self.per_request, self.retry_after = "invalid_request", 0.02, None
        self.windows = {name: Window(length, 0.0, now + length) for name, length in WINDOWS.items()}

    # --- the two rules -------------------------------------------------------------------------

    def refusal(self, body: dict) -> Optional[tuple]:
        """(status, error type, message) when the Claude-Code-only rule refuses this body."""
        if self.shape == "off" or opens_like_claude_code(body.get("system")):
            return None
        if self.shape == "rate_limit":
            return None if "haiku" in str(body.get("model")) else (429, "rate_limit_error", RATE_LIMITED)
        return 400, "invalid_request_error", NOT_CLAUDE_CODE

    def used_up(self) -> Optional[dict]:
        """The headers of a usage-limit 429 when a window is used up, else None."""
        now = time.time()
        for window in self.windows.values():
            window.roll(now)
        if not any(w.status() == "rejected" for w in self.windows.values()):
            return None
        headers = self.headers()
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers

    def use(self) -> dict:
        """Count one answered request; the headers its answer carries."""
        now = time.time()
        for window in self.windows.values():
            window.roll(now)
            window.utilization = min(1.0, round(window.utilization + self.per_request, 6))
        return self.headers()

    def headers(self) -> dict:
        headers = {}
        for name, window in self.windows.items():
            headers.update({f"{HEADER}{name}-utilization": f"{window.utilization:g}",
                            f"{HEADER}{name}-reset": str(int(window.reset_at)),
                            f"{HEADER}{name}-status": window.status()})
        rejected = [n for n, w in self.windows.items() if w.status() == "rejected"]
        # The claim that decides: the used-up window that resets last, else the fullest.
        claim = max(rejected, key=lambda n: self.windows[n].reset_at) if rejected else \
            max(self.windows, key=lambda n: self.windows[n].utilization)
        worst = "rejected" if rejected else max((w.status() for w in self.windows.values()),
                                                key=("allowed", "allowed_warning").index)
        headers.update({f"{HEADER}status": worst, f"{HEADER}reset": str(int(self.windows[claim].reset_at)),
                        f"{HEADER}representative-claim": CLAIMS[claim],
                        f"{HEADER}overage-status": "rejected",
                        f"{HEADER}overage-disabled-reason": "org_level_disabled"})
        return headers

    # --- control -------------------------------------------------------------------------------

    def configure(self, spec: dict) -> None:
        unknown = set(spec) - {"claude_code_only", "per_request", "windows", "exhaust"}
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        shape = spec.get("claude_code_only", self.shape)
        if shape not in SHAPES:
            raise ValueError(f"claude_code_only must be one of {', '.join(SHAPES)}")
        self.shape = shape
        self.per_request = float(spec.get("per_request", self.per_request))
        now = time.time()
        for name, values in (spec.get("windows") or {}).items():
            window = self._window(name)
            window.utilization = float(values.get("utilization", window.utilization))
            window.reset_at = now + float(values.get("reset_in", window.reset_at - now))
        exhaust = spec.get("exhaust")
        if exhaust:
            window = self._window(exhaust.get("window", "5h"))
            window.utilization, window.reset_at = 1.0, now + float(exhaust.get("reset_in", 5))
            retry = exhaust.get("retry_after")
            self.retry_after = None if retry is None else int(retry)

    def _window(self, name: str) -> Window:
        if name not in self.windows:
            raise ValueError(f"window must be one of {', '.join(self.windows)}")
        return self.windows[name]

    def describe(self) -> dict:
        return {"claude_code_only": self.shape, "per_request": self.per_request, "retry_after": self.retry_after,
                "windows": {n: {"utilization": w.utilization, "reset_at": w.reset_at, "status": w.status()}
                            for n, w in self.windows.items()}}


def control_routes(subscription: Subscription) -> list:
    async def get(request: web.Request) -> web.Response:
        return web.json_response(subscription.describe())

    async def post(request: web.Request) -> web.Response:
        try:
            subscription.configure(await request.json())
        except (ValueError, TypeError, AttributeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(subscription.describe())

    return [web.get("/_sim/subscription", get), web.post("/_sim/subscription", post)]
