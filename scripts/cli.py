"""`claude-gateway`: the toolkit's daily commands from any directory.

  claude-gateway COMMAND [flags]       e.g. claude-gateway up, claude-gateway test --model claude-haiku
  claude-gateway --help                every subcommand with an example
  claude-gateway statusline            one line for Claude Code's status line (JSON on stdin)
  claude-gateway completion SHELL      the bash/zsh/fish completion script

The launcher `make install` writes (scripts/console/launcher.py) runs this module with the
checkout's own Python. Each subcommand runs the main(argv) of the entry point its make target
runs (scripts/console/commands.py says which), loaded by name only when it is run: this is the
one dispatcher. `statusline`, which Claude Code runs every few hundred milliseconds, is the entry
point scripts/statusline.py; the launcher runs it directly, without this parser.
"""
import importlib
import sys
from typing import List

from scripts.console import commands, completion
from scripts.core.errors import ToolkitError, entry_point


def run_steps(command: commands.Command, argv: List[str]) -> int:
    """Each step's entry point in turn (`start`: SSO login, then up); the first failure stops."""
    for step in command.steps:
        module = importlib.import_module(f"scripts.{step.module}")
        code = module.main([*step.argv, *argv])
        if code:
            return code
    return 0


def _body(argv: List[str]) -> int:
    command, args, forwarded = commands.parse(argv)
    if command.name == "completion":
        if args.shell not in completion.SHELLS:
            raise ToolkitError(f"no completion for {args.shell!r}: choose one of {' '.join(completion.SHELLS)}")
        sys.stdout.write(completion.script(args.shell))
        return 0
    return run_steps(command, forwarded)


main = entry_point(__name__, _body)
