"""The history of client operations that the checker and the fate ledger read.

Every client appends to one :class:`History` owned by the cluster. Values are expected to be unique per
workload (tests and lessons produce values like ``b"w-17"``), which is what lets the checker tell a lost
write from a duplicate, as in Jepsen's kafka workload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

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


class History:
    """Append-only list of :class:`Op`; cheap to append on the hot path."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.enabled = True

    def append(self, op: Op) -> None:
        if self.enabled:
            self.ops.append(op)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def of_type(self, type_: str) -> list[Op]:
        return [op for op in self.ops if op.type == type_]
