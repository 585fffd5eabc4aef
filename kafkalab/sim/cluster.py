"""The ``Cluster`` facade: build a deterministic cluster, break it, attach clients, look inside.

>>> from kafkalab import Cluster, NewTopic
>>> cluster = Cluster(brokers=3, seed=42)
>>> cluster.create_topic("events", partitions=3, replication_factor=3)
>>> p = cluster.producer({"acks": "all"})
>>> p.produce("events", key=b"k", value=b"v"); p.flush()
0
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mypy_extensions import mypyc_attr

from .broker import BROKER_DEFAULTS, Broker
from .clients.admin import AdminClient, NewTopic
from .clients.common import OFFSET_BEGINNING, TopicPartition
from .clients.consumer import Consumer
from .clients.producer import Producer
from .configdefs import validate_configs
from .controller import ControllerQuorum
from .errors import KafkaError, KafkaException
from .group import CONSUMER_OFFSETS, MemberSnapshot
from .history import History, Op
from .kernel import Kernel, TraceEvent
from .metadata import TOPIC_CONFIG_DEFAULTS
from .network import Network

__all__ = [
    "Cluster",
    "GroupDescription",
    "InvariantViolation",
    "PartitionInfo",
    "BrokerInfo",
    "ClusterInfo",
    "INTERNAL_TOPICS",
    "TIMELINE_KINDS",
    "TimelineEntry",
]


@mypyc_attr(native_class=False)
class InvariantViolation(AssertionError):
    """A replication invariant broke: a bug in the simulation, never expected behaviour."""


@dataclass(frozen=True)
class PartitionInfo:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader_epoch: int
    high_watermark: int
    log_end_offset: int
    log_start_offset: int
    #: broker id -> LEO of that replica's log (None when the broker is down)
    replica_leos: dict[int, int | None] = field(default_factory=dict)

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)

    @property
    def offline(self) -> bool:
        return self.leader < 0


@dataclass(frozen=True)
class BrokerInfo:
    broker_id: int
    state: str  # "up", "down", "paused"
    fenced: bool
    partitions_led: int


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str
    brokers: tuple[BrokerInfo, ...]
    controller_id: int | None
    controllers: tuple[tuple[int, str], ...]
    network_cuts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    generation: int
    protocol_type: str | None
    protocol: str | None
    members: tuple[MemberSnapshot, ...]
    #: committed offset per partition (the next offset the group will read)
    offsets: dict[tuple[str, int], int]
    #: log end offset minus committed offset, per partition
    lag: dict[tuple[str, int], int]
    coordinator: int
    leader: str | None = None

    def owner_of(self, topic: str, partition: int) -> str | None:
        for m in self.members:
            if (topic, partition) in m.assignment:
                return m.member_id
        return None


#: what a timeline entry is about (its ``kind``), named where the entry is made; the texts stay as they are
#: (tools parse them: the compare ledger, lesson goals)
TIMELINE_KINDS: dict[str, str] = {
    "leader": "a partition got a new leader, or a replica became a follower",
    "isr": "an in-sync replica set shrank or grew",
    "broker": "a broker died, restarted, paused, resumed, registered or was fenced",
    "controller": "the active controller changed, died or restarted",
    "network": "a network cut or a heal",
    "group": "a consumer group changed: rebalance phases, members joining or leaving",
    "topic": "a topic was created, deleted or reconfigured",
    "log": "a replica truncated its log, deleted old segments (retention) or compacted it",
    "txn": "a transaction was aborted or timed out, or a producer was fenced",
    "client": "a client crashed, left, or reported something",
    "platform": "Kafka Streams, Connect, Schema Registry or MirrorMaker reported something",
    "other": "anything else",
}
#: Kafka's internal topics: timeline entries about them are folded away by default
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__cluster_metadata"})


@dataclass(frozen=True)
class TimelineEntry:
    time_ms: int
    text: str
    #: one of :data:`TIMELINE_KINDS`
    kind: str = "other"
    #: the topic the entry is about, when it is about one
    topic: str | None = None
    #: the number of the event that made it (``kernel.stats.events`` then): stepping back lands right after it
    event: int = 0
    #: made between two events (by a command: ``kill-broker``), not by an event: right after ``event`` *and*
    #: the command is where it happened
    between_events: bool = False

    @property
    def internal(self) -> bool:
        """About one of Kafka's internal topics (``__consumer_offsets``, ``__transaction_state``)."""
        return self.topic in INTERNAL_TOPICS


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Cluster:
    """A whole Kafka cluster in one process, driven by virtual time."""

    def __init__(
        self,
        brokers: int = 3,
        seed: int = 0,
        *,
        controllers: int = 1,
        data_dir: str | Path | None = None,
        broker_config: dict[str, Any] | None = None,
        latency_ms: int = 1,
        jitter_ms: int = 1,
        check_invariants: bool = False,
        keep_trace: bool = True,
        kernel: Kernel | None = None,
        name: str = "",
    ) -> None:
        """``kernel`` and ``name``: a cluster of a :class:`~kafkalab.sim.world.World` shares the world's
        kernel (one virtual clock, one RNG) and is known by its name (also its network site)."""
        if brokers < 1:
            raise ValueError("a cluster needs at least one broker")
        self.seed = seed
        self.name = name
        self.kernel = kernel if kernel is not None else Kernel(seed, keep_trace=keep_trace)
        self.net = Network(self.kernel, latency_ms=latency_ms, jitter_ms=jitter_ms)
        self.net.home_site = name
        #: the World this cluster belongs to (None for a cluster on its own)
        self.world: Any = None
        self.history = History()
        self.timeline: list[TimelineEntry] = []
        # the temporary data dir (if we made it) is removed on close() or when the cluster is collected
        self._tmp_dir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp_dir = tempfile.TemporaryDirectory(prefix="kafkalab-", ignore_cleanup_errors=True)
            self.data_dir = Path(self._tmp_dir.name)
        else:
            self.data_dir = Path(data_dir)
        self.config = dict(BROKER_DEFAULTS)
        # Kafka's ranges (ConfigError, a ValueError with a one-line message, before anything starts)
        self.config.update(validate_configs("broker", broker_config or {}))
        self.config["offsets.topic.replication.factor"] = str(
            min(int(self.config["offsets.topic.replication.factor"]), brokers)
        )
        defaults = {
            k: self.config[k]
            for k in ("min.insync.replicas", "unclean.leader.election.enable", "broker.session.timeout.ms")
        }
        self.quorum = ControllerQuorum(
            self.kernel, self.net, [3000 + i for i in range(controllers)], defaults
        )
        self.quorum.listeners.append(self.note)
        self.cluster_id = f"{self.kernel.rng.getrandbits(88):022x}"
        self.brokers: dict[int, Broker] = {}
        for i in range(1, brokers + 1):
            b = Broker(self.kernel, self.net, i, self.data_dir / f"broker-{i}", self.quorum, self.config)
            b.listeners.append(self.note)
            self.brokers[i] = b
        #: storage events recorded when ``track_storage()`` was called (appends, HW moves, truncations)
        self.storage_events: list[tuple[Any, ...]] = []
        self._client_counts: dict[str, int] = {}
        self.clients: list[Any] = []
        self._epoch_leader: dict[tuple[str, str, int, int], int] = {}
        self._leader_hw: dict[tuple[str, str, int, int, int, int], int] = {}
        if check_invariants:
            self.kernel.observers.append(self._check_invariants)
        # boot: the first controller is active at once, brokers register with it
        self.quorum.start()
        first = next(iter(self.quorum.voters.values()))
        first._become_active()
        for b in self.brokers.values():
            b.boot()
        self.run_until(lambda: all(b.registered for b in self.brokers.values()), 10_000)

    # -- time -------------------------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.kernel.now_ms

    def run_for(self, ms: int) -> None:
        self.kernel.run_for(ms)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: int) -> bool:
        return self.kernel.run_until(predicate, timeout_ms)

    def step(self) -> TraceEvent | None:
        return self.kernel.step()

    @property
    def trace(self) -> deque[TraceEvent]:
        return self.kernel.trace

    def trace_hash(self) -> str:
        return self.kernel.trace_hash()

    # -- timeline ---------------------------------------------------------------------------------------
    def note(self, text: str, kind: str = "other", topic: str | None = None) -> None:
        """Add a plain-language entry to the timeline (faults, client events, workloads); ``kind`` is one of
        :data:`TIMELINE_KINDS`, ``topic`` the topic it is about (if any)."""
        k = self.kernel
        self.timeline.append(TimelineEntry(k.now_ms, text, kind, topic, k.stats.events, not k.running))

    # -- configuration ----------------------------------------------------------------------------------
    def broker_config(self, name: str) -> str:
        return self.config[name]

    def topic_configs(self, topic: str) -> dict[str, str]:
        """Effective configs of a topic: topic overrides, else cluster (broker) settings, else defaults."""
        img = self.quorum.log and self._image()
        t = img.topics.get(topic) if img else None
        if t is None:
            raise KafkaException(KafkaError("UNKNOWN_TOPIC_OR_PART", f"Topic '{topic}' does not exist."))
        out = dict(TOPIC_CONFIG_DEFAULTS)
        for k in out:
            if k in self.config:
                out[k] = self.config[k]
        out.update(t.configs)
        return out

    def _image(self) -> Any:
        act = self.quorum.active
        if act is not None:
            return act.image
        return next(iter(self.quorum.voters.values())).image

    # -- clients ----------------------------------------------------------------------------------------
    def next_client_name(self, prefix: str) -> str:
        n = self._client_counts.get(prefix, 0) + 1
        self._client_counts[prefix] = n
        return f"{prefix}-{n}"

    def bootstrap_names(self) -> list[str]:
        return [b.name for b in self.brokers.values()]

    def admin(self, config: dict[str, Any] | None = None) -> AdminClient:
        c = AdminClient(self, config)
        self.clients.append(c)
        return c

    def producer(self, config: dict[str, Any] | None = None, name: str | None = None) -> Producer:
        p = Producer(self, config, name)
        self.clients.append(p)
        return p

    def consumer(self, config: dict[str, Any] | None = None, name: str | None = None) -> Consumer:
        c = Consumer(self, config, name)
        self.clients.append(c)
        return c

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        config: dict[str, Any] | None = None,
    ) -> None:
        """Create a topic and wait until every partition has a leader that knows it."""
        adm = self._admin()
        cfg = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (config or {}).items()}
        adm.create_topics([NewTopic(name, partitions, replication_factor, config=cfg)])[name].result()
        self.run_until(lambda: self._leaders_ready(name), 10_000)

    def create_partitions(self, name: str, count: int) -> None:
        """Grow ``name`` to ``count`` partitions (kafka-topics --alter --partitions) and wait for the leaders."""
        from .clients.admin import NewPartitions

        self._admin().create_partitions([NewPartitions(name, count)])[name].result()
        self.run_until(lambda: self._leaders_ready(name), 10_000)

    def delete_topic(self, name: str) -> None:
        self._admin().delete_topics([name])[name].result()

    def alter_topic_config(self, name: str, configs: dict[str, Any]) -> None:
        from .clients.admin import ConfigResource

        cfg = {
            k: (None if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in configs.items()
        }
        res = ConfigResource("topic", name)
        res.set_config_dict = cfg
        self._admin().alter_configs([res])[res].result()

    def _admin(self) -> AdminClient:
        if not hasattr(self, "_internal_admin"):
            self._internal_admin = AdminClient(self, name="admin-internal")
        return self._internal_admin

    def _leaders_ready(self, topic: str) -> bool:
        img = self._image()
        parts = img.partitions_of(topic)
        if not parts:
            return False
        for st in parts:
            if st.leader < 0:
                continue
            b = self.brokers[st.leader]
            p = b.partitions.get((topic, st.partition))
            if p is None or not p.is_leader or p.leader_epoch != st.leader_epoch:
                return False
        return True

    # -- faults -----------------------------------------------------------------------------------------
    def _broker(self, broker_id: int) -> Broker:
        b = self.brokers.get(broker_id)
        if b is None:
            raise KafkaException(
                KafkaError(
                    "_INVALID_ARG", f"there is no broker {broker_id} (brokers: {sorted(self.brokers)})"
                )
            )
        return b

    def kill_broker(self, broker_id: int) -> None:
        """kill -9 the broker process: it loses its memory, keeps its log files."""
        b = self._broker(broker_id)
        if not b.alive:
            return
        b.crash()
        self.note(f"broker {broker_id} died", "broker")

    def restart_broker(self, broker_id: int) -> None:
        """Start a killed broker: it recovers its logs from the segment files and rejoins."""
        b = self._broker(broker_id)
        if b.alive:
            return
        b.boot()
        self.note(f"broker {broker_id} restarted", "broker")

    def pause_broker(self, broker_id: int) -> None:
        """SIGSTOP: the process keeps its memory but does nothing (a long GC pause)."""
        b = self._broker(broker_id)
        if b.alive and not b.paused:
            b.pause()
            self.note(f"broker {broker_id} paused", "broker")

    def resume_broker(self, broker_id: int) -> None:
        b = self._broker(broker_id)
        if b.alive and b.paused:
            b.resume()
            self.note(f"broker {broker_id} resumed", "broker")

    def kill_controller(self, node_id: int | None = None) -> None:
        c = self.quorum.voters[node_id] if node_id is not None else self.quorum.active
        if c is None or not c.alive:
            return
        c.crash()
        if self.quorum.state.leader == c.node_id:
            self.quorum.state.leader = None
        self.note(f"controller {c.node_id} died", "controller")

    def restart_controller(self, node_id: int) -> None:
        c = self.quorum.voters[node_id]
        if c.alive:
            return
        c.start()
        c.boot()
        self.note(f"controller {node_id} restarted", "controller")

    def _names(self, nodes: Iterable[int | str]) -> list[str]:
        out = []
        for n in nodes:
            if isinstance(n, int):
                if n in self.brokers:
                    out.append(self.brokers[n].name)
                elif n in self.quorum.voters:
                    out.append(self.quorum.voters[n].name)
                else:
                    raise KafkaException(KafkaError("_INVALID_ARG", f"no node {n}"))
            else:
                if n not in self.net.nodes:
                    raise KafkaException(KafkaError("_INVALID_ARG", f"no node {n!r}"))
                out.append(n)
        return out

    def partition(self, side_a: Iterable[int | str], side_b: Iterable[int | str] | None = None) -> None:
        """Cut the network between two sets of nodes (broker ids or node names); default: a vs everyone."""
        a = self._names(side_a)
        b = self._names(side_b) if side_b is not None else [n for n in self.net.nodes if n not in a]
        self.net.partition(a, b)
        self.note(f"network partition: {sorted(a)} cannot reach {sorted(b)}", "network")

    def drop_messages(self, src: int | str, dst: int | str) -> None:
        """One-way network fault: everything ``src`` sends to ``dst`` is lost (e.g. responses to a client)."""
        (a,) = self._names([src])
        (b,) = self._names([dst])
        self.net.cut(a, b)
        self.note(f"network: messages from {a} to {b} are lost", "network")

    def heal(self) -> None:
        self.net.heal()
        self.note("network healed", "network")

    def track_storage(self) -> None:
        """Record every append (leader and follower), leader HW move and truncation in ``storage_events``."""
        for b in self.brokers.values():
            b.storage_observer = self.storage_events.append

    # -- views ------------------------------------------------------------------------------------------
    def describe_topic(self, topic: str) -> list[PartitionInfo]:
        img = self._image()
        if topic not in img.topics:
            raise KafkaException(KafkaError("UNKNOWN_TOPIC_OR_PART", f"Topic '{topic}' does not exist."))
        out = []
        for st in img.partitions_of(topic):
            leos: dict[int, int | None] = {}
            for r in st.replicas:
                b = self.brokers[r]
                p = b.partitions.get((topic, st.partition)) if b.alive else None
                leos[r] = p.log.log_end_offset if p is not None else None
            hw = leo = start = -1
            if st.leader >= 0 and self.brokers[st.leader].alive:
                lp = self.brokers[st.leader].partitions.get((topic, st.partition))
                if lp is not None:
                    hw, leo, start = lp.log.high_watermark, lp.log.log_end_offset, lp.log.log_start_offset
            out.append(
                PartitionInfo(
                    topic, st.partition, st.leader, st.replicas, st.isr, st.leader_epoch, hw, leo, start, leos
                )
            )
        return out

    def topics(self) -> list[str]:
        return sorted(self._image().topics)

    def describe_cluster(self) -> ClusterInfo:
        img = self._image()
        infos = []
        for bid, b in sorted(self.brokers.items()):
            state = "down" if not b.alive else ("paused" if b.paused else "up")
            reg = img.brokers.get(bid)
            led = sum(1 for st in img.partitions.values() if st.leader == bid)
            infos.append(BrokerInfo(bid, state, reg.fenced if reg else True, led))
        ctrls = tuple(
            (cid, "down" if not c.alive else ("paused" if c.paused else "up"))
            for cid, c in sorted(self.quorum.voters.items())
        )
        cuts = tuple(sorted((a, b) for a, b in self.net.cut_links() if a < b))
        return ClusterInfo(self.cluster_id, tuple(infos), self.quorum.state.leader, ctrls, cuts)

    # -- consumer groups ------------------------------------------------------------------------------------
    def _coordinator_for(self, group_id: str) -> Broker | None:
        img = self._image()
        if CONSUMER_OFFSETS not in img.topics:
            return None
        from .partitioner import coordinator_partition

        n = img.topics[CONSUMER_OFFSETS].partitions
        st = img.partitions.get((CONSUMER_OFFSETS, coordinator_partition(group_id, n)))
        if st is None or st.leader < 0:
            return None
        b = self.brokers[st.leader]
        return b if b.alive else None

    def list_groups(self) -> list[str]:
        out: set[str] = set()
        for b in self.brokers.values():
            if b.alive:
                out.update(g for g in b.coordinator.groups if b.coordinator.owns(g) is not None)
        return sorted(out)

    def describe_group(self, group_id: str) -> GroupDescription:
        """State, generation, protocol, members and their partitions, committed offsets and lag."""
        b = self._coordinator_for(group_id)
        snap = b.coordinator.snapshot(group_id) if b is not None else None
        if snap is None:
            return GroupDescription(group_id, "Dead", -1, None, None, (), {}, {}, b.broker_id if b else -1)
        lag: dict[tuple[str, int], int] = {}
        for (t, p), off in snap.offsets.items():
            try:
                info = self.describe_topic(t)
            except KafkaException:
                continue
            for pi in info:
                if pi.partition == p and pi.log_end_offset >= 0:
                    lag[(t, p)] = max(0, pi.log_end_offset - off)
        for m in snap.members:
            for tp in m.assignment:
                if tp not in lag:
                    found = next((x for x in self.describe_topic(tp[0]) if x.partition == tp[1]), None)
                    if found is not None and found.log_end_offset >= 0:
                        lag[tp] = found.log_end_offset - found.log_start_offset
        return GroupDescription(
            group_id,
            snap.state,
            snap.generation,
            snap.protocol_type,
            snap.protocol,
            snap.members,
            dict(snap.offsets),
            lag,
            snap.coordinator,
            snap.leader,
        )

    def reset_offsets(self, group_id: str, offsets: dict[tuple[str, int], int]) -> None:
        """Overwrite a group's committed offsets; Kafka refuses while the group has active members."""
        b = self._coordinator_for(group_id)
        if b is None:
            raise KafkaException(
                KafkaError("COORDINATOR_NOT_AVAILABLE", f"no coordinator for group {group_id}")
            )
        result: list[dict[str, Any]] = []
        b.coordinator.reset_offsets(group_id, offsets, result.append)
        self.run_until(lambda: bool(result), 30_000)
        if not result:
            raise KafkaException(
                KafkaError("REQUEST_TIMED_OUT", "the offset reset was not committed in time")
            )
        if result[0]["error"] == "NON_EMPTY_GROUP":
            raise KafkaException(
                KafkaError(
                    "NON_EMPTY_GROUP",
                    f"Assignments can only be reset if the group '{group_id}' is inactive, but the current state is "
                    f"{result[0]['state']}.",
                )
            )
        if result[0]["error"] != "NO_ERROR":
            raise KafkaException(KafkaError(result[0]["error"]))

    def _group_request(
        self, group_id: str, call: Callable[[Any, Callable[[Any], None]], None]
    ) -> dict[str, Any]:
        b = self._coordinator_for(group_id)
        if b is None:
            raise KafkaException(
                KafkaError("COORDINATOR_NOT_AVAILABLE", f"no coordinator for group {group_id}")
            )
        result: list[dict[str, Any]] = []
        call(b.coordinator, result.append)
        self.run_until(lambda: bool(result), 30_000)
        if not result:
            raise KafkaException(KafkaError("REQUEST_TIMED_OUT", "the coordinator did not answer in time"))
        return result[0]

    def delete_group(self, group_id: str) -> str:
        """DeleteGroups for one group: the error name (NO_ERROR, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND ...)."""
        resp = self._group_request(group_id, lambda coord, done: coord.handle_delete_groups(group_id, done))
        return str(resp["error"])

    def delete_group_offsets(
        self, group_id: str, partitions: list[tuple[str, int]]
    ) -> tuple[str, dict[tuple[str, int], str]]:
        """OffsetDelete: (top-level error, error per partition)."""
        resp = self._group_request(
            group_id, lambda coord, done: coord.handle_offset_delete(group_id, partitions, done)
        )
        return str(resp["error"]), dict(resp.get("partitions", {}))

    def crash_client(self, name: str) -> None:
        """Kill a client process (no commit, no LeaveGroup)."""
        for c in self.clients:
            if c.name == name:
                c.crash()
                self.note(f"{name} crashed", "client")
                return
        raise KafkaException(KafkaError("_INVALID_ARG", f"no client named {name!r}"))

    # -- reading everything (for the checker) ----------------------------------------------------------
    def read_all(
        self,
        topic: str,
        *,
        timeout_ms: int = 60_000,
        client: str = "reader",
        isolation_level: str = "read_uncommitted",
    ) -> dict[int, list[tuple[int, bytes | None, bytes | None]]]:
        """Read every partition of ``topic`` from its log start up to its current high watermark.

        Records ``consume`` ops and a ``read_complete`` op per partition, so the checker can tell an
        acknowledged write that is gone (lost) from one nobody looked for yet.
        """
        info = {p.partition: p for p in self.describe_topic(topic)}
        c = Consumer(
            self,
            {
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": isolation_level,
            },
            name=self.next_client_name(client),
        )
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(info)])
        out: dict[int, list[tuple[int, bytes | None, bytes | None]]] = {p: [] for p in info}
        targets: dict[int, int] = {}
        for p in sorted(info):
            lo_hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_ms / 1000)
            targets[p] = lo_hi[1]
        deadline = self.now_ms + timeout_ms
        done: set[int] = set()
        while len(done) < len(targets) and self.now_ms < deadline:
            for m in c.consume(1000, timeout=1.0):
                if m.error() is None:
                    out[m.partition()].append((m.offset(), m.key(), m.value()))
            for p, hi in targets.items():
                pos = c.position([TopicPartition(topic, p)])[0].offset
                if p not in done and pos is not None and pos >= hi:
                    done.add(p)
        for p in sorted(done):
            self.history.append(Op(self.now_ms, "read_complete", c.name, topic, p, targets[p]))
        c.close()
        if len(done) < len(targets):
            raise KafkaException(
                KafkaError(
                    "_TIMED_OUT", f"could not read all of {topic}: partitions {sorted(set(targets) - done)}"
                )
            )
        return out

    # -- invariants -------------------------------------------------------------------------------------
    def _check_invariants(self, _ev: TraceEvent) -> None:
        for b in self.brokers.values():
            if not b.alive:
                continue
            for (t, p), part in b.partitions.items():
                log = part.log
                hw, leo = log.high_watermark, log.log_end_offset
                if hw > leo:
                    raise InvariantViolation(f"broker {b.broker_id} {t}-{p}: HW {hw} > LEO {leo}")
                if part.is_leader:
                    # a deleted and re-created topic starts again at epoch 0: its topic id tells them apart
                    meta = b.image.topics.get(t)
                    tid = meta.topic_id if meta is not None else ""
                    key = (tid, t, p, part.leader_epoch)
                    owner = self._epoch_leader.setdefault(key, b.broker_id)
                    if owner != b.broker_id:
                        raise InvariantViolation(
                            f"{t}-{p} epoch {part.leader_epoch} has two leaders: {owner} and {b.broker_id}"
                        )
                    hkey = (tid, t, p, part.leader_epoch, b.broker_id, b.incarnation)
                    last = self._leader_hw.get(hkey, -1)
                    if hw < last:
                        raise InvariantViolation(
                            f"leader {b.broker_id} {t}-{p}: HW went back from {last} to {hw}"
                        )
                    self._leader_hw[hkey] = hw

    def close(self) -> None:
        for b in self.brokers.values():
            for part in b.partitions.values():
                part.log.close()
        if self._tmp_dir is not None:
            self._tmp_dir.cleanup()
