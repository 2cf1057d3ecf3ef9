"""The subcommands of `claude-gateway`, as data: which entry point each one runs, with which
leading arguments, its flags, one line of help and an example.

The entry points stay the one implementation: `claude-gateway up` runs scripts.proxy's
main(["up"]), exactly what `make up` runs; a flag here is the entry point's own flag
(`--dry-run`, `--model`), forwarded as given. Commands marked `passthrough` (bench, demo,
admin) hand the rest of the line to the entry point's own parser, so its options and its
--help are the ones `python -m` has. The parser and the completion scripts
(scripts/console/completion.py) are both built from COMMANDS, so they cannot disagree.
"""
import argparse
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

PROG = "claude-gateway"


@dataclass(frozen=True)
class Option:
    flag: str                                 # "--model", or a positional's name ("provider")
    help: str
    value: Optional[str] = None               # metavar of a flag that takes a value; None: an on/off flag
    choices: Tuple[str, ...] = ()             # for completion; the entry point checks the value itself
    positional: bool = False
    optional: bool = False                    # a positional that may be left out

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Step:
    module: str                               # scripts.<module>, an entry point with main(argv)
    argv: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    example: str
    steps: Tuple[Step, ...] = ()              # empty: handled by scripts/cli.py itself
    options: Tuple[Option, ...] = ()
    passthrough: bool = False


DRY_RUN = Option("--dry-run", "print what would be written, change nothing")
SHELLS = Option("--shells", "any of: bash zsh fish (space or comma separated; default: your login shell)",
                value="SHELLS")
COMPOSE_DRY_RUN = Option("--dry-run", "print the compose command, run nothing")
MODEL = Option("--model", "the model name to ask", value="MODEL")
# The providers scripts/login.py knows (it checks the name; these are the ones it documents).
PROVIDER = Option("provider", "chatgpt or copilot", choices=("chatgpt", "copilot"), positional=True)


def _cmd(name: str, help: str, example: str, module: str, *argv: str, options: Sequence[Option] = (),
         passthrough: bool = False) -> Command:
    return Command(name, help, f"{PROG} {example}", (Step(module, tuple(argv)),), tuple(options), passthrough)


COMMANDS: Tuple[Command, ...] = (
    _cmd("up", "start the proxy in the background and wait until it is healthy", "up", "proxy", "up"),
    _cmd("down", "stop the proxy, letting requests in flight finish", "down", "proxy", "down"),
    _cmd("restart", "start a new proxy beside the running one, then drain the old one", "restart",
         "proxy", "restart"),
    Command("start", "AWS SSO login when needed, then start the proxy", f"{PROG} start",
            (Step("sso_refresh", ("--login-if-needed",)), Step("proxy", ("up",)))),
    _cmd("proxy", "run the proxy in the foreground (Ctrl-C stops it)", "proxy", "proxy", "run"),
    _cmd("logs", "follow the proxy log", "logs", "proxy", "logs"),
    _cmd("status", "everything at a glance: proxy, services, credentials, routing", "status", "status"),
    _cmd("health", "liveness, readiness, upstreams, Bedrock credentials (non-zero when unhealthy)", "health",
         "health", "health"),
    _cmd("test", "one real request through the proxy: who answered, how fast", "test --model claude-haiku",
         "health", "test", options=(MODEL, Option("--timeout", "seconds to wait for the answer", value="SECONDS"))),
    _cmd("models", "the model names the proxy serves", "models", "health", "models"),
    _cmd("info", "effective configuration, secrets masked", "info", "info"),
    _cmd("print-config", "the LiteLLM config `up` runs, secrets masked", "print-config", "print_config"),
    _cmd("generate-key", "write a new LITELLM_MASTER_KEY into .env (mode 0600)", "generate-key", "keys"),
    _cmd("redis", "start a local redis-server and set REDIS_URL in .env if empty", "redis", "redis_server",
         "start"),
    _cmd("update-models", "discover Claude models on Anthropic and Bedrock into config.yaml",
         "update-models --dry-run", "models", "update",
         options=(Option("--dry-run", "print the diff, write nothing"),)),
    _cmd("show-models", "configured models, their Bedrock ids and fallbacks", "show-models", "models", "show"),
    _cmd("login", "log in to a device-code provider (tokens under state/auth, never .env)", "login chatgpt",
         "login", "login", options=(PROVIDER,)),
    _cmd("logout", "forget a device login", "logout copilot", "login", "logout", options=(PROVIDER,)),
    _cmd("auth-status", "every credential the toolkit uses: kind, source, expiry (masked)", "auth-status",
         "auth_status"),
    _cmd("configure-claude", "add the proxy block (and this command's completion) to your shell profile",
         "configure-claude --shells 'zsh bash'", "claude_shell", "configure", options=(SHELLS, DRY_RUN)),
    _cmd("update-claude", "rewrite the shell block (after the port or the project moved)", "update-claude",
         "claude_shell", "update", options=(SHELLS, DRY_RUN)),
    _cmd("remove-claude", "remove the shell block, restoring your profile as it was", "remove-claude --dry-run",
         "claude_shell", "remove", options=(SHELLS, DRY_RUN)),
    _cmd("show-claude", "what is configured where, and what this shell has", "show-claude", "claude_shell",
         "show"),
    _cmd("toggle-claude", "switch Claude Code between the proxy and the Anthropic API", "toggle-claude direct",
         "claude_shell", "toggle", options=(Option("mode", "proxy or direct (default: the other one)",
                                                   choices=("proxy", "direct"), positional=True, optional=True),
                                            DRY_RUN)),
    _cmd("test-claude", "a real request through the proxy the way Claude Code makes it", "test-claude --no-cli",
         "claude_test", options=(MODEL, Option("--cli-model", "ANTHROPIC_MODEL for `claude -p`", value="MODEL"),
                                 Option("--no-cli", "skip the `claude -p` check"))),
    _cmd("install-service", "install the login service that keeps the proxy running", "install-service --dry-run",
         "service", "install", "proxy", options=(DRY_RUN,)),
    _cmd("uninstall-service", "remove the proxy's login service", "uninstall-service", "service", "uninstall",
         "proxy", options=(DRY_RUN,)),
    _cmd("service-status", "state of the proxy's login service", "service-status", "service", "status", "proxy"),
    _cmd("install-sso-refresh", "install the AWS SSO refresher (every 4 hours)", "install-sso-refresh",
         "service", "install", "sso-refresh", options=(DRY_RUN,)),
    _cmd("uninstall-sso-refresh", "remove the AWS SSO refresher", "uninstall-sso-refresh", "service",
         "uninstall", "sso-refresh", options=(DRY_RUN,)),
    _cmd("sso-refresh-status", "state of the AWS SSO refresher and the credentials' expiry", "sso-refresh-status",
         "service", "status", "sso-refresh"),
    _cmd("monitoring", "start Prometheus (47090) and Grafana (47300) with docker-compose", "monitoring",
         "monitoring", "up", options=(COMPOSE_DRY_RUN,)),
    _cmd("monitoring-down", "stop the monitoring stack", "monitoring-down", "monitoring", "down",
         options=(COMPOSE_DRY_RUN,)),
    _cmd("monitoring-clean", "stop the monitoring stack and drop its volumes", "monitoring-clean --yes",
         "monitoring", "clean", options=(COMPOSE_DRY_RUN, Option("--yes", "do not ask before dropping the volumes"))),
    _cmd("monitoring-native", "Prometheus without Docker (foreground) on 47090 (its own options: --help)",
         "monitoring-native", "monitoring", "native", passthrough=True),
    _cmd("clean", "remove logs and state (never .env, config.yaml or .venv)", "clean", "clean"),
    _cmd("demo", "see the fallback work on simulated upstreams (its own options: demo --help)", "demo", "demo",
         passthrough=True),
    _cmd("bench", "measure the proxy against the direct path (its own options: bench --help)",
         "bench --json --no-side", "bench", passthrough=True),
    _cmd("admin", "LiteLLM's admin CLI on the running proxy", "admin models list", "admin", passthrough=True),
    _cmd("statusline", "one line for Claude Code's status line (reads its JSON on stdin)",
         "statusline < session.json", "statusline"),
    Command("completion", "print the completion script of a shell", f"{PROG} completion zsh",
            options=(Option("shell", "bash, zsh or fish", choices=("bash", "zsh", "fish"), positional=True),)),
)

BY_NAME = {command.name: command for command in COMMANDS}


def _add_option(parser: argparse.ArgumentParser, option: Option) -> None:
    if option.positional:
        parser.add_argument(option.dest, nargs="?" if option.optional else None, help=option.help,
                            metavar=option.flag)
    elif option.value:
        parser.add_argument(option.flag, metavar=option.value, help=option.help)
    else:
        parser.add_argument(option.flag, action="store_true", help=option.help)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The Claude gateway (LiteLLM proxy, Anthropic first, Bedrock fallback) from any directory. "
                    "Each subcommand runs what its make target runs.",
        epilog="examples:\n" + "\n".join(f"  {c.example:<44} {c.help}" for c in COMMANDS))
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        cmd = sub.add_parser(command.name, help=command.help, description=command.help,
                             epilog=f"example: {command.example}", add_help=not command.passthrough)
        for option in command.options:
            _add_option(cmd, option)
    return top


def parse(argv: List[str]) -> Tuple[Command, argparse.Namespace, List[str]]:
    """(command, its flags, the entry point's arguments). A passthrough command's own options
    (argparse cannot take them as a remainder when they start with a dash) are the leftovers."""
    top = parser()
    args, rest = top.parse_known_args(argv)
    command = BY_NAME[args.command]
    if rest and not command.passthrough:
        top.error(f"unrecognized arguments: {' '.join(rest)} (see `{PROG} {command.name} --help`)")
    return command, args, forwarded(command, args) + rest


def forwarded(command: Command, args: argparse.Namespace) -> List[str]:
    """The entry point's arguments for the parsed flags: each flag as its own name."""
    out: List[str] = []
    for option in command.options:
        value = getattr(args, option.dest)
        if option.positional:
            out += [] if value is None else [value]
        elif option.value:
            out += [] if value is None else [option.flag, value]
        elif value:
            out.append(option.flag)
    return out
