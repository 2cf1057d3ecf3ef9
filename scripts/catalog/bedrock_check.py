"""`make health`'s proof that the Bedrock fallback can work, without an inference call.

Three things must hold for LiteLLM to fall back to Bedrock: the AWS credentials of
the configured profile resolve (an expired SSO login is the usual failure), AWS_REGION
is a region, and Bedrock accepts requests signed with them. The last is shown by one
SigV4-signed control-plane call, ListFoundationModels (free, no tokens), through the
same boto3 chain and endpoint overrides `make update-models` uses (discovery.py).
One attempt with short timeouts keeps the whole check near a second.
"""
import datetime as dt
import time
from dataclasses import dataclass
from typing import Optional

from scripts.catalog.discovery import SideFailure, aws_environment, bedrock_failure
from scripts.core import envcheck
from scripts.core.settings import Settings

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.5
SSO_FIX = "run `make start` (it signs in with AWS SSO), then `make health`"


@dataclass(frozen=True)
class BedrockCheck:
    credentials: str        # where they came from, and when they expire
    region: str
    endpoint: str           # the control plane that answered
    models: int             # Anthropic models the region lists
    call_ms: float          # the signed call
    total_s: float          # the whole check, boto3's import included


def _expiry(credentials, now: Optional[dt.datetime] = None) -> str:
    # botocore keeps the expiry of refreshable credentials (SSO, assume-role,
    # credential_process) in a private attribute; static keys have none.
    expiry = getattr(credentials, "_expiry_time", None)
    if not expiry:
        return "no expiry"
    left = expiry - (now or dt.datetime.now(dt.timezone.utc))
    minutes = int(left.total_seconds() // 60)
    if minutes < 0:
        return f"expired at {expiry:%Y-%m-%d %H:%M} UTC"
    return f"expire in {minutes // 60}h{minutes % 60:02d}m ({expiry:%Y-%m-%d %H:%M} UTC)"


def _region(settings: Settings) -> str:
    region = settings.get("AWS_REGION")
    if not region:
        raise SideFailure("Bedrock: AWS_REGION is not set in .env: the fallback cannot work without it; "
                          "set it, e.g. AWS_REGION=us-west-2")
    problem = envcheck.problem("AWS_REGION", region, settings.where("AWS_REGION"))
    if problem:
        raise SideFailure(f"Bedrock: {problem}")
    return region


def check(settings: Settings) -> BedrockCheck:
    """Raises SideFailure (a ToolkitError naming the fix) when the fallback cannot work."""
    started = time.monotonic()
    region = _region(settings)
    profile = settings.get("AWS_PROFILE")
    who = f"AWS profile {profile}" if profile else "the default AWS credential chain"
    with aws_environment(settings):
        import boto3  # imported here: slow to import, and only this check and discovery need it
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            session = boto3.Session()
            credentials = session.get_credentials()
            if credentials is None:
                raise SideFailure(f"Bedrock: no AWS credentials found for {who}: set AWS_PROFILE in .env "
                                  "(`aws configure sso`), then `make start`")
            credentials.get_frozen_credentials()  # resolves deferred (SSO) credentials now
            client = session.client("bedrock", region_name=region, config=Config(
                retries={"total_max_attempts": 1}, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT))
            call_started = time.monotonic()
            models = client.list_foundation_models(byProvider="anthropic")["modelSummaries"]
        except (BotoCoreError, ClientError) as exc:
            raise bedrock_failure(exc, "ListFoundationModels", region, SSO_FIX) from None
    call_ms = (time.monotonic() - call_started) * 1000
    described = f"{who} ({credentials.method}), {_expiry(credentials)}"
    return BedrockCheck(described, region, client.meta.endpoint_url, len(models), call_ms,
                        time.monotonic() - started)
