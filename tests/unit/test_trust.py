"""The trust boundary's policy (scripts/core/trust.py) and the gatekeeper's pieces that need no
proxy: which Host, Origin, route and body keys pass, and how a body is read within its bounds.
The whole gatekeeper against a real proxy: test_e2e_redteam.py."""
import asyncio

import pytest

from scripts.core import settings as settings_mod
from scripts.core import trust
from scripts.in_proxy import gatekeeper

BOUNDARY = trust.Boundary(bind_host="127.0.0.1", hosts=trust.names("mybox.lan"),
                          origins=trust.names("http://localhost:3000/"))


@pytest.mark.parametrize("host", [None, "127.0.0.1:47000", "localhost", "LOCALHOST:47000", "[::1]:47000", "127.8.9.1",
                                  "mybox.lan:47000", "host.docker.internal:47000", "localhost."])
def test_hosts_of_this_machine_pass(host):
    assert BOUNDARY.host_allowed(host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:47000", "127.0.0.1.evil.example", "10.0.0.5:47000",
                                  "localhost.evil.example", "[::2]:47000", ""])
def test_other_hosts_are_rebinding(host):
    assert not BOUNDARY.host_allowed(host)


def test_a_listed_bind_address_passes():
    assert trust.Boundary(bind_host="192.168.1.20").host_allowed("192.168.1.20:47000")


def test_only_listed_origins_pass():
    assert BOUNDARY.origin_allowed("http://localhost:3000")
    for origin in ("http://localhost:3001", "https://localhost:3000", "null", "http://localhost:3000.evil.example"):
        assert not BOUNDARY.origin_allowed(origin)
    assert not trust.Boundary().origin_allowed("http://localhost:3000")  # none by default


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/", "/v1/messages/count_tokens", "/v1/chat/completions",
                                  "/v1/responses", "/v1/responses/compact", "/v1/models", "/v1/models/claude-haiku",
                                  "/v1beta/models/claude-haiku:generateContent",
                                  "/v1/models/claude-haiku:streamGenerateContent", "/api/chat", "/api/version", "/api/ps",
                                  "/health/liveliness", "/health/readiness/details", "/metrics", "/metrics/",
                                  "/models", "/v1/model/info", "/chat/completions"])
def test_the_contracts_routes_are_served(path):
    assert trust.route_served(path)


@pytest.mark.parametrize("path", ["/", "/ui/", "/langfuse/api/public", "/routes", "/openapi.json", "/docs",
                                  "/public/model_hub/info", "/.well-known/litellm-ui-config", "/sso/cli/start",
                                  "/key/generate", "/model/new", "/v1/models/a/b", "/api/pull", "/healthz",
                                  "/v1/messagesx", "/metrics/extra"])
def test_everything_else_is_not(path):
    assert not trust.route_served(path)


@pytest.mark.parametrize("body, key", [
    ({"model": "m", "api_base": "http://x"}, "api_base"),
    ({"model": "m", "api_key": "sk"}, "api_key"),
    ({"model": "m", "aws_region_name": "us-east-1"}, "aws_region_name"),
    ({"model": "m", "metadata": {"base_url": "http://x"}}, "base_url"),
    ({"model": "m", "extra_body": {"vertex_project": "p"}}, "vertex_project"),
    ({"model": "m", "metadata": {"user_id": "u"}, "messages": [{"api_base": "in content, not a parameter"}]}, None),
    ([{"api_base": "x"}], None),
])
def test_routing_overrides_are_found_at_the_top_and_one_level_down(body, key):
    assert trust.routing_override(body) == key


def test_the_body_limit_defaults_to_anthropics_and_bad_settings_are_named():
    assert trust.from_environment({}).max_body_bytes == 32 * 1024 * 1024
    assert trust.from_environment({trust.MAX_BODY_VAR: "2048"}).max_body_bytes == 2048
    found = settings_mod.Settings({trust.MAX_BODY_VAR: "12MB", trust.ORIGINS_VAR: "localhost:3000"}).problems()
    assert "GATEWAY_MAX_BODY_BYTES=12MB is not a byte count" in found[trust.MAX_BODY_VAR]
    assert "'localhost:3000' is not an origin" in found[trust.ORIGINS_VAR] and "in .env" in found[trust.ORIGINS_VAR]


def test_settings_give_the_boundary_of_their_bind_address():
    boundary = settings_mod.Settings({"LITELLM_HOST": "0.0.0.0", trust.HOSTS_VAR: "A.lan, b.lan"}).boundary
    assert boundary.hosts == {"a.lan", "b.lan"} and boundary.host_allowed("0.0.0.0")


def receiving(*chunks, stall=False):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or stall}
                for i, c in enumerate(chunks)]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
    return receive


def test_a_body_is_read_whole_and_handed_on_once():
    body, last = asyncio.run(gatekeeper.read_bounded(receiving(b"{", b'"a": 1}'), 100))
    assert body == b'{"a": 1}'
    replay = gatekeeper.replaying(body, last, receiving())
    assert asyncio.run(replay()) == {"type": "http.request", "body": b'{"a": 1}', "more_body": False}


def test_a_body_over_the_limit_is_refused_as_it_arrives():
    with pytest.raises(gatekeeper.Refused) as refused:
        asyncio.run(gatekeeper.read_bounded(receiving(b"x" * 60, b"x" * 60), 100))
    assert refused.value.refusal.status == 413 and "GATEWAY_MAX_BODY_BYTES (100 bytes)" in refused.value.refusal.message


def test_a_body_that_stalls_is_refused_at_its_deadline(monkeypatch):
    monkeypatch.setattr(gatekeeper, "BODY_DEADLINE", 0.2)
    with pytest.raises(gatekeeper.Refused) as refused:
        asyncio.run(gatekeeper.read_bounded(receiving(b"{", stall=True), 100))
    assert refused.value.refusal.status == 408


def test_keys_are_read_where_litellm_reads_them():
    scope = {"headers": [(b"authorization", b"Bearer sk-a"), (b"x-api-key", b"sk-b"), (b"x-other", b"sk-c"),
                         (b"x-litellm-api-key", b"Bearer sk-e")], "query_string": b"alt=sse&key=sk-d"}
    assert gatekeeper.presented_keys(scope) == ["sk-a", "sk-b", "sk-e", "sk-d"]
    assert gatekeeper.presented_keys({"headers": [(b"authorization", b"sk-no-bearer")]}) == []


def test_make_info_shows_the_boundary(env_file, capsys):
    from scripts import info
    env_file(LITELLM_MASTER_KEY="sk-" + "k" * 40, GATEWAY_ALLOWED_ORIGINS="http://localhost:3000",
             GATEWAY_MAX_BODY_BYTES="2048")
    assert info.main([]) == 0
    rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in capsys.readouterr().out.splitlines()}
    assert rows["web pages"] == "http://localhost:3000 (GATEWAY_ALLOWED_ORIGINS)"
    assert rows["extra hosts"] == "none (GATEWAY_ALLOWED_HOSTS)"
    assert rows["max body"] == "2048 bytes (GATEWAY_MAX_BODY_BYTES)"
