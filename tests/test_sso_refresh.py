"""scripts.sso_refresh against a temp AWS config and SSO token cache, with
aws-sso-util replaced at its one call site (GATEWAY_AWS_SSO_UTIL) by a stand-in
that records its arguments and, like a real login, writes a fresh token. The
AWS SSO portal (GetRoleCredentials), which boto3 calls for the role
credentials, is simulated on loopback through AWS_ENDPOINT_URL_SSO."""
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import PROJECT_DIR

from scripts.core.procs import free_port

START_URL = "https://example.awsapps.com/start"
STAND_IN = textwrap.dedent("""\
    #!/bin/sh
    echo "$*" >> "$STANDIN_RECORD"
    if [ -n "$STANDIN_NEW_TOKEN" ]; then printf '%s' "$STANDIN_NEW_TOKEN" > "$STANDIN_TOKEN_FILE"; fi
    exit "${STANDIN_EXIT:-0}"
""")


class Portal(BaseHTTPRequestHandler):
    """GET /federation/credentials as AWS SSO answers it; accepts the tokens in `valid`."""
    valid: set = set()
    seen: list = []

    def do_GET(self):
        token = self.headers.get("x-amz-sso_bearer_token")
        type(self).seen.append(token)
        if token in type(self).valid:
            expiry = int((dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).timestamp() * 1000)
            status, body, headers = 200, {"roleCredentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s",
                                                               "sessionToken": "t", "expiration": expiry}}, {}
        else:
            status, body = 401, {"message": "Session token not found or invalid"}
            headers = {"x-amzn-ErrorType": "UnauthorizedException"}
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def portal():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def token_json(token: str, hours: float) -> str:
    expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=hours)
    return json.dumps({"startUrl": START_URL, "region": "us-east-1", "accessToken": token,
                       "expiresAt": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")})


class Aws:
    """A temp ~/.aws, the stand-in aws-sso-util and the environment to run the script in."""

    def __init__(self, root, portal_url, monkeypatch, env_file):
        self.root, self.env_file = root, env_file
        self.config, self.credentials = root / "aws-config", root / "aws-credentials"
        self.cache = root / "home" / ".aws" / "sso" / "cache"
        self.cache.mkdir(parents=True)
        self.record = root / "aws-sso-util.calls"
        tool = root / "aws-sso-util"
        tool.write_text(STAND_IN)
        tool.chmod(0o755)
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE",
                    "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "GATEWAY_PLATFORM"):
            monkeypatch.delenv(var, raising=False)
        self.env = {"AWS_CONFIG_FILE": str(self.config), "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
                    "AWS_ENDPOINT_URL_SSO": portal_url, "AWS_EC2_METADATA_DISABLED": "true",
                    "GATEWAY_AWS_SSO_UTIL": str(tool), "STANDIN_RECORD": str(self.record),
                    "STANDIN_TOKEN_FILE": str(self.token_file(START_URL))}
        self.config.write_text("[profile dev]\nsso_start_url = %s\nsso_region = us-east-1\nsso_account_id = "
                               "111122223333\nsso_role_name = Bedrock\nregion = us-west-2\n" % START_URL)
        self.credentials.write_text("[static]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n")
        Portal.valid, Portal.seen = {"token-old", "token-new"}, []

    def token_file(self, key: str):
        return self.cache / (hashlib.sha1(key.encode()).hexdigest() + ".json")

    def cache_token(self, hours: float, token: str = "token-old", key: str = START_URL):
        self.token_file(key).write_text(token_json(token, hours))

    def run(self, *args, profile="dev", **env):
        self.env_file(**({"AWS_PROFILE": profile} if profile else {}))
        return subprocess.run([sys.executable, "-m", "scripts.sso_refresh", *args], cwd=PROJECT_DIR,
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, **self.env, **env})

    def calls(self):
        return self.record.read_text().splitlines() if self.record.exists() else []


@pytest.fixture
def aws(tmp_path, portal, monkeypatch, env_file):
    return Aws(tmp_path, portal, monkeypatch, env_file)


def one_line_error(result, code):
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_valid_login_is_refreshed_quietly_by_the_timer(aws, isolated):
    aws.cache_token(hours=8)
    result = aws.run()
    assert result.returncode == 0, result.stderr
    assert aws.calls() == ["login --profile dev --headless"]
    assert Portal.seen == ["token-old"], "boto3 fetched the role credentials with the cached login"
    assert "SSO login valid until" in result.stdout and "role credentials valid until" in result.stdout
    log = (isolated / "logs" / "sso-refresh.log").read_text()
    assert "INFO profile dev: SSO login valid until" in log and "token-old" not in log


def test_valid_login_is_left_alone_by_make_start(aws):
    aws.cache_token(hours=8)
    result = aws.run("--login-if-needed")
    assert result.returncode == 0 and aws.calls() == []
    assert "role credentials valid until" in result.stdout


def test_nearly_expired_login_is_renewed_now(aws):
    aws.cache_token(hours=0.5)
    result = aws.run("--login-if-needed", STANDIN_NEW_TOKEN=token_json("token-new", 8))
    assert result.returncode == 0, result.stderr
    assert aws.calls() == ["login --profile dev --force-refresh --headless"]
    assert "logging in (nearly expired)" in result.stdout
    assert Portal.seen == ["token-new"]


def test_expired_login_starts_the_browser_login(aws):
    aws.cache_token(hours=-2)
    result = aws.run("--login-if-needed", DISPLAY=":0", STANDIN_NEW_TOKEN=token_json("token-new", 8))
    assert result.returncode == 0, result.stderr
    assert aws.calls() == ["login --profile dev"], "with a display: the browser, no --headless"
    assert "expired at" in result.stdout and "valid until" in result.stdout.splitlines()[-1]


def test_missing_login_on_a_headless_machine_prints_the_code(aws):
    result = aws.run(STANDIN_NEW_TOKEN=token_json("token-new", 8))
    assert result.returncode == 0, result.stderr
    assert aws.calls() == ["login --profile dev --headless"]


def test_login_that_fails_exits_4(aws):
    aws.cache_token(hours=-1)
    line = one_line_error(aws.run("--login-if-needed", STANDIN_EXIT="2"), 4)
    assert "aws-sso-util login failed (exit 2)" in line and "make start" in line


def test_login_rejected_by_aws_logs_in_again(aws):
    aws.cache_token(hours=8, token="token-revoked")
    result = aws.run("--login-if-needed", STANDIN_NEW_TOKEN=token_json("token-new", 8))
    assert result.returncode == 0, result.stderr
    assert Portal.seen == ["token-revoked", "token-new"]
    assert aws.calls() == ["login --profile dev --force-refresh --headless"]


def test_static_keys_profile(aws):
    line = one_line_error(aws.run(profile="static"), 2)
    assert "'static' is not an AWS SSO profile (static keys)" in line
    result = aws.run("--login-if-needed", profile="static")
    assert result.returncode == 0 and "does not use AWS SSO" in result.stdout and aws.calls() == []


def test_no_aws_profile(aws):
    assert "AWS_PROFILE is not set in .env" in one_line_error(aws.run(profile=None), 2)
    result = aws.run("--login-if-needed", profile=None)
    assert result.returncode == 0 and "AWS_PROFILE is not set" in result.stdout and aws.calls() == []


def test_profile_not_found(aws):
    line = one_line_error(aws.run("--login-if-needed", profile="typo"), 2)
    assert "'typo'" in line and "aws configure sso --profile typo" in line


def test_aws_sso_util_missing(aws, tmp_path):
    aws.cache_token(hours=-1)
    line = one_line_error(aws.run("--login-if-needed", GATEWAY_AWS_SSO_UTIL=str(tmp_path / "nowhere")), 3)
    assert "aws-sso-util not found" in line and "make install" in line


def test_network_down(aws):
    aws.cache_token(hours=8)
    closed = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(aws.run(AWS_ENDPOINT_URL_SSO=closed), 5)
    assert "cannot reach AWS SSO" in line
    result = aws.run("--login-if-needed", AWS_ENDPOINT_URL_SSO=closed)
    assert result.returncode == 0 and "starting the proxy anyway" in result.stdout


def test_sso_session_profile_reads_the_session_token(aws):
    aws.config.write_text("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Bedrock\n"
                          "[sso-session corp]\nsso_start_url = %s\nsso_region = us-east-1\n" % START_URL)
    aws.cache_token(hours=8, key="corp")
    result = aws.run("--login-if-needed")
    assert result.returncode == 0, result.stderr
    assert Portal.seen == ["token-old"] and aws.calls() == []
    aws.cache_token(hours=-1, key="corp")
    assert "aws sso login --profile dev" in one_line_error(aws.run("--login-if-needed"), 4)
