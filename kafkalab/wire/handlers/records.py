"""Produce, Fetch, ListOffsets and OffsetForLeaderEpoch: records in and out of the partition logs.

Records travel as the v2 batches the logs store: a produced batch is validated as Kafka's ``LogValidator``
does and handed to the leader as it came (the leader only stamps offsets and its epoch), and a fetch answer is
the stored batches' bytes, one after the other.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING, Any

from ...sim.broker import FetchPartition, FetchRequest, FetchResult, ProduceRequest, ProduceResult
from ...sim.records import BATCH_OVERHEAD, CorruptRecordError, RecordBatch, _read_varint, crc32c
from ..codec import ms
from .common import by_topic, current_leader, names_by_id, node_endpoints, resolve_topic

if TYPE_CHECKING:
    from ...sim.broker import Broker
    from ..node import RequestContext

__all__ = ["check_records", "fetch", "list_offsets", "offset_for_leader_epoch", "produce", "validate_batch"]

_LEADER_ERRORS = ("NOT_LEADER_OR_FOLLOWER", "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH")
_GZIP = 1
_CODECS = {1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
#: lastOffsetDelta .. recordsCount of a v2 batch header (after the attributes)
_HEADER_FIELDS = struct.Struct(">iqqqhii")


def validate_batch(records: bytes | None, transactional: bool) -> tuple[RecordBatch | None, str, str | None]:
    """(batch, "NO_ERROR", None), or (None, error name, message) as Kafka's broker would refuse it."""
    if not records:
        return None, "INVALID_RECORD", "Produce requests must have exactly one record batch per partition"
    if len(records) < BATCH_OVERHEAD:
        return None, "CORRUPT_MESSAGE", f"a record batch needs {BATCH_OVERHEAD} bytes, got {len(records)}"
    magic = records[16]
    if magic != 2:
        return (
            None,
            "INVALID_RECORD",
            "Produce requests are only allowed to contain record batches with magic version 2",
        )
    codec = int.from_bytes(records[21:23], "big") & 0x07
    try:
        if codec:
            if codec != _GZIP:
                return (
                    None,
                    "UNSUPPORTED_COMPRESSION_TYPE",
                    f"kafkalab decompresses only gzip batches, not {_CODECS.get(codec, codec)}; "
                    "set compression.type=none or gzip",
                )
            batch, end = _gunzip(records)
        else:
            batch, end = RecordBatch.decode(records, 0)
    except (CorruptRecordError, ValueError, IndexError, zlib.error) as e:
        return None, "CORRUPT_MESSAGE", str(e)
    if end != len(records):
        return None, "INVALID_RECORD", "Produce requests must have exactly one record batch per partition"
    if batch.is_control:
        return None, "INVALID_RECORD", "Clients are not allowed to write control records"
    if batch.is_transactional and not transactional:
        return None, "INVALID_RECORD", "Transactional records need a transactional id in the produce request"
    if batch.record_count <= 0:
        return None, "INVALID_RECORD", f"Invalid reported count for record batch: {batch.record_count}"
    if batch.last_offset_delta + 1 != batch.record_count:
        return None, "INVALID_RECORD", "Inconsistent batch offset range and record count"
    problem = check_records(batch.raw, batch.record_count)
    if problem is not None:
        return None, problem[0], problem[1]
    return batch, "NO_ERROR", None


def _zigzag(raw: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint of any length (the slow path of :func:`check_records`)."""
    return _read_varint(raw, pos)


def check_records(raw: bytes, count: int) -> tuple[str, str] | None:
    """Walk the ``count`` records of an uncompressed v2 batch as the log's decoder will, without building
    them: (error, message) when one is malformed (what the decoder would refuse), else None.

    Kafka's broker checks every record of a produced batch too; here it also guarantees that the records,
    decoded lazily later (by the lab's consumers, its log cleaner, its screen), decode. This is the hot path
    of producing over the wire, so varints of one or two bytes (nearly all of them) are read inline.
    """
    pos = BATCH_OVERHEAD
    end = len(raw)
    try:
        for i in range(count):
            # record length
            b = raw[pos]
            if b < 128:
                length = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                c = raw[pos + 1]
                if c < 128:
                    z = (b & 127) | (c << 7)
                    length = (z >> 1) ^ -(z & 1)
                    pos += 2
                else:
                    length, pos = _zigzag(raw, pos)
            rec_end = pos + length
            if length < 0 or rec_end > end:
                return "CORRUPT_MESSAGE", "Record is corrupt: record length out of bounds"
            # attributes, then the timestamp delta (any value)
            p = pos + 2
            if raw[p - 1] >= 128:
                _ts, p = _zigzag(raw, p - 1)
            # offset delta: must be i
            b = raw[p]
            if b < 128:
                delta = (b >> 1) ^ -(b & 1)
                p += 1
            else:
                delta, p = _zigzag(raw, p)
            if delta != i:
                return "INVALID_RECORD", "Record offsets in the batch are not consecutive"
            # key, then value: length (negative = null) and bytes
            b = raw[p]
            if b < 128:
                n = (b >> 1) ^ -(b & 1)
                p += 1
            else:
                n, p = _zigzag(raw, p)
            if n > 0:
                p += n
            b = raw[p]
            if b < 128:
                n = (b >> 1) ^ -(b & 1)
                p += 1
            else:
                c = raw[p + 1]
                if c < 128:
                    z = (b & 127) | (c << 7)
                    n = (z >> 1) ^ -(z & 1)
                    p += 2
                else:
                    n, p = _zigzag(raw, p)
            if n > 0:
                p += n
            # headers
            headers = raw[p]
            if headers == 0:
                p += 1
            else:
                headers, p = _zigzag(raw, p)
                if headers < 0:
                    return "CORRUPT_MESSAGE", "Record is corrupt: negative header count"
                for _h in range(headers):
                    n, p = _zigzag(raw, p)
                    if n < 0:
                        return "CORRUPT_MESSAGE", "Record is corrupt: null header key"
                    raw[p : p + n].decode("utf-8")
                    p += n
                    n, p = _zigzag(raw, p)
                    if n > 0:
                        p += n
            if p != rec_end:
                return "CORRUPT_MESSAGE", "Record is corrupt: record length mismatch"
            pos = rec_end
    except (IndexError, UnicodeDecodeError, CorruptRecordError) as e:
        return "CORRUPT_MESSAGE", f"Record is corrupt: {e or 'truncated record'}"
    if pos != end:
        return "CORRUPT_MESSAGE", "Record is corrupt: trailing bytes after the last record"
    return None


def _gunzip(records: bytes) -> tuple[RecordBatch, int]:
    """A gzip batch as the uncompressed batch with the same header fields (the logs keep records plain)."""
    length = int.from_bytes(records[8:12], "big", signed=True)
    end = 12 + length
    if length < BATCH_OVERHEAD - 12 or end > len(records):
        raise CorruptRecordError("truncated gzip batch")
    raw = records[:end]
    if crc32c(memoryview(raw)[21:]) != int.from_bytes(raw[17:21], "big"):
        raise CorruptRecordError("CRC mismatch in gzip batch")
    body = zlib.decompress(raw[BATCH_OVERHEAD:], 16 + zlib.MAX_WBITS)
    attributes = int.from_bytes(raw[21:23], "big") & ~0x07
    fields = _HEADER_FIELDS.unpack_from(raw, 23)
    last_delta, base_ts, max_ts, pid, epoch, seq, count = fields
    batch = RecordBatch.from_chunks(
        [b"", body],
        base_offset=0,
        partition_leader_epoch=-1,
        attributes=attributes,
        last_offset_delta=last_delta,
        base_timestamp=base_ts,
        max_timestamp=max_ts,
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
        record_count=count,
        records=None,
    )
    return batch, end


# -- Produce (API key 0) ------------------------------------------------------------------------------------


def produce(ctx: RequestContext, req: Any) -> None:
    conn = ctx.conn
    acks = int(req.acks)
    tid = req.transactional_id
    timeout = ms(req.timeout)
    #: per partition: (name, topic id, partition, batch, error, message)
    parts: list[tuple[str | None, Any, int, RecordBatch | None, str, str | None]] = []
    for t in req.topic_data:
        name = getattr(t, "name", None)
        topic_id = getattr(t, "topic_id", None)
        for pd in t.partition_data:
            if acks not in (-1, 0, 1):
                batch, err, msg = None, "INVALID_REQUIRED_ACKS", None
            else:
                batch, err, msg = validate_batch(pd.records, tid is not None)
            parts.append((name, topic_id, int(pd.index), batch, err, msg))
    pid = next((b.producer_id for *_x, b, _e, _m in parts if b is not None), -1)
    producer = conn.world.producer(conn, pid, acks)
    for name, _tid, _p, batch, _e, _m in parts:
        if name and batch is not None and name not in producer.topics:
            producer.topics.add(name)
            how = f"acks={'all' if acks == -1 else acks}" + (", idempotent" if pid >= 0 else "")
            if tid:
                how += f", transactional id {tid}"
            conn.note(f"started producing to {name} ({how})")

    def on_broker(b: Broker, respond: Any) -> None:
        ids: dict[str, str] | None = None
        batches: list[tuple[str, int, RecordBatch]] = []
        pre: dict[int, ProduceResult] = {}
        names: list[str | None] = []
        seen: set[tuple[str, int]] = set()
        for i, (name, topic_id, p, batch, err, msg) in enumerate(parts):
            if not name:
                ids = ids if ids is not None else names_by_id(b)
                name = resolve_topic(b, None, topic_id, ids)
                if name is None:
                    names.append(None)
                    pre[i] = ProduceResult("UNKNOWN_TOPIC_ID")
                    continue
            names.append(name)
            if batch is None:
                pre[i] = ProduceResult(err, message=msg or "")
            elif (name, p) not in b.image.partitions:
                pre[i] = ProduceResult("UNKNOWN_TOPIC_OR_PART")
            elif (name, p) in seen:
                pre[i] = ProduceResult("INVALID_REQUEST", message="a partition appears twice in the request")
            else:
                seen.add((name, p))
                batches.append((name, p, batch))

        def done(results: dict[tuple[str, int], ProduceResult]) -> None:
            out: list[tuple[str | None, ProduceResult, dict[str, int] | None]] = []
            for i, (_n, _t, p, _b, _e, _m) in enumerate(parts):
                name = names[i]
                res = pre.get(i) or results.get((name or "", p)) or ProduceResult("UNKNOWN_SERVER_ERROR")
                leader = current_leader(b, name, p) if name and res.error in _LEADER_ERRORS else None
                out.append((name, res, leader))
            respond(out)

        if batches:
            b.handle_produce(ProduceRequest(acks, timeout, batches, tid), done)
        elif acks != 0:
            done({})

    if acks == 0:
        ctx.send_only(lambda b: on_broker(b, lambda _r: None))
        return
    producer.in_flight += 1

    def answer(out: list[tuple[str | None, ProduceResult, dict[str, int] | None]]) -> None:
        producer.in_flight = max(0, producer.in_flight - 1)
        rows = []
        leaders = []
        now = ctx.cluster.now_ms
        for (name, topic_id, p, batch, _e, _m), (resolved, res, leader) in zip(parts, out, strict=True):
            count = batch.record_count if batch is not None else 0
            if res.error == "NO_ERROR":
                producer.acked_records += count
            else:
                producer.failed_records += count
                producer.errors.append((now, f"{resolved or name}-{p}", res.error))
                del producer.errors[:-20]
            part: dict[str, Any] = {
                "index": p,
                "error_code": res.error,
                "base_offset": res.base_offset,
                "log_append_time": -1,
                "log_start_offset": res.log_start_offset,
                "record_errors": [],
                "error_message": res.message or None,
            }
            if leader is not None:
                part["current_leader"] = leader
                leaders.append(leader["leader_id"])
            rows.append(((name, topic_id), part))
        ctx.reply(
            {
                "responses": by_topic(rows, "partition_responses"),
                "node_endpoints": node_endpoints(ctx, leaders),
            }
        )

    ctx.call(on_broker, answer, timeout_ms=timeout + 60_000)


# -- Fetch (API key 1) --------------------------------------------------------------------------------------


def fetch(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    if v >= 7 and req.session_epoch > 0:
        # this broker never hands out fetch sessions (KIP-227): every fetch is a full one
        ctx.reply({"error_code": "FETCH_SESSION_ID_NOT_FOUND", "session_id": 0, "responses": []})
        return
    isolation = int(getattr(req, "isolation_level", 0))
    max_wait = max(0, ms(req.max_wait))
    min_bytes = int(req.min_bytes)
    max_bytes = int(getattr(req, "max_bytes", 52428800))
    #: (name, topic id, partition, offset, current leader epoch, max bytes)
    wanted: list[tuple[str | None, Any, int, int, int, int]] = []
    for t in req.topics:
        name = getattr(t, "topic", None)
        topic_id = getattr(t, "topic_id", None)
        for p in t.partitions:
            wanted.append(
                (
                    name,
                    topic_id,
                    int(p.partition),
                    int(p.fetch_offset),
                    int(getattr(p, "current_leader_epoch", -1)),
                    int(p.partition_max_bytes),
                )
            )

    def on_broker(b: Broker, respond: Any) -> None:
        ids: dict[str, str] | None = None
        pre: dict[int, FetchResult] = {}
        names: list[str | None] = []
        parts: list[FetchPartition] = []
        for i, (name, topic_id, p, offset, epoch, pmax) in enumerate(wanted):
            if not name:
                ids = ids if ids is not None else names_by_id(b)
                name = resolve_topic(b, None, topic_id, ids)
                if name is None:
                    names.append(None)
                    pre[i] = FetchResult("UNKNOWN_TOPIC_ID")
                    continue
            names.append(name)
            if (name, p) not in b.image.partitions:
                pre[i] = FetchResult("UNKNOWN_TOPIC_OR_PART")
                continue
            parts.append(FetchPartition(name, p, offset, epoch, max(0, pmax)))

        def done(results: dict[tuple[str, int], FetchResult]) -> None:
            out = []
            for i, (_n, _t, p, *_rest) in enumerate(wanted):
                name = names[i]
                r = pre.get(i) or results.get((name or "", p)) or FetchResult("UNKNOWN_SERVER_ERROR")
                leader = current_leader(b, name, p) if name and r.error in _LEADER_ERRORS else None
                out.append((r, leader))
            respond(out)

        wait = 0 if pre else max_wait
        b.handle_fetch(FetchRequest(-1, wait, min_bytes, parts, isolation, max_bytes), done)

    def answer(out: list[tuple[FetchResult, dict[str, int] | None]]) -> None:
        rows = []
        leaders = []
        for (name, topic_id, p, *_rest), (r, leader) in zip(wanted, out, strict=True):
            part: dict[str, Any] = {
                "partition_index": p,
                "error_code": r.error,
                "high_watermark": r.high_watermark,
                "last_stable_offset": r.last_stable_offset,
                "log_start_offset": r.log_start_offset,
                "aborted_transactions": (
                    [{"producer_id": pid, "first_offset": off} for pid, off in r.aborted_transactions]
                    if isolation == 1
                    else None
                ),
                "preferred_read_replica": -1,
                "records": b"".join([x.raw for x in r.batches]),
            }
            if leader is not None:
                part["current_leader"] = leader
                leaders.append(leader["leader_id"])
            rows.append(((name, topic_id), part))
        ctx.reply(
            {
                "error_code": "NO_ERROR",
                "session_id": 0,
                "responses": by_topic(rows, "partitions"),
                "node_endpoints": node_endpoints(ctx, leaders),
            }
        )

    ctx.call(on_broker, answer, timeout_ms=max_wait + 60_000)


# -- ListOffsets (API key 2) --------------------------------------------------------------------------------

EARLIEST = -2
LATEST = -1
MAX_TIMESTAMP = -3
EARLIEST_LOCAL = -4


def _epoch_at(log: Any, offset: int) -> int:
    """The leader epoch that wrote ``offset`` (from the leader-epoch cache), or -1."""
    epoch = -1
    for e, start in log.epoch_entries():
        if start <= offset:
            epoch = e
        else:
            break
    return epoch


def _list_offset(
    b: Broker, topic: str, p: int, current_epoch: int, ts: int, isolation: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"partition_index": p, "error_code": "NO_ERROR", "timestamp": -1, "offset": -1}
    if (topic, p) not in b.image.partitions:
        out["error_code"] = "UNKNOWN_TOPIC_OR_PART"
        return out
    part = b.partitions.get((topic, p))
    if part is None or not part.is_leader:
        out["error_code"] = "NOT_LEADER_OR_FOLLOWER"
        return out
    if current_epoch >= 0 and current_epoch != part.leader_epoch:
        out["error_code"] = (
            "FENCED_LEADER_EPOCH" if current_epoch < part.leader_epoch else "UNKNOWN_LEADER_EPOCH"
        )
        return out
    log = part.log
    hw = log.high_watermark
    end = part.last_stable_offset() if isolation == 1 else hw
    if ts in (EARLIEST, EARLIEST_LOCAL):
        out["offset"] = log.log_start_offset
    elif ts == LATEST:
        out["offset"] = end
    elif ts == MAX_TIMESTAMP:
        best_ts, best_off = -1, -1
        for batch in log.iter_batches(log.log_start_offset):
            if batch.base_offset >= hw or batch.is_control:
                continue
            if batch.max_timestamp > best_ts:
                for off, rec in batch.iter_records():
                    if off < hw and rec.timestamp_ms > best_ts:
                        best_ts, best_off = rec.timestamp_ms, off
        out["timestamp"], out["offset"] = best_ts, best_off
    elif ts >= 0:
        for batch in log.iter_batches(log.log_start_offset):
            if batch.base_offset >= end:
                break
            if batch.is_control or batch.max_timestamp < ts:
                continue
            for off, rec in batch.iter_records():
                if off >= end:
                    break
                if off >= log.log_start_offset and rec.timestamp_ms >= ts:
                    out["timestamp"], out["offset"] = rec.timestamp_ms, off
                    out["leader_epoch"] = _epoch_at(log, off)
                    return out
        return out
    # -5 (latest tiered) and -6 (earliest pending upload): no tiered storage here, so no such offset
    if out["offset"] >= 0:
        out["leader_epoch"] = part.leader_epoch if ts == LATEST else _epoch_at(log, out["offset"])
    return out


def list_offsets(ctx: RequestContext, req: Any) -> None:
    isolation = int(getattr(req, "isolation_level", 0))
    wanted = [
        (t.name, int(p.partition_index), int(getattr(p, "current_leader_epoch", -1)), int(p.timestamp))
        for t in req.topics
        for p in t.partitions
    ]

    def on_broker(b: Broker, respond: Any) -> None:
        respond(
            [((name, None), _list_offset(b, name, p, epoch, ts, isolation)) for name, p, epoch, ts in wanted]
        )

    ctx.call(on_broker, lambda rows: ctx.reply({"topics": by_topic(rows, "partitions")}))


# -- OffsetForLeaderEpoch (API key 23) ----------------------------------------------------------------------


def offset_for_leader_epoch(ctx: RequestContext, req: Any) -> None:
    wanted = [
        (t.topic, int(p.partition), int(p.current_leader_epoch), int(p.leader_epoch))
        for t in req.topics
        for p in t.partitions
    ]

    def one(b: Broker, topic: str, p: int, current: int, epoch: int) -> dict[str, Any]:
        out: dict[str, Any] = {"partition": p, "error_code": "NO_ERROR", "leader_epoch": -1, "end_offset": -1}
        if (topic, p) not in b.image.partitions:
            out["error_code"] = "UNKNOWN_TOPIC_OR_PART"
            return out
        part = b.partitions.get((topic, p))
        if part is None or not part.is_leader:
            out["error_code"] = "NOT_LEADER_OR_FOLLOWER"
        elif current >= 0 and current != part.leader_epoch:
            out["error_code"] = (
                "FENCED_LEADER_EPOCH" if current < part.leader_epoch else "UNKNOWN_LEADER_EPOCH"
            )
        else:
            out["leader_epoch"], out["end_offset"] = part.log.end_offset_for_epoch(epoch)
        return out

    def on_broker(b: Broker, respond: Any) -> None:
        respond([((t, None), one(b, t, p, cur, ep)) for t, p, cur, ep in wanted])

    ctx.call(on_broker, lambda rows: ctx.reply({"topics": by_topic(rows, "partitions")}))
