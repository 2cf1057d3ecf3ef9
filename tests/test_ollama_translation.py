"""Ollama <-> OpenAI translation (scripts/in_proxy/ollama.py, ollama_replies.py) and the
pure parts of the routes (format_routes.py): each field mapping, each error, and the
shapes checked against the ollama client library's own response types."""
import base64
import json

import pytest
from ollama import ChatResponse, GenerateResponse, ListResponse, ShowResponse

from scripts.in_proxy import format_routes, ollama
from scripts.in_proxy import ollama_replies as replies

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 20).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 20).decode()
WEBP = base64.b64encode(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8).decode()
SERVED = {"claude-sonnet-4-5"}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def chat(**fields):
    return ollama.chat_request({"model": "claude-sonnet-4-5", **fields}, SERVED)


def error_of(call, *args) -> ollama.OllamaError:
    with pytest.raises(ollama.OllamaError) as caught:
        call(*args)
    return caught.value


# --- requests ------------------------------------------------------------------------------

def test_chat_streams_by_default():
    payload = chat(messages=[{"role": "user", "content": "hi"}])
    assert payload == {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    assert chat(messages=[], stream=False)["stream"] is False
    assert error_of(lambda: chat(messages=[], stream="yes")).message == "stream: expected true or false"


def test_model_name_loses_the_latest_tag_ollama_clients_add_unless_served_with_it():
    assert chat(messages=[])["model"] == "claude-sonnet-4-5"
    assert ollama.chat_request({"model": "claude-sonnet-4-5:latest", "messages": []}, SERVED)["model"] == \
        "claude-sonnet-4-5"
    assert ollama.served_name("m:latest", {"m:latest"}) == "m:latest"
    assert ollama.served_name("other:7b", SERVED) == "other:7b"
    assert error_of(ollama.chat_request, {"messages": []}, SERVED).message == "model is required"


def test_system_user_assistant_messages_keep_their_roles_and_text():
    payload = chat(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                             {"role": "assistant", "content": "hello"}, {"role": "user"}])
    assert payload["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                                   {"role": "assistant", "content": "hello"}, {"role": "user", "content": ""}]
    assert error_of(lambda: chat(messages=[{"role": "robot", "content": "x"}])).message == \
        "messages[0].role: expected one of system, user, assistant, tool"
    assert error_of(lambda: chat(messages=[{"role": "user", "content": 3}])).message == \
        "messages[0].content: expected a string"
    assert error_of(lambda: chat(messages="hi")).message == "messages: expected a list of messages"


def test_images_become_data_urls_with_the_media_type_the_bytes_say():
    content = chat(messages=[{"role": "user", "content": "what is it?", "images": [PNG, JPEG, WEBP]}])
    parts = content["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "what is it?"}
    assert [p["image_url"]["url"].split(";")[0] for p in parts[1:]] == \
        ["data:image/png", "data:image/jpeg", "data:image/webp"]
    assert parts[1]["image_url"]["url"] == f"data:image/png;base64,{PNG}"
    only_image = chat(messages=[{"role": "user", "images": [PNG]}])["messages"][0]["content"]
    assert [p["type"] for p in only_image] == ["image_url"]  # no empty text block (Anthropic rejects those)
    assert ollama.data_url("data:image/gif;base64,R0lG", "x") == "data:image/gif;base64,R0lG"
    text = base64.b64encode(b"just some text here").decode()
    assert error_of(ollama.data_url, text, "messages[0].images[0]").message == \
        "messages[0].images[0]: not a PNG, JPEG, GIF or WebP image"
    assert error_of(ollama.data_url, "%%%not base64%%%", "images[0]").message == "images[0]: not base64"


def test_tool_calls_get_stable_ids_and_tool_messages_answer_them_by_name_or_order():
    history = [{"role": "user", "content": "weather?"},
               {"role": "assistant", "content": "", "tool_calls": [
                   {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                   {"function": {"name": "get_time", "arguments": {}}}]},
               {"role": "tool", "content": "10:00", "tool_name": "get_time"},
               {"role": "tool", "content": "sunny"}]
    messages = chat(messages=history, tools=[WEATHER])["messages"]
    calls = messages[1]["tool_calls"]
    assert calls == [{"id": "call_1_0", "type": "function",
                      "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                     {"id": "call_1_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]
    assert messages[1]["content"] is None
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1_1", "content": "10:00"}
    assert messages[3] == {"role": "tool", "tool_call_id": "call_1_0", "content": "sunny"}
    assert chat(messages=history)["messages"][1]["tool_calls"] == calls  # same ids when resent


def test_tool_call_ids_and_openai_style_arguments_from_the_client_are_kept():
    history = [{"role": "assistant", "tool_calls": [{"id": "toolu_1", "function": {
                   "name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
               {"role": "tool", "content": "rain", "tool_call_id": "toolu_1"}]
    messages = chat(messages=history)["messages"]
    assert messages[0]["tool_calls"][0]["id"] == "toolu_1"
    assert json.loads(messages[0]["tool_calls"][0]["function"]["arguments"]) == {"city": "Oslo"}
    assert messages[1]["tool_call_id"] == "toolu_1"


def test_a_tool_message_that_answers_no_call_is_refused():
    assert error_of(lambda: chat(messages=[{"role": "tool", "content": "x"}])).message == \
        "messages[0]: a tool message must answer a call of the assistant message before it (tool_calls)"
    history = [{"role": "assistant", "tool_calls": [{"function": {"name": "a", "arguments": {}}}]},
               {"role": "tool", "content": "x", "tool_name": "b"}]
    assert "answer a call to 'b'" in error_of(lambda: chat(messages=history)).message
    assert error_of(lambda: chat(messages=[{"role": "assistant", "tool_calls": [{"function": {}}]}])).message == \
        "messages[0].tool_calls[0].function.name: required"


def test_tools_pass_in_openai_shape_and_bad_ones_are_named():
    assert chat(messages=[], tools=[WEATHER])["tools"] == [WEATHER]
    assert error_of(lambda: chat(messages=[], tools=[{"type": "function"}])).message == \
        "tools[0].function.name: required"


def test_format_json_and_schema():
    assert chat(messages=[], format="json")["response_format"] == {"type": "json_object"}
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert chat(messages=[], format=schema)["response_format"] == \
        {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    assert "response_format" not in chat(messages=[], format="")
    assert error_of(lambda: chat(messages=[], format="yaml")).message == \
        'format: expected "json" or a JSON schema object'


def test_options_map_to_openai_parameters_and_runtime_knobs_are_ignored():
    payload = chat(messages=[], options={"temperature": 0.2, "top_p": 0.9, "num_predict": 128, "seed": 7,
                                         "stop": ["END"], "num_ctx": 8192, "num_gpu": 1, "mirostat": 2})
    assert {k: payload[k] for k in ("temperature", "top_p", "max_tokens", "seed", "stop")} == \
        {"temperature": 0.2, "top_p": 0.9, "max_tokens": 128, "seed": 7, "stop": ["END"]}
    assert not {"num_ctx", "num_gpu", "mirostat"} & set(payload)
    assert "max_tokens" not in chat(messages=[], options={"num_predict": -1})
    assert "max_tokens" not in chat(messages=[], options={"num_predict": -2})
    assert error_of(lambda: chat(messages=[], options={"num_predict": "many"})).message == \
        "options.num_predict: expected an integer"
    assert error_of(lambda: chat(messages=[], options=[1])).message == "options: expected an object"


def test_generate_is_a_system_and_a_user_message():
    payload = ollama.generate_request({"model": "claude-sonnet-4-5", "prompt": "hi", "system": "Be brief.",
                                       "images": [PNG], "stream": False, "options": {"num_predict": 5},
                                       "keep_alive": "5m", "raw": False, "template": "{{ .Prompt }}"}, SERVED)
    assert payload["messages"][0] == {"role": "system", "content": "Be brief."}
    assert payload["messages"][1]["role"] == "user"
    assert [p["type"] for p in payload["messages"][1]["content"]] == ["text", "image_url"]
    assert payload["max_tokens"] == 5 and payload["stream"] is False
    assert not {"keep_alive", "raw", "template"} & set(payload)
    assert error_of(ollama.generate_request, {"model": "m", "prompt": "a", "suffix": "b"}, SERVED).message.startswith(
        "suffix (fill-in-the-middle) is not supported")


def test_a_request_without_messages_or_prompt_only_loads_the_model():
    assert ollama.loads_only({"model": "m"}, "chat") and ollama.loads_only({"model": "m", "messages": []}, "chat")
    assert not ollama.loads_only({"messages": [{"role": "user"}]}, "chat")
    assert ollama.loads_only({"prompt": ""}, "generate") and not ollama.loads_only({"prompt": "x"}, "generate")
    assert not ollama.loads_only({"images": [PNG]}, "generate")
    reply = replies.load_reply("m", "chat")
    assert ChatResponse(**reply).done_reason == "load"
    assert GenerateResponse(**replies.load_reply("m", "generate")).response == ""


# --- replies -------------------------------------------------------------------------------

OPENAI_REPLY = {"choices": [{"finish_reason": "tool_calls", "message": {
    "role": "assistant", "content": "Let me check.", "reasoning_content": "thinking...",
    "tool_calls": [{"id": "toolu_9", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}}],
    "usage": {"prompt_tokens": 11, "completion_tokens": 7}}


def test_chat_reply_is_what_the_ollama_library_reads():
    reply = ChatResponse(**replies.chat_reply(OPENAI_REPLY, "claude-sonnet-4-5:latest", 2_000_000))
    assert reply.model == "claude-sonnet-4-5:latest" and reply.done and reply.done_reason == "stop"
    assert reply.message.content == "Let me check." and reply.message.thinking == "thinking..."
    assert reply.message.tool_calls[0].function.name == "get_weather"
    assert reply.message.tool_calls[0].function.arguments == {"city": "Paris"}
    assert (reply.prompt_eval_count, reply.eval_count) == (11, 7)
    assert (reply.total_duration, reply.load_duration) == (2_000_000, 0)
    assert reply.created_at.endswith("Z")


def test_generate_reply_and_done_reasons():
    response = {"choices": [{"finish_reason": "length", "message": {"content": "cut"}}], "usage": None}
    reply = GenerateResponse(**replies.generate_reply(response, "m", 5))
    assert (reply.response, reply.done_reason, reply.eval_count) == ("cut", "length", None)


def test_tool_arguments_that_are_not_json_are_an_error_not_a_guess():
    broken = {"choices": [{"message": {"tool_calls": [{"function": {"name": "f", "arguments": '{"a": '}}]}}]}
    assert error_of(replies.chat_reply, broken, "m", 1).status == 502


def sse(*events) -> str:
    return "".join(f"data: {json.dumps(e) if isinstance(e, dict) else e}\n\n" for e in events)


def delta(**fields) -> dict:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


def test_stream_translation_in_any_split_gives_content_then_the_done_line():
    text = (": ping\n\n" + sse(delta(role="assistant", content="Hel"), delta(content="lo"),
                                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                                {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}, "[DONE]"))
    clock = iter(range(100, 10_000, 100))
    for size in (1, 7, len(text)):
        stream = replies.StreamTranslator("m", "chat", started_ns=0, clock=lambda: next(clock))
        out = [obj for i in range(0, len(text), size) for obj in stream.sse(text[i:i + size])]
        parts = [ChatResponse(**o) for o in out]
        assert [p.message.content for p in parts] == ["Hel", "lo", ""]
        assert [p.done for p in parts] == [False, False, True]
        assert (parts[-1].done_reason, parts[-1].prompt_eval_count, parts[-1].eval_count) == ("stop", 3, 2)
        assert parts[-1].prompt_eval_duration + parts[-1].eval_duration == parts[-1].total_duration
        assert stream.finished and stream.cut_short() == []


def test_streamed_tool_call_fragments_go_out_whole_before_the_done_line():
    first = {"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    text = sse(delta(tool_calls=[first]), delta(tool_calls=[{"index": 0, "function": {"arguments": '{"ci'}}]),
               delta(tool_calls=[{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]),
               {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}, "[DONE]")
    out = replies.StreamTranslator("m", "chat", 0).sse(text)
    assert len(out) == 2 and out[1]["done"] is True and out[1]["done_reason"] == "stop"
    call = ChatResponse(**out[0]).message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris"})


def test_generate_stream_and_errors_in_ollama_shape():
    out = replies.StreamTranslator("m", "generate", 0).sse(sse(delta(content="a"), "[DONE]"))
    assert [GenerateResponse(**o).response for o in out] == ["a", ""]
    failing = replies.StreamTranslator("m", "chat", 0)
    out = failing.sse(sse(delta(content="a"), {"error": {"message": "overloaded", "code": "529"}}, "[DONE]"))
    assert [o.get("error") for o in out] == [None, "overloaded"]  # nothing after the error, no done line
    assert failing.finished and failing.cut_short() == []
    cut = replies.StreamTranslator("m", "chat", 0)
    cut.sse(sse(delta(content="a")))
    assert cut.cut_short() == [{"error": "the upstream stream ended before the answer was complete"}]


def test_model_descriptions_read_by_the_ollama_library():
    listed = ListResponse(models=[replies.describe("claude-sonnet-4-5", "anthropic", "2026-01-01T00:00:00Z")])
    assert listed.models[0].model == "claude-sonnet-4-5" and listed.models[0].details.family == "anthropic"
    shown = ShowResponse(**replies.show("claude-sonnet-4-5", {"provider": "anthropic", "context_length": 200000.0,
                                                             "tools": True, "vision": True, "thinking": False},
                                        "2026-01-01T00:00:00Z"))
    assert shown.capabilities == ["completion", "tools", "vision"]
    assert shown.modelinfo["anthropic.context_length"] == 200000
    bare = ShowResponse(**replies.show("x", {"provider": "openai"}, "2026-01-01T00:00:00Z"))
    assert bare.capabilities == ["completion"] and "openai.context_length" not in bare.modelinfo


def test_error_body_is_ollamas_shape():
    assert ollama.error_body("nope") == {"error": "nope"}
    assert ollama.error_body({"message": "rate limited", "code": "429"}) == {"error": "rate limited"}


# --- route helpers -------------------------------------------------------------------------

def scope(client="127.0.0.1", **headers):
    return {"client": (client, 5000), "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


def test_keyless_lends_the_master_key_to_loopback_clients_without_a_credential_only():
    local = scope()
    format_routes.lend_master_key(local, "sk-master")
    assert (b"authorization", b"Bearer sk-master") in local["headers"]
    for client in ("::1", "::ffff:127.0.0.1", "127.0.0.2"):
        lent = scope(client)
        format_routes.lend_master_key(lent, "sk-master")
        assert format_routes.has_credential(lent), client
    for client in ("192.168.1.5", "10.0.0.1", "::ffff:10.0.0.1", "example.com"):
        remote = scope(client)
        format_routes.lend_master_key(remote, "sk-master")
        assert not format_routes.has_credential(remote), client
    own = scope(Authorization="Bearer sk-wrong")
    format_routes.lend_master_key(own, "sk-master")
    assert own["headers"] == [(b"authorization", b"Bearer sk-wrong")]  # judged by the key it sent
    none = scope()
    format_routes.lend_master_key(none, None)
    assert not format_routes.has_credential(none)


def test_bodies_are_read_as_json_whatever_content_type_the_client_sent():
    form = scope(**{"Content-Type": "application/x-www-form-urlencoded", "accept": "*/*"})
    format_routes.body_is_json(form)
    assert form["headers"] == [(b"accept", b"*/*"), (b"content-type", b"application/json")]


def test_gemini_snake_case_tool_schemas_are_renamed_for_litellm():
    body = {"tools": [{"functionDeclarations": [{"name": "f", "parameters_json_schema": {"type": "object"}},
                                                {"name": "g", "parameters": {"type": "OBJECT"}}]}, "junk"]}
    format_routes.camel_case_tool_schemas(body)
    assert body["tools"][0]["functionDeclarations"] == [{"name": "f", "parametersJsonSchema": {"type": "object"}},
                                                        {"name": "g", "parameters": {"type": "OBJECT"}}]
    format_routes.camel_case_tool_schemas([])  # not an object: left alone


def test_only_json_objects_reach_litellm():
    assert format_routes.is_object_or_empty(b"") and format_routes.is_object_or_empty(b'  {"model": 1}')
    assert not format_routes.is_object_or_empty(b'["a"]') and not format_routes.is_object_or_empty(b'"x"')
