"""The peers `make bench` measures beside this proxy, pointed at the same simulators:
the Portkey gateway and claude-code-router (Node.js, from npm).

Each is installed on demand with npm into a cache outside the repo (like the tests'
Claude Code CLI) and started on a free port. Both would listen on every interface
(Portkey always; claude-code-router when it has a key), so each runs with
loopback.cjs preloaded, which makes its servers listen on 127.0.0.1, and a peer found
listening anywhere else is stopped and skipped. A peer that cannot be had (no npm, an
install that fails) is skipped with the reason; the bench goes on without it.
"""
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from scripts.core import paths, procs
from scripts.core.http import request
from scripts.perf.load import Target
from scripts.sim.sandbox import API_KEY, AWS_ACCESS_KEY, AWS_SECRET_KEY, Simulators

LOOPBACK_SHIM = Path(__file__).resolve().parent / "loopback.cjs"
START_TIMEOUT = 60.0
MODEL = "claude-sonnet-4-5-20250929"  # the Anthropic id every peer asks for
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CCR_KEY = "sk-bench-ccr-0123456789"


class PeerUnavailable(Exception):
    """Why a peer is not in this run (said in the report)."""


@dataclass(frozen=True)
class PeerSpec:
    name: str
    package: str
    version: str
    entry: str  # the script to run, inside the package


PORTKEY = PeerSpec("Portkey gateway", "@portkey-ai/gateway", "1.15.2", "build/start-server.js")
# 3.1.1 failed to install here (issue 17); 2.0.0 installs from npm alone.
CCR = PeerSpec("claude-code-router", "@musistudio/claude-code-router", "2.0.0", "dist/cli.js")


@dataclass
class RunningPeer:
    name: str
    process: subprocess.Popen
    target: Target
    start_s: float

    def pids(self) -> List[int]:
        return [self.process.pid]

    def stop(self) -> None:
        procs.terminate(self.process.pid, timeout=10)
        self.process.poll()


def cache_dir() -> Path:
    return Path(paths.override("GATEWAY_PEERS_CACHE") or Path.home() / ".cache" / "claude-gateway" / "peers")


def install(spec: PeerSpec) -> Path:
    """The peer's entry script, installed into the cache when missing."""
    prefix = cache_dir() / spec.package.replace("/", "__").lstrip("@") / spec.version
    entry = prefix / "node_modules" / spec.package / spec.entry
    if entry.exists():
        return entry
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise PeerUnavailable("Node.js/npm not installed (Debian: apt-get install nodejs npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                           f"{spec.package}@{spec.version}"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not entry.exists():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PeerUnavailable(f"npm install {spec.package}@{spec.version} failed: {last[0][:160]}")
    return entry


def _portkey_target(sims: Simulators, port: int) -> Target:
    config = {"strategy": {"mode": "fallback"}, "targets": [
        {"provider": "anthropic", "api_key": API_KEY, "custom_host": sims.anthropic_url + "/v1"},
        {"provider": "bedrock", "aws_access_key_id": AWS_ACCESS_KEY, "aws_secret_access_key": AWS_SECRET_KEY,
         "aws_region": "us-west-2", "custom_host": sims.bedrock_url, "override_params": {"model": BEDROCK_MODEL}}]}
    return Target("Portkey", f"http://127.0.0.1:{port}/v1/messages",
                  {"x-portkey-config": json.dumps(config), "content-type": "application/json",
                   "anthropic-version": "2023-06-01"}, _body())


def _ccr_home(sims: Simulators, port: int, home: Path) -> None:
    config = {"HOST": "127.0.0.1", "PORT": port, "APIKEY": CCR_KEY, "LOG": False, "NON_INTERACTIVE_MODE": True,
              "Providers": [{"name": "anthropic", "api_base_url": sims.anthropic_url + "/v1/messages",
                             "api_key": API_KEY, "models": [MODEL], "transformer": {"use": ["Anthropic"]}}],
              "Router": {"default": f"anthropic,{MODEL}"}}
    (home / ".claude-code-router").mkdir(parents=True, exist_ok=True)
    (home / ".claude-code-router" / "config.json").write_text(json.dumps(config))


def _body() -> dict:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello"}]}


def _command(entry: Path, *args: str) -> List[str]:
    return [shutil.which("node") or "node", "--require", str(LOOPBACK_SHIM), str(entry), *args]


def start(spec: PeerSpec, sims: Simulators, workdir: Path) -> RunningPeer:
    """Install (if needed), start on a free loopback port, wait for its first answer."""
    entry = install(spec)
    port = procs.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "OPENAI_"))}
    if spec is CCR:
        home = workdir / "ccr-home"
        _ccr_home(sims, port, home)
        env["HOME"] = str(home)
        command = _command(entry, "start")
        target = Target("claude-code-router", f"http://127.0.0.1:{port}/v1/messages",
                        {"x-api-key": CCR_KEY, "content-type": "application/json",
                         "anthropic-version": "2023-06-01"}, _body())
    else:
        env["NODE_ENV"] = "production"  # no UI, no log stream
        command = _command(entry, f"--port={port}", "--headless")
        target = _portkey_target(sims, port)
    log = open(workdir / f"{spec.name.replace(' ', '-')}.log", "wb")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    peer = RunningPeer(spec.name, process, target, 0.0)
    try:
        _wait_first_answer(peer)
        if not listens_on_loopback_only(port):
            raise PeerUnavailable(f"it listened beyond 127.0.0.1 on port {port} despite the loopback shim: stopped")
    except PeerUnavailable:
        peer.stop()
        raise
    peer.start_s = time.monotonic() - started
    return peer


def _wait_first_answer(peer: RunningPeer) -> None:
    def answered() -> bool:
        try:
            reply = request("POST", peer.target.url, headers=peer.target.headers, payload=peer.target.body, timeout=5)
        except OSError:
            return False
        if reply.status != 200:
            raise PeerUnavailable(f"its first answer was HTTP {reply.status}: {reply.body[:160]!r}")
        return True

    try:
        procs.wait_until(answered, START_TIMEOUT, interval=0.05,
                         abort=lambda: "it exited during start-up" if peer.process.poll() is not None else None)
    except (RuntimeError, TimeoutError) as exc:
        raise PeerUnavailable(f"no answer ({exc})") from None


def listens_on_loopback_only(port: int) -> bool:
    """Every listening socket on the port is bound to a loopback address (Linux /proc;
    True where that cannot be read)."""
    found = []
    for table, loopback in (("tcp", "0100007F"), ("tcp6", "00000000000000000000000001000000")):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return True
        for line in lines:
            parts = line.split()
            address, hex_port = parts[1].rsplit(":", 1)
            if parts[3] == "0A" and int(hex_port, 16) == port:
                found.append(address == loopback or (table == "tcp" and address.endswith("7F")))
    return all(found)


PEERS: Dict[str, PeerSpec] = {"portkey": PORTKEY, "ccr": CCR}


def start_all(names: List[str], sims: Simulators, workdir: Path,
              say: Callable[[str], None]) -> Tuple[List[RunningPeer], List[str]]:
    """The peers that started, and a line for each that did not."""
    running, skipped = [], []
    for name in names:
        spec = PEERS[name]
        try:
            running.append(start(spec, sims, workdir))
            say(f"   {spec.name} {spec.version}: first answer after {running[-1].start_s:.1f}s")
        except PeerUnavailable as exc:
            skipped.append(f"{spec.name} ({spec.package}@{spec.version}) skipped: {exc}")
            say(f"   {skipped[-1]}")
    return running, skipped

