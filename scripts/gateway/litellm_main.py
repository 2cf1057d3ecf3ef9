"""The LiteLLM proxy CLI (what .venv/bin/litellm runs), with the AWS SDK imported
before the first request and the toolkit's extra routes on LiteLLM's own app.

LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback
after a start waited for that import: 158 ms against 36 ms for later ones in
`make bench`. Importing them here moves that cost into start-up, where nobody
waits on it. Arguments are LiteLLM's own (`--config`, `--host`, `--port`).

The Ollama and Gemini /v1/ routes (format_routes.py) are added to
`litellm.proxy.proxy_server.app` as soon as the CLI imports that module, before
uvicorn serves it. The hook is installed at module level, so uvicorn's spawned
workers (GATEWAY_WORKERS > 1), which re-run this module's top, get it too.
"""
import os

import boto3  # noqa: F401  (preloaded for the first Bedrock fallback)
import botocore.auth  # noqa: F401
import botocore.credentials  # noqa: F401
from litellm import run_server

from scripts.gateway import format_routes, import_hook

import_hook.after_import("litellm.proxy.proxy_server", format_routes.mount)

if __name__ == "__main__":
    # What the proxy writes is secret: LiteLLM rewrites the ChatGPT/Copilot token files
    # when it refreshes them (scripts/auth/device.py creates them 0600 in a 0700 folder).
    os.umask(0o077)
    run_server()
