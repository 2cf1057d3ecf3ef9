"""What the ChatGPT and Copilot simulators share of a device-code login: pending grants
the user approves by entering the code on the verification page, and signed tokens
with an expiry that can be revoked.

A real user opens the verification URL in a browser, signs in and types the code. The
simulators serve that page's form target on the same path as the real site (a POST with
`user_code`), which is what a test does in the user's place; `auto_approve` approves
every code on its first poll, for tests that are not about that step.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Dict, Optional

from aiohttp import web

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels, as the real services (no words)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def user_code() -> str:
    pick = [secrets.choice(USER_CODE_ALPHABET) for _ in range(8)]
    return "".join(pick[:4]) + "-" + "".join(pick[4:])


@dataclass
class Grant:
    device_code: str
    user_code: str
    expires: float
    approved: bool = False
    polls: int = 0
    issued: bool = False  # a grant yields its token once


@dataclass
class DeviceGrants:
    """Device codes handed out, by device code; approval by user code."""
    ttl: float = 900
    auto_approve: bool = False
    grants: Dict[str, Grant] = field(default_factory=dict)

    def new(self) -> Grant:
        grant = Grant(b64url(os.urandom(24)), user_code(), time.time() + self.ttl)
        self.grants[grant.device_code] = grant
        return grant

    def approve(self, code: str) -> bool:
        for grant in self.grants.values():
            if grant.user_code == code.strip().upper() and time.time() < grant.expires:
                grant.approved = True
                return True
        return False

    def poll(self, device_code: str) -> str:
        """'ok' (approved: issue the token now), 'pending', 'expired', 'used' or 'unknown'."""
        grant = self.grants.get(device_code)
        if grant is None:
            return "unknown"
        grant.polls += 1
        if time.time() >= grant.expires:
            return "expired"
        if grant.issued:
            return "used"
        if not (grant.approved or self.auto_approve):
            return "pending"
        grant.issued = True
        return "ok"


class TokenSigner:
    """HS256 JWTs: clients decode the claims (LiteLLM reads exp and account claims from
    them) but only the simulator can mint one, so a forged or edited token is refused."""

    def __init__(self) -> None:
        self.key = os.urandom(32)
        self.revoked_before = 0.0  # tokens issued before this instant are refused

    def mint(self, claims: dict, ttl: float) -> str:
        now = time.time()
        body = {"iat": now, "exp": int(now + ttl), "jti": b64url(os.urandom(9)), **claims}
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(body, separators=(",", ":")).encode())
        return f"{head}.{payload}.{self._sign(head + '.' + payload)}"

    def _sign(self, text: str) -> str:
        return b64url(hmac.new(self.key, text.encode(), hashlib.sha256).digest())

    def check(self, token: str) -> tuple:
        """(claims, None) for a valid token, else (None, 'invalid'|'expired'|'revoked')."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(self._sign(parts[0] + "." + parts[1]), parts[2]):
            return None, "invalid"
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if claims.get("iat", 0) < self.revoked_before:
            return None, "revoked"
        if time.time() >= claims.get("exp", 0):
            return None, "expired"
        return claims, None

    def revoke_all(self) -> None:
        # iat carries sub-second precision, so a token minted right after this still counts.
        self.revoked_before = time.time()


def pkce_pair() -> tuple:
    """(code_verifier, S256 code_challenge)."""
    verifier = b64url(os.urandom(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def bearer(headers, scheme: str = "bearer") -> Optional[str]:
    value = headers.get("authorization", "")
    prefix = scheme + " "
    return value[len(prefix):].strip() if value.lower().startswith(prefix) else None


class LoginControl:
    """POST /_sim/auth {<ttl_field>: seconds, "auto_approve": bool, "revoke": true}: the
    control both login simulators share; each says what revoking means for it."""
    ttl_field = "token_ttl"
    grants: DeviceGrants

    def revoke(self) -> None:
        raise NotImplementedError

    async def control(self, request: web.Request) -> web.Response:
        spec = await request.json()
        if self.ttl_field in spec:
            setattr(self, self.ttl_field, float(spec[self.ttl_field]))
        if "auto_approve" in spec:
            self.grants.auto_approve = bool(spec["auto_approve"])
        if spec.get("revoke"):
            self.revoke()
        return web.json_response({self.ttl_field: getattr(self, self.ttl_field),
                                  "auto_approve": self.grants.auto_approve})
