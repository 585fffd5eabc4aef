"""A bare Kafka protocol client for the wire tests: frames built with kio, read back as kio entities."""

from __future__ import annotations

import io
import socket
import struct
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.request_header.v1.header import RequestHeader as HeaderV1
from kio.schema.request_header.v2.header import RequestHeader as HeaderV2
from kio.serial import entity_reader, entity_writer

from kafkalab.wire.codec import build


def frame(
    api_key: int, version: int, corr: int, body: dict[str, Any], client_id: str = "raw", extra: bytes = b""
) -> bytes:
    """A whole request frame (size prefix included); ``extra`` bytes are appended after the body."""
    cls = load_request_schema(api_key, version)
    header_cls = HeaderV2 if cls.__flexible__ else HeaderV1
    buf = io.BytesIO()
    entity_writer(header_cls)(
        buf,
        header_cls(
            request_api_key=api_key, request_api_version=version, correlation_id=corr, client_id=client_id
        ),
    )
    entity_writer(cls)(buf, build(cls, body))
    payload = buf.getvalue() + extra
    return struct.pack(">i", len(payload)) + payload


def decode(api_key: int, version: int, payload: bytes) -> Any:
    """The response body of a frame's payload (correlation id and header tags skipped)."""
    cls = load_response_schema(api_key, version)
    pos = 4
    if cls.__flexible__ and api_key != 18:
        pos += 1  # response header v1: an empty tagged-field section
    value, _size = entity_reader(cls)(payload, pos)
    return value


class RawConnection:
    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed by the broker")
            out += chunk
        return out

    def recv_frame(self) -> tuple[int, bytes]:
        """(correlation id, payload) of the next answer."""
        (size,) = struct.unpack(">i", self.recv_exact(4))
        payload = self.recv_exact(size)
        return struct.unpack_from(">i", payload)[0], payload

    def request(self, api_key: int, version: int, body: dict[str, Any], corr: int = 1) -> Any:
        self.send(frame(api_key, version, corr, body))
        got, payload = self.recv_frame()
        assert got == corr
        return decode(api_key, version, payload)

    def closed_by_peer(self) -> bool:
        """True once the broker has closed the connection (blocks until it does or the timeout passes)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()
