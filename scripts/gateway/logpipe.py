"""The proxy's output, written to a log that rotates by size while the proxy runs.

LiteLLM, uvicorn and Python write to file descriptors 1 and 2. `capture()` points both
at a pipe and a thread copies what arrives into the log file; once the file would pass
`max_bytes` it becomes `<log>.1` (`.1` becomes `.2`, ..., the oldest is dropped), so the
log and its BACKUPS old copies stay under (BACKUPS + 1) x max_bytes however much the
proxy writes and however long it runs. The file is renamed, never truncated, so
`tail -F` (make logs) follows it across a rotation.

A crash of the interpreter itself (a segfault in a C extension) would kill the copying
thread with it, and the pipe's last bytes with them: so Python's fault handler writes
its report of every thread straight into the log file instead (re-aimed at each
rotation; a forked worker keeps the file it was forked with).

Standard library only: litellm_main calls it before LiteLLM is imported, so output of
that import is captured too.
"""
import atexit
import faulthandler
import os
import sys
import threading
from pathlib import Path

BACKUPS = 3
READ_SIZE = 65536
JOIN_SECONDS = 2.0  # how long exit waits for the last output to reach the file


def backup(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def rotate(path: Path, backups: int = BACKUPS) -> None:
    """log -> log.1 -> log.2 ... -> log.<backups>; what was log.<backups> is gone."""
    for number in range(backups - 1, 0, -1):
        if backup(path, number).exists():
            backup(path, number).replace(backup(path, number + 1))
    if path.exists():
        path.replace(backup(path, 1))


def rotate_if_over(path: Path, max_bytes: int, backups: int = BACKUPS) -> None:
    if path.exists() and path.stat().st_size > max_bytes:
        rotate(path, backups)


class RotatingFile:
    """Append-only log file that rotates before a write would take it past max_bytes."""

    def __init__(self, path: Path, max_bytes: int, backups: int = BACKUPS, crash_reports: bool = False):
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        self.crash_reports = crash_reports
        self.fd, self.size = self._open()

    def _open(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self.crash_reports:
            faulthandler.enable(fd, all_threads=True)
        return fd, os.fstat(fd).st_size

    def write(self, data: bytes) -> None:
        """Append data, rotating at line ends so that no file passes max_bytes (unless
        one line alone is longer: it gets a file of its own)."""
        while data:
            room = max(0, self.max_bytes - self.size)
            if len(data) <= room:
                self._append(data)
                return
            cut = data.rfind(b"\n", 0, room) + 1
            if not cut and self.size:
                self.rollover()
                continue
            cut = cut or data.find(b"\n") + 1 or len(data)
            self._append(data[:cut])
            data = data[cut:]
            if data:
                self.rollover()

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        self.size += len(data)

    def rollover(self) -> None:
        os.close(self.fd)
        rotate(self.path, self.backups)
        self.fd, self.size = self._open()


def _whole_lines(pending: bytes) -> int:
    """How much of pending to write now: up to its last newline, so a rotation never
    splits a line, unless one line alone is longer than a read."""
    end = pending.rfind(b"\n") + 1
    return end if end or len(pending) < READ_SIZE else len(pending)


def drain(read_fd: int, sink: RotatingFile) -> None:
    """Copy the pipe into the sink until every writer has closed it."""
    pending = b""
    while True:
        chunk = os.read(read_fd, READ_SIZE)
        if not chunk:
            break
        pending += chunk
        cut = _whole_lines(pending)
        if cut:
            sink.write(pending[:cut])
            pending = pending[cut:]
    if pending:
        sink.write(pending)
    os.close(read_fd)


def _finish(sink: RotatingFile, thread: threading.Thread) -> None:
    """At exit: hand fds 1 and 2 straight to the log file (closing the pipe, so the
    thread writes what is left and stops), then wait briefly for it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream has nothing left to flush
            pass
    direct = os.open(sink.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(direct, 1)
    os.dup2(direct, 2)
    os.close(direct)
    thread.join(JOIN_SECONDS)


def capture(path: Path, max_bytes: int, backups: int = BACKUPS) -> threading.Thread:
    """Send this process's fds 1 and 2 (and its children's) into `path`, rotated by size,
    and a fatal error's report straight into the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = RotatingFile(path, max_bytes, backups, crash_reports=True)
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=drain, args=(read_fd, sink), name="proxy-log", daemon=True)
    thread.start()
    atexit.register(_finish, sink, thread)
    return thread

