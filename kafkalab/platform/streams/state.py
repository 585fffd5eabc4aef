"""State stores: in-memory key-value and window stores of one task, logged to a changelog topic.

Stores keep serialized bytes, as RocksDB does, so what is restored from the changelog is byte-for-byte what
was written. Every write is also sent to the store's changelog partition (the task's partition of
``<application.id>-<store>-changelog``) through the task's producer; restoring replays that partition.

Changelog formats are Kafka's: key-value stores log ``key -> value`` with the record's timestamp; window
stores log ``key bytes + window start (8 bytes) + sequence number (4 bytes) -> value``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

from .serdes import Window, Windowed
from .topology import StoreSpec

__all__ = ["KeyValueStore", "WindowStore", "make_store"]

#: log(key bytes, value bytes or None for a delete, timestamp)
Logger = Callable[[bytes, bytes | None, int], None]


class KeyValueStore:
    """A task's key-value store (timestamped, like Kafka's default DSL stores)."""

    kind = "kv"

    def __init__(self, spec: StoreSpec, partition: int, log: Logger | None) -> None:
        self.spec = spec
        self.name = spec.name
        self.partition = partition
        self._log = log
        self.data: dict[bytes, tuple[bytes, int]] = {}
        self.observed_stream_time = -1

    def _kb(self, key: Any) -> bytes:
        kb = self.spec.key_serde.serialize(key)
        if kb is None:
            raise ValueError(f"store {self.name}: a key cannot be null")
        return bytes(kb)

    def get(self, key: Any) -> Any:
        return self.get_with_timestamp(key)[0]

    def get_with_timestamp(self, key: Any) -> tuple[Any, int]:
        hit = self.data.get(self._kb(key))
        if hit is None:
            return None, -1
        return self.spec.value_serde.deserialize(hit[0]), hit[1]

    def put(self, key: Any, value: Any, timestamp: int) -> None:
        kb = self._kb(key)
        vb = self.spec.value_serde.serialize(value)
        if vb is None:
            self.delete(key, timestamp)
            return
        self.data[kb] = (bytes(vb), timestamp)
        if self._log is not None:
            self._log(kb, bytes(vb), timestamp)

    def delete(self, key: Any, timestamp: int) -> None:
        kb = self._kb(key)
        self.data.pop(kb, None)
        if self._log is not None:
            self._log(kb, None, timestamp)

    def all(self) -> Iterator[tuple[Any, Any]]:
        """Every entry in key-bytes order (RocksDB's order)."""
        ks, vs = self.spec.key_serde, self.spec.value_serde
        for kb in sorted(self.data):
            yield ks.deserialize(kb), vs.deserialize(self.data[kb][0])

    def approximate_num_entries(self) -> int:
        return len(self.data)

    # -- restoration --------------------------------------------------------------------------------------
    def restore(self, key: bytes | None, value: bytes | None, timestamp: int) -> None:
        if key is None:
            return
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = (value, timestamp)

    def snapshot(self) -> dict[bytes, bytes]:
        """The raw contents (key bytes -> value bytes), to compare a store before and after a restore."""
        return {k: v for k, (v, _ts) in self.data.items()}


class WindowStore:
    """A task's window store: ``(key, window start) -> value``, windows older than the retention dropped."""

    kind = "window"

    def __init__(self, spec: StoreSpec, partition: int, log: Logger | None) -> None:
        self.spec = spec
        self.name = spec.name
        self.partition = partition
        self._log = log
        self.data: dict[tuple[bytes, int], tuple[bytes, int]] = {}
        self.observed_stream_time = -1

    def _kb(self, key: Any) -> bytes:
        kb = self.spec.key_serde.serialize(key)
        if kb is None:
            raise ValueError(f"store {self.name}: a key cannot be null")
        return bytes(kb)

    def fetch(self, key: Any, window_start: int) -> Any:
        return self.fetch_with_timestamp(key, window_start)[0]

    def fetch_with_timestamp(self, key: Any, window_start: int) -> tuple[Any, int]:
        hit = self.data.get((self._kb(key), window_start))
        if hit is None:
            return None, -1
        return self.spec.value_serde.deserialize(hit[0]), hit[1]

    def put(self, key: Any, window_start: int, value: Any, timestamp: int) -> None:
        kb = self._kb(key)
        vb = self.spec.value_serde.serialize(value)
        if vb is None:
            self.data.pop((kb, window_start), None)
        else:
            self.data[(kb, window_start)] = (bytes(vb), timestamp)
        self._expire()
        if self._log is not None:
            self._log(_window_key(kb, window_start), None if vb is None else bytes(vb), timestamp)

    def _expire(self) -> None:
        horizon = self.observed_stream_time - self.spec.retention_ms
        if horizon <= 0:
            return
        for k in [k for k in self.data if k[1] + self.spec.window_size_ms <= horizon]:
            del self.data[k]

    def fetch_range(self, key: Any, time_from: int, time_to: int) -> list[tuple[Window, Any]]:
        """Windows of ``key`` whose start is in ``[time_from, time_to]``, oldest first."""
        kb = self._kb(key)
        size, vs = self.spec.window_size_ms, self.spec.value_serde
        out = []
        for (k, start), (vb, _ts) in sorted(self.data.items(), key=lambda kv: kv[0][1]):
            if k == kb and time_from <= start <= time_to:
                out.append((Window(start, start + size), vs.deserialize(vb)))
        return out

    def all(self) -> Iterator[tuple[Windowed, Any]]:
        ks, vs, size = self.spec.key_serde, self.spec.value_serde, self.spec.window_size_ms
        for kb, start in sorted(self.data):
            yield (
                Windowed(ks.deserialize(kb), Window(start, start + size)),
                vs.deserialize(self.data[(kb, start)][0]),
            )

    def approximate_num_entries(self) -> int:
        return len(self.data)

    def restore(self, key: bytes | None, value: bytes | None, timestamp: int) -> None:
        if key is None or len(key) < 12:
            return
        kb, start = key[:-12], int(struct.unpack(">q", key[-12:-4])[0])
        self.observed_stream_time = max(self.observed_stream_time, timestamp)
        if value is None:
            self.data.pop((kb, start), None)
        else:
            self.data[(kb, start)] = (value, timestamp)

    def snapshot(self) -> dict[bytes, bytes]:
        return {_window_key(kb, start): v for (kb, start), (v, _ts) in self.data.items()}


def _window_key(kb: bytes, start: int) -> bytes:
    return kb + struct.pack(">qi", start, 0)


def make_store(spec: StoreSpec, partition: int, log: Logger | None) -> KeyValueStore | WindowStore:
    if spec.kind == "window":
        return WindowStore(spec, partition, log)
    return KeyValueStore(spec, partition, log)
