"""Another user's server on a port (issue 22): a tiny HTTP server run as `nobody` by
setpriv, answering like LiteLLM's liveness route and recording the headers of every
request it gets on its stdout, with a fake API key in its own command line.

It runs /usr/bin/python3 with the code inline: `nobody` can read neither the checkout
nor pytest's temp dirs."""
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import pytest

# In the listener's argv: the port-in-use line must not show it.
FAKE_KEY = "sk-ant-api03-FAKEKEYOFANOTHERUSER-0123456789abcdef"
SERVER = r'''
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        print(json.dumps({"path": self.path, "headers": dict(self.headers)}), flush=True)
        body = b'"I\'m alive!"'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = _answer
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("READY", server.server_address[1], flush=True)
server.serve_forever()
'''
SYSTEM_PYTHON = Path("/usr/bin/python3")


@dataclass
class ForeignListener:
    process: subprocess.Popen
    port: int
    seen: List[dict] = field(default_factory=list)

    def requests(self) -> List[dict]:
        """What it was sent so far (it is stopped first, so every line is in)."""
        self.stop()
        self.seen += [json.loads(line) for line in self.process.stdout.read().splitlines() if line.startswith("{")]
        return self.seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_as_nobody() -> ForeignListener:
    if not shutil.which("setpriv") or not SYSTEM_PYTHON.exists():
        pytest.skip("needs setpriv and /usr/bin/python3 to run a server as another user")
    command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(SYSTEM_PYTHON), "-c", SERVER,
               f"--api-key={FAKE_KEY}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        pytest.skip(f"could not run a server as nobody here: {line or process.stderr.read()[:200]}")
    return ForeignListener(process, int(line.split()[1]))
