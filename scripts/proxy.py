"""Proxy lifecycle: up, down, restart, run (foreground), logs.

`up` without an installed service starts a detached LiteLLM process, records
its pid in the state directory and waits until it answers; `down` stops
exactly the process `up` recorded, nothing else. Once the login service is
installed (make install-service), the same commands go through it.

Installed services run `python -m scripts.proxy run`: keep this module path.
"""
import argparse
import os
from typing import List

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.gateway import config_check, handover, process
from scripts.services.managed import installed_proxy_service


def up(_args: argparse.Namespace) -> int:
    cfg = process.preflight()
    if (managed := installed_proxy_service()):
        return managed.up(cfg)
    with process.start_lock():
        return process.start(cfg)


def down(_args: argparse.Namespace) -> int:
    if (managed := installed_proxy_service()):
        return managed.down()
    return process.stop()


def _check_before_stopping(cfg: settings_mod.Settings) -> None:
    """LiteLLM must accept config.yaml before the working proxy is stopped for it."""
    config = paths.config_file()
    print(f">> loading {config} the way LiteLLM will, before stopping the running proxy ...", flush=True)
    said = config_check.complaint(process.write_proxy_config(cfg), settings_mod.proxy_environment(cfg))
    if said:
        said = process.hide_secrets(said, cfg.secrets)
        raise ToolkitError(f"LiteLLM rejects {config}: {said}; the running proxy was left as it was: "
                           "fix config.yaml, then `make restart`")


def restart(_args: argparse.Namespace) -> int:
    cfg = process.preflight()  # a broken .env or config must not leave the user with no proxy at all
    managed = installed_proxy_service()
    if managed:
        _check_before_stopping(cfg)
        return managed.restart(cfg)
    # Without a service, the new proxy starts beside the running one, which stops only
    # once the new one listens: the new proxy's own start is the check (gateway/handover.py).
    with process.start_lock():
        return handover.restart(cfg)


def run(_args: argparse.Namespace) -> int:
    """Foreground: replace this process with LiteLLM (services use this too)."""
    process.rotate_service_log()
    process.exec_foreground(process.preflight())
    return 1  # not reached


def logs(_args: argparse.Namespace) -> int:
    if (managed := installed_proxy_service()):
        return managed.logs()
    log = paths.proxy_log()
    if not log.exists():
        raise ToolkitError(f"no log at {log} yet: start the proxy with `make up`")
    os.execvp("tail", ["tail", "-n", "100", "-F", str(log)])
    return 1  # not reached


COMMANDS = {"up": up, "down": down, "restart": restart, "run": run, "logs": logs}


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.proxy", description=__doc__.splitlines()[0],
                                     epilog="example: python -m scripts.proxy up")
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args)


main = entry_point(__name__, _body)
