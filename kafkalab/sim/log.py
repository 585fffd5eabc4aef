"""A partition log stored in real Kafka-style segment files, with crash recovery and a leader-epoch cache.

Directory layout (as in a Kafka log dir for one partition)::

    00000000000000000000.log        record batches (v2), back to back
    00000000000000000000.index      sparse offset index: int32 relative offset, int32 file position
    00000000000000000000.timeindex  time index: int64 timestamp, int32 relative offset
    leader-epoch-checkpoint         "0", entry count, then "epoch startOffset" lines
    log-start-offset-checkpoint     "0" then the log start offset (see below)
    cleaner-offset-checkpoint       "0" then the first dirty offset of the log cleaner (see below)

Files are written through unbuffered file objects, so every appended byte is in the OS as soon as the
append returns: dropping a :class:`PartitionLog` without ``close()`` (a simulated process kill) loses
nothing, like Kafka's page cache surviving a JVM crash. Reopening the directory recovers from the files,
which are the source of truth; batches are also kept in memory so reads never re-decode files.

Indexes follow ``kafka.log.LogSegment``: before appending a batch, if more than ``index.interval.bytes``
were appended since the last index entry, an offset index entry (batch last offset, batch position) is
added together with a time index entry (max timestamp so far, offset of that batch) when the max timestamp
grew. A segment that stops being active gets a final time index entry (``onBecomeInactiveSegment``).

Retention (:meth:`PartitionLog.delete_old_segments`) follows ``UnifiedLog.deleteOldSegments``: segments are
deleted oldest first while a rule holds, never past the high watermark. Kafka keeps the log start offset of
every partition of a log dir in one ``log-start-offset-checkpoint`` file ("topic partition offset" lines);
here each partition directory holds its own ``log-start-offset-checkpoint`` with a version line ("0") and the
offset. On open the log start offset is ``max(checkpoint, base offset of the first segment)``, as in
``LogLoader``. Likewise Kafka's per-log-dir ``cleaner-offset-checkpoint`` becomes a per-partition file holding
the first dirty offset (the end of the last cleaning).

Compaction (:meth:`PartitionLog.clean`) follows ``LogCleaner``/``Cleaner.doClean``/``LogCleanerManager``; see
its docstring. Cleaned segments are written to ``<base>.log.cleaned`` (and ``.index.cleaned``,
``.timeindex.cleaned``), renamed to ``.swap``, the replaced segments are deleted and the swap files renamed
into place (Kafka's ``replaceSegments``). On open, ``.cleaned`` files are deleted and a ``.log.swap`` file
completes its swap: segments whose base offset lies in the swapped segment's offset range are deleted and the
swap file renamed (``LogLoader``); other leftover ``.swap`` files are index files, deleted (indexes are always
rebuilt on open).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import shutil
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mypy_extensions import mypyc_attr

from kafkalab.sim.records import Record, RecordBatch, decode_batches, encode_records

__all__ = [
    "CLEANER_CHECKPOINT_FILE",
    "DELETE_HORIZON_FLAG",
    "EPOCH_CHECKPOINT_FILE",
    "LOG_START_OFFSET_CHECKPOINT_FILE",
    "CleanResult",
    "LogConfig",
    "OffsetOutOfRangeError",
    "PartitionLog",
    "SegmentInfo",
    "build_batch_with_offset_deltas",
    "delete_horizon_ms",
    "detach_file",
    "segment_file_name",
]

EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint"
LOG_START_OFFSET_CHECKPOINT_FILE = "log-start-offset-checkpoint"
CLEANER_CHECKPOINT_FILE = "cleaner-offset-checkpoint"
CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"
_CHECKPOINT_FILES = (EPOCH_CHECKPOINT_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, CLEANER_CHECKPOINT_FILE)
LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIMEINDEX_SUFFIX = ".timeindex"
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1

_INDEX_ENTRY = struct.Struct(">ii")
_TIMEINDEX_ENTRY = struct.Struct(">qi")
_MAX_RELATIVE_OFFSET = 0x7FFFFFFF

#: Batch attribute bit 6 (``DefaultRecordBatch.DELETE_HORIZON_FLAG_MASK``, KIP-534): when set, the batch's
#: baseTimestamp field holds the delete horizon of its tombstones instead of the first record's timestamp.
DELETE_HORIZON_FLAG = 0x40
_ATTR_TIMESTAMP_TYPE = 0x08
_NO_TIMESTAMP = -1


def detach_file(path: Path) -> None:
    """Give ``path`` an inode of its own before changing it in place other than by appending.

    A lab session's time travel checkpoints the data directory by hard-linking its files and noting their
    sizes, which stays true only while files change by appending, by being replaced (``os.replace``) or by
    being deleted. Every in-place truncation or rewrite in this module calls this first; a file that no
    checkpoint shares (one link) costs one ``stat``.
    """
    try:
        links = os.stat(path).st_nlink
    except FileNotFoundError:
        return
    if links > 1:
        tmp = path.with_name(path.name + ".detach")
        shutil.copyfile(path, tmp)
        os.replace(tmp, path)


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


# ---------------------------------------------------------------------------------------------------------
# batch encoding for the cleaner


def build_batch_with_offset_deltas(
    records: Sequence[tuple[int, Record]],
    *,
    base_offset: int,
    last_offset_delta: int,
    partition_leader_epoch: int,
    attributes: int,
    producer_id: int,
    producer_epoch: int,
    base_sequence: int,
    max_timestamp: int,
    base_timestamp: int | None = None,
) -> RecordBatch:
    """Encode an uncompressed v2 batch whose records keep explicit (possibly gapped) offset deltas.

    ``RecordBatch.build`` numbers records 0..n-1, which a cleaned batch cannot use: the cleaner keeps the
    original base offset, each kept record's offset delta and the original ``lastOffsetDelta`` (Kafka's
    ``buildRetainedRecordsInto`` + ``overrideLastOffset``, so the producer's last sequence survives).
    ``records`` are ``(offset delta, record)`` pairs in increasing delta order; it may be empty (an empty batch
    header, as ``DefaultRecordBatch.writeEmptyHeader``: baseTimestamp -1, recordsCount 0).
    ``base_timestamp`` defaults to the first record's timestamp; pass the delete horizon together with
    :data:`DELETE_HORIZON_FLAG` in ``attributes``. Record timestamps are stored as deltas from it (possibly
    negative). ``attributes`` must not ask for compression.
    """
    if attributes & 0x07:
        raise ValueError("compressed batches are not supported")
    deltas = [d for d, _ in records]
    if any(b <= a for a, b in zip(deltas, deltas[1:], strict=False)) or (deltas and deltas[0] < 0):
        raise ValueError("offset deltas must be increasing and non-negative")
    if deltas and deltas[-1] > last_offset_delta:
        raise ValueError("an offset delta exceeds last_offset_delta")
    if base_timestamp is None:
        base_timestamp = records[0][1].timestamp_ms if records else _NO_TIMESTAMP
    chunks = [b""]
    encode_records([r for _, r in records], base_timestamp, chunks, deltas)
    contiguous = deltas == list(range(len(deltas)))
    log_append_time = bool(attributes & _ATTR_TIMESTAMP_TYPE)
    return RecordBatch.from_chunks(
        chunks,
        base_offset=base_offset,
        partition_leader_epoch=partition_leader_epoch,
        attributes=attributes,
        last_offset_delta=last_offset_delta,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        record_count=len(records),
        # LogAppendTime records read back with the batch's max timestamp: let them decode lazily
        records=None if log_append_time else tuple(r for _, r in records),
        deltas=None if contiguous or log_append_time else deltas,
    )


def delete_horizon_ms(batch: RecordBatch) -> int | None:
    """The KIP-534 delete horizon of a batch (``RecordBatch.deleteHorizonMs``), None when not set."""
    if batch.attributes & DELETE_HORIZON_FLAG:
        return batch.base_timestamp
    return None


def _policies(config: LogConfig) -> set[str]:
    return {p.strip() for p in config.cleanup_policy.split(",") if p.strip()}


@dataclass(frozen=True, slots=True)
class CleanResult:
    """What one :meth:`PartitionLog.clean` did (Kafka's ``CleanerStats``, trimmed).

    - ``first_dirty_offset`` / ``end_offset``: the dirty range [first dirty, end) that was compacted; ``end``
      is the new cleaner checkpoint.
    - ``dirty_ratio``: dirty bytes / (clean + dirty bytes) before cleaning.
    - ``segments_cleaned``: base offsets of the segments rewritten (the clean part is re-cleaned too, as in
      Kafka); ``segments_after``: base offsets of the segments that replaced them (groups merge).
    - ``records_removed`` counts every record dropped, tombstones included; ``tombstones_removed`` only the
      tombstones among them.
    - ``bytes_before`` / ``bytes_after``: total size of the rewritten segments.
    """

    first_dirty_offset: int
    end_offset: int
    dirty_ratio: float
    segments_cleaned: tuple[int, ...]
    segments_after: tuple[int, ...]
    records_removed: int
    tombstones_removed: int
    bytes_before: int
    bytes_after: int


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

    Retention and compaction are applied when :meth:`PartitionLog.delete_old_segments` and
    :meth:`PartitionLog.clean` are called (Kafka's log manager and log cleaner threads call them).
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


#: write buffer of an active segment's .log file (see _Segment._files)
_WRITE_BUFFER_BYTES = 1 << 18


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
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
        "cuts",
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
        #: how many times the lists above were cut short in place (time travel's checkpoints share their
        #: older parts while this stays the same: every other change appends or replaces a list)
        self.cuts = 0
        self._log_f: BinaryIO | None = None
        self._index_f: BinaryIO | None = None
        self._timeindex_f: BinaryIO | None = None

    # -- files ------------------------------------------------------------------------------------------

    def create_files(self) -> None:
        for path in (self.log_path, self.index_path, self.timeindex_path):
            detach_file(path)
            with open(path, "wb", buffering=0):
                pass

    def _files(self) -> tuple[BinaryIO, BinaryIO, BinaryIO]:
        # Buffered: the buffer stands in for the OS page cache that Kafka's write() goes to. Whatever
        # reads the files flushes first (segments_info, close, truncation), and a broker crash flushes,
        # because what a Kafka broker wrote survives the death of its process.
        if self._log_f is None or self._index_f is None or self._timeindex_f is None:
            self.close_files()
            self._log_f = open(self.log_path, "ab", buffering=_WRITE_BUFFER_BYTES)  # noqa: SIM115 - kept open while active
            self._index_f = open(self.index_path, "ab")  # noqa: SIM115
            self._timeindex_f = open(self.timeindex_path, "ab")  # noqa: SIM115
        return self._log_f, self._index_f, self._timeindex_f

    def flush_files(self) -> None:
        """Hand every buffered write to the OS, so the files hold all that was appended."""
        for f in (self._log_f, self._index_f, self._timeindex_f):
            if f is not None:
                f.flush()

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
        log_f.write(batch.raw)  # a buffered file writes everything it is given
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
            index_f.write(_INDEX_ENTRY.pack(*entry))
            time_entry = self._maybe_time_entry()
            if time_entry is not None:
                timeindex_f.write(_TIMEINDEX_ENTRY.pack(*time_entry))
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
        self.close_files()  # first: the entry goes after whatever is still buffered
        entry = self._maybe_time_entry()
        if entry is not None:
            with open(self.timeindex_path, "ab", buffering=0) as f:
                self._write_all(f, _TIMEINDEX_ENTRY.pack(*entry))

    # -- rebuilding -------------------------------------------------------------------------------------

    @property
    def largest_timestamp(self) -> int:
        """``LogSegment.largestTimestamp``: the max timestamp, or (empty segment) its creation time.

        Kafka falls back to the file's last-modified time; virtual time has no mtime, so the segment's
        creation (or, after a reopen, load) time stands in for it.
        """
        return self.max_timestamp if self.max_timestamp >= 0 else self.created_ms

    def set_batches(self, batches: list[RecordBatch]) -> None:
        """Replace the in-memory batches (positions, size, next offset follow); files are not touched."""
        self.batches = batches
        self.bases = [b.base_offset for b in batches]
        self.positions = []
        position = 0
        for batch in batches:
            self.positions.append(position)
            position += batch.size_bytes
        self.size = position
        self.next_offset = batches[-1].next_offset if batches else self.base_offset

    def index_bytes(self) -> bytes:
        return b"".join(_INDEX_ENTRY.pack(*e) for e in self.index_entries)

    def timeindex_bytes(self) -> bytes:
        return b"".join(_TIMEINDEX_ENTRY.pack(*e) for e in self.time_entries)

    def rebuild_indexes(self, index_interval_bytes: int, inactive: bool) -> None:
        """Recompute every index entry from the batches (as ``LogSegment.recover``) and rewrite the files."""
        self.compute_indexes(index_interval_bytes, inactive)
        detach_file(self.index_path)
        detach_file(self.timeindex_path)
        with open(self.index_path, "wb", buffering=0) as f:
            self._write_all(f, self.index_bytes())
        with open(self.timeindex_path, "wb", buffering=0) as f:
            self._write_all(f, self.timeindex_bytes())

    def compute_indexes(self, index_interval_bytes: int, inactive: bool) -> None:
        """Recompute the index entries and max timestamp from the batches, in memory only."""
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

    def truncate_batches(self, keep: int) -> None:
        """Keep the first ``keep`` batches; cut the log file after them."""
        if keep >= len(self.batches):
            return
        self.close_files()
        new_size = self.positions[keep] if keep < len(self.positions) else self.size
        self.cuts += 1
        del self.batches[keep:]
        del self.bases[keep:]
        del self.positions[keep:]
        self.size = new_size
        self.next_offset = self.batches[-1].next_offset if self.batches else self.base_offset
        detach_file(self.log_path)
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


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class PartitionLog:
    """The log of one partition replica (Kafka's ``UnifiedLog`` + ``LeaderEpochFileCache``).

    ``clock()`` returns virtual time in milliseconds; it is used for ``segment.ms`` rolling only.

    Appends to the active segment are buffered in memory, standing in for the OS page cache: call
    :meth:`flush` (or :meth:`segments_info`, or :meth:`close`) before reading the files of a live log from
    outside, e.g. by opening a second ``PartitionLog`` on the same directory. A broker crash flushes.
    """

    def __init__(self, directory: Path, config: LogConfig, clock: Callable[[], int]) -> None:
        self.directory = Path(directory)
        self.config = config
        self._clock = clock
        self._segments: list[_Segment] = []
        self._segment_bases: list[int] = []
        self._epochs: list[tuple[int, int]] = []  # (epoch, start offset), strictly increasing in both
        self._closed = False
        #: what recovery found and repaired while opening the log (corrupt checkpoints, broken swap files),
        #: one sentence each, for the broker to log
        self.recovery_notes: list[str] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        self._load()
        #: first dirty offset of the log cleaner (Kafka's cleaner-offset-checkpoint); None = never cleaned
        self._cleaner_checkpoint: int | None = self._read_offset_file(CLEANER_CHECKPOINT_FILE)
        self._log_start_offset = self._segments[0].base_offset
        checkpoint = self._read_offset_file(LOG_START_OFFSET_CHECKPOINT_FILE)
        if checkpoint is not None and checkpoint > self.log_end_offset:
            # LogLoader: every segment lies below the checkpointed log start (files were lost): start over there
            self.truncate_fully_and_start_at(checkpoint)
        elif checkpoint is not None:
            self._log_start_offset = max(checkpoint, self._log_start_offset)
            self._truncate_epochs_from_start(self._log_start_offset)
        self._high_watermark = self._log_start_offset
        if self.recovery_notes:  # rewrite what was corrupt from what recovery rebuilt
            with contextlib.suppress(OSError):
                self._write_offset_file(LOG_START_OFFSET_CHECKPOINT_FILE, self._log_start_offset)
                if self._cleaner_checkpoint is None:
                    (self.directory / CLEANER_CHECKPOINT_FILE).unlink(missing_ok=True)

    # ------------------------------------------------------------------------------------------------------
    # loading and recovery

    def _recover_swap_files(self) -> None:
        """Finish or drop an interrupted segment replacement (LogLoader's ``.cleaned`` / ``.swap`` handling)."""
        directory = self.directory
        swap_logs: list[tuple[int, int]] = []  # (base offset, next offset) of each .log.swap
        for path in sorted(directory.iterdir()):
            name = path.name
            if name.endswith(CLEANED_SUFFIX) or name.endswith(".deleted"):
                path.unlink()
            elif name.endswith(LOG_SUFFIX + SWAP_SUFFIX):
                stem = name[: -len(LOG_SUFFIX + SWAP_SUFFIX)]
                if len(stem) != 20 or not stem.isdigit():
                    path.unlink()
                    continue
                data = path.read_bytes()
                batches, valid = decode_batches(data)
                base = int(stem)
                if not batches or valid < len(data) or batches[0].base_offset < base:
                    # .cleaned files become .swap only once complete: a swap file that does not decode to
                    # the end is not one we wrote; the segments it would replace are still there
                    path.unlink()
                    self.recovery_notes.append(
                        f"deleted {name}: not a complete segment ({valid} of {len(data)} bytes are valid "
                        "batches); the existing segments are kept"
                    )
                    continue
                swap_logs.append((base, batches[-1].next_offset))
            elif name.endswith(SWAP_SUFFIX):
                path.unlink()  # index swap files: indexes are rebuilt below anyway
        if not swap_logs:
            return
        low = min(b for b, _ in swap_logs)
        high = max(n for _, n in swap_logs)
        for path in directory.iterdir():
            stem = path.name.split(".", 1)[0]
            if path.name.endswith(SWAP_SUFFIX) or len(stem) != 20 or not stem.isdigit():
                continue
            if low <= int(stem) < high:
                path.unlink()
        for base, _ in swap_logs:
            swap = directory / (segment_file_name(base, LOG_SUFFIX) + SWAP_SUFFIX)
            os.replace(swap, directory / segment_file_name(base, LOG_SUFFIX))

    def _load(self) -> None:
        directory = self.directory
        self._recover_swap_files()
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
            if stale_index or path.name in {name + ".tmp" for name in _CHECKPOINT_FILES}:
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
                detach_file(segment.log_path)
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
        except (OSError, ValueError) as exc:  # unreadable, or not UTF-8
            return self._rebuild_epochs(f"cannot read {EPOCH_CHECKPOINT_FILE} ({exc})")
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
                if entries[-1][0] < 0 or entries[-1][1] < 0:
                    raise ValueError(f"negative value in {line!r}")
        except (IndexError, ValueError) as exc:
            return self._rebuild_epochs(f"{EPOCH_CHECKPOINT_FILE} is malformed ({exc})")
        # keep only a strictly increasing prefix (the file is written that way)
        clean: list[tuple[int, int]] = []
        for epoch, start in entries:
            if clean and (epoch <= clean[-1][0] or start < clean[-1][1]):
                break
            clean.append((epoch, start))
        return clean

    def _rebuild_epochs(self, why: str) -> list[tuple[int, int]]:
        """The leader epoch cache from the batches themselves (each carries its partitionLeaderEpoch), as
        Kafka's segment recovery re-assigns it; the checkpoint is rewritten."""
        entries: list[tuple[int, int]] = []
        for segment in self._segments:
            for batch in segment.batches:
                epoch = batch.partition_leader_epoch
                if epoch >= 0 and (not entries or epoch > entries[-1][0]):
                    entries.append((epoch, batch.base_offset))
        self._epochs = entries
        self.recovery_notes.append(
            f"{why}: rebuilt from the leader epochs of the batches ({len(entries)} entries)"
        )
        with contextlib.suppress(OSError):
            self._write_epoch_checkpoint()
        return entries

    def _read_offset_file(self, name: str) -> int | None:
        """An offset checkpoint of this partition ("0" then the offset), None when absent or corrupt (then
        recovery notes it and the file is rewritten)."""
        path = self.directory / name
        try:
            lines = path.read_text(encoding="utf-8").split()
            if len(lines) != 2 or int(lines[0]) != 0 or int(lines[1]) < 0:
                raise ValueError(f"expected a version line 0 and an offset, got {' '.join(lines)[:40]!r}")
            return int(lines[1])
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, or malformed
            self.recovery_notes.append(f"{name} is corrupt ({exc}): ignored and rewritten")
            return None

    def _write_offset_file(self, name: str, offset: int) -> None:
        path = self.directory / name
        tmp = self.directory / (name + ".tmp")
        detach_file(tmp)
        with open(tmp, "wb", buffering=0) as f:
            f.write(f"0\n{offset}\n".encode("ascii"))
        os.replace(tmp, path)

    def _set_log_start_offset(self, offset: int) -> None:
        self._log_start_offset = offset
        self._high_watermark = max(self._high_watermark, offset)
        self._write_offset_file(LOG_START_OFFSET_CHECKPOINT_FILE, offset)
        self._truncate_epochs_from_start(offset)

    def _set_cleaner_checkpoint(self, offset: int) -> None:
        self._cleaner_checkpoint = offset
        self._write_offset_file(CLEANER_CHECKPOINT_FILE, offset)

    def _maybe_truncate_cleaner_checkpoint(self) -> None:
        """``LogCleanerManager.maybeTruncateCheckpoint`` after a truncation: no further than the active base."""
        active_base = self._segments[-1].base_offset
        if self._cleaner_checkpoint is not None and self._cleaner_checkpoint > active_base:
            self._set_cleaner_checkpoint(active_base)

    def _write_epoch_checkpoint(self) -> None:
        path = self.directory / EPOCH_CHECKPOINT_FILE
        tmp = self.directory / (EPOCH_CHECKPOINT_FILE + ".tmp")
        lines = ["0", str(len(self._epochs))] + [f"{e} {s}" for e, s in self._epochs]
        detach_file(tmp)
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
            # Kafka rolls at the batch's first offset (the LEO, unless a follower copies a gap)
            active = _Segment(self.directory, max(batch.base_offset, self.log_end_offset), self._clock())
            active.create_files()
            self._segments.append(active)
            self._segment_bases.append(active.base_offset)
        return active

    def _roll(self) -> _Segment:
        """Close the active segment and start an empty one at the LEO (``UnifiedLog.roll``)."""
        leo = self.log_end_offset
        self._segments[-1].on_become_inactive()
        active = _Segment(self.directory, leo, self._clock())
        active.create_files()
        self._segments.append(active)
        self._segment_bases.append(leo)
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
        """Append a batch replicated from the leader; it must not start below the LEO.

        It may start above it: a compacted leader log has offset gaps (Kafka only rejects offsets below the
        LEO, ``UnexpectedAppendOffsetException``).
        """
        self._check_open()
        leo = self.log_end_offset
        if batch.base_offset < leo:
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
        """Each segment's files and extent; the files are flushed first, so they can be read."""
        self.flush()
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
        self._maybe_truncate_cleaner_checkpoint()

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
        self._write_offset_file(LOG_START_OFFSET_CHECKPOINT_FILE, offset)
        if self._epochs:
            self._epochs = []
            self._write_epoch_checkpoint()
        self._maybe_truncate_cleaner_checkpoint()

    # ------------------------------------------------------------------------------------------------------
    # log start offset and retention

    def maybe_increment_log_start_offset(self, offset: int) -> bool:
        """``UnifiedLog.maybeIncrementLogStartOffset``: move the log start offset up to ``offset``.

        Used by DeleteRecords and by followers adopting the leader's log start offset. Never moves it down
        (returns False then); raises :class:`OffsetOutOfRangeError` above the high watermark. Segments wholly
        below the new start are removed by the next :meth:`delete_old_segments`; reads below it fail now.
        The new value is checkpointed at once (Kafka checkpoints periodically).
        """
        self._check_open()
        if offset > self._high_watermark:
            raise OffsetOutOfRangeError(offset, self._log_start_offset, self._high_watermark)
        if offset <= self._log_start_offset:
            return False
        self._set_log_start_offset(offset)
        return True

    def delete_old_segments(self, now_ms: int) -> list[int]:
        """``UnifiedLog.deleteOldSegments``: delete closed segments; return their base offsets, oldest first.

        Three passes, each from the oldest segment and stopping at the first that does not qualify:

        1. (every policy) segments whose next segment starts at or below the log start offset;
        2. (``delete`` policy, ``retention.bytes`` >= 0 and size >= it) with ``diff = size - retention.bytes``,
           a segment goes while ``diff - segment size >= 0`` (and diff shrinks by its size);
        3. (``delete`` policy, ``retention.ms`` >= 0) ``now_ms - largest timestamp > retention.ms``.

        A segment qualifies only if its exclusive upper bound (the next segment's base offset, or the LEO for
        the active segment) is <= the high watermark, so the log start offset never passes the HW. As in
        Kafka (``deletableSegments``), a non-empty active segment qualifies too: when every segment goes, the
        log first rolls a new empty segment at the LEO, so afterwards log start offset = LEO. An empty active
        segment is never deleted. The log start offset advances to the first remaining segment's base offset.
        """
        self._check_open()
        deleted = self._delete_segments_while(
            lambda i: (
                i + 1 < len(self._segments) and self._segments[i + 1].base_offset <= self._log_start_offset
            )
        )
        if "delete" not in _policies(self.config):
            return deleted
        retention_bytes = self.config.retention_bytes
        size = self.size_bytes
        if retention_bytes >= 0 and size >= retention_bytes:
            diff = size - retention_bytes

            def breaches_size(i: int) -> bool:
                nonlocal diff
                segment_size = self._segments[i].size
                if diff - segment_size >= 0:
                    diff -= segment_size
                    return True
                return False

            deleted += self._delete_segments_while(breaches_size)
        retention_ms = self.config.retention_ms
        if retention_ms >= 0:
            deleted += self._delete_segments_while(
                lambda i: now_ms - self._segments[i].largest_timestamp > retention_ms
            )
        return deleted

    def _delete_segments_while(self, predicate: Callable[[int], bool]) -> list[int]:
        """Delete segments from the oldest while ``predicate(index)`` holds and they end at or below the HW
        (``UnifiedLog.deletableSegments`` + ``deleteSegments``)."""
        count = 0
        segments = self._segments
        n = len(segments)
        while count < n:
            last = count == n - 1
            if last and not segments[count].batches:  # an empty active segment is never deleted
                break
            upper = self.log_end_offset if last else segments[count + 1].base_offset
            if not (self._high_watermark >= upper and predicate(count)):
                break
            count += 1
        if count == 0:
            return []
        if count == n:  # a log always keeps one segment: roll a new (empty) one at the LEO first
            self._roll()
        doomed = segments[:count]
        new_start = segments[count].base_offset
        if new_start > self._log_start_offset:
            self._set_log_start_offset(new_start)
        del segments[:count]
        del self._segment_bases[:count]
        for segment in doomed:
            segment.delete_files()
        return [s.base_offset for s in doomed]

    # ------------------------------------------------------------------------------------------------------
    # compaction (the log cleaner)

    @property
    def cleaner_checkpoint(self) -> int | None:
        """The cleaner's checkpointed first dirty offset (None before the first cleaning)."""
        return self._cleaner_checkpoint

    def _segment_range(self, start: int, end: int) -> range:
        """Indexes of the segments overlapping ``[start, end)`` (Kafka's ``logSegments(from, to)``)."""
        if start >= end:
            return range(0)
        first = max(bisect.bisect_right(self._segment_bases, start) - 1, 0)
        last = bisect.bisect_left(self._segment_bases, end)
        return range(first, last)

    def _cleanable_offsets(self, now_ms: int, last_stable_offset: int | None) -> tuple[int, int]:
        """``LogCleanerManager.cleanableOffsets`` + ``calculateCleanableBytes``: (first dirty, first uncleanable).

        The first uncleanable offset is the smallest of the last stable offset (the HW unless given), the
        active segment's base and the base of the first dirty closed segment holding a record newer than
        ``min.compaction.lag.ms``; it is then rounded down to the base of the segment holding it, so only whole
        closed segments are ever cleaned.
        """
        start = self._log_start_offset
        first_dirty = self._cleaner_checkpoint if self._cleaner_checkpoint is not None else start
        if first_dirty < start or first_dirty > self.log_end_offset:
            first_dirty = start
        active_base = self._segments[-1].base_offset
        lso = self._high_watermark if last_stable_offset is None else last_stable_offset
        uncleanable = min(lso, active_base)
        lag = max(self.config.min_compaction_lag_ms, 0)
        if lag > 0:
            for i in self._segment_range(first_dirty, active_base):
                segment = self._segments[i]
                if segment.largest_timestamp > now_ms - lag:
                    uncleanable = min(uncleanable, segment.base_offset)
                    break
        uncleanable = max(first_dirty, uncleanable)
        if uncleanable < active_base:
            index = bisect.bisect_right(self._segment_bases, uncleanable) - 1
            uncleanable = self._segment_bases[max(index, 0)]
        else:
            uncleanable = active_base
        return first_dirty, uncleanable

    def _dirty_stats(self, now_ms: int, last_stable_offset: int | None) -> tuple[int, int, int, int]:
        """(first dirty, first uncleanable, clean bytes, cleanable bytes), as ``LogToClean``."""
        first_dirty, uncleanable = self._cleanable_offsets(now_ms, last_stable_offset)
        clean_bytes = sum(self._segments[i].size for i in self._segment_range(-1, first_dirty))
        dirty_bytes = sum(
            self._segments[i].size for i in self._segment_range(min(first_dirty, uncleanable), uncleanable)
        )
        return first_dirty, uncleanable, clean_bytes, dirty_bytes

    def dirty_ratio(self, now_ms: int, last_stable_offset: int | None = None) -> float:
        """Cleanable (dirty) bytes / (clean + cleanable bytes); 0.0 for an empty log."""
        _first, _end, clean_bytes, dirty_bytes = self._dirty_stats(now_ms, last_stable_offset)
        total = clean_bytes + dirty_bytes
        return dirty_bytes / total if total else 0.0

    def clean(
        self,
        now_ms: int,
        *,
        last_stable_offset: int | None = None,
        producer_last_offsets: Mapping[int, int] | None = None,
    ) -> CleanResult | None:
        """Compact the closed segments below the first uncleanable offset, as Kafka's log cleaner.

        Returns None (nothing done) unless ``cleanup.policy`` has ``compact``, the log is not empty and the
        dirty ratio is strictly greater than ``min.cleanable.dirty.ratio`` (``grabFilthiestCompactedLog``).
        Then (``Cleaner.doClean``):

        - an offset map key -> latest offset is built from the dirty range [first dirty, first uncleanable);
          keyless records and control batches are not mapped;
        - every segment below the first uncleanable offset (the clean part too) is rewritten, grouped with its
          neighbours while the group's total size stays <= ``segment.bytes`` (``groupSegmentsBySize``);
        - a record is kept when its offset is past the map's latest offset, or it has a key, its offset is >=
          the mapped offset for the key, and it has a value or is a tombstone whose batch delete horizon is
          unset or still in the future. Keyless records are dropped (Kafka counts them as invalid: compacted
          topics reject them at produce time);
        - tombstones follow KIP-534: the first cleaning that keeps a tombstone rewrites its batch with the
          delete-horizon attribute bit set and baseTimestamp = ``now_ms + delete.retention.ms``; a later
          cleaning at or after that horizon drops it;
        - a rewritten batch keeps its base offset, last offset delta, leader epoch, producer id/epoch and base
          sequence, and its kept records keep their offsets (gaps appear). A batch left without records is
          dropped, except the last data batch of a producer (``producer_last_offsets``: producer id -> last
          offset of its last data batch; by default computed from the whole log), kept as an empty batch so
          the producer's sequence state survives;
        - control batches are kept as they are (aborted-transaction removal is not modelled yet: see
          :meth:`_discard_batch`);
        - the cleaner checkpoint becomes the first uncleanable offset (Kafka uses the offset map's latest offset
          + 1, which is the same segment boundary here since the map never fills up).
        """
        self._check_open()
        if "compact" not in _policies(self.config):
            return None
        first_dirty, end, clean_bytes, dirty_bytes = self._dirty_stats(now_ms, last_stable_offset)
        total = clean_bytes + dirty_bytes
        if total == 0:
            return None
        ratio = dirty_bytes / total
        if not ratio > self.config.min_cleanable_dirty_ratio:
            return None

        # offset map of the dirty range
        offset_map: dict[bytes, int] = {}
        latest_offset = -1
        for i in self._segment_range(first_dirty, end):
            for batch in self._segments[i].batches:
                if batch.last_offset < first_dirty:
                    continue
                if not batch.is_control and not self._discard_batch(batch):
                    for offset, record in batch.iter_records():
                        if record.key is not None and offset >= first_dirty:
                            offset_map[record.key] = offset
                latest_offset = max(latest_offset, batch.last_offset)

        if producer_last_offsets is None:
            last_of_producer: dict[int, int] = {}
            for segment in self._segments:
                for batch in segment.batches:
                    if batch.producer_id >= 0 and not batch.is_control:
                        last_of_producer[batch.producer_id] = batch.last_offset
            producer_last_offsets = last_of_producer

        stats = [0, 0]  # records removed, tombstones removed
        cleaned_bases: list[int] = []
        new_bases: list[int] = []
        bytes_before = bytes_after = 0
        count = bisect.bisect_left(self._segment_bases, end)  # segments [0, count) are cleaned
        i = 0
        while i < count:
            # groupSegmentsBySize: consecutive segments while the summed (pre-clean) size fits segment.bytes
            j = i + 1
            group_size = self._segments[i].size
            while (
                j < count
                and group_size + self._segments[j].size <= self.config.segment_bytes
                and (
                    self._segments[j].size == 0
                    or self._segments[j].next_offset - 1 - self._segments[i].base_offset
                    <= _MAX_RELATIVE_OFFSET
                )
            ):
                group_size += self._segments[j].size
                j += 1
            group = self._segments[i:j]
            out: list[RecordBatch] = []
            for segment in group:
                for batch in segment.batches:
                    kept = self._clean_batch(
                        batch, offset_map, latest_offset, now_ms, producer_last_offsets, stats
                    )
                    if kept is not None:
                        out.append(kept)
            cleaned_bases.extend(s.base_offset for s in group)
            bytes_before += group_size
            new_segment = self._replace_segments(i, j, out)
            new_bases.append(new_segment.base_offset)
            bytes_after += new_segment.size
            count -= j - i - 1
            i += 1
        self._set_cleaner_checkpoint(end)
        return CleanResult(
            first_dirty_offset=first_dirty,
            end_offset=end,
            dirty_ratio=ratio,
            segments_cleaned=tuple(cleaned_bases),
            segments_after=tuple(new_bases),
            records_removed=stats[0],
            tombstones_removed=stats[1],
            bytes_before=bytes_before,
            bytes_after=bytes_after,
        )

    def _discard_batch(self, batch: RecordBatch) -> bool:
        """Whether a whole batch is to be discarded (Kafka's ``shouldDiscardBatch``).

        Kafka discards data batches of aborted transactions and, once the delete horizon has passed, the
        markers of transactions with no data left. Transactions are not modelled by the cleaner yet: nothing is
        discarded. Adding it means collecting aborted (producer id, first offset, last offset) ranges and
        answering True here for their data batches (they then also stay out of the offset map).
        """
        return False

    def _clean_batch(
        self,
        batch: RecordBatch,
        offset_map: Mapping[bytes, int],
        latest_offset: int,
        now_ms: int,
        producer_last_offsets: Mapping[int, int],
        stats: list[int],
    ) -> RecordBatch | None:
        """``MemoryRecords.filterTo`` for one batch with the cleaner's filter; None when the batch goes."""
        if batch.is_control:
            return batch  # markers are kept until transactions are modelled (see _discard_batch)
        discard = self._discard_batch(batch)
        retain_empty = (
            batch.producer_id >= 0 and producer_last_offsets.get(batch.producer_id) == batch.last_offset
        )
        horizon = delete_horizon_ms(batch)
        retain_deletes = horizon is None or now_ms < horizon
        kept: list[tuple[int, Record]] = []
        for offset, record in batch.iter_records():
            if discard:
                keep = False
            elif offset > latest_offset:
                keep = True
            elif record.key is None:
                keep = False
            else:
                keep = offset >= offset_map.get(record.key, -1) and (
                    record.value is not None or retain_deletes
                )
            if keep:
                kept.append((offset - batch.base_offset, record))
            else:
                stats[0] += 1
                if record.value is None:
                    stats[1] += 1
        if not kept and not retain_empty:
            return None
        if not kept:  # DefaultRecordBatch.writeEmptyHeader
            attributes = batch.attributes & ~DELETE_HORIZON_FLAG & ~0x07
            return build_batch_with_offset_deltas(
                [],
                base_offset=batch.base_offset,
                last_offset_delta=batch.last_offset_delta,
                partition_leader_epoch=batch.partition_leader_epoch,
                attributes=attributes,
                producer_id=batch.producer_id,
                producer_epoch=batch.producer_epoch,
                base_sequence=batch.base_sequence,
                max_timestamp=batch.max_timestamp,
                base_timestamp=_NO_TIMESTAMP,
            )
        contains_tombstones = any(record.value is None for _, record in kept)
        set_horizon = contains_tombstones and horizon is None
        if len(kept) == batch.record_count and not set_horizon:
            return batch  # written as is
        new_horizon = now_ms + self.config.delete_retention_ms if set_horizon else horizon
        attributes = batch.attributes & ~DELETE_HORIZON_FLAG
        if new_horizon is not None:
            attributes |= DELETE_HORIZON_FLAG
        if batch.attributes & _ATTR_TIMESTAMP_TYPE:
            max_timestamp = batch.max_timestamp
        else:
            max_timestamp = max(record.timestamp_ms for _, record in kept)
        return build_batch_with_offset_deltas(
            kept,
            base_offset=batch.base_offset,
            last_offset_delta=batch.last_offset_delta,
            partition_leader_epoch=batch.partition_leader_epoch,
            attributes=attributes,
            producer_id=batch.producer_id,
            producer_epoch=batch.producer_epoch,
            base_sequence=batch.base_sequence,
            max_timestamp=max_timestamp,
            base_timestamp=new_horizon,
        )

    def _replace_segments(self, i: int, j: int, batches: list[RecordBatch]) -> _Segment:
        """Swap segments ``[i, j)`` (closed) for one segment holding ``batches``, at ``segments[i]``'s base.

        Kafka's ``replaceSegments``: write ``.cleaned`` files, rename them to ``.swap``, delete the old
        segments, rename the swap files into place. The result stays a closed segment.
        """
        old = self._segments[i:j]
        new = _Segment(self.directory, old[0].base_offset, old[0].created_ms)
        new.set_batches(batches)
        new.compute_indexes(self.config.index_interval_bytes, inactive=True)
        payloads = (
            (new.index_path, new.index_bytes()),
            (new.timeindex_path, new.timeindex_bytes()),
            (new.log_path, b"".join(b.raw for b in batches)),  # the log file last: its swap marks completion
        )
        for path, data in payloads:
            cleaned = path.with_name(path.name + CLEANED_SUFFIX)
            detach_file(cleaned)
            with open(cleaned, "wb", buffering=0) as f:
                _Segment._write_all(f, data)
        for path, _data in payloads:
            os.replace(path.with_name(path.name + CLEANED_SUFFIX), path.with_name(path.name + SWAP_SUFFIX))
        for segment in old:
            segment.delete_files()
        for path, _data in reversed(payloads):
            os.replace(path.with_name(path.name + SWAP_SUFFIX), path)
        self._segments[i:j] = [new]
        self._segment_bases[i:j] = [new.base_offset]
        return new

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

    def _truncate_epochs_from_start(self, start_offset: int) -> None:
        """``LeaderEpochFileCache.truncateFromStart``: entries at or below the new log start offset collapse
        into one entry (the latest of them) starting at it."""
        below = [(e, s) for e, s in self._epochs if s <= start_offset]
        if not below or (len(below) == 1 and below[0][1] == start_offset):
            return
        self._epochs = [(below[-1][0], start_offset)] + [(e, s) for e, s in self._epochs if s > start_offset]
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

    def flush(self) -> None:
        """Hand buffered appends to the OS (what a crash of the broker process must not lose)."""
        for segment in self._segments:
            segment.flush_files()

    def close(self) -> None:
        for segment in self._segments:
            segment.close_files()
        self._closed = True

    def __repr__(self) -> str:
        return (
            f"PartitionLog({self.directory.name} start={self._log_start_offset} "
            f"hw={self._high_watermark} leo={self.log_end_offset} segments={len(self._segments)})"
        )
