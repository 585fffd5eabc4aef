"""MirrorMaker 2 between two clusters of a :class:`~kafkalab.sim.world.World`, as one simulated process.

A ``MirrorMaker(world, "east", "west")`` is MirrorMaker's dedicated mode for the flow ``east->west``: it runs
next to the target cluster (site ``west``) and reaches ``east`` over the link between the sites, using only
Kafka clients on both clusters. It does what MirrorMaker's three connectors do:

* MirrorSourceConnector: replicates every topic the ``topics``/``topics.exclude`` filters let through into
  ``east.<topic>`` (DefaultReplicationPolicy), same partition, key, value, headers and timestamp; creates the
  remote topic with the source's partition count and topic configs, adds partitions and syncs configs every
  ``refresh.topics.interval.seconds`` / ``sync.topic.configs.interval.seconds``; writes offset syncs
  (upstream offset -> downstream offset) to ``mm2-offset-syncs.west.internal`` in the source cluster when the
  translation would otherwise drift by ``offset.lag.max`` (Kafka's OffsetSyncWriter rules); keeps its source
  positions like Connect in ``mm2-offsets.east.internal`` (every ``offset.flush.interval.ms``).
* MirrorCheckpointConnector: every ``emit.checkpoints.interval.seconds`` reads the source cluster's consumer
  groups and their committed offsets, translates them with the offset syncs (the latest sync at or before the
  offset; one past it when the group is ahead of the sync) and writes checkpoints to
  ``east.checkpoints.internal``; with ``sync.group.offsets.enabled`` it also commits the translated offsets
  for groups that are not active in the target cluster (never moving one back).
* MirrorHeartbeatConnector: a heartbeat record every ``emit.heartbeats.interval.seconds`` into ``heartbeats``
  of the source cluster, which the source connector replicates as ``east.heartbeats``.

Its producer is idempotent with ``acks=all`` and Connect's unbounded delivery timeout, so a cut between the
sites only delays records; after the cut the consumer fetches again from where it was, in order.
Kafka's OffsetSyncStore keeps 64 syncs per partition at exponentially spaced offsets; this one keeps all of
them (same translation for recent offsets, better for old ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..sim.clients import admin as admin_module
from ..sim.clients.admin import (
    ConfigResource,
    ConsumerGroupTopicPartitions,
    NewTopic,
)
from ..sim.clients.common import OFFSET_BEGINNING, OFFSET_INVALID, TopicPartition
from ..sim.errors import KafkaError
from .mirror_records import (
    Checkpoint,
    DefaultReplicationPolicy,
    Heartbeat,
    OffsetSync,
    compile_patterns,
    connect_offset_key,
    connect_offset_value,
    parse_connect_offset,
)

if TYPE_CHECKING:
    from ..sim.cluster import Cluster
    from ..sim.world import World

__all__ = ["MIRROR_DEFAULTS", "MirrorMaker", "MirrorMakerConfigError"]

MIRROR_DEFAULTS: dict[str, str] = {
    "topics": ".*",
    "topics.exclude": r".*[\-\.]internal, .*\.replica, __.*",
    "groups": ".*",
    "groups.exclude": "console-consumer-.*, connect-.*, __.*",
    "replication.factor": "2",
    "offset-syncs.topic.replication.factor": "3",
    "checkpoints.topic.replication.factor": "3",
    "heartbeats.topic.replication.factor": "3",
    "offset.storage.replication.factor": "3",
    "offset.storage.partitions": "25",
    "refresh.topics.interval.seconds": "600",
    "sync.topic.configs.enabled": "true",
    "sync.topic.configs.interval.seconds": "600",
    "refresh.groups.interval.seconds": "600",
    "emit.checkpoints.enabled": "true",
    "emit.checkpoints.interval.seconds": "60",
    "sync.group.offsets.enabled": "false",
    "sync.group.offsets.interval.seconds": "60",
    "emit.heartbeats.enabled": "true",
    "emit.heartbeats.interval.seconds": "1",
    "offset.lag.max": "100",
    "offset.flush.interval.ms": "60000",
    "config.properties.exclude": (
        r"follower\.replication\.throttled\.replicas, leader\.replication\.throttled\.replicas, "
        r"message\.timestamp\.difference\.max\.ms, message\.timestamp\.type, unclean\.leader\.election\.enable, "
        r"min\.insync\.replicas"
    ),
}
_BOOLS = (
    "sync.topic.configs.enabled",
    "emit.checkpoints.enabled",
    "sync.group.offsets.enabled",
    "emit.heartbeats.enabled",
)
_INTS = tuple(
    k for k in MIRROR_DEFAULTS if k.endswith((".seconds", ".ms", "factor", "partitions", "offset.lag.max"))
)
_TICK_MS = 50


class MirrorMakerConfigError(ValueError):
    """A bad MirrorMaker setting, named like Connect's ``ConfigException``."""


def _check(config: dict[str, Any]) -> dict[str, str]:
    cfg = dict(MIRROR_DEFAULTS)
    for k, v in config.items():
        if k not in MIRROR_DEFAULTS:
            raise MirrorMakerConfigError(
                f"Unknown MirrorMaker configuration '{k}' (known: {', '.join(sorted(MIRROR_DEFAULTS))})"
            )
        cfg[k] = str(v).lower() if isinstance(v, bool) else str(v)
    for k in _BOOLS:
        if cfg[k].lower() not in ("true", "false"):
            raise MirrorMakerConfigError(
                f"Invalid value {cfg[k]} for configuration {k}: Expected value to be either true or false"
            )
    for k in _INTS:
        try:
            n = int(cfg[k])
        except ValueError:
            raise MirrorMakerConfigError(
                f"Invalid value {cfg[k]} for configuration {k}: Not a number of type LONG"
            ) from None
        if n < (1 if k.endswith(("factor", "partitions")) else 0):
            raise MirrorMakerConfigError(f"Invalid value {n} for configuration {k}: Value must be at least 1")
    for k in ("topics", "topics.exclude", "groups", "groups.exclude", "config.properties.exclude"):
        try:
            compile_patterns(cfg[k])
        except Exception as e:
            raise MirrorMakerConfigError(f"Invalid value {cfg[k]} for configuration {k}: {e}") from None
    return cfg


@dataclass
class _PartitionState:
    """OffsetSyncWriter.PartitionState: when an offset sync must be sent."""

    max_lag: int
    previous_upstream: int = -1
    previous_downstream: int = -1
    last_sync_downstream: int = -1
    should_sync: bool = False

    def update(self, upstream: int, downstream: int) -> bool:
        no_previous = self.last_sync_downstream == -1
        too_stale = downstream - (self.last_sync_downstream + 1) >= self.max_lag
        skipped = upstream - self.previous_upstream != 1
        truncated = downstream < self.previous_downstream
        if no_previous or too_stale or skipped or truncated:
            self.last_sync_downstream = downstream
            self.should_sync = True
        self.previous_upstream = upstream
        self.previous_downstream = downstream
        return self.should_sync


class MirrorMaker:
    """MirrorMaker 2 (dedicated mode) for one flow ``source->target`` of a world; a simulated process."""

    def __init__(
        self,
        world: World,
        source: str,
        target: str,
        config: dict[str, Any] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if source == target:
            raise MirrorMakerConfigError("the source and target clusters of a replication flow must differ")
        self.world = world
        self.src: Cluster = world[source]
        self.tgt: Cluster = world[target]
        self.source, self.target = source, target
        self.config = _check(dict(config or {}))
        self.name = name or f"mm2-{source}-{target}"
        self.policy = DefaultReplicationPolicy()
        c = self.config
        self._topics_in = compile_patterns(c["topics"])
        self._topics_ex = compile_patterns(c["topics.exclude"])
        self._groups_in = compile_patterns(c["groups"])
        self._groups_ex = compile_patterns(c["groups.exclude"])
        self._props_ex = compile_patterns(c["config.properties.exclude"])
        self.offset_syncs_topic = self.policy.offset_syncs_topic(target)
        self.checkpoints_topic = self.policy.checkpoints_topic(source)
        self.offsets_topic = f"mm2-offsets.{source}.internal"
        self.running = False
        self.killed = False
        #: counters for the console
        self.replicated: dict[tuple[str, int], int] = {}
        self.offset_syncs_sent = 0
        self.checkpoints_sent = 0
        self.heartbeats_sent = 0
        self.group_offsets_synced = 0
        self.last_error: str | None = None
        self.log: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the process: clients on both clusters (the source ones placed in the target's site)."""
        if self.running:
            return
        n = self.name
        src, tgt = self.src, self.tgt
        self.src_consumer = src.consumer(
            {
                "client.id": f"{n}-source-consumer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
            name=src.next_client_name(f"{n}-source-consumer"),
        )
        self.syncs_consumer = src.consumer(
            {
                "client.id": f"{n}-offset-syncs-consumer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
            name=src.next_client_name(f"{n}-offset-syncs-consumer"),
        )
        self.src_producer = src.producer(
            {
                "client.id": f"{n}-source-producer",
                "acks": "all",
                "delivery.timeout.ms": 2**31 - 1,
                "linger.ms": 0,
            },
            name=src.next_client_name(f"{n}-source-producer"),
        )
        self.src_admin = src.admin({"client.id": f"{n}-source-admin"})
        self.tgt_producer = tgt.producer(
            {
                "client.id": f"{n}-producer",
                "acks": "all",
                "enable.idempotence": True,
                "delivery.timeout.ms": 2**31 - 1,
                "linger.ms": 0,
                "max.in.flight.requests.per.connection": 1,
            },
            name=tgt.next_client_name(f"{n}-producer"),
        )
        self.offsets_consumer = tgt.consumer(
            {
                "client.id": f"{n}-offsets-consumer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
            name=tgt.next_client_name(f"{n}-offsets-consumer"),
        )
        self.tgt_admin = tgt.admin({"client.id": f"{n}-target-admin"})
        for node in (self.src_consumer, self.syncs_consumer, self.src_producer, self.src_admin):
            self.world.place(node, self.target)
        self.running = True
        self.killed = False
        self.phase = "creating internal topics"
        #: (topic, partition) -> next upstream offset to read (Connect's committed offset + 1)
        self.committed: dict[tuple[str, int], int] = {}
        #: upstream offset of the last record written, per partition, not yet in mm2-offsets
        self.acked: dict[tuple[str, int], int] = {}
        self.flushed: dict[tuple[str, int], int] = {}
        self.assigned: set[tuple[str, int]] = set()
        self.remote_topics: dict[str, int] = {}
        self.states: dict[tuple[str, int], _PartitionState] = {}
        self.pending_syncs: dict[tuple[str, int], OffsetSync] = {}
        self.delayed_syncs: dict[tuple[str, int], OffsetSync] = {}
        self.outstanding_syncs = 0
        self.sync_store: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self.syncs_read_to_end = False
        self.last_checkpoint: dict[str, dict[tuple[str, int], Checkpoint]] = {}
        self._waits: list[tuple[list[Any], Callable[[], None]]] = []
        self._busy: set[str] = set()
        now = self.tgt.now_ms
        self._due = {
            "topics": now,
            "configs": now,
            "checkpoints": now,
            "groups": now,
            "heartbeat": now,
            "flush": now,
        }
        self._internal_topics_requested = False
        self._timer = self.tgt_producer.schedule(0, "mirror-maker", self._tick, self.name)
        for c in (self.src, self.tgt):
            c.note(f"MirrorMaker {self.source}->{self.target} started ({self.name})", "platform")

    def _clients(self) -> list[Any]:
        return [
            self.src_consumer,
            self.syncs_consumer,
            self.src_producer,
            self.src_admin,
            self.tgt_producer,
            self.offsets_consumer,
            self.tgt_admin,
        ]

    def kill(self) -> None:
        """kill -9 of the MirrorMaker process: unflushed positions are lost, records may be sent again."""
        if not self.running:
            return
        self.running = False
        self.killed = True
        for c in self._clients():
            if c.alive:
                c.crash()
        for c in (self.src, self.tgt):
            c.note(f"MirrorMaker {self.name} was killed", "platform")

    def stop(self) -> None:
        """Clean stop: flush positions (outside a simulation event it waits for them), then close."""
        if not self.running:
            return
        if not self.tgt.kernel.running:
            self._flush_offsets(force=True)
            self.tgt_producer.flush(30)
        self.running = False
        self._timer.cancel()
        for c in (self.src_consumer, self.syncs_consumer, self.offsets_consumer):
            c.close()
        for c in (self.src, self.tgt):
            c.note(f"MirrorMaker {self.name} stopped", "platform")

    def restart(self) -> None:
        if self.running:
            self.kill()
        self.start()

    def _note(self, text: str) -> None:
        self.log.append(f"{self.tgt.now_ms} {text}")
        if len(self.log) > 200:
            del self.log[:100]

    # -- naming and filters ----------------------------------------------------------------------------------
    def remote(self, topic: str) -> str:
        return self.policy.format_remote_topic(self.source, topic)

    def should_replicate(self, topic: str) -> bool:
        if self.policy.is_internal_topic(topic) and not self.policy.is_heartbeats_topic(topic):
            return False
        if self.policy.topic_source(topic) == self.target:
            return False  # a cycle: it came from the target
        if self.policy.is_heartbeats_topic(topic):
            return True
        return bool(self._topics_in.fullmatch(topic)) and not self._topics_ex.fullmatch(topic)

    def should_sync_group(self, group: str) -> bool:
        return bool(self._groups_in.fullmatch(group)) and not self._groups_ex.fullmatch(group)

    # -- the loop ---------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        if not self.running:
            return
        try:
            self._step()
        except Exception as e:  # never let a bug stop the simulation; the process records it and goes on
            self.last_error = f"{type(e).__name__}: {e}"
            self._note(self.last_error)
        if self.running:
            self._timer = self.tgt_producer.schedule(_TICK_MS, "mirror-maker", self._tick, self.name)

    def _wait(self, futures: list[Any], then: Callable[[], None]) -> None:
        self._waits.append((futures, then))

    def _serve_waits(self) -> None:
        ready = [w for w in self._waits if all(f.done() for f in w[0])]
        self._waits = [w for w in self._waits if w not in ready]
        for _f, then in ready:
            then()

    def _step(self) -> None:
        self._serve_waits()
        now = self.tgt.now_ms
        if self.phase == "creating internal topics":
            if not self._internal_topics_requested:
                self._create_internal_topics()
            return
        if self.phase == "loading offsets":
            self._load_offsets()
            return
        c = self.config
        if now >= self._due["topics"] and "topics" not in self._busy:
            self._due["topics"] = now + int(c["refresh.topics.interval.seconds"]) * 1000
            self._refresh_topics()
        if (
            c["sync.topic.configs.enabled"] == "true"
            and now >= self._due["configs"]
            and "configs" not in self._busy
        ):
            self._due["configs"] = now + int(c["sync.topic.configs.interval.seconds"]) * 1000
            self._sync_configs()
        self._replicate()
        self._read_offset_syncs()
        if c["emit.heartbeats.enabled"] == "true" and now >= self._due["heartbeat"]:
            self._due["heartbeat"] = now + int(c["emit.heartbeats.interval.seconds"]) * 1000
            hb = Heartbeat(self.target, self.source, now)
            self.src_producer.produce(
                self.policy.heartbeats_topic(), key=hb.key(), value=hb.value(), partition=0
            )
            self.src_producer.poll(0)
            self.heartbeats_sent += 1
        if (
            c["emit.checkpoints.enabled"] == "true"
            and now >= self._due["checkpoints"]
            and "checkpoints" not in self._busy
        ):
            self._due["checkpoints"] = now + int(c["emit.checkpoints.interval.seconds"]) * 1000
            self._emit_checkpoints()
        if (
            c["sync.group.offsets.enabled"] == "true"
            and now >= self._due["groups"]
            and "groups" not in self._busy
        ):
            self._due["groups"] = now + int(c["sync.group.offsets.interval.seconds"]) * 1000
            self._sync_group_offsets()
        if now >= self._due["flush"]:
            self._due["flush"] = now + int(c["offset.flush.interval.ms"])
            self._flush_offsets(force=False)
        self.tgt_producer.poll(0)
        self.src_producer.poll(0)  # offset-sync and heartbeat delivery reports (frees the 10 sync slots)

    # -- internal topics and Connect offsets -----------------------------------------------------------------------
    def _create_internal_topics(self) -> None:
        self._internal_topics_requested = True
        c = self.config
        src_new = [
            NewTopic(
                self.offset_syncs_topic,
                1,
                int(c["offset-syncs.topic.replication.factor"]),
                config={"cleanup.policy": "compact"},
            ),
        ]
        if c["emit.heartbeats.enabled"] == "true":
            src_new.append(
                NewTopic(
                    "heartbeats",
                    1,
                    int(c["heartbeats.topic.replication.factor"]),
                    config={"cleanup.policy": "compact"},
                )
            )
        tgt_new = [
            NewTopic(
                self.checkpoints_topic,
                1,
                int(c["checkpoints.topic.replication.factor"]),
                config={"cleanup.policy": "compact"},
            ),
            NewTopic(
                self.offsets_topic,
                int(c["offset.storage.partitions"]),
                int(c["offset.storage.replication.factor"]),
                config={"cleanup.policy": "compact"},
            ),
        ]

        def make() -> None:
            futs: list[Any] = []
            want_src = [t for t in src_new if t.topic not in self.src_admin.topics]
            want_tgt = [t for t in tgt_new if t.topic not in self.tgt_admin.topics]
            if want_src:
                futs += list(self.src_admin.create_topics(want_src).values())
            if want_tgt:
                futs += list(self.tgt_admin.create_topics(want_tgt).values())

            def done() -> None:
                errors = []
                for f in futs:
                    e = f.exception(0)
                    if e is not None and e.error.name() != "TOPIC_ALREADY_EXISTS":
                        errors.append(f"{e.error.name()}: {e.error.str()}")
                if errors:
                    self.last_error = "creating internal topics failed: " + "; ".join(errors)
                    self._note(self.last_error)
                    self._internal_topics_requested = False  # try again next tick
                    return
                self.phase = "loading offsets"
                self._offsets_loaded: dict[tuple[str, int], int] = {}
                self._offsets_assigned = False

            self._wait(futs, done)

        left = [2]

        def one() -> None:
            left[0] -= 1
            if left[0] == 0:
                make()

        self.src_admin.refresh_metadata(one)
        self.tgt_admin.refresh_metadata(one)

    def _load_offsets(self) -> None:
        """Read mm2-offsets.<source>.internal to its end: where a previous run of this flow got to."""
        oc = self.offsets_consumer
        if not self._offsets_assigned:
            n = self.tgt_admin.topics.get(self.offsets_topic)
            if n is None:
                self.tgt_admin.refresh_metadata()
                return
            oc.assign([TopicPartition(self.offsets_topic, p, OFFSET_BEGINNING) for p in range(n.partitions)])
            self._offsets_assigned = True
            return
        for m in oc.consume(10_000, timeout=0):
            if m.error() is not None:
                continue
            parsed = parse_connect_offset(m.key(), m.value())
            if parsed is None or parsed[0] != "MirrorSourceConnector" or parsed[1] != self.source:
                continue
            _conn, _cl, topic, part, off = parsed
            if off is None:
                self._offsets_loaded.pop((topic, part), None)
            else:
                self._offsets_loaded[(topic, part)] = off
        for tp in oc.assignment():
            pos = oc.position([tp])[0].offset
            _lo, hi = oc.get_watermark_offsets(tp, cached=True)
            if pos < 0 or hi < 0 or pos < hi:
                return
        self.committed = {tp: off + 1 for tp, off in self._offsets_loaded.items()}
        self.flushed = dict(self._offsets_loaded)
        oc.unassign()
        self.phase = "running"
        self.syncs_consumer.assign([TopicPartition(self.offset_syncs_topic, 0, OFFSET_BEGINNING)])
        if self.committed:
            self._note(f"resuming {len(self.committed)} partitions from {self.offsets_topic}")

    def _flush_offsets(self, force: bool) -> None:
        """Connect's offset commit: the last written upstream offset per partition, and delayed offset syncs."""
        for (topic, part), off in sorted(self.acked.items()):
            if self.flushed.get((topic, part)) == off:
                continue
            self.tgt_producer.produce(
                self.offsets_topic,
                key=connect_offset_key("MirrorSourceConnector", self.source, topic, part),
                value=connect_offset_value(off),
            )
            self.flushed[(topic, part)] = off
        # OffsetSyncWriter.promoteDelayedOffsetSyncs on commit
        self.pending_syncs.update(self.delayed_syncs)
        self.delayed_syncs.clear()
        self._fire_offset_syncs()
        if force:
            self.tgt_producer.poll(0)

    # -- MirrorSourceConnector: topics, partitions, configs ---------------------------------------------------
    def _refresh_topics(self) -> None:
        self._busy.add("topics")
        left = [2]

        def one() -> None:
            left[0] -= 1
            if left[0] == 0:
                self._busy.discard("topics")
                self._compute_and_create()

        self.src_admin.refresh_metadata(one)
        self.tgt_admin.refresh_metadata(one)

    def _compute_and_create(self) -> None:
        src_topics = {
            t: rec.partitions for t, rec in self.src_admin.topics.items() if self.should_replicate(t)
        }
        tgt_topics = {t: rec.partitions for t, rec in self.tgt_admin.topics.items()}
        new_topics, grow = [], []
        for t, n in sorted(src_topics.items()):
            r = self.remote(t)
            if r not in tgt_topics:
                cfg = self._topic_config(t)
                new_topics.append(NewTopic(r, n, int(self.config["replication.factor"]), config=cfg))
            elif tgt_topics[r] < n:
                grow.append((r, n))
        futs: list[Any] = []
        if new_topics:
            for name, f in self.tgt_admin.create_topics(new_topics).items():
                futs.append(f)
                self._watch(f, f"created remote topic {name}", f"creating {name}")
        if grow:
            create_partitions = getattr(self.tgt_admin, "create_partitions", None)
            new_partitions = getattr(admin_module, "NewPartitions", None)
            if create_partitions is None or new_partitions is None:
                self.last_error = "this cluster's AdminClient cannot add partitions (create_partitions)"
                self._note(self.last_error)
            else:
                for name, f in create_partitions([new_partitions(r, n) for r, n in grow]).items():
                    futs.append(f)
                    self._watch(
                        f,
                        f"increased {name} to {dict(grow)[name]} partitions",
                        f"adding partitions to {name}",
                    )
        self.remote_topics = {t: n for t, n in src_topics.items()}
        # assign every partition of every replicated topic (new ones from the start)
        want = {(t, p) for t, n in src_topics.items() for p in range(n)}
        if want != self.assigned:
            tps = []
            for t, p in sorted(want):
                if (t, p) in self.assigned:
                    tps.append(TopicPartition(t, p, OFFSET_INVALID))
                elif (t, p) in self.committed:
                    tps.append(TopicPartition(t, p, self.committed[(t, p)]))
                else:
                    tps.append(TopicPartition(t, p, OFFSET_BEGINNING))
            self.src_consumer.assign(tps)
            self.assigned = want

    def _watch(self, fut: Any, ok: str, what: str) -> None:
        def done() -> None:
            e = fut.exception(0)
            if e is None:
                self._note(ok)
                self.tgt.note(f"MirrorMaker {self.name}: {ok}", "platform")
            elif e.error.name() != "TOPIC_ALREADY_EXISTS":
                self.last_error = f"{what} failed: {e.error.name()}: {e.error.str()}"
                self._note(self.last_error)

        self._wait([fut], done)

    def _topic_config(self, topic: str) -> dict[str, str]:
        try:
            cfg = self.src.topic_configs(topic)
        except Exception:
            return {}
        return {k: v for k, v in cfg.items() if not self._props_ex.fullmatch(k)}

    def _sync_configs(self) -> None:
        self._busy.add("configs")
        src_res = [ConfigResource("topic", t) for t in sorted(self.remote_topics)]
        tgt_res = [
            ConfigResource("topic", self.remote(t))
            for t in sorted(self.remote_topics)
            if self.remote(t) in self.tgt_admin.topics
        ]
        if not src_res or not tgt_res:
            self._busy.discard("configs")
            return
        sf = self.src_admin.describe_configs(src_res)
        tf = self.tgt_admin.describe_configs(tgt_res)

        def done() -> None:
            self._busy.discard("configs")
            target = {r.name: f.result(0) for r, f in tf.items() if f.exception(0) is None}
            changes = []
            for r, f in sf.items():
                if f.exception(0) is not None:
                    continue
                remote = self.remote(r.name)
                have = target.get(remote)
                if have is None:
                    continue
                diff = {
                    k: v
                    for k, v in f.result(0).items()
                    if not self._props_ex.fullmatch(k) and have.get(k) != v
                }
                if diff:
                    changes.append(ConfigResource("topic", remote, set_config=diff))
            if changes:
                for res, fut in self.tgt_admin.incremental_alter_configs(changes).items():
                    self._watch(
                        fut,
                        f"synced configs of {res.name}: {res.set_config_dict}",
                        f"syncing configs of {res.name}",
                    )

        self._wait(list(sf.values()) + list(tf.values()), done)

    # -- MirrorSourceTask: records and offset syncs --------------------------------------------------------------
    def _replicate(self) -> None:
        msgs = self.src_consumer.consume(1000, timeout=0)
        for m in msgs:
            if m.error() is not None:
                continue
            topic, part, off = m.topic(), m.partition(), m.offset()
            if topic not in self.remote_topics:
                continue
            hdrs = m.headers()
            ts = m.timestamp()[1]
            self.tgt_producer.produce(
                self.remote(topic),
                value=m.value(),
                key=m.key(),
                partition=part,
                timestamp=ts if ts > 0 else 0,
                headers=hdrs,
                on_delivery=self._delivered_cb(topic, part, off),
            )

    def _delivered_cb(self, topic: str, part: int, upstream: int) -> Callable[[KafkaError | None, Any], None]:
        def cb(err: KafkaError | None, msg: Any) -> None:
            if err is not None:
                self.last_error = f"writing {self.remote(topic)}-{part} failed: {err.name()}"
                self._note(self.last_error)
                return
            key = (topic, part)
            self.acked[key] = upstream
            self.replicated[key] = self.replicated.get(key, 0) + 1
            # OffsetSyncWriter.maybeQueueOffsetSyncs
            st = self.states.get(key)
            if st is None:
                st = self.states[key] = _PartitionState(int(self.config["offset.lag.max"]))
            sync = OffsetSync(topic, part, upstream, msg.offset())
            if st.update(upstream, msg.offset()):
                self.delayed_syncs.pop(key, None)
                self.pending_syncs[key] = sync
                st.should_sync = False
            else:
                self.delayed_syncs[key] = sync
            self._fire_offset_syncs()

        return cb

    def _fire_offset_syncs(self) -> None:
        while self.pending_syncs and self.outstanding_syncs < 10:
            key = next(iter(self.pending_syncs))
            sync = self.pending_syncs.pop(key)
            self.outstanding_syncs += 1

            def done(_err: Any, _msg: Any) -> None:
                self.outstanding_syncs -= 1

            self.src_producer.produce(
                self.offset_syncs_topic, key=sync.key(), value=sync.value(), partition=0, on_delivery=done
            )
            self.offset_syncs_sent += 1
        self.src_producer.poll(0)

    # -- MirrorCheckpointConnector ------------------------------------------------------------------------------
    def _read_offset_syncs(self) -> None:
        c = self.syncs_consumer
        for m in c.consume(10_000, timeout=0):
            if m.error() is not None or m.key() is None or m.value() is None:
                continue
            try:
                s = OffsetSync.decode(m.key(), m.value())
            except Exception:
                continue
            lst = self.sync_store.setdefault((s.topic, s.partition), [])
            if lst and s.upstream < lst[-1][0]:
                lst.clear()  # the upstream offsets went back (a re-created topic): older syncs are invalid
            lst.append((s.upstream, s.downstream))
        if not self.syncs_read_to_end:
            tp = TopicPartition(self.offset_syncs_topic, 0)
            pos = c.position([tp])[0].offset
            _lo, hi = c.get_watermark_offsets(tp, cached=True)
            if pos >= 0 and hi >= 0 and pos >= hi:
                self.syncs_read_to_end = True

    def translate(self, topic: str, partition: int, upstream: int) -> int | None:
        """OffsetSyncStore.translateDownstream: None (cannot), -1 (too old), or the downstream offset."""
        if not self.syncs_read_to_end:
            return None
        syncs = self.sync_store.get((topic, partition))
        if not syncs:
            return None
        best = None
        for up, down in syncs:
            if up <= upstream:
                best = (up, down)
        if best is None:
            return -1
        return best[1] + (0 if best[0] == upstream else 1)

    def _emit_checkpoints(self) -> None:
        self._busy.add("checkpoints")
        lf = self.src_admin.list_consumer_groups()

        def listed() -> None:
            if lf.exception(0) is not None:
                self._busy.discard("checkpoints")
                return
            groups = sorted(g.group_id for g in lf.result(0).valid if self.should_sync_group(g.group_id))
            if not groups:
                self._busy.discard("checkpoints")
                return
            futs = self.src_admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(g) for g in groups]
            )

            def got() -> None:
                self._busy.discard("checkpoints")
                now = self.tgt.now_ms
                for g, f in sorted(futs.items()):
                    if f.exception(0) is not None:
                        continue
                    for tp in f.result(0).topic_partitions or []:
                        if tp.offset < 0 or tp.topic not in self.remote_topics:
                            continue
                        down = self.translate(tp.topic, tp.partition, tp.offset)
                        if down is None or down < 0:
                            continue
                        cp = Checkpoint(g, self.remote(tp.topic), tp.partition, tp.offset, down)
                        last = self.last_checkpoint.get(g, {}).get((cp.topic, cp.partition))
                        if last is not None and not (
                            cp.upstream < last.upstream or cp.downstream > last.downstream
                        ):
                            continue
                        self.last_checkpoint.setdefault(g, {})[(cp.topic, cp.partition)] = cp
                        self.tgt_producer.produce(
                            self.checkpoints_topic, key=cp.key(), value=cp.value(), partition=0, timestamp=now
                        )
                        self.checkpoints_sent += 1

            self._wait(list(futs.values()), got)

        self._wait([lf], listed)

    def _sync_group_offsets(self) -> None:
        groups = sorted(self.last_checkpoint)
        if not groups:
            return
        self._busy.add("groups")
        dfs = self.tgt_admin.describe_consumer_groups(groups)

        def described() -> None:
            idle = [g for g, f in dfs.items() if f.exception(0) is None and f.result(0).state == "Empty"]
            lfs = (
                self.tgt_admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g) for g in idle])
                if idle
                else {}
            )

            def listed() -> None:
                self._busy.discard("groups")
                requests = []
                for g in groups:
                    converted = {tp: cp.downstream for tp, cp in self.last_checkpoint[g].items()}
                    current: dict[tuple[str, int], int] | None = None
                    f = lfs.get(g)
                    if f is not None and f.exception(0) is None:
                        current = {
                            (t.topic, t.partition): t.offset for t in f.result(0).topic_partitions or []
                        }
                    to_sync = {}
                    for tp, off in converted.items():
                        have = None if current is None else current.get(tp)
                        if have is not None and have >= off:
                            continue
                        to_sync[tp] = off
                    if to_sync:
                        requests.append(
                            ConsumerGroupTopicPartitions(
                                g, [TopicPartition(t, p, o) for (t, p), o in sorted(to_sync.items())]
                            )
                        )
                if not requests:
                    return
                for g, fut in self.tgt_admin.alter_consumer_group_offsets(requests).items():
                    n = len(next(r for r in requests if r.group_id == g).topic_partitions or [])

                    def done(fut: Any = fut, g: str = g, n: int = n) -> None:
                        e = fut.exception(0)
                        if e is None:
                            self.group_offsets_synced += n
                            self._note(f"synced {n} offsets of group {g} into {self.target}")
                        elif e.error.name() == "UNKNOWN_MEMBER_ID":
                            self._note(
                                f"Unable to sync offsets for consumer group {g}. This is likely caused by consumers "
                                f"currently using this group in the target cluster."
                            )
                        else:
                            self._note(f"Unable to sync offsets for consumer group {g}: {e.error.name()}")

                    self._wait([fut], done)

            self._wait(list(lfs.values()), listed)

        self._wait(list(dfs.values()), described)

    # -- looking inside ------------------------------------------------------------------------------------------
    def describe(self) -> list[str]:
        state = "running" if self.running else ("killed" if self.killed else "stopped")
        lines = [
            f"{self.name}: {self.source}->{self.target} {state}"
            + (f" ({self.phase})" if self.running and self.phase != "running" else ""),
            f"  topics: {', '.join(f'{t} -> {self.remote(t)}' for t in sorted(self.remote_topics)) or '(none yet)'}",
            f"  records replicated: {sum(self.replicated.values())}, offset syncs: {self.offset_syncs_sent}, "
            f"checkpoints: {self.checkpoints_sent}, heartbeats: {self.heartbeats_sent}, "
            f"group offsets synced: {self.group_offsets_synced}",
        ]
        for (t, p), n in sorted(self.replicated.items()):
            lag = ""
            lines.append(
                f"  {t}-{p} -> {self.remote(t)}-{p}: {n} records, last upstream offset {self.acked.get((t, p))}{lag}"
            )
        if self.last_error:
            lines.append(f"  last error: {self.last_error}")
        return lines
