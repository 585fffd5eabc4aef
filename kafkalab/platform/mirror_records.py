"""MirrorMaker 2's record formats and naming rules, byte for byte.

Offset syncs, checkpoints and heartbeats are Kafka protocol ``Struct``s (``STRING`` = 2-byte length + UTF-8,
``INT16``/``INT32``/``INT64`` big-endian); checkpoint and heartbeat values start with a 2-byte version.
Connect keeps source offsets as JSON: ``["MirrorSourceConnector",{"cluster":..,"partition":..,"topic":..}]``
-> ``{"offset": upstream offset of the last record written}``.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass

__all__ = [
    "Checkpoint",
    "DefaultReplicationPolicy",
    "Heartbeat",
    "OffsetSync",
    "compile_patterns",
    "connect_offset_key",
    "connect_offset_value",
    "parse_connect_offset",
]


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def _read_s(data: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from(">h", data, pos)
    return data[pos + 2 : pos + 2 + n].decode(), pos + 2 + n


@dataclass(frozen=True)
class OffsetSync:
    """``upstream`` offset in the source partition was written at ``downstream`` in the remote topic."""

    topic: str
    partition: int
    upstream: int
    downstream: int

    def key(self) -> bytes:
        return _s(self.topic) + struct.pack(">i", self.partition)

    def value(self) -> bytes:
        return struct.pack(">qq", self.upstream, self.downstream)

    @staticmethod
    def decode(key: bytes, value: bytes) -> OffsetSync:
        topic, pos = _read_s(key, 0)
        (partition,) = struct.unpack_from(">i", key, pos)
        up, down = struct.unpack(">qq", value[:16])
        return OffsetSync(topic, int(partition), int(up), int(down))


@dataclass(frozen=True)
class Checkpoint:
    """A consumer group's committed offset in the source and its translation for the remote topic."""

    group: str
    topic: str  # the remote topic (east.orders)
    partition: int
    upstream: int
    downstream: int
    metadata: str = ""

    def key(self) -> bytes:
        return _s(self.group) + _s(self.topic) + struct.pack(">i", self.partition)

    def value(self) -> bytes:
        return struct.pack(">hqq", 0, self.upstream, self.downstream) + _s(self.metadata)

    @staticmethod
    def decode(key: bytes, value: bytes) -> Checkpoint:
        group, pos = _read_s(key, 0)
        topic, pos = _read_s(key, pos)
        (partition,) = struct.unpack_from(">i", key, pos)
        _version, up, down = struct.unpack_from(">hqq", value, 0)
        meta, _ = _read_s(value, 18)
        return Checkpoint(group, topic, int(partition), int(up), int(down), meta)


@dataclass(frozen=True)
class Heartbeat:
    source: str
    target: str
    timestamp_ms: int

    def key(self) -> bytes:
        return _s(self.source) + _s(self.target)

    def value(self) -> bytes:
        return struct.pack(">hq", 0, self.timestamp_ms)

    @staticmethod
    def decode(key: bytes, value: bytes) -> Heartbeat:
        source, pos = _read_s(key, 0)
        target, _ = _read_s(key, pos)
        _v, ts = struct.unpack(">hq", value[:10])
        return Heartbeat(source, target, int(ts))


class DefaultReplicationPolicy:
    """``<source alias>.<topic>`` for remote topics; MirrorMaker's internal topic names."""

    separator = "."

    def format_remote_topic(self, source_alias: str, topic: str) -> str:
        return f"{source_alias}{self.separator}{topic}"

    def topic_source(self, topic: str) -> str | None:
        parts = topic.split(self.separator)
        return parts[0] if len(parts) >= 2 else None

    def upstream_topic(self, topic: str) -> str | None:
        src = self.topic_source(topic)
        return None if src is None else topic[len(src) + 1 :]

    def offset_syncs_topic(self, target_alias: str) -> str:
        return f"mm2-offset-syncs.{target_alias}.internal"

    def checkpoints_topic(self, source_alias: str) -> str:
        return f"{source_alias}.checkpoints.internal"

    def heartbeats_topic(self) -> str:
        return "heartbeats"

    def is_heartbeats_topic(self, topic: str) -> bool:
        return topic == "heartbeats" or topic.endswith(".heartbeats")

    def is_internal_topic(self, topic: str) -> bool:
        return (
            topic.endswith(".internal")
            or topic.endswith("-internal")
            or topic.startswith("__")
            or topic.startswith(".")
        )


def compile_patterns(spec: str) -> re.Pattern[str]:
    """MirrorMaker's comma-separated regex list (``MirrorUtils.compilePatternList``), matched whole."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return re.compile("|".join(f"(?:{p})" for p in parts) if parts else "(?!x)x")


def connect_offset_key(connector: str, cluster: str, topic: str, partition: int) -> bytes:
    return json.dumps(
        [connector, {"cluster": cluster, "partition": partition, "topic": topic}], separators=(",", ":")
    ).encode()


def connect_offset_value(offset: int) -> bytes:
    return json.dumps({"offset": offset}, separators=(",", ":")).encode()


def parse_connect_offset(
    key: bytes | None, value: bytes | None
) -> tuple[str, str, str, int, int | None] | None:
    """(connector, cluster, topic, partition, offset or None for a tombstone) or None if not one of ours."""
    if key is None:
        return None
    try:
        k = json.loads(key.decode())
        connector, part = k[0], k[1]
        off = None if value is None else int(json.loads(value.decode())["offset"])
        return str(connector), str(part["cluster"]), str(part["topic"]), int(part["partition"]), off
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        return None
