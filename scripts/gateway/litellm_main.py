"""The LiteLLM proxy CLI (what .venv/bin/litellm runs), with its output in a log that
rotates while it runs, the AWS SDK imported before the first request, and the toolkit's
extra routes and refusal renderer on LiteLLM's own app.

- GATEWAY_PROXY_LOG set (by `make up` and the launchd service): fds 1 and 2 go to that
  file through scripts/gateway/logpipe.py, rotated at GATEWAY_PROXY_LOG_MAX_BYTES. First
  thing, so nothing LiteLLM prints escapes it; uvicorn's spawned workers inherit the
  fds. Unset (`make proxy`, systemd's journal): output stays where it was.
- LiteLLM imports boto3/botocore on its first Bedrock call, so the first fallback after a
  start waited for that import: 158 ms against 36 ms for later ones in `make bench`.
  Importing them here moves that cost into start-up, where nobody waits on it.
- The Ollama and Gemini /v1/ routes (format_routes.py) and the exception handler of the
  gateway's refusals (refusals.py) are added to `litellm.proxy.proxy_server.app` as soon
  as the CLI imports that module, before uvicorn serves it. The hook is installed at
  module level, so uvicorn's spawned workers (GATEWAY_WORKERS > 1), which re-run this
  module's top, get it too.

Arguments are LiteLLM's own (`--config`, `--host`, `--port`).
"""
import os
from pathlib import Path
from types import ModuleType

from scripts.core import paths
from scripts.gateway import logpipe

if __name__ == "__main__" and paths.override("GATEWAY_PROXY_LOG"):
    logpipe.capture(Path(paths.override("GATEWAY_PROXY_LOG")), paths.proxy_log_max_bytes())

import boto3  # noqa: E402,F401  (preloaded for the first Bedrock fallback)
import botocore.auth  # noqa: E402,F401
import botocore.credentials  # noqa: E402,F401
from litellm import run_server  # noqa: E402

from scripts.gateway import format_routes, import_hook, refusals  # noqa: E402


def extend(server: ModuleType) -> None:
    """One hook for both: a second hook on the same module would never run."""
    format_routes.mount(server)
    refusals.install(server.app)


import_hook.after_import("litellm.proxy.proxy_server", extend)

if __name__ == "__main__":
    # What the proxy writes is secret: LiteLLM rewrites the ChatGPT/Copilot token files
    # when it refreshes them (scripts/auth/device.py creates them 0600 in a 0700 folder).
    os.umask(0o077)
    run_server()
