"""AWS event-stream (application/vnd.amazon.eventstream) frame encoder and decoder.

Frame layout (all integers big-endian):
    prelude   total_length u32 | headers_length u32 | prelude_crc u32 (CRC32 of the first 8 bytes)
    headers   name_len u8 | name | value_type u8 | value
    payload   raw bytes
    trailer   message_crc u32 (CRC32 of everything before it)

Bedrock's streaming APIs (invoke-with-response-stream, converse-stream) use this
framing; the simulator encodes with it and tests decode with it, so both sides
check the CRCs the way botocore does.
"""
from __future__ import annotations

import struct
import uuid
import zlib
from typing import Iterator, NamedTuple

PRELUDE_LEN = 12
CRC_LEN = 4
# Header value type codes from the AWS event-stream specification.
T_TRUE, T_FALSE, T_BYTE, T_SHORT, T_INT, T_LONG, T_BYTES, T_STRING, T_TIME, T_UUID = range(10)
_FIXED = {T_BYTE: ">b", T_SHORT: ">h", T_INT: ">i", T_LONG: ">q", T_TIME: ">q"}


class EventStreamError(ValueError):
    """Raised for a frame that a real client would reject (bad CRC, bad lengths)."""


class Message(NamedTuple):
    headers: dict
    payload: bytes


def _encode_header(name: str, value) -> bytes:
    raw_name = name.encode()
    head = struct.pack(">B", len(raw_name)) + raw_name
    if isinstance(value, bool):  # bool before int: bool is an int subclass
        return head + struct.pack(">B", T_TRUE if value else T_FALSE)
    if isinstance(value, int):
        return head + struct.pack(">Bi", T_INT, value)
    if isinstance(value, (bytes, bytearray)):
        return head + struct.pack(">BH", T_BYTES, len(value)) + bytes(value)
    raw = str(value).encode()
    return head + struct.pack(">BH", T_STRING, len(raw)) + raw


def encode_message(headers: dict, payload: bytes = b"") -> bytes:
    """Encode one frame. Strings are type 7, ints type 4, bools 0/1, bytes type 6."""
    raw_headers = b"".join(_encode_header(k, v) for k, v in headers.items())
    total = PRELUDE_LEN + len(raw_headers) + len(payload) + CRC_LEN
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def encode_event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """A normal `:message-type event` frame as Bedrock sends it."""
    return encode_message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload
    )


def encode_exception(exception_type: str, payload: bytes) -> bytes:
    """An in-stream exception frame; botocore raises EventStreamError(code=exception_type)."""
    return encode_message(
        {":exception-type": exception_type, ":content-type": "application/json",
         ":message-type": "exception"}, payload
    )


def _decode_headers(raw: bytes) -> dict:
    headers, pos = {}, 0
    while pos < len(raw):
        name_len = raw[pos]
        name = raw[pos + 1:pos + 1 + name_len].decode()
        pos += 1 + name_len
        vtype = raw[pos]
        pos += 1
        if vtype in (T_TRUE, T_FALSE):
            value = vtype == T_TRUE
        elif vtype in _FIXED:
            fmt = _FIXED[vtype]
            value = struct.unpack_from(fmt, raw, pos)[0]
            pos += struct.calcsize(fmt)
        elif vtype in (T_BYTES, T_STRING):
            (length,) = struct.unpack_from(">H", raw, pos)
            value = raw[pos + 2:pos + 2 + length]
            value = value.decode() if vtype == T_STRING else value
            pos += 2 + length
        elif vtype == T_UUID:
            value = uuid.UUID(bytes=raw[pos:pos + 16])
            pos += 16
        else:
            raise EventStreamError(f"unknown header value type {vtype}")
        headers[name] = value
    return headers


def decode_message(buf: bytes) -> tuple[Message, int]:
    """Decode the first complete frame of buf; returns (message, bytes consumed)."""
    if len(buf) < PRELUDE_LEN:
        raise EventStreamError("incomplete prelude")
    total, headers_len, prelude_crc = struct.unpack_from(">III", buf)
    if zlib.crc32(buf[:8]) != prelude_crc:
        raise EventStreamError("prelude CRC mismatch")
    if total < PRELUDE_LEN + CRC_LEN + headers_len:
        raise EventStreamError("invalid frame lengths")
    if len(buf) < total:
        raise EventStreamError("incomplete frame")
    (msg_crc,) = struct.unpack_from(">I", buf, total - CRC_LEN)
    if zlib.crc32(buf[:total - CRC_LEN]) != msg_crc:
        raise EventStreamError("message CRC mismatch")
    headers = _decode_headers(buf[PRELUDE_LEN:PRELUDE_LEN + headers_len])
    payload = bytes(buf[PRELUDE_LEN + headers_len:total - CRC_LEN])
    return Message(headers, payload), total


class EventStreamDecoder:
    """Incremental decoder: feed() arbitrary byte chunks, get complete frames back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buf.extend(data)
        out = []
        while len(self._buf) >= PRELUDE_LEN:
            (total,) = struct.unpack_from(">I", self._buf)
            if len(self._buf) < total:
                break  # wait for the rest of this frame
            msg, used = decode_message(bytes(self._buf[:total]))
            del self._buf[:used]
            out.append(msg)
        return out

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame (non-zero at EOF means a truncated stream)."""
        return len(self._buf)


def decode_all(data: bytes) -> list[Message]:
    """Decode a whole body; raises EventStreamError if it ends mid-frame."""
    dec = EventStreamDecoder()
    msgs = dec.feed(data)
    if dec.pending:
        raise EventStreamError(f"stream ended inside a frame ({dec.pending} bytes left)")
    return msgs


def iter_frames(chunks) -> Iterator[Message]:
    """Decode frames from an iterable of byte chunks (e.g. a streaming HTTP body)."""
    dec = EventStreamDecoder()
    for chunk in chunks:
        yield from dec.feed(chunk)
    if dec.pending:
        raise EventStreamError(f"stream ended inside a frame ({dec.pending} bytes left)")
