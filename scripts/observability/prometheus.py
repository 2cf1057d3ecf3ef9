"""Run Prometheus without Docker, from the project's prometheus.yml and alerts.yml.

The copy written to the state directory differs from monitoring/prometheus/
prometheus.yml in the scrape target only (the proxy's address from .env instead of
host.docker.internal:47000), and in the intervals when --scrape-interval is given.
Prometheus then runs in the foreground (Ctrl-C stops it); install it with
`sudo apt install prometheus` or `brew install prometheus`.
"""
import argparse
import os
import shlex
import shutil
from pathlib import Path
from typing import List, Optional

import yaml

from scripts.core import configfile, paths, procs
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError

PROMETHEUS_DIR = paths.PROJECT_DIR / "monitoring" / "prometheus"
JOB = "litellm-proxy"
DEFAULT_LISTEN = "127.0.0.1:47090"
HEADER = ("# Written by `make monitoring-native` from monitoring/prometheus/prometheus.yml\n"
          "# (scrape target: the proxy from .env). Edit that file, not this copy.\n")


def metrics_note() -> Optional[str]:
    """A note when config.yaml keeps Prometheus from reading the proxy's metrics."""
    try:
        litellm = configfile.load(paths.config_file()).data.get("litellm_settings") or {}
    except ToolkitError:
        return None  # `make up` reports a broken config.yaml
    if "prometheus" not in (litellm.get("callbacks") or []):
        return ('note: config.yaml lacks litellm_settings.callbacks: ["prometheus"], so the proxy exports '
                "no metrics: add it, then `make restart`")
    if litellm.get("require_auth_for_metrics_endpoint") is not False:
        return ("note: config.yaml does not set litellm_settings.require_auth_for_metrics_endpoint: false, so the "
                "proxy refuses Prometheus (401): add it, then `make restart`")
    return None


def render_config(text: str, target: str, interval: Optional[str] = None) -> str:
    """prometheus.yml with the proxy job scraping `target` (and both intervals set to `interval`)."""
    config = yaml.safe_load(text)
    jobs = [job for job in config.get("scrape_configs") or [] if job.get("job_name") == JOB]
    if not jobs:
        raise ToolkitError(f"monitoring/prometheus/prometheus.yml has no scrape job {JOB!r}: restore it from git")
    jobs[0]["static_configs"] = [{"targets": [target]}]
    if interval:
        config.setdefault("global", {}).update(scrape_interval=interval, evaluation_interval=interval)
    return HEADER + yaml.safe_dump(config, sort_keys=False)


def proxy_target(cfg: settings_mod.Settings) -> str:
    """host:port of the proxy as this machine reaches it."""
    return cfg.base_url.split("://", 1)[1]


def state_dir() -> Path:
    return paths.state_dir() / "monitoring"


def write_config(rendered: str, directory: Path) -> Path:
    """prometheus.yml and the alerts.yml it names, side by side (rule_files are relative)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROMETHEUS_DIR / "alerts.yml", directory / "alerts.yml")
    config = directory / "prometheus.yml"
    config.write_text(rendered)
    return config


def prometheus_command(binary: str, config: Path, data_dir: Path, listen: str) -> List[str]:
    return [binary, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address={listen}", "--storage.tsdb.retention.time=30d"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"address:port to serve on (default {DEFAULT_LISTEN})")
    parser.add_argument("--scrape-interval", help="e.g. 5s (default: the 15s of prometheus.yml)")
    parser.add_argument("--data-dir", type=Path, help="TSDB directory (default: <state dir>/monitoring/data)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written and run")


def run(args: argparse.Namespace) -> int:
    binary = shutil.which("prometheus")
    if not binary and not args.dry_run:
        raise ToolkitError("prometheus is not installed: `sudo apt install prometheus` (Debian/Ubuntu) "
                           "or `brew install prometheus` (macOS)")
    host, _, port = args.listen.rpartition(":")
    if not port.isdigit():
        raise ToolkitError(f"--listen {args.listen!r} is not address:port: use e.g. {DEFAULT_LISTEN}")
    if not args.dry_run and not procs.port_is_free(host or "0.0.0.0", int(port)):
        raise ToolkitError(f"port {port} is in use by {procs.port_owner(int(port))}: "
                           "`make monitoring-down` if it is the Docker stack, or pass --listen")
    cfg = settings_mod.load(validate=False)
    target = proxy_target(cfg)
    note = metrics_note()
    if note:
        print(note)
    rendered = render_config((PROMETHEUS_DIR / "prometheus.yml").read_text(), target, args.scrape_interval)
    directory = state_dir()
    data_dir = args.data_dir or directory / "data"
    command = prometheus_command(binary or "prometheus", directory / "prometheus.yml", data_dir, args.listen)
    if args.dry_run:
        print(f"Would write {directory / 'prometheus.yml'} (target {target})")
        print(f"Would run: {shlex.join(command)}")
        return 0
    write_config(rendered, directory)
    print(f">> Prometheus on http://{args.listen} scraping http://{target}/metrics/ (Ctrl-C stops it)", flush=True)
    os.execv(binary, command)
    return 0  # not reached: exec replaced this process
