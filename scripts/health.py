"""Checks against the running proxy: health, test, models."""
import argparse
import time
from typing import List

from scripts.auth import credentials
from scripts.catalog import bedrock_check
from scripts.core import configfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import Reply
from scripts.gateway import effective_config, credential_tiers, upstreams
from scripts.gateway.client import TEST_PROMPT, answered_by, call, installed_version


def _served_models(cfg: settings_mod.Settings) -> Reply:
    """GET /v1/models with the master key: proves the proxy accepts the key."""
    reply = call(cfg, "GET", "/v1/models")
    if reply.status in (401, 403):
        raise ToolkitError("the proxy rejects LITELLM_MASTER_KEY from .env (it was started with another key): "
                           "run `make restart`")
    if reply.status != 200:
        raise ToolkitError(f"GET /v1/models answered {reply.status}: see `make logs`")
    return reply


def _model_ids(reply: Reply) -> List[str]:
    return [m["id"] for m in reply.json().get("data", [])]


def health(_args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    config = configfile.load(paths.config_file())
    live = call(cfg, "GET", "/health/liveliness")
    if live.status != 200:
        raise ToolkitError(f"liveness check failed ({live.status}): see `make logs`, then `make restart`")
    print(f"liveness   ok    {cfg.base_url}")
    ready = call(cfg, "GET", "/health/readiness")
    details = ready.json() if ready.status == 200 else {}
    if ready.status != 200 or details.get("status") not in ("healthy", "connected"):
        raise ToolkitError(f"readiness check failed ({ready.status} {details.get('status')}): see `make logs`")
    print(f"readiness  ok    {details.get('status')}")
    served = _served_models(cfg)
    print(f"auth       ok    master key accepted by LiteLLM {installed_version('litellm')}; "
          f"{len(_model_ids(served))} model names served")
    for line in upstreams.describe(cfg, config):
        print(f"upstream   {line}")
    print(f"tiers      {credential_tiers.describe_paths(cfg)}")
    print(f"fallback   {len(config.fallbacks)} of {len(config.public_models)} model names fall back to Bedrock")
    for note in upstreams.warnings(cfg, config):
        print(f"note       {note}")
    bedrock = bedrock_check.check(cfg)  # raises, naming the fix, when the fallback cannot work
    print(f"bedrock    ok    {bedrock.credentials}; {bedrock.region}: signed ListFoundationModels answered by "
          f"{bedrock.endpoint} in {bedrock.call_ms:.0f} ms ({bedrock.models} Anthropic models; "
          f"check took {bedrock.total_s:.1f}s)")
    failed = 0
    # the logins the running config needs: config.yaml's models and the ones .env defines
    running = configfile.from_data(paths.config_file(), effective_config.load_and_render(cfg))
    for line, healthy in credentials.login_health(running.deployments, _model_ids(served)):
        print(f"login      {'ok   ' if healthy else 'FAIL '} {line}")
        failed += not healthy
    if failed:
        raise ToolkitError(f"{failed} login problem(s) above: run the command each names")
    return 0


def test(args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    payload = {"model": args.model, "max_tokens": 16,
               "messages": [{"role": "user", "content": TEST_PROMPT}]}
    started = time.monotonic()
    reply = call(cfg, "POST", "/v1/messages", payload, timeout=args.timeout)
    elapsed = time.monotonic() - started
    if reply.status != 200:
        message = reply.body.decode(errors="replace")[:300]
        raise ToolkitError(f"POST /v1/messages for {args.model} failed with {reply.status}: {message}")
    try:
        body = reply.json()
    except ValueError:
        body = {}
    text = "".join(block.get("text", "") for block in body.get("content", []) if isinstance(block, dict)).strip()
    if body.get("type") != "message" or not text:
        excerpt = " ".join(reply.body.decode(errors="replace").split())[:300]
        raise ToolkitError(f"POST /v1/messages for {args.model} answered 200 without a message's text: {excerpt}")
    print(f">> {args.model} answered by {answered_by(reply.headers)} in {elapsed * 1000:.0f} ms: {text[:80]!r}")
    return 0


def models(_args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    for name in _model_ids(_served_models(cfg)):
        print(name)
    return 0


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.health")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("health", help="liveness, readiness, upstreams and the Bedrock fallback").set_defaults(func=health)
    test_parser = sub.add_parser("test", help="one real request through the proxy")
    test_parser.add_argument("--model", default="claude-haiku")
    test_parser.add_argument("--timeout", type=float, default=120.0)
    test_parser.set_defaults(func=test)
    sub.add_parser("models", help="model names the proxy serves").set_defaults(func=models)
    args = parser.parse_args(argv)
    return args.func(args)


main = entry_point(__name__, _body)
