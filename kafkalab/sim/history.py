"""The history of client operations that the checker and the fate ledger read.

Every client appends to one :class:`History` owned by the cluster. Values are expected to be unique per
workload (tests and lessons produce values like ``b"w-17"``), which is what lets the checker tell a lost
write from a duplicate, as in Jepsen's kafka workload.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


#: ops per sealed chunk of a :class:`History`
CHUNK_OPS = 4096


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
        if isinstance(i, slice):
            return [Op._make(t) for t in list(self._history.iter_raw())[i]]
        return Op._make(self._history.raw_at(i))

    def __iter__(self) -> Iterator[Op]:
        make = Op._make
        for t in self._history.iter_raw():
            yield make(t)


class History:
    """Append-only history of client operations, cheap on the hot path.

    Operations are stored as plain tuples: clients append to :attr:`tail`, and every
    :data:`CHUNK_OPS` of them are sealed into one tuple. CPython's cycle collector stops tracking a tuple
    that holds only atoms, so a sealed chunk (a tuple of such tuples) costs a full collection nothing,
    where one list of millions of ops would be walked every time. Read the ops as :class:`Op` objects
    through ``ops`` or by iterating.
    """

    def __init__(self) -> None:
        self._sealed: list[tuple[RawOp, ...]] = []
        #: the open chunk; hot paths append here and call :meth:`seal` now and then
        self.tail: list[RawOp] = []
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

    def iter_raw(self) -> Iterator[RawOp]:
        """Every op as a plain tuple, in order."""
        for chunk in self._sealed:
            yield from chunk
        yield from self.tail

    def raw_at(self, i: int) -> RawOp:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("history index out of range")
        sealed_ops = len(self._sealed) * CHUNK_OPS
        if i < sealed_ops:
            return self._sealed[i // CHUNK_OPS][i % CHUNK_OPS]
        return self.tail[i - sealed_ops]

    def __iter__(self) -> Iterator[Op]:
        return iter(OpsView(self))

    def __len__(self) -> int:
        return len(self._sealed) * CHUNK_OPS + len(self.tail)

    def of_type(self, type_: str) -> list[Op]:
        return [Op._make(t) for t in self.iter_raw() if t[1] == type_]
