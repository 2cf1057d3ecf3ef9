"""Prometheus (47090) and Grafana (47300) next to the natively running proxy.

    python -m scripts.monitoring up       make monitoring: docker compose up, then wait until both answer
    python -m scripts.monitoring down     make monitoring-down
    python -m scripts.monitoring clean    make monitoring-clean: down, and drop the data volumes (asks first)
    python -m scripts.monitoring native   make monitoring-native: Prometheus without Docker, same config

Docker Desktop gets the compose file's "bridge" profile, Docker Engine on Linux
its "host" profile (monitoring/docker-compose.yml says why); MONITORING_NETWORK=
bridge|host overrides the choice. The Grafana admin password is GRAFANA_ADMIN_PASSWORD
from .env, handed to compose through its environment, never written anywhere.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from scripts.core import http
from scripts.core import settings as settings_mod
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.paths import PROJECT_DIR
from scripts.observability import prometheus as monitoring_native

COMPOSE_FILE = PROJECT_DIR / "monitoring" / "docker-compose.yml"
PROJECT = "claude-gateway-monitoring"
PROFILES = ("bridge", "host")
PROMETHEUS_URL = "http://127.0.0.1:47090"
GRAFANA_URL = "http://127.0.0.1:47300"
DEFAULT_PASSWORD = "admin"
SCRAPED_PORT = 47000  # the target in monitoring/prometheus/prometheus.yml
NATIVE_HINT = "or run Prometheus without Docker: `make monitoring-native` (see monitoring/README.md)"


def ready_timeout() -> float:
    return float(os.environ.get("MONITORING_READY_TIMEOUT", "120"))


def load_settings() -> settings_mod.Settings:
    """.env when there is one: monitoring needs nothing from it but the password and port."""
    try:
        return settings_mod.load(validate=False)
    except ToolkitError:
        return settings_mod.Settings({})


def compose_command() -> List[str]:
    """`docker compose` (v2 plugin) when present, else the standalone docker-compose."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    raise ToolkitError(f"Docker Compose is not installed (neither `docker compose` nor docker-compose): "
                       f"install Docker Desktop or the compose plugin, {NATIVE_HINT}")


def docker_engine() -> str:
    """The engine's operating system name (e.g. "Docker Desktop", "Ubuntu 24.04 LTS"); raises when none runs."""
    docker = shutil.which("docker")
    if not docker:
        raise ToolkitError(f"the docker command is not installed: install Docker, {NATIVE_HINT}")
    try:
        info = subprocess.run([docker, "info", "--format", "{{.OperatingSystem}}"],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        info = None
    if info is None or info.returncode != 0:
        raise ToolkitError(f"no Docker engine is running (`docker info` failed): start Docker, {NATIVE_HINT}")
    return info.stdout.strip()


def choose_profile(engine_os: str, platform: str = sys.platform) -> str:
    forced = os.environ.get("MONITORING_NETWORK")
    if forced:
        if forced not in PROFILES:
            raise ToolkitError(f"MONITORING_NETWORK={forced!r} is not one of {', '.join(PROFILES)}: unset it or pick one")
        return forced
    native_engine = platform.startswith("linux") and "docker desktop" not in engine_os.lower()
    return "host" if native_engine else "bridge"


def grafana_password(cfg: settings_mod.Settings) -> Tuple[str, Optional[str]]:
    """The admin password and, when it is the default, the note saying so."""
    password = cfg.get("GRAFANA_ADMIN_PASSWORD")
    if password:
        return password, None
    return DEFAULT_PASSWORD, ("note: GRAFANA_ADMIN_PASSWORD is not set in .env, so Grafana's admin password is "
                              f"the default '{DEFAULT_PASSWORD}': set it in .env before the first `make monitoring` "
                              "(later: change it in Grafana, or `make monitoring-clean` and start again)")


def port_note(cfg: settings_mod.Settings) -> Optional[str]:
    if cfg.port == SCRAPED_PORT:
        return None
    return (f"note: LITELLM_PORT is {cfg.port} but monitoring/prometheus/prometheus.yml scrapes port "
            f"{SCRAPED_PORT}: change its target to host.docker.internal:{cfg.port}")


def compose_environment(password: str) -> Dict[str, str]:
    env = dict(os.environ)
    env["GRAFANA_ADMIN_PASSWORD"] = password
    return env


def compose_base(compose: List[str], profiles: Tuple[str, ...]) -> List[str]:
    command = [*compose, "-p", PROJECT, "-f", str(COMPOSE_FILE)]
    for profile in profiles:
        command += ["--profile", profile]
    return command


def wait_until_answering(probes: List[Tuple[str, str]], timeout: float) -> float:
    """Seconds until every probe URL answered 200; raises at the deadline."""
    started = time.monotonic()
    waiting = list(probes)
    while waiting:
        waiting = [(name, url) for name, url in waiting if not _answers(url)]
        if not waiting:
            break
        if time.monotonic() - started > timeout:
            name, url = waiting[0]
            raise ToolkitError(f"{name} did not answer at {url} within {timeout:.0f} s: "
                               f"see `docker compose -p {PROJECT} logs`")
        time.sleep(1)
    return time.monotonic() - started


def _answers(url: str) -> bool:
    try:
        return http.request("GET", url, timeout=2).status == 200
    except OSError:
        return False


def up(args: argparse.Namespace) -> int:
    compose = compose_command()
    engine_os = "" if args.dry_run else docker_engine()
    profile = choose_profile(engine_os)
    cfg = load_settings()
    password, password_note = grafana_password(cfg)
    for note in (password_note, port_note(cfg), monitoring_native.metrics_note()):
        if note:
            print(note)
    command = compose_base(compose, (profile,)) + ["up", "-d"]
    if args.dry_run:
        print(f"Would run: {shlex.join(command)}")
        return 0
    print(f">> starting Prometheus and Grafana (docker compose, profile {profile})")
    if subprocess.run(command, env=compose_environment(password)).returncode != 0:
        raise ToolkitError("docker compose up failed (its output is above): fix that, then run `make monitoring` again")
    print(f">> Prometheus {PROMETHEUS_URL}  (alerts: {PROMETHEUS_URL}/alerts)")
    print(f">> Grafana    {GRAFANA_URL}  (dashboard: Claude gateway)")
    seconds = wait_until_answering([("Prometheus", f"{PROMETHEUS_URL}/-/ready"),
                                    ("Grafana", f"{GRAFANA_URL}/api/health")], ready_timeout())
    source = f"'{DEFAULT_PASSWORD}' (the default: change it)" if password_note else "GRAFANA_ADMIN_PASSWORD from .env"
    print(f">> both answer after {seconds:.0f} s; Grafana login: admin, password: {source}")
    return 0


def down(args: argparse.Namespace, drop_volumes: bool = False) -> int:
    compose = compose_command()
    command = compose_base(compose, PROFILES) + ["down"] + (["--volumes"] if drop_volumes else [])
    if args.dry_run:
        print(f"Would run: {shlex.join(command)}")
        return 0
    docker_engine()
    if subprocess.run(command).returncode != 0:
        raise ToolkitError(f"docker compose down failed (its output is above): see `docker compose -p {PROJECT} ps`")
    print(">> monitoring stopped" + ("; Prometheus history and Grafana data dropped" if drop_volumes else ""))
    return 0


def clean(args: argparse.Namespace) -> int:
    if not (args.yes or args.dry_run):
        if not sys.stdin.isatty():
            raise ToolkitError("dropping the volumes deletes Prometheus' history and Grafana's users: "
                               "confirm with `python -m scripts.monitoring clean --yes`")
        answer = input("Stop monitoring and delete Prometheus' history and Grafana's data? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print(">> nothing changed")
            return 0
    return down(args, drop_volumes=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.monitoring", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: make monitoring, then open http://127.0.0.1:47300")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "clean"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--dry-run", action="store_true", help="print the compose command, run nothing")
        if name == "clean":
            cmd.add_argument("--yes", action="store_true", help="do not ask before dropping the volumes")
    monitoring_native.add_arguments(sub.add_parser("native", help=monitoring_native.__doc__.splitlines()[0]))
    return parser


def _body(argv: List[str]) -> int:
    args = _parser().parse_args(argv)
    commands = {"up": up, "down": down, "clean": clean, "native": monitoring_native.run}
    return commands[args.command](args)


main = entry_point(__name__, _body)
