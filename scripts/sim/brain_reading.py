"""What the simulated model reads in the documents and images it is given, without
weights: the text of simple PDFs (their content streams' text operators), plain text,
and what an image's header says (type, size, dimensions).

PDF syntax (ISO 32000-1, https://opensource.adobe.com/dc-acrobat-sdk-docs/pdfstandards/PDF32000_2008.pdf):
streams sit between `stream` and `endstream` (7.3.8), /FlateDecode is zlib (7.4.4), text
is shown by the Tj, TJ, ' and " operators (9.4.3) on literal `(...)` strings with
backslash escapes (7.3.4.2) or hex `<...>` strings (7.3.4.3)."""
from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from typing import List, Optional

STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)\r?\n?endstream", re.S)
# A literal string (balanced parentheses one level deep, escapes kept) or a hex string.
STRING = rb"\((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*\)|<[0-9A-Fa-f\s]*>"
SHOW = re.compile(rb"(" + STRING + rb")\s*(?:Tj|'|\")|\[((?:" + STRING + rb"|[^\]])*)\]\s*TJ", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
MAX_TEXT = 4000


def _literal(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        ch = raw[i:i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += ESCAPES.get(nxt, nxt if nxt != b"\n" else b"")
            i += 2
    return bytes(out)


def _string(token: bytes) -> str:
    if token.startswith(b"<"):
        digits = re.sub(rb"\s", b"", token[1:-1])
        raw = binascii.unhexlify(digits + b"0" * (len(digits) % 2))
    else:
        raw = _literal(token[1:-1])
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    return raw.decode("latin-1")


def _stream_data(head: bytes, data: bytes) -> bytes:
    if b"/FlateDecode" not in head:
        return data
    try:
        return zlib.decompress(data)
    except zlib.error:
        return b""  # a filter the simulator cannot undo: no text from this stream


def pdf_text(pdf: bytes) -> str:
    """The text a simple PDF shows, page streams in file order, one line per operator."""
    lines: List[str] = []
    for head, data in STREAM.findall(pdf):
        for single, array in SHOW.findall(_stream_data(head, data)):
            parts = [single] if single else re.findall(STRING, array)
            line = "".join(_string(p) for p in parts).strip()
            if line:
                lines.append(line)
    return "\n".join(lines)[:MAX_TEXT]


def document_text(media_type: str, data: str, is_base64: bool = True) -> str:
    """What a document says: a PDF's text, a text document as it is."""
    raw = _decoded(data) if is_base64 else data.encode()
    if raw is None:
        return ""
    if media_type == "application/pdf" or raw.startswith(b"%PDF"):
        return pdf_text(raw)
    return raw.decode("utf-8", "replace")[:MAX_TEXT]


def _decoded(data: str) -> Optional[bytes]:
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None


def _dimensions(raw: bytes) -> Optional[tuple]:
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24:
        return struct.unpack(">II", raw[16:24])
    if raw[:6] in (b"GIF87a", b"GIF89a") and len(raw) >= 10:
        return struct.unpack("<HH", raw[6:10])
    if raw.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(raw)
    return None


def _jpeg_dimensions(raw: bytes) -> Optional[tuple]:
    i = 2
    while i + 9 < len(raw) and raw[i] == 0xFF:
        marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", raw[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def image_description(media_type: str, data: str) -> str:
    """What the model can say about an image without seeing it: type, bytes, dimensions."""
    raw = _decoded(data) or b""
    size = _dimensions(raw)
    shape = f", {size[0]}x{size[1]} pixels" if size else ""
    return f"an image ({media_type}, {len(raw)} bytes{shape})"
