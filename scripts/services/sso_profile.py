"""The AWS profile behind AWS_PROFILE and its SSO login, read without boto3,
so `make status` stays fast.

The files are the ones every AWS SDK reads: AWS_CONFIG_FILE (~/.aws/config),
AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), and the SSO token cache
~/.aws/sso/cache/<sha1>.json that `aws-sso-util login` and `aws sso login`
write. botocore names the cache file after the sso-session name, or after the
start URL for a profile that has sso_start_url itself.
"""
import configparser
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from scripts.core.errors import ToolkitError


class ProfileNotFound(ToolkitError):
    pass


class NotSsoProfile(ToolkitError):
    """reason: why there is no SSO login to refresh (the message adds the fix)."""

    def __init__(self, reason: str, fix: str):
        super().__init__(f"{reason}: {fix}")
        self.reason = reason


def config_file() -> Path:
    return Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def credentials_file() -> Path:
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials").expanduser()


def token_cache_dir() -> Path:
    return Path.home() / ".aws" / "sso" / "cache"


@dataclass(frozen=True)
class SsoProfile:
    name: str
    start_url: str
    region: str
    session_name: Optional[str] = None  # the [sso-session NAME] it uses, if any

    @property
    def token_file(self) -> Path:
        key = self.session_name if self.session_name else self.start_url
        return token_cache_dir() / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".json")

    def token_expiry(self) -> Optional[dt.datetime]:
        """When the cached SSO login ends (UTC), or None when there is none."""
        try:
            token = json.loads(self.token_file.read_text(encoding="utf-8"))
            return parse_time(token["expiresAt"]) if token.get("accessToken") else None
        except (OSError, ValueError, KeyError, TypeError):
            return None


def parse_time(text: str) -> dt.datetime:
    """The timestamps AWS tools write: ...Z, ...UTC or an ISO offset."""
    text = text.strip().replace("UTC", "+00:00").replace("Z", "+00:00")
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ToolkitError(f"{path} is not a valid AWS config file ({exc.__class__.__name__}): fix it, "
                           "or run `aws configure sso` again") from None
    return parser


def _section(parser: configparser.RawConfigParser, name: str) -> Optional[dict]:
    for section in ((f"profile {name}", "default") if name == "default" else (f"profile {name}",)):
        if parser.has_section(section):
            return dict(parser.items(section))
    return None


def find(name: str) -> SsoProfile:
    """The SSO profile `name`; ProfileNotFound or NotSsoProfile name the fix."""
    config = _read(config_file())
    profile = _section(config, name)
    static = _read(credentials_file())
    if profile is None and not static.has_section(name):
        raise ProfileNotFound(f"AWS profile {name!r} (AWS_PROFILE in .env) is not in {config_file()}: "
                              f"run `aws configure sso --profile {name}` or fix AWS_PROFILE")
    profile = profile or {}
    session_name = profile.get("sso_session")
    if session_name:
        section = f"sso-session {session_name}"
        if not config.has_section(section):
            raise ToolkitError(f"AWS profile {name!r} uses sso_session {session_name!r}, but {config_file()} "
                               f"has no [{section}] section: run `aws configure sso --profile {name}`")
        session = dict(config.items(section))
        start_url, region = session.get("sso_start_url"), session.get("sso_region")
    else:
        start_url, region = profile.get("sso_start_url"), profile.get("sso_region")
    if not start_url:
        kind = "static keys" if "aws_access_key_id" in profile or static.has_section(name) else "no SSO settings"
        raise NotSsoProfile(f"AWS profile {name!r} is not an AWS SSO profile ({kind})",
                            f"nothing to refresh; `aws configure sso --profile {name}` makes it one")
    if not region:
        raise ToolkitError(f"AWS profile {name!r} has no sso_region: run `aws configure sso --profile {name}`")
    return SsoProfile(name, start_url, region, session_name)


def describe_remaining(expiry: Optional[dt.datetime], now: Optional[dt.datetime] = None) -> str:
    """'valid until 14:05 (3h12m left)' / 'expired 2h ago' / 'no login'."""
    if expiry is None:
        return "no SSO login cached"
    now = now or dt.datetime.now(dt.timezone.utc)
    seconds = int((expiry - now).total_seconds())
    local = expiry.astimezone().strftime("%Y-%m-%d %H:%M")
    if seconds <= 0:
        return f"expired at {local} ({_span(-seconds)} ago)"
    return f"valid until {local} ({_span(seconds)} left)"


def _span(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    if hours >= 48:
        return f"{hours // 24}d"
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"
