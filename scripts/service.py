"""Install, remove and inspect the login services of the proxy and the AWS SSO refresher.

The proxy service starts it at login and restarts it when it fails; the SSO
refresher runs every 4 hours and shortly after login.

    python -m scripts.service install proxy           make install-service
    python -m scripts.service install sso-refresh --dry-run
    python -m scripts.service status sso-refresh      make sso-refresh-status

The work is in scripts/services/: render.py renders the files, installer.py
writes and removes them, control.py runs the service manager, state.py reads it.
"""
import argparse
from typing import List

from scripts.core.errors import entry_point
from scripts.services import platform as platform_info
from scripts.services import render as service_render
from scripts.services.installer import install, uninstall
from scripts.services.state import status


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.service", description=__doc__.splitlines()[0],
                                     epilog="example: python -m scripts.service install proxy --dry-run")
    parser.add_argument("action", choices=("install", "uninstall", "status"))
    parser.add_argument("service", choices=service_render.SERVICES)
    parser.add_argument("--dry-run", action="store_true", help="print what would be written and run; change nothing")
    args = parser.parse_args(argv)
    platform = platform_info.current()
    if args.action == "install":
        return install(args.service, platform, args.dry_run)
    if args.action == "uninstall":
        return uninstall(args.service, platform, args.dry_run)
    return status(args.service, platform)


main = entry_point(__name__, _body)
