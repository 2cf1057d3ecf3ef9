"""`claude-gateway statusline` (scripts/statusline.py): one line for Claude Code's status line.

Claude Code runs the statusLine command on every update of the conversation (at most every
300 ms), passes the session as JSON on stdin (model.display_name, workspace, ...) and shows
the first line of its stdout (docs.claude.com/en/docs/claude-code/statusline). So this reads
files only, never the network and never LiteLLM: what the proxy itself recorded in the state
directory (scripts/in_proxy/last_answer.py: which tier answered the latest request and since
when, and the proxy's pid; scripts/in_proxy/usage_gauges.py: the subscription's usage windows
and cooldown of its latest answer).

    Opus · Claude Code direct to Anthropic · gateway: API key since 14:05   (no ANTHROPIC_BASE_URL)
    Opus · gateway: subscription since 14:02 · 5h 73% (resets 17:00) · 7d 41% (resets Tue 09:00)
    Opus · gateway: API key since 14:05 · subscription LIMITED until 17:00 (five_hour) · 5h 100% · 7d 41%
    gateway: Bedrock since 14:07
    gateway down since 15:10          (only when a status line saw it running before, then gone)
    gateway: not running

Whether the proxy runs: each proxy process holds a shared lock on state/proxy-alive.lock while
it runs (the kernel drops it however the process ends), so a lock this one cannot take means a
running proxy. "down since" is the first time the status line found it gone after seeing it run
(state/statusline-seen.json): a time it observed, never a guess.
"""
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Optional

from scripts.core import paths
from scripts.core.errors import ToolkitError
from scripts.core.files import PRIVATE, write_atomic

SEP = " · "


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _clock(epoch: float, now: float) -> str:
    """A time of day; the weekday too when it is not today."""
    local, today = time.localtime(epoch), time.localtime(now)
    same_day = (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday)
    return time.strftime("%H:%M" if same_day else "%a %H:%M", local)


def proxy_holds_lock() -> bool:
    """Whether a running proxy holds proxy-alive.lock (an exclusive try fails while any holds it)."""
    try:
        fd = os.open(paths.proxy_alive_lock(), os.O_RDONLY)
    except OSError:
        return False  # no proxy with the answer record has run here
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the lock this run took
    return False


def pid_file_alive() -> Optional[int]:
    """The pid `make up` recorded, when that process exists (a proxy whose config.yaml lacks the record)."""
    try:
        pid = int(paths.pid_file().read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def answerer(record: dict, now: float) -> str:
    tier, group = record.get("tier"), str(record.get("model_group") or "?")
    if tier is None:
        up_since = record.get("up_since")
        return (f"gateway: up since {_clock(float(up_since), now)}, no answer yet" if isinstance(up_since, (int, float))
                else "gateway: up, no answer yet")
    tier = f"{tier} ({group})" if tier.startswith("tier ") else (tier or group)
    since = record.get("since")
    if not isinstance(since, (int, float)):
        return f"gateway: {tier}"
    return f"gateway: {tier} since {_clock(float(since), now)}"


def _window(name: str, values: dict, now: float, with_reset: bool) -> str:
    used = values.get("utilization")
    text = f"{name} {used * 100:.0f}%" if isinstance(used, (int, float)) else f"{name} ?"
    if values.get("status") in ("allowed_warning", "rejected"):
        text += " " + ("WARNING" if values["status"] == "allowed_warning" else "rejected")
    reset = values.get("reset")
    if with_reset and isinstance(reset, (int, float)) and reset > now:
        text += f" (resets {_clock(reset, now)})"
    return text


def usage(reading: dict, now: float) -> list:
    """The subscription's windows, and its cooldown while one is on."""
    windows = reading.get("windows") if isinstance(reading.get("windows"), dict) else {}
    names = [n for n in ("5h", "7d") if n in windows] + sorted(set(windows) - {"5h", "7d"})
    until = reading.get("cooldown_until")
    cooling = isinstance(until, (int, float)) and until > now
    claim = reading.get("claim") or "usage limit"
    parts = [f"subscription LIMITED until {_clock(until, now)} ({claim})"] if cooling else []
    return parts + [_window(n, windows[n], now, with_reset=not cooling) for n in names if isinstance(windows[n], dict)]


def _seen(up: bool, now: float) -> Optional[float]:
    """Remember what this run saw; returns since when the proxy has been seen down, if observed."""
    before = _read_json(paths.statusline_seen_file())
    if up:
        after = {"up": True}  # no time: the file changes (is written) only when up/down changes
    elif before.get("up") is True:
        after = {"up": False, "down_since": now}
    else:
        after = before
    if after != before:
        try:
            write_atomic(paths.statusline_seen_file(), json.dumps(after) + "\n", mode=PRIVATE)
        except (OSError, ToolkitError):
            pass  # a read-only state directory: the line still shows, "down since" is not remembered
    down_since = after.get("down_since")
    return float(down_since) if not up and isinstance(down_since, (int, float)) else None


def _model(session_json: str) -> Optional[str]:
    try:
        session = json.loads(session_json) if session_json.strip() else {}
    except ValueError:
        return None
    model = session.get("model") if isinstance(session, dict) else None
    name = model.get("display_name") if isinstance(model, dict) else None
    return name if isinstance(name, str) and name else None


def line(session_json: str, now: Optional[float] = None) -> str:
    now = time.time() if now is None else now
    running = proxy_holds_lock()
    other = None if running else pid_file_alive()
    down_since = _seen(running or other is not None, now)
    if running:
        parts = [answerer(_read_json(paths.answered_by_file()), now)]
        parts += usage(_read_json(paths.subscription_usage_file()), now)
    elif other is not None:
        parts = [f"gateway: pid {other} runs, without the answer record (config.yaml's callbacks lack "
                 "scripts.in_proxy.last_answer.handler)"]
    else:
        parts = [f"gateway down since {_clock(down_since, now)}" if down_since else "gateway: not running"]
    model = _model(session_json)
    # Claude Code passes its environment on: without ANTHROPIC_BASE_URL it talks to Anthropic itself
    # (the shell block is off: toggle-claude direct), whatever the gateway does.
    direct = [] if os.environ.get("ANTHROPIC_BASE_URL") else ["Claude Code direct to Anthropic"]
    return SEP.join(([model] if model else []) + direct + parts)

