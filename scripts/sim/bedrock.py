"""Simulator of Amazon Bedrock for Claude: runtime and control plane on one aiohttp app.

Runtime (the paths boto3's bedrock-runtime client and LiteLLM call):
  POST /model/{id}/invoke, /invoke-with-response-stream   Anthropic body + anthropic_version
  POST /model/{id}/converse, /converse-stream             Converse API (see converse.py)
Control plane (boto3's `bedrock` client with endpoint_url at this server):
  GET /foundation-models, GET /inference-profiles, GET /inference-profiles/{id}

Every request needs SigV4 (checked for real when credentials are configured, see
sigv4.py). Model ids: bare "anthropic.<id>-v1:0" only for ON_DEMAND models,
otherwise an inference profile "<geo>.anthropic..." whose geography matches the
region in the credential scope, exactly the mistakes real Bedrock rejects.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Iterable, Optional

from aiohttp import web

from scripts.sim.converse import converse_events, converse_reply, converse_to_messages
from scripts.sim.eventstream import encode_event, encode_exception
from scripts.sim.faults import (
    REC,
    Fault,
    SimState,
    control_routes,
    pre_fault,
    pump_stream,
    recorder,
)
from scripts.sim.messages import (
    DEFAULT_MODELS,
    MID_SYSTEM_MODELS,
    build_message,
    message_events,
    new_id,
    tool_summary,
    validate_common,
)
from scripts.sim.sigv4 import SigV4Checker

SERVICE_FAULT = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
INVOKE_KEYS = {"anthropic_version", "anthropic_beta", "max_tokens", "messages", "system",
               "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice",
               "thinking", "metadata"}
# Beta flags Bedrock accepts in anthropic_beta: the documented ones plus every flag
# LiteLLM 1.106 forwards to Bedrock (its anthropic_beta_headers_config.json), so a
# rejection here means the real service would reject it too. Claude-Code and OAuth
# flags are API-only and rejected ("invalid beta flag").
BEDROCK_BETAS = {
    "interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "token-efficient-tools-2025-02-19",
    "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24",
    "output-128k-2025-02-19", "dev-full-thinking-2025-05-14", "context-management-2025-06-27",
    "fine-grained-tool-streaming-2025-05-14", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29",
    "effort-2025-11-24", "structured-outputs-2025-11-13", "compact-2026-01-12",
    "dangerous-tool-use-2026-09-03", "mid-conversation-output-config-2026-07-01",
    "mid-conversation-tool-changes-2026-07-01", "thinking-binding-controls-2026-08-01",
    "thinking-display-updates-2026-08-18"}
# Models whose InvokeModel body may carry output_config (effort, format), as LiteLLM 1.106's
# model map flags them (supports_output_config); the others reject the key like any extraneous one.
OUTPUT_CONFIG_MODELS = {"claude-opus-4-5-20251101", "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-7",
                        "claude-opus-4-8", "claude-sonnet-5"}
OUTPUT_CONFIG_KEYS = {"effort", "format"}
# Anthropic id -> (inference types, lifecycle, has a global. profile); unlisted models are
# profile-only, ACTIVE and global. No current Claude model allows on-demand (bare id) calls.
TRAITS = {"claude-opus-4-1-20250805": (["INFERENCE_PROFILE"], "ACTIVE", False),
          "claude-opus-4-20250514": (["INFERENCE_PROFILE"], "LEGACY", False),
          "claude-sonnet-4-20250514": (["INFERENCE_PROFILE"], "LEGACY", True)}
DEFAULT_TRAITS = (["INFERENCE_PROFILE"], "ACTIVE", True)
GEO_REGIONS = {"us": ["us-east-1", "us-east-2", "us-west-2"], "us-gov": ["us-gov-east-1", "us-gov-west-1"],
               "eu": ["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"],
               "apac": ["ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2"], "global": [""]}
GEO_LABEL = {"us": "US", "us-gov": "US-GOV", "eu": "EU", "apac": "APAC", "global": "Global"}
ACCOUNT = "123456789012"
FAULT_ERRORS = {  # mode -> (status, x-amzn-ErrorType, message)
    "throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "500": (500, "InternalServerException", "The system encountered an unexpected error during "
            "processing. Try your request again."),
    "503": (503, "ServiceUnavailableException", "Bedrock is unable to process your request."),
    "expired_token": (403, "ExpiredTokenException", "The security token included in the request is expired"),
}
FAULT_ERRORS["429"] = FAULT_ERRORS["throttle"]
FAULT_ERRORS["529"] = FAULT_ERRORS["overloaded_midstream"] = FAULT_ERRORS["503"]


def aws_error(status: int, code: str, message: str) -> web.Response:
    """AWS rest-json error: botocore reads the code from x-amzn-ErrorType (text before ':').

    Bedrock's own errors carry the coral namespace suffix; the 403s come from the
    AWS front door (auth) and carry the bare code.
    """
    error_type = code + SERVICE_FAULT if status < 403 or status >= 404 else code
    return web.json_response({"message": message}, status=status,
                             headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": str(uuid.uuid4())})


def invalid(message: str) -> web.Response:
    return aws_error(400, "ValidationException", message)


def default_prefixes(region: str) -> list:
    for start, geo in (("us-gov-", "us-gov"), ("us-", "us"), ("ca-", "us"), ("sa-", "us"),
                       ("eu-", "eu"), ("ap-", "apac")):
        if region.startswith(start):
            return [geo, "global"]
    return ["global"]


def _entry(model) -> dict:
    """A catalog entry from a Bedrock model id, or a dict overriding any of its keys."""
    spec = model if isinstance(model, dict) else {"modelId": model}
    model_id = spec["modelId"]
    known = {bedrock_id: (aid, name) for aid, name, bedrock_id in DEFAULT_MODELS}
    derived = re.sub(r"-v\d+(:\d+)?$", "", model_id.removeprefix("anthropic."))
    anthropic_id, name = known.get(model_id, (derived, derived))
    types, status, has_global = TRAITS.get(anthropic_id, DEFAULT_TRAITS)
    return {"modelId": model_id, "anthropic_id": anthropic_id, "name": name, "types": types,
            "status": status, "global": has_global, **spec}


def validate_invoke(body: dict, betas_ok: set, anthropic_id: Optional[str] = None) -> Optional[str]:
    allowed = INVOKE_KEYS | ({"output_config"} if anthropic_id in OUTPUT_CONFIG_MODELS else set())
    extra = [k for k in body if k not in allowed]
    if extra:
        return (f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted, "
                "please reformat your input and try again.")
    output_config = body.get("output_config", {})
    bad = sorted(set(output_config) - OUTPUT_CONFIG_KEYS) if isinstance(output_config, dict) else ["output_config"]
    if bad:
        return f"output_config.{bad[0]}: Extra inputs are not permitted"
    if body.get("anthropic_version") != "bedrock-2023-05-31":
        return "invalid anthropic_version"
    betas = body.get("anthropic_beta", [])
    if not isinstance(betas, list) or any(b not in betas_ok for b in betas):
        return "invalid beta flag"
    for key in ("max_tokens", "messages"):
        if key not in body:
            return (f"Malformed input request: #: required key [{key}] not found, "
                    "please reformat your input and try again.")
    # No beta needed here: LiteLLM never forwards mid-conversation-system-* to Bedrock and keeps
    # the turns in place for these models (its model map: supports_mid_conversation_system).
    return validate_common(body, anthropic_id in MID_SYSTEM_MODELS)


class BedrockSim:
    def __init__(self, models: Optional[Iterable] = None, credentials: Optional[tuple] = None,
                 expired_tokens: Iterable[str] = ("expired-token",), profile_prefixes: Optional[dict] = None,
                 betas: Optional[Iterable[str]] = None, fault: Optional[Fault] = None,
                 denied_actions: Iterable[str] = ()):
        """credentials: (access_key, secret_key) to verify signatures; profile_prefixes:
        {region: ["global", ...]} overriding the geography prefixes a region offers;
        denied_actions: control-plane operations (ListFoundationModels, ListInferenceProfiles)
        answered with AccessDeniedException, as for an IAM policy that lacks them."""
        self.denied_actions = set(denied_actions)
        self.models = [_entry(m) for m in (models or [bedrock_id for _, _, bedrock_id in DEFAULT_MODELS])]
        self.by_id = {m["modelId"]: m for m in self.models}
        self.sigv4 = SigV4Checker(credentials, set(expired_tokens))
        self.prefixes = dict(profile_prefixes or {})
        self._profiles: dict = {}
        self.betas = set(betas or BEDROCK_BETAS)
        self.state = SimState("bedrock", fault)
        self.cache: dict = {}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[recorder(self.state, lambda status, exc: aws_error(
            status, "UnknownOperationException", exc.reason))], client_max_size=64 * 1024 * 1024)
        app.add_routes(control_routes(self.state) + [
            web.post("/model/{model_id:.+}/invoke", self.invoke),
            web.post("/model/{model_id:.+}/invoke-with-response-stream", self.invoke_stream),
            web.post("/model/{model_id:.+}/converse", self.converse),
            web.post("/model/{model_id:.+}/converse-stream", self.converse_stream),
            web.get("/foundation-models", self.list_foundation_models),
            web.get("/inference-profiles", self.list_inference_profiles),
            web.get("/inference-profiles/{profile_id}", self.get_inference_profile),
        ])
        return app

    def region_prefixes(self, region: str) -> list:
        return self.prefixes.get(region) or default_prefixes(region)

    def profiles(self, region: str) -> list:
        """The region's system-defined inference profiles (cached: every invoke checks them)."""
        if region not in self._profiles:
            self._profiles[region] = [
                _profile(m, geo, region) for m in self.models for geo in self.region_prefixes(region)
                if "INFERENCE_PROFILE" in m["types"] and (geo != "global" or m["global"])]
        return self._profiles[region]

    def _resolve(self, model_id: str, region: str):
        """(catalog entry, None) or (None, error response), as Bedrock validates model ids."""
        short = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
        geo, _, rest = short.partition(".")
        if short in self.by_id:
            entry = self.by_id[short]
            if "ON_DEMAND" not in entry["types"]:
                return None, invalid(f"Invocation of model ID {short} with on-demand throughput isn't "
                                     "supported. Retry your request with the ID or ARN of an inference "
                                     "profile that contains this model.")
            return entry, None
        entry = self.by_id.get(rest)
        if entry and any(p["inferenceProfileId"] == short for p in self.profiles(region)):
            return entry, None
        return None, invalid("The provided model identifier is invalid.")

    async def _prelude(self, request: web.Request, stream: bool):
        """Auth, model and JSON body: (entry, body, None) or (None, None, error response)."""
        rec, raw = request[REC], await request.read()
        rec["stream"], rec["model"] = stream, request.match_info["model_id"]
        err = self.sigv4.check(request, raw)
        if err:
            return None, None, aws_error(*err)
        entry, err = self._resolve(rec["model"], rec["region"])
        if err:
            return None, None, err
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None, None, invalid("Malformed input request, please reformat your input and try again.")
        return entry, body, None

    def _fault_response(self, fault: Fault) -> web.Response:
        return aws_error(*FAULT_ERRORS[fault.mode])

    async def _message(self, request, stream: bool, translate=None):
        """Shared by all four runtime operations: the reply message or an error response."""
        entry, body, err = await self._prelude(request, stream)
        if err:
            return None, None, err
        if translate:
            body, problem = translate(body)
            problem = problem or validate_invoke(body, self.betas, entry["anthropic_id"])
        else:
            problem = validate_invoke(body, self.betas, entry["anthropic_id"])
        request[REC].update(tool_summary(body or {}), rejected=problem)
        if problem:
            return None, None, invalid(problem)
        fault = self.state.take_fault(request[REC]["model"])
        early = await pre_fault(request, fault, stream, self._fault_response)
        if early is not None:
            return None, None, early
        greeting = f"Hello from simulated Bedrock (model {request[REC]['model']})."
        msg = build_message(body, greeting, entry["anthropic_id"], new_id("msg_bdrk_"), self.cache)
        return msg, fault, None

    async def invoke(self, request: web.Request) -> web.StreamResponse:
        msg, _, err = await self._message(request, False)
        if err:
            return err
        usage = msg["usage"]
        return web.json_response(msg, headers={
            "x-amzn-RequestId": str(uuid.uuid4()), "X-Amzn-Bedrock-Invocation-Latency": "1",
            "X-Amzn-Bedrock-Input-Token-Count": str(usage["input_tokens"]),
            "X-Amzn-Bedrock-Output-Token-Count": str(usage["output_tokens"]),
            "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": str(usage["cache_read_input_tokens"]),
            "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": str(usage["cache_creation_input_tokens"])})

    async def invoke_stream(self, request: web.Request) -> web.StreamResponse:
        msg, fault, err = await self._message(request, True)
        if err:
            return err
        events = message_events(msg)
        usage = msg["usage"]
        events[-1] = {**events[-1], "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": usage["input_tokens"], "outputTokenCount": usage["output_tokens"],
            "invocationLatency": 1, "firstByteLatency": 1}}
        frames = [(encode_event("chunk", _chunk(ev)), ev["type"] == "content_block_delta") for ev in events]
        return await self._stream(request, frames, fault)

    async def converse(self, request: web.Request) -> web.StreamResponse:
        msg, _, err = await self._message(request, False, converse_to_messages)
        if err:
            return err
        return web.json_response(converse_reply(msg), headers={"x-amzn-RequestId": str(uuid.uuid4())})

    async def converse_stream(self, request: web.Request) -> web.StreamResponse:
        msg, fault, err = await self._message(request, True, converse_to_messages)
        if err:
            return err
        frames = [(encode_event(kind, json.dumps(payload).encode()), kind == "contentBlockDelta")
                  for kind, payload in converse_events(message_events(msg))]
        return await self._stream(request, frames, fault)

    async def _stream(self, request, frames, fault) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "application/vnd.amazon.eventstream",
                                           "x-amzn-RequestId": str(uuid.uuid4()),
                                           "x-amzn-bedrock-content-type": "application/json"})
        await resp.prepare(request)
        request[REC]["status"] = 200
        # An overloaded model surfaces in-stream as an exception frame; the type is configurable.
        kind = (fault.exception if fault else None) or "throttlingException"
        error = encode_exception(kind, json.dumps({"message": FAULT_ERRORS["throttle"][2]}).encode())
        await pump_stream(request, resp, frames, fault, error)
        return resp

    # --- control plane -----------------------------------------------------------------------

    def _denied(self, action: str) -> Optional[web.Response]:
        if action not in self.denied_actions:
            return None
        return aws_error(403, "AccessDeniedException", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Developer/sim "
                         f"is not authorized to perform: bedrock:{action} because no identity-based policy "
                         f"allows the bedrock:{action} action")

    async def list_foundation_models(self, request: web.Request) -> web.Response:
        err = self.sigv4.check(request, await request.read())
        if err:
            return aws_error(*err)
        denied = self._denied("ListFoundationModels")
        if denied:
            return denied
        q, region = request.query, request[REC]["region"]
        for key, allowed in (("byOutputModality", ("TEXT", "IMAGE", "EMBEDDING")),
                             ("byInferenceType", ("ON_DEMAND", "PROVISIONED")),
                             ("byCustomizationType", ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"))):
            if key in q and q[key] not in allowed:
                return invalid(f"1 validation error detected: Value '{q[key]}' at '{key}' failed to "
                               f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")
        if (q.get("byProvider", "anthropic").lower() != "anthropic" or "byCustomizationType" in q
                or q.get("byOutputModality", "TEXT") != "TEXT"):
            return web.json_response({"modelSummaries": []})
        models = [m for m in self.models if q.get("byInferenceType", m["types"][0]) in m["types"]]
        return web.json_response({"modelSummaries": [_summary(m, region) for m in models]})

    async def list_inference_profiles(self, request: web.Request) -> web.Response:
        err = self.sigv4.check(request, await request.read())
        if err:
            return aws_error(*err)
        denied = self._denied("ListInferenceProfiles")
        if denied:
            return denied
        q = request.query
        try:
            size = int(q.get("maxResults", 1000))
            start = int(base64.b64decode(q["nextToken"]).decode()) if "nextToken" in q else 0
        except ValueError:
            return invalid("Invalid pagination token or maxResults.")
        if not 1 <= size <= 1000:
            return invalid("1 validation error detected: Value at 'maxResults' failed to satisfy "
                           "constraint: Member must have value between 1 and 1000")
        profiles = self.profiles(request[REC]["region"]) if q.get("type", "SYSTEM_DEFINED") == "SYSTEM_DEFINED" else []
        body = {"inferenceProfileSummaries": profiles[start:start + size]}
        if start + size < len(profiles):
            body["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return web.json_response(body)

    async def get_inference_profile(self, request: web.Request) -> web.Response:
        err = self.sigv4.check(request, await request.read())
        if err:
            return aws_error(*err)
        wanted = request.match_info["profile_id"].rsplit("/", 1)[-1]
        for p in self.profiles(request[REC]["region"]):
            if p["inferenceProfileId"] == wanted:
                return web.json_response(p)
        return aws_error(404, "ResourceNotFoundException", "Inference profile not found.")


def _chunk(event: dict) -> bytes:
    """invoke-with-response-stream payload: the Anthropic event JSON, base64 in "bytes"."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    return json.dumps({"bytes": base64.b64encode(raw).decode()}).encode()


def _summary(m: dict, region: str) -> dict:
    return {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{m['modelId']}",
            "modelId": m["modelId"], "modelName": m["name"], "providerName": "Anthropic",
            "inputModalities": ["TEXT", "IMAGE"], "outputModalities": ["TEXT"],
            "responseStreamingSupported": True, "customizationsSupported": [],
            "inferenceTypesSupported": m["types"], "modelLifecycle": {"status": m["status"]}}


def _profile(m: dict, geo: str, region: str) -> dict:
    pid = f"{geo}.{m['modelId']}"
    regions = GEO_REGIONS.get(geo, [region])
    where = ", ".join(regions) if geo != "global" else "all commercial AWS regions"
    return {"inferenceProfileName": f"{GEO_LABEL.get(geo, geo.upper())} Anthropic {m['name']}",
            "inferenceProfileArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{pid}",
            "inferenceProfileId": pid, "status": "ACTIVE", "type": "SYSTEM_DEFINED",
            "description": f"Routes requests to Anthropic {m['name']} in {where}.",
            "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{m['modelId']}"} for r in regions]}
