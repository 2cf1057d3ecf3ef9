"""Issue 22's attacks, replayed against one real proxy and the simulators (all on 127.0.0.1).

The proxy runs with the key-less Ollama mode on (the riskiest setting a user can choose) and
one listed browser origin. Each test is one attack and asserts what it may cost: no upstream
call, a short refusal, bounded memory, no new metric series, connections closed in time.
Measured numbers are printed (`pytest -s`) for docs/security.md.
"""
import json
import os
import random
import re
import socket
import string
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from harness import MASTER_KEY, logged_since, start_stack

from scripts.core.paths import PROJECT_DIR
from scripts.core.settings import NO_DOTENV
from scripts.core.procs import read_pid
from scripts.in_proxy.serving import HEADER_DEADLINE

pytestmark = pytest.mark.e2e
PAGE = "http://localhost:3000"  # GATEWAY_ALLOWED_ORIGINS of this module's proxy
EVIL = "https://evil.example"
MESSAGE = {"model": "claude-haiku", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
KEY = {"x-api-key": MASTER_KEY}
SHORT_BODY = 400  # bytes: a one-line refusal, never a traceback
# Routes served without a key by design: health probes (`make health`, services) and, in the
# key-less Ollama mode this proxy runs, /api/* from loopback (their wrong-key requests are swept).
KEYLESS = ("/health/liveliness", "/health/liveness", "/health/readiness")
ROUTE_LIST = """
import json, os, sys
import scripts.in_proxy.litellm_main  # installs the hook that mounts the toolkit's routes
from litellm.proxy.proxy_server import app
json.dump([[r.path, sorted(getattr(r, "methods", None) or ["GET"])] for r in app.routes if hasattr(r, "path")],
          sys.stdout)
sys.stdout.flush()
os._exit(0)  # LiteLLM's import leaves threads running that would keep the interpreter alive
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    lister = list_routes()  # LiteLLM's import takes seconds: meanwhile the stack starts
    try:
        running = start_stack(tmp_path_factory.mktemp("e2e-redteam"),
                              env_values={"OLLAMA_ALLOW_KEYLESS": "true", "GATEWAY_ALLOWED_ORIGINS": PAGE})
    except BaseException:
        lister.kill()
        raise
    out, err = lister.communicate(timeout=180)
    assert lister.returncode == 0, err[-2000:]
    running.logs["routes"] = out
    yield running
    running.stop()


@pytest.fixture
def fresh(stack):
    """The stack, its simulators' records emptied."""
    return stack.reset() or stack


def upstream_calls(stack) -> list:
    return [*stack.sims.anthropic.requests(), *stack.sims.bedrock.requests(), *stack.sims.openai.requests()]


def list_routes() -> subprocess.Popen:
    """A process that prints (path, methods) of every route on the proxy's app, LiteLLM's and
    the toolkit's, read from the app object itself (the proxy no longer serves its /routes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "LITELLM_"))}
    env.update(PYTHONPATH=str(PROJECT_DIR), LITELLM_LOCAL_MODEL_COST_MAP="True", **NO_DOTENV)
    return subprocess.Popen([str(PROJECT_DIR / ".venv" / "bin" / "python"), "-c", ROUTE_LIST], cwd=PROJECT_DIR,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def concrete(path: str) -> str:
    """A request path for a route template: each {param} filled in."""
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_refuses_a_missing_or_wrong_key_at_no_cost(fresh):
    routes = json.loads(fresh.logs["routes"])
    assert len(routes) > 300  # LiteLLM's whole surface, not just the contract's routes
    cases = [(method, concrete(path), headers) for path, methods in routes for method in methods
             if method not in ("HEAD",) and path.rstrip("/") not in KEYLESS
             for headers in ({} if not path.startswith("/api/") else None, {"Authorization": "Bearer sk-wrong"})
             if headers is not None]
    session = requests.Session()

    def send(case):
        method, path, headers = case
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        reply = session.request(method, fresh.base_url + path, headers={"content-type": "application/json", **headers},
                                data=body, timeout=30)
        return method, path, bool(headers), reply.status_code, len(reply.content)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, cases))
    wrong = [a for a in answers if a[3] not in (401, 403, 404, 405) or a[4] > SHORT_BODY]
    print(f"\nroute sweep: {len(routes)} routes, {len(answers)} requests, statuses "
          f"{sorted({a[3] for a in answers})}, largest body {max(a[4] for a in answers)} B")
    assert wrong == [], wrong[:20]
    assert upstream_calls(fresh) == []


def test_pages_and_rebinding_are_refused_and_lose_litellms_cors(fresh):
    allowed = requests.options(fresh.base_url + "/v1/messages", timeout=10, headers={
        "Origin": PAGE, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == PAGE
    for origin, extra in ((EVIL, {}), (PAGE, {"Access-Control-Request-Private-Network": "true"})):
        preflight = requests.options(fresh.base_url + "/v1/messages", timeout=10, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", **extra})
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    # The no-preflight attack: text/plain from a page to the key-less Ollama route.
    simple = requests.post(fresh.base_url + "/api/chat", data=json.dumps({**MESSAGE, "stream": False}), timeout=10,
                           headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert simple.status_code == 403 and "access-control-allow-origin" not in simple.headers
    listed_keyless = requests.post(fresh.base_url + "/api/chat", json={**MESSAGE, "stream": False}, timeout=10,
                                   headers={"Origin": PAGE})
    assert listed_keyless.status_code == 403 and "key-less" in listed_keyless.json()["error"]
    rebound = requests.post(fresh.base_url + "/v1/messages", json=MESSAGE, timeout=10,
                            headers={**KEY, "Host": "evil.example"})
    assert rebound.status_code == 403 and "GATEWAY_ALLOWED_HOSTS" in rebound.text
    assert upstream_calls(fresh) == []
    keyed = requests.post(fresh.base_url + "/v1/messages", json=MESSAGE, headers=KEY, timeout=30)
    assert keyed.status_code == 200 and not any(h.startswith("access-control-") for h in keyed.headers)
    from_page = requests.post(fresh.base_url + "/v1/messages", json=MESSAGE, timeout=30,
                              headers={**KEY, "Origin": PAGE})
    assert from_page.status_code == 200 and from_page.headers["access-control-allow-origin"] == PAGE


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def oversized_post(port: int, size: int, headers: str) -> None:
    """A POST declaring `size` bytes, sent in 1 MB writes until the proxy closes the connection."""
    chunk = b" " * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {size}\r\n{headers}\r\n".encode() + b"{")
        try:
            for _ in range(size >> 20):
                sock.sendall(chunk)
        except OSError:
            return  # closed by the proxy: what a refusal before the body does


def test_oversized_bodies_are_refused_before_they_are_read(fresh):
    pid = read_pid(fresh.workdir / "state" / "proxy.pid")
    before = rss_kb(pid)
    threads = [threading.Thread(target=oversized_post, args=(fresh.port, 100 << 20, "")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    after_keyless = rss_kb(pid)
    # With the key: a Content-Length over the limit is a 413 at once; so is a chunked body, counted.
    declared = requests.post(fresh.base_url + "/v1/messages", headers={**KEY, "content-type": "application/json"},
                             data=b"{" + b" " * (33 << 20), timeout=60)
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "request_too_large"
    chunked = requests.post(fresh.base_url + "/v1/messages", headers={**KEY, "content-type": "application/json"},
                            data=iter([b"{"] + [b" " * (1 << 20)] * 40), timeout=60)
    assert chunked.status_code == 413 and "GATEWAY_MAX_BODY_BYTES" in chunked.text
    print(f"\nRSS before {before // 1024} MB, after 4 keyless 100 MB POSTs {after_keyless // 1024} MB, "
          f"after the keyed 413s {rss_kb(pid) // 1024} MB")
    assert after_keyless - before < 30 * 1024  # kB: the bodies were never read
    assert upstream_calls(fresh) == []


def metrics(stack) -> str:
    reply = requests.get(stack.base_url + "/metrics/", headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=30)
    assert reply.status_code == 200
    return reply.text


def series(text: str) -> set:
    """Every series (name and labels) of the metrics text, without the values."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines()
            if line and not line.startswith("#") and not line.startswith(("python_gc_", "process_"))}


def random_agent() -> str:
    return "evil-" + "".join(random.choices(string.ascii_lowercase, k=16))


def test_keyless_requests_add_no_metric_series_and_no_label_is_client_picked(fresh):
    assert requests.post(fresh.base_url + "/v1/messages", json=MESSAGE, headers=KEY, timeout=30).status_code == 200
    before = metrics(fresh)
    session = requests.Session()
    paths = ["/v1/messages", "/v1/chat/completions", "/langfuse/api/public", "/metrics/", "/ui/"]
    for i in range(200):
        session.post(fresh.base_url + paths[i % len(paths)], json=MESSAGE, timeout=10,
                     headers={"User-Agent": random_agent(), **({"x-api-key": "sk-wrong"} if i % 2 else {})})
    after = metrics(fresh)
    print(f"\n/metrics: {len(before)} B and {len(series(before))} series before 200 keyless requests with random "
          f"User-Agents, {len(after)} B and {len(series(after))} series after")
    assert series(after) == series(before) and abs(len(after) - len(before)) < 512
    # A keyed request with a random User-Agent: counted, but under no label its sender picked.
    agent = random_agent()
    assert requests.post(fresh.base_url + "/v1/messages", json=MESSAGE, timeout=30,
                         headers={**KEY, "User-Agent": agent}).status_code == 200
    text = metrics(fresh)
    assert agent not in text and "user_agent=" not in text and "client_ip=" not in text


def test_half_open_connections_are_closed_by_the_proxy(fresh):
    socks = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", fresh.port), timeout=HEADER_DEADLINE + 10)
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never ends its head
        socks.append(sock)
    started = time.monotonic()

    def closed_after(sock) -> float:
        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        finally:
            sock.close()
        return time.monotonic() - started if data == b"" else float("inf")

    with ThreadPoolExecutor(50) as pool:
        seconds = list(pool.map(closed_after, socks))
    print(f"\nslow-loris: 50 half-open connections closed after {min(seconds):.1f}-{max(seconds):.1f} s")
    assert max(seconds) <= HEADER_DEADLINE + 5
    assert requests.get(fresh.base_url + "/health/liveliness", timeout=10).status_code == 200


@pytest.mark.parametrize("key, where", [("api_base", "top"), ("api_key", "top"), ("aws_region_name", "top"),
                                        ("base_url", "metadata"), ("api_base", "extra_body")])
def test_routing_overrides_in_a_body_are_a_one_line_400(fresh, key, where):
    body = {**MESSAGE, key: "http://127.0.0.1:9/steal"} if where == "top" else {**MESSAGE, where: {key: "x"}}
    size = fresh.log_file.stat().st_size
    reply = requests.post(fresh.base_url + "/v1/messages", json=body, headers=KEY, timeout=30)
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "invalid_request_error"
    assert repr(key) in reply.json()["error"]["message"] and len(reply.content) < SHORT_BODY
    assert upstream_calls(fresh) == []
    logged = logged_since(fresh.log_file, size, 1)
    assert logged.count("\n") == 1 and "Traceback" not in logged, logged


def test_log_bytes_per_refused_request(fresh):
    size = fresh.log_file.stat().st_size
    session = requests.Session()
    for _ in range(100):
        session.get(fresh.base_url + "/langfuse/api/public/traces", timeout=10)
    grown = len(logged_since(fresh.log_file, size, 100).encode())
    print(f"\nlog: {grown / 100:.0f} B per refused GET /langfuse/* (was an ~8 KB traceback)")
    assert grown / 100 < 200
