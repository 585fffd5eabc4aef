"""Application-level workloads built on the client API: what a learner's program would do.

``Copier`` is the classic consume-transform-produce loop. In ``exactly_once`` mode it is the
transactional pattern (read_committed consumer, transactional producer, offsets sent to the transaction);
the other modes commit consumer offsets before (at-most-once) or after (at-least-once) producing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .clients.common import TopicPartition
from .errors import KafkaException
from .history import Op

if TYPE_CHECKING:
    from .clients.consumer import Consumer
    from .clients.producer import Producer
    from .cluster import Cluster

__all__ = ["Copier", "COPY_MODES"]

COPY_MODES = ("at_most_once", "at_least_once", "exactly_once")


class Copier:
    """Copies records from ``source`` to ``sink`` (value transformed by ``transform``), crash-restartable."""

    def __init__(
        self,
        cluster: Cluster,
        source: str,
        sink: str,
        mode: str = "exactly_once",
        *,
        group_id: str = "copier",
        transactional_id: str = "copier-tx",
        transform: Callable[[bytes | None], bytes | None] = lambda v: v,
        batch: int = 20,
        producer_config: dict[str, Any] | None = None,
        note_failures: bool = False,
        consumer_config: dict[str, Any] | None = None,
    ) -> None:
        """``note_failures``: put failed offset and transaction commits on the cluster's timeline;
        ``consumer_config``: overrides of the consumer's configs (a lesson's max.poll.interval.ms)."""
        if mode not in COPY_MODES:
            raise ValueError(f"mode must be one of {', '.join(COPY_MODES)}, not {mode!r}")
        self.cluster = cluster
        self.source = source
        self.sink = sink
        self.mode = mode
        self.group_id = group_id
        self.transactional_id = transactional_id
        self.transform = transform
        self.batch = batch
        self.producer_config = dict(producer_config or {})
        self.consumer_config = dict(consumer_config or {})
        self.note_failures = note_failures
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self.restarts = 0
        self.aborts = 0
        self.start()

    # -- process lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        eos = self.mode == "exactly_once"
        self.consumer = self.cluster.consumer(
            {
                "group.id": self.group_id,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed" if eos else "read_uncommitted",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                **self.consumer_config,
            },
            name=self.cluster.next_client_name("copier-consumer"),
        )
        self.consumer.subscribe([self.source])
        pconf: dict[str, Any] = {"acks": "all"}
        if eos:
            pconf["transactional.id"] = self.transactional_id
            pconf["transaction.timeout.ms"] = 10000
        pconf.update(self.producer_config)
        self.producer = self.cluster.producer(pconf, name=self.cluster.next_client_name("copier-producer"))
        if eos:
            producer = self.producer
            self._retrying(lambda: producer.init_transactions(30.0))

    def crash(self) -> None:
        """kill -9 of the copier process: consumer and producer die mid-whatever."""
        for node in (self.consumer, self.producer):
            if node is not None and node.alive:
                node.crash()
        self.cluster.note("the copier process crashed", "client")

    def restart(self) -> None:
        if not self.crashed:
            self.crash()
        self.restarts += 1
        self.start()

    def settle(self, max_ms: int = 2000) -> bool:
        """Let the cluster run until the copier's last transaction is visible to read_committed readers.

        commit_transaction() returns once the coordinator has recorded the decision (PrepareCommit); the
        COMMIT markers reach the partitions a few milliseconds later, as in Kafka. A lab command that says
        "committed" runs the cluster that long, so what it printed is what a reader sees."""
        if self.mode != "exactly_once":
            return True

        def settled() -> bool:
            for info in self.cluster.describe_topic(self.sink):
                leader = self.cluster.brokers.get(info.leader)
                part = leader.partitions.get((self.sink, info.partition)) if leader is not None else None
                if part is None or part.last_stable_offset() < part.log.log_end_offset:
                    return False
            return True

        return self.cluster.run_until(settled, max_ms)

    @property
    def crashed(self) -> bool:
        return self.consumer is None or not self.consumer.alive

    def _retrying(self, fn: Callable[[], Any], attempts: int = 20) -> Any:
        for i in range(attempts):
            try:
                return fn()
            except KafkaException as e:
                if e.error.fatal() or i == attempts - 1:
                    raise
                self.cluster.run_for(500)
        return None

    # -- one iteration ---------------------------------------------------------------------------------
    def _noted(self, what: str, call: Callable[[], object]) -> None:
        try:
            call()
        except KafkaException as e:
            if self.note_failures:
                self.cluster.note(f"{what} failed ({e.error.name()})", "client")
            raise

    def _process(self, msgs: list[Any]) -> None:
        assert self.producer is not None and self.consumer is not None
        h = self.cluster.history
        for m in msgs:
            h.append(
                Op(
                    self.cluster.now_ms,
                    "process",
                    self.consumer.name,
                    m.topic(),
                    m.partition(),
                    m.offset(),
                    m.key(),
                    m.value(),
                    None,
                    self.group_id,
                )
            )
            self.producer.produce(self.sink, value=self.transform(m.value()), key=m.key())

    def step(self, timeout_s: float = 0.5, crash_before_commit: bool = False) -> int:
        """Consume one batch and copy it; returns the number of records copied (0 if none or failed).

        ``crash_before_commit``: the process dies after producing the batch and before committing (the
        consumer offsets, or the transaction) — the moment that separates the delivery guarantees.
        """
        c, p = self.consumer, self.producer
        assert c is not None and p is not None
        msgs = [m for m in c.consume(self.batch, timeout=timeout_s) if m.error() is None]
        if not msgs:
            return 0
        try:
            if self.mode == "at_most_once":
                self._noted(f"{c.name}: offset commit", lambda: c.commit(asynchronous=False))
                if crash_before_commit:  # here the commit came first: the crash loses the batch
                    self.crash()
                    return 0
                self._process(msgs)
                p.flush(30)
            elif self.mode == "at_least_once":
                self._process(msgs)
                if p.flush(30):  # not everything was delivered: do not commit past it, read it again
                    self._rewind()
                    return 0
                if crash_before_commit:
                    self.crash()
                    return 0
                self._noted(f"{c.name}: offset commit", lambda: c.commit(asynchronous=False))
            else:
                p.begin_transaction()
                self._process(msgs)
                if crash_before_commit:
                    p.flush(30)
                    self.crash()
                    return 0
                self._noted(
                    f"{p.name}: send_offsets_to_transaction",
                    lambda: p.send_offsets_to_transaction(
                        c.position(c.assignment()), c.consumer_group_metadata(), 30.0
                    ),
                )
                self._noted(f"{p.name}: commit_transaction", lambda: p.commit_transaction(30.0))
        except KafkaException as e:
            if self.mode == "exactly_once":
                if e.error.fatal():
                    self.restart()  # fenced: this instance is a zombie; a fresh one takes over
                    return 0
                self.aborts += 1
                try:
                    p.abort_transaction(30.0)
                except KafkaException:
                    self.restart()
                    return 0
                self._rewind()
            return 0
        return len(msgs)

    def _rewind(self) -> None:
        """After an abort, go back to the last committed offsets (what the aborted transaction read)."""
        c = self.consumer
        assert c is not None
        tps = c.assignment()
        if not tps:
            return
        try:
            committed = c.committed(tps, timeout=10.0)
        except KafkaException:
            self.restart()
            return
        for tp in committed:
            if tp.offset >= 0:
                c.seek(TopicPartition(tp.topic, tp.partition, tp.offset))
            else:
                c.seek(TopicPartition(tp.topic, tp.partition, -2))
