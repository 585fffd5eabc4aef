"""Serdes: how Kafka Streams turns keys and values into bytes and back (``org.apache.kafka.common.serialization``).

The byte formats are Java's: ``Serdes.Long()`` writes 8 bytes big-endian, ``Serdes.String()`` UTF-8, and a
windowed key is the inner key's bytes followed by the window start as 8 bytes (``TimeWindowedSerializer``).
``Serdes.Json()`` is the lab's JSON serde (ksqlDB's JSON value format); Java ships none.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Serde", "Serdes", "SerializationError", "Window", "Windowed", "WindowedSerde"]


class SerializationError(Exception):
    """A record could not be (de)serialized (Java: ``SerializationException``)."""


@dataclass(frozen=True)
class Serde:
    """A named pair of functions: object -> bytes and bytes -> object (None stays None)."""

    name: str
    _ser: Callable[[Any], bytes]
    _de: Callable[[bytes], Any]

    def serialize(self, obj: Any) -> bytes | None:
        if obj is None:
            return None
        try:
            return self._ser(obj)
        except (TypeError, ValueError, struct.error, OverflowError) as e:
            raise SerializationError(f"{self.name} cannot serialize {obj!r}: {e}") from None

    def deserialize(self, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return self._de(data)
        except (TypeError, ValueError, struct.error, UnicodeDecodeError) as e:
            raise SerializationError(f"{self.name} cannot deserialize {data[:40]!r}: {e}") from None

    def __repr__(self) -> str:
        return f"Serdes.{self.name}()"


def _long_de(b: bytes) -> int:
    if len(b) != 8:
        raise ValueError(f"size of data received by LongDeserializer is not 8 but {len(b)}")
    return int(struct.unpack(">q", b)[0])


def _int_de(b: bytes) -> int:
    if len(b) != 4:
        raise ValueError(f"size of data received by IntegerDeserializer is not 4 but {len(b)}")
    return int(struct.unpack(">i", b)[0])


def _double_de(b: bytes) -> float:
    if len(b) != 8:
        raise ValueError(f"size of data received by DoubleDeserializer is not 8 but {len(b)}")
    return float(struct.unpack(">d", b)[0])


def _json_ser(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def _bytes(obj: Any) -> bytes:
    if not isinstance(obj, bytes | bytearray):
        raise TypeError(f"expected bytes, got {type(obj).__name__}")
    return bytes(obj)


class Serdes:
    """Factory of serdes, named like Java's ``Serdes.String()``, ``Serdes.Long()``."""

    _STRING = Serde("String", lambda s: str(s).encode(), lambda b: b.decode())
    _LONG = Serde("Long", lambda n: struct.pack(">q", int(n)), _long_de)
    _INTEGER = Serde("Integer", lambda n: struct.pack(">i", int(n)), _int_de)
    _DOUBLE = Serde("Double", lambda x: struct.pack(">d", float(x)), _double_de)
    _BYTES = Serde("ByteArray", _bytes, lambda b: b)
    _JSON = Serde("Json", _json_ser, lambda b: json.loads(b.decode()))

    @staticmethod
    def String() -> Serde:  # noqa: N802 - Java's name
        return Serdes._STRING

    @staticmethod
    def Long() -> Serde:  # noqa: N802
        return Serdes._LONG

    @staticmethod
    def Integer() -> Serde:  # noqa: N802
        return Serdes._INTEGER

    @staticmethod
    def Double() -> Serde:  # noqa: N802
        return Serdes._DOUBLE

    @staticmethod
    def ByteArray() -> Serde:  # noqa: N802
        return Serdes._BYTES

    @staticmethod
    def Json() -> Serde:  # noqa: N802
        return Serdes._JSON

    @staticmethod
    def by_name(name: str) -> Serde:
        """``"String"``, ``"Long"`` ... or a Java class name such as ``...serialization.Serdes$LongSerde``."""
        short = name.rsplit(".", 1)[-1].rsplit("$", 1)[-1]
        for suffix in ("Serde", "Serializer", "Deserializer"):
            if short.endswith(suffix) and short != suffix:
                short = short[: -len(suffix)]
        table = {
            "string": Serdes._STRING,
            "long": Serdes._LONG,
            "integer": Serdes._INTEGER,
            "int": Serdes._INTEGER,
            "double": Serdes._DOUBLE,
            "bytearray": Serdes._BYTES,
            "bytes": Serdes._BYTES,
            "json": Serdes._JSON,
        }
        serde = table.get(short.lower())
        if serde is None:
            raise ValueError(
                f"unknown serde {name!r} (known: String, Long, Integer, Double, ByteArray, Json)"
            )
        return serde


@dataclass(frozen=True, order=True)
class Window:
    """A time window ``[start_ms, end_ms)`` (Java's ``TimeWindow``)."""

    start_ms: int
    end_ms: int

    def start(self) -> int:
        return self.start_ms

    def end(self) -> int:
        return self.end_ms


@dataclass(frozen=True, order=True)
class Windowed:
    """A key together with the window it was aggregated in (Java's ``Windowed<K>``)."""

    key: Any
    window: Window

    def __str__(self) -> str:
        return f"[{self.key}@{self.window.start_ms}/{self.window.end_ms}]"


class WindowedSerde:
    """``WindowedSerdes.timeWindowedSerdeFrom``: inner key bytes + window start (8 bytes, big-endian)."""

    def __init__(self, inner: Serde, window_size_ms: int) -> None:
        self.inner = inner
        self.window_size_ms = window_size_ms
        self.name = f"TimeWindowed({inner.name})"

    def serialize(self, w: Windowed | None) -> bytes | None:
        if w is None:
            return None
        kb = self.inner.serialize(w.key) or b""
        return kb + struct.pack(">q", w.window.start_ms)

    def deserialize(self, data: bytes | None) -> Windowed | None:
        if data is None:
            return None
        if len(data) < 8:
            raise SerializationError(f"{self.name}: {len(data)} bytes are too few for a windowed key")
        start = int(struct.unpack(">q", data[-8:])[0])
        return Windowed(self.inner.deserialize(data[:-8]), Window(start, start + self.window_size_ms))

    def inner_key_bytes(self, w: Windowed) -> bytes:
        return self.inner.serialize(w.key) or b""
