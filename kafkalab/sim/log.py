"""A partition log stored in real Kafka-style segment files, with crash recovery and a leader-epoch cache.

Directory layout (as in a Kafka log dir for one partition)::

    00000000000000000000.log        record batches (v2), back to back
    00000000000000000000.index      sparse offset index: int32 relative offset, int32 file position
    00000000000000000000.timeindex  time index: int64 timestamp, int32 relative offset
    leader-epoch-checkpoint         "0", entry count, then "epoch startOffset" lines

Files are written through unbuffered file objects, so every appended byte is in the OS as soon as the
append returns: dropping a :class:`PartitionLog` without ``close()`` (a simulated process kill) loses
nothing, like Kafka's page cache surviving a JVM crash. Reopening the directory recovers from the files,
which are the source of truth; batches are also kept in memory so reads never re-decode files.

Indexes follow ``kafka.log.LogSegment``: before appending a batch, if more than ``index.interval.bytes``
were appended since the last index entry, an offset index entry (batch last offset, batch position) is
added together with a time index entry (max timestamp so far, offset of that batch) when the max timestamp
grew. A segment that stops being active gets a final time index entry (``onBecomeInactiveSegment``).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kafkalab.sim.records import RecordBatch, decode_batches

__all__ = [
    "EPOCH_CHECKPOINT_FILE",
    "LogConfig",
    "OffsetOutOfRangeError",
    "PartitionLog",
    "SegmentInfo",
    "segment_file_name",
]

EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint"
LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIMEINDEX_SUFFIX = ".timeindex"
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1

_INDEX_ENTRY = struct.Struct(">ii")
_TIMEINDEX_ENTRY = struct.Struct(">qi")
_MAX_RELATIVE_OFFSET = 0x7FFFFFFF


def segment_file_name(base_offset: int, suffix: str) -> str:
    """``00000000000000000042.log`` for base offset 42 (Kafka's ``LogFileUtils.filenamePrefixFromOffset``)."""
    return f"{base_offset:020d}{suffix}"


class OffsetOutOfRangeError(Exception):
    """A read outside ``[log_start_offset, log_end_offset]`` (Kafka's OFFSET_OUT_OF_RANGE)."""

    def __init__(self, offset: int, log_start_offset: int, log_end_offset: int) -> None:
        super().__init__(f"offset {offset} is out of range [{log_start_offset}, {log_end_offset}] of the log")
        self.offset = offset
        self.log_start_offset = log_start_offset
        self.log_end_offset = log_end_offset


@dataclass(slots=True)
class LogConfig:
    """Topic-level log settings; field names map to Kafka's topic configs.

    - ``segment_bytes``: ``segment.bytes`` — roll a new segment when the active one would exceed this.
    - ``segment_ms``: ``segment.ms`` — roll when the active segment is at least this old.
    - ``index_interval_bytes``: ``index.interval.bytes`` — bytes between offset index entries.
    - ``retention_ms``: ``retention.ms`` — delete closed segments whose largest timestamp is older.
    - ``retention_bytes``: ``retention.bytes`` — per-partition size bound (-1 = unlimited).
    - ``cleanup_policy``: ``cleanup.policy`` — ``delete``, ``compact`` or ``compact,delete``.
    - ``delete_retention_ms``: ``delete.retention.ms`` — how long tombstones survive compaction.
    - ``min_cleanable_dirty_ratio``: ``min.cleanable.dirty.ratio``.
    - ``min_compaction_lag_ms``: ``min.compaction.lag.ms``.

    Retention and compaction are carried here but applied elsewhere.
    """

    segment_bytes: int = 1073741824
    segment_ms: int = 604800000
    index_interval_bytes: int = 4096
    retention_ms: int = 604800000
    retention_bytes: int = -1
    cleanup_policy: str = "delete"
    delete_retention_ms: int = 86400000
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0

    def __post_init__(self) -> None:
        if self.segment_bytes <= 0:
            raise ValueError("segment_bytes must be positive")
        if self.segment_ms <= 0:
            raise ValueError("segment_ms must be positive")
        if self.index_interval_bytes < 0:
            raise ValueError("index_interval_bytes must not be negative")


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A snapshot of one segment, for views."""

    base_offset: int
    next_offset: int
    size_bytes: int
    batch_count: int
    created_ms: int
    max_timestamp: int
    log_path: Path
    index_path: Path
    timeindex_path: Path
    active: bool


class _Segment:
    """One segment: its three files, its batches in memory and its index entries."""

    __slots__ = (
        "base_offset",
        "log_path",
        "index_path",
        "timeindex_path",
        "created_ms",
        "batches",
        "bases",
        "positions",
        "size",
        "next_offset",
        "max_timestamp",
        "offset_of_max_timestamp",
        "bytes_since_index",
        "index_entries",
        "time_entries",
        "_log_f",
        "_index_f",
        "_timeindex_f",
    )

    def __init__(self, directory: Path, base_offset: int, created_ms: int) -> None:
        self.base_offset = base_offset
        self.log_path = directory / segment_file_name(base_offset, LOG_SUFFIX)
        self.index_path = directory / segment_file_name(base_offset, INDEX_SUFFIX)
        self.timeindex_path = directory / segment_file_name(base_offset, TIMEINDEX_SUFFIX)
        self.created_ms = created_ms
        self.batches: list[RecordBatch] = []
        self.bases: list[int] = []
        self.positions: list[int] = []
        self.size = 0
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        self.bytes_since_index = 0
        self.index_entries: list[tuple[int, int]] = []  # (relative offset, position)
        self.time_entries: list[tuple[int, int]] = []  # (timestamp, relative offset)
        self._log_f: BinaryIO | None = None
        self._index_f: BinaryIO | None = None
        self._timeindex_f: BinaryIO | None = None

    # -- files ------------------------------------------------------------------------------------------

    def create_files(self) -> None:
        for path in (self.log_path, self.index_path, self.timeindex_path):
            with open(path, "wb", buffering=0):
                pass

    def _files(self) -> tuple[BinaryIO, BinaryIO, BinaryIO]:
        if self._log_f is None or self._index_f is None or self._timeindex_f is None:
            self.close_files()
            self._log_f = open(self.log_path, "ab", buffering=0)  # noqa: SIM115 - kept open while active
            self._index_f = open(self.index_path, "ab", buffering=0)  # noqa: SIM115
            self._timeindex_f = open(self.timeindex_path, "ab", buffering=0)  # noqa: SIM115
        return self._log_f, self._index_f, self._timeindex_f

    def close_files(self) -> None:
        for f in (self._log_f, self._index_f, self._timeindex_f):
            if f is not None:
                f.close()
        self._log_f = self._index_f = self._timeindex_f = None

    def delete_files(self) -> None:
        self.close_files()
        for path in (self.log_path, self.index_path, self.timeindex_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    @staticmethod
    def _write_all(f: BinaryIO, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = f.write(view)
            if written is None:  # pragma: no cover - only for non-blocking files
                continue
            view = view[written:]

    # -- appends ----------------------------------------------------------------------------------------

    def append(self, batch: RecordBatch, index_interval_bytes: int) -> None:
        log_f, index_f, timeindex_f = self._files()
        position = self.size
        self._write_all(log_f, batch.raw)
        self.batches.append(batch)
        self.bases.append(batch.base_offset)
        self.positions.append(position)
        self.size = position + len(batch.raw)
        self.next_offset = batch.next_offset
        if batch.max_timestamp > self.max_timestamp:
            self.max_timestamp = batch.max_timestamp
            self.offset_of_max_timestamp = batch.last_offset
        if self.bytes_since_index > index_interval_bytes:
            entry = (batch.last_offset - self.base_offset, position)
            self.index_entries.append(entry)
            self._write_all(index_f, _INDEX_ENTRY.pack(*entry))
            time_entry = self._maybe_time_entry()
            if time_entry is not None:
                self._write_all(timeindex_f, _TIMEINDEX_ENTRY.pack(*time_entry))
            self.bytes_since_index = 0
        self.bytes_since_index += len(batch.raw)

    def _maybe_time_entry(self) -> tuple[int, int] | None:
        """Add a time index entry for the max timestamp so far if it grew since the last entry."""
        last_ts = self.time_entries[-1][0] if self.time_entries else -1
        if self.max_timestamp > last_ts:
            entry = (self.max_timestamp, self.offset_of_max_timestamp - self.base_offset)
            self.time_entries.append(entry)
            return entry
        return None

    def on_become_inactive(self) -> None:
        """The segment is no longer the active one: final time index entry, close the files."""
        entry = self._maybe_time_entry()
        if entry is not None:
            with open(self.timeindex_path, "ab", buffering=0) as f:
                self._write_all(f, _TIMEINDEX_ENTRY.pack(*entry))
        self.close_files()

    # -- rebuilding -------------------------------------------------------------------------------------

    def rebuild_indexes(self, index_interval_bytes: int, inactive: bool) -> None:
        """Recompute every index entry from the batches (as ``LogSegment.recover``) and rewrite the files."""
        self.close_files()
        self.index_entries = []
        self.time_entries = []
        self.max_timestamp = -1
        self.offset_of_max_timestamp = -1
        last_index_position = 0
        for batch, position in zip(self.batches, self.positions, strict=True):
            if batch.max_timestamp > self.max_timestamp:
                self.max_timestamp = batch.max_timestamp
                self.offset_of_max_timestamp = batch.last_offset
            if position - last_index_position > index_interval_bytes:
                self.index_entries.append((batch.last_offset - self.base_offset, position))
                self._maybe_time_entry()
                last_index_position = position
        self.bytes_since_index = self.size - last_index_position
        if inactive:
            self._maybe_time_entry()
        with open(self.index_path, "wb", buffering=0) as f:
            self._write_all(f, b"".join(_INDEX_ENTRY.pack(*e) for e in self.index_entries))
        with open(self.timeindex_path, "wb", buffering=0) as f:
            self._write_all(f, b"".join(_TIMEINDEX_ENTRY.pack(*e) for e in self.time_entries))

    def truncate_batches(self, keep: int) -> None:
        """Keep the first ``keep`` batches; cut the log file after them."""
        if keep >= len(self.batches):
            return
        self.close_files()
        new_size = self.positions[keep] if keep < len(self.positions) else self.size
        del self.batches[keep:]
        del self.bases[keep:]
        del self.positions[keep:]
        self.size = new_size
        self.next_offset = self.batches[-1].next_offset if self.batches else self.base_offset
        os.truncate(self.log_path, new_size)

    def info(self, active: bool) -> SegmentInfo:
        return SegmentInfo(
            base_offset=self.base_offset,
            next_offset=self.next_offset,
            size_bytes=self.size,
            batch_count=len(self.batches),
            created_ms=self.created_ms,
            max_timestamp=self.max_timestamp,
            log_path=self.log_path,
            index_path=self.index_path,
            timeindex_path=self.timeindex_path,
            active=active,
        )


class PartitionLog:
    """The log of one partition replica (Kafka's ``UnifiedLog`` + ``LeaderEpochFileCache``).

    ``clock()`` returns virtual time in milliseconds; it is used for ``segment.ms`` rolling only.
    """

    def __init__(self, directory: Path, config: LogConfig, clock: Callable[[], int]) -> None:
        self.directory = Path(directory)
        self.config = config
        self._clock = clock
        self._segments: list[_Segment] = []
        self._segment_bases: list[int] = []
        self._epochs: list[tuple[int, int]] = []  # (epoch, start offset), strictly increasing in both
        self._closed = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._load()
        self._log_start_offset = self._segments[0].base_offset
        self._high_watermark = self._log_start_offset

    # ------------------------------------------------------------------------------------------------------
    # loading and recovery

    def _load(self) -> None:
        directory = self.directory
        bases: list[int] = []
        for path in directory.iterdir():
            if path.suffix == LOG_SUFFIX and len(path.stem) == 20 and path.stem.isdigit():
                bases.append(int(path.stem))
        bases.sort()
        base_set = set(bases)
        for path in directory.iterdir():  # indexes without a log file, leftover temp files
            stale_index = path.suffix in (INDEX_SUFFIX, TIMEINDEX_SUFFIX) and (
                not path.stem.isdigit() or int(path.stem) not in base_set
            )
            if stale_index or path.name == EPOCH_CHECKPOINT_FILE + ".tmp":
                path.unlink()

        now = self._clock()
        cut = False  # set once a segment had a corrupt tail: every later segment is deleted
        expected = -1
        for base in bases:
            segment = _Segment(directory, base, now)
            if cut or base < expected:
                cut = True
                segment.delete_files()
                continue
            data = segment.log_path.read_bytes()
            batches, _valid = decode_batches(data)
            next_offset = base
            position = 0
            for batch in batches:
                # offsets must increase, and fit the segment's 32-bit relative index
                if batch.base_offset < next_offset or batch.last_offset - base > _MAX_RELATIVE_OFFSET:
                    break
                segment.batches.append(batch)
                segment.bases.append(batch.base_offset)
                segment.positions.append(position)
                position += batch.size_bytes
                next_offset = batch.next_offset
            segment.size = position
            segment.next_offset = next_offset
            if position < len(data):
                os.truncate(segment.log_path, position)
                cut = True
            expected = next_offset
            self._segments.append(segment)
        if not self._segments:
            segment = _Segment(directory, 0, now)
            segment.create_files()
            self._segments.append(segment)
        last = len(self._segments) - 1
        for i, segment in enumerate(self._segments):
            segment.rebuild_indexes(self.config.index_interval_bytes, inactive=i < last)
        self._segment_bases = [s.base_offset for s in self._segments]

        self._epochs = self._read_epoch_checkpoint()
        leo = self.log_end_offset
        trimmed = [(e, s) for e, s in self._epochs if s < leo]
        if trimmed != self._epochs:
            self._epochs = trimmed
            self._write_epoch_checkpoint()

    def _read_epoch_checkpoint(self) -> list[tuple[int, int]]:
        path = self.directory / EPOCH_CHECKPOINT_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        lines = text.splitlines()
        try:
            version = int(lines[0])
            count = int(lines[1])
            if version != 0 or count != len(lines) - 2:
                raise ValueError("bad header")
            entries: list[tuple[int, int]] = []
            for line in lines[2:]:
                epoch_s, offset_s = line.split()
                entries.append((int(epoch_s), int(offset_s)))
        except (IndexError, ValueError) as exc:
            raise ValueError(f"malformed {path}: {exc}") from exc
        # keep only a strictly increasing prefix (the file is written that way)
        clean: list[tuple[int, int]] = []
        for epoch, start in entries:
            if clean and (epoch <= clean[-1][0] or start < clean[-1][1]):
                break
            clean.append((epoch, start))
        return clean

    def _write_epoch_checkpoint(self) -> None:
        path = self.directory / EPOCH_CHECKPOINT_FILE
        tmp = self.directory / (EPOCH_CHECKPOINT_FILE + ".tmp")
        lines = ["0", str(len(self._epochs))] + [f"{e} {s}" for e, s in self._epochs]
        with open(tmp, "wb", buffering=0) as f:
            f.write(("\n".join(lines) + "\n").encode("ascii"))
        os.replace(tmp, path)

    # ------------------------------------------------------------------------------------------------------
    # offsets

    @property
    def log_start_offset(self) -> int:
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        """LEO: the offset the next appended record gets."""
        return self._segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    def update_high_watermark(self, hw: int) -> int:
        """Set the high watermark, clamped into ``[log_start_offset, log_end_offset]``; return it."""
        hw = max(self._log_start_offset, min(hw, self.log_end_offset))
        self._high_watermark = hw
        return hw

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self._segments)

    # ------------------------------------------------------------------------------------------------------
    # appends

    def _maybe_roll(self, batch: RecordBatch) -> _Segment:
        active = self._segments[-1]
        if active.batches and (
            active.size + batch.size_bytes > self.config.segment_bytes
            or self._clock() - active.created_ms >= self.config.segment_ms
            or batch.last_offset - active.base_offset > _MAX_RELATIVE_OFFSET
        ):
            active.on_become_inactive()
            active = _Segment(self.directory, self.log_end_offset, self._clock())
            active.create_files()
            self._segments.append(active)
            self._segment_bases.append(active.base_offset)
        return active

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"log {self.directory} is closed")

    def append_as_leader(self, batch: RecordBatch, leader_epoch: int) -> RecordBatch:
        """Assign offsets from the LEO and stamp ``leader_epoch``; store the batch and return it."""
        self._check_open()
        leo = self.log_end_offset
        stored = batch.with_offsets(leo, leader_epoch)
        self._maybe_roll(stored).append(stored, self.config.index_interval_bytes)
        if leader_epoch >= 0 and leader_epoch > self.latest_epoch():
            self.assign_epoch(leader_epoch, leo)
        return stored

    def append_as_follower(self, batch: RecordBatch) -> None:
        """Append a batch replicated from the leader; it must start exactly at the LEO."""
        self._check_open()
        leo = self.log_end_offset
        if batch.base_offset != leo:
            raise ValueError(f"follower append at offset {batch.base_offset} but the log end offset is {leo}")
        self._maybe_roll(batch).append(batch, self.config.index_interval_bytes)
        epoch = batch.partition_leader_epoch
        if epoch >= 0 and epoch > self.latest_epoch():
            self.assign_epoch(epoch, batch.base_offset)

    # ------------------------------------------------------------------------------------------------------
    # reads

    def _locate(self, offset: int) -> tuple[int, int]:
        """(segment index, batch index) of the first batch whose last offset is >= ``offset``."""
        si = max(bisect.bisect_right(self._segment_bases, offset) - 1, 0)
        segment = self._segments[si]
        bi = max(bisect.bisect_right(segment.bases, offset) - 1, 0)
        if bi < len(segment.batches) and segment.batches[bi].last_offset < offset:
            bi += 1
        return si, bi

    def read(self, start_offset: int, max_bytes: int, max_offset: int | None = None) -> list[RecordBatch]:
        """Whole batches holding offsets >= ``start_offset``, up to ``max_bytes`` (at least one batch).

        The first batch may start before ``start_offset``, as in Kafka. Batches whose base offset is
        >= ``max_offset`` (the high watermark or last stable offset) are not returned.
        """
        leo = self.log_end_offset
        if start_offset < self._log_start_offset or start_offset > leo:
            raise OffsetOutOfRangeError(start_offset, self._log_start_offset, leo)
        result: list[RecordBatch] = []
        if start_offset == leo:
            return result
        si, bi = self._locate(start_offset)
        segments = self._segments
        total = 0
        for i in range(si, len(segments)):
            batches = segments[i].batches
            for j in range(bi if i == si else 0, len(batches)):
                batch = batches[j]
                if max_offset is not None and batch.base_offset >= max_offset:
                    return result
                size = len(batch.raw)
                if result and total + size > max_bytes:
                    return result
                result.append(batch)
                total += size
        return result

    def iter_batches(self, start_offset: int = 0) -> Iterator[RecordBatch]:
        """Every stored batch holding offsets >= ``start_offset``, in offset order."""
        si, bi = self._locate(start_offset)
        for i in range(si, len(self._segments)):
            batches = self._segments[i].batches
            yield from batches[bi if i == si else 0 :]

    def segments_info(self) -> list[SegmentInfo]:
        last = len(self._segments) - 1
        return [s.info(active=i == last) for i, s in enumerate(self._segments)]

    # ------------------------------------------------------------------------------------------------------
    # truncation

    def truncate_to(self, offset: int) -> None:
        """Remove every record at or after ``offset`` (the whole batch holding ``offset``, if any).

        Segments whose base offset is >= ``offset`` are deleted; one active segment always remains.
        Below the log start offset this becomes :meth:`truncate_fully_and_start_at` (as in Kafka).
        """
        self._check_open()
        if offset < 0:
            raise ValueError("cannot truncate to a negative offset")
        if offset >= self.log_end_offset:
            return
        if offset < self._log_start_offset:
            self.truncate_fully_and_start_at(offset)
            return
        segments = self._segments
        segments[-1].close_files()
        while len(segments) > 1 and segments[-1].base_offset >= offset:
            segments.pop().delete_files()
            self._segment_bases.pop()
        active = segments[-1]
        bi = bisect.bisect_right(active.bases, offset) - 1
        keep = bi if bi >= 0 and active.batches[bi].last_offset >= offset else bi + 1
        active.truncate_batches(keep)
        if not active.batches:
            active.created_ms = self._clock()
        active.rebuild_indexes(self.config.index_interval_bytes, inactive=False)
        leo = self.log_end_offset
        self._high_watermark = min(self._high_watermark, leo)
        self._truncate_epochs_from_end(leo)

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Delete everything; the log restarts empty at ``offset`` (log start = LEO = HW = offset)."""
        self._check_open()
        if offset < 0:
            raise ValueError("cannot start a log at a negative offset")
        for segment in self._segments:
            segment.delete_files()
        segment = _Segment(self.directory, offset, self._clock())
        segment.create_files()
        self._segments = [segment]
        self._segment_bases = [offset]
        self._log_start_offset = offset
        self._high_watermark = offset
        if self._epochs:
            self._epochs = []
            self._write_epoch_checkpoint()

    # ------------------------------------------------------------------------------------------------------
    # leader epoch cache (KIP-101 / KIP-279)

    def latest_epoch(self) -> int:
        return self._epochs[-1][0] if self._epochs else UNDEFINED_EPOCH

    def epoch_entries(self) -> list[tuple[int, int]]:
        return list(self._epochs)

    def assign_epoch(self, epoch: int, start_offset: int) -> None:
        """Record that ``epoch`` starts at ``start_offset``.

        Epochs not greater than the latest one are ignored; entries starting at or after ``start_offset``
        are replaced. The checkpoint file is rewritten atomically.
        """
        if epoch < 0 or start_offset < 0:
            raise ValueError("epoch and start offset must not be negative")
        if self._epochs and epoch <= self._epochs[-1][0]:
            return
        self._epochs = [(e, s) for e, s in self._epochs if s < start_offset]
        self._epochs.append((epoch, start_offset))
        self._write_epoch_checkpoint()

    def _truncate_epochs_from_end(self, end_offset: int) -> None:
        if self._epochs and self._epochs[-1][1] >= end_offset:
            self._epochs = [(e, s) for e, s in self._epochs if s < end_offset]
            self._write_epoch_checkpoint()

    def end_offset_for_epoch(self, requested_epoch: int) -> tuple[int, int]:
        """``LeaderEpochFileCache.endOffsetFor``: (epoch, end offset) for an OffsetsForLeaderEpoch request.

        - requested epoch is the latest one: (latest, LEO);
        - otherwise, with ``floor`` = largest cached epoch <= requested and ``higher`` = the first cached
          epoch > requested: (floor.epoch, higher.start_offset);
        - requested older than every cached epoch: (requested, start offset of the first entry) — as in
          Kafka since 2.1 (the data has been removed; the follower replicates from the leader's start);
        - cache empty, requested undefined (-1) or newer than every cached epoch: (-1, -1).
        """
        epochs = self._epochs
        if requested_epoch == UNDEFINED_EPOCH or not epochs:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if requested_epoch == epochs[-1][0]:
            return requested_epoch, self.log_end_offset
        # first entry with epoch > requested
        hi = bisect.bisect_right([e for e, _ in epochs], requested_epoch)
        if hi == len(epochs):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if hi == 0:
            return requested_epoch, epochs[0][1]
        return epochs[hi - 1][0], epochs[hi][1]

    # ------------------------------------------------------------------------------------------------------

    def close(self) -> None:
        for segment in self._segments:
            segment.close_files()
        self._closed = True

    def __repr__(self) -> str:
        return (
            f"PartitionLog({self.directory.name} start={self._log_start_offset} "
            f"hw={self._high_watermark} leo={self.log_end_offset} segments={len(self._segments)})"
        )
