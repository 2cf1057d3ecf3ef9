"""The proxy's log rotates by size while the writer runs: scripts/gateway/logpipe.py.

A real child process captures its own fds 1 and 2 (as litellm_main does) and writes past
the limit several times; the files on disk are checked while it still runs and after it
exits. The end-to-end rotation under a real proxy is in tests/test_e2e_refusals.py."""
import os
import subprocess
import sys
import textwrap

from scripts.core.paths import PROJECT_DIR
from scripts.core.procs import wait_until
from scripts.gateway import logpipe

LIMIT = 4096


def files(log):
    return sorted(p.name for p in log.parent.iterdir())


def test_rotating_file_keeps_whole_lines_and_a_bounded_number_of_copies(tmp_path):
    log = tmp_path / "logs" / "proxy.log"
    log.parent.mkdir()
    sink = logpipe.RotatingFile(log, LIMIT)
    line = b"x" * 99 + b"\n"
    for _ in range(200):  # 20 000 bytes: four rotations at 4 KiB
        sink.write(line)
    assert files(log) == ["proxy.log", "proxy.log.1", "proxy.log.2", "proxy.log.3"]
    for path in log.parent.iterdir():
        assert 0 < path.stat().st_size <= LIMIT and path.read_bytes().endswith(b"\n")
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"


def test_one_large_write_is_spread_over_files_at_line_ends(tmp_path):
    log = tmp_path / "logs" / "proxy.log"
    log.parent.mkdir()
    logpipe.RotatingFile(log, LIMIT).write(b"".join(b"%05d" % i + b"." * 94 + b"\n" for i in range(100)))
    assert files(log) == ["proxy.log", "proxy.log.1", "proxy.log.2"]
    assert all(p.stat().st_size <= LIMIT and p.read_bytes().endswith(b"\n") for p in log.parent.iterdir())
    assert log.read_bytes().endswith(b"00099" + b"." * 94 + b"\n")


def test_rotate_if_over_moves_only_a_large_log(tmp_path):
    log = tmp_path / "logs" / "proxy.log"
    log.parent.mkdir()
    log.write_bytes(b"a" * 10)
    logpipe.rotate_if_over(log, 100)
    assert files(log) == ["proxy.log"]
    logpipe.rotate_if_over(log, 5)
    assert files(log) == ["proxy.log.1"] and (log.parent / "proxy.log.1").read_bytes() == b"a" * 10


def test_a_line_is_never_split_across_a_rotation():
    assert logpipe._whole_lines(b"one\ntwo\nthr") == len(b"one\ntwo\n")
    assert logpipe._whole_lines(b"no newline yet") == 0
    assert logpipe._whole_lines(b"y" * logpipe.READ_SIZE) == logpipe.READ_SIZE  # one huge line still goes out


CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from scripts.gateway import logpipe
    logpipe.capture(Path(sys.argv[1]), int(sys.argv[2]))
    for i in range(300):
        print(f"stdout line {i:04d} " + "." * 60, flush=True)
        os.write(2, f"fd 2 line {i:04d}\\n".encode())
    print("READY", file=sys.stderr, flush=True)
    sys.stdin.readline()  # stay alive until the test has looked at the files
    print("last words at exit")
""")


def test_capture_rotates_while_the_process_runs_and_flushes_at_exit(tmp_path):
    log = tmp_path / "logs" / "proxy.log"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(log), str(LIMIT)], cwd=PROJECT_DIR,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The child writes READY into the log itself, not to our pipe.
        wait_until(lambda: log.exists() and b"READY" in log.read_bytes(), 10, interval=0.05)
        running = files(log)
        assert running == ["proxy.log", "proxy.log.1", "proxy.log.2", "proxy.log.3"], running
        assert all(p.stat().st_size <= LIMIT for p in log.parent.iterdir())
    finally:
        out, err = child.communicate(b"\n", timeout=10)
    assert child.returncode == 0, err
    assert out == b"" and err == b"", "everything goes to the log, nothing to the old fds"
    text = b"".join(p.read_bytes() for p in sorted(log.parent.iterdir(), reverse=True)).decode()
    assert text.rstrip().endswith("last words at exit"), "output written during exit reaches the log"
    assert "stdout line 0299" in text and "fd 2 line 0299" in text
    assert all(line.count(" line ") <= 1 for line in text.splitlines()), "no two lines glued together"


def run_proxy(*args, **env):
    return subprocess.run([sys.executable, "-m", "scripts.proxy", *args], cwd=PROJECT_DIR, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_a_bad_rotation_size_stops_up_with_one_line(env_file, isolated):
    env_file(LITELLM_MASTER_KEY="sk-test-master-key-0123456789abcdef", ANTHROPIC_API_KEY="sk-ant-api03-x")
    result = run_proxy("up", GATEWAY_PROXY_LOG_MAX_BYTES="10MB")
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        "error: GATEWAY_PROXY_LOG_MAX_BYTES='10MB' is not a size in bytes: unset it or use e.g. 10485760"]
    assert not (isolated / "state" / "proxy.pid").exists()


def test_a_service_start_that_fails_early_still_keeps_the_log_bounded(isolated):
    """Under launchd a broken .env fails every 10 s before LiteLLM runs, into launchd's
    StandardOutPath: `scripts.proxy run` rotates that log first when it is over the size."""
    log = isolated / "logs" / "proxy.log"
    log.parent.mkdir()
    log.write_bytes(b"old line\n" * 1000)
    result = run_proxy("run", GATEWAY_PROXY_LOG=str(log), GATEWAY_PROXY_LOG_MAX_BYTES="4096")
    assert result.returncode == 1 and "cp .env.template .env" in result.stderr  # no .env in the sandbox
    assert files(log) == ["proxy.log.1"] and (log.parent / "proxy.log.1").stat().st_size == 9000


CRASHING_CHILD = textwrap.dedent("""
    import ctypes, sys, threading
    from pathlib import Path
    from scripts.gateway import logpipe
    logpipe.capture(Path(sys.argv[1]), int(sys.argv[2]))
    for i in range(300):  # past several rotations
        print(f"stdout line {i:04d} " + "." * 60, flush=True)
    threading.Event().wait(0.5)  # the copying thread catches up
    def read_address_three():
        ctypes.string_at(3)  # a segfault, as a broken C extension would cause
    read_address_three()
""")


def test_a_crash_of_the_interpreter_leaves_its_report_in_the_current_log(tmp_path):
    """The copying thread dies with the process, so the fault handler writes to the file itself."""
    log = tmp_path / "logs" / "proxy.log"
    done = subprocess.run([sys.executable, "-c", CRASHING_CHILD, str(log), str(LIMIT)], cwd=PROJECT_DIR,
                          capture_output=True, timeout=30)
    assert done.returncode == -11 and done.stdout == b"" and done.stderr == b"", done
    assert files(log) == ["proxy.log", "proxy.log.1", "proxy.log.2", "proxy.log.3"]
    report = log.read_text()
    assert "Fatal Python error: Segmentation fault" in report and "in read_address_three" in report, report
