"""The producer: ``produce`` / ``poll`` / ``flush`` like confluent_kafka, batching and retries like Kafka.

Defaults are the Java client's (Kafka 4.x): ``acks=all``, ``enable.idempotence=true``, ``linger.ms=5``,
``batch.size=16384``, ``retries=2147483647``, ``delivery.timeout.ms=120000``,
``max.in.flight.requests.per.connection=5``. Setting ``acks`` to 0 or 1 without setting
``enable.idempotence`` turns idempotence off (as the Java client does); asking for both is an error.
Records without a key use the sticky partitioner (KIP-480): they fill a batch for one partition, then the
producer picks another partition at random.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..broker import ProduceRequest, ProduceResult, produce_request_size
from ..errors import KafkaError, KafkaException, is_retriable
from ..history import Op
from ..metadata import NO_LEADER
from ..partitioner import default_partition
from ..records import ROW_KEY, ROW_VALUE, RecordBatch, RecordRow
from .common import OFFSET_INVALID, ClientNode, Message, config_bool, to_bytes

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["Producer", "PRODUCER_DEFAULTS"]

PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 5,
    "batch.size": 16384,
    "retries": 2147483647,
    "retry.backoff.ms": 100,
    "delivery.timeout.ms": 120000,
    "request.timeout.ms": 30000,
    "max.in.flight.requests.per.connection": 5,
    "max.request.size": 1048576,
}

#: per-record overhead in a v2 batch, roughly (for batch.size accounting)
_RECORD_OVERHEAD = 8
_BATCH_OVERHEAD = 61

Callback = Callable[[KafkaError | None, Message], None]


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
    )

    def __init__(self, topic: str, partition: int, now_ms: int, deadline_ms: int) -> None:
        self.topic = topic
        self.partition = partition
        self.records: list[RecordRow] = []
        self.callbacks: list[Callback | None] = []
        self.size = _BATCH_OVERHEAD
        self.created_ms = now_ms
        self.deadline_ms = deadline_ms
        self.attempts = 0
        self.sequence = -1
        self.producer_id = -1
        self.producer_epoch = -1
        self.retry_at_ms = 0
        self.built: RecordBatch | None = None
        self.closed = False
        self.last_error: str | None = None


class _TpState:
    __slots__ = ("unsent", "in_flight", "next_sequence", "retrying")

    def __init__(self) -> None:
        self.unsent: deque[_Batch] = deque()
        self.in_flight: list[_Batch] = []
        self.next_sequence = 0
        #: a batch of this partition is being retried: send one batch at a time to keep order
        self.retrying = False


class Producer(ClientNode):
    """A producer client (a node of the simulation)."""

    def __init__(
        self, cluster: Cluster, config: dict[str, Any] | None = None, name: str | None = None
    ) -> None:
        cfg = dict(PRODUCER_DEFAULTS)
        user = dict(config or {})
        cfg.update(user)
        acks = str(cfg["acks"]).lower()
        if acks in ("all", "-1"):
            self.acks = -1
        elif acks in ("0", "1"):
            self.acks = int(acks)
        else:
            raise KafkaException(
                KafkaError("_INVALID_ARG", f'Invalid value for configuration property "acks": {cfg["acks"]}')
            )
        idem = config_bool(cfg["enable.idempotence"])
        self.transactional_id: str | None = cfg.get("transactional.id")
        if self.transactional_id:
            if "enable.idempotence" in user and not idem:
                raise KafkaException(
                    KafkaError("_INVALID_ARG", "transactional.id requires enable.idempotence=true")
                )
            if self.acks != -1:
                raise KafkaException(KafkaError("_INVALID_ARG", "transactional.id requires acks=all"))
            idem = True
        if self.acks != -1:
            if "enable.idempotence" in user and idem:
                raise KafkaException(
                    KafkaError("_INVALID_ARG", "enable.idempotence=true requires acks=all (acks=-1)")
                )
            idem = False
        self.idempotent = idem
        self.linger_ms = int(cfg["linger.ms"])
        self.batch_size = int(cfg["batch.size"])
        self.retries = int(cfg["retries"])
        self.delivery_timeout_ms = int(cfg["delivery.timeout.ms"])
        self.max_in_flight = int(cfg["max.in.flight.requests.per.connection"])
        if self.idempotent and self.max_in_flight > 5:
            raise KafkaException(
                KafkaError(
                    "_INVALID_ARG", "max.in.flight.requests.per.connection must be at most 5 with idempotence"
                )
            )
        super().__init__(
            cluster, name or cluster.next_client_name(str(cfg.get("client.id", "producer"))), cfg
        )
        self.producer_id = -1
        self.producer_epoch = -1
        self._pid_pending = False
        self._tps: dict[tuple[str, int], _TpState] = {}
        self._no_metadata: dict[
            str,
            list[
                tuple[
                    bytes | None,
                    bytes | None,
                    tuple[tuple[str, bytes | None], ...],
                    int,
                    Callback | None,
                    int,
                ]
            ],
        ] = {}
        #: a producer may ask brokers to auto-create a topic; when it first asked about a still unknown topic
        self.allow_auto_create_topics = True
        self._unknown_since: dict[str, int] = {}
        self.propagation_max_ms = int(cfg.get("topic.metadata.propagation.max.ms", 30000))
        #: topic -> (key -> partition cache, per-partition states) for the produce() fast path
        self._fast: dict[str, tuple[dict[bytes, int], list[_TpState | None]]] = {}
        self._sticky: dict[str, int] = {}
        self._reports: deque[tuple[Callback | None, KafkaError | None, Message]] = deque()
        self._in_flight_per_broker: dict[int, int] = {}
        self._wake_timer: Any = None
        self._wake_at = -1
        self._flushing = False
        self._queued = 0
        self.sent_batches = 0
        #: Produce requests, their bytes and the records in them (what the producer metrics count)
        self.sent_requests = 0
        self.sent_bytes = 0
        self.sent_records = 0
        self.acked_records = 0
        self.failed_records = 0
        self.history = cluster.history
        self.errors: deque[tuple[int, str, str]] = deque(maxlen=20)
        # -- transactions --
        self.transaction_timeout_ms = int(cfg.get("transaction.timeout.ms", 60000))
        self.txn_state = "UNINITIALIZED" if self.transactional_id else "NONE"
        self._txn_coordinator: int | None = None
        self._txn_added: set[tuple[str, int]] = set()
        self._txn_adding = False
        self._txn_acked: list[tuple[str, int, int, bytes | None, bytes | None]] = []
        self._txn_failed = False
        self._fatal: KafkaError | None = None
        #: the transactional request a timed-out call left running: (what it is, where its answer goes)
        self._txn_op: tuple[str, list[Any]] | None = None
        if self.idempotent and not self.transactional_id:
            self._init_producer_id()

    # -- public API ---------------------------------------------------------------------------------
    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int = -1,
        on_delivery: Callback | None = None,
        timestamp: int = 0,
        headers: dict[str, Any] | list[tuple[str, Any]] | None = None,
        callback: Callback | None = None,
    ) -> None:
        """Queue a record; the delivery report comes later through ``poll()``/``flush()``."""
        # fast path (the common case, kept lean): a bytes key, default partitioner, no headers, and the
        # open batch of that partition has room
        if (
            partition < 0
            and type(key) is bytes
            and headers is None
            and timestamp == 0
            and (value is None or type(value) is bytes)
            and not self.closed
            and (self.transactional_id is None or self.txn_state == "IN_TRANSACTION")
        ):
            fast = self._fast.get(topic)
            if fast is not None:
                kcache, states = fast
                p = kcache.get(key)
                if p is None:
                    if len(kcache) > 100_000:
                        kcache.clear()
                    p = kcache[key] = default_partition(key, len(states))
                st = states[p]
                if st is not None and st.unsent:
                    batch = st.unsent[-1]
                    size = _RECORD_OVERHEAD + len(key) + (len(value) if value is not None else 0)
                    if not batch.closed and batch.size + size < self.batch_size:
                        now = self.kernel.now_ms
                        batch.records.append((key, value, (), now))
                        batch.callbacks.append(on_delivery or callback)
                        batch.size += size
                        self._queued += 1
                        history = self.history
                        if history.enabled:
                            history.tail.append(
                                (now, "send", self.name, topic, p, None, key, value, None, None)
                            )
                        return
        self._produce_slow(topic, value, key, partition, on_delivery or callback, timestamp, headers)

    def _produce_slow(
        self,
        topic: str,
        value: str | bytes | None,
        key: str | bytes | None,
        partition: int,
        cb: Callback | None,
        timestamp: int,
        headers: dict[str, Any] | list[tuple[str, Any]] | None,
    ) -> None:
        if self.closed:
            raise KafkaException(KafkaError("_STATE", "producer is closed"))
        if self.transactional_id:
            if self._fatal is not None:
                raise KafkaException(self._fatal)
            if self.txn_state != "IN_TRANSACTION":
                raise KafkaException(
                    KafkaError(
                        "_STATE",
                        f"Operation not valid in state {self.txn_state}: call begin_transaction() first",
                    )
                )
        k = key if key is None or type(key) is bytes else to_bytes(key)
        v = value if value is None or type(value) is bytes else to_bytes(value)
        hdrs: tuple[tuple[str, bytes | None], ...] = ()
        if headers:
            items = headers.items() if isinstance(headers, dict) else headers
            hdrs = tuple((str(hk), to_bytes(hv)) for hk, hv in items)
        ts = timestamp if timestamp > 0 else self.kernel.now_ms
        self._queued += 1
        t = self.topics.get(topic)
        if t is None:
            pending = self._no_metadata.setdefault(topic, [])
            pending.append((k, v, hdrs, ts, cb, partition))
            if len(pending) == 1:
                # named in metadata requests: the broker may auto-create it (auto.create.topics.enable)
                self.metadata_topics.add(topic)
                self._unknown_since.setdefault(topic, self.kernel.now_ms)
                self.refresh_metadata(self._on_metadata)
                self.schedule(
                    self.delivery_timeout_ms, "metadata-wait-expiry", lambda: self._expire_unknown(topic)
                )
            return
        self._append(topic, partition, k, v, hdrs, ts, cb)

    def _fast_states(self, topic: str) -> list[_TpState | None]:
        """Per-partition states of ``topic`` as a list, for the fast path (rebuilt if partitions change)."""
        n = self.topics[topic].partitions
        fast = self._fast.get(topic)
        if fast is None or len(fast[1]) != n:
            states: list[_TpState | None] = [None] * n
            for (t, p), st in self._tps.items():
                if t == topic and p < n:
                    states[p] = st
            fast = self._fast[topic] = ({}, states)
        return fast[1]

    def poll(self, timeout: float | None = 0) -> int:
        """Serve queued delivery reports (calling their callbacks); waits up to ``timeout`` s for one."""
        if not self._reports and timeout:
            self.wait_until(lambda: bool(self._reports), timeout)
        return self._serve_reports()

    def flush(self, timeout: float | None = None) -> int:
        """Send everything and wait for every delivery report; returns how many are still pending.

        The batches queued now leave without waiting for ``linger.ms``, also when ``flush(0)`` returns at
        once (inside a simulation event)."""
        self._flushing = True
        for st in self._tps.values():
            for b in st.unsent:
                b.closed = True
        self._wake(0)
        try:
            self.wait_until(lambda: self._queued == 0, timeout)
        finally:
            self._flushing = False
        self._serve_reports()
        return self._queued

    def __len__(self) -> int:
        return self._queued + len(self._reports)

    def close(self) -> None:
        self.closed = True

    def in_flight_batches(self) -> list[tuple[str, int, int, int]]:
        """(topic, partition, records, attempts) of batches sent and not yet answered."""
        out = []
        for (t, p), st in sorted(self._tps.items()):
            for b in st.in_flight:
                out.append((t, p, len(b.records), b.attempts))
        return out

    # -- accumulating ---------------------------------------------------------------------------------
    def _expire_unknown(self, topic: str) -> None:
        """Records still waiting for the topic's metadata after delivery.timeout.ms fail (_MSG_TIMED_OUT)."""
        pending = self._no_metadata.get(topic)
        if not pending:
            return
        now = self.kernel.now_ms
        keep = []
        for rec in pending:
            k, v, _h, ts, cb, p = rec
            if now - ts >= self.delivery_timeout_ms:
                self._queued -= 1
                err = KafkaError("_MSG_TIMED_OUT", "Local: Message timed out (no metadata for the topic)")
                self.history.append(Op(now, "fail", self.name, topic, None, None, k, v, err.name()))
                self._reports.append((cb, err, Message(topic, p, OFFSET_INVALID, k, v, error=err)))
            else:
                keep.append(rec)
        if keep:
            self._no_metadata[topic] = keep
            self.schedule(
                max(1, keep[0][3] + self.delivery_timeout_ms - now),
                "metadata-wait-expiry",
                lambda: self._expire_unknown(topic),
            )
        else:
            del self._no_metadata[topic]

    def on_metadata_update(self) -> None:
        if self._no_metadata:
            self._on_metadata()

    def _on_metadata(self) -> None:
        pending, self._no_metadata = self._no_metadata, {}
        now = self.kernel.now_ms
        for topic, recs in pending.items():
            if (
                topic not in self.topics
                and now - self._unknown_since.get(topic, now) < self.propagation_max_ms
            ):
                # librdkafka's topic.metadata.propagation.max.ms: a topic being created (or auto-created)
                # takes a moment to appear; keep asking before calling it unknown
                self._no_metadata.setdefault(topic, []).extend(recs)
                continue
            self._unknown_since.pop(topic, None)
            if topic not in self.topics:
                self.metadata_topics.discard(topic)
                for k, v, _h, _ts, cb, p in recs:
                    self._queued -= 1
                    msg = Message(topic, p, OFFSET_INVALID, k, v)
                    err = KafkaError("_UNKNOWN_TOPIC", f"Unknown topic {topic}")
                    self.history.append(
                        Op(self.kernel.now_ms, "fail", self.name, topic, None, None, k, v, err.name())
                    )
                    self._reports.append((cb, err, msg))
                continue
            for k, v, h, ts, cb, p in recs:
                self._append(topic, p, k, v, h, ts, cb)
        self._wake(0)

    def _choose_partition(self, topic: str, key: bytes | None, n: int) -> int:
        if key is not None:
            self._fast_states(topic)
            kcache = self._fast[topic][0]
            p = kcache.get(key)
            if p is None:
                if len(kcache) > 100_000:
                    kcache.clear()
                p = kcache[key] = default_partition(key, n)
            return p
        p = self._sticky.get(topic)
        if p is None:
            choices = [i for i in range(n) if self.leader_of(topic, i) != NO_LEADER] or list(range(n))
            p = choices[self.kernel.rng.randrange(len(choices))]
            self._sticky[topic] = p
        return p

    def _append(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: tuple[tuple[str, bytes | None], ...],
        ts: int,
        cb: Callback | None,
    ) -> None:
        nparts = self.topics[topic].partitions
        if partition < 0:
            partition = self._choose_partition(topic, key, nparts)
        elif partition >= nparts:
            self._queued -= 1
            err = KafkaError("_UNKNOWN_PARTITION", f"{topic} has no partition {partition}")
            self._reports.append((cb, err, Message(topic, partition, OFFSET_INVALID, key, value)))
            return
        tp = (topic, partition)
        st = self._tps.get(tp)
        if st is None:
            st = self._tps[tp] = _TpState()
            self._fast_states(topic)[partition] = st
        rec_size = _RECORD_OVERHEAD + (len(key) if key else 0) + (len(value) if value else 0)
        batch = st.unsent[-1] if st.unsent else None
        if batch is None or batch.closed or batch.size + rec_size > self.batch_size:
            if batch is not None and not batch.closed:
                batch.closed = True
                if key is None and self._sticky.get(topic) == partition:
                    self._switch_sticky(topic, partition)
                    if self._sticky.get(topic) != partition:
                        self._append(topic, -1, key, value, headers, ts, cb)
                        self._wake(0)
                        return
            now = self.kernel.now_ms
            batch = _Batch(topic, partition, now, now + self.delivery_timeout_ms)
            st.unsent.append(batch)
            self._wake(self.linger_ms)
        batch.records.append((key, value, headers, ts))
        batch.callbacks.append(cb)
        batch.size += rec_size
        if self.history.enabled:
            self.history.add(self.kernel.now_ms, "send", self.name, topic, partition, None, key, value)
        if batch.size >= self.batch_size:
            batch.closed = True
            if key is None and self._sticky.get(topic) == partition:
                self._switch_sticky(topic, partition)
            self._wake(0)

    def _switch_sticky(self, topic: str, old: int) -> None:
        n = self.topics[topic].partitions
        choices = [i for i in range(n) if i != old and self.leader_of(topic, i) != NO_LEADER]
        if not choices:
            self._sticky[topic] = old
            return
        self._sticky[topic] = choices[self.kernel.rng.randrange(len(choices))]

    # -- sending ------------------------------------------------------------------------------------------
    def _wake(self, delay_ms: int) -> None:
        at = self.kernel.now_ms + delay_ms
        if self._wake_timer is not None and not self._wake_timer.cancelled:
            if self._wake_at <= at:
                return
            self._wake_timer.cancel()
        self._wake_at = at
        self._wake_timer = self.schedule(delay_ms, "sender", self._run_sender)

    def _init_producer_id(self) -> None:
        if self._pid_pending:
            return
        self._pid_pending = True
        brokers = self.cluster.bootstrap_names()
        name = brokers[self.kernel.rng.randrange(len(brokers))] if brokers else None
        if name is None:
            self._pid_pending = False
            return
        node = self.broker_node(name)

        def ok(resp: Any) -> None:
            self._pid_pending = False
            # (error, pid, epoch); a broker that cannot forward to the controller answers (error, reason)
            if resp[0] != "NO_ERROR":
                self.schedule(self.retry_backoff_ms, "init-pid-retry", self._init_producer_id)
                return
            self.producer_id, self.producer_epoch = resp[1], resp[2]
            for st in self._tps.values():
                st.next_sequence = 0
            self._wake(0)

        def fail(_e: str) -> None:
            self._pid_pending = False
            self.schedule(self.retry_backoff_ms, "init-pid-retry", self._init_producer_id)

        self.call(
            name,
            "InitProducerId",
            lambda r: node.handle_admin("allocate_producer_id", (), r),
            ok,
            fail,
            self.request_timeout_ms,
            detail=self.name,
        )

    def _run_sender(self) -> None:
        self._wake_timer = None
        if self.idempotent and self.producer_id < 0:
            if not self.transactional_id:
                self._init_producer_id()
            return
        to_add: list[tuple[str, int]] = []
        now = self.kernel.now_ms
        by_leader: dict[int, list[_Batch]] = {}
        next_wake: int | None = None
        need_metadata = False
        for tp in sorted(self._tps):
            st = self._tps[tp]
            # expire batches that waited longer than delivery.timeout.ms
            while st.unsent and st.unsent[0].deadline_ms <= now:
                self._fail_batch(st.unsent.popleft(), st, "_MSG_TIMED_OUT", "delivery.timeout.ms expired")
            if not st.unsent:
                continue
            b = st.unsent[0]
            ready = b.closed or self._flushing or now - b.created_ms >= self.linger_ms or b.attempts > 0
            wake_at = max(b.created_ms + self.linger_ms, b.retry_at_ms)
            if not ready or b.retry_at_ms > now:
                next_wake = wake_at if next_wake is None else min(next_wake, wake_at)
                continue
            if st.retrying and st.in_flight:
                continue
            if self.transactional_id and tp not in self._txn_added:
                to_add.append(tp)
                continue
            if self.idempotent and len(st.in_flight) >= 5:
                continue
            leader = self.leader_of(*tp)
            if leader == NO_LEADER:
                need_metadata = True
                b.retry_at_ms = now + self.retry_backoff_ms
                next_wake = b.retry_at_ms if next_wake is None else min(next_wake, b.retry_at_ms)
                continue
            if self._in_flight_per_broker.get(leader, 0) >= self.max_in_flight:
                continue
            by_leader.setdefault(leader, []).append(b)
        for leader, batches in sorted(by_leader.items()):
            self._send(leader, batches)
        if by_leader and self.acks != 0:
            # the next batch of a partition may go out now too, up to max.in.flight.requests.per.connection
            # (5 per partition with idempotence): requests pipeline instead of waiting for each response
            self._wake(0)
        if to_add and not self._txn_adding:
            self._add_partitions_to_txn(to_add)
        if need_metadata:
            self.refresh_metadata(lambda: self._wake(0))
        if next_wake is not None:
            self._wake(max(0, next_wake - now))

    def _send(self, leader: int, batches: list[_Batch]) -> None:
        reqs: list[tuple[str, int, RecordBatch]] = []
        for b in batches:
            st = self._tps[(b.topic, b.partition)]
            st.unsent.popleft()
            st.in_flight.append(b)
            if b.closed is False:
                b.closed = True
                if b.records[0][0] is None and self._sticky.get(b.topic) == b.partition:
                    self._switch_sticky(b.topic, b.partition)
            stale = self.idempotent and (
                b.sequence < 0 or b.producer_id != self.producer_id or b.producer_epoch != self.producer_epoch
            )
            if b.built is None or stale:
                if stale:
                    b.sequence = st.next_sequence
                    st.next_sequence += len(b.records)
                    b.producer_id, b.producer_epoch = self.producer_id, self.producer_epoch
                b.built = RecordBatch.build(
                    b.records,
                    producer_id=b.producer_id,
                    producer_epoch=b.producer_epoch,
                    base_sequence=b.sequence,
                    transactional=self.transactional_id is not None,
                )
            b.attempts += 1
            reqs.append((b.topic, b.partition, b.built))
        self.sent_batches += len(batches)
        built = [r[2] for r in reqs]
        self.sent_requests += 1
        self.sent_bytes += produce_request_size(built)
        self.sent_records += sum(b.record_count for b in built)
        broker_name = f"broker-{leader}"
        node = self.find_broker(broker_name)
        req = ProduceRequest(self.acks, self.request_timeout_ms, reqs)
        if node is None:
            self._on_error(leader, batches, "_TRANSPORT")
            return
        if self.acks == 0:
            if not node.alive:
                # no connection to a dead broker: nothing is written to a socket, the batches wait
                self._on_error(leader, batches, "_TRANSPORT")
                return
            self.net.send(
                self,
                broker_name,
                "Produce",
                lambda: node.handle_produce(req, lambda _r: None),
                detail=f"{len(reqs)} batches acks=0",
                size_bytes=produce_request_size(built),
            )
            for b in batches:
                self._complete(b, -1, None)
            self._wake(0)
            return
        self._in_flight_per_broker[leader] = self._in_flight_per_broker.get(leader, 0) + 1
        self.call(
            broker_name,
            "Produce",
            lambda respond: node.handle_produce(req, respond),
            lambda results: self._on_response(leader, batches, results),
            lambda err: self._on_error(leader, batches, err),
            self.request_timeout_ms,
            detail=", ".join(f"{b.topic}-{b.partition}×{len(b.records)}" for b in batches),
            size_bytes=produce_request_size(built),
        )

    def _on_response(
        self, leader: int, batches: list[_Batch], results: dict[tuple[str, int], ProduceResult]
    ) -> None:
        self._in_flight_per_broker[leader] -= 1
        refresh = False
        for b in batches:
            r = results[(b.topic, b.partition)]
            if r.error == "NO_ERROR":
                self._complete(b, r.base_offset, None)
            else:
                refresh |= self._retry_or_fail(b, r.error, r.message)
        if refresh:
            self.refresh_metadata(lambda: self._wake(0))
        self._wake(0)

    def _on_error(self, leader: int, batches: list[_Batch], err: str) -> None:
        if self.acks != 0:
            self._in_flight_per_broker[leader] = max(0, self._in_flight_per_broker.get(leader, 0) - 1)
        for b in batches:
            self._retry_or_fail(b, err, "")
        self.refresh_metadata(lambda: self._wake(0))
        self._wake(self.retry_backoff_ms)

    def _retry_or_fail(self, b: _Batch, err: str, message: str) -> bool:
        """Put a failed batch back for a retry (in sequence order) or fail it; True if metadata is stale."""
        st = self._tps[(b.topic, b.partition)]
        if b in st.in_flight:
            st.in_flight.remove(b)
        now = self.kernel.now_ms
        b.last_error = err
        self.errors.append((now, f"{b.topic}-{b.partition}", err))
        retriable = is_retriable(err) or err in ("_TRANSPORT", "REQUEST_TIMED_OUT")
        if self._fatal is not None:
            retriable = False
        if err == "OUT_OF_ORDER_SEQUENCE_NUMBER" and self.idempotent:
            # an earlier batch of this partition is being retried: this one follows it
            retriable = any(o.sequence < b.sequence for o in list(st.unsent) + st.in_flight)
        if retriable and b.attempts <= self.retries and now < b.deadline_ms:
            if self.history.enabled:
                for rec in b.records:
                    self.history.add(now, "retry", self.name, b.topic, b.partition, None, rec[0], rec[1], err)
            b.retry_at_ms = now + self.retry_backoff_ms
            st.retrying = True
            st.unsent.appendleft(b)
            if self.idempotent:
                st.unsent = deque(sorted(st.unsent, key=lambda x: (x.sequence < 0, x.sequence)))
            return err in (
                "NOT_LEADER_OR_FOLLOWER",
                "UNKNOWN_TOPIC_OR_PART",
                "_TRANSPORT",
                "REQUEST_TIMED_OUT",
                "FENCED_LEADER_EPOCH",
                "LEADER_NOT_AVAILABLE",
            )
        self._fail_batch(b, st, err if now < b.deadline_ms else "_MSG_TIMED_OUT", message)
        return False

    def _complete(self, b: _Batch, base_offset: int, err: KafkaError | None) -> None:
        st = self._tps[(b.topic, b.partition)]
        if b in st.in_flight:
            st.in_flight.remove(b)
        if not st.in_flight and not any(x.attempts for x in st.unsent):
            st.retrying = False
        now = self.kernel.now_ms
        topic, partition, name = b.topic, b.partition, self.name
        known = base_offset >= 0
        if self.transactional_id:
            # acknowledged means committed: the history gets these records when the transaction commits
            for i, rec in enumerate(b.records):
                self._txn_acked.append((topic, partition, base_offset + i, rec[0], rec[1]))
        elif self.history.enabled:
            records = b.records
            self.history.add_batch(
                now,
                "ack",
                name,
                topic,
                partition,
                range(base_offset, base_offset + len(records)) if known else None,
                tuple(map(ROW_KEY, records)),
                tuple(map(ROW_VALUE, records)),
            )
        reports = self._reports
        for i, cb in enumerate(b.callbacks):
            if cb is not None:  # like librdkafka, a report without a callback costs nothing
                rec = b.records[i]
                off = base_offset + i if known else OFFSET_INVALID
                reports.append(
                    (
                        cb,
                        None,
                        Message(
                            topic,
                            partition,
                            off,
                            rec[0],
                            rec[1],
                            list(rec[2]) or None,
                            rec[3],
                        ),
                    )
                )
        n = len(b.records)
        self._queued -= n
        self.acked_records += n

    def _fail_batch(self, b: _Batch, st: _TpState, err_name: str, message: str) -> None:
        now = self.kernel.now_ms
        err = KafkaError(err_name, message or None)
        self.last_error = err
        for rec, cb in zip(b.records, b.callbacks, strict=True):
            self.history.append(
                Op(now, "fail", self.name, b.topic, b.partition, None, rec[0], rec[1], err_name)
            )
            self._reports.append(
                (cb, err, Message(b.topic, b.partition, OFFSET_INVALID, rec[0], rec[1], error=err))
            )
        self._queued -= len(b.records)
        self.failed_records += len(b.records)
        if self.transactional_id:
            self._txn_failed = True
            if err_name in ("INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"):
                self._fence(err_name)
            return
        if self.idempotent and b.sequence >= 0:
            # the sequence of this partition is now in doubt: get a new epoch and restart sequences (KIP-360)
            self.producer_id = -1
            for s in self._tps.values():
                for x in list(s.unsent):
                    x.sequence = -1
            self._init_producer_id()

    def _serve_reports(self) -> int:
        n = 0
        while self._reports:
            cb, err, msg = self._reports.popleft()
            n += 1
            if cb is not None:
                cb(err, msg)
        return n

    # == transactions (KIP-98), shaped like confluent_kafka ==============================================
    def _txn_call(
        self, op: str, args: tuple[Any, ...], done: Callable[[Any], None], attempt: int = 0
    ) -> None:
        """Send a request to the transaction coordinator, finding it first; retried while retriable."""
        tid = self.transactional_id
        assert tid is not None

        def retry(_e: str = "") -> None:
            self._txn_coordinator = None
            self.schedule(
                self.retry_backoff_ms, "txn-retry", lambda: self._txn_call(op, args, done, attempt + 1)
            )

        if self._txn_coordinator is None:
            brokers = self.cluster.bootstrap_names()
            name = brokers[(attempt + self.kernel.rng.randrange(len(brokers))) % len(brokers)]
            node = self.broker_node(name)

            def found(resp: Any) -> None:
                err, coord = resp
                if err != "NO_ERROR":
                    retry()
                    return
                self._txn_coordinator = coord
                self._txn_call(op, args, done, attempt + 1)

            self.call(
                name,
                "FindCoordinator",
                lambda r: node.handle_find_coordinator(tid, r, 1),
                found,
                retry,
                self.request_timeout_ms,
                detail=f"transaction {tid}",
            )
            return
        node = self.broker_node(f"broker-{self._txn_coordinator}")

        def ok(resp: Any) -> None:
            err = resp[0] if isinstance(resp, tuple) else resp
            if err in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS"):
                retry()
            elif err == "CONCURRENT_TRANSACTIONS":
                self.schedule(
                    self.retry_backoff_ms, "txn-retry", lambda: self._txn_call(op, args, done, attempt + 1)
                )
            else:
                done(resp)

        self.call(
            node.name,
            op,
            lambda r: node.handle_txn(op, args, r),
            ok,
            retry,
            self.request_timeout_ms,
            detail=f"{tid}",
        )

    def _blocking(self, op: str, args: tuple[Any, ...], timeout: float | None, key: str = "") -> Any:
        """Send ``op`` to the transaction coordinator and wait for its answer.

        Resumable, as librdkafka's transactional calls are: when the answer does not come within
        ``timeout`` (always the case for ``timeout=0`` or inside a simulation event), the request keeps
        going in the background and a retriable ``_TIMED_OUT`` is raised; calling the same method again
        waits for that same request instead of sending a new one.
        """
        key = key or op
        pending = self._txn_op
        if pending is not None and pending[0] == key:
            box = pending[1]
        else:
            box = []
            self._txn_op = (key, box)
            self._txn_call(op, args, box.append)
        self.wait_until(lambda: bool(box), 60.0 if timeout is None or timeout < 0 else timeout)
        if not box:
            raise KafkaException(_resume_timeout(op))
        self._txn_op = None
        return box[0]

    def _fence(self, err: str) -> KafkaError:
        """A newer producer owns our transactional.id: every later call fails with the returned error."""
        if self._fatal is None:
            self._fatal = KafkaError(
                "_FENCED",
                f"Producer fenced by a newer instance of transactional.id {self.transactional_id} ({err})",
                fatal=True,
            )
            self.txn_state = "FATAL_ERROR"
            self.cluster.note(
                f"producer {self.name} was fenced ({err}): a newer producer owns "
                f"transactional.id {self.transactional_id}"
            )
        return self._fatal

    def _check_txn(self, *states: str) -> None:
        if not self.transactional_id:
            raise KafkaException(KafkaError("_INVALID_ARG", "The transactional.id configuration is not set"))
        if self._fatal is not None:
            raise KafkaException(self._fatal)
        if self.txn_state not in states:
            raise KafkaException(KafkaError("_STATE", f"Operation not valid in state {self.txn_state}"))

    def init_transactions(self, timeout: float | None = None) -> None:
        """InitProducerId for ``transactional.id``: fences older producers and aborts what they left open.

        Resumable: after a retriable ``_TIMED_OUT`` call it again to wait for the same request."""
        self._check_txn("UNINITIALIZED", "READY")
        resp = self._blocking("InitProducerId", (self.transactional_id, self.transaction_timeout_ms), timeout)
        err, pid, epoch = resp
        if err != "NO_ERROR":
            raise KafkaException(KafkaError(err))
        self.producer_id, self.producer_epoch = pid, epoch
        for st in self._tps.values():
            st.next_sequence = 0
        self.txn_state = "READY"

    def begin_transaction(self) -> None:
        self._check_txn("READY")
        self.txn_state = "IN_TRANSACTION"
        self._txn_added = set()
        self._txn_acked = []
        self._txn_failed = False

    def _add_partitions_to_txn(self, tps: list[tuple[str, int]]) -> None:
        self._txn_adding = True
        args = (self.transactional_id, self.producer_id, self.producer_epoch, sorted(tps))

        def done(err: Any) -> None:
            self._txn_adding = False
            if err == "NO_ERROR":
                self._txn_added.update(tps)
            elif err in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"):
                self._fence(err)
                for tp in tps:
                    st = self._tps.get(tp)
                    while st is not None and st.unsent:
                        self._fail_batch(st.unsent.popleft(), st, "PRODUCER_FENCED", "producer fenced")
            self._wake(0)

        self._txn_call("AddPartitionsToTxn", args, done)

    def send_offsets_to_transaction(
        self, positions: list[Any], group_metadata: Any, timeout: float | None = None
    ) -> None:
        """Commit the consumer's offsets as part of this transaction (AddOffsetsToTxn + TxnOffsetCommit).

        Resumable: after a retriable ``_TIMED_OUT`` call it again to wait for the same requests."""
        self._check_txn("IN_TRANSACTION")
        gid = group_metadata.group_id
        pending = self._txn_op
        if pending is not None and pending[0] == f"TxnOffsetCommit {gid}":
            self._await_offsets(pending[1], timeout)
            return
        err = self._blocking(
            "AddOffsetsToTxn", (self.transactional_id, self.producer_id, self.producer_epoch, gid), timeout
        )
        if err != "NO_ERROR":
            if err in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"):
                self._fence(err)
            raise KafkaException(KafkaError(err))
        offsets = [(tp.topic, tp.partition, tp.offset) for tp in positions if tp.offset >= 0]
        req = {
            "group_id": gid,
            "producer_id": self.producer_id,
            "producer_epoch": self.producer_epoch,
            "generation": group_metadata.generation,
            "member_id": group_metadata.member_id,
            "offsets": offsets,
        }
        box: list[dict[str, Any]] = []

        def attempt(n: int = 0) -> None:
            brokers = self.cluster.bootstrap_names()
            name = brokers[(n + self.kernel.rng.randrange(len(brokers))) % len(brokers)]
            node = self.broker_node(name)

            def found(resp: Any) -> None:
                e, coord = resp
                if e != "NO_ERROR":
                    self.schedule(self.retry_backoff_ms, "txn-retry", lambda: attempt(n + 1))
                    return
                cnode = self.broker_node(f"broker-{coord}")

                def committed(r: dict[str, Any]) -> None:
                    if r["error"] in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE"):
                        self.schedule(self.retry_backoff_ms, "txn-retry", lambda: attempt(n + 1))
                    else:
                        box.append(r)

                self.call(
                    cnode.name,
                    "TxnOffsetCommit",
                    lambda r: cnode.handle_group("TxnOffsetCommit", req, r),
                    committed,
                    lambda _e: self.schedule(self.retry_backoff_ms, "txn-retry", lambda: attempt(n + 1)),
                    self.request_timeout_ms,
                )

            self.call(
                name,
                "FindCoordinator",
                lambda r: node.handle_find_coordinator(gid, r, 0),
                found,
                lambda _e: self.schedule(self.retry_backoff_ms, "txn-retry", lambda: attempt(n + 1)),
                self.request_timeout_ms,
            )

        self._txn_op = (f"TxnOffsetCommit {gid}", box)
        attempt()
        self._await_offsets(box, timeout)

    def _await_offsets(self, box: list[dict[str, Any]], timeout: float | None) -> None:
        self.wait_until(lambda: bool(box), 60.0 if timeout is None or timeout < 0 else timeout)
        if not box:
            raise KafkaException(_resume_timeout("TxnOffsetCommit"))
        self._txn_op = None
        if box[0]["error"] != "NO_ERROR":
            e = box[0]["error"]
            if e == "PRODUCER_FENCED":
                raise KafkaException(self._fence(e))
            self.txn_state = "ABORTABLE_ERROR"
            raise KafkaException(KafkaError(e, f"TxnOffsetCommit failed: {e}"))

    def commit_transaction(self, timeout: float | None = None) -> None:
        """Flush, then EndTxn(commit): every record of the transaction becomes visible at once.

        Resumable: when the flush or the EndTxn does not finish within ``timeout`` it goes on in the
        background and a retriable ``_TIMED_OUT`` is raised; call ``commit_transaction()`` again."""
        self._check_txn("IN_TRANSACTION", "ABORTABLE_ERROR", "COMMITTING")
        if self.txn_state == "IN_TRANSACTION":
            self.flush(timeout)
            if self._fatal is not None:
                raise KafkaException(self._fatal)
            if self._queued and not self._txn_failed:
                raise KafkaException(_resume_timeout("commit_transaction (records still being delivered)"))
        if self._fatal is not None:
            raise KafkaException(self._fatal)
        if self._txn_failed or self.txn_state == "ABORTABLE_ERROR":
            self.txn_state = "ABORTABLE_ERROR"
            raise KafkaException(
                KafkaError(
                    "_STATE", "a record of this transaction failed: abort_transaction() must be called"
                )
            )
        self.txn_state = "COMMITTING"
        if self._txn_added:
            err = self._blocking(
                "EndTxn",
                (self.transactional_id, self.producer_id, self.producer_epoch, True),
                timeout,
                key="EndTxn commit",
            )
            if err != "NO_ERROR":
                if err in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"):
                    raise KafkaException(self._fence(err))
                self.txn_state = "ABORTABLE_ERROR"
                raise KafkaException(KafkaError(err))
        now = self.kernel.now_ms
        for topic, partition, off, key, value in self._txn_acked:
            self.history.append(Op(now, "ack", self.name, topic, partition, off, key, value))
        self._txn_acked = []
        self.txn_state = "READY"

    def abort_transaction(self, timeout: float | None = None) -> None:
        """EndTxn(abort): the transaction's records stay in the log but read_committed consumers skip them.

        Resumable like :meth:`commit_transaction`: after a retriable ``_TIMED_OUT`` call it again."""
        self._check_txn("IN_TRANSACTION", "ABORTABLE_ERROR", "ABORTING")
        self.txn_state = "ABORTING"
        for st in self._tps.values():
            while st.unsent:
                b = st.unsent.popleft()
                self._fail_batch(b, st, "_STATE", "transaction aborted")
        drained = self.wait_until(
            lambda: all(not st.in_flight for st in self._tps.values()), 30.0 if timeout is None else timeout
        )
        if not drained and (self.kernel.running or timeout == 0):
            raise KafkaException(_resume_timeout("abort_transaction (requests still in flight)"))
        if self._txn_added:
            err = self._blocking(
                "EndTxn",
                (self.transactional_id, self.producer_id, self.producer_epoch, False),
                timeout,
                key="EndTxn abort",
            )
            if err != "NO_ERROR":
                if err in ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"):
                    raise KafkaException(self._fence(err))
                raise KafkaException(KafkaError(err))
        now = self.kernel.now_ms
        for topic, partition, _off, key, value in self._txn_acked:
            self.history.append(
                Op(now, "fail", self.name, topic, partition, None, key, value, "TRANSACTION_ABORTED")
            )
        self._txn_acked = []
        self._txn_failed = False
        self.txn_state = "READY"


def _resume_timeout(what: str) -> KafkaError:
    """The retriable timeout of a resumable transactional call (librdkafka: call the function again)."""
    return KafkaError("_TIMED_OUT", f"Local: Timed out: {what} is still in progress; call it again to resume")
