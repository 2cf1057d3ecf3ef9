"""The one error type for user-facing failures, and the one entry-point helper.

Every entry point is `main = entry_point(__name__, _body)`: ToolkitError becomes one
line on stderr and its exit code; anything else is a bug and keeps its traceback.
warn() is the one way to say something is wrong without stopping: one line on stderr.
"""
import os
import sys
from typing import Callable, List, Set

Body = Callable[[List[str]], int]


class ToolkitError(Exception):
    """A failure the user can fix; the message names the fix. exit_code is what the
    process exits with (1 unless a command documents other codes)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


_warned: Set[str] = set()


def warn(message: str) -> None:
    """One line on stderr, at most once per process: .env is read several times by
    some commands, and the same problem must not be reported twice."""
    if message in _warned:
        return
    _warned.add(message)
    print(f"warning: {message}", file=sys.stderr)


def run_main(body: Body, argv: List[str]) -> int:
    """Run a script body, turning ToolkitError into one line on stderr."""
    try:
        return body(argv)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`make show-models | head`): stop quietly, and
        # point stdout at /dev/null so the interpreter's final flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def entry_point(module_name: str, body: Body) -> Body:
    """Return main(argv) -> int for body; when the module runs as `python -m`, run it
    with sys.argv and exit with its code."""
    def main(argv: List[str]) -> int:
        return run_main(body, argv)

    if module_name == "__main__":
        sys.exit(main(sys.argv[1:]))
    return main
