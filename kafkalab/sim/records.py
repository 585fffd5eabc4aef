"""Kafka record batches, magic v2, encoded byte for byte as on Kafka's disk and wire.

Layout (big-endian), as in ``org.apache.kafka.common.record.DefaultRecordBatch``::

    baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (=2) | crc uint32
    | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64
    | producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32 | records...

``batchLength`` counts every byte after the batchLength field. ``crc`` is CRC-32C of everything after the
crc field (attributes .. end), so baseOffset and partitionLeaderEpoch can be rewritten by the broker without
recomputing it. Each record (``DefaultRecord``) is::

    length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
    | keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value
    | headerCount varint | [headerKeyLength varint | headerKey utf8 | headerValueLength varint (-1 = null) | value]

Varints are zig-zag encoded (protobuf style). Compression is never used here (attributes bits 0-2 = 0).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from enum import IntEnum
from operator import itemgetter
from typing import NamedTuple

import crc32c as _crc32c_mod
from mypy_extensions import mypyc_attr

__all__ = [
    "BATCH_OVERHEAD",
    "ControlType",
    "CorruptRecordError",
    "Record",
    "RecordBatch",
    "crc32c",
    "decode_batches",
    "encode_records",
]

MAGIC = 2
#: Size of the fixed v2 batch header (Kafka's ``RECORD_BATCH_OVERHEAD``).
BATCH_OVERHEAD = 61
#: Offset of the first byte covered by the CRC (the attributes field).
_CRC_START = 21
#: Bytes before partitionLeaderEpoch that batchLength does not count (baseOffset + batchLength).
_LOG_OVERHEAD = 12

ATTR_TIMESTAMP_TYPE = 0x08  # 0 = CreateTime, 1 = LogAppendTime
ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20
ATTR_COMPRESSION_MASK = 0x07

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

# Whole fixed header, for cheap decoding with a single unpack_from.
_HEADER = struct.Struct(">qiibIhiqqqhii")
# baseOffset .. crc, packed once the crc is known.
_PREFIX = struct.Struct(">qiibI")
# attributes .. recordsCount: the start of the CRC-covered region.
_POST_CRC = struct.Struct(">hiqqqhii")
_I64 = struct.Struct(">q")
_I32 = struct.Struct(">i")
_CONTROL_KEY = struct.Struct(">hh")
_CONTROL_VALUE = struct.Struct(">hi")

assert _HEADER.size == BATCH_OVERHEAD
assert _PREFIX.size + _POST_CRC.size == BATCH_OVERHEAD


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli), the checksum of v2 batches. ``crc32c(b"123456789") == 0xE3069283``."""
    value: int = _crc32c_mod.crc32c(data)
    return value


class CorruptRecordError(Exception):
    """A batch failed validation: truncated, wrong magic, CRC mismatch or malformed records."""


class ControlType(IntEnum):
    """Type of a control record (``org.apache.kafka.common.record.ControlRecordType``)."""

    ABORT = 0
    COMMIT = 1


class Record(NamedTuple):
    """One record as the application sees it; immutable, batches share these objects.

    A NamedTuple on purpose: a tuple of bytes, ints and an empty tuple is untracked by Python's cycle
    collector after its first pass, so millions of records in logs cost no garbage-collection time.
    """

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp_ms: int = 0


#: a record as a plain tuple (key, value, headers, timestamp_ms): what batches store. CPython's cycle
#: collector stops tracking a plain tuple of atoms (it never does for a NamedTuple instance), so the
#: millions of records a long run keeps in its logs cost no garbage-collection time.
RecordRow = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...], int]
#: one field of every row, C-speed: ``map(ROW_KEY, rows)``
ROW_KEY = itemgetter(0)
ROW_VALUE = itemgetter(1)
ROW_HEADERS = itemgetter(2)
ROW_TIMESTAMP = itemgetter(3)

_new_record = tuple.__new__


# ---------------------------------------------------------------------------------------------------------
# zig-zag varints


def _encode_varint(n: int) -> bytes:
    """Zig-zag varint (varlong) encoding of any signed 64-bit value."""
    z = ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


#: Precomputed encodings of 0 <= n < _VARINT_TABLE_SIZE (covers lengths up to 16 KiB and offset deltas).
_VARINT_TABLE_SIZE = 1 << 14
_VARINT: list[bytes] = [_encode_varint(n) for n in range(_VARINT_TABLE_SIZE)]
#: ``len(_VARINT[n])`` (a list lookup is cheaper than calling len() on the hot path)
_VARINT_SIZE: list[int] = [len(v) for v in _VARINT]
#: ``attributes(0) + timestampDelta(0) + offsetDelta(i)``: the common prefix of a record body.
_PREFIX_TS0: list[bytes] = [b"\x00\x00" + _VARINT[i] for i in range(_VARINT_TABLE_SIZE)]
_NULL = b"\x01"  # zig-zag varint of -1
_ZERO = b"\x00"


def _varint(n: int) -> bytes:
    if 0 <= n < _VARINT_TABLE_SIZE:
        return _VARINT[n]
    return _encode_varint(n)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one zig-zag varint at ``pos``; return (value, new position). IndexError if truncated."""
    b = buf[pos]
    pos += 1
    if b < 0x80:
        return (b >> 1) ^ -(b & 1), pos
    z = b & 0x7F
    shift = 7
    while True:
        b = buf[pos]
        pos += 1
        z |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift > 63:
            raise CorruptRecordError("varint too long")
    return (z >> 1) ^ -(z & 1), pos


# ---------------------------------------------------------------------------------------------------------
# record encoding


def _encode_headers(headers: tuple[tuple[str, bytes | None], ...]) -> bytes:
    parts = [_varint(len(headers))]
    for hkey, hval in headers:
        kb = hkey.encode("utf-8")
        parts.append(_varint(len(kb)))
        parts.append(kb)
        if hval is None:
            parts.append(_NULL)
        else:
            parts.append(_varint(len(hval)))
            parts.append(hval)
    return b"".join(parts)


def _encode_records_fast(records: Sequence[RecordRow], base_ts: int, chunks: list[bytes]) -> int:
    """Append the encoded records to ``chunks``; return the max timestamp.

    Each record goes in as its pieces (length, prefix, key length, key, value length, value, headers) so
    nothing is copied until the caller's single ``b"".join``. Uses the precomputed varint tables only;
    raises IndexError when a value does not fit them (a very large key/value, more than 16k records), in
    which case the caller falls back to the general path.
    """
    table = _VARINT
    sizes = _VARINT_SIZE
    prefix0 = _PREFIX_TS0
    null = _NULL
    zero = _ZERO
    extend = chunks.extend
    max_ts = base_ts
    for i, (key, value, headers, ts) in enumerate(records):
        if ts == base_ts:
            head = prefix0[i]
            n = 2 + sizes[i]
        else:
            if ts > max_ts:
                max_ts = ts
            delta = ts - base_ts
            head = (
                b"\x00"
                + (table[delta] if 0 < delta < _VARINT_TABLE_SIZE else _encode_varint(delta))
                + table[i]
            )
            n = len(head)
        if headers:
            hdrs = _encode_headers(headers)
            n += len(hdrs)
        else:
            hdrs = zero
            n += 1
        if key is None:
            tk = null
            key = b""
            n += 1
        else:
            lk = len(key)
            tk = table[lk]
            n += sizes[lk] + lk
        if value is None:
            tv = null
            value = b""
            n += 1
        else:
            lv = len(value)
            tv = table[lv]
            n += sizes[lv] + lv
        extend((table[n], head, tk, key, tv, value, hdrs))
    return max_ts


def encode_records(
    records: Sequence[RecordRow],
    base_ts: int,
    chunks: list[bytes],
    offset_deltas: Sequence[int] | None = None,
) -> int:
    """Append the encoded records to ``chunks``; return the max timestamp (``base_ts`` if none is larger).

    The general path: any sizes, headers, timestamps before ``base_ts`` (negative deltas) and, for a
    compacted batch, explicit offset deltas (default 0..n-1).
    """
    max_ts = base_ts
    for i, (key, value, headers, ts) in enumerate(records):
        if ts > max_ts:
            max_ts = ts
        parts = [_ZERO, _varint(ts - base_ts), _varint(i if offset_deltas is None else offset_deltas[i])]
        if key is None:
            parts.append(_NULL)
        else:
            parts.append(_varint(len(key)))
            parts.append(key)
        if value is None:
            parts.append(_NULL)
        else:
            parts.append(_varint(len(value)))
            parts.append(value)
        parts.append(_encode_headers(headers))
        body = b"".join(parts)
        chunks.append(_varint(len(body)))
        chunks.append(body)
    return max_ts


# ---------------------------------------------------------------------------------------------------------
# record decoding


def _decode_records(
    raw: bytes, count: int, base_ts: int, max_ts: int, log_append_time: bool
) -> tuple[tuple[RecordRow, ...], list[int] | None]:
    """Decode the records section of ``raw``; return the rows and their offset deltas (None if 0..n-1)."""
    records: list[RecordRow] = []
    deltas: list[int] = []
    contiguous = True
    pos = BATCH_OVERHEAD
    end = len(raw)
    try:
        for i in range(count):
            length, pos = _read_varint(raw, pos)
            rec_end = pos + length
            if length < 0 or rec_end > end:
                raise CorruptRecordError("record length out of bounds")
            pos += 1  # record attributes (unused)
            ts_delta, pos = _read_varint(raw, pos)
            off_delta, pos = _read_varint(raw, pos)
            klen, pos = _read_varint(raw, pos)
            key: bytes | None
            if klen < 0:
                key = None
            else:
                key = raw[pos : pos + klen]
                pos += klen
            vlen, pos = _read_varint(raw, pos)
            value: bytes | None
            if vlen < 0:
                value = None
            else:
                value = raw[pos : pos + vlen]
                pos += vlen
            hcount, pos = _read_varint(raw, pos)
            headers: tuple[tuple[str, bytes | None], ...] = ()
            if hcount:
                if hcount < 0:
                    raise CorruptRecordError("negative header count")
                hs: list[tuple[str, bytes | None]] = []
                for _ in range(hcount):
                    hklen, pos = _read_varint(raw, pos)
                    if hklen < 0:
                        raise CorruptRecordError("null header key")
                    hkey = raw[pos : pos + hklen].decode("utf-8")
                    pos += hklen
                    hvlen, pos = _read_varint(raw, pos)
                    hval: bytes | None
                    if hvlen < 0:
                        hval = None
                    else:
                        hval = raw[pos : pos + hvlen]
                        pos += hvlen
                    hs.append((hkey, hval))
                headers = tuple(hs)
            if pos != rec_end:
                raise CorruptRecordError("record length mismatch")
            if off_delta != i:
                contiguous = False
            deltas.append(off_delta)
            ts = max_ts if log_append_time else base_ts + ts_delta
            records.append((key, value, headers, ts))
    except (IndexError, UnicodeDecodeError) as exc:
        raise CorruptRecordError(f"malformed records: {exc}") from exc
    if pos != end:
        raise CorruptRecordError("trailing bytes after the last record")
    return tuple(records), (None if contiguous else deltas)


# ---------------------------------------------------------------------------------------------------------
# batches


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class RecordBatch:
    """An immutable v2 record batch: header fields plus ``raw``, its exact encoding.

    Built batches keep their records as plain-tuple rows (see :data:`RecordRow`); decoded batches decode
    them lazily on first access. ``rows`` gives the tuples (hot paths), ``records`` makes :class:`Record`
    objects on demand.
    """

    __slots__ = (
        "base_offset",
        "partition_leader_epoch",
        "producer_id",
        "producer_epoch",
        "base_sequence",
        "is_transactional",
        "is_control",
        "base_timestamp",
        "max_timestamp",
        "last_offset_delta",
        "record_count",
        "attributes",
        "raw",
        "_records",
        "_deltas",
    )

    base_offset: int
    partition_leader_epoch: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    is_transactional: bool
    is_control: bool
    base_timestamp: int
    max_timestamp: int
    last_offset_delta: int
    record_count: int
    attributes: int
    raw: bytes
    _records: tuple[RecordRow, ...] | None
    _deltas: list[int] | None

    def __init__(
        self,
        raw: bytes,
        *,
        base_offset: int,
        partition_leader_epoch: int,
        attributes: int,
        last_offset_delta: int,
        base_timestamp: int,
        max_timestamp: int,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int,
        record_count: int,
        records: tuple[RecordRow, ...] | None = None,
        deltas: list[int] | None = None,
    ) -> None:
        self.raw = raw
        self.base_offset = base_offset
        self.partition_leader_epoch = partition_leader_epoch
        self.attributes = attributes
        self.is_transactional = bool(attributes & ATTR_TRANSACTIONAL)
        self.is_control = bool(attributes & ATTR_CONTROL)
        self.last_offset_delta = last_offset_delta
        self.base_timestamp = base_timestamp
        self.max_timestamp = max_timestamp
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.record_count = record_count
        self._records = records
        self._deltas = deltas

    # -- construction -----------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        records: Sequence[RecordRow],
        *,
        base_offset: int = 0,
        partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
        producer_id: int = NO_PRODUCER_ID,
        producer_epoch: int = NO_PRODUCER_EPOCH,
        base_sequence: int = NO_SEQUENCE,
        transactional: bool = False,
        control: bool = False,
    ) -> RecordBatch:
        """Encode ``records`` into one uncompressed CreateTime batch.

        ``baseTimestamp`` is the first record's timestamp and ``maxTimestamp`` the largest, as in Kafka's
        ``MemoryRecordsBuilder``. Empty batches cannot be built (Kafka writes none either).
        """
        n = len(records)
        if n == 0:
            raise ValueError("a record batch needs at least one record")
        base_ts = records[0][3]
        chunks: list[bytes] = [b""]  # slot 0: attributes .. recordsCount, filled in below
        try:
            max_ts = _encode_records_fast(records, base_ts, chunks)
        except IndexError:
            del chunks[1:]
            max_ts = encode_records(records, base_ts, chunks)
        attributes = (ATTR_TRANSACTIONAL if transactional else 0) | (ATTR_CONTROL if control else 0)
        last_offset_delta = n - 1
        return cls.from_chunks(
            chunks,
            base_offset=base_offset,
            partition_leader_epoch=partition_leader_epoch,
            attributes=attributes,
            last_offset_delta=last_offset_delta,
            base_timestamp=base_ts,
            max_timestamp=max_ts,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=base_sequence,
            record_count=n,
            records=tuple(records),
        )

    @classmethod
    def from_chunks(
        cls,
        chunks: list[bytes],
        *,
        base_offset: int,
        partition_leader_epoch: int,
        attributes: int,
        last_offset_delta: int,
        base_timestamp: int,
        max_timestamp: int,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int,
        record_count: int,
        records: tuple[RecordRow, ...] | None,
        deltas: list[int] | None = None,
    ) -> RecordBatch:
        """A batch from its encoded records: ``chunks[0]`` is a placeholder for the header fields after
        the CRC, the rest come from :func:`encode_records`. Fills in the header and the CRC-32C (over
        attributes..records). ``records`` (None: decode lazily from the bytes) are kept as the rows; a tuple,
        not a list, so the collector stops tracking it once it sees it holds only atoms."""
        chunks[0] = _POST_CRC.pack(
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
        )
        body = b"".join(chunks)
        crc = _crc32c_mod.crc32c(body)
        raw = _PREFIX.pack(base_offset, len(body) + 9, partition_leader_epoch, MAGIC, crc) + body
        return cls(
            raw,
            base_offset=base_offset,
            partition_leader_epoch=partition_leader_epoch,
            attributes=attributes,
            last_offset_delta=last_offset_delta,
            base_timestamp=base_timestamp,
            max_timestamp=max_timestamp,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=base_sequence,
            record_count=record_count,
            records=records,
            deltas=deltas,
        )

    @classmethod
    def control(
        cls,
        marker: ControlType,
        *,
        producer_id: int,
        producer_epoch: int,
        coordinator_epoch: int = 0,
        timestamp_ms: int,
        partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
    ) -> RecordBatch:
        """A transaction marker batch (``EndTransactionMarker``): transactional + control, one record.

        Key = int16 version (0) + int16 type; value = int16 version (0) + int32 coordinatorEpoch.
        """
        record = Record(
            key=_CONTROL_KEY.pack(0, int(marker)),
            value=_CONTROL_VALUE.pack(0, coordinator_epoch),
            timestamp_ms=timestamp_ms,
        )
        return cls.build(
            [record],
            partition_leader_epoch=partition_leader_epoch,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=NO_SEQUENCE,
            transactional=True,
            control=True,
        )

    @classmethod
    def decode(cls, buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[RecordBatch, int]:
        """Decode the batch header at ``pos``, validate magic and CRC; records stay encoded until needed.

        Returns the batch and the position just after it. Raises :class:`CorruptRecordError`.
        """
        size = len(buf)
        if size - pos < BATCH_OVERHEAD:
            raise CorruptRecordError(f"truncated batch header at position {pos}")
        (
            base_offset,
            batch_length,
            partition_leader_epoch,
            magic,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
        ) = _HEADER.unpack_from(buf, pos)
        if magic != MAGIC:
            raise CorruptRecordError(f"unsupported magic {magic} at position {pos}")
        if batch_length < BATCH_OVERHEAD - _LOG_OVERHEAD:
            raise CorruptRecordError(f"batch length {batch_length} smaller than the header")
        end = pos + _LOG_OVERHEAD + batch_length
        if end > size:
            raise CorruptRecordError(f"truncated batch at position {pos}: needs {end - pos} bytes")
        if attributes & ATTR_COMPRESSION_MASK:
            raise CorruptRecordError("compressed batches are not supported")
        if record_count < 0 or last_offset_delta < 0:
            raise CorruptRecordError("negative record count or last offset delta")
        raw = bytes(buf[pos:end])
        if _crc32c_mod.crc32c(memoryview(raw)[_CRC_START:]) != crc:
            raise CorruptRecordError(f"CRC mismatch in batch at position {pos} (base offset {base_offset})")
        batch = cls(
            raw,
            base_offset=base_offset,
            partition_leader_epoch=partition_leader_epoch,
            attributes=attributes,
            last_offset_delta=last_offset_delta,
            base_timestamp=base_timestamp,
            max_timestamp=max_timestamp,
            producer_id=producer_id,
            producer_epoch=producer_epoch,
            base_sequence=base_sequence,
            record_count=record_count,
        )
        return batch, end

    def with_offsets(self, base_offset: int, partition_leader_epoch: int) -> RecordBatch:
        """The same batch placed at ``base_offset`` in ``partition_leader_epoch``.

        Both fields lie before the CRC-covered region, so the CRC is kept as is (as Kafka's broker does
        when it assigns offsets to an uncompressed v2 batch). Decoded records are shared.
        """
        raw = self.raw
        new_raw = b"".join(
            (
                _I64.pack(base_offset),
                raw[8:12],
                _I32.pack(partition_leader_epoch),
                memoryview(raw)[16:],
            )
        )
        return RecordBatch(
            new_raw,
            base_offset=base_offset,
            partition_leader_epoch=partition_leader_epoch,
            attributes=self.attributes,
            last_offset_delta=self.last_offset_delta,
            base_timestamp=self.base_timestamp,
            max_timestamp=self.max_timestamp,
            producer_id=self.producer_id,
            producer_epoch=self.producer_epoch,
            base_sequence=self.base_sequence,
            record_count=self.record_count,
            records=self._records,
            deltas=self._deltas,
        )

    # -- records ----------------------------------------------------------------------------------------

    def _decode(self) -> tuple[RecordRow, ...]:
        records, deltas = _decode_records(
            self.raw,
            self.record_count,
            self.base_timestamp,
            self.max_timestamp,
            bool(self.attributes & ATTR_TIMESTAMP_TYPE),
        )
        self._records = records
        self._deltas = deltas
        return records

    @property
    def rows(self) -> tuple[RecordRow, ...]:
        """The records as plain tuples (do not mutate). Decoded on first access for batches read from bytes."""
        rows = self._records
        if rows is None:
            rows = self._decode()
        return rows

    @property
    def records(self) -> list[Record]:
        """The records as :class:`Record` objects, made on demand from :attr:`rows`."""
        new = _new_record
        return [new(Record, r) for r in self.rows]

    @property
    def offset_deltas(self) -> list[int] | None:
        """Offset deltas of the records, or None when they are 0..n-1 (no gaps: the usual case)."""
        if self._records is None:
            self._decode()
        return self._deltas

    def iter_rows(self) -> Iterator[tuple[int, RecordRow]]:
        """Yield ``(absolute offset, row)``: offsets follow the stored deltas (compacted batches have gaps)."""
        rows = self.rows
        base = self.base_offset
        deltas = self._deltas
        if deltas is None:
            for i, row in enumerate(rows):
                yield base + i, row
        else:
            for delta, row in zip(deltas, rows, strict=True):
                yield base + delta, row

    def iter_records(self) -> Iterator[tuple[int, Record]]:
        """Yield ``(absolute offset, record)`` for every record of the batch."""
        new = _new_record
        for offset, row in self.iter_rows():
            yield offset, new(Record, row)

    # -- derived fields ---------------------------------------------------------------------------------

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def last_sequence(self) -> int:
        """Sequence number of the last record, or -1 when the batch has no sequence."""
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) & 0x7FFFFFFF  # Kafka wraps at Integer.MAX_VALUE

    @property
    def size_bytes(self) -> int:
        return len(self.raw)

    @property
    def crc(self) -> int:
        """The stored CRC field."""
        value: int = _PREFIX.unpack_from(self.raw)[4]
        return value

    @property
    def timestamp_type(self) -> str:
        return "LogAppendTime" if self.attributes & ATTR_TIMESTAMP_TYPE else "CreateTime"

    @property
    def control_type(self) -> ControlType | None:
        """The marker type of a control batch (None for a data batch)."""
        if not self.is_control:
            return None
        records = self.rows
        if not records or records[0][0] is None or len(records[0][0]) < 4:
            raise CorruptRecordError("control batch without a valid control record key")
        _version, type_id = _CONTROL_KEY.unpack_from(records[0][0])
        try:
            return ControlType(type_id)
        except ValueError:
            raise CorruptRecordError(f"unknown control record type {type_id}") from None

    @property
    def coordinator_epoch(self) -> int:
        """The coordinator epoch stored in a transaction marker (-1 for a data batch)."""
        if not self.is_control:
            return -1
        value = self.rows[0][1]
        if value is None or len(value) < 6:
            raise CorruptRecordError("control batch without a valid marker value")
        epoch: int = _CONTROL_VALUE.unpack_from(value)[1]
        return epoch

    # -- dunder -----------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordBatch):
            return NotImplemented
        return self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __len__(self) -> int:
        return self.record_count

    def __repr__(self) -> str:
        kind = "control" if self.is_control else ("txn" if self.is_transactional else "data")
        return (
            f"RecordBatch({kind} offsets={self.base_offset}..{self.last_offset} "
            f"epoch={self.partition_leader_epoch} pid={self.producer_id} seq={self.base_sequence} "
            f"records={self.record_count} bytes={len(self.raw)})"
        )


def decode_batches(buf: bytes | bytearray | memoryview) -> tuple[list[RecordBatch], int]:
    """Decode consecutive batches from the start of ``buf``.

    Stops at the first truncated or corrupt batch (crash recovery semantics) and returns the valid batches
    and the number of valid bytes, i.e. the length to truncate a log file to.
    """
    batches: list[RecordBatch] = []
    pos = 0
    size = len(buf)
    decode = RecordBatch.decode
    while pos < size:
        try:
            batch, end = decode(buf, pos)
        except CorruptRecordError:
            break
        batches.append(batch)
        pos = end
    return batches, pos
