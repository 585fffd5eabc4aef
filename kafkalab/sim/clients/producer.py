"""The producer: ``produce`` / ``poll`` / ``flush`` like confluent_kafka, batching and retries like Kafka.

Defaults are the Java client's (Kafka 4.x): ``acks=all``, ``enable.idempotence=true``, ``linger.ms=5``,
``batch.size=16384``, ``retries=2147483647``, ``delivery.timeout.ms=120000``,
``max.in.flight.requests.per.connection=5``. Setting ``acks`` to 0 or 1 without setting
``enable.idempotence`` turns idempotence off (as the Java client does); asking for both is an error.
Records without a key use the sticky partitioner (KIP-480): they fill a batch for one partition, then the
producer picks another partition at random.

Idempotence (KIP-98, KIP-360) follows the Java producer's ``TransactionManager`` bookkeeping: every
partition keeps the producer id and epoch its sequences belong to, its next sequence and its last
acknowledged sequence. A batch keeps its producer id, epoch and sequence for every retry, so the broker
recognises a retry of a batch it already wrote; the first batch that failed is retried alone until it
succeeds, which keeps the partition in send order. A batch that expires after it was sent leaves its
partition "unresolved": no new batch goes there until everything sent has an answer; if the answers show a
gap, the producer bumps its epoch (on its own, as an idempotent producer may) and that partition starts again
at sequence 0. A broker that answers OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch (it lost the
producer's state) does the same. Nothing ever gives a batch that may have been written a new sequence.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from ..broker import ProduceRequest, ProduceResult, produce_request_size
from ..configdefs import ConfigError, validate_configs
from ..errors import KafkaError, KafkaException, is_retriable
from ..history import Op
from ..metadata import NO_LEADER
from ..partitioner import default_partition
from ..records import ROW_KEY, ROW_VALUE, RecordBatch
from .common import OFFSET_INVALID, ClientNode, Message, config_bool, to_bytes
from .sequencing import (
    _MAX_EPOCH,
    _MAX_SEQUENCE,
    _RECORD_OVERHEAD,
    TOPIC_PROPAGATION_MAX_MS,
    Callback,
    Pending,
    _Batch,
    _order,
    _TpState,
    may_send,
    prune_window,
)
from .transactions import FENCED_ERRORS, TransactionManager

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


def _no_answer(_r: Any) -> None:
    """acks=0: nobody waits for the broker's answer."""


# Callbacks that wait in the kernel's heap or in a call in flight are bound methods and functools.partials,
# never closures: a time-travel checkpoint pickles them, which mypyc's compiled closures do not allow.
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Producer(ClientNode):
    """A producer client (a node of the simulation)."""

    def __init__(
        self, cluster: Cluster, config: dict[str, Any] | None = None, name: str | None = None
    ) -> None:
        cfg = dict(PRODUCER_DEFAULTS)
        user = dict(config or {})
        try:
            cfg.update(validate_configs("producer", user))
        except ConfigError as e:
            raise KafkaException(KafkaError("_INVALID_ARG", str(e))) from None
        acks = str(cfg["acks"]).lower()
        self.acks = -1 if acks in ("all", "-1") else int(acks)
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
        #: records of topics whose metadata has not come yet, and since when a topic looked absent
        self._no_metadata: dict[str, list[Pending]] = {}
        self._absent_since: dict[str, int] = {}
        #: a producer may ask brokers to auto-create a topic (auto.create.topics.enable); how long it waits
        #: for a topic to appear before calling it unknown (librdkafka's topic.metadata.propagation.max.ms)
        self.allow_auto_create_topics = True
        self.propagation_max_ms = int(cfg.get("topic.metadata.propagation.max.ms", TOPIC_PROPAGATION_MAX_MS))
        #: topic -> (key -> partition cache, per-partition states) for the produce() fast path
        self._fast: dict[str, tuple[dict[bytes, int], list[_TpState | None]]] = {}
        self._sticky: dict[str, int] = {}
        self._reports: deque[tuple[Callback | None, KafkaError | None, Message]] = deque()
        self._in_flight_per_broker: dict[int, int] = {}
        self._wake_timer: Any = None
        self._wake_at = -1
        self._flushing = False
        self._queued = 0
        self._batches_made = 0
        self.sent_batches = 0
        #: Produce requests, their bytes and the records in them (what the producer metrics count)
        self.sent_requests = 0
        self.sent_bytes = 0
        self.sent_records = 0
        self.acked_records = 0
        self.failed_records = 0
        self.epoch_bumps = 0
        self.history = cluster.history
        self.errors: deque[tuple[int, str, str]] = deque(maxlen=20)
        self.transaction_timeout_ms = int(cfg.get("transaction.timeout.ms", 60000))
        self._txn: TransactionManager | None = (
            TransactionManager(self, self.transactional_id, self.transaction_timeout_ms)
            if self.transactional_id
            else None
        )
        if self.idempotent and not self.transactional_id:
            self._init_producer_id()

    @property
    def txn_state(self) -> str:
        """The transactional state (Kafka's names), "NONE" for a producer without transactional.id."""
        return self._txn.state if self._txn is not None else "NONE"

    @property
    def queued(self) -> int:
        """Records handed to produce() that have no delivery report yet."""
        return self._queued

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
        txn = self._txn
        if (
            partition < 0
            and type(key) is bytes
            and headers is None
            and timestamp == 0
            and (value is None or type(value) is bytes)
            and not self.closed
            and (txn is None or txn.state == "IN_TRANSACTION")
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
        if self._txn is not None:
            self._txn.check_produce()
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
                self._absent_since.setdefault(topic, self.kernel.now_ms)
                self.refresh_metadata(self._on_metadata)
                self.schedule(
                    self.delivery_timeout_ms,
                    "metadata-wait-expiry",
                    functools.partial(self._expire_unknown, topic),
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

    def wake(self, delay_ms: int) -> None:
        """Run the sender after ``delay_ms`` (or sooner if it is already due)."""
        self._wake(delay_ms)

    # -- records that wait for their topic's metadata ---------------------------------------------------
    def _fail_pending(self, topic: str, rec: Pending, err: KafkaError) -> None:
        k, v, _h, _ts, cb, p = rec
        self._queued -= 1
        self.failed_records += 1
        self.last_error = err
        self.history.append(Op(self.kernel.now_ms, "fail", self.name, topic, None, None, k, v, err.name()))
        self._reports.append((cb, err, Message(topic, p, OFFSET_INVALID, k, v, error=err)))

    def _record_failed(self, err: str, reason: str) -> None:
        """A record failed: in a transaction that makes the transaction abortable (or fatal if fenced)."""
        if self._txn is not None:
            self._txn.set_abortable(err, reason)
            self._txn.check_drained()

    def _expire_unknown(self, topic: str) -> None:
        """Records still waiting for the topic's metadata after delivery.timeout.ms fail (_MSG_TIMED_OUT)."""
        pending = self._no_metadata.get(topic)
        if not pending:
            return
        now = self.kernel.now_ms
        keep = []
        failed = 0
        for rec in pending:
            if now - rec[3] >= self.delivery_timeout_ms:
                err = KafkaError("_MSG_TIMED_OUT", "Local: Message timed out (no metadata for the topic)")
                self._fail_pending(topic, rec, err)
                failed += 1
            else:
                keep.append(rec)
        if keep:
            self._no_metadata[topic] = keep
            self.schedule(
                max(1, keep[0][3] + self.delivery_timeout_ms - now),
                "metadata-wait-expiry",
                functools.partial(self._expire_unknown, topic),
            )
        else:
            del self._no_metadata[topic]
        if failed:
            self._record_failed("_MSG_TIMED_OUT", f"{failed} record(s) to {topic} got no metadata in time")

    def on_metadata_update(self) -> None:
        if self._no_metadata:
            self._on_metadata()

    def _on_metadata(self) -> None:
        now = self.kernel.now_ms
        for topic in sorted(self._no_metadata):
            recs = self._no_metadata[topic]
            if topic in self.topics:
                del self._no_metadata[topic]
                self._absent_since.pop(topic, None)
                for k, v, h, ts, cb, p in recs:
                    self._append(topic, p, k, v, h, ts, cb)
                continue
            since = self._absent_since.setdefault(topic, now)
            if now - since < self.propagation_max_ms:
                # a topic being created (or auto-created), or one a just-restarted broker does not know yet,
                # takes a moment to appear: ClientNode keeps asking (retry.backoff.ms, doubling up to 1 s)
                continue
            del self._no_metadata[topic]
            self._absent_since.pop(topic, None)
            self.metadata_topics.discard(topic)
            err = KafkaError("_UNKNOWN_TOPIC", f"Unknown topic {topic}")
            for rec in recs:
                self._fail_pending(topic, rec, err)
            self._record_failed("_UNKNOWN_TOPIC", f"topic {topic} does not exist")
        self._wake(0)

    def purge_queued(self, err: KafkaError) -> None:
        """Fail every record not sent yet (an aborted or fenced transaction); sent ones get their answers."""
        for topic in sorted(self._no_metadata):
            for rec in self._no_metadata.pop(topic):
                self._fail_pending(topic, rec, err)
        self._absent_since.clear()
        for _tp, st in sorted(self._tps.items()):
            while st.unsent:
                self._fail_batch(st.unsent.popleft(), st, err.name(), err.str())

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
            err = KafkaError("_UNKNOWN_PARTITION", f"{topic} has no partition {partition}")
            self._fail_pending(topic, (key, value, headers, ts, cb, partition), err)
            self._record_failed("_UNKNOWN_PARTITION", f"{topic} has no partition {partition}")
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
            self._batches_made += 1
            batch = _Batch(topic, partition, now, now + self.delivery_timeout_ms, self._batches_made)
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
        t = self.topics.get(topic)
        if t is None:
            return
        choices = [i for i in range(t.partitions) if i != old and self.leader_of(topic, i) != NO_LEADER]
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

    def set_producer_id(self, producer_id: int, epoch: int) -> None:
        """A new producer id/epoch: every partition starts again at sequence 0 once its sent batches
        have their answers."""
        self.producer_id, self.producer_epoch = producer_id, epoch
        self._wake(0)

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
        self.call(
            name,
            "InitProducerId",
            functools.partial(node.handle_admin, "allocate_producer_id", ()),
            self._on_producer_id,
            self._on_producer_id_error,
            self.request_timeout_ms,
            detail=self.name,
        )

    def _on_producer_id(self, resp: Any) -> None:
        self._pid_pending = False
        # (error, pid, epoch); a broker that cannot forward to the controller answers (error, reason)
        if resp[0] != "NO_ERROR":
            self.schedule(self.retry_backoff_ms, "init-pid-retry", self._init_producer_id)
            return
        self.set_producer_id(resp[1], resp[2])

    def _on_producer_id_error(self, _e: str) -> None:
        self._pid_pending = False
        self.schedule(self.retry_backoff_ms, "init-pid-retry", self._init_producer_id)

    def _bump_epoch(self) -> None:
        """KIP-360: an idempotent producer bumps its own epoch to restart sequences after a gap."""
        self.epoch_bumps += 1
        if self.producer_epoch >= _MAX_EPOCH:
            self.producer_id = -1
            self._init_producer_id()
        else:
            self.producer_epoch += 1

    def _may_send(self, st: _TpState, b: _Batch) -> bool:
        """Idempotence: may ``b`` (the first queued batch of its partition) be sent now?"""
        return may_send(st, b, self.producer_id, self.producer_epoch)

    def _run_sender(self) -> None:
        self._wake_timer = None
        if self.idempotent and self.producer_id < 0:
            if not self.transactional_id:
                self._init_producer_id()
            return
        txn = self._txn
        to_add: list[tuple[str, int]] = []
        now = self.kernel.now_ms
        by_leader: dict[int, list[_Batch]] = {}
        next_wake: int | None = None
        need_metadata = False
        flushing = self._flushing or (txn is not None and txn.committing)
        for tp in sorted(self._tps):
            st = self._tps[tp]
            # expire batches that waited longer than delivery.timeout.ms
            while st.unsent and st.unsent[0].deadline_ms <= now:
                self._fail_batch(st.unsent.popleft(), st, "_MSG_TIMED_OUT", "delivery.timeout.ms expired")
            if not st.unsent:
                continue
            b = st.unsent[0]
            ready = b.closed or flushing or now - b.created_ms >= self.linger_ms or b.attempts > 0
            wake_at = max(b.created_ms + self.linger_ms, b.retry_at_ms)
            if not ready or b.retry_at_ms > now:
                next_wake = wake_at if next_wake is None else min(next_wake, wake_at)
                continue
            if st.retrying and st.in_flight:
                continue
            if txn is not None:
                if not txn.sending_allowed:
                    continue
                if tp not in txn.partitions:
                    to_add.append(tp)
                    continue
            if self.idempotent and (len(st.in_flight) >= 5 or not self._may_send(st, b)):
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
        if to_add and txn is not None:
            txn.add_partitions(to_add)
        if need_metadata:
            self.refresh_metadata(functools.partial(self._wake, 0))
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
            if self.idempotent and b.sequence < 0:
                st.window.append(st.next_sequence)
                b.sequence = st.next_sequence
                b.producer_id, b.producer_epoch = st.producer_id, st.producer_epoch
                st.next_sequence = (st.next_sequence + len(b.records)) % (_MAX_SEQUENCE + 1)
                b.built = None
            if b.built is None:
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
                functools.partial(node.handle_produce, req, _no_answer),
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
            functools.partial(node.handle_produce, req),
            functools.partial(self._on_response, leader, batches),
            functools.partial(self._on_error, leader, batches),
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
            self.refresh_metadata(functools.partial(self._wake, 0))
        self._wake(0)

    def _on_error(self, leader: int, batches: list[_Batch], err: str) -> None:
        if self.acks != 0:
            self._in_flight_per_broker[leader] = max(0, self._in_flight_per_broker.get(leader, 0) - 1)
        for b in batches:
            self._retry_or_fail(b, err, "")
        self.refresh_metadata(functools.partial(self._wake, 0))
        self._wake(self.retry_backoff_ms)

    def _restart_partition(self, st: _TpState) -> None:
        """The broker answered OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch: it lost this
        partition's sequences (the log lost acknowledged data). New epoch; the unanswered batches start again
        at sequence 0, in send order, once those still in flight have their answers (KIP-360)."""
        self._bump_epoch()
        st.restarting = True
        st.unresolved = False
        st.window.clear()
        for x in list(st.unsent) + st.in_flight:
            x.sequence = -1
            x.built = None

    def _retry_or_fail(self, b: _Batch, err: str, message: str) -> bool:
        """Put a failed batch back for a retry (in send order) or fail it; True if metadata is stale."""
        st = self._tps[(b.topic, b.partition)]
        if b in st.in_flight:
            st.in_flight.remove(b)
        now = self.kernel.now_ms
        b.last_error = err
        self.errors.append((now, f"{b.topic}-{b.partition}", err))
        retriable = is_retriable(err) or err in ("_TRANSPORT", "REQUEST_TIMED_OUT")
        if (self._txn is not None and self._txn.fatal is not None) or err in FENCED_ERRORS:
            retriable = False
        elif err == "OUT_OF_ORDER_SEQUENCE_NUMBER" and self.idempotent:
            earlier = any(0 <= o.sequence < b.sequence for o in list(st.unsent) + st.in_flight)
            if st.restarting or earlier or st.unresolved:
                retriable = True  # an earlier batch is being retried (or all start again): this one follows
                if st.restarting:
                    b.sequence, b.built = -1, None
            elif self._txn is None:
                self._restart_partition(st)
                b.sequence, b.built = -1, None
                retriable = True
        if retriable and b.attempts <= self.retries and now < b.deadline_ms:
            if self.history.enabled:
                for rec in b.records:
                    self.history.add(now, "retry", self.name, b.topic, b.partition, None, rec[0], rec[1], err)
            b.retry_at_ms = now + self.retry_backoff_ms
            st.retrying = True
            st.unsent.append(b)
            st.unsent = deque(sorted(st.unsent, key=_order))
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
        if b.sequence >= 0 and b.producer_epoch == st.producer_epoch and b.producer_id == st.producer_id:
            last = (b.sequence + len(b.records) - 1) % (_MAX_SEQUENCE + 1)
            # the largest acknowledged sequence (one that wrapped around past 2^31 - 1 is larger)
            if last > st.last_acked_sequence or st.last_acked_sequence - last > _MAX_SEQUENCE // 2:
                st.last_acked_sequence = last
        now = self.kernel.now_ms
        topic, partition, name = b.topic, b.partition, self.name
        known = base_offset >= 0
        txn = self._txn
        if txn is not None:
            # acknowledged means committed: the history gets these records when the transaction commits
            for i, rec in enumerate(b.records):
                txn.acked.append((topic, partition, base_offset + i, rec[0], rec[1]))
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
        if st.window:
            prune_window(st)
        if st.unresolved:
            self._maybe_resolve(st)
        if txn is not None:
            txn.check_drained()

    def _maybe_resolve(self, st: _TpState) -> None:
        """Once every sent batch of an unresolved partition has its answer: if the acknowledged sequences
        reach the next one, the failed batch was written after all; otherwise there is a gap (KIP-360)."""
        if not st.unresolved or st.outstanding_sequences():
            return
        st.unresolved = False
        if (st.last_acked_sequence + 1) % (_MAX_SEQUENCE + 1) != st.next_sequence:
            self._bump_epoch()
        self._wake(0)

    def _fail_batch(self, b: _Batch, st: _TpState, err_name: str, message: str) -> None:
        if b in st.in_flight:
            st.in_flight.remove(b)
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
        if not st.in_flight and not any(x.attempts for x in st.unsent):
            st.retrying = False
        if st.window:
            prune_window(st)
        if self._txn is not None:
            self._record_failed(err_name, f"a record to {b.topic}-{b.partition} failed ({err_name})")
        elif self.idempotent and b.sequence >= 0:
            # it may or may not have been written: decide once every sent batch has its answer
            st.unresolved = True
            self._maybe_resolve(st)

    def _serve_reports(self) -> int:
        n = 0
        while self._reports:
            cb, err, msg = self._reports.popleft()
            n += 1
            if cb is not None:
                cb(err, msg)
        return n

    # == transactions (KIP-98, KIP-890), shaped like confluent_kafka ========================================
    def _transactions(self) -> TransactionManager:
        if self._txn is None:
            raise KafkaException(KafkaError("_INVALID_ARG", "The transactional.id configuration is not set"))
        return self._txn

    def init_transactions(self, timeout: float | None = None) -> None:
        """InitProducerId for ``transactional.id``: fences older producers and aborts what they left open.

        If it times out, the retriable error says so and calling it again waits for the same request."""
        self._transactions().init_transactions(timeout)

    def begin_transaction(self) -> None:
        self._transactions().begin_transaction()

    def send_offsets_to_transaction(
        self, positions: list[Any], group_metadata: Any, timeout: float | None = None
    ) -> None:
        """Commit the consumer's offsets as part of this transaction (AddOffsetsToTxn + TxnOffsetCommit)."""
        self._transactions().send_offsets_to_transaction(positions, group_metadata, timeout)

    def commit_transaction(self, timeout: float | None = None) -> None:
        """Flush, then EndTxn(commit): every record of the transaction becomes visible at once.

        A failed record of the transaction makes this raise an error with ``txn_requires_abort()``; a
        timeout is retriable: call it again to wait for the same commit."""
        self._transactions().commit_transaction(timeout)

    def abort_transaction(self, timeout: float | None = None) -> None:
        """EndTxn(abort): the transaction's records stay in the log but read_committed consumers skip them."""
        self._transactions().abort_transaction(timeout)
