"""The LiteLLM proxy: LiteLLM's own CLI for its set-up, then its app served by
in_proxy/serving.py (SO_REUSEPORT socket, workers forked after the imports), with its
output in a log that rotates while it runs, the AWS SDK imported before the first
request, and the toolkit's extra routes and refusal renderer on LiteLLM's own app.

- GATEWAY_PROXY_LOG set (by `make up` and the launchd service): fds 1 and 2 go to that
  file through scripts/gateway/logpipe.py, rotated at GATEWAY_PROXY_LOG_MAX_BYTES. First
  thing, so nothing LiteLLM prints escapes it; the forked workers inherit the fds (the
  copying thread runs in the workers' parent). Unset (`make proxy`, systemd's journal):
  output stays where it was. Either way a crash of the interpreter itself (a segfault)
  leaves Python's report of every thread in that output.
- LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback after a
  start waited for that import: 158 ms against 36 ms for later ones in `make bench`.
  Importing them here moves that cost into start-up, where nobody waits on it.
- The Ollama and Gemini /v1/ routes (format_routes.py), the exception handler of the
  gateway's refusals (refusals.py) and the check that a JSON body is an object
  (body_shape.py) are added to `litellm.proxy.proxy_server.app` as soon as the CLI
  imports that module, before it is served; the workers are forked after that.

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

import boto3  # noqa: E402,F401  (preloaded for the first Bedrock fallback)
import botocore.auth  # noqa: E402,F401
import botocore.credentials  # noqa: E402,F401
from litellm import run_server  # noqa: E402

from scripts.in_proxy import body_shape, format_routes, import_hook, refusals, serving  # noqa: E402


def extend(server: ModuleType) -> None:
    """One hook for all: a second hook on the same module would never run."""
    format_routes.mount(server)
    refusals.install(server.app)
    body_shape.install(server.app)


import_hook.after_import("litellm.proxy.proxy_server", extend)


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
    return serving.run(args.host, args.port, args.num_workers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
