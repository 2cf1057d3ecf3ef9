"""What the token files of a device login say, read without LiteLLM (status must stay fast).

The files are LiteLLM's, in the directories core.settings.login_token_dirs() gives it:
- chatgpt/auth.json: access_token (a JWT whose exp LiteLLM also copies to expires_at),
  refresh_token, id_token (email, plan), account_id. LiteLLM refreshes the access token
  with the refresh token 60 s before it expires, on the next ChatGPT request.
- github_copilot/access-token: the GitHub OAuth token (no expiry: valid until revoked);
  github_copilot/api-key.json: the short-lived Copilot token ({token, expires_at, ...}),
  which LiteLLM renews from the GitHub token when it has expired.
- refused.json (scripts/in_proxy/login_watch.py): the proxy's last request with this login
  was refused (401/403) and none has succeeded since: expired or revoked.
"""
import base64
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.services.sso_profile import describe_remaining

CHATGPT, COPILOT = "chatgpt", "github_copilot"
LABELS = {CHATGPT: "ChatGPT", COPILOT: "Copilot"}
LOGIN_TARGETS = {CHATGPT: "make login-chatgpt", COPILOT: "make login-copilot"}
TOKEN_FILES = {CHATGPT: ("auth.json",), COPILOT: ("access-token", "api-key.json")}
OPENAI_AUTH_CLAIM = "https://api.openai.com/auth"
REFRESH_SKEW = 60  # LiteLLM refreshes a ChatGPT access token this many seconds before its exp


@dataclass(frozen=True)
class Login:
    provider: str
    state: str  # "none", "valid", "refreshable" (expired, the proxy renews it), "expired", "refused"
    text: str

    @property
    def usable(self) -> bool:
        return self.state in ("valid", "refreshable")


def jwt_claims(token: Optional[str]) -> dict:
    """The claims of a JWT, unverified (only the issuer can verify them; we only read the expiry)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (AttributeError, IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _read_json(path: Path) -> Optional[dict]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _when(timestamp: Optional[float]) -> str:
    if not isinstance(timestamp, (int, float)):
        return "expiry unknown"
    return describe_remaining(dt.datetime.fromtimestamp(timestamp, dt.timezone.utc))


def chatgpt_login() -> Login:
    path = paths.token_dir(CHATGPT) / "auth.json"
    data = _read_json(path)
    if not data or not data.get("access_token"):
        return Login(CHATGPT, "none", f"not logged in: `{LOGIN_TARGETS[CHATGPT]}`")
    identity = jwt_claims(data.get("id_token"))
    plan = (identity.get(OPENAI_AUTH_CLAIM) or {}).get("chatgpt_plan_type")
    who = f"{identity.get('email') or data.get('account_id') or 'account unknown'}" + (f" ({plan})" if plan else "")
    expires = data.get("expires_at") or jwt_claims(data["access_token"]).get("exp")
    text = f"device login, {who}, access token {_when(expires)}"
    if isinstance(expires, (int, float)) and time.time() < expires - REFRESH_SKEW:
        return Login(CHATGPT, "valid", text + "; the proxy refreshes it")
    if data.get("refresh_token"):
        return Login(CHATGPT, "refreshable", text + "; the proxy refreshes it on the next request")
    return Login(CHATGPT, "expired", f"EXPIRED: {text}, no refresh token: `{LOGIN_TARGETS[CHATGPT]}`")


def copilot_login() -> Login:
    folder = paths.token_dir(COPILOT)
    try:
        github = (folder / "access-token").read_text().strip()
    except OSError:
        github = ""
    if not github:
        return Login(COPILOT, "none", f"not logged in: `{LOGIN_TARGETS[COPILOT]}`")
    text = f"device login, GitHub token {settings_mod.mask(github)} (valid until revoked)"
    key = _read_json(folder / "api-key.json") or {}
    expires = key.get("expires_at")
    if isinstance(expires, (int, float)) and time.time() < expires:
        sku = f", {key['sku']}" if key.get("sku") else ""
        return Login(COPILOT, "valid", f"{text}, Copilot token {_when(expires)}{sku}; the proxy renews it")
    return Login(COPILOT, "refreshable", f"{text}; the proxy fetches a Copilot token on the next request")


def refusal(provider: str) -> Optional[dict]:
    """The proxy's record of a refused login, if it is newer than the login's files."""
    folder = paths.token_dir(provider)
    record = _read_json(folder / "refused.json")
    if not record or not isinstance(record.get("at"), (int, float)):
        return None
    try:
        login_time = max((folder / name).stat().st_mtime for name in TOKEN_FILES[provider][:1])
    except OSError:
        return None
    return record if record["at"] >= login_time else None


def current(provider: str) -> Login:
    login = chatgpt_login() if provider == CHATGPT else copilot_login()
    refused = refusal(provider) if login.state != "none" else None
    if refused is None:
        return login
    at = dt.datetime.fromtimestamp(refused["at"]).strftime("%Y-%m-%d %H:%M")
    return Login(provider, "refused", f"REFUSED: the proxy could not use this login at {at} (HTTP "
                                      f"{refused.get('status')}: expired or revoked): `{LOGIN_TARGETS[provider]}`")
