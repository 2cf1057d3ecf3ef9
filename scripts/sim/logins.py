"""The optional login simulators of scripts/sim/server.py: ChatGPT (sign-in + Codex
backend), GitHub Copilot (device login, token exchange, chat) and the HTTPS proxy that
reaches the sign-in host LiteLLM hard-codes (scripts/sim/intercept.py).

    --chatgpt-port P --copilot-port P     start them (0: a free port)
    --auto-approve-logins                 approve each device code on its first poll
    --intercept-port P --intercept-dir D  HTTPS proxy for auth.openai.com -> the ChatGPT
                                          simulator; writes D/ca.pem for SSL_CERT_FILE
"""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import List

from aiohttp import web

from scripts.sim.chatgpt import ChatGPTSim
from scripts.sim.copilot import CopilotSim
from scripts.sim.intercept import Interceptor, make_tls

CHATGPT_AUTH_HOST = "auth.openai.com"  # litellm/llms/chatgpt/common_utils.py: CHATGPT_AUTH_BASE


def add_login_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chatgpt-port", type=int, help="also run the ChatGPT simulator (0: a free port)")
    p.add_argument("--copilot-port", type=int, help="also run the GitHub Copilot simulator (0: a free port)")
    p.add_argument("--auto-approve-logins", action="store_true",
                   help="approve each device code on its first poll (no user step)")
    p.add_argument("--intercept-port", type=int,
                   help=f"HTTPS proxy that sends {CHATGPT_AUTH_HOST} to the ChatGPT simulator")
    p.add_argument("--intercept-dir", type=Path, help="where the intercept proxy writes ca.pem")


async def _serve(app: web.Application, host: str, port: int) -> tuple:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner, f"http://{host}:{site._server.sockets[0].getsockname()[1]}"


class _ServerRunner:
    """An asyncio server with the cleanup() of an aiohttp runner."""

    def __init__(self, server: asyncio.AbstractServer) -> None:
        self.server = server

    async def cleanup(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_login_sims(args: argparse.Namespace) -> List:
    """Start the requested ones; their URLs go to args.extra_urls, the objects to args.login_sims."""
    args.extra_urls, args.login_sims, runners = {}, {}, []
    if args.chatgpt_port is not None:
        chatgpt = args.login_sims["chatgpt"] = ChatGPTSim(auto_approve=args.auto_approve_logins)
        runner, args.extra_urls["chatgpt"] = await _serve(chatgpt.app(), args.host, args.chatgpt_port)
        runners.append(runner)
    if args.copilot_port is not None:
        copilot = args.login_sims["copilot"] = CopilotSim(auto_approve=args.auto_approve_logins)
        runner, copilot.base_url = await _serve(copilot.app(), args.host, args.copilot_port)
        args.extra_urls["copilot"] = copilot.base_url
        runners.append(runner)
    if args.intercept_port is not None:
        if "chatgpt" not in args.extra_urls or args.intercept_dir is None:
            raise OSError("--intercept-port needs --chatgpt-port and --intercept-dir")
        _, context = make_tls([CHATGPT_AUTH_HOST], args.intercept_dir)
        port = int(args.extra_urls["chatgpt"].rsplit(":", 1)[1])
        interceptor = args.login_sims["intercept"] = Interceptor({CHATGPT_AUTH_HOST: (args.host, port)}, context)
        server = await asyncio.start_server(interceptor.handle, args.host, args.intercept_port)
        args.extra_urls["intercept"] = f"http://{args.host}:{server.sockets[0].getsockname()[1]}"
        runners.append(_ServerRunner(server))
    return runners
