"""The status line's inputs: the usage file the proxy's gauge module writes (only when what the
line shows changes), read back by the status line; the proxy-alive lock tried, not waited on."""
import fcntl
import os
import subprocess
import sys
import time

from scripts.console import statusline
from scripts.core import paths
from scripts.in_proxy import usage_gauges
from scripts.in_proxy.usage_windows import Usage, Window

NOW = time.time()


def usage(five_hour: float, status: str = "allowed") -> Usage:
    return Usage(status, NOW + 3600, "five_hour", (Window("5h", five_hour, status, NOW + 3600),
                                                   Window("7d", 0.41, "allowed", NOW + 5 * 86400)))


def test_the_usage_file_is_written_only_when_a_shown_value_changes():
    writer = usage_gauges.UsageFile()
    writer.record(usage_gauges._file_fields(usage(0.731)), NOW)
    first = paths.subscription_usage_file().stat().st_mtime_ns
    os.utime(paths.subscription_usage_file(), ns=(1, 1))
    writer.record(usage_gauges._file_fields(usage(0.734)), NOW + 1)  # still 73%: no write
    assert paths.subscription_usage_file().stat().st_mtime_ns == 1 and first != 1
    writer.record(usage_gauges._file_fields(usage(0.74)), NOW + 2)
    assert paths.subscription_usage_file().stat().st_mtime_ns != 1
    assert oct(paths.subscription_usage_file().stat().st_mode & 0o777) == "0o600"


def test_the_line_shows_windows_and_a_cooldown_from_the_file():
    writer = usage_gauges.UsageFile()
    writer.record(usage_gauges._file_fields(usage(0.73)), NOW)
    reading = statusline._read_json(paths.subscription_usage_file())
    assert statusline.usage(reading, NOW)[0].startswith("5h 73% (resets ")
    writer.record({**usage_gauges._file_fields(usage(1.0, "rejected")), "cooldown_until": NOW + 3600}, NOW)
    parts = statusline.usage(statusline._read_json(paths.subscription_usage_file()), NOW)
    assert parts[0].startswith("subscription LIMITED until ") and parts[0].endswith("(five_hour)")
    assert parts[1:] == ["5h 100% rejected", "7d 41%"]


HOLDER = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
          "fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); time.sleep(60)")


def test_a_held_lock_means_running_and_its_holders_end_means_down_since(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:47000")
    paths.state_dir().mkdir(parents=True)
    assert statusline.line("") == "gateway: not running"
    # Another process takes the lock the way every proxy process does (last_answer.hold_alive_lock).
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(paths.proxy_alive_lock())], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert statusline.line("") == "gateway: up, no answer yet"
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert statusline.line("", now=NOW).startswith("gateway down since ")
    fd = os.open(paths.proxy_alive_lock(), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the status line left no lock behind
    os.close(fd)


def test_make_clean_removes_the_status_line_records_but_not_the_lock_a_service_proxy_may_hold():
    records = [paths.answered_by_file(), paths.subscription_usage_file(), paths.statusline_seen_file()]
    paths.state_dir().mkdir(parents=True)
    for path in [*records, paths.proxy_alive_lock()]:
        path.write_text("{}")
    done = subprocess.run([sys.executable, "-m", "scripts.clean"], cwd=paths.PROJECT_DIR, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [p for p in records if p.exists()] == [] and paths.proxy_alive_lock().exists()
