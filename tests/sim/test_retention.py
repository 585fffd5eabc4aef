"""Retention: ``delete_old_segments`` (retention.ms / retention.bytes / log start offset) and the log start offset."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.sim.log import (
    LOG_START_OFFSET_CHECKPOINT_FILE,
    LogConfig,
    OffsetOutOfRangeError,
    PartitionLog,
    segment_file_name,
)
from kafkalab.sim.records import Record, RecordBatch

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SEGMENT_MS = 1000


class Clock:
    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def open_log(path: Path, clock: Clock, **config: int | str) -> PartitionLog:
    return PartitionLog(path, LogConfig(segment_ms=SEGMENT_MS, **config), clock)  # type: ignore[arg-type]


def batch(ts: int, n: int = 2) -> RecordBatch:
    return RecordBatch.build([Record(b"k%d" % i, b"v" * 20, timestamp_ms=ts) for i in range(n)])


def fill(log: PartitionLog, clock: Clock, timestamps: list[int]) -> None:
    """One segment per timestamp (the clock passes segment.ms between appends), then HW = LEO."""
    for ts in timestamps:
        log.append_as_leader(batch(ts), 0)
        clock.now += SEGMENT_MS
    log.update_high_watermark(log.log_end_offset)


def bases(log: PartitionLog) -> list[int]:
    return [s.base_offset for s in log.segments_info()]


def log_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("*.log"))


def test_retention_ms_deletes_oldest_closed_segments_in_order(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=5000)
    fill(log, clock, [100, 200, 300, 400])
    assert bases(log) == [0, 2, 4, 6]
    # now - max timestamp > retention.ms: 5250 - 100 and 5250 - 200 qualify, 5250 - 300 does not
    assert log.delete_old_segments(5250) == [0, 2]
    assert bases(log) == [4, 6]
    assert log.log_start_offset == 4
    assert log_files(tmp_path) == [segment_file_name(4, ".log"), segment_file_name(6, ".log")]
    assert not (tmp_path / segment_file_name(0, ".index")).exists()
    assert not (tmp_path / segment_file_name(2, ".timeindex")).exists()
    # exactly retention.ms old is not "older than" it
    assert log.delete_old_segments(5300) == []
    # the active segment (6) goes too once it is wholly past retention and below the HW (UnifiedLog): the
    # log rolls an empty segment at the LEO first, so log start offset = log end offset afterwards
    assert log.delete_old_segments(10**9) == [4, 6]
    assert bases(log) == [8] and log.log_start_offset == 8 == log.log_end_offset
    assert log_files(tmp_path) == [segment_file_name(8, ".log")]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(7, 1000)
    assert log.read(8, 1000) == []
    # an empty active segment is never deleted; new records go on at offset 8
    assert log.delete_old_segments(10**10) == []
    log.append_as_leader(batch(10**9), 0)
    assert bases(log) == [8] and log.log_end_offset == 10


def test_retention_ms_stops_at_first_segment_that_does_not_qualify(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=1000)
    fill(log, clock, [100, 9000, 100, 100])  # segment 2 holds a newer record
    assert log.delete_old_segments(5000) == [0]
    assert bases(log) == [2, 4, 6]


def test_retention_bytes_uses_kafkas_rule(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_bytes=-1)
    fill(log, clock, [0, 0, 0, 0, 0])
    seg = log.segments_info()[0].size_bytes
    assert all(s.size_bytes == seg for s in log.segments_info())
    assert log.delete_old_segments(0) == []  # -1: unlimited
    # diff = size - retention.bytes = 1.5 segments: one segment goes (diff - size >= 0), not the second
    log.config.retention_bytes = 3 * seg + seg // 2
    assert log.delete_old_segments(0) == [0]
    assert log.size_bytes == 4 * seg and log.log_start_offset == 2
    # size < retention.bytes: nothing
    log.config.retention_bytes = 4 * seg + 1
    assert log.delete_old_segments(0) == []
    # diff exactly two segments: both go
    log.config.retention_bytes = 2 * seg
    assert log.delete_old_segments(0) == [2, 4]
    # retention.bytes 0: everything, the active segment included (a new empty one is rolled at the LEO)
    log.config.retention_bytes = 0
    assert log.delete_old_segments(0) == [6, 8]
    assert bases(log) == [10] and log.log_start_offset == 10 == log.log_end_offset


def test_never_deletes_at_or_above_the_high_watermark(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=10)
    fill(log, clock, [0, 0, 0, 0])
    log.update_high_watermark(3)  # inside segment 2: segment 0 ends at 2 <= HW, segment 2 ends at 4 > HW
    assert log.delete_old_segments(10**6) == [0]
    log.update_high_watermark(4)  # segment 2 now ends exactly at the HW: deletable
    assert log.delete_old_segments(10**6) == [2]
    assert log.log_start_offset == 4 <= log.high_watermark


def test_compact_only_policy_keeps_old_segments(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=10, retention_bytes=0, cleanup_policy="compact")
    fill(log, clock, [0, 0, 0])
    assert log.delete_old_segments(10**6) == []
    log.config.cleanup_policy = "compact,delete"
    assert log.delete_old_segments(10**6) == [0, 2, 4]


def test_log_start_offset_survives_reopen(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=5000)
    fill(log, clock, [0, 0, 9000, 9000])
    assert log.delete_old_segments(6000) == [0, 2]
    assert (tmp_path / LOG_START_OFFSET_CHECKPOINT_FILE).read_text() == "0\n4\n"
    del log  # no close(): a kill
    reopened = open_log(tmp_path, clock, retention_ms=5000)
    assert reopened.log_start_offset == 4 and reopened.log_end_offset == 8
    with pytest.raises(OffsetOutOfRangeError):
        reopened.read(3, 1000)


def test_maybe_increment_log_start_offset(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, cleanup_policy="compact")
    fill(log, clock, [0, 0, 0, 0])  # segments 0, 2, 4, 6; LEO = HW = 8
    log.update_high_watermark(6)
    with pytest.raises(OffsetOutOfRangeError):
        log.maybe_increment_log_start_offset(7)  # above the HW
    assert log.maybe_increment_log_start_offset(3)  # DeleteRecords inside segment 2
    assert not log.maybe_increment_log_start_offset(1)  # never moves back
    assert log.log_start_offset == 3
    with pytest.raises(OffsetOutOfRangeError):
        log.read(2, 1000)
    # the batch holding offset 3 is returned whole, as in Kafka
    assert [o for b in log.read(3, 10**6) for o, _ in b.iter_records()][:2] == [2, 3]
    # segments wholly below the log start offset go on the next pass, whatever the policy
    assert log.delete_old_segments(0) == [0]
    assert log.log_start_offset == 3 and bases(log) == [2, 4, 6]
    reopened = open_log(tmp_path, clock, cleanup_policy="compact")
    assert reopened.log_start_offset == 3
    # a checkpoint beyond every segment (files lost): the log restarts empty at it, as LogLoader does
    reopened.close()
    (tmp_path / LOG_START_OFFSET_CHECKPOINT_FILE).write_text("0\n50\n")
    restarted = open_log(tmp_path, clock)
    assert (restarted.log_start_offset, restarted.log_end_offset) == (50, 50)
    assert log_files(tmp_path) == [segment_file_name(50, ".log")]


def test_log_start_offset_truncates_the_epoch_cache_from_start(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    for epoch in (1, 1, 2, 3):
        log.append_as_leader(batch(0), epoch)
        clock.now += SEGMENT_MS
    log.update_high_watermark(log.log_end_offset)
    assert log.epoch_entries() == [(1, 0), (2, 4), (3, 6)]
    log.maybe_increment_log_start_offset(5)
    assert log.epoch_entries() == [(2, 5), (3, 6)]  # LeaderEpochFileCache.truncateFromStart
    log.flush()
    assert open_log(tmp_path, clock).epoch_entries() == [(2, 5), (3, 6)]


def test_truncate_fully_checkpoints_the_new_start(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock)
    fill(log, clock, [0, 0])
    log.maybe_increment_log_start_offset(3)
    log.truncate_fully_and_start_at(1)  # a follower restarting below: the start goes down with it
    assert open_log(tmp_path, clock).log_start_offset == 1


def test_an_active_segment_above_the_high_watermark_is_kept(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, retention_ms=10)
    fill(log, clock, [0, 0])
    log.update_high_watermark(3)  # the active segment [2, 4) is not wholly below the HW
    assert log.delete_old_segments(10**6) == [0]
    assert bases(log) == [2]
    log.update_high_watermark(4)
    assert log.delete_old_segments(10**6) == [2]
    assert log.log_start_offset == log.log_end_offset == 4


def test_a_retention_ms_topic_is_emptied_by_the_broker(tmp_path: Path) -> None:
    """End to end: every replica deletes its one (active) segment once it is older than retention.ms."""
    from kafkalab import Cluster

    c = Cluster(3, seed=2, data_dir=tmp_path, broker_config={"log.retention.check.interval.ms": 1000})
    c.create_topic("t", 1, 3, {"retention.ms": 5000})
    p = c.producer()
    for i in range(5):
        p.produce("t", value=f"v{i}")
    p.flush()
    c.run_for(7000)
    (info,) = c.describe_topic("t")
    assert info.log_start_offset == info.log_end_offset == info.high_watermark == 5
    for b in c.brokers.values():
        log = b.partitions[("t", 0)].log
        assert log.log_start_offset == 5 and [s.base_offset for s in log.segments_info()] == [5]
