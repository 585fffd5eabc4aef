from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.sim.records import (
    BATCH_OVERHEAD,
    ControlType,
    CorruptRecordError,
    Record,
    RecordBatch,
    crc32c,
    decode_batches,
)

# ---------------------------------------------------------------------------------------------------------
# helpers: an independent, field-by-field encoder written straight from the spec


def zigzag_varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = b""
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def test_zigzag_helper_matches_spec_examples() -> None:
    # protobuf's table: 0->0, -1->1, 1->2, -2->3, 2147483647->4294967294
    assert zigzag_varint(0) == b"\x00"
    assert zigzag_varint(-1) == b"\x01"
    assert zigzag_varint(1) == b"\x02"
    assert zigzag_varint(-2) == b"\x03"
    assert zigzag_varint(64) == b"\x80\x01"
    assert zigzag_varint(2147483647) == b"\xfe\xff\xff\xff\x0f"


# ---------------------------------------------------------------------------------------------------------
# CRC


def test_crc32c_known_answer() -> None:
    assert crc32c(b"123456789") == 0xE3069283


def test_batch_crc_covers_attributes_to_end() -> None:
    batch = RecordBatch.build([Record(b"k", b"v", timestamp_ms=5)])
    assert batch.crc == crc32c(batch.raw[21:])
    assert struct.unpack_from(">I", batch.raw, 17)[0] == batch.crc


# ---------------------------------------------------------------------------------------------------------
# golden encoding


def test_golden_encoding_of_a_tiny_batch() -> None:
    records = [
        Record(b"k1", b"hello", timestamp_ms=1000),
        Record(None, b"x", (("h", b"v"), ("n", None)), timestamp_ms=1003),
        Record(b"k3", None, timestamp_ms=999),
    ]
    batch = RecordBatch.build(
        records,
        base_offset=42,
        partition_leader_epoch=7,
        producer_id=1234,
        producer_epoch=3,
        base_sequence=10,
        transactional=True,
    )

    # record 0: attributes 0, tsDelta 0, offsetDelta 0, key "k1", value "hello", no headers
    r0 = (
        b"\x00"
        + zigzag_varint(0)
        + zigzag_varint(0)
        + zigzag_varint(2)
        + b"k1"
        + zigzag_varint(5)
        + b"hello"
        + zigzag_varint(0)
    )
    # record 1: null key, two headers, one with a null value
    r1 = (
        b"\x00"
        + zigzag_varint(3)
        + zigzag_varint(1)
        + zigzag_varint(-1)
        + zigzag_varint(1)
        + b"x"
        + zigzag_varint(2)
        + zigzag_varint(1)
        + b"h"
        + zigzag_varint(1)
        + b"v"
        + zigzag_varint(1)
        + b"n"
        + zigzag_varint(-1)
    )
    # record 2: timestamp before the base timestamp -> negative delta, null value
    r2 = (
        b"\x00"
        + zigzag_varint(-1)
        + zigzag_varint(2)
        + zigzag_varint(2)
        + b"k3"
        + zigzag_varint(-1)
        + zigzag_varint(0)
    )
    records_bytes = b"".join(zigzag_varint(len(r)) + r for r in (r0, r1, r2))
    attributes = 0x10  # transactional, CreateTime, no compression
    after_crc = (
        struct.pack(">h", attributes)
        + struct.pack(">i", 2)  # lastOffsetDelta
        + struct.pack(">q", 1000)  # baseTimestamp: first record
        + struct.pack(">q", 1003)  # maxTimestamp
        + struct.pack(">q", 1234)  # producerId
        + struct.pack(">h", 3)  # producerEpoch
        + struct.pack(">i", 10)  # baseSequence
        + struct.pack(">i", 3)  # records count
        + records_bytes
    )
    crc = crc32c(after_crc)
    after_length = struct.pack(">i", 7) + struct.pack(">b", 2) + struct.pack(">I", crc) + after_crc
    expected = struct.pack(">q", 42) + struct.pack(">i", len(after_length)) + after_length

    assert batch.raw == expected
    assert batch.size_bytes == len(expected)
    assert batch.base_offset == 42
    assert batch.last_offset_delta == 2
    assert batch.last_offset == 44
    assert batch.next_offset == 45
    assert batch.last_sequence == 12
    assert batch.record_count == 3
    assert batch.base_timestamp == 1000
    assert batch.max_timestamp == 1003
    assert batch.is_transactional and not batch.is_control

    decoded, end = RecordBatch.decode(expected)
    assert end == len(expected)
    assert decoded.records == records
    assert list(decoded.iter_records()) == [(42, records[0]), (43, records[1]), (44, records[2])]


def test_header_size_is_61() -> None:
    batch = RecordBatch.build([Record(None, None)])
    # one record: length(1) + attrs + tsDelta + offsetDelta + keyLen + valueLen + headers = 7 bytes
    assert batch.size_bytes == BATCH_OVERHEAD + 7


# ---------------------------------------------------------------------------------------------------------
# round trip

header_st = st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=8)))
record_st = st.builds(
    Record,
    key=st.one_of(st.none(), st.binary(max_size=40)),
    value=st.one_of(st.none(), st.binary(max_size=200)),
    headers=st.lists(header_st, max_size=3).map(tuple),
    timestamp_ms=st.integers(min_value=0, max_value=2**42),
)


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(record_st, min_size=1, max_size=20),
    base_offset=st.integers(min_value=0, max_value=2**62),
    epoch=st.integers(min_value=-1, max_value=2**31 - 1),
    pid=st.integers(min_value=-1, max_value=2**62),
    seq=st.integers(min_value=-1, max_value=2**31 - 1),
)
def test_round_trip(records: list[Record], base_offset: int, epoch: int, pid: int, seq: int) -> None:
    batch = RecordBatch.build(
        records,
        base_offset=base_offset,
        partition_leader_epoch=epoch,
        producer_id=pid,
        producer_epoch=0 if pid >= 0 else -1,
        base_sequence=seq,
    )
    decoded, end = RecordBatch.decode(batch.raw)
    assert end == batch.size_bytes
    assert decoded == batch
    assert decoded.records == records
    assert decoded.base_offset == base_offset
    assert decoded.partition_leader_epoch == epoch
    assert decoded.producer_id == pid
    assert decoded.base_sequence == seq
    assert decoded.max_timestamp == max(r.timestamp_ms for r in records)
    assert decoded.base_timestamp == records[0].timestamp_ms
    assert [o for o, _ in decoded.iter_records()] == list(range(base_offset, base_offset + len(records)))


def test_round_trip_large_values_and_many_records_use_the_general_path() -> None:
    big = [Record(b"k" * 20000, b"v" * 70000, (("h" * 300, b"x" * 20000),), timestamp_ms=10)]
    many = [Record(b"%d" % i, b"v", timestamp_ms=i * 1000) for i in range(17000)]
    for records in (big, many):
        batch = RecordBatch.build(records)
        decoded, _ = RecordBatch.decode(batch.raw)
        assert decoded.records == records
    reference = RecordBatch.build(many[:100])
    assert RecordBatch.decode(reference.raw)[0].records == many[:100]


def test_build_copies_the_record_list() -> None:
    records = [Record(b"a", b"b")]
    batch = RecordBatch.build(records)
    records.append(Record(b"c", b"d"))
    assert len(batch.records) == 1


def test_build_rejects_empty() -> None:
    with pytest.raises(ValueError):
        RecordBatch.build([])


def test_decode_from_memoryview_at_position() -> None:
    a = RecordBatch.build([Record(b"a", b"1")])
    b = RecordBatch.build([Record(b"b", b"2")], base_offset=1)
    buf = memoryview(b"junk" + a.raw + b.raw)
    first, pos = RecordBatch.decode(buf, 4)
    second, end = RecordBatch.decode(buf, pos)
    assert (first, second) == (a, b)
    assert end == len(buf)


# ---------------------------------------------------------------------------------------------------------
# corruption


def test_flipped_byte_after_crc_is_detected() -> None:
    batch = RecordBatch.build([Record(b"key", b"value" * 10, timestamp_ms=1)] * 3)
    for i in range(21, batch.size_bytes, 7):
        raw = bytearray(batch.raw)
        raw[i] ^= 0x01
        with pytest.raises(CorruptRecordError):
            RecordBatch.decode(bytes(raw))


def test_bad_magic_and_truncation_are_detected() -> None:
    batch = RecordBatch.build([Record(b"key", b"value")])
    raw = bytearray(batch.raw)
    raw[16] = 1
    with pytest.raises(CorruptRecordError, match="magic"):
        RecordBatch.decode(bytes(raw))
    for cut in (0, 5, 12, 60, batch.size_bytes - 1):
        with pytest.raises(CorruptRecordError):
            RecordBatch.decode(batch.raw[:cut])


def test_with_offsets_patches_header_and_keeps_crc_valid() -> None:
    batch = RecordBatch.build([Record(b"k", b"v", timestamp_ms=3)] * 4)
    moved = batch.with_offsets(1000, 9)
    assert moved.raw[:8] == struct.pack(">q", 1000)
    assert moved.raw[12:16] == struct.pack(">i", 9)
    assert moved.raw[16:] == batch.raw[16:]  # magic, crc and everything covered by it unchanged
    assert moved.crc == batch.crc
    decoded, _ = RecordBatch.decode(moved.raw)  # the CRC still validates
    assert decoded.base_offset == 1000 and decoded.partition_leader_epoch == 9
    assert decoded.last_offset == 1003
    assert moved.rows is batch.rows  # the decoded rows are shared, not copied
    assert [o for o, _ in moved.iter_records()] == [1000, 1001, 1002, 1003]


def test_decode_batches_stops_at_truncated_tail() -> None:
    batches = [RecordBatch.build([Record(b"k", b"v" * i)], base_offset=i) for i in range(1, 5)]
    buf = b"".join(b.raw for b in batches)
    good = sum(b.size_bytes for b in batches[:3])
    decoded, valid = decode_batches(buf[: good + batches[3].size_bytes // 2])
    assert decoded == batches[:3]
    assert valid == good
    decoded, valid = decode_batches(buf + b"\x00" * 5)
    assert decoded == batches and valid == len(buf)
    corrupt = bytearray(buf)
    corrupt[good + 30] ^= 0xFF
    decoded, valid = decode_batches(bytes(corrupt))
    assert decoded == batches[:3] and valid == good
    assert decode_batches(b"") == ([], 0)


# ---------------------------------------------------------------------------------------------------------
# control batches


@pytest.mark.parametrize("marker", [ControlType.ABORT, ControlType.COMMIT])
def test_control_batch_round_trip(marker: ControlType) -> None:
    batch = RecordBatch.control(
        marker,
        producer_id=77,
        producer_epoch=2,
        coordinator_epoch=5,
        timestamp_ms=123,
        partition_leader_epoch=4,
    )
    decoded, _ = RecordBatch.decode(batch.raw)
    assert decoded.is_control and decoded.is_transactional
    assert decoded.attributes == 0x30
    assert decoded.control_type is marker
    assert decoded.coordinator_epoch == 5
    assert decoded.producer_id == 77 and decoded.producer_epoch == 2
    assert decoded.base_sequence == -1 and decoded.last_sequence == -1
    assert decoded.partition_leader_epoch == 4
    (record,) = decoded.records
    assert record.key == struct.pack(">hh", 0, int(marker))
    assert record.value == struct.pack(">hi", 0, 5)
    assert record.timestamp_ms == 123


def test_data_batch_has_no_control_type() -> None:
    assert RecordBatch.build([Record(b"k", b"v")]).control_type is None


def test_last_sequence_wraps_like_kafka() -> None:
    batch = RecordBatch.build([Record(b"k", b"v")] * 3, base_sequence=2**31 - 2)
    assert batch.last_sequence == 0
