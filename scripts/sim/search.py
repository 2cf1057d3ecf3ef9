"""Simulator of the Tavily Search API, the search provider LiteLLM's web search interception
calls when a web search runs on the fallback (Bedrock, the tiers after it).

Wire format from Tavily's public reference (https://docs.tavily.com/documentation/api-reference/
endpoint/search, and the curl example of https://help.tavily.com/articles/4840311948-tavily-search-api):
  POST /search   Authorization: Bearer tvly-...   JSON body {"query": "...", "max_results": 0..20, ...}
  200 {"query", "answer", "images", "results": [{"title", "url", "content", "score", "raw_content"}],
       "response_time", "request_id"}
  401 {"detail": {"error": "..."}} without or with a wrong key; 400 {"detail": {"error": "..."}} for a
  body without a query or with max_results outside 0..20 (the reference's documented range).
LiteLLM's tavily provider appends /search to TAVILY_API_BASE / the search tool's api_base, so
the simulator's base URL is what the gateway's .env points at.

The results are deterministic and name the query, so a test can tell that the text it got
back came from this search: "Simulated Tavily result N for <query>".
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Iterable, Optional
from urllib.parse import quote

from aiohttp import web

from scripts.sim.faults import REC, Fault, SimState, control_routes, recorder

DEFAULT_RESULTS, MAX_RESULTS = 5, 20
RESULT_TITLE = "Simulated Tavily result {n} for {query}"


def tavily_error(status: int, message: str) -> web.Response:
    return web.json_response({"detail": {"error": message}}, status=status)


def search_results(query: str, count: int) -> list:
    return [{"title": RESULT_TITLE.format(n=n, query=query),
             "url": f"https://search.example/{n}?q={quote(query)}",
             "content": f"Simulated page {n} about {query}.", "score": round(1 - n / 100, 2),
             "raw_content": None} for n in range(1, count + 1)]


class TavilySim:
    def __init__(self, api_keys: Optional[Iterable[str]] = None, fault: Optional[Fault] = None) -> None:
        """api_keys: accept only these (default: any tvly-* key)."""
        self.api_keys = set(api_keys or ())
        self.state = SimState("tavily", fault)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, lambda status, exc: tavily_error(
            status, exc.reason))])
        app.add_routes(control_routes(self.state) + [web.post("/search", self.search)])
        return app

    def _key_ok(self, request: web.Request) -> bool:
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        return key in self.api_keys if self.api_keys else key.startswith("tvly-")

    async def search(self, request: web.Request) -> web.Response:
        started, rec = time.monotonic(), request[REC]
        if not self._key_ok(request):
            return tavily_error(401, "Unauthorized: missing or invalid API key.")
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        query = body.get("query") if isinstance(body, dict) else None
        rec["query"] = query
        if not isinstance(query, str) or not query.strip():
            return tavily_error(400, "Query is missing.")
        count = body.get("max_results", DEFAULT_RESULTS)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_RESULTS:
            return tavily_error(400, f"max_results must be between 0 and {MAX_RESULTS}.")
        fault = self.state.take_fault(None)
        if fault is not None and fault.mode in ("429", "throttle"):
            return tavily_error(429, "Rate limit exceeded.")
        return web.json_response({"query": query, "answer": None, "images": [],
                                  "results": search_results(query, count),
                                  "response_time": round(time.monotonic() - started, 3),
                                  "request_id": str(uuid.uuid4())})
