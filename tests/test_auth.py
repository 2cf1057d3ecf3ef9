"""The credential report and the login files, without a proxy: each state of a ChatGPT
and Copilot login as LiteLLM leaves its files, auth-status, and the commands' refusals."""
import base64
import io
import json
import os
import time

from conftest import API_KEY, MASTER_KEY, OAUTH_TOKEN
from scripts import admin, auth_status, login
from scripts.auth import tokens
from scripts.auth.device import Countdown
from scripts.core import paths
from scripts.core.settings import proxy_environment, load


def jwt(claims: dict) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.sig"


def write_chatgpt(expires: float, refresh: bool = True) -> None:
    folder = paths.token_dir("chatgpt")
    folder.mkdir(parents=True)
    identity = {"email": "me@example.com", tokens.OPENAI_AUTH_CLAIM: {"chatgpt_plan_type": "pro"}}
    (folder / "auth.json").write_text(json.dumps({"access_token": jwt({"exp": expires}), "id_token": jwt(identity),
                                                  "refresh_token": "rt_x" if refresh else None,
                                                  "expires_at": expires}))


def test_chatgpt_login_states(isolated):
    assert tokens.current("chatgpt").text == "not logged in: `make login-chatgpt`"
    write_chatgpt(time.time() + 5 * 86400)
    login_state = tokens.current("chatgpt")
    assert login_state.state == "valid" and login_state.text.startswith("device login, me@example.com (pro), "
                                                                        "access token valid until")
    write_json = paths.token_dir("chatgpt") / "auth.json"
    data = json.loads(write_json.read_text())
    write_json.write_text(json.dumps(dict(data, expires_at=time.time() - 10)))
    assert tokens.current("chatgpt").state == "refreshable"
    write_json.write_text(json.dumps(dict(data, expires_at=time.time() - 10, refresh_token=None)))
    assert tokens.current("chatgpt").text.startswith("EXPIRED: ")


def test_a_refusal_counts_only_after_the_last_login(isolated):
    write_chatgpt(time.time() + 3600)
    refused = paths.token_dir("chatgpt") / "refused.json"
    refused.write_text(json.dumps({"at": time.time() + 1, "status": 401, "message": "token_invalidated"}))
    assert tokens.current("chatgpt").state == "refused"
    refused.write_text(json.dumps({"at": time.time() - 3600, "status": 401, "message": "older than the login"}))
    os.utime(refused.parent / "auth.json")
    assert tokens.current("chatgpt").state == "valid"


def test_copilot_login_states(isolated):
    folder = paths.token_dir("github_copilot")
    folder.mkdir(parents=True)
    (folder / "access-token").write_text("ghu_0123456789abcdefghij")
    assert tokens.current("github_copilot").state == "refreshable"
    (folder / "api-key.json").write_text(json.dumps({"token": "t", "expires_at": time.time() + 1500,
                                                     "sku": "copilot_for_individual_subscriber"}))
    text = tokens.current("github_copilot").text
    assert text.startswith("device login, GitHub token ghu_01...ghij (valid until revoked), Copilot token valid")


def test_the_proxy_gets_the_login_folders(env_file, isolated):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, CHATGPT_TOKEN_DIR="/elsewhere")
    env = proxy_environment(load())
    assert env["CHATGPT_TOKEN_DIR"] == str(isolated / "state" / "auth" / "chatgpt")
    assert env["GITHUB_COPILOT_TOKEN_DIR"] == str(isolated / "state" / "auth" / "github_copilot")


def test_auth_status_without_logins(env_file, capsys, monkeypatch):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, CLAUDE_CODE_OAUTH_TOKEN=OAUTH_TOKEN, ANTHROPIC_API_KEY=API_KEY,
             ZAI_API_KEY="zai-0123456789abcdef", PROXY_MODEL_KEYS="glm", MODEL_GLM_ALIAS="glm-4.6",
             MODEL_GLM_UPSTREAM_MODEL="zai/glm-4.6")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-0123456789abcdef")
    assert auth_status.main([]) == 0
    out = capsys.readouterr().out
    assert "Anthropic      oauth-token sk-ant...6789, expiry unknown" in out
    assert "               api-key sk-ant...6789 as well, no expiry" in out
    assert "ChatGPT        not logged in: `make login-chatgpt`" in out
    assert "Copilot        not logged in: `make login-copilot`" in out
    assert "API key        OPENAI_API_KEY sk-pro...cdef (shell)" in out
    assert "API key        ZAI_API_KEY zai-01...cdef (.env)" in out
    assert "not set: GEMINI_API_KEY, OPENROUTER_API_KEY, DEEPSEEK_API_KEY, MODEL_GLM_API_KEY" in out
    assert MASTER_KEY not in out and OAUTH_TOKEN not in out


def test_auth_status_reads_the_models_as_the_settings_parse_them(env_file, capsys):
    """MODEL_<KEY>_API_KEY rows come from the settings' parsed specs (the key's case as
    the settings read it); a bad spec is one row naming the variable, the rest still shows."""
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, PROXY_MODEL_KEYS="gpt5, Glm",
             MODEL_GPT5_ALIAS="gpt-5", MODEL_GPT5_UPSTREAM_MODEL="chatgpt/gpt-5.4",
             MODEL_GLM_ALIAS="glm-4.6", MODEL_GLM_UPSTREAM_MODEL="zai/glm-4.6", MODEL_GLM_API_KEY="zai-0123456789ab")
    assert auth_status.main([]) == 0
    out = capsys.readouterr().out
    assert "API key        MODEL_GLM_API_KEY zai-01...89ab (.env)" in out
    assert out.rstrip().endswith("DEEPSEEK_API_KEY, MODEL_GPT5_API_KEY")
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, PROXY_MODEL_KEYS="glm")
    assert auth_status.main([]) == 0
    out = capsys.readouterr().out
    assert "API key        env-defined models unreadable: MODEL_GLM_ALIAS is not set" in out
    assert "Anthropic      api-key sk-ant...6789, no expiry" in out and "MODEL_GLM_API_KEY" not in out


def test_commands_that_cannot_work_here_say_why_in_one_line(env_file, capsys):
    env_file(LITELLM_MASTER_KEY=MASTER_KEY, ANTHROPIC_API_KEY=API_KEY, LITELLM_PORT="1")
    for args in (["keys", "generate"], ["teams", "list"], ["models", "delete", "x"], ["debug", "spend"]):
        assert admin.main(args) == 1
        assert "needs LiteLLM's database" in capsys.readouterr().err
    assert admin.main(["up"]) == 1 and "`make configure-claude`" in capsys.readouterr().err
    assert admin.main(["models", "list"]) == 1
    assert capsys.readouterr().err == "error: the proxy is not running at http://127.0.0.1:1: run `make up`\n"
    assert login.main(["logout"]) == 1 and "PROVIDER=chatgpt" in capsys.readouterr().err
    assert login.main(["login", "gemini"]) == 1
    assert "unknown provider 'gemini'" in capsys.readouterr().err
    assert login.main(["logout", "chatgpt"]) == 0 and "not logged in" in capsys.readouterr().out


def test_the_countdown_without_a_terminal_prints_lines():
    out = io.StringIO()
    countdown = Countdown(out)
    countdown.start(75)
    time.sleep(0.2)
    countdown.stop()
    assert out.getvalue() == "   waiting for your approval: 1:14 left (Ctrl-C cancels)\n" or \
        out.getvalue() == "   waiting for your approval: 1:15 left (Ctrl-C cancels)\n"
