"""`claude-gateway statusline`: Claude Code's status line (scripts/console/statusline.py).

Claude Code runs it with the session's JSON on stdin and shows the first line it prints.
It reads the proxy's state files only: no network, no LiteLLM, no settings parser, so it
answers in tens of milliseconds (the launcher runs this module without the CLI's parser).
"""
import sys
from typing import List

from scripts.console import statusline
from scripts.core.errors import ToolkitError, entry_point


def _body(argv: List[str]) -> int:
    if argv:
        raise ToolkitError("statusline takes no arguments (Claude Code passes the session on stdin)")
    session = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    print(statusline.line(session))
    return 0


main = entry_point(__name__, _body)
