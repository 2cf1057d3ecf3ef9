"""The one error type for user-facing failures.

Every script catches ToolkitError in its entry point, prints it as one line and
exits non-zero; anything else is a bug and keeps its traceback.
"""
import os
import sys
from typing import Callable, List


class ToolkitError(Exception):
    """A failure the user can fix; the message names the fix."""


def run_main(body: Callable[[List[str]], int], argv: List[str]) -> int:
    """Run a script body, turning ToolkitError into one line on stderr."""
    try:
        return body(argv)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`make show-models | head`): stop quietly, and
        # point stdout at /dev/null so the interpreter's final flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
