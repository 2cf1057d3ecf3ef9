"""Tiny HTTP client on urllib: the lifecycle scripts stay fast to import."""
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Optional


@dataclass
class Reply:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def request(method: str, url: str, *, headers: Optional[Dict[str, str]] = None,
            payload: Any = None, data: Optional[bytes] = None, timeout: float = 5.0) -> Reply:
    """One request; HTTP errors come back as a Reply, network errors raise OSError.
    payload is sent as JSON; data, a body sent as given (Content-Type from headers,
    else application/json)."""
    if payload is not None:
        data = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and not req.has_header("Content-type"):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
    except urllib.error.URLError as err:
        raise OSError(str(err.reason)) from None


def is_live(base_url: str, timeout: float = 1.0) -> bool:
    """True when a LiteLLM proxy answers there (not just any server on the port)."""
    try:
        reply = request("GET", f"{base_url}/health/liveliness", timeout=timeout)
    except OSError:
        return False
    return reply.status == 200 and b"alive" in reply.body
