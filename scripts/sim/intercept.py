"""An HTTPS proxy for tests that sends hosts LiteLLM hard-codes to a local simulator.

LiteLLM 1.106.2 fixes ChatGPT's sign-in URLs (https://auth.openai.com/..., module
constants in litellm/llms/chatgpt/common_utils.py; no variable moves them). Its HTTP
client does obey the standard HTTPS_PROXY and SSL_CERT_FILE variables, so a test sets

    HTTPS_PROXY=http://127.0.0.1:<this port>   SSL_CERT_FILE=<ca.pem written here>

for the login command and the proxy, and LiteLLM's unmodified code talks TLS to
"auth.openai.com" through this proxy, which terminates TLS with a certificate for that
host signed by a throw-away CA and relays the plain HTTP to the ChatGPT simulator. Hosts
it was not given are refused (403), so nothing leaves the machine. Nothing of this is in
the toolkit's own code paths: it is two environment variables that only tests set.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path
from typing import Dict, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Target = Tuple[str, int]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject: str, issuer: str, key, signer, ca: bool, hosts=()) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tls(hosts, folder: Path) -> Tuple[Path, ssl.SSLContext]:
    """A CA (written to folder/ca.pem for SSL_CERT_FILE) and a server context whose
    certificate covers the hosts."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("simulator test CA", "simulator test CA", ca_key, ca_key, ca=True)
    leaf = _cert(hosts[0], "simulator test CA", leaf_key, ca_key, ca=False, hosts=hosts)
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, chain, key_file = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    ca_file.write_bytes(_pem(ca))
    chain.write_bytes(_pem(leaf) + _pem(ca))
    key_file.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    key_file.chmod(0o600)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key_file)
    return ca_file, context


class Interceptor:
    """CONNECT host:443 for the mapped hosts -> TLS here -> plain HTTP to the target."""

    def __init__(self, routes: Dict[str, Target], context: ssl.SSLContext) -> None:
        self.routes = routes
        self.context = context
        self.connects: list = []  # (host, allowed) of every CONNECT, for tests

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            method, target, _ = head.split("\r\n", 1)[0].split(" ", 2)
            host, _, port = target.rpartition(":")
            allowed = method == "CONNECT" and port == "443" and host in self.routes
            self.connects.append((host, allowed))
            if not allowed:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await writer.drain()
            await writer.start_tls(self.context)
            up_reader, up_writer = await asyncio.open_connection(*self.routes[host])
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, ValueError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # a client that went away mid-handshake: nothing to relay
        except asyncio.CancelledError:
            pass  # the simulators are shutting down with this tunnel open: just close it
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass  # the other side closed: the relay ends
    finally:
        if writer.can_write_eof():
            writer.write_eof()
