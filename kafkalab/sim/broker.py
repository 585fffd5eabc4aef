"""A Kafka broker: partition replicas (leader or follower), replication, ISR, produce and fetch.

What a broker keeps in memory (lost when it is killed) and what it keeps in files (kept):
- files: the partition logs (segments + indexes + leader-epoch-checkpoint) and the
  ``replication-offset-checkpoint`` with each partition's high watermark, written every
  ``replica.high.watermark.checkpoint.interval.ms``;
- memory: the metadata image, follower fetch positions, the ISR change in flight, parked (long-poll)
  fetches, produce requests waiting for acks=all, idempotent producer state (rebuilt from the log).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mypy_extensions import mypyc_attr

from .controller import ControllerQuorum
from .group import CONSUMER_OFFSETS
from .kernel import Kernel, Timer
from .log import LogConfig, OffsetOutOfRangeError, PartitionLog, detach_file
from .metadata import NO_LEADER, MetadataImage, MetadataRecord, PartitionRecord
from .network import Endpoint, Network
from .records import ControlType, RecordBatch
from .txn import TRANSACTION_STATE

__all__ = [
    "BROKER_DEFAULTS",
    "fetch_response_size",
    "produce_request_size",
    "Broker",
    "FetchPartition",
    "FetchRequest",
    "FetchResult",
    "Partition",
    "ProduceRequest",
    "ProduceResult",
]

#: Broker configs (Kafka names) and their Kafka defaults.
BROKER_DEFAULTS: dict[str, str] = {
    "replica.lag.time.max.ms": "30000",
    "replica.fetch.wait.max.ms": "500",
    "replica.fetch.min.bytes": "1",
    "replica.fetch.max.bytes": "1048576",
    "replica.fetch.backoff.ms": "1000",
    "replica.high.watermark.checkpoint.interval.ms": "5000",
    "broker.heartbeat.interval.ms": "2000",
    "broker.session.timeout.ms": "9000",
    "min.insync.replicas": "1",
    "unclean.leader.election.enable": "false",
    "default.replication.factor": "1",
    "num.partitions": "1",
    "log.segment.bytes": "1073741824",
    "log.roll.ms": "604800000",
    "log.retention.ms": "604800000",
    "log.retention.bytes": "-1",
    "log.cleanup.policy": "delete",
    "auto.create.topics.enable": "true",
    "offsets.topic.num.partitions": "50",
    "offsets.topic.replication.factor": "3",
    "group.initial.rebalance.delay.ms": "3000",
    "group.min.session.timeout.ms": "6000",
    "group.max.session.timeout.ms": "1800000",
    "transaction.state.log.num.partitions": "50",
    "transaction.state.log.replication.factor": "3",
    "transaction.max.timeout.ms": "900000",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "10000",
    "log.retention.check.interval.ms": "300000",
    "log.cleaner.enable": "true",
    "log.cleaner.backoff.ms": "15000",
}

CONSUMER_REPLICA_ID = -1
UNDEFINED_EPOCH = -1

#: protocol overhead of a request or response (header and framing), and of each partition in it, in bytes
REQUEST_OVERHEAD_BYTES = 60
PARTITION_OVERHEAD_BYTES = 24


def fetch_response_size(results: dict[tuple[str, int], Any]) -> int:
    """Bytes a Fetch response puts on the wire: its record batches plus protocol overhead."""
    size = REQUEST_OVERHEAD_BYTES
    for r in results.values():
        size += PARTITION_OVERHEAD_BYTES
        for b in getattr(r, "batches", ()) or ():
            size += b.size_bytes
    return size


def produce_request_size(batches: list[RecordBatch]) -> int:
    """Bytes a Produce request puts on the wire."""
    return REQUEST_OVERHEAD_BYTES + sum(PARTITION_OVERHEAD_BYTES + b.size_bytes for b in batches)


# --- requests / responses (shapes of Kafka's Produce and Fetch APIs) ---------------------------------
@dataclass(slots=True)
class ProduceRequest:
    acks: int
    timeout_ms: int
    #: (topic, partition, batch)
    batches: list[tuple[str, int, RecordBatch]]
    transactional_id: str | None = None


@dataclass(slots=True)
class ProduceResult:
    error: str
    base_offset: int = -1
    log_start_offset: int = -1
    message: str = ""


@dataclass(slots=True)
class FetchPartition:
    topic: str
    partition: int
    fetch_offset: int
    current_leader_epoch: int = -1
    max_bytes: int = 1048576


@dataclass(slots=True)
class FetchRequest:
    replica_id: int
    max_wait_ms: int
    min_bytes: int
    parts: list[FetchPartition]
    isolation_level: int = 0  # 0 read_uncommitted, 1 read_committed
    max_bytes: int = 52428800


@dataclass(slots=True)
class FetchResult:
    error: str
    high_watermark: int = -1
    log_start_offset: int = -1
    last_stable_offset: int = -1
    batches: list[RecordBatch] = field(default_factory=list)
    #: read_committed only: (producer id, first offset) of aborted transactions in the returned range
    aborted_transactions: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _FollowerState:
    leo: int = -1
    last_caught_up_ms: int = 0
    last_fetch_ms: int = 0
    last_fetch_leader_leo: int = -1


@dataclass(slots=True)
class _ProducerEntry:
    epoch: int
    #: last (up to 5) appended batches: (first_seq, last_seq, base_offset, last_offset)
    batches: deque[tuple[int, int, int, int]]


# Callbacks that wait in the kernel's heap or in a call in flight are bound methods and functools.partials,
# never closures: a time-travel checkpoint pickles them, which mypyc's compiled closures do not allow.
def _ignore_error(_err: str) -> None:
    return None


def _forwarding_failed(respond: Callable[[Any], None], err: str) -> None:
    respond((err, f"forwarding to the controller failed: {err}"))


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _DelayedProduce:
    __slots__ = ("waiting", "results", "respond", "timer", "done", "min_isr")

    def __init__(
        self,
        waiting: dict[tuple[str, int], tuple[Partition, int]],
        results: dict[tuple[str, int], ProduceResult],
        respond: Callable[[Any], None],
    ) -> None:
        self.waiting = waiting
        self.results = results
        self.respond = respond
        self.timer: Timer | None = None
        self.done = False

    def try_complete(self, timed_out: bool = False) -> None:
        if self.done:
            return
        for key, (part, required) in list(self.waiting.items()):
            res = self.results[key]
            if not part.is_leader:
                res.error = "NOT_LEADER_OR_FOLLOWER"
                del self.waiting[key]
            elif part.log.high_watermark >= required:
                if len(part.maximal_isr()) < part.min_isr():
                    res.error = "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
                del self.waiting[key]
            elif timed_out:
                res.error = "REQUEST_TIMED_OUT"
                del self.waiting[key]
        if not self.waiting:
            self.done = True
            if self.timer is not None:
                self.timer.cancel()
            self.respond(self.results)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _DelayedFetch:
    __slots__ = ("broker", "req", "respond", "timer", "done")

    def __init__(self, broker: Broker, req: FetchRequest, respond: Callable[[Any], None]) -> None:
        self.broker = broker
        self.req = req
        self.respond = respond
        self.timer: Timer | None = None
        self.done = False

    def try_complete(self, timed_out: bool = False) -> None:
        if self.done:
            return
        results, size = self.broker._read_fetch(self.req)
        if timed_out or size >= self.req.min_bytes or any(r.error != "NO_ERROR" for r in results.values()):
            self.done = True
            if self.timer is not None:
                self.timer.cancel()
            self.respond(results)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Partition:
    """One replica of a topic-partition hosted on a broker."""

    def __init__(self, broker: Broker, topic: str, index: int, log: PartitionLog) -> None:
        self.broker = broker
        self.topic = topic
        self.index = index
        self.log = log
        self.state: PartitionRecord | None = None
        self.is_leader = False
        self.leader_epoch = -1
        self.followers: dict[int, _FollowerState] = {}
        self.pending_isr: tuple[int, ...] | None = None
        self.delayed_produces: list[_DelayedProduce] = []
        self.delayed_fetches: list[_DelayedFetch] = []
        self.producers: dict[int, _ProducerEntry] = {}
        #: bumped whenever the follower fetch loop must stop (leader change, deletion, crash)
        self.fetch_token = 0
        self.rebuild_producer_state()

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.index}"

    def min_isr(self) -> int:
        return int(self.broker.topic_config(self.topic, "min.insync.replicas"))

    def maximal_isr(self) -> tuple[int, ...]:
        assert self.state is not None
        if self.pending_isr is None:
            return self.state.isr
        return tuple(sorted(set(self.state.isr) | set(self.pending_isr)))

    # -- idempotent producer state (KIP-98) and open transactions --------------------------------------
    def rebuild_producer_state(self) -> None:
        """Rebuild producer sequences, open transactions and aborted transactions from the log."""
        self.producers = {}
        #: producer id -> first offset of its open transaction in this partition
        self.ongoing_txns: dict[int, int] = {}
        #: (producer id, first offset, offset of the ABORT marker) of aborted transactions
        self.aborted_txns: list[tuple[int, int, int]] = []
        #: (first offset, marker offset) of ended transactions whose marker may still be above the high
        #: watermark (Kafka's unreplicated transactions): they hold the LSO until the marker is replicated
        self.unreplicated_txns: list[tuple[int, int]] = []
        for b in self.log.iter_batches(self.log.log_start_offset):
            self._record_producer_batch(b)

    def _record_producer_batch(self, b: RecordBatch) -> None:
        pid = b.producer_id
        if pid < 0:
            return
        if b.is_control:
            first = self.ongoing_txns.pop(pid, None)
            marker = b.control_type
            e = self.producers.get(pid)
            # the marker's epoch (bumped when the transaction ended, KIP-890) fences older batches here too,
            # even if this producer never wrote to this partition before
            if e is None:
                self.producers[pid] = _ProducerEntry(b.producer_epoch, deque(maxlen=5))
            elif b.producer_epoch > e.epoch:
                e.epoch = b.producer_epoch
                e.batches.clear()
            if marker == ControlType.ABORT and first is not None:
                self.aborted_txns.append((pid, first, b.base_offset))
            if first is not None:
                self.unreplicated_txns.append((first, b.base_offset))
            if self.topic == CONSUMER_OFFSETS:
                self.broker.coordinator.on_txn_marker(self.index, pid, marker == ControlType.COMMIT)
            return
        if b.is_transactional and pid not in self.ongoing_txns:
            self.ongoing_txns[pid] = b.base_offset
        e = self.producers.get(pid)
        if e is None or b.producer_epoch > e.epoch:
            e = _ProducerEntry(b.producer_epoch, deque(maxlen=5))
            self.producers[pid] = e
        if b.base_sequence >= 0:
            e.batches.append((b.base_sequence, b.last_sequence, b.base_offset, b.last_offset))

    def last_stable_offset(self) -> int:
        """LSO: the first offset of the oldest transaction that is open or whose marker is not replicated
        yet (above the high watermark), or the high watermark (ProducerStateManager.firstUnstableOffset)."""
        hw = self.log.high_watermark
        lso = hw
        if self.ongoing_txns:
            lso = min(lso, min(self.ongoing_txns.values()))
        if self.unreplicated_txns:
            self.unreplicated_txns = [(f, m) for f, m in self.unreplicated_txns if m >= hw]
            for first, _marker in self.unreplicated_txns:
                lso = min(lso, first)
        return lso

    def aborted_in(self, start: int, end: int) -> list[tuple[int, int]]:
        """(producer id, first offset) of aborted transactions overlapping [start, end)."""
        return [(pid, first) for pid, first, last in self.aborted_txns if last >= start and first < end]

    def check_sequence(self, b: RecordBatch) -> tuple[str, int]:
        """('NO_ERROR', -1) to append; ('DUPLICATE', base_offset) for a retry; or an error name."""
        pid = b.producer_id
        if pid < 0:
            return ("NO_ERROR", -1)
        e = self.producers.get(pid)
        if e is not None and b.producer_epoch < e.epoch:
            return ("INVALID_PRODUCER_EPOCH", -1)
        if b.is_control:
            return ("NO_ERROR", -1)
        if b.base_sequence < 0:  # transactional offset commits carry no sequence
            return ("NO_ERROR", -1)
        if e is None or b.producer_epoch > e.epoch or not e.batches:
            return ("NO_ERROR", -1) if b.base_sequence == 0 else ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)
        for first, last, base, _last_off in e.batches:
            if first == b.base_sequence and last == b.last_sequence:
                return ("DUPLICATE", base)
        last_seq = e.batches[-1][1]
        if b.base_sequence == (last_seq + 1) & 0x7FFFFFFF:
            return ("NO_ERROR", -1)
        return ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)

    # -- leader side --------------------------------------------------------------------------------
    def append_as_leader(self, batch: RecordBatch) -> tuple[str, int, int]:
        """Append a producer batch; returns (error, base_offset, last_offset)."""
        err, dup_base = self.check_sequence(batch)
        if err == "DUPLICATE":
            return ("NO_ERROR", dup_base, dup_base + batch.last_offset_delta)
        if err != "NO_ERROR":
            return (err, -1, -1)
        stored = self.log.append_as_leader(batch, self.leader_epoch)
        obs = self.broker.storage_observer
        if obs is not None:
            obs(
                (
                    "append",
                    self.broker.kernel.now_ms,
                    self.broker.broker_id,
                    self.topic,
                    self.index,
                    stored.base_offset,
                    stored.last_offset,
                    True,
                )
            )
        self._record_producer_batch(stored)
        self.maybe_increment_hw()
        if self.delayed_fetches:
            self.complete_delayed_fetches()
        return ("NO_ERROR", stored.base_offset, stored.last_offset)

    def maybe_increment_hw(self) -> bool:
        if not self.is_leader or self.state is None:
            return False
        log = self.log
        new_hw = log.log_end_offset
        me = self.broker.broker_id
        for b in self.maximal_isr():
            if b == me:
                continue
            f = self.followers.get(b)
            leo = f.leo if f is not None else -1
            if leo < new_hw:
                new_hw = leo
        meta = self.broker.image.topics.get(self.topic)
        if meta is not None and meta.configs.get("lab.ack.quorum") == "majority":
            # The lab-only Raft-style rule (Redpanda): besides Kafka's ISR rule, an offset is committed (HW,
            # acks=all) only once a majority of ALL assigned replicas have it, so a shrunken ISR cannot
            # acknowledge writes that exist on fewer replicas than a majority. Leader election is unchanged.
            leos = [log.log_end_offset]
            for b in self.state.replicas:
                if b != me:
                    fs = self.followers.get(b)
                    leos.append(fs.leo if fs is not None else -1)
            leos.sort(reverse=True)
            quorum_leo = leos[len(self.state.replicas) // 2]
            if quorum_leo < new_hw:
                new_hw = quorum_leo
        if new_hw > log.high_watermark:
            log.update_high_watermark(new_hw)
            obs = self.broker.storage_observer
            if obs is not None:
                obs(("hw", self.broker.kernel.now_ms, self.broker.broker_id, self.topic, self.index, new_hw))
            if self.delayed_produces:
                for d in list(self.delayed_produces):
                    d.try_complete()
                self.delayed_produces = [d for d in self.delayed_produces if not d.done]
            if self.delayed_fetches:
                self.complete_delayed_fetches()
            return True
        return False

    def complete_delayed_fetches(self) -> None:
        pending = self.delayed_fetches
        self.delayed_fetches = []
        for d in pending:
            d.try_complete()
            if not d.done:
                self.delayed_fetches.append(d)

    def update_follower(self, replica_id: int, fetch_offset: int) -> None:
        now = self.broker.kernel.now_ms
        f = self.followers.get(replica_id)
        if f is None:
            f = self.followers[replica_id] = _FollowerState()
        leader_leo = self.log.log_end_offset
        if fetch_offset >= leader_leo:
            f.last_caught_up_ms = now
        elif fetch_offset >= f.last_fetch_leader_leo:
            f.last_caught_up_ms = max(f.last_caught_up_ms, f.last_fetch_ms)
        f.leo = fetch_offset
        f.last_fetch_ms = now
        f.last_fetch_leader_leo = leader_leo
        self.maybe_expand_isr(replica_id, f)
        self.maybe_increment_hw()

    def maybe_expand_isr(self, replica_id: int, f: _FollowerState) -> None:
        st = self.state
        if st is None or self.pending_isr is not None or replica_id in st.isr:
            return
        if f.leo < self.log.high_watermark:
            return
        epoch_start = self._epoch_start_offset()
        if f.leo < epoch_start:
            return
        reg = self.broker.image.brokers.get(replica_id)
        if reg is None or reg.fenced:
            return
        self.broker.alter_isr(self, tuple(sorted(set(st.isr) | {replica_id})), "expand")

    def _epoch_start_offset(self) -> int:
        for epoch, start in reversed(self.log.epoch_entries()):
            if epoch == self.leader_epoch:
                return start
        return 0

    def out_of_sync_followers(self, lag_ms: int) -> list[int]:
        st = self.state
        if st is None:
            return []
        now = self.broker.kernel.now_ms
        leo = self.log.log_end_offset
        out = []
        for b in st.isr:
            if b == self.broker.broker_id:
                continue
            f = self.followers.get(b)
            if f is None:
                continue
            if f.leo != leo and now - f.last_caught_up_ms > lag_ms:
                out.append(b)
        return out

    def fail_waiting(self, error: str) -> None:
        for d in self.delayed_produces:
            for key, (part, _req) in list(d.waiting.items()):
                if part is self:
                    d.results[key].error = error
                    del d.waiting[key]
            if not d.waiting and not d.done:
                d.done = True
                if d.timer is not None:
                    d.timer.cancel()
                d.respond(d.results)
        self.delayed_produces = []
        fetches, self.delayed_fetches = self.delayed_fetches, []
        for fd in fetches:
            fd.try_complete(timed_out=True)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Broker(Endpoint):
    """A broker process (node name ``broker-<id>``)."""

    def __init__(
        self,
        kernel: Kernel,
        net: Network,
        broker_id: int,
        data_dir: Path,
        quorum: ControllerQuorum,
        config: dict[str, str] | None = None,
    ) -> None:
        super().__init__(kernel, net, f"broker-{broker_id}")
        self.broker_id = broker_id
        self.data_dir = data_dir
        self.quorum = quorum
        self.config = dict(BROKER_DEFAULTS)
        if config:
            self.config.update(config)
        #: called with (text, kind, topic) of every timeline entry (see ``Cluster.note``)
        self.listeners: list[Callable[[str, str, str | None], None]] = []
        #: receives ("append", time, broker, topic, partition, base, last, as_leader), ("hw", time, broker,
        #: topic, partition, hw) and ("truncate", time, broker, topic, partition, offset) — for fate ledgers
        self.storage_observer: Callable[[tuple[Any, ...]], None] | None = None
        self._reset_memory()

    # -- lifecycle ------------------------------------------------------------------------------------
    def _reset_memory(self) -> None:
        from .group import GroupCoordinator

        self.image = MetadataImage()
        self.partitions: dict[tuple[str, int], Partition] = {}
        self._hw_checkpoint: dict[tuple[str, int], int] = {}
        self.registered = False
        from .txn import TransactionCoordinator

        self.coordinator = GroupCoordinator(self)
        self.txn_coordinator = TransactionCoordinator(self)
        self._internal_topic_requested: set[str] = set()
        #: topics this broker asked the controller to auto-create, answer pending (AutoTopicCreationManager)
        self._auto_create_requested: set[str] = set()
        #: replication quotas (ReplicationQuotaManager): "leader"/"follower" -> bytes taken per 1 s window
        self._quota_windows: dict[str, tuple[int, int]] = {}

    def cfg_int(self, name: str) -> int:
        return int(self.config[name])

    def dynamic_config(self, name: str) -> str | None:
        """A dynamic broker config set through the controller: this broker's own, else the cluster default."""
        own = self.image.broker_configs.get(str(self.broker_id), {})
        if name in own:
            return own[name]
        return self.image.broker_configs.get("", {}).get(name)

    def _throttled(self, part: Partition, side: str, replica: int) -> int | None:
        """The replication throttle rate (B/s) that applies to ``replica`` of ``part`` on the ``side``
        ("leader"/"follower") of this broker, or None (``{side}.replication.throttled.replicas`` of the topic
        lists it, or is ``*``, and ``{side}.replication.throttled.rate`` is set on this broker)."""
        rate = self.dynamic_config(f"{side}.replication.throttled.rate")
        if rate is None:
            return None
        listed = self.topic_config(part.topic, f"{side}.replication.throttled.replicas").strip()
        if listed != "*" and f"{part.index}:{replica}" not in {x.strip() for x in listed.split(",")}:
            return None
        return int(rate)

    def quota_delay_ms(self, side: str, rate: int) -> int:
        """How long until the ``side`` quota has room again (0: it has room now)."""
        start, used = self._quota_windows.get(side, (0, 0))
        now = self.kernel.now_ms
        if now - start >= 1000:
            return 0
        if used < rate:
            return 0
        # bytes taken beyond the quota push the next window out proportionally
        return max(1, (start + 1000 - now) + (used - rate) * 1000 // max(rate, 1))

    def quota_record(self, side: str, nbytes: int) -> None:
        start, used = self._quota_windows.get(side, (0, 0))
        now = self.kernel.now_ms
        if now - start >= 1000:
            start, used = now, 0
        self._quota_windows[side] = (start, used + nbytes)

    def topic_config(self, topic: str, name: str) -> str:
        t = self.image.topics.get(topic)
        if t is not None and name in t.configs:
            return t.configs[name]
        if name in self.config:
            return self.config[name]
        if t is not None:
            return t.config(name)
        from .metadata import TOPIC_CONFIG_DEFAULTS

        return TOPIC_CONFIG_DEFAULTS[name]

    def boot(self) -> None:
        """Start the process: read checkpoints, register with the controller, start periodic tasks."""
        self.start()
        self._reset_memory()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hw_checkpoint = self._read_hw_checkpoint()
        self._heartbeat()
        lag = self.cfg_int("replica.lag.time.max.ms")
        self.schedule(max(1, lag // 2), "isr-expiration", self._isr_expiration)
        self.schedule(
            self.cfg_int("replica.high.watermark.checkpoint.interval.ms"),
            "hw-checkpoint",
            self._checkpoint_loop,
        )
        self.schedule(self.cfg_int("log.retention.check.interval.ms"), "log-retention", self._retention_loop)
        if self.config["log.cleaner.enable"] == "true":
            self.schedule(self._cleaner_backoff_ms(), "log-cleaner", self._cleaner_loop)

    def crash(self) -> None:
        """kill -9: memory is gone; files stay exactly as written (the OS still has every write)."""
        for p in self.partitions.values():
            p.log.flush()
        super().crash()
        for p in self.partitions.values():
            p.fetch_token += 1
        self._reset_memory()

    def emit(self, text: str, kind: str, topic: str | None = None) -> None:
        """A timeline entry (``kind``: one of ``cluster.TIMELINE_KINDS``; ``topic``: what it is about)."""
        for fn in self.listeners:
            fn(text, kind, topic)

    # -- controller link ------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        ctrl = self.quorum.active
        if ctrl is not None:
            c = ctrl
            self.call(
                c.name,
                "BrokerHeartbeat",
                functools.partial(c.handle_heartbeat, self.broker_id, self.incarnation, self.name),
                self._on_heartbeat,
                _ignore_error,
                self.cfg_int("broker.heartbeat.interval.ms"),
                detail=f"broker {self.broker_id}",
            )
        self.schedule(self.cfg_int("broker.heartbeat.interval.ms"), "heartbeat", self._heartbeat)

    def _on_heartbeat(self, resp: Any) -> None:
        if resp[0] == "NO_ERROR":
            self.registered = True
            self.on_metadata_push(self.quorum.log, len(self.quorum.log))

    def on_metadata_push(self, log: list[MetadataRecord], upto: int) -> None:
        """Apply metadata log records [image.offset+1, upto) and reconcile the replicas they touch.

        A broker that has just (re)started acts on metadata only once its registration is answered: before
        that, the log may still say it leads what its previous incarnation led (the controller fences the
        old incarnation when the new one registers), and acting on it would make a zombie leader."""
        if not self.registered:
            return
        start = self.image.offset + 1
        if upto <= start:
            return
        touched: set[tuple[str, int]] = set()
        removed: set[str] = set()
        for rec in log[start:upto]:
            self.image.apply(rec)
            if rec.kind == "partition" and rec.partition is not None:
                touched.add((rec.partition.topic, rec.partition.partition))
            elif rec.kind == "remove_topic" and rec.name is not None:
                removed.add(rec.name)
            elif rec.kind == "config" and rec.name is not None:
                for key in self.partitions:
                    if key[0] == rec.name:
                        touched.add(key)
        for key in sorted(self.partitions):
            if key[0] in removed and key not in self.image.partitions:
                self._delete_partition(key)
        for key in sorted(touched):
            st = self.image.partitions.get(key)
            if st is not None:
                self._reconcile(st)

    def _log_config(self, topic: str) -> LogConfig:
        tc = self.topic_config
        return LogConfig(
            segment_bytes=int(tc(topic, "segment.bytes")),
            segment_ms=int(tc(topic, "segment.ms")),
            retention_ms=int(tc(topic, "retention.ms")),
            retention_bytes=int(tc(topic, "retention.bytes")),
            cleanup_policy=tc(topic, "cleanup.policy"),
            delete_retention_ms=int(tc(topic, "delete.retention.ms")),
            min_cleanable_dirty_ratio=float(tc(topic, "min.cleanable.dirty.ratio")),
            min_compaction_lag_ms=int(tc(topic, "min.compaction.lag.ms")),
            index_interval_bytes=int(tc(topic, "index.interval.bytes")),
        )

    def partition_dir(self, topic: str, index: int) -> Path:
        return self.data_dir / f"{topic}-{index}"

    def _reconcile(self, st: PartitionRecord) -> None:
        key = (st.topic, st.partition)
        me = self.broker_id
        part = self.partitions.get(key)
        if me not in st.replicas:
            if part is not None:
                self._delete_partition(key)
            return
        if part is None:
            log = PartitionLog(
                self.partition_dir(st.topic, st.partition), self._log_config(st.topic), self._clock
            )
            for note in log.recovery_notes:
                self.emit(f"broker {self.broker_id}: {st.topic}-{st.partition}: {note}", "log", st.topic)
            hw = self._hw_checkpoint.get(key)
            if hw is not None:
                log.update_high_watermark(hw)
            part = Partition(self, st.topic, st.partition, log)
            self.partitions[key] = part
        else:
            part.log.config = self._log_config(st.topic)
        old = part.state
        part.state = st
        if part.pending_isr is not None and old is not None and st.partition_epoch > old.partition_epoch:
            part.pending_isr = None
        if st.leader == me:
            if not part.is_leader or part.leader_epoch != st.leader_epoch:
                self._become_leader(part, st)
            else:
                # a reassignment adds or removes followers without a new leader epoch
                for b in st.replicas:
                    if b != me and b not in part.followers:
                        part.followers[b] = _FollowerState()
                for b in [b for b in part.followers if b not in st.replicas]:
                    del part.followers[b]
                part.maybe_increment_hw()
        else:
            if part.is_leader or part.leader_epoch != st.leader_epoch or old is None:
                self._become_follower(part, st)

    def _clock(self) -> int:
        return self.kernel.now_ms

    def _become_leader(self, part: Partition, st: PartitionRecord) -> None:
        part.fetch_token += 1
        part.is_leader = True
        part.leader_epoch = st.leader_epoch
        part.pending_isr = None
        part.log.assign_epoch(st.leader_epoch, part.log.log_end_offset)
        now = self.kernel.now_ms
        part.followers = {
            b: _FollowerState(last_caught_up_ms=now if b in st.isr else 0)
            for b in st.replicas
            if b != self.broker_id
        }
        self.emit(
            f"broker {self.broker_id} became leader of {part.name} (epoch {st.leader_epoch})",
            "leader",
            part.topic,
        )
        part.maybe_increment_hw()
        if part.topic == CONSUMER_OFFSETS:
            self.coordinator.load_partition(part)
        elif part.topic == TRANSACTION_STATE:
            self.txn_coordinator.load_partition(part)

    def _become_follower(self, part: Partition, st: PartitionRecord) -> None:
        was_leader = part.is_leader
        part.is_leader = False
        part.leader_epoch = st.leader_epoch
        part.pending_isr = None
        part.followers = {}
        part.fail_waiting("NOT_LEADER_OR_FOLLOWER")
        part.fetch_token += 1
        if was_leader:
            self.emit(f"broker {self.broker_id} is now a follower of {part.name}", "leader", part.topic)
            if part.topic == CONSUMER_OFFSETS:
                self.coordinator.unload_partition(part.index)
            elif part.topic == TRANSACTION_STATE:
                self.txn_coordinator.unload_partition(part.index)
        if st.leader != NO_LEADER:
            self._truncate_then_fetch(part, part.fetch_token)

    def _delete_partition(self, key: tuple[str, int]) -> None:
        part = self.partitions.pop(key)
        if key[0] == CONSUMER_OFFSETS:
            self.coordinator.unload_partition(key[1])
        elif key[0] == TRANSACTION_STATE:
            self.txn_coordinator.unload_partition(key[1])
        part.fetch_token += 1
        part.fail_waiting("NOT_LEADER_OR_FOLLOWER")
        part.log.close()
        shutil.rmtree(self.partition_dir(*key), ignore_errors=True)

    # -- follower: truncation by leader epoch (KIP-101/279) and fetching ---------------------------
    def _leader_node(self, part: Partition) -> Broker | None:
        st = part.state
        if st is None or st.leader == NO_LEADER:
            return None
        node = self.net.nodes.get(f"broker-{st.leader}")
        return node if isinstance(node, Broker) else None

    def _truncate_then_fetch(self, part: Partition, token: int) -> None:
        if token != part.fetch_token or part.is_leader:
            return
        leader = self._leader_node(part)
        if leader is None:
            return
        latest = part.log.latest_epoch()
        if latest < 0:
            self._fetch(part, token)
            return
        topic, index, epoch = part.topic, part.index, part.leader_epoch
        self.call(
            leader.name,
            "OffsetsForLeaderEpoch",
            functools.partial(leader.handle_offsets_for_leader_epoch, topic, index, epoch, latest),
            functools.partial(self._on_epoch_end, part, token, latest),
            functools.partial(self._on_epoch_end_error, part, token, latest),
            30000,
            detail=f"{part.name} epoch {latest}",
        )

    def _on_epoch_end_error(self, part: Partition, token: int, latest: int, err: str) -> None:
        self._on_epoch_end(part, token, latest, (err, -1, -1))

    def _on_epoch_end(self, part: Partition, token: int, latest: int, resp: Any) -> None:
        if token != part.fetch_token:
            return
        err, end_epoch, end_offset = resp
        if err != "NO_ERROR":
            self.schedule(
                self.cfg_int("replica.fetch.backoff.ms"),
                "fetch-retry",
                functools.partial(self._truncate_then_fetch, part, token),
            )
            return
        log = part.log
        if end_offset < 0:
            target = log.high_watermark
        elif end_epoch == latest:
            target = min(end_offset, log.log_end_offset)
        else:
            _e, mine = log.end_offset_for_epoch(end_epoch)
            target = min(end_offset, mine if mine >= 0 else log.high_watermark)
        if target < log.log_end_offset:
            dropped = log.log_end_offset - target
            log.truncate_to(target)
            if self.storage_observer is not None:
                self.storage_observer(
                    ("truncate", self.kernel.now_ms, self.broker_id, part.topic, part.index, target)
                )
            part.rebuild_producer_state()
            self.emit(
                f"broker {self.broker_id} truncated {part.name} to offset {target} "
                f"({dropped} records dropped, leader epoch {end_epoch})",
                "log",
                part.topic,
            )
        self._fetch(part, token)

    def _fetch(self, part: Partition, token: int) -> None:
        if token != part.fetch_token or part.is_leader or not self.alive:
            return
        leader = self._leader_node(part)
        if leader is None:
            return
        rate = self._throttled(part, "follower", self.broker_id)
        if rate is not None:
            wait = self.quota_delay_ms("follower", rate)
            if wait > 0:  # the follower replication quota is used up: fetch this partition later
                self.schedule(wait, "fetch-throttled", functools.partial(self._fetch, part, token), part.name)
                return
        req = FetchRequest(
            replica_id=self.broker_id,
            max_wait_ms=self.cfg_int("replica.fetch.wait.max.ms"),
            min_bytes=self.cfg_int("replica.fetch.min.bytes"),
            parts=[
                FetchPartition(
                    part.topic,
                    part.index,
                    part.log.log_end_offset,
                    part.leader_epoch,
                    self.cfg_int("replica.fetch.max.bytes"),
                )
            ],
        )
        self.call(
            leader.name,
            "Fetch",
            functools.partial(leader.handle_fetch, req),
            functools.partial(self._on_fetched, part, token, (part.topic, part.index)),
            functools.partial(self._on_fetch_error, part, token),
            30000,
            detail=f"{part.name} from {part.log.log_end_offset}",
            response_size=fetch_response_size,
        )

    def _on_fetched(
        self, part: Partition, token: int, key: tuple[str, int], results: dict[tuple[str, int], FetchResult]
    ) -> None:
        if token != part.fetch_token:
            return
        r = results[key]
        if r.error == "NO_ERROR":
            log = part.log
            if self._throttled(part, "follower", self.broker_id) is not None:
                self.quota_record("follower", sum(b.size_bytes for b in r.batches))
            for b in r.batches:
                if b.last_offset < log.log_end_offset:
                    continue
                if b.base_offset < log.log_end_offset:  # diverged batch boundaries (after unclean election)
                    log.truncate_to(b.base_offset)
                    if self.storage_observer is not None:
                        self.storage_observer(
                            (
                                "truncate",
                                self.kernel.now_ms,
                                self.broker_id,
                                part.topic,
                                part.index,
                                b.base_offset,
                            )
                        )
                    part.rebuild_producer_state()
                log.append_as_follower(b)
                if self.storage_observer is not None:
                    self.storage_observer(
                        (
                            "append",
                            self.kernel.now_ms,
                            self.broker_id,
                            part.topic,
                            part.index,
                            b.base_offset,
                            b.last_offset,
                            False,
                        )
                    )
                part._record_producer_batch(b)
            log.update_high_watermark(min(r.high_watermark, log.log_end_offset))
            if r.log_start_offset > log.log_start_offset:
                log.maybe_increment_log_start_offset(min(r.log_start_offset, log.high_watermark))
            self._fetch(part, token)
        elif r.error == "OFFSET_OUT_OF_RANGE" and r.log_start_offset > part.log.log_end_offset:
            part.log.truncate_fully_and_start_at(r.log_start_offset)
            part.rebuild_producer_state()
            self._fetch(part, token)
        else:
            self.schedule(
                self.cfg_int("replica.fetch.backoff.ms"),
                "fetch-retry",
                functools.partial(self._truncate_then_fetch, part, token),
            )

    def _on_fetch_error(self, part: Partition, token: int, err: str) -> None:
        if token != part.fetch_token:
            return
        self.schedule(
            self.cfg_int("replica.fetch.backoff.ms"),
            "fetch-retry",
            functools.partial(self._truncate_then_fetch, part, token),
        )

    # -- leader duties ----------------------------------------------------------------------------------
    def _isr_expiration(self) -> None:
        lag = self.cfg_int("replica.lag.time.max.ms")
        for key in sorted(self.partitions):
            part = self.partitions[key]
            if not part.is_leader or part.pending_isr is not None or part.state is None:
                continue
            out = part.out_of_sync_followers(lag)
            if out:
                new_isr = tuple(b for b in part.state.isr if b not in out)
                self.alter_isr(part, new_isr, "shrink")
        self.schedule(max(1, lag // 2), "isr-expiration", self._isr_expiration)

    def alter_isr(self, part: Partition, new_isr: tuple[int, ...], why: str) -> None:
        st = part.state
        ctrl = self.quorum.active
        if st is None or ctrl is None:
            return
        part.pending_isr = new_isr
        token = part.fetch_token
        c = ctrl
        self.call(
            c.name,
            "AlterPartition",
            functools.partial(
                c.handle_alter_partition,
                self.broker_id,
                part.topic,
                part.index,
                st.leader_epoch,
                st.partition_epoch,
                new_isr,
            ),
            functools.partial(self._on_isr_altered, part, token),
            functools.partial(self._on_alter_isr_error, part, token),
            30000,
            detail=f"{part.name} {why} ISR to {list(new_isr)}",
        )

    def _on_isr_altered(self, part: Partition, token: int, resp: Any) -> None:
        if token != part.fetch_token:
            return
        err, new_state = resp
        part.pending_isr = None
        if err == "NO_ERROR" and new_state is not None:
            if part.state is None or new_state.partition_epoch > part.state.partition_epoch:
                part.state = new_state
            part.maybe_increment_hw()

    def _on_alter_isr_error(self, part: Partition, token: int, err: str) -> None:
        if token == part.fetch_token:
            part.pending_isr = None

    # -- request handlers -------------------------------------------------------------------------------
    def handle_produce(self, req: ProduceRequest, respond: Callable[[Any], None]) -> None:
        results: dict[tuple[str, int], ProduceResult] = {}
        waiting: dict[tuple[str, int], tuple[Partition, int]] = {}
        acks = req.acks
        for topic, index, batch in req.batches:
            key = (topic, index)
            part = self.partitions.get(key)
            if part is None or not part.is_leader or part.state is None:
                err = "NOT_LEADER_OR_FOLLOWER" if topic in self.image.topics else "UNKNOWN_TOPIC_OR_PART"
                results[key] = ProduceResult(err)
                continue
            if acks == -1 and len(part.state.isr) < part.min_isr():
                results[key] = ProduceResult(
                    "NOT_ENOUGH_REPLICAS",
                    message=f"ISR {list(part.state.isr)} is smaller than min.insync.replicas={part.min_isr()}",
                )
                continue
            if batch.size_bytes > int(self.topic_config(topic, "max.message.bytes")):
                results[key] = ProduceResult("MSG_SIZE_TOO_LARGE")
                continue
            err, base, last = part.append_as_leader(batch)
            res = ProduceResult(err, base, part.log.log_start_offset)
            results[key] = res
            if err == "NO_ERROR" and acks == -1:
                waiting[key] = (part, last + 1)
        if acks == 0:
            return
        if not waiting:
            respond(results)
            return
        d = _DelayedProduce(waiting, results, respond)
        d.try_complete()
        if not d.done:
            for part, _r in waiting.values():
                part.delayed_produces.append(d)
            d.timer = self.schedule(
                req.timeout_ms, "produce-timeout", functools.partial(d.try_complete, timed_out=True)
            )

    def _read_fetch(self, req: FetchRequest) -> tuple[dict[tuple[str, int], FetchResult], int]:
        results: dict[tuple[str, int], FetchResult] = {}
        size = 0
        follower = req.replica_id >= 0
        budget = req.max_bytes
        for fp in req.parts:
            key = (fp.topic, fp.partition)
            part = self.partitions.get(key)
            if part is None or not part.is_leader:
                results[key] = FetchResult("NOT_LEADER_OR_FOLLOWER")
                continue
            if fp.current_leader_epoch >= 0:
                if fp.current_leader_epoch < part.leader_epoch:
                    results[key] = FetchResult("FENCED_LEADER_EPOCH")
                    continue
                if fp.current_leader_epoch > part.leader_epoch:
                    results[key] = FetchResult("UNKNOWN_LEADER_EPOCH")
                    continue
            log = part.log
            hw = log.high_watermark
            lso = part.last_stable_offset()
            throttle = self._throttled(part, "leader", self.broker_id) if follower else None
            if throttle is not None and self.quota_delay_ms("leader", throttle) > 0:
                # the leader replication quota is used up: nothing for this throttled replica now
                results[key] = FetchResult("NO_ERROR", hw, log.log_start_offset, lso, [], [])
                continue
            max_offset = None if follower else (lso if req.isolation_level == 1 else hw)
            try:
                batches = log.read(fp.fetch_offset, min(fp.max_bytes, max(budget, 1)), max_offset)
            except OffsetOutOfRangeError:
                results[key] = FetchResult("OFFSET_OUT_OF_RANGE", hw, log.log_start_offset, lso)
                continue
            n = 0
            for b in batches:
                n += b.size_bytes
            size += n
            if throttle is not None:
                self.quota_record("leader", n)
            budget -= n
            aborted = (
                part.aborted_in(fp.fetch_offset, batches[-1].next_offset)
                if req.isolation_level == 1 and batches and part.aborted_txns
                else []
            )
            results[key] = FetchResult("NO_ERROR", hw, log.log_start_offset, lso, batches, aborted)
        return results, size

    def handle_fetch(self, req: FetchRequest, respond: Callable[[Any], None]) -> None:
        if req.replica_id >= 0:
            for fp in req.parts:
                part = self.partitions.get((fp.topic, fp.partition))
                if (
                    part is not None
                    and part.is_leader
                    and fp.current_leader_epoch == part.leader_epoch
                    and part.state is not None
                    and req.replica_id in part.state.replicas
                ):
                    part.update_follower(req.replica_id, fp.fetch_offset)
        results, size = self._read_fetch(req)
        if (
            req.max_wait_ms <= 0
            or size >= req.min_bytes
            or any(r.error != "NO_ERROR" for r in results.values())
        ):
            respond(results)
            return
        d = _DelayedFetch(self, req, respond)
        for fp in req.parts:
            part = self.partitions.get((fp.topic, fp.partition))
            if part is not None:
                waiting = part.delayed_fetches
                if waiting:
                    # completed through another partition: they do nothing here, and would pile up forever on
                    # a partition whose high watermark never moves (memory grew without bound)
                    waiting[:] = [x for x in waiting if not x.done]
                waiting.append(d)
        d.timer = self.schedule(
            req.max_wait_ms, "fetch-wait", functools.partial(d.try_complete, timed_out=True)
        )

    def handle_offsets_for_leader_epoch(
        self,
        topic: str,
        index: int,
        current_leader_epoch: int,
        requested_epoch: int,
        respond: Callable[[Any], None],
    ) -> None:
        part = self.partitions.get((topic, index))
        if part is None or not part.is_leader:
            respond(("NOT_LEADER_OR_FOLLOWER", -1, -1))
            return
        if current_leader_epoch < part.leader_epoch:
            respond(("FENCED_LEADER_EPOCH", -1, -1))
            return
        if current_leader_epoch > part.leader_epoch:
            respond(("UNKNOWN_LEADER_EPOCH", -1, -1))
            return
        epoch, end = part.log.end_offset_for_epoch(requested_epoch)
        respond(("NO_ERROR", epoch, end))

    def handle_list_offsets(
        self, topic: str, index: int, timestamp: int, isolation_level: int, respond: Callable[[Any], None]
    ) -> None:
        """ListOffsets: timestamp -2 = earliest, -1 = latest (HW, or LSO for read_committed), -3 = the offset
        of the record with the largest timestamp (KIP-734), else the first offset at or after the timestamp."""
        part = self.partitions.get((topic, index))
        if part is None or not part.is_leader:
            respond(("NOT_LEADER_OR_FOLLOWER", -1))
            return
        log = part.log
        if timestamp == -2:
            respond(("NO_ERROR", log.log_start_offset))
        elif timestamp == -1:
            respond(("NO_ERROR", part.last_stable_offset() if isolation_level else log.high_watermark))
        elif timestamp == -3:
            best, best_ts = -1, -1
            for b in log.iter_batches(log.log_start_offset):
                if b.base_offset >= log.high_watermark:
                    break
                if b.max_timestamp > best_ts:
                    for off, rec in b.iter_records():
                        if rec.timestamp_ms > best_ts and off < log.high_watermark:
                            best, best_ts = off, rec.timestamp_ms
            respond(("NO_ERROR", best))
        else:
            for b in log.iter_batches(log.log_start_offset):
                if b.base_offset >= log.high_watermark:
                    break
                if b.max_timestamp >= timestamp:
                    for off, rec in b.iter_records():
                        if rec.timestamp_ms >= timestamp:
                            respond(("NO_ERROR", off))
                            return
            respond(("NO_ERROR", -1))  # no record at or after the timestamp: UNKNOWN_OFFSET

    def handle_delete_records(
        self, topic: str, index: int, offset: int, respond: Callable[[Any], None]
    ) -> None:
        """DeleteRecords: move the log start offset up to ``offset`` (-1: the high watermark); answers the
        new low watermark. (Kafka waits until every replica's log start offset got there; the followers here
        adopt it from their next fetch response.)"""
        part = self.partitions.get((topic, index))
        if part is None or not part.is_leader:
            respond(("NOT_LEADER_OR_FOLLOWER", -1))
            return
        log = part.log
        target = log.high_watermark if offset == -1 else offset
        if target < 0 or target > log.high_watermark:
            respond(("OFFSET_OUT_OF_RANGE", -1))
            return
        if log.maybe_increment_log_start_offset(target):
            self.emit(
                f"broker {self.broker_id}: DeleteRecords moved the log start offset of {part.name} to {target}",
                "log",
                topic,
            )
        respond(("NO_ERROR", log.log_start_offset))

    def handle_metadata(
        self, respond: Callable[[Any], None], topics: list[str] | None = None, allow_auto_create: bool = False
    ) -> None:
        """Metadata: this broker's (possibly stale) view of topics, partitions and live brokers.

        ``topics`` the client asks about by name; with ``allow_auto_create`` (producers always, Java consumers
        by ``allow.auto.create.topics``) and ``auto.create.topics.enable=true`` a missing one is created with
        ``num.partitions`` and ``default.replication.factor`` (KafkaApis + AutoTopicCreationManager). As in
        KRaft, the answer does not wait for it: the client sees the topic on a later metadata request.

        A KRaft broker serves clients only once it has caught up with the metadata log after starting; until
        then (not registered yet) it answers None and the client asks another broker.
        """
        if not self.registered:
            respond(None)
            return
        if topics and allow_auto_create and self.config.get("auto.create.topics.enable", "true") == "true":
            self._auto_create(topics)
        respond(
            (
                dict(self.image.topics),
                dict(self.image.partitions),
                self.image.live_brokers(),
                self.quorum.state.leader,
            )
        )

    def _auto_create(self, topics: list[str]) -> None:
        import re

        for topic in topics:
            if (
                topic in self.image.topics
                or topic in self._auto_create_requested
                or topic.startswith("__")
                or not re.fullmatch(r"[a-zA-Z0-9._-]{1,249}", topic)
                or topic in (".", "..")
            ):
                continue
            self._auto_create_requested.add(topic)
            parts, rf = self.cfg_int("num.partitions"), self.cfg_int("default.replication.factor")
            self.emit(
                f"broker {self.broker_id}: a client asked for unknown topic {topic}; auto-creating it "
                f"(auto.create.topics.enable=true, num.partitions={parts}, default.replication.factor={rf})",
                "topic",
                topic,
            )
            self.handle_admin(
                "create_topic", (topic, parts, rf, {}, None), functools.partial(self._auto_created, topic)
            )

    def _auto_created(self, topic: str, resp: Any) -> None:
        self._auto_create_requested.discard(topic)
        if resp[0] not in ("NO_ERROR", "TOPIC_ALREADY_EXISTS"):
            detail = f": {resp[1]}" if len(resp) > 1 and resp[1] else ""
            self.emit(
                f"broker {self.broker_id}: auto-creation of topic {topic} failed: {resp[0]}{detail}",
                "topic",
                topic,
            )

    def handle_admin(self, op: str, args: tuple[Any, ...], respond: Callable[[Any], None]) -> None:
        """Admin requests are forwarded to the active controller (KRaft forwarding)."""
        ctrl = self.quorum.active
        if ctrl is None:
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        c = ctrl
        handler = getattr(c, f"handle_{op}")
        self.call(
            c.name,
            op,
            functools.partial(handler, *args),
            respond,
            functools.partial(_forwarding_failed, respond),
            30000,
            detail=op,
        )

    # -- consumer groups ----------------------------------------------------------------------------------
    def handle_find_coordinator(self, key: str, respond: Callable[[Any], None], key_type: int = 0) -> None:
        """FindCoordinator: the leader of the key's partition of ``__consumer_offsets`` (key_type 0, a group)
        or ``__transaction_state`` (key_type 1, a transactional id); the topic is created on first use."""
        if key_type == 0:
            topic, parts_cfg, rf_cfg = (
                CONSUMER_OFFSETS,
                "offsets.topic.num.partitions",
                "offsets.topic.replication.factor",
            )
            index = self.coordinator.partition_for(key)
        else:
            topic, parts_cfg = TRANSACTION_STATE, "transaction.state.log.num.partitions"
            rf_cfg = "transaction.state.log.replication.factor"
            index = self.txn_coordinator.partition_for(key)
        if topic not in self.image.topics:
            if topic not in self._internal_topic_requested:
                self._internal_topic_requested.add(topic)
                live = len(self.image.live_brokers())
                rf = max(1, min(int(self.config[rf_cfg]), live))
                cfg = {"cleanup.policy": "compact", "segment.bytes": "104857600"}
                if key_type == 1:  # transaction.state.log.min.isr defaults to 2
                    cfg["min.insync.replicas"] = str(min(2, rf))
                args = (topic, int(self.config[parts_cfg]), rf, cfg, None)
                self.handle_admin(
                    "create_topic", args, functools.partial(self._internal_topic_created, topic)
                )
            respond(("COORDINATOR_NOT_AVAILABLE", -1))
            return
        st = self.image.partitions.get((topic, index))
        if st is None or st.leader == NO_LEADER:
            respond(("COORDINATOR_NOT_AVAILABLE", -1))
            return
        respond(("NO_ERROR", st.leader))

    def _internal_topic_created(self, topic: str, _r: Any) -> None:
        self._internal_topic_requested.discard(topic)

    def handle_group(self, op: str, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        c = self.coordinator
        handlers: dict[str, Callable[[dict[str, Any], Callable[[Any], None]], None]] = {
            "JoinGroup": c.handle_join,
            "SyncGroup": c.handle_sync,
            "Heartbeat": c.handle_heartbeat,
            "LeaveGroup": c.handle_leave,
            "OffsetCommit": c.handle_offset_commit,
            "OffsetFetch": c.handle_offset_fetch,
            "TxnOffsetCommit": c.handle_txn_offset_commit,
            "DescribeGroups": c.handle_describe_groups,
            "ListGroups": c.handle_list_groups,
        }
        handlers[op](req, respond)

    def handle_txn(self, op: str, args: tuple[Any, ...], respond: Callable[[Any], None]) -> None:
        t = self.txn_coordinator
        handlers: dict[str, Callable[..., None]] = {
            "InitProducerId": t.handle_init_producer_id,
            "AddPartitionsToTxn": t.handle_add_partitions,
            "AddOffsetsToTxn": t.handle_add_offsets,
            "EndTxn": t.handle_end_txn,
        }
        handlers[op](*args, respond)

    def handle_write_markers(
        self,
        pid: int,
        epoch: int,
        commit: bool,
        partitions: list[tuple[str, int]],
        respond: Callable[[Any], None],
    ) -> None:
        """WriteTxnMarkers: append a COMMIT/ABORT control batch to each partition this broker leads."""
        marker = ControlType.COMMIT if commit else ControlType.ABORT
        now = self.kernel.now_ms
        batches = [
            (t, p, RecordBatch.control(marker, producer_id=pid, producer_epoch=epoch, timestamp_ms=now))
            for t, p in partitions
        ]
        self.handle_produce(ProduceRequest(-1, 30000, batches), respond)

    # -- log maintenance: retention and compaction (every replica does its own) ---------------------------
    def _retention_loop(self) -> None:
        now = self.kernel.now_ms
        for key in sorted(self.partitions):
            part = self.partitions[key]
            deleted = part.log.delete_old_segments(now)
            if deleted:
                self.emit(
                    f"broker {self.broker_id} deleted {len(deleted)} old segment(s) of {part.name} "
                    f"(retention); log start offset is now {part.log.log_start_offset}",
                    "log",
                    part.topic,
                )
        self.schedule(self.cfg_int("log.retention.check.interval.ms"), "log-retention", self._retention_loop)

    def _cleaner_loop(self) -> None:
        now = self.kernel.now_ms
        for key in sorted(self.partitions):
            part = self.partitions[key]
            if "compact" not in part.log.config.cleanup_policy:
                continue
            res = part.log.clean(now, last_stable_offset=part.last_stable_offset())
            if res is not None and (res.records_removed or res.tombstones_removed):
                self.emit(
                    f"broker {self.broker_id} compacted {part.name}: {res.records_removed} record(s) removed "
                    f"({res.tombstones_removed} tombstones), {len(res.segments_cleaned)} segment(s) cleaned",
                    "log",
                    part.topic,
                )
        self.schedule(self._cleaner_backoff_ms(), "log-cleaner", self._cleaner_loop)

    def _cleaner_backoff_ms(self) -> int:
        """log.cleaner.backoff.ms may be 0 (Kafka's cleaner thread then checks again at once); a timer
        here repeats at most once per virtual millisecond."""
        return max(1, self.cfg_int("log.cleaner.backoff.ms"))

    # -- checkpoints ------------------------------------------------------------------------------------
    def _checkpoint_loop(self) -> None:
        self.write_hw_checkpoint()
        self.schedule(
            self.cfg_int("replica.high.watermark.checkpoint.interval.ms"),
            "hw-checkpoint",
            self._checkpoint_loop,
        )

    def write_hw_checkpoint(self) -> None:
        lines = ["0", str(len(self.partitions))]
        for (t, p), part in sorted(self.partitions.items()):
            lines.append(f"{t} {p} {part.log.high_watermark}")
        path = self.data_dir / "replication-offset-checkpoint"
        tmp = path.with_suffix(".tmp")
        detach_file(tmp)  # a time-travel checkpoint may share a leftover one (see detach_file)
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, path)

    def _read_hw_checkpoint(self) -> dict[tuple[str, int], int]:
        """The checkpointed high watermarks; a corrupt file is logged and ignored (the leaders recompute
        every high watermark from their followers, and the next checkpoint rewrites the file)."""
        path = self.data_dir / "replication-offset-checkpoint"
        out: dict[tuple[str, int], int] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) < 2 or lines[0] != "0" or int(lines[1]) != len(lines) - 2:
                raise ValueError("expected a version line 0, an entry count and that many entries")
            for line in lines[2:]:
                topic, partition, offset = line.rsplit(" ", 2)
                out[(topic, int(partition))] = int(offset)
                if int(partition) < 0 or int(offset) < 0:
                    raise ValueError(f"negative value in {line[:60]!r}")
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, or malformed
            self.emit(
                f"broker {self.broker_id}: replication-offset-checkpoint is corrupt ({exc}); ignored, "
                "high watermarks are recovered from the leaders",
                "log",
            )
            return {}
        return out
