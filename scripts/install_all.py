"""`make install-all` and `make uninstall-all`: every step, and a summary of what each did.

A step that fails (no systemd user manager, no AWS SSO profile, a damaged rc file) no
longer stops the others: each runs as its own command, and the summary names, per
step, the last line it printed when it worked and the command to run again when it did
not. DRY_RUN reaches every step (--dry-run), so a dry run writes nothing at all.

    python -m scripts.install_all install [--dry-run] [--shells "zsh bash"]
    python -m scripts.install_all uninstall [--dry-run] [--keep-backups]

Runs on the system Python (standard library only), like `make install`, so it can
report a venv that could not be built and carry on.
"""
import argparse
import subprocess
import sys
from dataclasses import dataclass
from typing import List

from scripts.core import paths
from scripts.core.errors import ToolkitError, entry_point
from scripts.gateway import process
from scripts.services import platform as platform_info


@dataclass(frozen=True)
class Step:
    name: str          # what the summary calls it
    module_args: List[str]
    make_target: str   # the command that runs this step alone
    venv_python: bool = True
    first_report: bool = False  # its first report says what it did (the rest are hints)


@dataclass(frozen=True)
class Outcome:
    step: Step
    code: int
    last_line: str


def install_steps(shells: str) -> List[Step]:
    return [Step("venv", ["scripts.install"], "make install", venv_python=False),
            Step("login service", ["scripts.service", "install", "proxy"], "make install-service"),
            Step("AWS SSO refresher", ["scripts.service", "install", "sso-refresh"], "make install-sso-refresh"),
            Step("Claude Code shell block", ["scripts.claude_shell", "configure",
                                             *(["--shells", shells] if shells else [])], "make configure-claude",
                 first_report=True)]


def uninstall_steps() -> List[Step]:
    return [Step("login service", ["scripts.service", "uninstall", "proxy"], "make uninstall-service"),
            Step("AWS SSO refresher", ["scripts.service", "uninstall", "sso-refresh"], "make uninstall-sso-refresh"),
            Step("Claude Code shell block", ["scripts.claude_shell", "remove"], "make remove-claude",
                 first_report=True),
            Step("claude-gateway launcher", ["scripts.install", "--remove-launcher"],
                 "python3 -m scripts.install --remove-launcher")]


def _python(step: Step) -> str:
    venv = paths.venv_bin("python")
    return str(venv) if step.venv_python and venv.exists() else sys.executable


def run_step(step: Step, dry_run: bool) -> Outcome:
    """The step's output passes through as it comes; its last report (`>> ...` or `Would ...`,
    not the text of a block it shows) is kept for the summary."""
    command = [_python(step), "-m", *step.module_args, *(["--dry-run"] if dry_run else [])]
    child = subprocess.Popen(command, cwd=paths.PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    last = ""
    assert child.stdout is not None
    for line in child.stdout:
        print(line, end="", flush=True)
        if line.startswith((">> ", "Would ")) and not (step.first_report and last):
            last = line.strip().rstrip(":")
    return Outcome(step, child.wait(), last.removeprefix(">> "))


def summary(outcomes: List[Outcome], dry_run: bool) -> List[str]:
    lines = []
    for outcome in outcomes:
        if outcome.code == 0:
            lines.append(f"   {outcome.step.name:<24} {'dry run: ' if dry_run else 'done: '}{outcome.last_line}")
        else:
            lines.append(f"   {outcome.step.name:<24} FAILED (exit {outcome.code}): fix the error above, "
                         f"then `{outcome.step.make_target}`")
    return lines


def _finish(verb: str, outcomes: List[Outcome], dry_run: bool, extra: List[str]) -> int:
    print(f">> {verb}: what each step did")
    print("\n".join(summary(outcomes, dry_run) + extra))
    failed = [o.step.name for o in outcomes if o.code != 0]
    if failed:
        raise ToolkitError(f"{len(failed)} of {len(outcomes)} steps failed ({', '.join(failed)}): "
                           "run the command named for each above")
    if dry_run:
        print(">> DRY_RUN: nothing was written, started or stopped")
    return 0


def install(args: argparse.Namespace) -> int:
    outcomes = [run_step(step, args.dry_run) for step in install_steps(args.shells)]
    extra = [] if args.dry_run or any(o.code for o in outcomes) else [
        ">> open a new shell, then `make status`"]
    return _finish("install-all", outcomes, args.dry_run, extra)


def stop_proxy(dry_run: bool) -> str:
    """The proxy `make up` started (the service's own stops with its uninstall)."""
    pid = process.running_pid()
    if not pid:
        return "no proxy started by `make up` was running"
    if dry_run:
        return f"Would stop the proxy `make up` started (pid {pid})"
    process.stop()
    still = process.running_pid()
    return f"proxy pid {pid} is STILL running: run `make down`" if still else f"stopped the proxy (pid {pid})"


def remove_leftovers(dry_run: bool, keep_backups: bool) -> List[str]:
    """The rc-file backups (unless kept) and the folders install made, once empty."""
    said = []
    backups = paths.user_config_dir() / "backups"
    found = sorted(backups.glob("*")) if backups.is_dir() else []
    if found and keep_backups:
        said.append(f"kept {len(found)} backup file(s) of your shell profiles in {backups}")
    elif found:
        for item in found:
            if not dry_run:
                item.unlink()
        said.append(f"{'Would remove' if dry_run else 'removed'} {len(found)} backup file(s) in {backups} "
                    "(KEEP_BACKUPS=1 keeps them)")
    folders = [backups, paths.user_config_dir()]
    if platform_info.current() == platform_info.LINUX:
        unit_dir = platform_info.service_dir(platform_info.LINUX)
        folders += [unit_dir, unit_dir.parent]
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            if not dry_run:
                folder.rmdir()
            said.append(f"{'Would remove' if dry_run else 'removed'} the empty folder {folder}")
    return said


def uninstall(args: argparse.Namespace) -> int:
    outcomes = [run_step(step, args.dry_run) for step in uninstall_steps()]
    extra = [f"   {'proxy':<24} {stop_proxy(args.dry_run)}"]
    if all(o.code == 0 for o in outcomes):
        extra += [f"   {'leftovers':<24} {line}" for line in remove_leftovers(args.dry_run, args.keep_backups)]
    extra.append(f"   {'kept':<24} .env, config.yaml, .venv, logs/ and state/ (`make clean` removes logs and state)")
    return _finish("uninstall-all", outcomes, args.dry_run, extra)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.install_all", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("install")
    cmd.add_argument("--shells", default="")
    cmd.add_argument("--dry-run", action="store_true")
    cmd.set_defaults(func=install)
    cmd = sub.add_parser("uninstall")
    cmd.add_argument("--dry-run", action="store_true")
    cmd.add_argument("--keep-backups", action="store_true")
    cmd.set_defaults(func=uninstall)
    return parser


def _body(argv: List[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


main = entry_point(__name__, _body)
