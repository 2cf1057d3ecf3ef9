"""The LiteLLM proxy: LiteLLM's own CLI for its set-up, then its app served by
gateway/serving.py (SO_REUSEPORT socket, workers forked after the imports), with the AWS
SDK imported before the first request and the toolkit's extra routes on LiteLLM's app.

LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback
after a start waited for that import: 158 ms against 36 ms for later ones in
`make bench`. Importing them here moves that cost into start-up, where nobody
waits on it. Arguments are LiteLLM's own (`--config`, `--host`, `--port`,
`--num_workers`); LiteLLM's CLI runs with `--skip_server_startup` (its own flag: every
set-up step, then return instead of calling uvicorn.run) and serving.run serves its app.

The Ollama and Gemini /v1/ routes (format_routes.py) are added to
`litellm.proxy.proxy_server.app` as soon as the CLI imports that module, before it is
served; the workers are forked after that, so each has them.
"""
import argparse
import os
import sys
from typing import List

from scripts.gateway import format_routes, import_hook, serving

import_hook.after_import("litellm.proxy.proxy_server", format_routes.mount)


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
    import boto3  # noqa: F401  (preloaded for the first Bedrock fallback)
    import botocore.auth  # noqa: F401
    import botocore.credentials  # noqa: F401
    from litellm import run_server

    run_server.main(args=[*argv, "--skip_server_startup"], standalone_mode=False)
    return serving.run(args.host, args.port, args.num_workers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
