"""Who may use the proxy: LITELLM_MASTER_KEY, checked by LiteLLM's custom_auth hook.

config.yaml names `scripts.in_proxy.master_key.user_api_key_auth` in
general_settings.custom_auth. LiteLLM calls it on every route that needs a key, with the
key it found in (first wins) x-litellm-api-key, `Authorization: Bearer`, api-key,
x-api-key, x-goog-api-key, Ocp-Apim-Subscription-Key, or `?key=` on Gemini routes. It
replaces LiteLLM's own check, which without a database answered a missing key with 500
(its error handler imports prisma) and a wrong key with 400 "No connected db.", each with
a 10 KB traceback in the log.

Every refusal is a 401 that says what to send (scripts/in_proxy/refusals.py gives it the
route's API format and one log line). The key is compared in constant time. `GET /health`
(a real inference call to every deployment: 34 upstream calls for one request) and
`POST /health/test_connection` are refused with 403: `make health` uses
/health/liveliness, /health/readiness and /v1/models instead. A token count that names
the Claude subscription's tier from another client than Claude Code is refused with 403
too (credential_routing.count_tokens_refusal): no other hook runs on that route.
"""
import hmac
from typing import Optional

from fastapi import Request
from litellm.constants import LITELLM_PROXY_ADMIN_NAME, LITELLM_PROXY_MASTER_KEY_ALIAS
from litellm.proxy import proxy_server
from litellm.proxy._types import LiteLLMRoutes, LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.auth.auth_utils import get_request_route
from litellm.proxy.common_utils.http_parsing_utils import read_request_body

from scripts.in_proxy import claude_code, credential_routing
from scripts.in_proxy.refusals import GatewayRefusal, log_refusal

NO_KEY = ("no proxy key: send LITELLM_MASTER_KEY from .env as `Authorization: Bearer <key>` "
          "or `x-api-key: <key>`")
NO_BEARER = ("invalid proxy key: the Authorization header needs the `Bearer ` prefix "
             "(`Authorization: Bearer <LITELLM_MASTER_KEY from .env>`)")
WRONG_KEY = "invalid proxy key: use LITELLM_MASTER_KEY from .env"
NO_MASTER_KEY = "the proxy has no master key: set LITELLM_MASTER_KEY in .env, then `make restart`"
COUNT_TOKENS_ROUTE = "/v1/messages/count_tokens"
# Routes that make upstream calls of their own: they spend money and no client needs them.
SPENDING_ROUTES = {
    "/health": "GET /health is disabled: it sends a real request to every model. "
               "Use /health/liveliness, /health/readiness or `make health`",
    "/health/test_connection": "POST /health/test_connection is disabled: it sends a real request upstream",
}


async def user_api_key_auth(request: Request, api_key: Optional[str]) -> UserAPIKeyAuth:
    """LiteLLM's custom_auth hook: the master key gets the identity LiteLLM itself gives
    it; anything else raises GatewayRefusal."""
    route = get_request_route(request)  # scope["path"]: a forged Host header cannot change it
    if route in LiteLLMRoutes.public_routes.value:
        return UserAPIKeyAuth(user_role=LitellmUserRoles.INTERNAL_USER_VIEW_ONLY)
    problem = key_problem(request, api_key, proxy_server.master_key)
    if problem:
        log_refusal(request, route, problem.split(":")[0])
        raise GatewayRefusal(401, "authentication_error", problem)
    spending = SPENDING_ROUTES.get(route.rstrip("/"))
    if spending:
        log_refusal(request, route, "disabled route")
        raise GatewayRefusal(403, "permission_error", spending)
    if route.rstrip("/") == COUNT_TOKENS_ROUTE:  # no pre-call hook runs there
        body = await read_request_body(request)  # already parsed by LiteLLM: no second read
        refusal = isinstance(body, dict) and proxy_server.llm_router and credential_routing.count_tokens_refusal(
            credential_routing.routes_of_router(proxy_server.llm_router), body, claude_code.is_claude_code(request.headers, body))
        if refusal:
            log_refusal(request, route, "subscription tier asked for by another client")
            raise GatewayRefusal(403, "permission_error", refusal)
    # A new object per request: LiteLLM stamps request-specific fields onto it.
    return UserAPIKeyAuth(api_key=LITELLM_PROXY_MASTER_KEY_ALIAS, user_role=LitellmUserRoles.PROXY_ADMIN,
                          user_id=LITELLM_PROXY_ADMIN_NAME)


def key_problem(request: Request, api_key: Optional[str], master_key: Optional[str]) -> Optional[str]:
    """None when api_key is the master key, else the message the client gets."""
    if not master_key:
        return NO_MASTER_KEY
    if not api_key:
        authorization = request.headers.get("authorization", "")
        return NO_BEARER if authorization and not authorization.lower().startswith("bearer ") else NO_KEY
    # Constant time: how long the comparison takes tells nothing about the key.
    given, expected = (k.encode("utf-8", "surrogateescape") for k in (api_key, master_key))
    return None if hmac.compare_digest(given, expected) else WRONG_KEY
