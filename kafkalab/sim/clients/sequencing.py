"""What the producer keeps per batch and per partition, and the idempotence rules for sending (KIP-98, KIP-360).

Split out of :mod:`kafkalab.sim.clients.producer`, which explains the rules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from mypy_extensions import mypyc_attr

from ..errors import KafkaError
from ..records import RecordBatch, RecordRow
from .common import Message

__all__ = ["MAX_UNACKED_BATCHES", "TOPIC_PROPAGATION_MAX_MS", "may_send", "prune_window"]

#: per-record overhead in a v2 batch, roughly (for batch.size accounting)
_RECORD_OVERHEAD = 8
_BATCH_OVERHEAD = 61

Callback = Callable[[KafkaError | None, Message], None]


#: librdkafka's ``topic.metadata.propagation.max.ms``: how long a topic may look absent before its queued
#: records fail with _UNKNOWN_TOPIC (a broker that has just restarted may not know it yet)
TOPIC_PROPAGATION_MAX_MS = 30000
_MAX_SEQUENCE = 0x7FFFFFFF
#: batches a broker remembers per producer and partition to recognise retries (and so the most batches
#: the producer sends past the oldest one without an answer)
MAX_UNACKED_BATCHES = 5
#: the largest epoch an idempotent producer bumps to before it asks for a new producer id
_MAX_EPOCH = 32766

Pending = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...], int, Callback | None, int]


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _Batch:
    __slots__ = (
        "topic",
        "partition",
        "records",
        "callbacks",
        "size",
        "created_ms",
        "deadline_ms",
        "attempts",
        "sequence",
        "producer_id",
        "producer_epoch",
        "retry_at_ms",
        "built",
        "closed",
        "last_error",
        "order",
    )

    def __init__(self, topic: str, partition: int, now_ms: int, deadline_ms: int, order: int) -> None:
        self.topic = topic
        self.partition = partition
        self.records: list[RecordRow] = []
        self.callbacks: list[Callback | None] = []
        self.size = _BATCH_OVERHEAD
        self.created_ms = now_ms
        self.deadline_ms = deadline_ms
        self.attempts = 0
        #: -1 until the batch is first sent; then kept (with its producer id and epoch) for every retry
        self.sequence = -1
        self.producer_id = -1
        self.producer_epoch = -1
        self.retry_at_ms = 0
        self.built: RecordBatch | None = None
        self.closed = False
        self.last_error: str | None = None
        #: creation order within the partition = send order: retries go back to their place by it
        self.order = order


def _order(b: _Batch) -> int:
    return b.order


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _TpState:
    __slots__ = (
        "unsent",
        "in_flight",
        "next_sequence",
        "retrying",
        "producer_id",
        "producer_epoch",
        "last_acked_sequence",
        "unresolved",
        "restarting",
        "window",
    )

    def __init__(self) -> None:
        self.unsent: deque[_Batch] = deque()
        self.in_flight: list[_Batch] = []
        self.next_sequence = 0
        #: a batch of this partition is being retried: send one batch at a time to keep order
        self.retrying = False
        #: the producer id and epoch this partition's sequences belong to
        self.producer_id = -1
        self.producer_epoch = -1
        self.last_acked_sequence = -1
        #: a batch failed after it was sent: its fate is unknown until every sent batch has an answer
        self.unresolved = False
        #: the broker lost this partition's sequences: it starts again at sequence 0 of a new epoch
        self.restarting = False
        #: base sequences of the batches sent since the oldest one without an answer, in send order: at
        #: most 5, because the broker remembers the last 5 batches of a producer to recognise retries
        self.window: deque[int] = deque()

    def outstanding_sequences(self) -> bool:
        """Batches with a sequence that have no final answer yet (sent, or waiting for a retry)."""
        return bool(self.in_flight) or any(b.sequence >= 0 for b in self.unsent)


def may_send(st: _TpState, b: _Batch, producer_id: int, producer_epoch: int) -> bool:
    """Idempotence: may ``b``, the first queued batch of its partition, be sent now?

    A retry goes only when no batch with a lower sequence is waiting for its answer. A new batch waits
    while the partition is unresolved, while 5 batches are out past the oldest unanswered one, and, after
    an epoch change, until every batch of the old epoch has its answer (then sequences start at 0)."""
    if b.sequence >= 0:
        return all(x.sequence >= b.sequence for x in st.in_flight if x.sequence >= 0)
    if st.unresolved:
        return False  # wait until every sent batch has its answer
    if len(st.window) >= MAX_UNACKED_BATCHES:
        # with 5 batches sent after the oldest unanswered one, a sixth would push that one out of the
        # broker's memory of this producer, and its retry would no longer be recognised as a duplicate
        return False
    if st.producer_id != producer_id or st.producer_epoch != producer_epoch:
        if st.outstanding_sequences():
            return False  # batches of the old epoch first, or a new sequence 0 would overtake them
        st.producer_id, st.producer_epoch = producer_id, producer_epoch
        st.next_sequence = 0
        st.last_acked_sequence = -1
        st.restarting = False
        st.window.clear()
    return True


def prune_window(st: _TpState) -> None:
    """Forget sent batches older than the oldest batch that still has no final answer."""
    pending = [x.sequence for x in st.in_flight if x.sequence >= 0]
    pending += [x.sequence for x in st.unsent if x.sequence >= 0]
    if not pending:
        st.window.clear()
        return
    oldest = min(pending)
    while st.window and st.window[0] != oldest:
        st.window.popleft()
