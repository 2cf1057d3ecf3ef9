"""Ollama's API and Gemini's /v1/ routes, mounted on LiteLLM's own FastAPI app.

scripts/in_proxy/litellm_main.py calls mount() the moment `litellm.proxy.proxy_server`
has been imported, before uvicorn serves its `app`. Every route here runs LiteLLM's
own request path, as its native Gemini routes do: `user_api_key_auth` as the
dependency, then `ProxyBaseLLMRequestProcessing` with the proxy's `llm_router`,
hooks and callbacks, so fallbacks, cooldowns, metrics and auth are the ones every
other route gets. Only the formats at the edges are ours (ollama.py, ollama_replies.py).

Everything LiteLLM is taken from the `server` module handed to mount(), read at
request time (LiteLLM assigns `llm_router`, `master_key`, ... at start-up); this
module imports nothing of LiteLLM, so importing it costs nothing before the CLI runs.
"""
import ipaddress
import json
import os
import sys
import time
from types import ModuleType
from typing import Any, Dict, List

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException  # FastAPI's is a subclass: both are caught

from scripts.core import settings
from scripts.in_proxy import ollama
from scripts.in_proxy import ollama_replies as replies

NDJSON = "application/x-ndjson"
# Headers LiteLLM reads a client credential from: a client that sends any of them is
# judged by it, never lent the master key.
CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-goog-api-key", b"api-key",
                                b"x-litellm-api-key", b"ocp-apim-subscription-key"})


def mount(server: ModuleType) -> None:
    """Add the routes to LiteLLM's app (called once, right after proxy_server's import)."""
    add_gemini_routes(server)
    keyless = settings.flag(os.environ.get(settings.OLLAMA_KEYLESS))
    if keyless:
        print(f"warning: {settings.OLLAMA_KEYLESS}: /api/* answers loopback clients without a key",
              file=sys.stderr, flush=True)
    routes = server.app.router.routes
    # Starlette tries the routes in order (~1,000 here, a regex each): LiteLLM puts its busiest
    # first (route_priority.py); Ollama's go right after them instead of at the very end.
    from litellm.proxy.route_priority import HOT_ROUTE_PATHS  # loaded already: proxy_server imported it
    at = next((i for i, r in enumerate(routes) if getattr(r, "path", None) not in HOT_ROUTE_PATHS), len(routes))
    routes[at:at] = ollama_router(server, keyless).routes


def add_gemini_routes(server: ModuleType) -> None:
    """google-genai posts to /v1/models/{m}:generateContent by default; LiteLLM serves the
    v1beta paths only. Its endpoints (and their auth) under both, placed just before its
    own, with one edge fix: the SDK sends a Python function's schema as
    `parameters_json_schema`, which LiteLLM 1.106.2 reads only as `parametersJsonSchema`
    (the tool then reaches the model without parameters)."""
    async def tool_schemas_as_litellm_reads_them(request: Request) -> None:
        camel_case_tool_schemas(await server.read_request_body(request))

    ours = APIRouter()
    for route in list(server.google_router.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/v1beta/models/"):
            for path in (route.path, "/v1/" + route.path[len("/v1beta/"):]):
                ours.add_api_route(path, route.endpoint, methods=sorted(route.methods),
                                   dependencies=[Depends(tool_schemas_as_litellm_reads_them), *route.dependencies],
                                   response_model=route.response_model, name=route.name,
                                   include_in_schema=False)
    routes = server.app.router.routes
    at = next((i for i, r in enumerate(routes) if getattr(r, "path", "").startswith("/v1beta/models/")), len(routes))
    routes[at:at] = ours.routes


def camel_case_tool_schemas(body: Any) -> None:
    """In place: the cached request body LiteLLM's Gemini endpoint reads after this."""
    tools = body.get("tools") if isinstance(body, dict) else None
    for tool in tools if isinstance(tools, list) else []:
        for declaration in (tool.get("functionDeclarations") or []) if isinstance(tool, dict) else []:
            if isinstance(declaration, dict) and "parameters_json_schema" in declaration:
                declaration.setdefault("parametersJsonSchema", declaration.pop("parameters_json_schema"))


NO_KEY = ("no key: send the proxy's key (LITELLM_MASTER_KEY) as `Authorization: Bearer <key>` "
          "(ollama-python: OLLAMA_API_KEY), or allow key-less local clients with OLLAMA_ALLOW_KEYLESS=true in .env")


def has_credential(scope: Dict[str, Any]) -> bool:
    return any(name.lower() in CREDENTIAL_HEADERS for name, _ in scope.get("headers") or [])


def lend_master_key(scope: Dict[str, Any], master_key: Any) -> None:
    """Key-less mode (.env OLLAMA_ALLOW_KEYLESS): a loopback client that sent no credential
    is authenticated as the master key, by LiteLLM's own auth like any keyed request."""
    client = scope.get("client")
    if not isinstance(master_key, str) or not client or not is_loopback(client[0]) or has_credential(scope):
        return
    scope["headers"] = [*(scope.get("headers") or []), (b"authorization", b"Bearer " + master_key.encode())]


def body_is_json(scope: Dict[str, Any]) -> None:
    """Ollama reads every body as JSON whatever its content-type (its docs use `curl -d`,
    which says form-urlencoded); LiteLLM's body reader goes by the header."""
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"content-type"]
    scope["headers"] = [*headers, (b"content-type", b"application/json")]


def is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def error_response(status: int, message: Any, headers: Any = None) -> JSONResponse:
    return JSONResponse(ollama.error_body(message), status_code=status, headers=headers or None)


def is_object_or_empty(body: bytes) -> bool:
    """A body that cannot be a JSON object (an array, a string) without parsing it: Starlette
    keeps the bytes for LiteLLM's reader, which parses them once."""
    start = body.lstrip()[:1]
    return start in (b"", b"{")


def _status(code: Any) -> int:
    return int(code) if str(code).isdigit() and 400 <= int(code) < 600 else 500


def _route_class(server: ModuleType, keyless: bool) -> type:
    class OllamaRoute(APIRoute):
        """Errors in Ollama's {"error": "..."} shape, auth failures included (they are raised
        before the endpoint runs, by the dependency)."""

        def get_route_handler(self):
            handler = super().get_route_handler()

            async def ollama_handler(request: Request) -> Response:
                if keyless:
                    lend_master_key(request.scope, server.master_key)
                if not has_credential(request.scope):  # answered here: LiteLLM 1.106.2 fails with a 500
                    return error_response(401, NO_KEY)
                body_is_json(request.scope)
                request.__dict__.pop("_headers", None)  # Starlette caches the headers it parsed
                if not is_object_or_empty(await request.body()):  # LiteLLM's auth fails with a 500 on those
                    return error_response(400, "the request body must be a JSON object")
                try:
                    return await handler(request)
                except ollama.OllamaError as exc:
                    return error_response(exc.status, exc.message)
                except HTTPException as exc:
                    return error_response(exc.status_code, exc.detail, exc.headers)
                except server.ProxyException as exc:
                    return error_response(_status(exc.code), exc.message, exc.headers)
            return ollama_handler
    return OllamaRoute


def ollama_router(server: ModuleType, keyless: bool) -> APIRouter:
    router = APIRouter(route_class=_route_class(server, keyless), tags=["ollama"])
    authenticated = [Depends(server.user_api_key_auth)]
    modified_at = replies.created_at()  # no model file changes here: the time the routes came up

    async def answer(request: Request, fastapi_response: Response, user: Any, kind: str) -> Response:
        started = time.monotonic_ns()
        body = _object(await server.read_request_body(request))
        model = _known_model(server.llm_router, body.get("model"))
        if ollama.loads_only(body, kind):
            return JSONResponse(replies.load_reply(body["model"], kind))
        payload = (ollama.chat_request if kind == "chat" else ollama.generate_request)(body, {model})
        result = await _through_litellm(server, request, fastapi_response, user, payload)
        if isinstance(result, StreamingResponse):
            return _as_ndjson(result, replies.StreamTranslator(body["model"], kind, started))
        if isinstance(result, Response):  # LiteLLM's JSON error when a stream failed before its first byte
            error = ollama.parse_json_object(result.body) or {}
            return error_response(result.status_code, error.get("error") or "upstream error")
        build = replies.chat_reply if kind == "chat" else replies.generate_reply
        reply = build(result.model_dump(), body["model"], time.monotonic_ns() - started)
        return JSONResponse(reply, headers=dict(fastapi_response.headers))

    @router.post("/api/chat")
    async def chat(request: Request, fastapi_response: Response, user=Depends(server.user_api_key_auth)):
        return await answer(request, fastapi_response, user, "chat")

    @router.post("/api/generate")
    async def generate(request: Request, fastapi_response: Response, user=Depends(server.user_api_key_auth)):
        return await answer(request, fastapi_response, user, "generate")

    @router.get("/api/tags", dependencies=authenticated)
    async def tags():
        providers = _providers(server.llm_router)
        return {"models": [replies.describe(name, providers[name], modified_at) for name in sorted(providers)]}

    @router.post("/api/show", dependencies=authenticated)
    async def show(request: Request):
        body = _object(await server.read_request_body(request))
        name = body.get("model") or body.get("name")  # older clients send "name"
        model = _known_model(server.llm_router, name)
        return replies.show(model, _model_info(server.llm_router, model), modified_at)

    @router.get("/api/version", dependencies=authenticated)
    async def version():
        return {"version": replies.OLLAMA_API_VERSION}

    @router.get("/api/ps", dependencies=authenticated)
    async def running():
        return {"models": []}  # nothing runs in this process: every model is served upstream

    return router


async def _through_litellm(server: ModuleType, request: Request, fastapi_response: Response, user: Any,
                           payload: dict) -> Any:
    """LiteLLM's /v1/chat/completions path for `payload`, as its own Gemini routes call it."""
    # The identity fields LiteLLM's /v1/chat/completions endpoint adds before the same call
    # (spend and metrics per user, team and organisation).
    metadata = payload.setdefault("metadata", {})
    for field, key in (("user_id", "user_api_key_user_id"), ("team_id", "user_api_key_team_id"),
                       ("org_id", "user_api_key_org_id")):
        if getattr(user, field, None) is not None:
            metadata[key] = getattr(user, field)
    processor = server.ProxyBaseLLMRequestProcessing(data=payload)
    try:
        return await processor.base_process_llm_request(
            request=request, fastapi_response=fastapi_response, user_api_key_dict=user, route_type="acompletion",
            proxy_logging_obj=server.proxy_logging_obj, llm_router=server.llm_router,
            general_settings=server.general_settings, proxy_config=server.proxy_config,
            select_data_generator=server.select_data_generator, model=None, user_model=server.user_model,
            user_temperature=server.user_temperature, user_request_timeout=server.user_request_timeout,
            user_max_tokens=server.user_max_tokens, user_api_base=server.user_api_base, version=server.version)
    except Exception as exc:  # LiteLLM's own failure handling: hooks, metrics, the error it would send
        raise await processor.handle_llm_api_exception(e=exc, user_api_key_dict=user,
                                                       proxy_logging_obj=server.proxy_logging_obj,
                                                       version=server.version) from exc


def _as_ndjson(response: StreamingResponse, translator: replies.StreamTranslator) -> StreamingResponse:
    """LiteLLM's SSE response (its headers, its clean-up) carrying Ollama's NDJSON instead."""
    source = response.body_iterator

    async def lines():
        try:
            async for piece in source:
                for obj in translator.sse(piece if isinstance(piece, str) else piece.decode("utf-8")):
                    yield json.dumps(obj, separators=(",", ":")) + "\n"
            for obj in translator.cut_short():
                yield json.dumps(obj, separators=(",", ":")) + "\n"
        finally:
            await source.aclose()

    response.body_iterator = lines()
    response.media_type = NDJSON
    response.headers["content-type"] = NDJSON
    return response


def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ollama.OllamaError(400, "the request body must be a JSON object")
    return body


def _known_model(router: Any, name: Any) -> str:
    """The proxy's name for `name`; Ollama's 404 when the proxy serves no such model."""
    model = ollama.served_name(name, router.model_names if router else ())
    if router and (model in router.model_names or router.pattern_router.get_deployments_by_pattern(model=model)):
        return model
    raise ollama.OllamaError(404, f"model '{name}' not found")


def _providers(router: Any) -> Dict[str, str]:
    """Each public model name (wildcard routes left out) and the provider of its first deployment."""
    found: Dict[str, str] = {}
    for deployment in (router.model_list if router else []):
        name = deployment.get("model_name", "")
        if "*" not in name and name not in found:
            found[name] = str(deployment.get("litellm_params", {}).get("model", "")).split("/")[0]
    return found


def _model_info(router: Any, model: str) -> Dict[str, Any]:
    info = router.get_model_group_info(model_group=model)
    providers: List[str] = list(info.providers) if info and info.providers else []
    return {"provider": providers[0] if providers else _providers(router).get(model, ""),
            "context_length": info.max_input_tokens if info else None,
            "tools": bool(info and info.supports_function_calling), "vision": bool(info and info.supports_vision),
            "thinking": bool(info and info.supports_reasoning)}
