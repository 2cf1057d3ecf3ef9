"""Claude Code shell integration: configure, update, remove, show, toggle.

  python -m scripts.claude_shell configure [--shells "zsh bash fish"] [--dry-run]
      add the block to each shell's startup file (default: your login shell)
  python -m scripts.claude_shell update [--shells ...] [--dry-run]
      rewrite the block where it is (after the port or the project moved)
  python -m scripts.claude_shell remove [--shells ...] [--dry-run]
      take the block out, the file back as it was (default: every shell)
  python -m scripts.claude_shell show
      what is configured where, and what this shell has
  python -m scripts.claude_shell toggle [proxy|direct] [--dry-run]
      flip new shells between the proxy and the Anthropic API

New shells export ANTHROPIC_BASE_URL (the proxy) and ANTHROPIC_AUTH_TOKEN (the
proxy key, read from .env at shell start, never written into the rc file). Why
ANTHROPIC_AUTH_TOKEN and not ANTHROPIC_API_KEY, measured with the real CLI: see
scripts/claude/blocks.py. Safe rc-file editing: scripts/claude/rcfile.py.
"""
import argparse
from pathlib import Path
from typing import List

from scripts.claude import blocks as claude_blocks
from scripts.claude import rcfile
from scripts.claude.blocks import SHELLS, Block
from scripts.claude.blocks import display_path as _home
from scripts.claude.report import describe
from scripts.core import envfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point


def backup_dir() -> Path:
    return paths.user_config_dir() / "backups"


def _blocks(shells: List[str]) -> List[Block]:
    cfg = settings_mod.load(validate=False)
    return [claude_blocks.render(shell, cfg) for shell in shells]


def _has_block(shell: str) -> bool:
    path = claude_blocks.rc_path(shell)
    text = rcfile.read_text(path)
    return text is not None and rcfile.find_block(text, path) is not None


def _install(blocks: List[Block], dry_run: bool) -> None:
    # Plan every file first: a damaged one stops the run before anything is written.
    plans = [(block, *rcfile.planned_install(block.rc_path, block.body)) for block in blocks]
    for block, _text, outcome in plans:
        where = _home(block.rc_path)
        if block.rc_path.is_symlink():
            where += f" (-> {rcfile.target_of(block.rc_path)})"
        if dry_run:
            print(f"Would write {where} ({outcome} the {block.shell} block):" if outcome != "unchanged"
                  else f"{where}: the {block.shell} block is already up to date")
            if outcome != "unchanged":
                print(rcfile.block_text(block.body, rcfile.RestoreInfo()), end="")
            continue
        rcfile.install(block.rc_path, block.body, backup_dir())
        print(f">> {where}: {outcome} the claude-gateway block" if outcome != "unchanged"
              else f">> {where}: the claude-gateway block is already up to date")


def configure(args: argparse.Namespace) -> int:
    blocks = _blocks(claude_blocks.choose_shells(args.shells))
    _install(blocks, args.dry_run)
    mode_file = paths.claude_mode_file()
    if not args.dry_run and not mode_file.exists():
        write_mode("proxy")
    if args.dry_run:
        return 0
    if claude_blocks.read_mode() == "direct":
        print(">> mode is direct (set by `make toggle-claude`): new shells leave claude alone until you toggle back")
    else:
        print(f">> open a new shell: `claude` then goes through {settings_mod.load(validate=False).base_url}; "
              "`claude-proxy` also starts the proxy first")
    print(">> check with `make show-claude` and `make test-claude`")
    return 0


def update(args: argparse.Namespace) -> int:
    shells = claude_blocks.choose_shells(args.shells) if args.shells else [s for s in SHELLS if _has_block(s)]
    missing = [s for s in shells if not _has_block(s)]
    if not shells or missing:
        where = _home(claude_blocks.rc_path(missing[0])) if missing else "any shell startup file"
        raise ToolkitError(f"no claude-gateway block in {where}: run `make configure-claude` first")
    _install(_blocks(shells), args.dry_run)
    if not args.dry_run:
        print(">> new shells pick up the change (a new LITELLM_MASTER_KEY needs no update: "
              "each new shell reads it from .env)")
    return 0


def remove(args: argparse.Namespace) -> int:
    shells = claude_blocks.choose_shells(args.shells) if args.shells else list(SHELLS)
    rc_paths = [claude_blocks.rc_path(s) for s in shells]
    plans = [(path, *rcfile.planned_removal(path)) for path in rc_paths]  # refuses damaged files up front
    found = [(path, info) for path, _text, info, present in plans if present]
    if not found:
        print(f">> nothing to remove: no claude-gateway block in {', '.join(_home(p) for p in rc_paths)}")
    for path, info in found:
        if args.dry_run:
            print(f"Would write {_home(path)} (remove the claude-gateway block"
                  f"{'; delete the file it created' if info.created_file else ''})")
            continue
        outcome = rcfile.remove(path, backup_dir())
        print(f">> {_home(path)}: " + ("deleted (claude-gateway had created it)" if outcome == "deleted"
                                       else "removed the claude-gateway block; the rest is as it was"))
    if not args.dry_run and found and not any(_has_block(s) for s in SHELLS):
        paths.claude_mode_file().unlink(missing_ok=True)
    if found and not args.dry_run:
        print(">> open a new shell: `claude` talks to Anthropic directly again")
    return 0


def write_mode(mode: str) -> None:
    mode_file = paths.claude_mode_file()
    mode_file.parent.mkdir(parents=True, exist_ok=True)
    envfile.write_private(mode_file, mode + "\n")


def toggle(args: argparse.Namespace) -> int:
    current = claude_blocks.read_mode()
    new = args.mode or ("direct" if current == "proxy" else "proxy")
    target = "the proxy" if new == "proxy" else "the Anthropic API directly"
    if args.dry_run:
        print(f"Would write {paths.claude_mode_file()} ({new})")
        return 0
    write_mode(new)
    print(f">> Claude Code mode: {new} (was {current}): new shells send claude to {target}")
    print(">> this shell keeps its current setting: open a new one (or `exec $SHELL`) to switch it")
    if not any(_has_block(s) for s in SHELLS):
        print(">> note: no shell startup file has the claude-gateway block yet: run `make configure-claude`")
    return 0


def show(_args: argparse.Namespace) -> int:
    for line in describe():
        print(line)
    return 0


COMMANDS = {"configure": configure, "update": update, "remove": remove, "show": show, "toggle": toggle}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.claude_shell",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: make configure-claude SHELLS=\"zsh bash\"")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("configure", "update", "remove"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--shells", default="", help=f"any of: {' '.join(SHELLS)} (space or comma separated)")
        cmd.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    sub.add_parser("show")
    cmd = sub.add_parser("toggle")
    cmd.add_argument("mode", nargs="?", choices=("proxy", "direct"), help="default: the other one")
    cmd.add_argument("--dry-run", action="store_true")
    return parser


def _body(argv: List[str]) -> int:
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


main = entry_point(__name__, _body)
