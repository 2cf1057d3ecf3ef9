"""The one error type for user-facing failures.

Every script catches ToolkitError in its entry point, prints it as one line and
exits non-zero; anything else is a bug and keeps its traceback.
"""
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
