"""The history of client operations that the checker and the fate ledger read.

Every client appends to one :class:`History` owned by the cluster. Values are expected to be unique per
workload (tests and lessons produce values like ``b"w-17"``), which is what lets the checker tell a lost
write from a duplicate, as in Jepsen's kafka workload.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice, repeat
from typing import NamedTuple, overload

__all__ = ["CHUNK_OPS", "History", "Op", "OP_TYPES"]

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


class History:
    """Append-only history of client operations, cheap on the hot path.

    Operations are stored as plain tuples: clients append to :attr:`tail` (one op, or with
    :meth:`add_batch` a run of ops stored column-wise), and every :data:`CHUNK_OPS` entries are sealed into
    one tuple. CPython's cycle collector stops tracking a tuple that holds only atoms, so a sealed chunk
    (a tuple of such tuples) costs a full collection nothing, where one list of millions of ops would be
    walked every time. Read the ops as :class:`Op` objects through ``ops`` or by iterating.
    """

    def __init__(self) -> None:
        self._sealed: list[tuple[Entry, ...]] = []
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
        for chunk in self._sealed:
            yield from _expand(chunk)
        yield from _expand(self.tail)

    def __iter__(self) -> Iterator[Op]:
        return iter(OpsView(self))

    def __len__(self) -> int:
        return len(self._sealed) * CHUNK_OPS + len(self.tail) + self._extra_ops

    def of_type(self, type_: str) -> list[Op]:
        return [Op._make(t) for t in self.iter_raw() if t[1] == type_]
