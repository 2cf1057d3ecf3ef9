"""The LiteLLM proxy CLI (what .venv/bin/litellm runs), with the AWS SDK imported
before the first request.

LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback
after a start waited for that import: 158 ms against 36 ms for later ones in
`make bench`. Importing them here moves that cost into start-up, where nobody
waits on it. Arguments are LiteLLM's own (`--config`, `--host`, `--port`).
"""
import os

import boto3  # noqa: F401  (preloaded for the first Bedrock fallback)
import botocore.auth  # noqa: F401
import botocore.credentials  # noqa: F401
from litellm import run_server

if __name__ == "__main__":
    # What the proxy writes is secret: LiteLLM rewrites the ChatGPT/Copilot token files
    # when it refreshes them (scripts/auth/device.py creates them 0600 in a 0700 folder).
    os.umask(0o077)
    run_server()
