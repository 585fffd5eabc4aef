"""Compaction: ``PartitionLog.clean`` (Kafka's log cleaner) on real segment files."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kafkalab.sim.log import (
    CLEANER_CHECKPOINT_FILE,
    DELETE_HORIZON_FLAG,
    LogConfig,
    PartitionLog,
    build_batch_with_offset_deltas,
    delete_horizon_ms,
    segment_file_name,
)
from kafkalab.sim.records import Record, RecordBatch, decode_batches

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SEGMENT_MS = 1000
Entry = tuple[int, bytes | None, bytes | None]  # (offset, key, value)


class Clock:
    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def open_log(path: Path, clock: Clock, **config: int | float | str) -> PartitionLog:
    settings_: dict[str, int | float | str] = {
        "segment_ms": SEGMENT_MS,
        "cleanup_policy": "compact",
        "min_cleanable_dirty_ratio": 0.5,
        "delete_retention_ms": 10_000,
    }
    settings_.update(config)
    return PartitionLog(path, LogConfig(**settings_), clock)  # type: ignore[arg-type]


def put(
    log: PartitionLog, clock: Clock, *kvs: tuple[str | None, str | None], producer_id: int = -1, **kw: int
) -> RecordBatch:
    records = [
        Record(None if k is None else k.encode(), None if v is None else v.encode(), timestamp_ms=clock.now)
        for k, v in kvs
    ]
    built = RecordBatch.build(
        records,
        producer_id=producer_id,
        producer_epoch=kw.get("producer_epoch", -1),
        base_sequence=kw.get("base_sequence", -1),
    )
    batch = log.append_as_leader(built, 0)
    log.update_high_watermark(log.log_end_offset)
    return batch


def roll(clock: Clock) -> None:
    """The next append starts a new segment (segment.ms elapses)."""
    clock.now += SEGMENT_MS


def entries(log: PartitionLog, start: int | None = None) -> list[Entry]:
    first = log.log_start_offset if start is None else start
    return [(o, r.key, r.value) for b in log.read(first, 10**9) for o, r in b.iter_records()]


def write_history(log: PartitionLog, clock: Clock) -> list[Entry]:
    """Five keys updated many times over four closed segments, with tombstones; an active segment at the end."""
    appended: list[Entry] = []
    n = 0
    for _segment in range(4):
        for _ in range(6):
            key = f"k{n % 5}"
            value = None if n in (7, 19) else f"v{n}"  # k2 deleted at 7 (then rewritten), k4 deleted at 19
            put(log, clock, (key, value))
            appended.append((n, key.encode(), None if value is None else value.encode()))
            n += 1
        roll(clock)
    put(log, clock, ("k0", "active"))
    appended.append((n, b"k0", b"active"))
    return appended


def latest(appended: list[Entry], below: int) -> dict[bytes | None, Entry]:
    out: dict[bytes | None, Entry] = {}
    for entry in appended:
        if entry[0] < below:
            out[entry[1]] = entry
    return out


def test_clean_keeps_latest_value_per_key_at_its_original_offset(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    appended = write_history(log, clock)
    active = log.segments_info()[-1]
    active_bytes = active.log_path.read_bytes()
    assert [s.base_offset for s in log.segments_info()] == [0, 6, 12, 18, 24]

    result = log.clean(clock.now)
    assert result is not None
    assert (result.first_dirty_offset, result.end_offset, result.dirty_ratio) == (0, 24, 1.0)
    assert result.segments_cleaned == (0, 6, 12, 18)
    assert log.cleaner_checkpoint == 24
    assert (tmp_path / CLEANER_CHECKPOINT_FILE).read_text() == "0\n24\n"

    cleaned = [e for e in entries(log) if e[0] < 24]
    expected = latest(appended, 24)
    assert cleaned == sorted(expected.values())  # one record per key, the latest, at its original offset
    assert cleaned == [
        (19, b"k4", None),
        (20, b"k0", b"v20"),
        (21, b"k1", b"v21"),
        (22, b"k2", b"v22"),
        (23, b"k3", b"v23"),
    ]
    assert result.records_removed == 24 - 5
    assert result.tombstones_removed == 1  # the tombstone at 7 was superseded by k2's later values
    assert result.bytes_after < result.bytes_before
    # every read of a surviving offset gives back the original record; removed offsets are gaps
    for offset, key, value in cleaned:
        batch = log.read(offset, 1)[0]
        assert (offset, key, value) in [(o, r.key, r.value) for o, r in batch.iter_records()]
    assert [b.base_offset for b in log.read(0, 10**6)][:1] == [19]
    # the active segment is untouched
    info = log.segments_info()[-1]
    assert info.active and info.base_offset == active.base_offset
    assert info.log_path.read_bytes() == active_bytes
    assert entries(log, 24) == [(24, b"k0", b"active")]
    # reopening (after a kill) recovers the same content and the checkpoint
    before = entries(log)
    del log
    reopened = open_log(tmp_path, clock)
    assert entries(reopened) == before
    assert reopened.cleaner_checkpoint == 24
    assert not list(tmp_path.glob("*.cleaned")) and not list(tmp_path.glob("*.swap"))


def test_segments_are_grouped_and_rewritten_files_match_memory(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, segment_bytes=400)
    write_history(log, clock)
    assert log.clean(clock.now) is not None
    # a second clean (with new dirty data) groups the now-small segments into one (groupSegmentsBySize)
    for i in range(8):
        put(log, clock, (f"k{i % 5}", f"w{i}"))
    roll(clock)
    put(log, clock, ("z", "z"))
    result = log.clean(clock.now)
    assert result is not None and len(result.segments_after) < len(result.segments_cleaned)
    for info in log.segments_info():
        on_disk, valid = decode_batches(info.log_path.read_bytes())
        assert valid == info.size_bytes
        assert on_disk == [
            b for b in log.iter_batches() if info.base_offset <= b.base_offset < info.next_offset
        ]
    assert len({e[1] for e in entries(log) if e[0] < result.end_offset}) == len(
        [e for e in entries(log) if e[0] < result.end_offset]
    )


def test_tombstones_survive_until_delete_retention_then_vanish(tmp_path: Path) -> None:
    clock = Clock(1_000_000)
    log = open_log(tmp_path, clock, delete_retention_ms=10_000, min_cleanable_dirty_ratio=0.01)
    put(log, clock, ("a", "1"), ("b", "1"))
    put(log, clock, ("a", None))  # tombstone for a at offset 2
    roll(clock)
    put(log, clock, ("c", "1"))
    first_clean = clock.now
    result = log.clean(first_clean)
    assert result is not None and result.tombstones_removed == 0
    assert entries(log, 0)[:2] == [(1, b"b", b"1"), (2, b"a", None)]
    tomb_batch = log.read(2, 1)[0]
    assert tomb_batch.attributes & DELETE_HORIZON_FLAG
    assert delete_horizon_ms(tomb_batch) == first_clean + 10_000  # KIP-534: stamped when first cleaned
    assert [r.timestamp_ms for r in tomb_batch.records] == [1_000_000]  # timestamps are unchanged

    # a later clean before the horizon keeps the tombstone
    roll(clock)
    put(log, clock, ("d", "1"))
    result = log.clean(first_clean + 9_999)
    assert result is not None and result.tombstones_removed == 0
    assert (2, b"a", None) in entries(log)
    # a clean at the horizon removes it
    roll(clock)
    put(log, clock, ("e", "1"))
    result = log.clean(first_clean + 10_000)
    assert result is not None and result.tombstones_removed == 1
    assert [e for e in entries(log) if e[1] == b"a"] == []
    assert [e[1] for e in entries(log)] == [b"b", b"c", b"d", b"e"]


def test_dirty_ratio_threshold(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, min_cleanable_dirty_ratio=1.0)
    write_history(log, clock)
    assert log.dirty_ratio(clock.now) == 1.0
    assert log.clean(clock.now) is None  # Kafka cleans only when the ratio is strictly greater
    log.config.min_cleanable_dirty_ratio = 0.5
    assert log.clean(clock.now) is not None
    # a little new dirty data: ratio below the threshold, nothing happens
    put(log, clock, ("k1", "x"))
    roll(clock)
    put(log, clock, ("k1", "y"))
    ratio = log.dirty_ratio(clock.now)
    assert 0 < ratio < 0.5
    before = entries(log)
    assert log.clean(clock.now) is None
    assert entries(log) == before and log.cleaner_checkpoint == 24
    log.config.min_cleanable_dirty_ratio = ratio - 0.01
    assert log.clean(clock.now) is not None
    # policy without compact: never cleaned
    log.config.cleanup_policy = "delete"
    assert log.clean(clock.now) is None


def test_min_compaction_lag_protects_recent_records(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, min_compaction_lag_ms=2500)
    write_history(log, clock)  # segments 0, 6, 12, 18 hold timestamps 0, 1000, 2000, 3000
    result = log.clean(4000)  # 4000 - 2500 = 1500: segment 12 (ts 2000) and later are too recent
    assert result is not None and result.end_offset == 12
    assert result.segments_cleaned == (0, 6)
    assert [o for o, _, _ in entries(log) if o >= 12] == list(range(12, 25))  # untouched
    assert sorted(e[1] or b"" for e in entries(log) if e[0] < 12) == [b"k0", b"k1", b"k2", b"k3", b"k4"]


def test_high_watermark_bounds_cleaning(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    write_history(log, clock)
    log.update_high_watermark(14)  # inside segment 12: cleaning stops at its base
    result = log.clean(clock.now)
    assert result is not None and result.end_offset == 12
    result = log.clean(clock.now, last_stable_offset=6)  # below the checkpoint: nothing to clean
    assert result is None


def test_keyless_records_are_dropped_and_producer_last_batch_kept_empty(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    put(log, clock, (None, "no key"), ("a", "1"))
    last_of_producer = put(
        log, clock, ("a", "2"), ("a", "3"), producer_id=7, producer_epoch=0, base_sequence=0
    )
    put(log, clock, ("a", "4"))  # supersedes the whole producer batch
    roll(clock)
    put(log, clock, ("b", "1"))
    assert log.clean(clock.now) is not None
    batches = log.read(0, 10**6)
    empty = [b for b in batches if b.record_count == 0]
    assert len(empty) == 1
    kept = empty[0]
    assert (kept.base_offset, kept.last_offset) == (
        last_of_producer.base_offset,
        last_of_producer.last_offset,
    )
    assert (kept.producer_id, kept.producer_epoch, kept.base_sequence, kept.last_sequence) == (7, 0, 0, 1)
    assert entries(log) == [(4, b"a", b"4"), (5, b"b", b"1")]
    # when the broker says the producer is gone, the empty batch goes too
    roll(clock)
    put(log, clock, ("b", "2"))
    put(log, clock, ("b", "3"))
    log.config.min_cleanable_dirty_ratio = 0.1
    assert log.clean(clock.now, producer_last_offsets={}) is not None
    assert all(b.record_count > 0 for b in log.read(0, 10**6))


def test_partially_kept_batch_keeps_offsets_sequence_and_last_offset(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    original = put(
        log, clock, ("a", "1"), ("b", "1"), ("c", "1"), producer_id=3, producer_epoch=1, base_sequence=10
    )
    put(log, clock, ("b", "2"))
    roll(clock)
    put(log, clock, ("z", "z"))
    assert log.clean(clock.now) is not None
    rewritten = log.read(0, 1)[0]
    assert (rewritten.base_offset, rewritten.last_offset_delta, rewritten.base_sequence) == (0, 2, 10)
    assert rewritten.partition_leader_epoch == original.partition_leader_epoch
    assert [(o, r.key) for o, r in rewritten.iter_records()] == [(0, b"a"), (2, b"c")]
    # the bytes on disk decode to the same thing, with a valid CRC
    decoded, _ = decode_batches(log.segments_info()[0].log_path.read_bytes())
    assert [(o, r.key, r.value) for o, r in decoded[0].iter_records()] == [(0, b"a", b"1"), (2, b"c", b"1")]


def test_build_batch_with_offset_deltas_round_trips() -> None:
    records = [(1, Record(b"k", b"v", (("h", b"x"),), 50)), (4, Record(b"k2", None, (), 40))]
    batch = build_batch_with_offset_deltas(
        records,
        base_offset=100,
        last_offset_delta=6,
        partition_leader_epoch=3,
        attributes=DELETE_HORIZON_FLAG,
        producer_id=9,
        producer_epoch=2,
        base_sequence=5,
        max_timestamp=50,
        base_timestamp=1000,
    )
    (decoded,), valid = decode_batches(batch.raw)
    assert valid == len(batch.raw)
    assert (decoded.base_offset, decoded.last_offset, decoded.record_count) == (100, 106, 2)
    assert delete_horizon_ms(decoded) == 1000 and decoded.max_timestamp == 50
    assert [(o, r.key, r.value, r.headers, r.timestamp_ms) for o, r in decoded.iter_records()] == [
        (101, b"k", b"v", (("h", b"x"),), 50),
        (104, b"k2", None, (), 40),
    ]
    assert list(batch.iter_records()) == list(decoded.iter_records())
    with pytest.raises(ValueError):
        build_batch_with_offset_deltas(
            records[::-1],
            base_offset=0,
            last_offset_delta=6,
            partition_leader_epoch=0,
            attributes=0,
            producer_id=-1,
            producer_epoch=-1,
            base_sequence=-1,
            max_timestamp=0,
        )


def test_interrupted_swap_is_completed_on_open(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path / "a", clock)
    put(log, clock, ("a", "1"), ("b", "1"))
    put(log, clock, ("c", "1"), ("a", "2"))
    roll(clock)
    put(log, clock, ("b", "2"))
    roll(clock)
    put(log, clock, ("z", "z"))
    log.flush()  # what a crash leaves: every write is in the files
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same log, not cleaned
    uncleaned = entries(log)
    result = log.clean(clock.now)
    assert result is not None and result.segments_after == (0,)  # segments 0 and 4 were grouped
    assert entries(log) == [(2, b"c", b"1"), (3, b"a", b"2"), (4, b"b", b"2"), (5, b"z", b"z")]
    # crash after the cleaned segment became a .swap file, before the old segments were deleted
    first = segment_file_name(0, ".log")
    shutil.copy(tmp_path / "a" / first, tmp_path / "b" / (first + ".swap"))
    (tmp_path / "b" / (segment_file_name(0, ".index") + ".swap")).write_bytes(b"")
    (tmp_path / "b" / (segment_file_name(5, ".log") + ".cleaned")).write_bytes(b"garbage")
    log.flush()
    assert entries(open_log(tmp_path / "a", clock)) == entries(log)
    recovered = open_log(tmp_path / "b", clock)
    # old segments 0 and 4 lie in the swapped range [0, 5): deleted, the swap file took their place
    assert entries(recovered) == entries(log) != uncleaned
    assert [s.base_offset for s in recovered.segments_info()] == [0, 5]
    assert not list((tmp_path / "b").glob("*.swap")) and not list((tmp_path / "b").glob("*.cleaned"))


def test_retention_after_compaction(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, cleanup_policy="compact,delete", retention_ms=1500)
    write_history(log, clock)
    result = log.clean(clock.now)
    assert result is not None and result.segments_after == (0,)  # all four grouped into one
    assert log.segments_info()[0].max_timestamp == 3000
    assert log.delete_old_segments(4500) == []
    assert log.delete_old_segments(4501) == [0]
    assert log.log_start_offset == 24


# ---------------------------------------------------------------------------------------------------------
# model-based


class CompactionMachine(RuleBasedStateMachine):
    """Random keyed appends (with tombstones), rolls, cleans and reopens against a list of everything written."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "p0"
        self.clock = Clock()
        self.config = LogConfig(
            segment_ms=SEGMENT_MS,
            segment_bytes=600,
            index_interval_bytes=100,
            cleanup_policy="compact",
            min_cleanable_dirty_ratio=0.0,
            delete_retention_ms=3 * SEGMENT_MS,
        )
        self.log = PartitionLog(self.path, self.config, self.clock)
        self.appended: list[Entry] = []
        self.checkpoint = 0
        self.cleans = self.removed = 0

    def teardown(self) -> None:
        self.log.close()
        self.tmp.cleanup()

    @rule(
        kvs=st.lists(
            st.tuples(
                st.sampled_from([b"a", b"b", b"c", b"d"]), st.one_of(st.none(), st.binary(max_size=12))
            ),
            min_size=1,
            max_size=4,
        ),
        roll_first=st.booleans(),
    )
    def append(self, kvs: list[tuple[bytes, bytes | None]], roll_first: bool) -> None:
        if roll_first:
            self.clock.now += SEGMENT_MS
        batch = RecordBatch.build([Record(k, v, timestamp_ms=self.clock.now) for k, v in kvs])
        stored = self.log.append_as_leader(batch, 0)
        self.appended.extend((stored.base_offset + i, k, v) for i, (k, v) in enumerate(kvs))
        self.log.update_high_watermark(self.log.log_end_offset)

    @rule()
    def roll(self) -> None:
        self.clock.now += SEGMENT_MS

    @rule(data=st.data())
    def clean(self, data: st.DataObject) -> None:
        leo = self.log.log_end_offset
        hw = data.draw(st.one_of(st.just(leo), st.integers(self.log.log_start_offset, leo)))
        self.log.update_high_watermark(hw)
        result = self.log.clean(self.clock.now)
        self.log.update_high_watermark(self.log.log_end_offset)
        if result is not None:
            self.cleans += 1
            self.removed += result.records_removed
            assert result.end_offset <= hw
            assert result.end_offset >= self.checkpoint
            self.checkpoint = result.end_offset

    @rule()
    def reopen(self) -> None:
        before = entries(self.log)
        self.log.close()
        self.log = PartitionLog(self.path, self.config, self.clock)
        self.log.update_high_watermark(self.log.log_end_offset)
        assert entries(self.log) == before

    @invariant()
    def matches_model(self) -> None:
        got = entries(self.log)
        offsets = [o for o, _, _ in got]
        assert offsets == sorted(set(offsets))
        written = {o: (o, k, v) for o, k, v in self.appended}
        assert all(written[e[0]] == e for e in got)  # nothing invented, offsets unchanged
        # the dirty part is untouched
        assert [e for e in got if e[0] >= self.checkpoint] == [
            e for e in self.appended if e[0] >= self.checkpoint
        ]
        # the latest record of every key is there, at its offset (a tombstone may be gone after its horizon)
        present = set(got)
        for entry in latest(self.appended, len(self.appended)).values():
            assert entry in present or entry[2] is None
        # the cleaned part holds each key at most once, and only its latest record below the checkpoint
        cleaned = [e for e in got if e[0] < self.checkpoint]
        assert len({k for _, k, _ in cleaned}) == len(cleaned)
        below = latest(self.appended, self.checkpoint)
        for _o, key, _v in cleaned:
            assert below[key] in present
        for info in self.log.segments_info():
            assert info.log_path.stat().st_size == info.size_bytes


CompactionMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=50, deadline=None)
test_compaction_state_machine = CompactionMachine.TestCase
