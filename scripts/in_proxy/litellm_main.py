"""The LiteLLM proxy: LiteLLM's own CLI for its set-up, then its app served by
in_proxy/serving.py (SO_REUSEPORT socket, workers forked after the imports), with its
output in a log that rotates while it runs, the AWS SDK imported before the first
request, and the toolkit's extra routes and refusal renderer on LiteLLM's own app.

- GATEWAY_PROXY_LOG set (by `make up` and the launchd service): fds 1 and 2 go to that
  file through scripts/gateway/logpipe.py, rotated at GATEWAY_PROXY_LOG_MAX_BYTES. First
  thing, so nothing LiteLLM prints escapes it; the forked workers inherit the fds. The
  copying runs in a process of its own, forked here before any thread exists, so the
  workers are forked from a process without threads of ours (serving.py checks). Unset (`make proxy`, systemd's journal):
  output stays where it was. Either way a crash of the interpreter itself (a segfault)
  leaves Python's report of every thread in that output.
- LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback after a
  start waited for that import: 158 ms against 36 ms for later ones in `make bench`.
  Importing them here moves that cost into start-up, where nobody waits on it.
- The Ollama and Gemini /v1/ routes (format_routes.py), the exception handler of the
  gateway's refusals (refusals.py) and the check that a JSON body is an object
  (body_shape.py) and the trust boundary in front of everything (gatekeeper.py) are added
  to `litellm.proxy.proxy_server.app` after LiteLLM's CLI has set it up and returned
  (--skip_server_startup), before serving.run serves it; the workers are forked after that,
  so each inherits the extended app (tests/unit/test_serving.py). No import hook is needed:
  nothing serves the app before run_server returns.

Arguments are LiteLLM's own (`--config`, `--host`, `--port`, `--num_workers`); LiteLLM's
CLI runs with `--skip_server_startup` (its own flag: every set-up step, then return
instead of calling uvicorn.run) and serving.run serves its app.
"""
import argparse
import faulthandler
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import List

from scripts.core import paths
from scripts.gateway import logpipe

if __name__ == "__main__" and paths.override("GATEWAY_PROXY_LOG"):
    logpipe.capture(Path(paths.override("GATEWAY_PROXY_LOG")), paths.proxy_log_max_bytes())
elif __name__ == "__main__":
    faulthandler.enable(all_threads=True)  # a crash's report of every thread, on stderr (the journal)

# LiteLLM's proxy_server imports numpy, whose OpenBLAS starts a pool of (cores - 1) native
# threads at import: the workers would then be forked from a process running a thread
# (issue 22; serving.warn_of_threads saw it). The proxy does no matrix work worth a pool;
# OPENBLAS_NUM_THREADS=1 (OpenBLAS's documented switch) keeps it in the calling thread.
# Before any import that loads numpy; set, not defaulted, since the workers fork.
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import boto3  # noqa: F401  (preloaded for the first Bedrock fallback)
import botocore.auth
import botocore.credentials  # noqa: F401

from scripts.in_proxy import body_shape, format_routes, gatekeeper, refusals, serving
from scripts.in_proxy.litellm_surface import (HOT_ROUTE_PATHS, ProxyInitializationHelpers,
                                              proxy_server, run_server)


def extend(server: ModuleType) -> None:
    """The toolkit's routes and handlers on LiteLLM's app, once its CLI has set it up."""
    format_routes.mount(server, HOT_ROUTE_PATHS)
    refusals.install(server.app)
    body_shape.install(server.app)
    gatekeeper.install(server.app)  # last added, so outermost: before LiteLLM's CORS and body_shape


def uvicorn_arguments(host: str, port: int) -> dict:
    """The arguments LiteLLM's CLI would give uvicorn.run (serving.py adds app and socket)."""
    args = ProxyInitializationHelpers.get_default_unvicorn_init_args(host=host, port=port)
    loop = ProxyInitializationHelpers.get_loop_type()
    if loop:
        args["loop"] = loop
    return args


def _listen_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--num_workers", type=int, default=1)
    return parser.parse_known_args(argv)[0]


def main(argv: List[str]) -> int:
    # What the proxy writes is secret: LiteLLM rewrites the ChatGPT/Copilot token files
    # when it refreshes them (scripts/auth/device.py creates them 0600 in a 0700 folder).
    os.umask(0o077)
    args = _listen_args(argv)
    if args.num_workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # prometheus_client picks its value store when imported, from the environment the
        # process started with: the workers must write their samples to files /metrics
        # adds up (gateway/process.py sets the path).
        raise SystemExit("--num_workers > 1 needs PROMETHEUS_MULTIPROC_DIR (python -m scripts.proxy sets it)")
    run_server.main(args=[*argv, "--skip_server_startup"], standalone_mode=False)
    server = proxy_server()
    extend(server)
    return serving.run(server.app, uvicorn_arguments(args.host, args.port), args.num_workers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
