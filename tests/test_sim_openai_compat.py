"""The OpenAI-compatible simulator (Z.AI shape) with the real openai SDK: answers, SSE
streams, tool calls, and the rejections such APIs give (401, 400 1211 / 404, bad turns)."""
import json

import openai
import pytest
import requests

from scripts.sim.faults import SimControl
from scripts.sim.server import SimulatorThread

KEY = "zai-sim-test-key-0123456789"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}},
         {"type": "function", "function": {"name": "Read", "parameters": {
             "type": "object", "properties": {"file_path": {"type": "string"}, "limit": {"type": "integer"}},
             "required": ["file_path"]}}}]
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def sims():
    with SimulatorThread(openai_port=0, openai_api_key=KEY) as zai, \
            SimulatorThread(openai_port=0, openai_shape="openai") as plain:
        yield zai, plain


@pytest.fixture
def control(sims) -> SimControl:
    control = SimControl(sims[0].openai_url)
    control.reset()
    return control


@pytest.fixture
def client(sims, control) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=sims[0].openai_url + "/api/paas/v4", max_retries=0)


def test_a_plain_answer_with_usage(client, control):
    reply = client.chat.completions.create(model="glm-4.6", messages=HI)
    assert reply.choices[0].message.content == \
        "Hello from simulated Z.AI (model glm-4.6). This is a deterministic reply from the simulator."
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens == 14
    (record,) = control.requests()
    assert (record["status"], record["auth_kind"], record["model"], record["stream"]) == (200, "bearer", "glm-4.6", False)


def test_the_generic_openai_path_and_max_tokens(sims):
    client = openai.OpenAI(api_key=KEY, base_url=sims[0].openai_url + "/v1", max_retries=0)
    reply = client.chat.completions.create(model="deepseek-v3.2", messages=HI, max_tokens=3)
    assert reply.choices[0].message.content == "Hello from simulated" and reply.choices[0].finish_reason == "length"


def test_a_stream_ends_with_usage_and_done(sims, client):
    chunks = list(client.chat.completions.create(model="glm-4.6", messages=HI, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.endswith("This is a deterministic reply from the simulator.")
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage.total_tokens > 0
    raw = requests.post(sims[0].openai_url + "/api/paas/v4/chat/completions", timeout=10,
                        headers={"Authorization": f"Bearer {KEY}"},
                        json={"model": "glm-4.6", "messages": HI, "stream": True})
    events = [line for line in raw.text.split("\n\n") if line]
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_round_trip(client, stream):
    ask = [{"role": "user", "content": "Please use the tool for Paris."}]
    if stream:
        calls: dict = {}
        finish = None
        for chunk in client.chat.completions.create(model="glm-4.6", messages=ask, tools=TOOLS, stream=True):
            for delta_call in chunk.choices[0].delta.tool_calls or []:
                call = calls.setdefault(delta_call.index, {"id": delta_call.id, "name": None, "arguments": ""})
                call["name"] = delta_call.function.name or call["name"]
                call["arguments"] += delta_call.function.arguments or ""
            finish = chunk.choices[0].finish_reason or finish
        (call,) = calls.values()
    else:
        reply = client.chat.completions.create(model="glm-4.6", messages=ask, tools=TOOLS)
        message, finish = reply.choices[0].message, reply.choices[0].finish_reason
        (tool_call,) = message.tool_calls
        call = {"id": tool_call.id, "name": tool_call.function.name, "arguments": tool_call.function.arguments}
    assert finish == "tool_calls" and call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "sim"}
    follow = ask + [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    answer = client.chat.completions.create(model="glm-4.6", messages=follow, tools=TOOLS)
    assert answer.choices[0].message.content == "Hello from simulated Z.AI (model glm-4.6). Tool result received: sunny"


def test_a_named_tool_with_arguments_from_the_prompt(client):
    ask = [{"role": "user", "content": "use the tool Read with file_path=/tmp/notes.md."}]
    (call,) = client.chat.completions.create(model="glm-4.6", messages=ask, tools=TOOLS).choices[0].message.tool_calls
    assert call.function.name == "Read" and json.loads(call.function.arguments) == {"file_path": "/tmp/notes.md"}
    forced = client.chat.completions.create(model="glm-4.6", messages=HI, tools=TOOLS,
                                            tool_choice={"type": "function", "function": {"name": "Read"}})
    assert forced.choices[0].message.tool_calls[0].function.name == "Read"
    assert client.chat.completions.create(model="glm-4.6", messages=ask, tools=TOOLS,
                                          tool_choice="none").choices[0].message.tool_calls is None


def test_thinking_adds_reasoning_content(client):
    reply = client.chat.completions.create(model="glm-4.6", messages=HI, extra_body={"thinking": {"type": "enabled"}})
    assert reply.choices[0].message.model_extra["reasoning_content"]


def zai_error(exc: openai.APIStatusError) -> tuple:
    return exc.status_code, exc.body["code"] if "code" in (exc.body or {}) else exc.body


def test_keys_are_checked(sims, client, control):
    wrong = openai.OpenAI(api_key="zai-wrong", base_url=sims[0].openai_url + "/api/paas/v4", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="glm-4.6", messages=HI)
    assert zai_error(caught.value) == (401, "1000")
    missing = requests.post(sims[0].openai_url + "/api/paas/v4/chat/completions", json={"model": "glm-4.6",
                                                                                         "messages": HI}, timeout=10)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "1001"
    assert all(r["fault"] is None for r in control.requests())


def test_unknown_models_are_refused_the_way_each_api_refuses_them(sims, client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="glm-9", messages=HI)
    assert zai_error(caught.value) == (400, "1211")
    plain = openai.OpenAI(api_key="any", base_url=sims[1].openai_url + "/v1", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        plain.chat.completions.create(model="gpt-9", messages=HI)
    assert caught.value.body["code"] == "model_not_found"


@pytest.mark.parametrize("messages, problem", [
    ([{"role": "tool", "tool_call_id": "call_x", "content": "sunny"}], "must be a response to a preceeding message"),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
      {"role": "user", "content": "and?"}], "did not have response messages: call_1"),
    ([{"role": "robot", "content": "x"}], "messages[0].role"),
    ([], "'messages'"),
])
def test_malformed_turns_are_refused(client, control, messages, problem):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="glm-4.6", messages=messages, tools=TOOLS)
    assert problem in caught.value.body["message"]
    assert [r["status"] for r in control.requests()] == [400]


def test_faults_answer_like_a_rate_limited_api(client, control):
    control.set_fault("429", count=1, retry_after=7)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="glm-4.6", messages=HI)
    assert zai_error(caught.value) == (429, "1302") and caught.value.response.headers["retry-after"] == "7"
    assert client.chat.completions.create(model="glm-4.6", messages=HI).choices[0].finish_reason == "stop"
    control.set_fault("overloaded_midstream", count=1, after=1)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="glm-4.6", messages=HI, stream=True))
    assert [r["fault"] for r in control.requests()] == ["429", None, "overloaded_midstream"]


def test_models_are_listed(client):
    assert [m.id for m in client.models.list()] == ["glm-4.6", "glm-4.5", "glm-4.5-air", "deepseek-v3.2"]
