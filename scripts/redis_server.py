"""`make redis`: a local redis-server for this machine's proxy workers and instances.

Starts redis-server (Debian or Homebrew package) under the state directory, bound to
127.0.0.1 with a generated password (kept 0600, never printed in full), and sets
REDIS_URL in .env when it is empty. A REDIS_URL that points elsewhere (a team's Redis)
is left as it is. `stop` stops it; `status` says whether it answers.

    python -m scripts.redis_server [start|stop|status]
"""
import argparse
from typing import List

from scripts.core import envfile, paths
from scripts.core.errors import ToolkitError, entry_point
from scripts.core.settings import mask_url
from scripts.services import redis_local

def _point_env_at(server: redis_local.LocalRedis) -> None:
    env_path = paths.env_file()
    current = envfile.read(env_path).get("REDIS_URL", "")
    if current == server.url:
        print(f">> REDIS_URL in {env_path} already points at it")
    elif current:
        print(f">> REDIS_URL in {env_path} points elsewhere ({mask_url(current)}): left as it is")
    else:
        envfile.set_value(env_path, "REDIS_URL", server.url)
        print(f">> REDIS_URL={mask_url(server.url)} written to {env_path}; `make restart` to use it")


def start(_args: argparse.Namespace) -> int:
    if not paths.env_file().exists():
        raise ToolkitError(f"no .env at {paths.env_file()}: run `cp .env.template .env` first")
    server = redis_local.for_state_dir()
    pid = server.running_pid()
    if pid and server.ping():
        print(f">> redis-server already running (pid {pid}) on 127.0.0.1:{server.port}")
    else:
        child = server.start()
        print(f">> redis-server started (pid {child.pid}) on 127.0.0.1:{server.port}, data in {server.directory}")
    _point_env_at(server)
    return 0


def stop(_args: argparse.Namespace) -> int:
    server = redis_local.for_state_dir()
    print(">> redis-server stopped" if server.stop() else ">> redis-server is not running")
    return 0


def status(_args: argparse.Namespace) -> int:
    server = redis_local.for_state_dir()
    pid = server.running_pid()
    if pid and server.ping():
        print(f">> redis-server running (pid {pid}) on 127.0.0.1:{server.port}, answering")
        return 0
    print(">> redis-server is not running" + (f" (pid {pid} does not answer)" if pid else ""))
    return 1


COMMANDS = {"start": start, "stop": stop, "status": status}


def _body(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.redis_server", description=__doc__.splitlines()[0],
                                     epilog="example: python -m scripts.redis_server start")
    parser.add_argument("command", nargs="?", default="start", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args)


main = entry_point(__name__, _body)
