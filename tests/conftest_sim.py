"""Helpers for tests that drive the upstream simulators (imported explicitly, not a conftest).

The simulators run in-process on a background event loop (SimulatorThread); the
Bedrock side verifies SigV4 signatures for real with the credentials below.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `scripts` without install

from scripts.sim.faults import SimControl  # noqa: E402
from scripts.sim.server import SimulatorThread  # noqa: E402

ACCESS_KEY = "AKIASIMULATOR0000001"
SECRET_KEY = "simulated/secret/key/0123456789abcdefghij"
API_KEY = "sk-ant-api03-sim-test-key"
OAUTH_TOKEN = "sk-ant-oat01-sim-test-token"
MODEL = "claude-haiku-4-5-20251001"
US_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
# How the pinned Claude Code CLI opens its system prompt (tests/test_claude_code_signature.py
# records it): the simulator answers a subscription token only for requests that open so.
CLAUDE_CODE_SYSTEM = [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;"},
                      {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK."}]
INVOKE_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200,
               "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def sims():
    with SimulatorThread(bedrock_access_key=ACCESS_KEY, bedrock_secret_key=SECRET_KEY,
                         bedrock_profile_prefixes="ap-southeast-2=global") as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sims):
    """Every test starts with no faults and an empty request log."""
    SimControl(sims.anthropic_url).reset()
    SimControl(sims.bedrock_url).reset()


@pytest.fixture
def actl(sims) -> SimControl:
    return SimControl(sims.anthropic_url)


@pytest.fixture
def bctl(sims) -> SimControl:
    return SimControl(sims.bedrock_url)


@pytest.fixture
def claude(sims):
    import anthropic
    return anthropic.Anthropic(api_key=API_KEY, base_url=sims.anthropic_url, max_retries=0)


def boto(sims, service: str = "bedrock-runtime", region: str = "us-east-1", **creds):
    """A boto3 client aimed at the simulator; no retries so faults surface at once."""
    import boto3
    from botocore.config import Config
    creds = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY, **creds}
    return boto3.client(service, region_name=region, endpoint_url=sims.bedrock_url,
                        config=Config(retries={"total_max_attempts": 1}), **creds)


def signed_post(url: str, body: bytes, region: str = "us-east-1", secret: str = SECRET_KEY,
                headers: dict = None, when: datetime = None):
    """POST signed with botocore's SigV4 (as boto3/LiteLLM do), returning the raw requests.Response."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="POST", url=url, data=body,
                     headers={"content-type": "application/json", **(headers or {})})
    signer = SigV4Auth(Credentials(ACCESS_KEY, secret), "bedrock", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when or now_utc()):
        signer.add_auth(req)  # `when`: sign as of another time (clock-skew tests)
    return requests.post(url, data=body, headers=dict(req.headers.items()), stream=True, timeout=10)


def sse_events(raw: bytes) -> list:
    """(event name, data dict) pairs of an SSE body, checking each event has both lines."""
    out = []
    for chunk in raw.decode().split("\n\n"):
        if not chunk.strip():
            continue
        lines = dict(line.split(": ", 1) for line in chunk.split("\n"))
        assert set(lines) == {"event", "data"}, chunk
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # botocore works in naive UTC
