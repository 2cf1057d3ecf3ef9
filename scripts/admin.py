"""`make admin ARGS="models list"`: LiteLLM's own admin CLI (the venv's `litellm-proxy`)
against the running proxy, with its URL and the master key from .env passed in the
environment (LITELLM_PROXY_URL, LITELLM_PROXY_API_KEY), never on the command line.

    make admin ARGS="models list"              make admin ARGS="models info"
    make admin ARGS="chat claude-sonnet-4-5"   make admin ARGS="http request GET /v1/models"

This toolkit runs LiteLLM without a database, so the commands that manage what LiteLLM
keeps there (keys, users, teams, credentials, models added at run time, spend reports)
end in one line saying so, as do the commands that set up clients or log the CLI in
(the toolkit does that with its own targets). Output is passed on with the key masked,
and a Python traceback from the CLI becomes its last line.
"""
import os
import subprocess
import sys
from typing import List, Optional

from scripts.core import paths
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.http import is_live

NEEDS_DATABASE = {"keys", "users", "teams", "credentials", "debug", "encryption"}
MODEL_WRITES = {"add", "update", "delete", "import"}
CLIENT_SETUP = {"claude", "codex", "opencode", "up", "down", "configure", "reconfigure", "unconfigure",
                "login", "logout", "auth", "config"}
DEPRECATION = "The `litellm-proxy` command is deprecated"
INTERACTIVE = {"chat"}


def refusal(args: List[str]) -> Optional[str]:
    """Why a command cannot work here, or None."""
    command = args[0] if args else ""
    what = f"`litellm-proxy {' '.join(args[:2])}`"
    if command in NEEDS_DATABASE or (command == "models" and args[1:2] and args[1] in MODEL_WRITES):
        return (f"{what} needs LiteLLM's database (DATABASE_URL), and this toolkit runs the proxy without one: "
                "models come from config.yaml (`make update-models`), the one key is LITELLM_MASTER_KEY "
                "(`make generate-key`)")
    if command in CLIENT_SETUP:
        return (f"{what} sets up clients or stores a CLI login, which this toolkit does itself: "
                "`make configure-claude` routes Claude Code, the key comes from .env")
    return None


def _environment(cfg: settings_mod.Settings) -> dict:
    env = dict(os.environ)
    env.update(LITELLM_PROXY_URL=cfg.base_url, LITELLM_PROXY_API_KEY=cfg.master_key or "")
    return env


def _clean(text: str, key: str) -> str:
    """The CLI's output without its deprecation notice and the key; a traceback is cut
    to its last line (the error itself)."""
    lines = [line for line in text.splitlines() if not line.startswith(DEPRECATION)]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        last = next((line for line in reversed(lines) if line.strip()), "")
        lines = [f"litellm-proxy failed: {last.strip()}"]
    return "\n".join(lines).replace(key, settings_mod.mask(key)) if key else "\n".join(lines)


def _body(argv: List[str]) -> int:
    if not argv:
        raise ToolkitError('say which command: `make admin ARGS="models list"` (ARGS="--help" lists them)')
    reason = refusal(argv)
    if reason:
        raise ToolkitError(reason)
    cli = paths.venv_bin("litellm-proxy")
    if not cli.exists():
        raise ToolkitError(f"{cli} not found: run `make install`")
    cfg = settings_mod.load()
    if argv[0] != "--help" and not is_live(cfg.base_url):
        raise ToolkitError(f"the proxy is not running at {cfg.base_url}: run `make up`")
    env = _environment(cfg)
    if argv[0] in INTERACTIVE:
        # A conversation needs the terminal as it is; chat prints answers, never the key.
        return subprocess.run([str(cli), *argv], env=env).returncode
    result = subprocess.run([str(cli), *argv], env=env, capture_output=True, text=True)
    out, err = _clean(result.stdout, cfg.master_key or ""), _clean(result.stderr, cfg.master_key or "")
    if out:
        print(out)
    if err:
        print(err, file=sys.stderr)
    return result.returncode


main = entry_point(__name__, _body)
