"""The history of client operations that the checker and the fate ledger read.

Every client appends to one :class:`History` owned by the cluster. Values are expected to be unique per
workload (tests and lessons produce values like ``b"w-17"``), which is what lets the checker tell a lost
write from a duplicate, as in Jepsen's kafka workload.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

__all__ = ["History", "Op", "OP_TYPES"]

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


#: the fields of an :class:`Op` as a plain tuple, in order (what :attr:`History.raw` holds)
RawOp = tuple[
    int, str, str, str, "int | None", "int | None", "bytes | None", "bytes | None", "str | None", "str | None"
]


class OpsView(Sequence[Op]):
    """The history as :class:`Op` objects, made on demand from the stored plain tuples."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[RawOp]) -> None:
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, i: int) -> Op: ...

    @overload
    def __getitem__(self, i: slice) -> list[Op]: ...

    def __getitem__(self, i: int | slice) -> Op | list[Op]:
        if isinstance(i, slice):
            return [Op._make(t) for t in self._raw[i]]
        return Op._make(self._raw[i])

    def __iter__(self) -> Iterator[Op]:
        make = Op._make
        for t in self._raw:
            yield make(t)


class History:
    """Append-only history of client operations, cheap on the hot path.

    Operations are stored as plain tuples (``raw``): CPython's cycle collector stops tracking a plain tuple
    of atoms, but never a NamedTuple instance, and a long run holds millions of them. Read them as
    :class:`Op` objects through ``ops`` or by iterating.
    """

    def __init__(self) -> None:
        self.raw: list[RawOp] = []
        self.enabled = True

    @property
    def ops(self) -> OpsView:
        return OpsView(self.raw)

    def append(self, op: Op) -> None:
        if self.enabled:
            self.raw.append(tuple(op))  # type: ignore[arg-type]

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
            self.raw.append((time_ms, type_, client, topic, partition, offset, key, value, error, group))

    def __iter__(self) -> Iterator[Op]:
        return iter(OpsView(self.raw))

    def __len__(self) -> int:
        return len(self.raw)

    def of_type(self, type_: str) -> list[Op]:
        return [Op._make(t) for t in self.raw if t[1] == type_]
