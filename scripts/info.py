"""`make info`: the effective configuration, secrets masked."""
from pathlib import Path
from typing import List

from scripts.core import configfile, envfile, paths
from scripts.core import settings as settings_mod
from scripts.core.errors import entry_point
from scripts.gateway import upstreams
from scripts.gateway.client import installed_version
from scripts.gateway.process import running_pid


def _row(label: str, value: object) -> str:
    return f"{label:<22} {value}"


def _body(argv: List[str]) -> int:
    cfg = settings_mod.load(validate=False)
    config = configfile.load(paths.config_file())
    pid = running_pid()
    env_path: Path = paths.env_file()
    rows = [
        _row(".env", f"{env_path}" + ("" if envfile.is_private(env_path) else "  (readable by others: chmod 600 .env)")),
        _row("config", paths.config_file()),
        _row("proxy URL", cfg.base_url + ("" if cfg.is_loopback else f"  (bound to {cfg.host}: reachable from the network)")),
        _row("proxy", f"running (pid {pid})" if pid else "not running"),
        _row("LITELLM_MASTER_KEY", settings_mod.mask(cfg.master_key)),
        _row("LiteLLM", installed_version("litellm")),
        *[_row("upstream", line) for line in upstreams.describe(cfg, config)],
        _row("models", f"{len(config.public_models)} names, {len(config.fallbacks)} with Bedrock fallback"),
        _row("workers", f"{cfg.get('GATEWAY_WORKERS') or '1'} (GATEWAY_WORKERS)"),
        _row("REDIS_URL", settings_mod.mask_url(cfg.redis_url) if cfg.redis_url else "(not set: cooldowns in memory)"),
        _row("state dir", paths.state_dir()),
        _row("log file", paths.proxy_log()),
        _row("venv", paths.venv_dir()),
    ]
    print("\n".join(rows))
    for note in upstreams.warnings(cfg, config):
        print(_row("note", note))
    return 0


main = entry_point(__name__, _body)
