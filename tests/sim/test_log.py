from __future__ import annotations

import gc
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from kafkalab.sim.log import (
    EPOCH_CHECKPOINT_FILE,
    LogConfig,
    OffsetOutOfRangeError,
    PartitionLog,
    segment_file_name,
)
from kafkalab.sim.records import Record, RecordBatch, decode_batches

# dropping a log without close() is the point of the crash tests
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class Clock:
    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_batch(n: int, tag: str = "r", ts: int = 0, value_size: int = 10) -> RecordBatch:
    return RecordBatch.build(
        [Record(f"{tag}{i}".encode(), bytes([i % 256]) * value_size, timestamp_ms=ts + i) for i in range(n)]
    )


def values(batches: list[RecordBatch]) -> list[tuple[int, bytes | None]]:
    return [(offset, record.key) for b in batches for offset, record in b.iter_records()]


def open_log(path: Path, clock: Clock | None = None, **config: int) -> PartitionLog:
    return PartitionLog(path, LogConfig(**config), clock or Clock())


def log_files(path: Path, suffix: str) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.suffix == suffix)


# ---------------------------------------------------------------------------------------------------------
# append / read


def test_empty_dir_creates_segment_zero(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (0, 0, 0)
    assert log_files(tmp_path, ".log") == ["00000000000000000000.log"]
    assert (tmp_path / "00000000000000000000.index").exists()
    assert (tmp_path / "00000000000000000000.timeindex").exists()
    assert log.read(0, 1000) == []
    assert log.latest_epoch() == -1


def test_append_assigns_offsets_and_reads_back(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    a = log.append_as_leader(make_batch(3, "a"), leader_epoch=0)
    b = log.append_as_leader(make_batch(2, "b"), leader_epoch=0)
    assert (a.base_offset, a.last_offset, b.base_offset, b.last_offset) == (0, 2, 3, 4)
    assert a.partition_leader_epoch == 0
    assert log.log_end_offset == 5
    assert log.read(0, 10**6) == [a, b]
    assert log.read(4, 10**6) == [b]
    assert log.read(1, 10**6) == [a, b]  # first batch may begin before the requested offset
    assert values(log.read(0, 10**6)) == [(0, b"a0"), (1, b"a1"), (2, b"a2"), (3, b"b0"), (4, b"b1")]
    assert list(log.iter_batches(3)) == [b]
    # the stored bytes are the batch with patched offsets and a still valid CRC
    log.flush()  # appends are buffered as in the OS page cache; reading the file directly needs this
    on_disk, valid = decode_batches((tmp_path / segment_file_name(0, ".log")).read_bytes())
    assert on_disk == [a, b] and valid == a.size_bytes + b.size_bytes


def test_read_bounds_max_bytes_and_max_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    stored = [log.append_as_leader(make_batch(2, f"b{i}", value_size=50), 0) for i in range(5)]
    size = stored[0].size_bytes
    assert log.read(0, size * 2) == stored[:2]
    assert log.read(0, size * 2 - 1) == stored[:1]
    assert log.read(0, 1) == stored[:1]  # at least one batch even if it alone exceeds max_bytes
    assert log.read(0, 0) == stored[:1]
    assert log.read(5, 10**6) == stored[2:]
    assert log.read(0, 10**6, max_offset=4) == stored[:2]  # exclusive bound on base offsets
    assert log.read(3, 10**6, max_offset=5) == stored[1:3]  # batch at 4 straddles 5 and is included
    assert log.read(4, 10**6, max_offset=4) == []
    assert log.read(10, 10**6) == []  # reading at the LEO
    with pytest.raises(OffsetOutOfRangeError):
        log.read(11, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)


def test_high_watermark_is_clamped(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_as_leader(make_batch(4), 0)
    assert log.update_high_watermark(2) == 2
    assert log.update_high_watermark(99) == 4
    assert log.update_high_watermark(-5) == 0
    log.update_high_watermark(4)
    log.truncate_to(2)
    assert log.high_watermark == 0  # whole batch [0..3] holds offset 2


def test_follower_append(tmp_path: Path) -> None:
    leader = open_log(tmp_path / "leader")
    follower = open_log(tmp_path / "follower")
    for epoch in (0, 0, 2, 3):
        batch = leader.append_as_leader(make_batch(2), epoch)
        follower.append_as_follower(batch)
    assert list(follower.iter_batches()) == list(leader.iter_batches())
    assert follower.epoch_entries() == leader.epoch_entries() == [(0, 0), (2, 4), (3, 6)]
    with pytest.raises(ValueError):
        follower.append_as_follower(leader.read(0, 100)[0])
    assert (tmp_path / "follower" / EPOCH_CHECKPOINT_FILE).read_text() == "0\n3\n0 0\n2 4\n3 6\n"


# ---------------------------------------------------------------------------------------------------------
# segments and indexes


def test_roll_by_segment_bytes(tmp_path: Path) -> None:
    size = make_batch(2).size_bytes
    log = open_log(tmp_path, segment_bytes=size * 3)
    for _ in range(7):
        log.append_as_leader(make_batch(2), 0)
    infos = log.segments_info()
    assert [(s.base_offset, s.next_offset, s.batch_count) for s in infos] == [
        (0, 6, 3),
        (6, 12, 3),
        (12, 14, 1),
    ]
    assert [s.active for s in infos] == [False, False, True]
    assert log_files(tmp_path, ".log") == [segment_file_name(o, ".log") for o in (0, 6, 12)]
    assert log_files(tmp_path, ".index") == [segment_file_name(o, ".index") for o in (0, 6, 12)]
    assert log_files(tmp_path, ".timeindex") == [segment_file_name(o, ".timeindex") for o in (0, 6, 12)]
    for info in infos:
        assert info.log_path.stat().st_size == info.size_bytes
        assert info.log_path.name == f"{info.base_offset:020d}.log"
    assert values(log.read(0, 10**6)) == [(i, f"r{i % 2}".encode()) for i in range(14)]
    assert log.read(6, 1) == [log.read(7, 1)[0]]


def test_oversized_batch_goes_to_its_own_segment(tmp_path: Path) -> None:
    log = open_log(tmp_path, segment_bytes=100)
    log.append_as_leader(
        make_batch(5, value_size=50), 0
    )  # bigger than segment_bytes: an empty segment takes it
    log.append_as_leader(make_batch(1, value_size=1), 0)
    assert [s.base_offset for s in log.segments_info()] == [0, 5]


def test_roll_by_segment_ms(tmp_path: Path) -> None:
    clock = Clock(1000)
    log = open_log(tmp_path, clock, segment_ms=100)
    log.append_as_leader(make_batch(1), 0)
    clock.now = 1099
    log.append_as_leader(make_batch(1), 0)
    assert len(log.segments_info()) == 1
    clock.now = 1100
    log.append_as_leader(make_batch(1), 0)
    infos = log.segments_info()
    assert [(s.base_offset, s.created_ms) for s in infos] == [(0, 1000), (2, 1100)]
    clock.now = 5000
    log.truncate_to(2)  # segment 2 is deleted, segment 0 becomes active again
    assert [(s.base_offset, s.created_ms) for s in log.segments_info()] == [(0, 1000)]
    assert log_files(tmp_path, ".log") == [segment_file_name(0, ".log")]
    log.truncate_to(0)  # a segment truncated to empty counts as new
    assert log.segments_info()[0].created_ms == 5000
    clock.now = 9000  # an empty active segment never rolls
    log.append_as_leader(make_batch(1), 0)
    assert len(log.segments_info()) == 1


def read_index(path: Path) -> list[tuple[int, int]]:
    data = path.read_bytes()
    assert len(data) % 8 == 0
    return [struct.unpack_from(">ii", data, i) for i in range(0, len(data), 8)]


def read_timeindex(path: Path) -> list[tuple[int, int]]:
    data = path.read_bytes()
    assert len(data) % 12 == 0
    return [struct.unpack_from(">qi", data, i) for i in range(0, len(data), 12)]


def check_indexes(log: PartitionLog) -> int:
    entries = 0
    for info in log.segments_info():
        data = info.log_path.read_bytes()
        batches, valid = decode_batches(data)
        assert valid == len(data)
        positions = {}
        pos = 0
        for batch in batches:
            positions[pos] = batch
            pos += batch.size_bytes
        last_position = -1
        for rel, position in read_index(info.index_path):
            assert position in positions  # points at a batch start
            assert positions[position].last_offset == info.base_offset + rel
            assert position > last_position
            last_position = position
            entries += 1
        last_ts = -1
        for ts, rel in read_timeindex(info.timeindex_path):
            assert ts > last_ts
            last_ts = ts
            owner = [b for b in batches if b.last_offset == info.base_offset + rel]
            assert owner and owner[0].max_timestamp == ts
    return entries


def test_index_files(tmp_path: Path) -> None:
    clock = Clock()
    size = make_batch(3, value_size=40).size_bytes
    log = open_log(tmp_path, clock, index_interval_bytes=size + 1, segment_bytes=size * 10)
    for i in range(25):
        clock.now = i * 10
        log.append_as_leader(make_batch(3, ts=clock.now, value_size=40), 0)
    assert check_indexes(log) > 5
    first = log.segments_info()[0]
    # Kafka: an entry when more than index.interval.bytes were appended since the last one
    assert read_index(first.index_path)[:2] == [(8, size * 2), (14, size * 4)]
    # a closed segment gets a final time index entry for its largest timestamp
    assert read_timeindex(first.timeindex_path)[-1] == (first.max_timestamp, 29)
    assert first.max_timestamp == 92


# ---------------------------------------------------------------------------------------------------------
# recovery


def snapshot(log: PartitionLog) -> tuple[object, ...]:
    infos = log.segments_info()
    return (
        list(log.iter_batches()),
        log.log_start_offset,
        log.log_end_offset,
        log.epoch_entries(),
        [(s.base_offset, s.next_offset, s.size_bytes, s.batch_count, s.max_timestamp) for s in infos],
        [(s.index_path.read_bytes(), s.timeindex_path.read_bytes()) for s in infos],
    )


def test_recovery_after_kill_without_close(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, segment_bytes=500, index_interval_bytes=100)
    for i in range(20):
        clock.now += 7
        log.append_as_leader(make_batch(1 + i % 3, ts=clock.now), i // 5)
    before = snapshot(log)
    assert len(log.segments_info()) > 3
    del log  # process killed: no close, no flush
    gc.collect()
    reopened = open_log(tmp_path, clock, segment_bytes=500, index_interval_bytes=100)
    assert snapshot(reopened) == before
    assert reopened.high_watermark == reopened.log_start_offset == 0
    assert reopened.epoch_entries() == [(0, 0), (1, 9), (2, 19), (3, 30)]
    # the recovered log keeps working
    reopened.append_as_leader(make_batch(2), 4)
    assert reopened.log_end_offset == before[2] + 2  # type: ignore[operator]


def test_recovery_truncates_garbage_tail(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    for _ in range(3):
        log.append_as_leader(make_batch(2), 0)
    good = list(log.iter_batches())
    log_path = log.segments_info()[-1].log_path
    size = log_path.stat().st_size
    del log
    with open(log_path, "ab") as f:
        f.write(b"\x00\x01garbage that is not a batch" * 3)
    reopened = open_log(tmp_path)
    assert list(reopened.iter_batches()) == good
    assert reopened.log_end_offset == 6
    assert log_path.stat().st_size == size


def test_recovery_chops_half_written_batch_and_later_segments(tmp_path: Path) -> None:
    size = make_batch(2).size_bytes
    log = open_log(tmp_path, segment_bytes=size * 2)
    for epoch in range(8):
        log.append_as_leader(make_batch(2), epoch)
    infos = log.segments_info()
    assert [s.base_offset for s in infos] == [0, 4, 8, 12]
    del log
    # chop the last batch of the second segment in half: segments 8 and 12 must go
    second = infos[1].log_path
    data = second.read_bytes()
    second.write_bytes(data[: size + size // 2])
    reopened = open_log(tmp_path, segment_bytes=size * 2)
    assert reopened.log_end_offset == 6
    assert log_files(tmp_path, ".log") == [segment_file_name(o, ".log") for o in (0, 4)]
    assert log_files(tmp_path, ".index") == [segment_file_name(o, ".index") for o in (0, 4)]
    assert second.stat().st_size == size
    # epoch entries at or beyond the recovered LEO are dropped, also from the checkpoint file
    assert reopened.epoch_entries() == [(0, 0), (1, 2), (2, 4)]
    assert (tmp_path / EPOCH_CHECKPOINT_FILE).read_text() == "0\n3\n0 0\n1 2\n2 4\n"
    reopened.append_as_leader(make_batch(1), 9)
    assert reopened.epoch_entries()[-1] == (9, 6)


def test_recovery_detects_flipped_byte(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    for _ in range(3):
        log.append_as_leader(make_batch(2), 0)
    path = log.segments_info()[0].log_path
    del log
    data = bytearray(path.read_bytes())
    data[make_batch(2).size_bytes + 40] ^= 0x10  # inside the second batch, after its CRC
    path.write_bytes(bytes(data))
    reopened = open_log(tmp_path)
    assert reopened.log_end_offset == 2


# ---------------------------------------------------------------------------------------------------------
# truncation


def test_truncate_to_across_segments(tmp_path: Path) -> None:
    size = make_batch(2).size_bytes
    log = open_log(tmp_path, segment_bytes=size * 2, index_interval_bytes=0)
    for epoch in range(10):
        log.append_as_leader(make_batch(2), epoch)
    assert [s.base_offset for s in log.segments_info()] == [0, 4, 8, 12, 16]
    log.update_high_watermark(20)
    log.truncate_to(9)  # inside batch [8, 9]: the whole batch goes; segment 8 stays, empty
    assert log.log_end_offset == 8
    assert [(s.base_offset, s.size_bytes) for s in log.segments_info()] == [
        (0, 2 * size),
        (4, 2 * size),
        (8, 0),
    ]
    assert log_files(tmp_path, ".log") == [segment_file_name(o, ".log") for o in (0, 4, 8)]
    assert log.high_watermark == 8
    assert log.epoch_entries() == [(e, 2 * e) for e in range(4)]
    check_indexes(log)
    log.truncate_to(8)  # at the LEO: no-op
    assert len(log.segments_info()) == 3
    assert len(read_index(log.segments_info()[1].index_path)) == 1  # entry for the batch at 6
    log.truncate_to(6)  # segment 8 (base >= 6) is deleted, segment 4 is active again
    assert log.log_end_offset == 6
    assert [s.base_offset for s in log.segments_info()] == [0, 4]
    assert log_files(tmp_path, ".log") == [segment_file_name(o, ".log") for o in (0, 4)]
    assert log.segments_info()[-1].log_path.stat().st_size == size
    assert len(read_index(log.segments_info()[-1].index_path)) == 0  # entry for batch 6 removed
    check_indexes(log)
    log.truncate_to(100)  # beyond the LEO: no-op
    assert log.log_end_offset == 6
    log.truncate_to(0)
    assert log.log_end_offset == 0
    assert log_files(tmp_path, ".log") == [segment_file_name(0, ".log")]
    assert log.epoch_entries() == []
    log.append_as_leader(make_batch(1), 20)
    assert values(log.read(0, 10**6)) == [(0, b"r0")]
    assert snapshot(log) == snapshot(open_log(tmp_path, segment_bytes=size * 2, index_interval_bytes=0))


def test_truncate_fully_and_start_at(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_as_leader(make_batch(3), 1)
    log.truncate_fully_and_start_at(50)
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (50, 50, 50)
    assert log.epoch_entries() == []
    assert log_files(tmp_path, ".log") == [segment_file_name(50, ".log")]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(0, 100)
    batch = log.append_as_leader(make_batch(1), 2)
    assert batch.base_offset == 50
    log.flush()
    reopened = open_log(tmp_path)
    assert reopened.log_start_offset == 50 and reopened.log_end_offset == 51
    assert reopened.epoch_entries() == [(2, 50)]
    # truncating below the log start offset starts over there, as Kafka's truncateTo does
    reopened.truncate_to(10)
    assert (reopened.log_start_offset, reopened.log_end_offset) == (10, 10)


# ---------------------------------------------------------------------------------------------------------
# leader epoch cache


def test_epoch_cache_assign(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.assign_epoch(2, 0)
    log.assign_epoch(2, 5)  # not newer: ignored
    log.assign_epoch(1, 7)  # older: ignored
    log.assign_epoch(4, 10)
    log.assign_epoch(6, 10)  # same start offset: replaces epoch 4
    assert log.epoch_entries() == [(2, 0), (6, 10)]
    log.assign_epoch(7, 3)  # start before later entries: they are removed
    assert log.epoch_entries() == [(2, 0), (7, 3)]
    assert (tmp_path / EPOCH_CHECKPOINT_FILE).read_text() == "0\n2\n2 0\n7 3\n"
    assert not (tmp_path / (EPOCH_CHECKPOINT_FILE + ".tmp")).exists()


def test_end_offset_for_epoch(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    assert log.end_offset_for_epoch(0) == (-1, -1)  # empty cache
    for epoch in (1, 1, 3, 3, 3, 6):
        log.append_as_leader(make_batch(2), epoch)
    assert log.epoch_entries() == [(1, 0), (3, 4), (6, 10)]
    assert log.end_offset_for_epoch(6) == (6, 12)  # latest epoch: the LEO
    assert log.end_offset_for_epoch(3) == (3, 10)  # start of the next epoch
    assert log.end_offset_for_epoch(1) == (1, 4)
    assert log.end_offset_for_epoch(4) == (3, 10)  # unknown epoch: the largest epoch below it
    assert log.end_offset_for_epoch(5) == (3, 10)
    assert log.end_offset_for_epoch(2) == (1, 4)
    assert log.end_offset_for_epoch(7) == (-1, -1)  # newer than every known epoch
    assert log.end_offset_for_epoch(-1) == (-1, -1)
    # older than every cached epoch: Kafka answers (requested, start offset of the first cached epoch)
    assert log.end_offset_for_epoch(0) == (0, 0)
    log.truncate_fully_and_start_at(12)
    log.append_as_leader(make_batch(1), 9)
    assert log.end_offset_for_epoch(6) == (6, 12)


def test_checkpoint_entries_beyond_leo_dropped_on_open(tmp_path: Path) -> None:
    log = open_log(tmp_path)
    log.append_as_leader(make_batch(3), 1)
    log.assign_epoch(2, 3)  # new leader epoch assigned at the LEO, nothing appended yet
    assert log.end_offset_for_epoch(1) == (1, 3)
    del log
    reopened = open_log(tmp_path)
    assert reopened.epoch_entries() == [(1, 0)]


# ---------------------------------------------------------------------------------------------------------
# model-based test


class LogMachine(RuleBasedStateMachine):
    """Random appends, truncations, rolls and crashes against a plain list model."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "p0"
        self.clock = Clock()
        self.config = LogConfig(segment_bytes=700, segment_ms=60, index_interval_bytes=150)
        self.log = PartitionLog(self.path, self.config, self.clock)
        self.model: list[tuple[int, bytes | None, bytes | None]] = []  # (offset, key, value)
        self.batch_bounds: list[tuple[int, int]] = []  # (base, next)
        self.epochs: list[tuple[int, int]] = []
        self.start = 0
        self.counter = 0

    def teardown(self) -> None:
        self.log.close()
        self.tmp.cleanup()

    @property
    def leo(self) -> int:
        return self.batch_bounds[-1][1] if self.batch_bounds else self.start

    def _records(self, n: int, size: int) -> list[Record]:
        out = []
        for _ in range(n):
            self.counter += 1
            value = None if size == 0 else bytes([self.counter % 251]) * size
            out.append(Record(b"k%d" % self.counter, value, timestamp_ms=self.clock.now))
        return out

    def _model_append(self, records: list[Record], epoch: int) -> None:
        leo = self.leo
        if epoch >= 0 and (not self.epochs or epoch > self.epochs[-1][0]):
            self.epochs = [(e, s) for e, s in self.epochs if s < leo] + [(epoch, leo)]
        self.model += [(leo + i, r.key, r.value) for i, r in enumerate(records)]
        self.batch_bounds.append((leo, leo + len(records)))

    @initialize()
    def nothing(self) -> None:
        pass

    @rule(n=st.integers(1, 6), size=st.integers(0, 80), bump=st.integers(-1, 2))
    def append_as_leader(self, n: int, size: int, bump: int) -> None:
        epoch = max(0, self.log.latest_epoch() + bump)
        records = self._records(n, size)
        leo = self.leo
        stored = self.log.append_as_leader(RecordBatch.build(records), epoch)
        assert stored.base_offset == leo and stored.partition_leader_epoch == epoch
        self._model_append(records, epoch)

    @rule(n=st.integers(1, 4), epoch=st.integers(-1, 8))
    def append_as_follower(self, n: int, epoch: int) -> None:
        records = self._records(n, 20)
        batch = RecordBatch.build(records, base_offset=self.leo, partition_leader_epoch=epoch)
        self.log.append_as_follower(batch)
        self._model_append(records, epoch)

    @rule(data=st.data())
    def truncate_to(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(self.start, self.leo + 2))
        self.log.truncate_to(offset)
        if offset < self.leo:
            keep = [b for b in self.batch_bounds if b[1] <= offset]
            self.batch_bounds = keep
            leo = self.leo
            self.model = [m for m in self.model if m[0] < leo]
            self.epochs = [(e, s) for e, s in self.epochs if s < leo]

    @rule(extra=st.integers(0, 3))
    def truncate_fully(self, extra: int) -> None:
        self.start = self.leo + extra
        self.log.truncate_fully_and_start_at(self.start)
        self.model, self.batch_bounds, self.epochs = [], [], []

    @rule(bump=st.integers(1, 3))
    def become_leader(self, bump: int) -> None:
        epoch = max(0, self.log.latest_epoch() + bump)
        self.log.assign_epoch(epoch, self.leo)
        leo = self.leo
        self.epochs = [(e, s) for e, s in self.epochs if s < leo] + [(epoch, leo)]

    @rule(ms=st.integers(1, 40))
    def advance_clock(self, ms: int) -> None:
        self.clock.now += ms

    @rule(hw=st.integers(-2, 200))
    def update_hw(self, hw: int) -> None:
        assert self.log.update_high_watermark(hw) == max(self.start, min(hw, self.leo))

    @rule(kill=st.booleans())
    def reopen(self, kill: bool) -> None:
        before = list(self.log.iter_batches())
        if kill:
            del self.log
            gc.collect()
        else:
            self.log.close()
        self.log = PartitionLog(self.path, self.config, self.clock)
        self.epochs = [(e, s) for e, s in self.epochs if s < self.leo]
        assert list(self.log.iter_batches()) == before
        assert self.log.log_end_offset == self.leo
        assert self.log.log_start_offset == self.start
        assert self.log.high_watermark == self.start

    @rule(data=st.data(), max_bytes=st.integers(0, 2000))
    def read_from(self, data: st.DataObject, max_bytes: int) -> None:
        start = data.draw(st.integers(self.start, self.leo))
        hw = data.draw(st.integers(self.start, self.leo))
        got = self.log.read(start, max_bytes, max_offset=hw)
        if start == self.leo:
            assert got == []
            return
        eligible = [b for b in self.batch_bounds if b[1] > start and b[0] < hw]
        if eligible:
            assert got
            assert got[0].base_offset == eligible[0][0]
            assert got[0].base_offset <= start <= got[0].last_offset
        assert [(b.base_offset, b.next_offset) for b in got] == eligible[: len(got)]
        assert len(got) == 1 or sum(b.size_bytes for b in got) <= max_bytes

    @invariant()
    def matches_model(self) -> None:
        log = self.log
        assert log.log_start_offset == self.start
        assert log.log_end_offset == self.leo
        assert log.log_start_offset <= log.high_watermark <= log.log_end_offset
        batches = log.read(self.start, 10**9)
        expected_next = self.start
        for batch in batches:
            assert batch.base_offset == expected_next
            expected_next = batch.next_offset
        assert expected_next == self.leo
        got = [(o, r.key, r.value) for b in batches for o, r in b.iter_records()]
        assert got == self.model
        entries = log.epoch_entries()
        assert entries == self.epochs
        for (e1, s1), (e2, s2) in zip(entries, entries[1:], strict=False):
            assert e1 < e2 and s1 < s2
        assert all(s <= self.leo for _, s in entries)
        infos = log.segments_info()
        assert infos[-1].active and infos[0].base_offset == self.start
        for info in infos:
            assert info.log_path.stat().st_size == info.size_bytes
            assert info.index_path.stat().st_size % 8 == 0
            assert info.timeindex_path.stat().st_size % 12 == 0


LogMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_log_state_machine = LogMachine.TestCase
