"""The ChatGPT and Copilot simulators refuse what the real services refuse (the happy
paths run end to end with LiteLLM in test_e2e_logins.py)."""
import json
import urllib.request

import pytest

from scripts.core.http import Reply, request
from scripts.sim.chatgpt import CLIENT_ID
from scripts.sim.server import SimulatorThread


@pytest.fixture(scope="module")
def sims():
    with SimulatorThread(chatgpt_port=0, copilot_port=0) as running:
        for url in running.args.extra_urls.values():
            request("POST", url + "/_sim/auth", payload={"auto_approve": True}, timeout=5)
        yield running.args.extra_urls


def post(url, payload=None, headers=None, form=None):
    if form is None:
        return request("POST", url, payload=payload, headers=headers or {}, timeout=5)
    sent = urllib.request.Request(url, data=form.encode(), method="POST",
                                  headers={"content-type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(sent, timeout=5) as reply:
        return Reply(reply.status, dict(reply.headers), reply.read())


def chatgpt_tokens(base):
    code = post(base + "/api/accounts/deviceauth/usercode", {"client_id": CLIENT_ID}).json()
    grant = post(base + "/api/accounts/deviceauth/token", {"device_auth_id": code["device_auth_id"],
                                                          "user_code": code["user_code"]}).json()
    form = (f"grant_type=authorization_code&code={grant['authorization_code']}"
            f"&redirect_uri=https://auth.openai.com/deviceauth/callback&client_id={CLIENT_ID}"
            f"&code_verifier={grant['code_verifier']}")
    return post(base + "/oauth/token", form=form).json()


def responses(base, token, **body):
    payload = {"model": "gpt-5.4", "instructions": "be brief", "input": "hi", "stream": True, "store": False, **body}
    return post(base + "/backend-api/codex/responses", payload, {"authorization": f"Bearer {token}"})


def test_codex_backend_refuses_what_the_real_one_refuses(sims):
    base = sims["chatgpt"]
    token = chatgpt_tokens(base)["access_token"]
    ok = responses(base, token)
    assert ok.status == 200 and b"event: response.completed" in ok.body
    assert responses(base, token, stream=False).json() == {"detail": "Stream must be set to true"}
    assert responses(base, token, store=True).json() == {"detail": "Store must be set to false"}
    assert responses(base, token, temperature=0.2).json() == {"detail": "Unsupported parameter: temperature"}
    assert responses(base, token, instructions="").json() == {"detail": "Instructions are required"}
    assert "not supported when using Codex" in responses(base, token, model="gpt-4o").json()["detail"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert responses(base, forged).status == 401


def test_a_refresh_token_works_once(sims):
    base = sims["chatgpt"]
    refresh = chatgpt_tokens(base)["refresh_token"]
    body = {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": refresh}
    assert post(base + "/oauth/token", body).status == 200
    reused = post(base + "/oauth/token", body)
    assert reused.status == 401 and reused.json()["error"]["code"] == "refresh_token_reused"


def test_a_function_call_and_its_result(sims):
    base = sims["chatgpt"]
    token = chatgpt_tokens(base)["access_token"]
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "required": ["q"],
                                                                "properties": {"q": {"type": "string"}}}}
    ask = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "use the tool"}]}]
    events = [json.loads(line[6:]) for line in responses(base, token, input=ask, tools=[tool]).body.decode()
              .splitlines() if line.startswith("data: ")]
    call = events[-1]["response"]["output"][0]
    assert call["type"] == "function_call" and json.loads(call["arguments"]) == {"q": "sim"}
    answer = ask + [call, {"type": "function_call_output", "call_id": call["call_id"], "output": "42"}]
    done = responses(base, token, input=answer, tools=[tool]).body.decode()
    assert "Tool result received: 42" in done
    orphan = [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]
    assert responses(base, token, input=orphan).status == 400


def test_copilot_refuses_without_editor_version_and_after_revocation(sims):
    base = sims["copilot"]
    accept = {"accept": "application/json"}
    code = post(base + "/login/device/code", {"client_id": "Iv1.b507a08c87ecfe98", "scope": "read:user"}, accept).json()
    assert code["verification_uri"] == base + "/login/device"
    assert "device_code=" in post(base + "/login/device/code", {"client_id": "Iv1.b507a08c87ecfe98"}).body.decode(), \
        "GitHub answers form-encoded unless asked for JSON"
    github = post(base + "/login/oauth/access_token", {"client_id": "Iv1.b507a08c87ecfe98",
                                                       "device_code": code["device_code"],
                                                       "grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
                  accept).json()["access_token"]
    key = request("GET", base + "/copilot_internal/v2/token", headers={"authorization": f"token {github}"},
                  timeout=5).json()
    chat = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
    bare = post(base + "/chat/completions", chat, {"authorization": f"Bearer {key['token']}"})
    assert bare.status == 400 and b"Editor-Version" in bare.body
    headers = {"authorization": f"Bearer {key['token']}", "editor-version": "vscode/1.95.0"}
    assert post(base + "/chat/completions", chat, headers).status == 200
    post(base + "/_sim/auth", {"revoke": True})
    assert post(base + "/chat/completions", chat, headers).status == 401
    assert request("GET", base + "/copilot_internal/v2/token", headers={"authorization": f"token {github}"},
                   timeout=5).status == 401
