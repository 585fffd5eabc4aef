"""The history of client operations that the checker and the fate ledger read.

Every client appends to one :class:`History` owned by the cluster. Values are expected to be unique per
workload (tests and lessons produce values like ``b"w-17"``), which is what lets the checker tell a lost
write from a duplicate, as in Jepsen's kafka workload.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice, repeat
from typing import IO, NamedTuple, overload

from mypy_extensions import mypyc_attr

__all__ = ["CHUNK_OPS", "HISTORY_RAM_CHUNKS", "History", "HistoryMark", "Op", "OP_TYPES"]

#: send      producer.produce() accepted a record (partition chosen, not yet acknowledged)
#: ack       the delivery report said success; ``offset`` is the assigned offset (None under acks=0)
#: fail      the delivery report said failure; ``error`` names the Kafka error
#: consume   consumer.poll() returned the record at ``offset`` to the application
#: process   the application finished processing a consumed record (workloads record this)
#: commit    a consumer's offset commit succeeded: ``offset`` is the next offset to read
#: read_complete  a reader read the partition from its log start up to ``offset`` (the HW at that time)
#:           with no gap: every acknowledged write below ``offset`` must have been seen by then
#: retry     the producer will send the record again after ``error`` (a retriable failure of its batch)
OP_TYPES = ("send", "ack", "fail", "retry", "consume", "process", "commit", "read_complete")


class Op(NamedTuple):
    """One operation of the history (immutable; a NamedTuple because clients create millions)."""

    time_ms: int
    type: str
    client: str
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    value: bytes | None = None
    error: str | None = None
    group: str | None = None

    @property
    def tp(self) -> tuple[str, int] | None:
        return None if self.partition is None else (self.topic, self.partition)


#: the fields of an :class:`Op` as a plain tuple, in order (what a :class:`History` stores)
RawOp = tuple[
    int, str, str, str, "int | None", "int | None", "bytes | None", "bytes | None", "str | None", "str | None"
]


#: a run of ops of one type, client and partition at one time, stored column-wise:
#: (time_ms, type, client, topic, partition, offsets (None: each None), keys, values, group)
BatchOp = tuple[
    int,
    str,
    str,
    str,
    int,
    "range | tuple[int, ...] | None",
    tuple["bytes | None", ...],
    tuple["bytes | None", ...],
    "str | None",
]
Entry = RawOp | BatchOp

#: entries per sealed chunk of a :class:`History`
CHUNK_OPS = 4096
#: sealed chunks a :class:`History` keeps in memory (the newest); older ones are written to a temporary file
#: and read back when the history is iterated. 16 chunks are 65,536 entries, about 12 MB.
HISTORY_RAM_CHUNKS = 16

#: a position in a history: (sealed chunks, entries of the open chunk, extra ops) - see :meth:`History.mark`
HistoryMark = tuple[int, int, int]


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _Spill:
    """An append-only temporary file of sealed chunks, shared by a history and every fork of it.

    The file has no name (``TemporaryFile``), so nothing is left behind however the process ends.
    """

    def __init__(self) -> None:
        self._f: IO[bytes] = tempfile.TemporaryFile(prefix="kafkalab-history-")  # noqa: SIM115 - lives as long as the history
        self._end = 0

    def write(self, chunk: tuple[Entry, ...]) -> tuple[_Spill, int, int]:
        data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
        self._f.seek(self._end)
        self._f.write(data)
        start = self._end
        self._end += len(data)
        return (self, start, len(data))

    def read(self, start: int, length: int) -> tuple[Entry, ...]:
        self._f.seek(start)
        chunk: tuple[Entry, ...] = pickle.loads(self._f.read(length))
        return chunk

    @property
    def size_bytes(self) -> int:
        return self._end


#: a sealed chunk: in memory, or where it was spilled
_Chunk = tuple[Entry, ...] | tuple[_Spill, int, int]


def _load(chunk: _Chunk) -> tuple[Entry, ...]:
    if len(chunk) == 3 and isinstance(chunk[0], _Spill):
        spill, start, length = chunk
        return spill.read(start, length)
    return chunk


def _expand(entries: Iterable[Entry]) -> Iterator[RawOp]:
    for e in entries:
        if len(e) == 10:
            yield e  # type: ignore[misc]
        else:
            time_ms, type_, client, topic, partition, offsets, keys, values, group = e  # type: ignore[misc]
            for offset, key, value in zip(
                repeat(None) if offsets is None else offsets, keys, values, strict=False
            ):
                yield (time_ms, type_, client, topic, partition, offset, key, value, None, group)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class OpsView(Sequence[Op]):
    """The history as :class:`Op` objects, made on demand from the stored plain tuples."""

    __slots__ = ("_history",)

    def __init__(self, history: History) -> None:
        self._history = history

    def __len__(self) -> int:
        return len(self._history)

    @overload
    def __getitem__(self, i: int) -> Op: ...

    @overload
    def __getitem__(self, i: slice) -> list[Op]: ...

    def __getitem__(self, i: int | slice) -> Op | list[Op]:
        """By position (walks the history: iterate instead where you can)."""
        if isinstance(i, slice):
            return [Op._make(t) for t in list(self._history.iter_raw())[i]]
        n = len(self._history)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError("history index out of range")
        return Op._make(next(islice(self._history.iter_raw(), j, None)))

    def __iter__(self) -> Iterator[Op]:
        make = Op._make
        for t in self._history.iter_raw():
            yield make(t)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class History:
    """Append-only history of client operations, cheap on the hot path.

    Operations are stored as plain tuples: clients append to :attr:`tail` (one op, or with
    :meth:`add_batch` a run of ops stored column-wise), and every :data:`CHUNK_OPS` entries are sealed into
    one tuple. CPython's cycle collector stops tracking a tuple that holds only atoms, so a sealed chunk
    (a tuple of such tuples) costs a full collection nothing, where one list of millions of ops would be
    walked every time. Read the ops as :class:`Op` objects through ``ops`` or by iterating.

    Memory stays bounded in long runs: only the newest :data:`HISTORY_RAM_CHUNKS` sealed chunks stay in
    memory, older ones go to an unnamed temporary file and are read back while iterating. A history is
    append-only, so :meth:`mark` and :meth:`fork` give a lab session's time travel a copy of the history as
    it was at a mark for the cost of a list of chunk references.
    """

    def __init__(self) -> None:
        self._sealed: list[_Chunk] = []
        self._spill: _Spill | None = None
        self._in_ram = 0  # index of the oldest sealed chunk still in memory
        #: the open chunk; hot paths append here and call :meth:`seal` now and then
        self.tail: list[Entry] = []
        self._extra_ops = 0  # ops beyond one per entry, from add_batch
        self.enabled = True

    @property
    def ops(self) -> OpsView:
        return OpsView(self)

    def seal(self) -> None:
        """Move every full chunk of :attr:`tail` into the sealed part (the list object stays the same)."""
        tail = self.tail
        while len(tail) >= CHUNK_OPS:
            self._sealed.append(tuple(tail[:CHUNK_OPS]))
            del tail[:CHUNK_OPS]
        sealed = self._sealed
        while len(sealed) - self._in_ram > HISTORY_RAM_CHUNKS:
            if self._spill is None:
                self._spill = _Spill()
            i = self._in_ram
            chunk = sealed[i]
            if not (len(chunk) == 3 and isinstance(chunk[0], _Spill)):
                sealed[i] = self._spill.write(chunk)
            self._in_ram += 1

    # -- marks and forks (time travel) -------------------------------------------------------------
    def mark(self) -> HistoryMark:
        """Where the history ends now; :meth:`fork` makes a history that ends there again."""
        return (len(self._sealed), len(self.tail), self._extra_ops)

    def fork(self, mark: HistoryMark) -> History:
        """A new history holding exactly the entries before ``mark`` (sealed chunks are shared, not copied)."""
        n, tail_len, extra = mark
        h = History()
        h.enabled = self.enabled
        h._spill = self._spill
        h._sealed = self._sealed[:n]
        h._in_ram = min(self._in_ram, n)
        if n < len(self._sealed):
            h.tail = list(_load(self._sealed[n])[:tail_len])
        else:
            h.tail = self.tail[:tail_len]
        h._extra_ops = extra
        return h

    def entries_since(self, mark: HistoryMark) -> Iterator[RawOp]:
        """The ops added after ``mark`` (as plain tuples), in order."""
        n, tail_len, _extra = mark
        sealed = self._sealed
        if n >= len(sealed):
            yield from _expand(self.tail[tail_len:])
            return
        yield from _expand(_load(sealed[n])[tail_len:])
        for chunk in sealed[n + 1 :]:
            yield from _expand(_load(chunk))
        yield from _expand(list(self.tail))

    def op_times(
        self, types: frozenset[str], start: HistoryMark, end: HistoryMark | None = None
    ) -> list[int]:
        """The times of the ops of ``types`` added after ``start`` and up to ``end`` (default: now), in
        order; a run of ops stored together counts once (it has one time)."""
        n0, a, _x0 = start
        n1, b, _x1 = end if end is not None else self.mark()
        sealed = self._sealed
        out: list[int] = []
        i = n0
        while i <= n1:
            chunk: Sequence[Entry] = _load(sealed[i]) if i < len(sealed) else self.tail
            lo = a if i == n0 else 0
            hi = b if i == n1 else len(chunk)
            out.extend(e[0] for e in chunk[lo:hi] if e[1] in types)
            if i >= len(sealed):
                break
            i += 1
        return out

    @property
    def spilled_bytes(self) -> int:
        """Bytes of older chunks written to the spill file (shared with forks)."""
        return self._spill.size_bytes if self._spill is not None else 0

    def append(self, op: Op) -> None:
        if self.enabled:
            self.tail.append(tuple(op))  # type: ignore[arg-type]
            if len(self.tail) >= CHUNK_OPS:
                self.seal()

    def add(
        self,
        time_ms: int,
        type_: str,
        client: str,
        topic: str,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
        value: bytes | None = None,
        error: str | None = None,
        group: str | None = None,
    ) -> None:
        if self.enabled:
            self.tail.append((time_ms, type_, client, topic, partition, offset, key, value, error, group))
            if len(self.tail) >= CHUNK_OPS:
                self.seal()

    def add_batch(
        self,
        time_ms: int,
        type_: str,
        client: str,
        topic: str,
        partition: int,
        offsets: range | tuple[int, ...] | None,
        keys: tuple[bytes | None, ...],
        values: tuple[bytes | None, ...],
        group: str | None = None,
    ) -> None:
        """One op per key (all of ``type_``, at ``time_ms``, no error) in a single entry."""
        if self.enabled and keys:
            self.tail.append((time_ms, type_, client, topic, partition, offsets, keys, values, group))
            self._extra_ops += len(keys) - 1
            if len(self.tail) >= CHUNK_OPS:
                self.seal()

    def iter_raw(self) -> Iterator[RawOp]:
        """Every op as a plain tuple, in order."""
        for chunk in list(self._sealed):
            yield from _expand(_load(chunk))
        yield from _expand(list(self.tail))

    def __iter__(self) -> Iterator[Op]:
        return iter(OpsView(self))

    def __len__(self) -> int:
        return len(self._sealed) * CHUNK_OPS + len(self.tail) + self._extra_ops

    def of_type(self, type_: str) -> list[Op]:
        return [Op._make(t) for t in self.iter_raw() if t[1] == type_]
