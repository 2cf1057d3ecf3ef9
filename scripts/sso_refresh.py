"""Keep the AWS SSO login behind AWS_PROFILE fresh, so the Bedrock fallback works.

    python -m scripts.sso_refresh                     the timer's job (make install-sso-refresh)
    python -m scripts.sso_refresh --login-if-needed   what `make start` runs before `make up`

The cached SSO login (~/.aws/sso/cache) is checked first. Valid for at least
an hour: the timer refreshes it quietly (`aws-sso-util login`, which never
opens a browser while the login is valid) and `--login-if-needed` leaves it
alone. Expiring within the hour or expired: `aws-sso-util login` starts the
browser login (on a machine without a display it prints the URL and code
instead). Then boto3 fetches the role credentials the proxy will use, proving
they work, and reports when they expire. Each run is logged to
logs/sso-refresh.log (rotated).

With --login-if-needed, an unset AWS_PROFILE or a profile without SSO (static
keys) is reported and exits 0, so `make start` still starts the proxy; so does
AWS being unreachable (the Anthropic primary does not need it).

Exit codes (what `systemctl --user status` / launchd report for the timer):
  0  the login and the role credentials are valid
  1  .env unreadable or another error named on stderr
  2  not configured: AWS_PROFILE unset, profile not found, or not an SSO profile
  3  aws-sso-util not found (run `make install`)
  4  a login was needed and did not succeed
  5  AWS SSO could not be reached (network down)
"""
import argparse
import datetime as dt
import logging
import logging.handlers
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.services import platform as platform_info
from scripts.services import sso_profile

EXIT_NOT_CONFIGURED, EXIT_NO_TOOL, EXIT_LOGIN_FAILED, EXIT_NETWORK = 2, 3, 4, 5
MIN_VALIDITY = dt.timedelta(hours=1)
LOG_BYTES, LOG_BACKUPS = 512 * 1024, 3

log = logging.getLogger("claude-gateway.sso-refresh")


def log_file() -> Path:
    return paths.log_dir() / "sso-refresh.log"


def _setup_logging() -> None:
    log.setLevel(logging.INFO)
    log.handlers.clear()
    log.propagate = False
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter(">> %(message)s"))
    console.addFilter(lambda record: record.levelno < logging.ERROR)  # errors: one line on stderr
    log.addHandler(console)
    try:
        log_file().parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_file(), maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS)
    except OSError as exc:
        print(f"warning: cannot write {log_file()} ({exc}): logging to the terminal only", file=sys.stderr)
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)


def aws_sso_util() -> Path:
    return paths.aws_sso_util()


def run_aws_sso_util(args: List[str]) -> int:
    """The one place aws-sso-util runs (GATEWAY_AWS_SSO_UTIL replaces it in tests).
    Its output goes straight to the user: that is where the URL and code appear."""
    tool = aws_sso_util()
    if not os.access(tool, os.X_OK):
        raise ToolkitError(f"aws-sso-util not found at {tool}: run `make install`", exit_code=EXIT_NO_TOOL)
    log.info("running aws-sso-util %s", " ".join(args))
    sys.stdout.flush()
    return subprocess.run([str(tool), *args], stdin=sys.stdin if sys.stdin.isatty() else subprocess.DEVNULL).returncode


def _login(profile: sso_profile.SsoProfile, force: bool) -> None:
    if profile.session_name:
        raise ToolkitError(f"profile {profile.name!r} uses [sso-session {profile.session_name}], "
                           f"which aws-sso-util cannot log in to: run `aws sso login --profile {profile.name}`",
                           exit_code=EXIT_LOGIN_FAILED)
    args = ["login", "--profile", profile.name]
    if force:
        args.append("--force-refresh")  # a fresh login now rather than a lapse mid-session
    if not platform_info.has_browser():
        args.append("--headless")
    code = run_aws_sso_util(args)
    if code != 0:
        raise ToolkitError(f"aws-sso-util login failed (exit {code}) for profile {profile.name!r}: "
                           f"see its message above, then run `make start` again", exit_code=EXIT_LOGIN_FAILED)


def _role_credentials_expiry(profile: sso_profile.SsoProfile) -> Optional[dt.datetime]:
    """Fetch the role credentials with boto3, as the proxy will; their expiry if known."""
    import boto3  # slow to import: only here
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError, SSOError, TokenRetrievalError

    core = botocore.session.Session(profile=profile.name)
    # Fail within seconds when AWS is unreachable, instead of minutes of retries.
    core.set_default_client_config(Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2}))
    session = boto3.Session(botocore_session=core)
    try:
        credentials = session.get_credentials()
        if credentials is None:
            raise ToolkitError(f"boto3 found no credentials for profile {profile.name!r}: "
                               f"run `aws configure sso --profile {profile.name}`", exit_code=EXIT_LOGIN_FAILED)
        credentials.get_frozen_credentials()
    except (BotoConnectionError, HTTPClientError) as exc:
        raise Unreachable(exc.__class__.__name__) from None
    except (SSOError, TokenRetrievalError) as exc:
        raise _Unauthorized(str(exc)) from None
    # RefreshableCredentials keeps its expiry in a private field; no public accessor exists.
    return getattr(credentials, "_expiry_time", None)


class Unreachable(ToolkitError):
    """AWS SSO did not answer (the network); cause names the botocore error."""

    def __init__(self, cause: str):
        super().__init__(f"cannot reach AWS SSO ({cause}): check the network, then run `make start` again",
                         exit_code=EXIT_NETWORK)
        self.cause = cause


class _Unauthorized(Exception):
    """AWS rejected the cached login (revoked or expired early)."""


def refresh(login_if_needed: bool) -> int:
    cfg = settings_mod.load(validate=False)
    name = cfg.get("AWS_PROFILE")
    try:
        if not name:
            raise sso_profile.NotSsoProfile("AWS_PROFILE is not set in .env", "set it to your AWS SSO profile, "
                                            "or `make uninstall-sso-refresh` when Bedrock uses static keys")
        profile = sso_profile.find(name)
    except sso_profile.NotSsoProfile as exc:
        if not login_if_needed:
            raise ToolkitError(str(exc), exit_code=EXIT_NOT_CONFIGURED) from None
        log.info("no AWS SSO login to do: %s", "AWS_PROFILE is not set (Bedrock uses the standard AWS "
                 "credential chain)" if not name else f"profile {name!r} does not use AWS SSO")
        return 0
    except sso_profile.ProfileNotFound as exc:
        raise ToolkitError(str(exc), exit_code=EXIT_NOT_CONFIGURED) from None

    expiry = profile.token_expiry()
    state = _state(expiry)
    log.info("profile %s: SSO login %s", name, sso_profile.describe_remaining(expiry))
    logged_in = False
    if state != "valid":
        log.info("logging in (%s)", state)
        _login(profile, force=state == "nearly expired")
        logged_in = True
    elif not login_if_needed and not profile.session_name:
        if run_aws_sso_util(["login", "--profile", name, "--headless"]) != 0:
            log.warning("aws-sso-util could not refresh the login; it stays valid until it expires")
    try:
        expiry_creds = _checked_credentials(profile, logged_in)
    except Unreachable as exc:
        if login_if_needed:
            log.warning("AWS SSO is unreachable, so the Bedrock fallback will fail until it is back; "
                        "starting the proxy anyway (cannot reach AWS SSO: %s)", exc.cause)
            return 0
        raise
    new_expiry = profile.token_expiry()
    creds = sso_profile.describe_remaining(expiry_creds) if expiry_creds else "valid (expiry not reported)"
    log.info("profile %s: SSO login %s; role credentials %s", name, sso_profile.describe_remaining(new_expiry), creds)
    return 0


def _checked_credentials(profile: sso_profile.SsoProfile, logged_in: bool) -> Optional[dt.datetime]:
    try:
        return _role_credentials_expiry(profile)
    except _Unauthorized as exc:
        if logged_in:
            raise ToolkitError(f"AWS still rejects the SSO login of {profile.name!r} after "
                               f"logging in ({exc}): check the profile's account and role",
                               exit_code=EXIT_LOGIN_FAILED) from None
        log.info("AWS rejected the cached login (%s): logging in", exc)
        _login(profile, force=True)
    try:
        return _role_credentials_expiry(profile)
    except _Unauthorized as exc:
        raise ToolkitError(f"AWS rejects the SSO login of {profile.name!r} ({exc}): "
                           "check the profile's account and role", exit_code=EXIT_LOGIN_FAILED) from None


def _state(expiry: Optional[dt.datetime]) -> str:
    if expiry is None:
        return "no login cached"
    left = expiry - dt.datetime.now(dt.timezone.utc)
    if left <= dt.timedelta(0):
        return "expired"
    return "nearly expired" if left < MIN_VALIDITY else "valid"


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.sso_refresh", description=__doc__.splitlines()[0],
                                     epilog="example: python -m scripts.sso_refresh --login-if-needed")
    parser.add_argument("--login-if-needed", action="store_true",
                        help="log in only when the login is missing or ends within the hour; no SSO: exit 0")
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        return refresh(args.login_if_needed)
    except ToolkitError as exc:
        log.error("%s", exc)  # the file log; the terminal gets run_main's one line, and exc.exit_code
        raise


main = entry_point(__name__, _body)
