"""The Anthropic and Bedrock simulators in one process (scripts/simulators.py runs this).

    python -m scripts.simulators --anthropic-port 0 --bedrock-port 0 [--host 127.0.0.1]
        [--anthropic-fault MODE[,count=N][,retry_after=S][,delay=S][,models=a|b]]
        [--bedrock-fault MODE[,...][,exception=serviceUnavailableException]]
        [--anthropic-api-key KEY ...] [--anthropic-oauth-token TOKEN ...]
        [--anthropic-models id,id] [--bedrock-models id,id]
        [--anthropic-claude-code-only invalid_request|rate_limit|off]
        [--bedrock-access-key AKID --bedrock-secret-key SECRET] [--bedrock-expired-token TOKEN ...]
        [--bedrock-profile-prefixes REGION=global[,us] ...] [--bedrock-deny-action ListFoundationModels ...]
        [--chatgpt-port P] [--copilot-port P] [--auto-approve-logins]
        [--intercept-port P --intercept-dir DIR]
        [--openai-port P] [--openai-fault MODE[,...]] [--openai-api-key KEY ...] [--openai-models id,id]
        [--openai-shape zai|openai]

Port 0 picks a free port. When both listen it prints one line to stdout:
    SIMULATORS READY anthropic=http://127.0.0.1:P bedrock=http://127.0.0.1:Q
followed by chatgpt=, copilot=, intercept= and openai= URLs for the optional simulators
(scripts/sim/logins.py: ChatGPT and Copilot sign-in and APIs, and the HTTPS proxy that
reaches the sign-in host LiteLLM hard-codes; scripts/sim/openai_compat.py: an
OpenAI-compatible chat-completions API in Z.AI's shape, a tier after Bedrock).
and runs until SIGTERM/SIGINT, then exits 0. "Connection refused" needs no
simulator: point the client at a port nothing listens on.

For in-process use (tests): `with SimulatorThread(...) as sims: sims.anthropic_url ...`.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from typing import Optional

from aiohttp import web

from scripts.sim.anthropic import AnthropicSim
from scripts.sim.bedrock import BedrockSim
from scripts.sim.faults import parse_fault_arg
from scripts.sim.logins import add_login_options, start_login_sims
from scripts.sim.openai_compat import OpenAICompatSim
from scripts.sim.subscription import SHAPES


def parse_args(argv: list) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.simulators", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--anthropic-port", type=int, default=0)
    p.add_argument("--bedrock-port", type=int, default=0)
    spec = "MODE[,count=N][,retry_after=S][,delay=S][,models=a|b]"
    p.add_argument("--anthropic-fault", type=_fault, metavar=spec, help="fault active from startup")
    p.add_argument("--bedrock-fault", type=_fault, metavar=spec + "[,exception=X]",
                   help="fault active from startup")
    p.add_argument("--anthropic-api-key", action="append", default=[],
                   help="accept only these keys (default: any sk-ant-api* key)")
    p.add_argument("--anthropic-oauth-token", action="append", default=[],
                   help="accept only these OAuth tokens (default: any sk-ant-oat* token)")
    p.add_argument("--anthropic-models", type=_csv, help="comma-separated model ids")
    p.add_argument("--anthropic-claude-code-only", choices=SHAPES,
                   help="how a subscription token answers requests that are not Claude Code's "
                        "(default invalid_request: 400)")
    p.add_argument("--bedrock-models", type=_csv, help="comma-separated Bedrock model ids")
    p.add_argument("--bedrock-access-key", help="with --bedrock-secret-key: verify SigV4 signatures")
    p.add_argument("--bedrock-secret-key")
    p.add_argument("--bedrock-expired-token", action="append", default=None,
                   help="X-Amz-Security-Token values treated as expired (default: expired-token)")
    p.add_argument("--bedrock-profile-prefixes", action="append", default=[], type=_prefixes,
                   help="REGION=geo[,geo]: inference-profile prefixes that region offers, e.g. us-east-1=global")
    p.add_argument("--bedrock-deny-action", action="append", default=[],
                   help="answer this control-plane operation (e.g. ListFoundationModels) with AccessDeniedException")
    add_login_options(p)
    p.add_argument("--openai-port", type=int, help="serve the OpenAI-compatible API (Z.AI shape) on this port")
    p.add_argument("--openai-fault", type=_fault, metavar=spec, help="fault active from startup")
    p.add_argument("--openai-api-key", action="append", default=[], help="accept only these keys (default: any)")
    p.add_argument("--openai-models", type=_csv, help="comma-separated model ids (default: glm-4.6, ...)")
    p.add_argument("--openai-shape", choices=("zai", "openai"), default="zai", help="error bodies and codes of this API")
    args = p.parse_args(argv)
    if bool(args.bedrock_access_key) != bool(args.bedrock_secret_key):
        p.error("--bedrock-access-key and --bedrock-secret-key go together")
    return args


def _fault(text: str):
    try:
        return parse_fault_arg(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def _csv(text: str) -> list:
    return [t.strip() for t in text.split(",") if t.strip()]


def _prefixes(text: str) -> tuple:
    region, sep, geos = text.partition("=")
    if not sep or not region:
        raise argparse.ArgumentTypeError("expected REGION=prefix[,prefix]")
    return region, [g.strip().rstrip(".") for g in geos.split(",") if g.strip()]


def build_sims(args: argparse.Namespace) -> tuple:
    anthropic = AnthropicSim(models=args.anthropic_models, api_keys=args.anthropic_api_key,
                             oauth_tokens=args.anthropic_oauth_token, fault=args.anthropic_fault,
                             claude_code_only=args.anthropic_claude_code_only)
    creds = (args.bedrock_access_key, args.bedrock_secret_key) if args.bedrock_access_key else None
    bedrock = BedrockSim(models=args.bedrock_models, credentials=creds,
                         expired_tokens=args.bedrock_expired_token or ("expired-token",),
                         profile_prefixes=dict(args.bedrock_profile_prefixes), fault=args.bedrock_fault,
                         denied_actions=args.bedrock_deny_action)
    return anthropic, bedrock


async def start(args: argparse.Namespace) -> tuple:
    """Start both servers (and the optional login simulators, into args.extra_urls);
    returns (runners, anthropic_url, bedrock_url, sims)."""
    sims = build_sims(args)
    runners, urls = [], []
    for sim, port in zip(sims, (args.anthropic_port, args.bedrock_port)):
        runner, url = await _listen(sim.app(), args.host, port)
        runners.append(runner)
        urls.append(url)
    runners += await start_login_sims(args)
    if args.openai_port is not None:
        args.openai_sim = OpenAICompatSim(models=args.openai_models, api_keys=args.openai_api_key,
                                          fault=args.openai_fault, shape=args.openai_shape)
        runner, args.extra_urls["openai"] = await _listen(args.openai_sim.app(), args.host, args.openai_port)
        runners.append(runner)
    return runners, urls[0], urls[1], sims


async def _listen(app: web.Application, host: str, port: int) -> tuple:
    """(runner, URL) of an app serving on host:port (0: a free port)."""
    # access_log=None: logging every request costs real time in benchmarks.
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # the port actually chosen for port 0
    return runner, f"http://{host}:{bound}"


async def _serve(args: argparse.Namespace) -> int:
    runners, a_url, b_url, _ = await start(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    extra = "".join(f" {name}={url}" for name, url in args.extra_urls.items())
    print(f"SIMULATORS READY anthropic={a_url} bedrock={b_url}{extra}", flush=True)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()
    return 0


def serve(argv: list) -> int:
    """The command line: serve both simulators until SIGTERM/SIGINT."""
    args = parse_args(argv)
    try:
        return asyncio.run(_serve(args))
    except OSError as exc:  # e.g. port already in use
        print(f"simulators: {exc}", file=sys.stderr)
        return 1


class SimulatorThread:
    """Both simulators on an event loop in a daemon thread (for tests and benchmarks).

    Keyword arguments are CLI option names with underscores, e.g.
    SimulatorThread(bedrock_access_key="AKID", bedrock_secret_key="s").
    """

    def __init__(self, **options) -> None:
        argv = []
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            for item in value if isinstance(value, list) else [value]:
                argv += [flag, str(item)]
        self.args = parse_args(argv)
        self._ready = threading.Event()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._error: Optional[BaseException] = None
        self.anthropic_url = self.bedrock_url = self.openai_url = ""
        self.anthropic = self.bedrock = self.openai = None

    def start(self) -> "SimulatorThread":
        self._thread = threading.Thread(target=self._run, name="simulators", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error or not self.anthropic_url:
            raise RuntimeError(f"simulators did not start: {self._error}")
        return self

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            runners, self.anthropic_url, self.bedrock_url, (self.anthropic, self.bedrock) = \
                loop.run_until_complete(start(self.args))
            self.openai_url = self.args.extra_urls.get("openai", "")  # with openai_port=0
            self.openai = getattr(self.args, "openai_sim", None)
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        for runner in runners:
            loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "SimulatorThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

