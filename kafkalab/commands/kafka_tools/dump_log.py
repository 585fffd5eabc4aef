"""``kafka-dump-log`` (Kafka's DumpLogSegments) on the brokers' real segment files.

Paths are real files: absolute, or relative to the lab's data directory (``broker-1/events-0/
00000000000000000000.log``). ``.log`` files are decoded batch by batch from their bytes (record batch v2),
``.index`` and ``.timeindex`` entry by entry; the broker's buffered appends are flushed to the files first.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from ...sim.group import decode_offsets_record
from ...sim.log import delete_horizon_ms
from ...sim.records import CorruptRecordError, RecordBatch, decode_batches
from ..base import Plan
from ..parsing import CommandError, Opt, parse_options

if TYPE_CHECKING:
    from ..session import LabSession

DUMP_LOG_OPTS = [
    Opt(
        "files",
        "str",
        help="comma separated .log/.index/.timeindex files (relative to the lab's data directory, "
        "e.g. broker-1/events-0/00000000000000000000.log)",
    ),
    Opt("print-data-log", help="print each record's key and value (implies --deep-iteration)"),
    Opt("deep-iteration", help="print every record of each batch, not only the batch headers"),
    Opt("offsets-decoder", help="decode __consumer_offsets records (implies --print-data-log)"),
    Opt("skip-record-metadata", help="print only the records' key and value"),
    Opt("max-bytes", "int", help="read at most this many bytes of each .log file"),
    Opt("verify-index-only", help="only check the index files, print nothing but mismatches"),
    Opt("index-sanity-check", help="only check that the index files are sane"),
    Opt("max-message-size", "int", help="(accepted; the lab reads whole batches)"),
]


def _resolve(session: LabSession, name: str) -> Path:
    p = Path(name)
    if not p.is_absolute():
        p = Path(session.cluster.data_dir) / p
    return p


def _flush_owner(session: LabSession, path: Path) -> None:
    """Hand the owning log's buffered appends to the file (a reader sees what the OS has)."""
    cluster = session.cluster
    for b in cluster.brokers.values():
        if not b.alive:
            continue
        for (t, i), part in b.partitions.items():
            if b.partition_dir(t, i).resolve() == path.parent.resolve():
                part.log.flush()
                return


def _text(b: bytes | None) -> str:
    return "null" if b is None else b.decode("utf-8", errors="replace")


def _offsets_json(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """Kafka's OffsetsMessageParser: key and payload as JSON."""
    d = decode_offsets_record(key, value)
    if d.get("type") == "offset_commit":
        k = {"type": "1", "data": {"group": d["group"], "topic": d["topic"], "partition": d["partition"]}}
        if d.get("tombstone"):
            return json.dumps(k, separators=(",", ":")), "<DELETE>"
        v = {
            "version": "3",
            "data": {
                "offset": d["offset"],
                "leaderEpoch": d["leader_epoch"],
                "metadata": d["metadata"] or "",
                "commitTimestamp": d["commit_timestamp"],
            },
        }
        return json.dumps(k, separators=(",", ":")), json.dumps(v, separators=(",", ":"))
    if d.get("type") == "group_metadata":
        k = {"type": "2", "data": {"group": d["group"]}}
        if d.get("tombstone"):
            return json.dumps(k, separators=(",", ":")), "<DELETE>"
        v = {
            "version": "3",
            "data": {
                "protocolType": d["protocol_type"],
                "generation": d["generation"],
                "protocol": d["protocol"],
                "leader": d["leader"],
                "members": [
                    {
                        "memberId": m["member_id"],
                        "groupInstanceId": m["group_instance_id"],
                        "clientId": m["client_id"],
                        "clientHost": m["host"],
                        "rebalanceTimeout": m["rebalance_timeout_ms"],
                        "sessionTimeout": m["session_timeout_ms"],
                        "assignment": [f"{t}-{p}" for t, p in m["assignment"]],
                    }
                    for m in d["members"]
                ],
            },
        }
        return json.dumps(k, separators=(",", ":")), json.dumps(v, separators=(",", ":"))
    return "Unknown record type, skipping.", None


def _batch_line(b: RecordBatch, position: int) -> str:
    horizon = delete_horizon_ms(b)
    return (
        f"baseOffset: {b.base_offset} lastOffset: {b.last_offset} count: {b.record_count} "
        f"baseSequence: {b.base_sequence} lastSequence: {b.last_sequence} producerId: {b.producer_id} "
        f"producerEpoch: {b.producer_epoch} partitionLeaderEpoch: {b.partition_leader_epoch} "
        f"isTransactional: {str(b.is_transactional).lower()} isControl: {str(b.is_control).lower()} "
        f"deleteHorizonMs: {'OptionalLong.empty' if horizon is None else f'OptionalLong[{horizon}]'} "
        f"position: {position} {b.timestamp_type}: {b.max_timestamp} size: {b.size_bytes} magic: 2 "
        f"compresscodec: none crc: {b.crc} isvalid: true"
    )


def _dump_log(
    path: Path, data: bytes, deep: bool, contents: bool, offsets: bool, skip_meta: bool
) -> list[str]:
    lines = [f"Log starting offset: {int(path.name.split('.')[0])}"]
    batches, valid = decode_batches(data)
    position = 0
    for b in batches:
        lines.append(_batch_line(b, position))
        position += b.size_bytes
        if not deep:
            continue
        control = b.control_type if b.is_control else None
        for off, row in b.iter_rows():
            key, value, headers, ts = row[0], row[1], row[2], row[3]
            prefix = "| "
            parts: list[str] = []
            if not skip_meta:
                seq = -1 if b.base_sequence < 0 else (b.base_sequence + off - b.base_offset) & 0x7FFFFFFF
                meta = (
                    f"{prefix}offset: {off} {b.timestamp_type}: {ts} keySize: {-1 if key is None else len(key)} "
                    f"valueSize: {-1 if value is None else len(value)} sequence: {seq} "
                    f"headerKeys: [{','.join(h[0] for h in headers or ())}]"
                )
                if control is not None:
                    meta += f" endTxnMarker: {control.name} coordinatorEpoch: {b.coordinator_epoch}"
                parts.append(meta)
                prefix = " "
            if contents and not b.is_control:
                if offsets:
                    k, v = _offsets_json(key, value)
                else:
                    k = None if key is None else _text(key)
                    v = None if value is None else _text(value)
                if k is not None:
                    parts.append(f"{prefix}key: {k}")
                    prefix = " "
                if v is not None:
                    parts.append(f" payload: {v}")
            lines.append("".join(parts))
    if valid < len(data):
        lines.append(f"Found {len(data) - valid} invalid bytes at the end of {path.name}")
    return lines


def _dump_index(path: Path, shown: str, data: bytes, verify: bool, sanity: bool) -> list[str]:
    base = int(path.name.split(".")[0])
    entries = [struct.unpack_from(">ii", data, i) for i in range(0, len(data) - len(data) % 8, 8)]
    if not entries:
        return [f"{shown} is empty."]
    if sanity:
        return [f"{shown} passed sanity check."]
    log_path = path.with_suffix(".log")
    log_bytes = log_path.read_bytes() if log_path.exists() else b""
    lines: list[str] = []
    mismatches: list[str] = []
    for i, (rel, pos) in enumerate(entries):
        if rel == 0 and i > 0:
            break
        try:
            first, _end = RecordBatch.decode(log_bytes, pos)
            if first.last_offset != base + rel:
                mismatches.append(f"  Index offset: {base + rel}, log offset: {first.last_offset}")
        except CorruptRecordError:
            mismatches.append(f"  Index offset: {base + rel}, log offset: -1")
        if not verify:
            lines.append(f"offset: {base + rel} position: {pos}")
    if mismatches:
        lines += [f"Mismatches in :{path}", *mismatches]  # Kafka prints the absolute path here
    return lines


def _dump_time_index(path: Path, shown: str, data: bytes, verify: bool, sanity: bool) -> list[str]:
    base = int(path.name.split(".")[0])
    entries = [struct.unpack_from(">qi", data, i) for i in range(0, len(data) - len(data) % 12, 12)]
    if sanity:
        return [f"{shown} passed sanity check."]
    lines: list[str] = []
    for i, (ts, rel) in enumerate(entries):
        if rel == 0 and i > 0:
            break
        if not verify:
            lines.append(f"timestamp: {ts} offset: {base + rel}")
    return lines


def kafka_dump_log(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, DUMP_LOG_OPTS)
    files = p.get_str("files")
    if files is None:
        raise CommandError('Missing required argument "[files]"')
    offsets = p.has("offsets-decoder")
    contents = p.has("print-data-log") or offsets
    deep = p.has("deep-iteration") or contents
    max_bytes = p.get_int("max-bytes")
    names = [f for f in files.split(",") if f]
    paths = [_resolve(session, n) for n in names]
    for n, path in zip(names, paths, strict=True):
        if path.suffix in (".log", ".index", ".timeindex") and not path.is_file():
            near = (
                sorted(x.name for x in path.parent.glob("*") if x.is_file()) if path.parent.is_dir() else []
            )
            data_dir = Path(session.cluster.data_dir)
            copies = sorted(
                str(d.relative_to(data_dir)) for d in data_dir.glob(f"*/{path.parent.name}") if d.is_dir()
            )
            if near:
                hint = f"; {path.parent.name}/ holds {', '.join(near)}"
            elif copies:
                hint = f"; {path.parent.name} is in {', '.join(c + '/' for c in copies)}"
            else:
                hint = "; the lab's files are broker-N/TOPIC-PARTITION/<base offset>.log under the data directory"
            raise CommandError(f'Exception in thread "main" java.nio.file.NoSuchFileException: {n}{hint}')

    def run() -> list[str]:
        lines: list[str] = []
        for n, path in zip(names, paths, strict=True):
            lines.append(f"Dumping {n}")
            if path.suffix not in (".log", ".index", ".timeindex"):
                lines.append(f"Ignoring unknown file {n}")
                continue
            _flush_owner(session, path)
            data = path.read_bytes()
            if path.suffix == ".log":
                if max_bytes is not None:
                    data = data[:max_bytes]
                lines += _dump_log(path, data, deep, contents, offsets, p.has("skip-record-metadata"))
            elif path.suffix == ".index":
                lines += _dump_index(path, n, data, p.has("verify-index-only"), p.has("index-sanity-check"))
            else:
                lines += _dump_time_index(
                    path, n, data, p.has("verify-index-only"), p.has("index-sanity-check")
                )
        return lines

    return Plan(run)
