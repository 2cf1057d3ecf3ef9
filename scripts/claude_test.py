"""`make test-claude`: a request in Claude Code's wire format through the running proxy,
then (when `claude` is installed) a real `claude -p` through it.

The first request uses the transport Claude Code uses: POST /v1/messages?beta=true,
streamed, with anthropic-beta flags and the proxy key as a Bearer token
(ANTHROPIC_AUTH_TOKEN, see scripts/claude/blocks.py). It is the toolkit's own request,
not Claude Code's, and does not pretend to be: none of what identifies Claude Code
(scripts/in_proxy/claude_code.py: claude-cli user agent, x-app, the claude-code beta flag,
Claude Code's system prompt), so the proxy routes it like any other client (API key, then
Bedrock; never the subscription) and the line says which tier answered. The second runs the
real CLI with the variables the shell block exports, so it passes exactly when a new shell's
`claude` would work, on Claude Code's own tiers (the subscription first when
CLAUDE_CODE_OAUTH_TOKEN is set).

  python -m scripts.claude_test [--model claude-haiku-4-5] [--cli-model MODEL] [--no-cli]
"""
import argparse
import json
import os
import shutil
import subprocess
import time
from typing import Dict, List, Optional, Tuple

from scripts.claude.blocks import HAIKU_MODEL
from scripts.core import procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import Reply, is_live, request
from scripts.gateway import credential_tiers
from scripts.gateway.client import TEST_PROMPT, answered_by, call
from scripts.observability.metrics import parse as parse_metrics

# Beta flags Claude Code also sends, without its own claude-code flag: they prove the proxy
# passes beta flags through; the claude-code one would claim to be Claude Code.
WIRE_BETAS = "interleaved-thinking-2025-05-14,context-management-2025-06-27"
CLI_TIMEOUT = 180
CLAUDE_CODE_AGENT = "claude-cli/"  # the User-Agent Claude Code sends ("claude-cli/2.1.197 (external, cli)")
COUNT_DEADLINE = 5.0  # seconds LiteLLM may take to count a request it answered


def wire_request(cfg: settings_mod.Settings, model: str) -> Tuple[Reply, float]:
    headers = {"Authorization": f"Bearer {cfg.master_key}", "anthropic-version": "2023-06-01",
               "anthropic-beta": WIRE_BETAS, "User-Agent": "claude-gateway test-claude"}
    payload = {"model": model, "max_tokens": 32, "stream": True,
               "system": [{"type": "text", "text": "Answer in one word."}],
               "messages": [{"role": "user", "content": [{"type": "text", "text": TEST_PROMPT}]}]}
    started = time.monotonic()
    try:
        reply = request("POST", f"{cfg.base_url}/v1/messages?beta=true", headers=headers, payload=payload,
                        timeout=120)
    except OSError as exc:
        raise ToolkitError(f"no answer from the proxy at {cfg.base_url} ({exc}): run `make up`") from None
    return reply, time.monotonic() - started


def streamed_text(body: bytes) -> str:
    """The text of a whole Anthropic SSE stream (its text_delta events); ToolkitError for
    a stream that carried an error, was cut before message_stop, or had no text."""
    parts: List[str] = []
    complete = False
    for line in body.decode("utf-8", errors="replace").splitlines():
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:].strip())
        except ValueError:
            continue
        if event.get("type") == "content_block_delta" and event.get("delta", {}).get("type") == "text_delta":
            parts.append(event["delta"].get("text", ""))
        if event.get("type") == "error":
            raise ToolkitError(f"the stream ended with an error: {event.get('error')}")
        complete = complete or event.get("type") == "message_stop"
    if not complete:
        raise ToolkitError("the stream was cut off before message_stop: see `make logs`")
    text = "".join(parts).strip()
    if not text:
        raise ToolkitError("the stream completed without any text: see `make logs`")
    return text


def claude_code_requests(metrics_text: str) -> float:
    """Requests the proxy counted from Claude Code (user agent claude-cli/...), by
    LiteLLM's litellm_proxy_total_requests_metric."""
    return sum(s.value for s in parse_metrics(metrics_text)
               if s.name == "litellm_proxy_total_requests_metric_total"
               and s.labels.get("user_agent", "").startswith(CLAUDE_CODE_AGENT))


def counted_requests(cfg: settings_mod.Settings) -> float:
    """claude_code_requests() of the running proxy; ToolkitError when its counter cannot be
    read, since nothing else shows that `claude -p` went through the proxy."""
    reply = call(cfg, "GET", "/metrics/", timeout=30)
    if reply.status != 200:
        raise ToolkitError(f"GET /metrics/ answered {reply.status}, so whether `claude -p` goes through the proxy "
                           "cannot be seen: keep `callbacks: [\"prometheus\"]` in config.yaml's litellm_settings")
    return claude_code_requests(reply.body.decode("utf-8", errors="replace"))


def wait_for_count(cfg: settings_mod.Settings, before: float) -> float:
    """Claude Code requests counted since `before`; LiteLLM counts after answering, so
    a request that just ended may take a moment to show. 0 after the deadline."""
    try:
        procs.wait_until(lambda: counted_requests(cfg) > before, COUNT_DEADLINE, interval=0.2)
    except TimeoutError:
        return 0.0
    return counted_requests(cfg) - before


def cli_environment(cfg: settings_mod.Settings, model: Optional[str]) -> Dict[str, str]:
    """The calling environment with what the shell block exports in proxy mode."""
    env = dict(os.environ)
    env.update({"ANTHROPIC_BASE_URL": cfg.base_url, "ANTHROPIC_AUTH_TOKEN": cfg.master_key or "",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
    env.setdefault("ANTHROPIC_DEFAULT_HAIKU_MODEL", HAIKU_MODEL)
    if model:
        env["ANTHROPIC_MODEL"] = model
    return env


def run_cli(claude: str, cfg: settings_mod.Settings, model: Optional[str]) -> Tuple[dict, float]:
    started = time.monotonic()
    try:
        done = subprocess.run([claude, "-p", TEST_PROMPT, "--output-format", "json"], env=cli_environment(cfg, model),
                              capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"`claude -p` gave no answer within {CLI_TIMEOUT}s: see `make logs`") from None
    elapsed = time.monotonic() - started
    try:
        result = json.loads(done.stdout)
    except ValueError:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ToolkitError(f"`claude -p` exited {done.returncode} without a JSON result: "
                           f"{detail[-1] if detail else 'no output'}") from None
    if done.returncode != 0 or result.get("is_error"):
        message = " ".join(str(result.get("result", "")).split())[:400]
        raise ToolkitError(f"`claude -p` through the proxy failed: {message} (see `make logs`)")
    return result, elapsed


def _version(claude: str) -> str:
    try:
        out = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "version unknown"
    return out.strip().split(" ")[0] or "version unknown"


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.claude_test", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=HAIKU_MODEL, help="model of the wire-format request (default %(default)s)")
    parser.add_argument("--cli-model", help="ANTHROPIC_MODEL for `claude -p` (default: Claude Code's own choice)")
    parser.add_argument("--no-cli", action="store_true", help="skip the `claude -p` check")
    args = parser.parse_args(argv)
    cfg = settings_mod.load(validate=False)
    if not cfg.master_key:
        raise ToolkitError("LITELLM_MASTER_KEY is not set in .env: run `make generate-key`")
    if not is_live(cfg.base_url, timeout=2.0):
        raise ToolkitError(f"the proxy is not running at {cfg.base_url}: run `make up`")

    reply, elapsed = wire_request(cfg, args.model)
    if reply.status in (401, 403):
        raise ToolkitError("the proxy rejects LITELLM_MASTER_KEY from .env (it runs with another key): "
                           "run `make restart`")
    if reply.status != 200:
        detail = " ".join(reply.body.decode(errors="replace").split())[:300]
        raise ToolkitError(f"POST /v1/messages?beta=true for {args.model} answered {reply.status}: {detail}")
    route = " -> ".join(credential_tiers.tier_paths(cfg)["other clients"])
    print(f">> Claude Code's wire format ({args.model}, streamed, anthropic-beta, Bearer key; not Claude Code "
          f"itself, so routed {route}): "
          f"{streamed_text(reply.body)!r} in {elapsed:.1f}s from {answered_by(reply.headers)}")

    claude = shutil.which("claude")
    if args.no_cli:
        return 0
    if not claude:
        print(">> skipped `claude -p`: the Claude Code CLI is not on PATH (npm install -g @anthropic-ai/claude-code)")
        return 0
    before = counted_requests(cfg)
    result, elapsed = run_cli(claude, cfg, args.cli_model)
    through = wait_for_count(cfg, before)
    if not through:
        raise ToolkitError(f"`claude -p` answered, but the proxy at {cfg.base_url} counted no request from Claude "
                           "Code: something sends it elsewhere (an ANTHROPIC_BASE_URL in ~/.claude/settings.json?); "
                           "`make show-claude` shows the routing")
    models = ", ".join(result.get("modelUsage", {})) or "model not reported"
    print(f">> claude -p (Claude Code {_version(claude)}, {models}): {str(result.get('result', '')).strip()!r} "
          f"in {elapsed:.1f}s; the proxy at {cfg.base_url} counted {through:g} request(s) from Claude Code "
          "meanwhile")
    return 0


main = entry_point(__name__, _body)
