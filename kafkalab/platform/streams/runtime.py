"""``KafkaStreams``: run a topology as one application instance, a simulated process made of Kafka clients.

An instance has one stream thread with a consumer (member of the consumer group ``application.id``), a
restore consumer (reads changelogs, never in a group) and a producer; under ``exactly_once_v2`` the producer
is transactional (``transactional.id = <application.id>-<processId>-1``) and the consumer reads
``read_committed``. The thread is driven by timers in virtual time, like every process of the lab, and
never blocks: the transactional calls are resumable (called again until they finish).

What the thread does, in a loop:
1. ``consume()``: rebalance callbacks run here. Partitions are assigned by the group (``range``, which
   keeps the same partition number of co-partitioned topics together); tasks are made from them, one per
   (sub-topology, partition). A task with state stores starts RESTORING: the restore consumer reads its
   changelogs from the beginning until it reaches their end, then the task RUNS.
2. Records go to their task's buffer; running tasks process them (stores write to their changelogs).
3. Commit. exactly_once_v2: ``send_offsets_to_transaction`` + ``commit_transaction`` after every poll
   that processed something (Kafka commits every ``commit.interval.ms`` = 100 ms under EOS; polls here are
   at most that far apart), so outputs, changelog writes and input offsets become visible together or not
   at all. at_least_once: wait until every output is acknowledged, commit the input offsets every
   ``commit.interval.ms`` (30 s by default); a crash in between re-processes what came after the last
   commit, on top of a state that already counted it.

The thread only polls when no transaction is open and nothing is unacknowledged, so the eager rebalance
that ``consume()`` may start never has to wait for a commit.

Standby replicas (``num.standby.replicas``): after each rebalance the thread reads the group's members
(``describe_consumer_groups``) and keeps standby copies of the tasks it would inherit if their owner left
(the ``range`` assignment without that member). Kafka's own assignor also moves active tasks to caught-up
standbys and warms up new instances; this one does not (see the README's Kafka Streams section).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...sim.assignors import MemberSubscription, RangeAssignor
from ...sim.clients.admin import NewTopic
from ...sim.clients.common import OFFSET_BEGINNING, OFFSET_INVALID, TopicPartition
from ...sim.errors import KafkaError, KafkaException
from .tasks import RESTORING, RUNNING, StandbyTask, StreamTask, TaskId
from .topology import CHANGELOG_SUFFIX, Subtopology, Topology, TopologyException

if TYPE_CHECKING:
    from ...sim.cluster import Cluster

__all__ = ["KafkaStreams", "StreamsConfigError", "StreamThread"]

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"
GUARANTEES = (AT_LEAST_ONCE, EXACTLY_ONCE_V2)

STREAMS_DEFAULTS: dict[str, Any] = {
    "processing.guarantee": AT_LEAST_ONCE,
    "num.standby.replicas": 0,
    "num.stream.threads": 1,
    "replication.factor": -1,
    "auto.offset.reset": "earliest",
    "poll.ms": 100,
    "max.poll.records": 1000,
    "session.timeout.ms": 45000,
    "heartbeat.interval.ms": 3000,
    "max.poll.interval.ms": 300000,
    "transaction.timeout.ms": 10000,
    "linger.ms": 100,
    "default.deserialization.exception.handler": "LogAndFailExceptionHandler",
}

_CONSUMER_KEYS = ("session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "max.poll.records")
_PRODUCER_KEYS = ("linger.ms", "transaction.timeout.ms")

#: KafkaStreams.State names
CREATED, REBALANCING, RUNNING_STATE, PENDING_SHUTDOWN, NOT_RUNNING, ERROR = (
    "CREATED",
    "REBALANCING",
    "RUNNING",
    "PENDING_SHUTDOWN",
    "NOT_RUNNING",
    "ERROR",
)


class StreamsConfigError(ValueError):
    """A bad configuration (Java's ``ConfigException``), with Kafka's wording."""


def _check_config(config: dict[str, Any]) -> dict[str, Any]:
    cfg = dict(STREAMS_DEFAULTS)
    cfg.update({k: v for k, v in config.items()})
    app = cfg.get("application.id")
    if not app:
        raise StreamsConfigError(
            'Missing required configuration "application.id" which has no default value.'
        )
    guarantee = str(cfg["processing.guarantee"])
    if guarantee not in GUARANTEES:
        raise StreamsConfigError(
            f"Invalid value {guarantee} for configuration processing.guarantee: String must be one of: "
            f"{', '.join(GUARANTEES)}"
        )
    for key in ("num.standby.replicas", "num.stream.threads", "commit.interval.ms", "poll.ms"):
        if key in cfg:
            try:
                v = int(cfg[key])
            except (TypeError, ValueError):
                raise StreamsConfigError(
                    f"Invalid value {cfg[key]} for configuration {key}: Not a number of type INT"
                ) from None
            if v < 0:
                raise StreamsConfigError(
                    f"Invalid value {v} for configuration {key}: Value must be at least 0"
                )
            cfg[key] = v
    if int(cfg["num.stream.threads"]) != 1:
        raise StreamsConfigError("this lab runs one stream thread per instance (num.stream.threads=1)")
    if "commit.interval.ms" not in config:
        cfg["commit.interval.ms"] = 100 if guarantee == EXACTLY_ONCE_V2 else 30000
    return cfg


class KafkaStreams:
    """One instance of a Kafka Streams application on ``cluster`` (a simulated process)."""

    def __init__(self, topology: Topology, config: dict[str, Any], cluster: Cluster) -> None:
        self.topology = topology
        self.config = _check_config(config)
        self.cluster = cluster
        self.application_id = str(self.config["application.id"])
        self.eos = self.config["processing.guarantee"] == EXACTLY_ONCE_V2
        rng = cluster.kernel.rng
        self.process_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.client_id = str(self.config.get("client.id") or f"{self.application_id}-{self.process_id}")
        self._state = CREATED
        self.error: str | None = None
        self.thread: StreamThread | None = None
        self.killed = False
        #: virtual time of kill() (None: never killed)
        self.killed_at_ms: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        if self._state in (CREATED, PENDING_SHUTDOWN, NOT_RUNNING, ERROR):
            return self._state
        t = self.thread
        if t is None or not t.alive:
            return self._state
        if t.consumer.group_state != "stable" or any(x.state == RESTORING for x in t.tasks.values()):
            return REBALANCING
        if not t.tasks and t.consumer.rebalances == 0:
            return REBALANCING
        return RUNNING_STATE

    def start(self) -> None:
        """Check the topology against the cluster, create internal topics, start the stream thread."""
        if self._state != CREATED:
            raise StreamsConfigError(f"KafkaStreams is not in CREATED state (it is {self._state})")
        if self.cluster.kernel.running:
            raise RuntimeError("KafkaStreams.start() cannot run inside a simulation event")
        admin = self.cluster.admin({"client.id": f"{self.client_id}-admin"})
        partitions = self._prepare_topics(admin)
        self._state = REBALANCING
        self.thread = StreamThread(self, partitions, admin)
        self.thread.start()
        self.cluster.note(
            f"Kafka Streams {self.application_id} instance {self.client_id} started", "platform"
        )

    def _prepare_topics(self, admin: Any) -> dict[str, int]:
        """Source topics must exist and co-partitioned ones agree; repartition and changelog topics are made."""
        md = admin.list_topics(timeout=10)
        counts = {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}
        app = self.application_id
        subs = self.topology.subtopologies()
        internal = set(self.topology.internal_topics)
        missing = sorted(
            {t for st in subs for t in st.source_topics if t not in internal and t not in counts}
        )
        if missing:
            self._state = ERROR
            self.error = f"Missing source topic(s): {missing}"
            raise TopologyException(f"Missing source topic(s) {missing} during assignment.")
        # repartition topics: as many partitions as the largest input of the sub-topology writing them
        rep: dict[str, int] = {}
        for _ in range(len(subs) + 1):
            for st in subs:
                srcs = [counts.get(t) if t not in internal else rep.get(t) for t in st.source_topics]
                if any(n is None for n in srcs):
                    continue
                n = max(x for x in srcs if x is not None)
                for t in st.sink_topics:
                    if t in internal and t not in rep:
                        rep[t] = n
        real: dict[str, int] = {}
        for t in internal:
            if t not in rep:
                raise TopologyException(f"cannot work out the number of partitions of repartition topic {t}")
            real[f"{app}-{t}"] = rep[t]
        for st in subs:
            n_parts = {counts[t] if t not in internal else rep[t] for t in st.source_topics}
            if len(n_parts) > 1:
                raise TopologyException(f"Topics not co-partitioned: [{','.join(st.source_topics)}]")
        new_topics = []
        rf = int(self.config["replication.factor"])
        for t in sorted(internal):
            name = f"{app}-{t}"
            if name not in counts:
                cfg = {"cleanup.policy": "delete", "segment.bytes": "52428800", "retention.ms": "-1"}
                new_topics.append(NewTopic(name, rep[t], rf, config=cfg))
        for st in subs:
            n = next(counts[t] if t not in internal else rep[t] for t in st.source_topics)
            for store in st.stores:
                spec = self.topology.stores[store]
                name = f"{app}-{spec.changelog_suffix}"
                real[name] = n
                if spec.logging and name not in counts:
                    new_topics.append(NewTopic(name, n, rf, config=spec.changelog_config()))
        if new_topics:
            futures = admin.create_topics(new_topics)
            for t, fut in futures.items():
                try:
                    fut.result(30)
                except KafkaException as e:
                    if e.error.name() != "TOPIC_ALREADY_EXISTS":
                        raise
                self.cluster.note(f"Kafka Streams {app} created internal topic {t}", "platform")
        counts.update(real)
        return counts

    def close(self) -> None:
        """Finish the current commit, leave the group, stop. (Outside a simulation event it waits.)"""
        t = self.thread
        if self._state in (NOT_RUNNING, ERROR) or t is None:
            self._state = NOT_RUNNING if self._state != ERROR else ERROR
            return
        self._state = PENDING_SHUTDOWN
        t.shutdown()
        self._state = NOT_RUNNING
        self.cluster.note(f"Kafka Streams {self.application_id} instance {self.client_id} closed", "platform")

    def kill(self) -> None:
        """kill -9: every client dies at once; in-memory stores and any open transaction are left behind."""
        if self.thread is not None:
            self.thread.crash()
        self.killed = True
        self.killed_at_ms = self.cluster.now_ms
        self._state = NOT_RUNNING
        self.cluster.note(f"Kafka Streams instance {self.client_id} was killed", "platform")

    def _fail(self, reason: str) -> None:
        self._state = ERROR
        self.error = reason
        self.cluster.note(f"Kafka Streams instance {self.client_id} failed: {reason}", "platform")

    # -- looking inside ---------------------------------------------------------------------------------
    def active_tasks(self) -> list[StreamTask]:
        """The tasks this instance runs (none once it is closed or killed: its memory is gone)."""
        t = self.thread
        return [] if t is None or not t.alive else [t.tasks[k] for k in sorted(t.tasks)]

    def standby_tasks(self) -> list[StandbyTask]:
        t = self.thread
        return [] if t is None or not t.alive else [t.standbys[k] for k in sorted(t.standbys)]

    def store(self, name: str) -> ReadOnlyStore:
        """Interactive query of a store over this instance's active tasks (``KafkaStreams.store``)."""
        if name not in self.topology.stores:
            raise KeyError(
                f"Cannot get state store {name} because no such store is registered in the topology."
            )
        return ReadOnlyStore(self, name)

    def describe(self) -> list[str]:
        t = self.thread
        lines = [f"{self.client_id}: {self.state}" + (f" ({self.error})" if self.error else "")]
        if t is not None:
            lines.append(
                f"  processed={t.processed_records} commits={t.commits} aborts={t.aborts} "
                f"restored={t.restored_records}"
            )
            for task in self.active_tasks():
                lines.append("  active  " + task.describe())
            for sb in self.standby_tasks():
                lines.append("  standby " + sb.describe())
        return lines


class ReadOnlyStore:
    """A store queried across every active task of one instance (a composite store)."""

    def __init__(self, streams: KafkaStreams, name: str) -> None:
        self.streams = streams
        self.name = name

    def _stores(self) -> list[Any]:
        return [t.stores[self.name] for t in self.streams.active_tasks() if self.name in t.stores]

    def get(self, key: Any) -> Any:
        for s in self._stores():
            v = s.get(key) if s.kind == "kv" else None
            if v is not None:
                return v
        return None

    def fetch(self, key: Any, time_from: int, time_to: int) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for s in self._stores():
            if s.kind == "window":
                out.extend(s.fetch_range(key, time_from, time_to))
        return sorted(out, key=lambda x: x[0])

    def all(self) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for s in self._stores():
            out.extend(s.all())
        return out

    def approximate_num_entries(self) -> int:
        return sum(s.approximate_num_entries() for s in self._stores())


class StreamThread:
    """The stream thread of an instance: consumer, restore consumer, producer, tasks; runs on timers."""

    # phases of the loop
    INIT, POLLING, COMMITTING, ABORTING, FLUSHING, DEAD = (
        "INIT",
        "POLLING",
        "COMMITTING",
        "ABORTING",
        "FLUSHING",
        "DEAD",
    )

    def __init__(self, streams: KafkaStreams, partition_counts: dict[str, int], admin: Any) -> None:
        self.streams = streams
        self.topology = streams.topology
        self.cluster = streams.cluster
        self.app = streams.application_id
        self.eos = streams.eos
        cfg = streams.config
        self.config = cfg
        self._counts = dict(partition_counts)
        self.subtopologies: dict[int, Subtopology] = {st.id: st for st in self.topology.subtopologies()}
        self.source_topics = sorted(
            {self.real_topic(t) for st in self.subtopologies.values() for t in st.source_topics}
        )
        self.continue_on_deserialization_error = "Continue" in str(
            cfg["default.deserialization.exception.handler"]
        )
        cid = f"{streams.client_id}-StreamThread-1"
        self.name = cid
        iso = "read_committed" if self.eos else "read_uncommitted"
        ccfg: dict[str, Any] = {
            "group.id": self.app,
            "client.id": f"{cid}-consumer",
            "enable.auto.commit": False,
            "auto.offset.reset": cfg["auto.offset.reset"],
            "isolation.level": iso,
            "partition.assignment.strategy": "range",
        }
        for k in _CONSUMER_KEYS:
            ccfg[k] = cfg[k]
        ccfg.update({k[len("consumer.") :]: v for k, v in cfg.items() if k.startswith("consumer.")})
        self.consumer = self.cluster.consumer(ccfg, name=f"{cid}-consumer")
        self.restore_consumer = self.cluster.consumer(
            {
                "client.id": f"{cid}-restore-consumer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": iso,
                "fetch.max.wait.ms": 100,
            },
            name=f"{cid}-restore-consumer",
        )
        pcfg: dict[str, Any] = {"client.id": f"{cid}-producer", "acks": "all", "enable.idempotence": True}
        for k in _PRODUCER_KEYS:
            pcfg[k] = cfg[k]
        if self.eos:
            pcfg["transactional.id"] = f"{self.app}-{streams.process_id}-1"
        pcfg.update({k[len("producer.") :]: v for k, v in cfg.items() if k.startswith("producer.")})
        self.producer = self.cluster.producer(pcfg, name=f"{cid}-producer")
        self.admin = admin
        self.tasks: dict[TaskId, StreamTask] = {}
        self.suspended: dict[TaskId, StreamTask] = {}
        self.standbys: dict[TaskId, StandbyTask] = {}
        #: changelog partition -> store it restores into (active restoring tasks and standbys)
        self._restoring: dict[tuple[str, int], Any] = {}
        #: changelog records read per partition while an active task restores (standbys: since promotion)
        self._reads: dict[tuple[str, int], int] = {}
        self.phase = self.INIT if self.eos else self.POLLING
        self.in_txn = False
        self.send_error: KafkaError | None = None
        self._pending_commit: dict[tuple[str, int], int] = {}
        self._group_md: Any = None
        self._commit_step = ""
        self._last_commit_ms = self.cluster.now_ms
        self._timer: Any = None
        self._describe_future: Any = None
        self.processed_records = 0
        self.restored_records = 0
        #: each active task restored from its changelogs: (task id, changelog records read, store entries,
        #: virtual time it became RUNNING); lesson goals read it
        self.restores: list[tuple[str, int, int, int]] = []
        self.commits = 0
        self.aborts = 0
        self.poll_ms = int(cfg["poll.ms"])
        self.commit_interval_ms = int(cfg["commit.interval.ms"])
        self.max_poll_records = int(cfg["max.poll.records"])

    # -- names ---------------------------------------------------------------------------------------------
    def real_topic(self, topic: str) -> str:
        return f"{self.app}-{topic}" if topic in self.topology.internal_topics else topic

    def changelog_topic(self, store: str) -> str:
        return f"{self.app}-{store}{CHANGELOG_SUFFIX}"

    def partition_count(self, topic: str) -> int:
        n = self._counts.get(topic)
        if n is None:
            t = self.admin.topics.get(topic)
            if t is None:
                self.admin.refresh_metadata()
                return -1
            n = self._counts[topic] = t.partitions
        return n

    @property
    def alive(self) -> bool:
        return self.phase != self.DEAD and self.consumer.alive

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self.consumer.subscribe(self.source_topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._schedule(0)

    def _schedule(self, delay_ms: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.consumer.schedule(max(0, delay_ms), "streams-thread", self._tick, self.name)

    def crash(self) -> None:
        self.phase = self.DEAD
        for c in (self.consumer, self.restore_consumer, self.producer, self.admin):
            if c.alive:
                c.crash()

    def shutdown(self) -> None:
        """Clean close: finish an open commit (waiting, when outside an event), then leave the group."""
        if self.phase == self.DEAD:
            return
        kernel = self.cluster.kernel
        if not kernel.running:
            self.cluster.run_until(lambda: self.phase in (self.POLLING, self.DEAD), 30_000)
            if self.phase == self.POLLING and not self.eos:
                self.producer.flush(30)
                self._commit_alos(force=True)
                self.cluster.run_for(50)
        if self._timer is not None:
            self._timer.cancel()
        self.phase = self.DEAD
        self.consumer.close()
        self.restore_consumer.close()
        self.producer.close()

    def _fail(self, reason: str) -> None:
        self.crash()
        self.streams._fail(reason)

    # -- the loop ------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._timer = None
        if self.phase == self.DEAD:
            return
        try:
            delay = self._run_once()
        except KafkaException as e:
            self._fail(f"{e.error.name()}: {e.error.str()}")
            return
        except Exception as e:  # a processor raised: the thread dies, like an uncaught StreamsException
            self._fail(f"{type(e).__name__}: {e}")
            return
        if self.phase != self.DEAD:
            self._schedule(delay)

    def _run_once(self) -> int:
        if self.phase == self.INIT:
            try:
                self.producer.init_transactions(0)
            except KafkaException as e:
                if e.error.retriable():
                    return 10
                raise
            self.phase = self.POLLING
        if self.phase == self.COMMITTING:
            return self._commit_eos()
        if self.phase == self.ABORTING:
            return self._abort_eos()
        if self.phase == self.FLUSHING:
            if self.producer.flush(0) > 0:
                return 5
            self.phase = self.POLLING
            if self.send_error is not None:
                raise KafkaException(self.send_error)
            self._commit_alos(force=False)
        # POLLING: never with an open transaction or unacknowledged records
        msgs = self.consumer.consume(self.max_poll_records, timeout=0)
        for m in msgs:
            if m.error() is not None:
                continue
            task = self._task_of(m.topic(), m.partition())
            if task is not None:
                task.add_record(m)
        self._restore()
        self._update_standbys()
        n = 0
        for tid in sorted(self.tasks):
            task = self.tasks[tid]
            if task.state == RUNNING and task.buffered():
                n += task.process(10_000)
        self.processed_records += n
        if n == 0:
            if (
                not self.eos
            ):  # StreamThread.maybeCommit runs every loop, records or not: idle tasks commit too
                self._commit_alos(force=False)
            return 1 if msgs else self.poll_ms
        if self.eos:
            self._pending_commit = {}
            for task in self.tasks.values():
                self._pending_commit.update(task.offsets_to_commit())
            self._group_md = self.consumer.consumer_group_metadata()
            self._commit_step = "offsets"
            self.phase = self.COMMITTING
            return self._commit_eos()
        self.phase = self.FLUSHING
        self.producer.poll(0)
        return 1

    def _task_of(self, topic: str, partition: int) -> StreamTask | None:
        for task in self.tasks.values():
            if (topic, partition) in task.buffers:
                return task
        return None

    # -- producing -------------------------------------------------------------------------------------------
    def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int, timestamp: int
    ) -> None:
        if self.eos and not self.in_txn:
            self.producer.begin_transaction()
            self.in_txn = True
        self.producer.produce(
            topic,
            value=value,
            key=key,
            partition=partition,
            timestamp=max(1, timestamp),
            on_delivery=self._delivered,
        )

    def _delivered(self, err: KafkaError | None, _msg: Any) -> None:
        if err is not None and self.send_error is None:
            self.send_error = err

    # -- exactly_once_v2 commits -----------------------------------------------------------------------------------
    def _commit_eos(self) -> int:
        p = self.producer
        try:
            if self._commit_step == "offsets":
                if self._pending_commit:
                    if not self.in_txn:
                        p.begin_transaction()
                        self.in_txn = True
                    tps = [TopicPartition(t, q, off) for (t, q), off in sorted(self._pending_commit.items())]
                    p.send_offsets_to_transaction(tps, self._group_md, 0)
                self._commit_step = "commit"
            if self._commit_step == "commit" and self.in_txn:
                p.commit_transaction(0)
        except KafkaException as e:
            err = e.error
            if err.name() == "_TIMED_OUT" and err.retriable():
                return 2
            if err.fatal():
                # fenced: a newer instance owns our transactional.id; our tasks belong to someone else
                self._fail(f"{err.name()}: {err.str()}")
                return 0
            self.cluster.note(
                f"{self.name}: commit failed ({err.name()}), aborting the transaction", "platform"
            )
            self.phase = self.ABORTING
            return self._abort_eos()
        self.in_txn = False
        self.commits += 1
        for task in self.tasks.values():
            task.mark_committed(self._pending_commit)
        self._pending_commit = {}
        self._last_commit_ms = self.cluster.now_ms
        self.phase = self.POLLING
        return 0

    def _abort_eos(self) -> int:
        try:
            if self.in_txn:
                self.producer.abort_transaction(0)
        except KafkaException as e:
            if e.error.name() == "_TIMED_OUT" and e.error.retriable():
                return 2
            if e.error.fatal():
                self._fail(f"{e.error.name()}: {e.error.str()}")
                return 0
            raise
        self.in_txn = False
        self.aborts += 1
        self._pending_commit = {}
        self.send_error = None
        for task in list(self.tasks.values()):
            self._close_dirty(task)
        self.phase = self.POLLING
        return 0

    def _close_dirty(self, task: StreamTask) -> None:
        """Throw away what the task did since its last commit: stores are restored, input re-read."""
        task.clear_buffers()
        for tp, off in task.committed.items():
            with contextlib.suppress(KafkaException):
                self.consumer.seek(TopicPartition(tp[0], tp[1], off))
        task.next_offsets = dict(task.committed)
        fresh = StreamTask(self, task.id, task.sub)
        fresh.committed = dict(task.committed)
        fresh.next_offsets = dict(task.committed)
        fresh.processed_records = task.processed_records
        self.tasks[task.id] = fresh
        self._restore_from_start(fresh)

    # -- at_least_once commits -----------------------------------------------------------------------------
    def _commit_alos(self, force: bool) -> None:
        if not force and self.cluster.now_ms - self._last_commit_ms < self.commit_interval_ms:
            return
        offsets: dict[tuple[str, int], int] = {}
        for task in self.tasks.values():
            offsets.update(task.offsets_to_commit())
        self._last_commit_ms = self.cluster.now_ms
        if not offsets:
            return
        tps = [TopicPartition(t, q, off) for (t, q), off in sorted(offsets.items())]
        self.consumer.commit(offsets=tps, asynchronous=True)
        self.commits += 1
        for task in self.tasks.values():
            task.mark_committed(offsets)

    # -- rebalances -------------------------------------------------------------------------------------------------
    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        gone = [tid for tid, t in self.tasks.items() if revoked & set(t.buffers)]
        if not self.eos:
            offsets: dict[tuple[str, int], int] = {}
            for tid in gone:
                offsets.update(self.tasks[tid].offsets_to_commit())
            if offsets:
                # everything produced so far is acknowledged (the loop only polls then): commit before leaving
                tps = [TopicPartition(t, q, off) for (t, q), off in sorted(offsets.items())]
                self.consumer.commit(offsets=tps, asynchronous=True)
                for tid in gone:
                    self.tasks[tid].mark_committed(offsets)
        for tid in gone:
            task = self.tasks.pop(tid)
            task.clear_buffers()
            self.suspended[tid] = task
            for tp in task.changelogs:
                self._restoring.pop(tp, None)
        self._sync_restore_assignment()

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        owned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        wanted: list[TaskId] = []
        for sid, st in sorted(self.subtopologies.items()):
            topics = [self.real_topic(t) for t in st.source_topics]
            for p in sorted({q for (t, q) in owned if t in topics}):
                if all((t, p) in owned for t in topics):
                    wanted.append(TaskId(sid, p))
        for tid in wanted:
            if tid in self.tasks:
                continue
            old = self.suspended.pop(tid, None)
            if old is not None:
                old.committed = {tp: off for tp, off in old.next_offsets.items()}
                self.tasks[tid] = old
                if old.state == RESTORING:
                    self._restore_from_start(old)
                continue
            standby = self.standbys.pop(tid, None)
            task = StreamTask(
                self, tid, self.subtopologies[tid.subtopology], standby.stores if standby else None
            )
            for tp in task.changelogs:
                self._reads.pop(tp, None)
            self.tasks[tid] = task
            if task.state == RESTORING:
                for tp, store in task.changelogs.items():
                    self._restoring[tp] = task.stores[store]
                if standby is None:
                    self._restore_from_start(task)
        self.suspended.clear()  # tasks not handed back are closed (their in-memory state is gone)
        self._sync_restore_assignment()
        if int(self.config["num.standby.replicas"]) > 0:
            self._describe_future = self.admin.describe_consumer_groups([self.app])[self.app]

    # -- restoration -------------------------------------------------------------------------------------------
    def _restore_from_start(self, task: StreamTask) -> None:
        for tp, store in task.changelogs.items():
            self._restoring[tp] = task.stores[store]
        task.state = RESTORING if task.changelogs else RUNNING
        current = {(x.topic, x.partition) for x in self.restore_consumer.assignment()}
        keep = [TopicPartition(t, p) for (t, p) in sorted(current) if (t, p) not in task.changelogs]
        self.restore_consumer.assign(keep)  # drop first: a fresh start must not see old buffered records
        self._sync_restore_assignment()

    def _sync_restore_assignment(self) -> None:
        rc = self.restore_consumer
        current = {(x.topic, x.partition) for x in rc.assignment()}
        want = set(self._restoring)
        if current == want:
            return
        tps = [
            TopicPartition(t, p, OFFSET_INVALID if (t, p) in current else OFFSET_BEGINNING)
            for (t, p) in sorted(want)
        ]
        rc.assign(tps)

    def _restore(self) -> None:
        rc = self.restore_consumer
        if not self._restoring:
            return
        for m in rc.consume(100_000, timeout=0):
            if m.error() is not None:
                continue
            tp = (m.topic(), m.partition())
            store = self._restoring.get(tp)
            if store is not None:
                store.restore(m.key(), m.value(), m.timestamp()[1])
                self.restored_records += 1
                self._reads[tp] = self._reads.get(tp, 0) + 1
        for task in self.tasks.values():
            if task.state != RESTORING:
                continue
            if all(self._caught_up(tp) for tp in task.changelogs):
                task.state = RUNNING
                reads = 0
                for tp in task.changelogs:
                    self._restoring.pop(tp, None)
                    reads += self._reads.pop(tp, 0)
                n = sum(s.approximate_num_entries() for s in task.stores.values())
                self.restores.append((str(task.id), reads, n, self.cluster.now_ms))
                if n or reads:
                    self.cluster.note(
                        f"{self.name}: task {task.id} is running: {n} store entries, {reads} changelog records "
                        "read to restore them",
                        "platform",
                    )
        self._sync_restore_assignment()

    def _caught_up(self, tp: tuple[str, int]) -> bool:
        rc = self.restore_consumer
        t = TopicPartition(tp[0], tp[1])
        pos = rc.position([t])[0].offset
        _lo, hi = rc.get_watermark_offsets(t, cached=True)
        return pos >= 0 and hi >= 0 and pos >= hi

    # -- standby replicas ---------------------------------------------------------------------------------------
    def _update_standbys(self) -> None:
        fut = self._describe_future
        if fut is None or not fut.done():
            return
        self._describe_future = None
        try:
            desc = fut.result(0)
        except KafkaException:
            return
        if desc.state != "Stable":
            self._describe_future = self.admin.describe_consumer_groups([self.app])[self.app]
            return
        me = self.consumer.consumer_group_metadata().member_id
        members = sorted(m.member_id for m in desc.members)
        if me not in members:
            return
        owner: dict[tuple[str, int], str] = {}
        for m in desc.members:
            for tp in m.assignment.topic_partitions:
                owner[(tp.topic, tp.partition)] = m.member_id
        replicas = int(self.config["num.standby.replicas"])
        wanted: set[TaskId] = set()
        for sid, st in self.subtopologies.items():
            if not any(self.topology.stores[s].logging for s in st.stores):
                continue
            first = self.real_topic(st.source_topics[0])
            for p in range(self.partition_count(first)):
                active = owner.get((first, p))
                if active is None or active == me:
                    continue
                for successor in self._successors(members, active, first, p, replicas):
                    if successor == me:
                        wanted.add(TaskId(sid, p))
        for tid in list(self.standbys):
            if tid not in wanted:
                sb = self.standbys.pop(tid)
                for tp in sb.changelogs:
                    self._restoring.pop(tp, None)
        for tid in sorted(wanted):
            if tid in self.standbys or tid in self.tasks:
                continue
            sb = StandbyTask(self, tid, self.subtopologies[tid.subtopology])
            self.standbys[tid] = sb
            for tp, store in sb.changelogs.items():
                self._restoring[tp] = sb.stores[store]
        self._sync_restore_assignment()

    def _successors(self, members: list[str], active: str, topic: str, partition: int, k: int) -> list[str]:
        """Who would own ``topic-partition`` if ``active`` left, then if that one left too (k of them)."""
        out: list[str] = []
        gone = {active}
        counts = {t: self.partition_count(t) for t in self.source_topics}
        for _ in range(k):
            left = [m for m in members if m not in gone]
            if not left:
                break
            subs = {m: MemberSubscription(m, tuple(self.source_topics)) for m in left}
            assignment = RangeAssignor().assign(counts, subs)
            nxt = next((m for m, tps in assignment.items() if (topic, partition) in tps), None)
            if nxt is None:
                break
            out.append(nxt)
            gone.add(nxt)
        return out


def run_instances(instances: Iterable[KafkaStreams]) -> None:
    """Start several instances (outside simulation events)."""
    for s in instances:
        s.start()
