"""Fault audits: a workload, a seeded schedule of every kind of fault, and auditors that check guarantees.

Each ``run_*_audit(seed)`` builds a cluster whose shape comes from the seed (3-5 brokers, 1 or 3 KRaft
controllers), installs :func:`~kafkalab.sim.faults.random_faults` as kernel events, drives an application
through the faults the way a careful program would (retrying what Kafka says is retriable, aborting what it
says must be aborted, replacing a fenced producer), then heals everything and checks what Kafka promises:

``idempotent``
    an idempotent producer (acks=all, 5 requests in flight): every acknowledged record is in the log exactly
    once, at the offset its delivery report gave, and the acknowledged records of a partition are in the
    order they were sent.
``transactions``
    transactional producers (commits and aborts) with read_committed auditors polling during the faults:
    records of aborted transactions are never visible; every record of a committed transaction is visible,
    once; a transaction whose outcome the application could not learn is visible entirely or not at all; a
    commit never succeeds when one of its records failed; after healing, no transactional.id is stuck (no
    transaction left in PrepareCommit/PrepareAbort, the LSO reaches the high watermark, a new producer can
    ``init_transactions()``).
``groups``
    a consumer group committing offsets after processing (at-least-once: every acknowledged record is
    processed, no committed offset jumps over a record nobody processed) and an exactly-once copier
    (read_committed consumer, transactional producer, offsets sent to the transaction): every source record
    arrives in the sink exactly once.

A report lists findings as plain sentences (empty = every guarantee held) with the seed and schedule, so a
failure can be replayed with one call.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clients.common import OFFSET_BEGINNING, TopicPartition
from .errors import KafkaError, KafkaException
from .faults import heal_everything, install_schedule, random_faults
from .txn import COMPLETE_ABORT, COMPLETE_COMMIT, EMPTY

if TYPE_CHECKING:
    from .clients.consumer import Consumer
    from .clients.producer import Producer
    from .cluster import Cluster

__all__ = ["AUDIT_MODES", "AuditReport", "run_audit", "shape_for"]

AUDIT_MODES = ("idempotent", "transactions", "groups")

#: small internal topics and quick coordinator timers keep an audit short in events, not in meaning
AUDIT_BROKER_CONFIG: dict[str, Any] = {
    "offsets.topic.num.partitions": 5,
    "transaction.state.log.num.partitions": 5,
    "group.initial.rebalance.delay.ms": 0,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
}


@dataclass
class AuditReport:
    mode: str
    seed: int
    brokers: int
    controllers: int
    schedule: list[str]
    findings: list[str] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self) -> str:
        head = f"{self.mode} seed={self.seed} brokers={self.brokers} controllers={self.controllers}"
        return "\n".join(
            [head, "  schedule: " + "; ".join(self.schedule), *("  " + f for f in self.findings[:20])]
        )


def shape_for(seed: int) -> tuple[int, int]:
    """(brokers, controllers) of the audit cluster for ``seed``: 3-5 brokers, 1 or 3 controllers."""
    return 3 + seed % 3, (1, 3)[(seed // 3) % 2]


def _cluster(seed: int, data_dir: Path | None) -> Cluster:
    from .cluster import Cluster

    brokers, controllers = shape_for(seed)
    return Cluster(
        brokers,
        seed=seed,
        controllers=controllers,
        data_dir=data_dir,
        broker_config=AUDIT_BROKER_CONFIG,
        keep_trace=False,
    )


def _scratch_dir() -> str | None:
    """Where audit clusters keep their files: tmpfs when the machine has one (on a disk, a third of an audit's
    time goes to creating, replacing and deleting small files)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def run_audit(mode: str, seed: int, duration_ms: int = 30_000) -> AuditReport:
    runs: dict[str, Callable[[int, int, Path | None], AuditReport]] = {
        "idempotent": run_idempotent_audit,
        "transactions": run_txn_audit,
        "groups": run_groups_audit,
    }
    if mode not in runs:
        raise ValueError(f"mode must be one of {', '.join(AUDIT_MODES)}, not {mode!r}")
    with tempfile.TemporaryDirectory(
        prefix="kafkalab-audit-", dir=_scratch_dir(), ignore_cleanup_errors=True
    ) as scratch:
        return runs[mode](seed, duration_ms, Path(scratch))


def _start(cluster: Cluster, mode: str, seed: int, duration_ms: int, topic: str, parts: int) -> AuditReport:
    brokers, controllers = shape_for(seed)
    schedule = random_faults(
        seed, brokers, duration_ms, controllers=controllers, topic=topic, partitions=parts
    )
    install_schedule(cluster, schedule)
    # the faults end on time even while an application call blocks: then everything heals
    cluster.kernel.schedule(duration_ms, "fault", lambda: heal_everything(cluster), "heal everything")
    return AuditReport(mode, seed, brokers, controllers, [f.describe() for f in schedule])


def _settle(cluster: Cluster, end_ms: int) -> None:
    """Let the schedule finish, then heal everything and give the cluster time to recover."""
    if cluster.now_ms < end_ms:
        cluster.run_for(end_ms - cluster.now_ms)
    heal_everything(cluster)
    cluster.run_for(15_000)


def _read_everything(
    cluster: Cluster, topic: str, isolation: str, report: AuditReport
) -> dict[int, list[tuple[int, bytes | None]]] | None:
    try:
        out = cluster.read_all(topic, isolation_level=isolation, timeout_ms=120_000)
    except KafkaException as e:
        report.findings.append(f"could not read {topic} after healing: {e.error.str()}")
        return None
    return {p: [(o, v) for o, _k, v in rows] for p, rows in out.items()}


# == idempotent producer =====================================================================================
def run_idempotent_audit(seed: int, duration_ms: int = 30_000, data_dir: Path | None = None) -> AuditReport:
    cluster = _cluster(seed, data_dir)
    topic, parts = "t", 3
    try:
        cluster.create_topic(topic, parts, 3, {"min.insync.replicas": 2})
        report = _start(cluster, "idempotent", seed, duration_ms, topic, parts)
        rng = random.Random(seed * 31 + 7)
        producer = cluster.producer(
            {"acks": "all", "enable.idempotence": True, "linger.ms": rng.choice((0, 5, 20))}
        )
        acked: dict[bytes, tuple[int, int, int]] = {}  # value -> (send index, partition, offset)
        failed: set[bytes] = set()

        def report_cb(err: KafkaError | None, msg: Any) -> None:
            v = msg.value()
            if err is None:
                acked[v] = (int(v.split(b"-")[1]), msg.partition(), msg.offset())
            else:
                failed.add(v)

        start = cluster.now_ms
        i = 0
        while cluster.now_ms - start < duration_ms:
            for _ in range(rng.randint(1, 8)):
                producer.produce(topic, key=f"k{rng.randrange(9)}", value=f"v-{i}", on_delivery=report_cb)
                i += 1
            producer.poll(0)
            cluster.run_for(rng.choice((5, 20, 100, 300)))
        _settle(cluster, start + duration_ms)
        left = producer.flush(200.0)
        if left:
            report.findings.append(f"{left} record(s) still without a delivery report after healing")
        cluster.run_for(10_000)
        report.stats.update(sent=i, acked=len(acked), failed=len(failed))
        logs = _read_everything(cluster, topic, "read_uncommitted", report)
        if logs is None:
            return report
        where: dict[bytes, list[tuple[int, int]]] = {}
        for p, rows in logs.items():
            for off, v in rows:
                if v is not None:
                    where.setdefault(v, []).append((p, off))
        for v, places in sorted(where.items()):
            if len(places) > 1:
                what = "acknowledged" if v in acked else "unacknowledged"
                report.findings.append(f"{what} record {v.decode()} written {len(places)} times: {places}")
        for v, (_i, p, off) in sorted(acked.items()):
            if v not in where:
                report.findings.append(
                    f"acknowledged record {v.decode()} (partition {p} offset {off}) is lost"
                )
            elif (p, off) not in where[v]:
                report.findings.append(
                    f"acknowledged record {v.decode()} reported at {p}@{off}, found at {where[v]}"
                )
        for p, rows in logs.items():
            last = -1
            for off, v in rows:
                if v is None or v not in acked:
                    continue
                idx = acked[v][0]
                if idx < last:
                    report.findings.append(
                        f"partition {p}: acknowledged v-{idx} at offset {off} after v-{last} (sent later)"
                    )
                last = max(last, idx)
        return report
    finally:
        cluster.close()


# == transactions ============================================================================================
@dataclass
class _Txn:
    tid: str
    number: int
    values: list[bytes]
    #: open, committed, aborted, unknown (the application could not learn the outcome)
    outcome: str = "open"
    failed_records: int = 0
    commit_tried: bool = False


class _TxnApp:
    """One application process owning ``transactional.id`` ``tid``; replaced when fenced."""

    def __init__(self, cluster: Cluster, tid: str, rng: random.Random, report: AuditReport) -> None:
        self.cluster = cluster
        self.tid = tid
        self.rng = rng
        self.report = report
        self.producer: Producer | None = None
        self.ready = False
        self.txns: list[_Txn] = []
        self.generation = 0

    def _new_producer(self) -> Producer:
        self.generation += 1
        self.ready = False
        self.producer = self.cluster.producer(
            {
                "transactional.id": self.tid,
                "transaction.timeout.ms": 10000,
                "linger.ms": self.rng.choice((0, 5, 20)),
            },
            name=f"{self.tid}-p{self.generation}",
        )
        return self.producer

    def _ensure_ready(self) -> Producer | None:
        p = self.producer or self._new_producer()
        if self.ready:
            return p
        try:
            p.init_transactions(10.0)
            self.ready = True
            return p
        except KafkaException as e:
            self._unexpected_or_fatal(e, "init_transactions")
            return None

    def _unexpected_or_fatal(self, e: KafkaException, call: str) -> None:
        err = e.error
        if err.fatal():
            self.report.stats["fenced"] += 1
            self.producer = None  # a new instance takes over the transactional.id
        elif not err.retriable():
            self.report.findings.append(
                f"{self.tid}: {call} raised {err.name()} ({err.str()}), neither retriable nor fatal"
            )
            self.producer = None

    def one_transaction(self) -> None:
        p = self._ensure_ready()
        if p is None:
            return
        t = _Txn(self.tid, len(self.txns), [])
        try:
            p.begin_transaction()
        except KafkaException as e:
            self.report.findings.append(
                f"{self.tid}: begin_transaction raised {e.error.name()}: {e.error.str()}"
            )
            self.producer = None
            return
        self.txns.append(t)

        def cb(err: KafkaError | None, _msg: Any) -> None:
            if err is not None:
                t.failed_records += 1

        n = self.rng.randint(1, 6)
        for j in range(n):
            v = f"{self.tid}.{t.number}.{j}".encode()
            try:
                p.produce("t", key=f"k{self.rng.randrange(7)}", value=v, on_delivery=cb)
            except KafkaException as e:
                if e.error.fatal():
                    t.outcome = "aborted"
                    self.producer = None
                    return
                break  # the transaction must be aborted: produce() refuses
            t.values.append(v)
            if self.rng.random() < 0.3:
                self.cluster.run_for(self.rng.choice((10, 100, 1000)))
        if self.rng.random() < 0.25:
            self._abort(p, t)
        else:
            self._commit(p, t)

    def _commit(self, p: Producer, t: _Txn) -> None:
        for _attempt in range(30):
            t.commit_tried = True
            try:
                p.commit_transaction(10.0)
            except KafkaException as e:
                err = e.error
                if err.fatal():
                    t.outcome = "unknown"
                    self.report.stats["fenced"] += 1
                    self.producer = None
                    return
                if err.txn_requires_abort():
                    self._abort(p, t)
                    return
                if err.retriable():
                    self.report.stats["commit_retries"] += 1
                    continue
                self.report.findings.append(
                    f"{self.tid}: commit_transaction raised {err.name()} ({err.str()}): neither retriable, "
                    "abortable nor fatal"
                )
                t.outcome = "unknown"
                self.producer = None
                return
            t.outcome = "committed"
            if t.failed_records:
                self.report.findings.append(
                    f"{self.tid}: transaction {t.number} committed although {t.failed_records} of its "
                    "records failed"
                )
            return
        t.outcome = "unknown"
        self.producer = None

    def _abort(self, p: Producer, t: _Txn) -> None:
        for _attempt in range(30):
            try:
                p.abort_transaction(10.0)
            except KafkaException as e:
                err = e.error
                if err.fatal():
                    t.outcome = "unknown" if t.commit_tried else "aborted"
                    self.report.stats["fenced"] += 1
                    self.producer = None
                    return
                if err.retriable():
                    self.report.stats["abort_retries"] += 1
                    continue
                self.report.findings.append(
                    f"{self.tid}: abort_transaction raised {err.name()} ({err.str()}), not retriable"
                )
                t.outcome = "unknown" if t.commit_tried else "aborted"
                self.producer = None
                return
            t.outcome = "aborted"
            return
        t.outcome = "unknown" if t.commit_tried else "aborted"
        self.producer = None


def _coordinator_state(cluster: Cluster, tid: str) -> str | None:
    for b in cluster.brokers.values():
        if not b.alive:
            continue
        coord = b.txn_coordinator
        if coord.owns(tid) is not None:
            snap = coord.snapshot(tid)
            return snap.state if snap is not None else None
    return None


def run_txn_audit(seed: int, duration_ms: int = 30_000, data_dir: Path | None = None) -> AuditReport:
    cluster = _cluster(seed, data_dir)
    topic, parts = "t", 3
    try:
        cluster.create_topic(topic, parts, 3, {"min.insync.replicas": 2})
        report = _start(cluster, "transactions", seed, duration_ms, topic, parts)
        rng = random.Random(seed * 131 + 3)
        apps = [_TxnApp(cluster, f"tx{i}", rng, report) for i in range(2)]
        auditors = [_auditor(cluster, topic, parts, f"auditor-{i}") for i in range(2)]
        seen: dict[bytes, str] = {}
        seen_by: dict[str, set[bytes]] = {a.name: set() for a in auditors}
        start = cluster.now_ms

        def audit() -> None:
            for a in auditors:
                mine = seen_by[a.name]
                for m in a.consume(500, timeout=0):
                    v = m.value()
                    if m.error() is None and v is not None:
                        if v in mine:
                            report.findings.append(f"auditor {a.name} saw {v.decode()} twice")
                        mine.add(v)
                        seen.setdefault(v, a.name)

        while cluster.now_ms - start < duration_ms:
            for app in apps:
                app.one_transaction()
                audit()
            cluster.run_for(rng.choice((0, 50, 500)))
        _settle(cluster, start + duration_ms)
        for app in apps:  # finish what is open, as the application would after the faults
            p = app.producer
            if p is not None and p.txn_state in ("IN_TRANSACTION", "ABORTABLE_ERROR"):
                open_txn = app.txns[-1] if app.txns and app.txns[-1].outcome == "open" else None
                if open_txn is not None:
                    app._abort(p, open_txn)
        cluster.run_for(15_000)  # transaction.timeout.ms (10 s) aborts what an app left open
        cluster.run_until(
            lambda: _transactions_settled(cluster, topic, [a.tid for a in apps]), SETTLE_LIMIT_MS
        )
        for _ in range(10):
            audit()
            cluster.run_for(500)
        txns = [t for app in apps for t in app.txns]
        report.stats.update(
            transactions=len(txns),
            committed=sum(t.outcome == "committed" for t in txns),
            aborted=sum(t.outcome == "aborted" for t in txns),
            unknown=sum(t.outcome == "unknown" for t in txns),
        )
        # no transactional.id stuck: the coordinator finished every transaction, the LSO caught up ...
        for app in apps:
            state = _coordinator_state(cluster, app.tid)
            if state is not None and state not in (EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT):
                report.findings.append(f"{app.tid} is stuck in {state} after healing")
        for b in cluster.brokers.values():
            for (tp_topic, index), part in sorted(b.partitions.items()):
                if (
                    tp_topic == topic
                    and part.is_leader
                    and part.last_stable_offset() < part.log.high_watermark
                ):
                    report.findings.append(
                        f"{tp_topic}-{index}: LSO {part.last_stable_offset()} stays below the high watermark "
                        f"{part.log.high_watermark} after healing (open transactions "
                        f"{sorted(part.ongoing_txns.items())})"
                    )
        final = _read_everything(cluster, topic, "read_committed", report)
        # ... and a new instance of each transactional.id can start
        for app in apps:
            fresh = cluster.producer({"transactional.id": app.tid}, name=f"{app.tid}-after-heal")
            try:
                fresh.init_transactions(60.0)
            except KafkaException as e:
                report.findings.append(f"{app.tid}: init_transactions after healing failed: {e.error.str()}")
        if final is None:
            return report
        visible: Counter[bytes] = Counter(v for rows in final.values() for _o, v in rows if v is not None)
        for v, n in sorted(visible.items()):
            if n > 1:
                report.findings.append(f"{v.decode()} is visible {n} times")
        owner = {v: t for t in txns for v in t.values}
        for v in sorted(visible):
            if v not in owner:
                report.findings.append(f"{v.decode()} is visible but was never produced in a transaction")
        for v, who in sorted(seen.items()):
            t = owner.get(v)
            if t is not None and t.outcome == "aborted":
                report.findings.append(f"{who} saw {v.decode()} of aborted transaction {t.tid}#{t.number}")
            elif v not in visible:
                report.findings.append(f"{who} saw {v.decode()}, which is no longer visible")
        for t in txns:
            shown = [v for v in t.values if v in visible]
            name = f"{t.tid}#{t.number}"
            if t.outcome == "committed" and len(shown) < len(t.values):
                report.findings.append(
                    f"committed transaction {name}: {len(t.values) - len(shown)} of {len(t.values)} values "
                    f"missing ({', '.join(v.decode() for v in t.values if v not in visible)})"
                )
            elif t.outcome == "aborted" and shown:
                report.findings.append(f"aborted transaction {name}: {len(shown)} value(s) visible")
            elif t.outcome in ("unknown", "open") and 0 < len(shown) < len(t.values):
                report.findings.append(
                    f"transaction {name} (outcome {t.outcome}) is partly visible: {len(shown)} of "
                    f"{len(t.values)} values"
                )
        return report
    finally:
        cluster.close()


def _auditor(cluster: Cluster, topic: str, parts: int, name: str) -> Consumer:
    c = cluster.consumer(
        {"isolation.level": "read_committed", "enable.auto.commit": False, "auto.offset.reset": "earliest"},
        name=name,
    )
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(parts)])
    return c


# == consumer groups =========================================================================================
class _EosApp:
    """Consume-transform-produce exactly once: a read_committed consumer in group ``copier`` and a
    transactional producer that sends the consumer's offsets to each transaction. No call waits long; an
    aborted transaction rewinds the consumer to the committed offsets; a fenced or stuck app is replaced
    (kill -9 and a new process, as an orchestrator would)."""

    def __init__(
        self, cluster: Cluster, src: str, sink: str, rng: random.Random, report: AuditReport
    ) -> None:
        self.cluster = cluster
        self.src = src
        self.sink = sink
        self.rng = rng
        self.report = report
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self.ready = False
        self.incarnation = 0

    def _start(self) -> tuple[Consumer, Producer]:
        self.incarnation += 1
        c = self.cluster.consumer(
            {
                "group.id": "copier",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                # a JoinGroup lost to a network cut waits max.poll.interval.ms + 5 s before it is sent again
                "max.poll.interval.ms": 30000,
            },
            name=f"copier-c{self.incarnation}",
        )
        c.subscribe([self.src])
        p = self.cluster.producer(
            {"transactional.id": "copier-tx", "transaction.timeout.ms": 10000},
            name=f"copier-p{self.incarnation}",
        )
        self.consumer, self.producer, self.ready = c, p, False
        return c, p

    def kill(self) -> None:
        for node in (self.consumer, self.producer):
            if node is not None and node.alive:
                node.crash()
        self.consumer = self.producer = None
        self.report.stats["copier_restarts"] += 1

    def step(self) -> None:
        c, p = self.consumer, self.producer
        if c is None or p is None:
            c, p = self._start()
        if not self.ready:
            try:
                p.init_transactions(5.0)
                self.ready = True
            except KafkaException as e:
                if not e.error.retriable():
                    self.kill()
            return
        msgs = [m for m in c.consume(20, timeout=0.05) if m.error() is None]
        if not msgs:
            return
        try:
            p.begin_transaction()
            for m in msgs:
                p.produce(self.sink, key=m.key(), value=b"c:" + (m.value() or b""))
            if self.rng.random() < 0.03:  # the process dies in the middle of its transaction
                p.flush(1.0)
                self.kill()
                return
            self._finish(
                p,
                lambda: p.send_offsets_to_transaction(
                    c.position(c.assignment()), c.consumer_group_metadata(), 5.0
                ),
            )
            self._finish(p, lambda: p.commit_transaction(5.0))
        except KafkaException as e:
            if e.error.fatal() or not e.error.txn_requires_abort():
                self.kill()
                return
            self.report.stats["copier_aborts"] += 1
            try:
                self._finish(p, lambda: p.abort_transaction(5.0))
                committed = c.committed(c.assignment(), timeout=5.0)
            except KafkaException:
                self.kill()
                return
            for tp in committed:
                c.seek(
                    TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                )

    def _finish(self, p: Producer, call: Callable[[], None]) -> None:
        """Call a transactional method, calling it again while it times out (up to a minute)."""
        for _ in range(12):
            try:
                call()
                return
            except KafkaException as e:
                if not e.error.retriable():
                    raise
        raise KafkaException(KafkaError("_TIMED_OUT", "gave up after a minute", fatal=True))


def run_groups_audit(seed: int, duration_ms: int = 30_000, data_dir: Path | None = None) -> AuditReport:
    cluster = _cluster(seed, data_dir)
    src, sink, parts = "in", "out", 3
    try:
        cluster.create_topic(src, parts, 3, {"min.insync.replicas": 2})
        cluster.create_topic(sink, parts, 3, {"min.insync.replicas": 2})
        report = _start(cluster, "groups", seed, duration_ms, src, parts)
        rng = random.Random(seed * 977 + 5)
        producer = cluster.producer({"acks": "all", "linger.ms": 5})
        acked: set[bytes] = set()

        def cb(err: KafkaError | None, msg: Any) -> None:
            if err is None:
                acked.add(msg.value())

        processed: Counter[bytes] = Counter()

        def new_member() -> Consumer:
            c = cluster.consumer(
                {
                    "group.id": "audit",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "max.poll.interval.ms": 30000,
                },
                name=cluster.next_client_name("member"),
            )
            c.subscribe([src])
            return c

        members = [new_member(), new_member()]
        copier = _EosApp(cluster, src, sink, rng, report)
        start = cluster.now_ms
        i = 0

        def poll_members(timeout: float) -> None:
            for c in list(members):
                msgs = [m for m in c.consume(50, timeout=timeout) if m.error() is None]
                for m in msgs:
                    v = m.value()
                    if v is not None:
                        processed[v] += 1
                if msgs:
                    try:
                        c.commit(asynchronous=False)
                    except KafkaException:
                        report.stats["commit_failures"] += 1

        while cluster.now_ms - start < duration_ms:
            for _ in range(rng.randint(1, 5)):
                producer.produce(src, key=f"k{rng.randrange(11)}", value=f"g-{i}", on_delivery=cb)
                i += 1
            producer.poll(0)
            poll_members(0.05)
            copier.step()
            if rng.random() < 0.02:  # a member process dies; a new one joins
                members.pop(rng.randrange(len(members))).crash()
                members.append(new_member())
        _settle(cluster, start + duration_ms)
        producer.flush(200.0)
        deadline = cluster.now_ms + 240_000
        while cluster.now_ms < deadline:
            poll_members(0.2)
            copier.step()
            if (
                acked <= set(processed)
                and _group_caught_up(cluster, "audit", src)
                and _group_caught_up(cluster, "copier", src)
                and _transactions_settled(cluster, sink, ["copier-tx"])
            ):
                break
        report.stats.update(sent=i, acked=len(acked), processed=len(processed))
        missing = sorted(acked - set(processed))
        if missing:
            report.findings.append(
                f"group 'audit' never processed {len(missing)} acknowledged record(s), e.g. "
                f"{', '.join(v.decode() for v in missing[:5])}"
            )
        logs = _read_everything(cluster, src, "read_uncommitted", report)
        offsets = cluster.describe_group("audit").offsets
        if logs is not None:
            for p, rows in logs.items():
                committed = offsets.get((src, p), 0)
                skipped = [o for o, v in rows if o < committed and v is not None and processed[v] == 0]
                if skipped:
                    report.findings.append(
                        f"group 'audit' committed {src}-{p} at {committed} past unprocessed offsets {skipped[:5]}"
                    )
        out = _read_everything(cluster, sink, "read_committed", report)
        if out is not None:
            copied: Counter[bytes] = Counter(v for rows in out.values() for _o, v in rows if v is not None)
            want = {b"c:" + v for v in acked}
            lost = sorted(want - set(copied))
            dups = sorted(v for v, n in copied.items() if n > 1)
            report.stats.update(copied=len(copied))
            if lost:
                state = "finished" if _group_caught_up(cluster, "copier", src) else "did not finish"
                report.findings.append(
                    f"exactly-once copier ({state} after healing): {len(lost)} record(s) never arrived, e.g. "
                    f"{', '.join(v.decode() for v in lost[:5])}"
                )
            if dups:
                report.findings.append(
                    f"exactly-once copier: {len(dups)} record(s) copied twice, e.g. "
                    f"{', '.join(v.decode() for v in dups[:5])}"
                )
        return report
    finally:
        cluster.close()


#: how long after healing every open transaction must be finished (Kafka's request and replica lag timeouts
#: are 30 s each: a marker write waiting for a follower that stopped fetching can take that long twice)
SETTLE_LIMIT_MS = 120_000


def _transactions_settled(cluster: Cluster, topic: str, tids: list[str]) -> bool:
    """No transaction left open: the LSO of every partition of ``topic`` is its high watermark, and every
    ``tids`` is in a final state at its coordinator."""
    for info in cluster.describe_topic(topic):
        leader = cluster.brokers.get(info.leader)
        part = leader.partitions.get((topic, info.partition)) if leader is not None and leader.alive else None
        if part is None or part.last_stable_offset() < part.log.high_watermark:
            return False
    return all(
        _coordinator_state(cluster, tid) in (EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT, None) for tid in tids
    )


def _group_caught_up(cluster: Cluster, group: str, topic: str) -> bool:
    offsets = cluster.describe_group(group).offsets
    for info in cluster.describe_topic(topic):
        if offsets.get((topic, info.partition), 0) < info.high_watermark:
            return False
    return True
