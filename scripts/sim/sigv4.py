"""AWS request authentication as Bedrock's front door does it, for the Bedrock simulator.

- No Authorization header: 403 MissingAuthenticationTokenException.
- Malformed SigV4 header / missing X-Amz-Date: 403 IncompleteSignatureException.
- Wrong service, scope date or a clock skew over 5 minutes: 403 InvalidSignatureException.
- X-Amz-Security-Token in the configured "expired" set: 403 ExpiredTokenException.
- With configured credentials: unknown access key -> 403 UnrecognizedClientException,
  and the signature is recomputed with botocore's own SigV4Auth over the request as
  received (method, raw path, query, the SignedHeaders, body, its X-Amz-Date), so
  anything signed by botocore (boto3, LiteLLM) verifies and any tampering does not.
- `Authorization: Bearer` is a Bedrock API key (ABSK... or bedrock-api-key-...).

It records on request[REC]: auth_kind, access_key_id, region, the header names seen
and which of them (if any) carried an Anthropic credential. Secret values are never stored.
"""
from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta, timezone
from typing import Optional

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scripts.sim.faults import REC

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,"
                     r"\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})\s*$")
MAX_SKEW = timedelta(minutes=5)
DEFAULT_REGION = "us-east-1"  # for requests whose region cannot be read (bearer keys, failures)
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation "
            "for details.")


def anthropic_credential_headers(headers, body: bytes) -> list:
    """Names of headers (and "<body>") that carry an Anthropic credential: a leak to AWS."""
    leaks = sorted({name.lower() for name, value in headers.items()
                    if name.lower() == "x-api-key" or "sk-ant-" in value})
    return leaks + (["<body>"] if b"sk-ant-" in body else [])


class SigV4Checker:
    def __init__(self, credentials: Optional[tuple] = None, expired_tokens: set = frozenset()):
        self.credentials = credentials  # (access_key, secret_key) or None = accept any signature
        self.expired_tokens = expired_tokens

    def check(self, request, body: bytes) -> Optional[tuple]:
        """None if authenticated, else (status, error code, message) for aws_error()."""
        rec, headers = request[REC], request.headers
        leaks = anthropic_credential_headers(headers, body)
        rec.update(headers=sorted({h.lower() for h in headers}), anthropic_credential_headers=leaks,
                   anthropic_credential_leak=bool(leaks), region=DEFAULT_REGION, access_key_id=None)
        auth = headers.get("Authorization")
        if not auth:
            return 403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        if auth.startswith("Bearer "):
            return self._bearer(rec, auth[7:].strip())
        m = AUTH_RE.match(auth)
        if not m:
            return 403, "IncompleteSignatureException", (
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                f"parameters of the AWS4-HMAC-SHA256 scheme. Authorization={auth.split(' ', 1)[0]}")
        akid, scope_date, region, service, signed, signature = m.groups()
        rec.update(auth_kind="sigv4", access_key_id=akid, region=region)
        return (self._scope_problem(headers.get("X-Amz-Date"), scope_date, service)
                or self._token_problem(headers.get("X-Amz-Security-Token"), akid)
                or self._signature_problem(request, body, region, signed, signature))

    def _bearer(self, rec: dict, token: str) -> Optional[tuple]:
        rec["auth_kind"] = "bearer"
        if token.startswith(("ABSK", "bedrock-api-key-")):
            rec["auth_kind"] = "bedrock_api_key"
            return None
        return 403, "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix"

    @staticmethod
    def _scope_problem(amz_date: Optional[str], scope_date: str, service: str) -> Optional[tuple]:
        if not amz_date:
            return 403, "IncompleteSignatureException", (
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if service != "bedrock":
            return 403, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'."
        if amz_date[:8] != scope_date:
            return 403, "InvalidSignatureException", (
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                f"HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return 403, "IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
        now = datetime.now(timezone.utc)
        if abs(now - when) > MAX_SKEW:
            return 403, "InvalidSignatureException", (
                f"Signature expired: {amz_date} is now earlier than "
                f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} ({now.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)")
        return None

    def _token_problem(self, token: Optional[str], akid: str) -> Optional[tuple]:
        if token is not None and token in self.expired_tokens:
            return 403, "ExpiredTokenException", "The security token included in the request is expired"
        if self.credentials and akid != self.credentials[0]:
            return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
        return None

    def _signature_problem(self, request, body: bytes, region: str, signed: str,
                           signature: str) -> Optional[tuple]:
        if not self.credentials:
            return None
        expected = expected_signature(request, body, region, signed, self.credentials)
        return None if hmac.compare_digest(expected, signature) else (403, "InvalidSignatureException", MISMATCH)


def expected_signature(request, body: bytes, region: str, signed: str, credentials: tuple) -> str:
    """Recompute the SigV4 signature with botocore from the request as received.

    Only the SignedHeaders go into the rebuilt request (botocore would otherwise sign
    every header present); the raw (still percent-encoded) path is used because that
    is what the client signed, and botocore re-encodes it the same way it did there.
    """
    headers = {name: ",".join(request.headers.getall(name)) for name in signed.split(";")
               if name in request.headers}
    url = f"{request.scheme}://{request.host}{request.raw_path}"
    aws_request = AWSRequest(method=request.method, url=url, data=body, headers=headers)
    aws_request.context["timestamp"] = request.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(credentials[0], credentials[1]), "bedrock", region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
