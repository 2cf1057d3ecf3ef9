"""`make info`: the effective configuration, secrets masked."""
import sys
from pathlib import Path
from typing import List

from . import configfile, envfile, paths, settings as settings_mod, upstreams
from .errors import run_main
from .proxy import running_pid


def installed_version(package: str) -> str:
    """Read the version from the venv's metadata without importing the package."""
    for lib in sorted(paths.venv_dir().glob("lib/python*/site-packages")):
        for dist in lib.glob(f"{package}-*.dist-info"):
            return dist.name[len(package) + 1:-len(".dist-info")]
    return "not installed (`make install`)"


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
        _row("state dir", paths.state_dir()),
        _row("log file", paths.proxy_log()),
        _row("venv", paths.venv_dir()),
    ]
    print("\n".join(rows))
    for note in upstreams.warnings(cfg, config):
        print(_row("note", note))
    return 0


def main(argv: List[str]) -> int:
    return run_main(_body, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
