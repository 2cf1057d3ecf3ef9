"""List the Claude models each upstream offers: Anthropic's GET /v1/models and
Bedrock's ListFoundationModels + ListInferenceProfiles (boto3, standard AWS chain).

Each side either returns its offers or raises SideFailure, a ToolkitError whose
one line says what failed and what to do; the caller decides what to keep.
"""
import contextlib
import os
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

from scripts.catalog.matching import Offer, anthropic_offers, parse_bedrock_id
from scripts.core import http
from scripts.core.errors import ToolkitError
from scripts.core.settings import ANTHROPIC_DEFAULT_BASE, Settings
from scripts.gateway.upstreams import profile_prefix

ANTHROPIC_VERSION = "2023-06-01"
OAUTH_BETA = "oauth-2025-04-20"
PAGE_SIZE = 100
MAX_PAGES = 50  # a guard against a server that always says has_more
SSO_FIX = "run `make start` (it signs in with AWS SSO), then re-run `make update-models`"


class SideFailure(ToolkitError):
    """One upstream could not be listed; the message names the fix."""


@dataclass
class Listing:
    """What one side offers, plus what it listed but cannot be used (with the reason)."""
    offers: List[Offer]
    summary: str
    unusable: Dict[str, str] = field(default_factory=dict)


# --- Anthropic ---------------------------------------------------------------------------

def anthropic_base(settings: Settings) -> str:
    base = (settings.get("ANTHROPIC_API_BASE") or ANTHROPIC_DEFAULT_BASE).rstrip("/")
    return base[:-3] if base.endswith("/v1") else base


def anthropic_headers(settings: Settings) -> Dict[str, str]:
    credential = settings.anthropic_credential
    if not credential:
        raise SideFailure("Anthropic: no credential in .env: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN")
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if settings.anthropic_credential_kind == "oauth-token":
        headers.update({"Authorization": f"Bearer {credential}", "anthropic-beta": OAUTH_BETA})
    else:
        headers["x-api-key"] = credential
    return headers


def anthropic_model_ids(settings: Settings, page_size: int = PAGE_SIZE) -> List[str]:
    """Every model id, following has_more/last_id across pages."""
    base, headers = anthropic_base(settings), anthropic_headers(settings)
    ids: List[str] = []
    after = None
    for _ in range(MAX_PAGES):
        query = f"?limit={page_size}" + (f"&after_id={after}" if after else "")
        try:
            reply = http.request("GET", f"{base}/v1/models{query}", headers=headers, timeout=15)
        except OSError as exc:
            raise SideFailure(f"Anthropic: {base} is unreachable ({exc}): check the network, or "
                              "ANTHROPIC_API_BASE in .env") from None
        if reply.status != 200:
            raise _anthropic_failure(settings, reply)
        try:
            page = reply.json()
            ids += [str(m["id"]) for m in page["data"]]
        except (ValueError, KeyError, TypeError):
            raise SideFailure(f"Anthropic: {base}/v1/models answered something other than a model list: "
                              "check ANTHROPIC_API_BASE in .env") from None
        after = page.get("last_id")
        if not page.get("has_more") or not after:
            return ids
    raise SideFailure(f"Anthropic: {base}/v1/models kept saying has_more after {MAX_PAGES} pages: "
                      "check ANTHROPIC_API_BASE in .env")


def _anthropic_failure(settings: Settings, reply: http.Reply) -> SideFailure:
    try:
        error = reply.json()["error"]
        detail = f"{reply.status} {error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        detail = str(reply.status)
    if reply.status == 401 and settings.anthropic_credential_kind == "oauth-token":
        fix = "create a new token with `claude setup-token` and set CLAUDE_CODE_OAUTH_TOKEN in .env"
    elif reply.status == 401:
        fix = "set a valid ANTHROPIC_API_KEY in .env (console.anthropic.com > API keys)"
    elif reply.status == 403:
        fix = "this credential may not list models: use a key of a workspace with model access"
    else:
        fix = "the API is busy or failing: try again in a few minutes"
    return SideFailure(f"Anthropic: listing models failed ({detail}): {fix}")


def anthropic_listing(settings: Settings) -> Listing:
    ids = anthropic_model_ids(settings)
    offers = anthropic_offers(ids)
    unusable = {i: "the id does not read as claude-<family>-<version>[-<date>]" for i in ids
                if i not in {o.name for o in offers}}
    summary = f"{len(ids)} models listed by {anthropic_base(settings)} ({settings.anthropic_credential_kind})"
    return Listing(offers, summary, unusable)


# --- Bedrock -----------------------------------------------------------------------------

@contextlib.contextmanager
def aws_environment(settings: Settings) -> Iterator[None]:
    """The AWS_* variables of .env over the shell's, as the proxy gets them, while boto3 runs
    (boto3 reads AWS_PROFILE, keys, AWS_ENDPOINT_URL_BEDROCK ... from os.environ)."""
    values = {k: v for k, v in settings.values.items() if k.startswith("AWS_")}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def bedrock_listing(settings: Settings) -> Listing:
    region = settings.get("AWS_REGION")
    if not region:
        raise SideFailure("Bedrock: AWS_REGION is not set in .env: set it, e.g. AWS_REGION=us-west-2")
    with aws_environment(settings):
        models, profiles = _list_bedrock(region)
    return bedrock_offers(models, profiles, region)


def _list_bedrock(region: str) -> tuple:
    import boto3  # imported here: it is slow to import and only this command needs it
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    action = "ListFoundationModels"
    try:
        client = boto3.Session().client("bedrock", region_name=region, config=Config(
            retries={"total_max_attempts": 2}, connect_timeout=5, read_timeout=30))
        models = client.list_foundation_models(byProvider="anthropic")["modelSummaries"]
        action = "ListInferenceProfiles"
        profiles = []
        for page in client.get_paginator("list_inference_profiles").paginate(typeEquals="SYSTEM_DEFINED"):
            profiles += page.get("inferenceProfileSummaries", [])
    except (BotoCoreError, ClientError) as exc:
        raise bedrock_failure(exc, action, region) from None
    return models, profiles


EXPIRED_CODES = {"ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException",
                 "InvalidClientTokenId", "RequestExpired"}
DENIED_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
EXPIRED_ERRORS = {"NoCredentialsError", "SSOTokenLoadError", "UnauthorizedSSOTokenError",
                  "TokenRetrievalError", "CredentialRetrievalError", "SSOError"}


def bedrock_failure(exc: Exception, action: str, region: str, sso_fix: str = SSO_FIX) -> SideFailure:
    """A one-line reason and fix for a boto3 error (sso_fix: what to do about expired
    credentials, naming the command to run again)."""
    name = type(exc).__name__
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    message = response.get("Error", {}).get("Message", "") or str(exc)
    profile = os.environ.get("AWS_PROFILE")
    who = f"AWS profile {profile}" if profile else "these AWS credentials"
    if code in EXPIRED_CODES or name in EXPIRED_ERRORS:
        creds = f"the credentials of AWS profile {profile}" if profile else "the AWS credentials"
        return SideFailure(f"Bedrock: {creds} are expired or missing "
                           f"({code or name}: {message}): {sso_fix}")
    if code in DENIED_CODES:
        return SideFailure(f"Bedrock: {who} may not call bedrock:{action} in {region} ({code}): "
                           "ask your AWS admin for bedrock:ListFoundationModels and "
                           "bedrock:ListInferenceProfiles, or set another AWS_PROFILE in .env")
    if name == "ProfileNotFound":
        return SideFailure(f"Bedrock: {message}: fix AWS_PROFILE in .env or run `aws configure sso`")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return SideFailure(f"Bedrock: the {region} endpoint is unreachable ({message}): check the network, "
                           "AWS_REGION, or AWS_ENDPOINT_URL_BEDROCK")
    return SideFailure(f"Bedrock: {action} in {region} failed ({code or name}: {message}): "
                       "try again, or check AWS_REGION and AWS_PROFILE in .env")


def choose_deployment(model: dict, profile_ids: List[str], region: str) -> Optional[str]:
    """The id to call the model with from `region`: the region's geography profile,
    else the global one, else another profile the region lists, else the bare model
    id when the model allows on-demand calls."""
    want = profile_prefix(region)
    ranked = sorted(profile_ids, key=lambda p: (not (want and p.startswith(want)), not p.startswith("global."), p))
    if ranked:
        return ranked[0]
    if "ON_DEMAND" in (model.get("inferenceTypesSupported") or []):
        return model["modelId"]
    return None


def _profiles_by_model(profiles: List[dict]) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for profile in profiles:
        if profile.get("status", "ACTIVE") != "ACTIVE":
            continue
        pid = profile["inferenceProfileId"]
        targets = {m.get("modelArn", "").rsplit("/", 1)[-1] for m in profile.get("models") or []}
        targets.add(pid.split(".", 1)[1] if "." in pid else pid)
        for model_id in targets:
            found.setdefault(model_id, []).append(pid)
    return found


def bedrock_offers(models: List[dict], profiles: List[dict], region: str) -> Listing:
    by_model = _profiles_by_model(profiles)
    best: Dict[object, tuple] = {}
    unusable: Dict[str, str] = {}
    for model in models:
        model_id = model["modelId"]
        parsed = parse_bedrock_id(model_id)
        status = (model.get("modelLifecycle") or {}).get("status", "ACTIVE")
        if not parsed:
            continue  # not a chat model id (embeddings, context-window variants, Claude 2)
        name, key, revision = parsed
        deployment = choose_deployment(model, sorted(set(by_model.get(model_id, []))), region)
        if status != "ACTIVE":
            unusable[name] = f"{status.lower()} on Bedrock"
        elif not deployment:
            unusable[name] = f"no inference profile for it in {region}"
        elif key not in best or revision > best[key][0]:
            best[key] = (revision, Offer(name, key, deployment))
    offers = [offer for _, offer in best.values()]
    for offer in offers:
        unusable.pop(offer.name, None)
    summary = f"{len(models)} Anthropic models, {len(profiles)} inference profiles in {region}"
    return Listing(offers, summary, unusable)
