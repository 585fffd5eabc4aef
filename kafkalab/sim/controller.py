"""A KRaft-style controller quorum.

The quorum keeps the metadata log. One voter is the active controller: it registers and fences brokers
(``broker.session.timeout.ms`` without a heartbeat), elects partition leaders from the ISR (or from any live
replica when ``unclean.leader.election.enable`` is true), applies ISR changes that partition leaders ask for
(AlterPartition) and creates/deletes topics. Brokers learn every change by applying the log's records.

Simplification (said plainly for learners): the Raft replication of the metadata log between voters is not
modelled message by message. A record commits when the active controller can reach a majority of the voters;
an active controller that cannot reach a majority steps down, and a voter that has not heard from the active
controller for ``controller.quorum.fetch.timeout.ms`` stands for election and wins with a majority.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from .kernel import Kernel
from .metadata import (
    NO_LEADER,
    TOPIC_CONFIG_DEFAULTS,
    BrokerRegistration,
    MetadataImage,
    MetadataRecord,
    PartitionRecord,
    TopicRecord,
)
from .network import Endpoint, Network

if TYPE_CHECKING:
    pass

__all__ = ["MAX_PARTITIONS_PER_TOPIC", "Controller", "ControllerQuorum", "place_replicas"]

#: the lab's cap (Kafka has none): every partition replica keeps its log and state in this one process
MAX_PARTITIONS_PER_TOPIC = 1000

BROKER_SESSION_TIMEOUT_MS = 9000
QUORUM_FETCH_TIMEOUT_MS = 2000
QUORUM_TICK_MS = 500
FENCE_CHECK_MS = 500


def place_replicas(
    broker_ids: list[int], partitions: int, replication_factor: int, start_index: int, shift: int
) -> list[tuple[int, ...]]:
    """Kafka's rack-unaware replica placement (AdminUtils.assignReplicasToBrokersRackUnaware).

    Leaders are spread round-robin from a random start broker; followers are placed at a shift that grows
    every time the partitions wrap around the broker list, so replicas are spread evenly too.
    """
    n = len(broker_ids)
    out: list[tuple[int, ...]] = []
    next_shift = shift
    for p in range(partitions):
        if p > 0 and p % n == 0:
            next_shift += 1
        first = (p + start_index) % n
        reps = [broker_ids[first]]
        for j in range(replication_factor - 1):
            idx = (first + 1 + (next_shift + j) % (n - 1)) % n
            reps.append(broker_ids[idx])
        out.append(tuple(reps))
    return out


def partitions_cap_message(count: int) -> str:
    return (
        f"Number of partitions {count} is above this lab's limit of {MAX_PARTITIONS_PER_TOPIC} per topic "
        "(Kafka itself has no such limit; the simulated cluster keeps every partition in one process)."
    )


@dataclass
class _Quorum:
    epoch: int = 0
    leader: int | None = None


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class ControllerQuorum:
    """The shared, committed metadata log plus who leads the quorum."""

    def __init__(
        self, kernel: Kernel, net: Network, voter_ids: Iterable[int], cluster_defaults: dict[str, str]
    ):
        self.kernel = kernel
        self.net = net
        self.log: list[MetadataRecord] = []
        self.state = _Quorum()
        self.cluster_defaults = cluster_defaults
        self.voters: dict[int, Controller] = {}
        for vid in voter_ids:
            self.voters[vid] = Controller(kernel, net, vid, self)
        #: called with (text, kind, topic) of every timeline entry (see ``Cluster.note``)
        self.listeners: list[Callable[[str, str, str | None], None]] = []

    @property
    def active(self) -> Controller | None:
        lid = self.state.leader
        return self.voters.get(lid) if lid is not None else None

    def active_name(self) -> str | None:
        c = self.active
        return c.name if c is not None else None

    def can_reach_majority(self, c: Controller) -> bool:
        n = 0
        for v in self.voters.values():
            if v is c or (v.alive and not v.paused and self.net.can_reach(c.name, v.name)):
                n += 1
        return n * 2 > len(self.voters)

    def start(self) -> None:
        for v in self.voters.values():
            v.boot()

    def announce(self, text: str, kind: str, topic: str | None = None) -> None:
        for fn in self.listeners:
            fn(text, kind, topic)


def _config_error(name: str, value: str) -> str | None:
    """Kafka's ConfigException message for a topic config value outside its range, or None."""
    from .configdefs import ConfigError, validate_config

    try:
        validate_config("topic", name, value)
    except ConfigError as e:
        return str(e)
    return None


def _metadata_push(
    push: Callable[[list[MetadataRecord], int], None], log: list[MetadataRecord], upto: int
) -> Callable[[], None]:
    # a partial, not a lambda: it waits in the kernel's heap, and a checkpoint must pickle it (mypyc's closures
    # cannot be pickled)
    return functools.partial(push, log, upto)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Controller(Endpoint):
    """One KRaft controller voter (node name ``controller-<id>``)."""

    def __init__(self, kernel: Kernel, net: Network, node_id: int, quorum: ControllerQuorum) -> None:
        super().__init__(kernel, net, f"controller-{node_id}")
        self.node_id = node_id
        self.quorum = quorum
        self.image = MetadataImage()
        self._last_contact_ms = 0
        #: how far this voter's copy of the metadata log reaches, and when it last fetched / was caught up
        #: (what DescribeQuorum reports; the log itself is shared, see the module docstring)
        self.log_end_offset = 0
        self.last_fetch_ms = -1
        self.last_caught_up_ms = -1
        self._broker_seen_ms: dict[int, int] = {}
        self._broker_incarnation: dict[int, int] = {}
        #: brokers that registered and wait for metadata push (name)
        self._push_to: dict[int, str] = {}
        #: broker id -> (metadata log end offset it reached, when) at its last heartbeat: the quorum's observers
        self.observers: dict[int, tuple[int, int]] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def boot(self) -> None:
        self.image = MetadataImage()
        self._catch_up()
        self._last_contact_ms = self.kernel.now_ms
        # stagger the voters so elections are deterministic and rarely split
        self.schedule(QUORUM_TICK_MS + self.node_id % 97, "quorum-tick", self._quorum_tick)

    def _catch_up(self) -> None:
        log = self.quorum.log
        while self.image.offset + 1 < len(log):
            self.image.apply(log[self.image.offset + 1])

    @property
    def is_active(self) -> bool:
        return self.quorum.state.leader == self.node_id and self.alive

    def _quorum_tick(self) -> None:
        q = self.quorum
        now = self.kernel.now_ms
        if self.is_active:
            if not q.can_reach_majority(self):
                q.state.leader = None
                q.announce(f"controller {self.node_id} lost the quorum majority and resigned", "controller")
        else:
            act = q.active
            if (
                act is not None
                and act.alive
                and not act.paused
                and self.net.can_reach(self.name, act.name)
                and self.net.can_reach(act.name, self.name)
            ):
                self._last_contact_ms = now
                self.log_end_offset = len(q.log)
                self.last_fetch_ms = self.last_caught_up_ms = now
            elif now - self._last_contact_ms >= QUORUM_FETCH_TIMEOUT_MS and q.can_reach_majority(self):
                self._become_active()
        self.schedule(QUORUM_TICK_MS, "quorum-tick", self._quorum_tick)

    def _become_active(self) -> None:
        q = self.quorum
        q.state.epoch += 1
        q.state.leader = self.node_id
        self._catch_up()
        now = self.kernel.now_ms
        self.log_end_offset = len(q.log)
        self.last_fetch_ms = self.last_caught_up_ms = now
        # a new active controller gives every registered broker a full session before fencing it
        self._broker_seen_ms = {b: now for b in self.image.brokers}
        self._broker_incarnation = {b: r.incarnation for b, r in self.image.brokers.items()}
        q.announce(
            f"controller {self.node_id} became the active controller (epoch {q.state.epoch})", "controller"
        )
        self.schedule(FENCE_CHECK_MS, "fence-check", self._fence_check)

    # -- committing -----------------------------------------------------------------------------
    def _commit(self, kind: str, **kw: Any) -> MetadataRecord:
        rec = MetadataRecord(offset=len(self.quorum.log), kind=kind, **kw)
        self.quorum.log.append(rec)
        self._catch_up()
        self.log_end_offset = len(self.quorum.log)
        self.last_fetch_ms = self.last_caught_up_ms = self.kernel.now_ms
        # a record commits once a majority has it: the voters this one can reach have fetched it
        for v in self.quorum.voters.values():
            if v is not self and v.alive and not v.paused and self.net.can_reach(self.name, v.name):
                v.log_end_offset = self.log_end_offset
                v.last_fetch_ms = v.last_caught_up_ms = self.kernel.now_ms
        return rec

    def _push(self) -> None:
        """Send new metadata records to every live broker (brokers also catch up on heartbeats)."""
        log = self.quorum.log
        upto = len(log)
        for bid, name in self._push_to.items():
            reg = self.image.brokers.get(bid)
            if reg is None:
                continue
            node = self.net.nodes.get(name)
            if node is None or not hasattr(node, "on_metadata_push"):
                continue
            self.net.send(self, name, "metadata", _metadata_push(node.on_metadata_push, log, upto))

    def _writable(self) -> bool:
        return self.is_active and self.quorum.can_reach_majority(self)

    # -- broker lifecycle -------------------------------------------------------------------------
    def handle_heartbeat(
        self, broker_id: int, incarnation: int, name: str, respond: Callable[[Any], None]
    ) -> None:
        if not self._writable():
            respond(("NOT_CONTROLLER", None))
            return
        now = self.kernel.now_ms
        self._push_to[broker_id] = name
        reg = self.image.brokers.get(broker_id)
        if (
            reg is None
            or self._broker_incarnation.get(broker_id) != incarnation
            or reg.incarnation != incarnation
        ):
            # a (re)started process: whatever its old incarnation led or followed must be fenced first
            if reg is not None and not reg.fenced:
                self._fence(broker_id, reason="restarted")
            self._commit("broker", broker=BrokerRegistration(broker_id, incarnation, fenced=True))
            self._broker_incarnation[broker_id] = incarnation
        self._broker_seen_ms[broker_id] = now
        reg = self.image.brokers[broker_id]
        if reg.fenced:
            self._commit("broker", broker=BrokerRegistration(broker_id, incarnation, fenced=False))
            self.quorum.announce(f"broker {broker_id} registered and was unfenced", "broker")
            self._elect_offline()
        self._push()
        self.observers[broker_id] = (len(self.quorum.log), now)
        respond(("NO_ERROR", None))

    def _fence_check(self) -> None:
        if not self.is_active:
            return
        if self._writable():
            now = self.kernel.now_ms
            timeout = int(
                self.quorum.cluster_defaults.get("broker.session.timeout.ms", BROKER_SESSION_TIMEOUT_MS)
            )
            for bid, reg in sorted(self.image.brokers.items()):
                if not reg.fenced and now - self._broker_seen_ms.get(bid, now) > timeout:
                    self._fence(bid, reason="missed heartbeats for broker.session.timeout.ms")
            self._elect_offline()
            self._push()
        self.schedule(FENCE_CHECK_MS, "fence-check", self._fence_check)

    def _fence(self, broker_id: int, reason: str) -> None:
        reg = self.image.brokers[broker_id]
        self._commit("broker", broker=BrokerRegistration(broker_id, reg.incarnation, fenced=True))
        self.quorum.announce(f"broker {broker_id} fenced ({reason})", "broker")
        for key in sorted(self.image.partitions):
            p = self.image.partitions[key]
            if broker_id not in p.replicas:
                continue
            if p.leader == broker_id:
                isr = tuple(b for b in p.isr if b != broker_id) or p.isr
                leader = self._pick_leader(p, isr)
                if leader is None:
                    self._change(p, leader=NO_LEADER, isr=isr)
                else:
                    self._change(p, leader=leader, isr=isr)
            elif broker_id in p.isr and len(p.isr) > 1:
                self._change(p, isr=tuple(b for b in p.isr if b != broker_id))

    def _unfenced(self, b: int) -> bool:
        reg = self.image.brokers.get(b)
        return reg is not None and not reg.fenced

    def _pick_leader(self, p: PartitionRecord, isr: tuple[int, ...]) -> int | None:
        for b in p.replicas:
            if b in isr and self._unfenced(b):
                return b
        return None

    def _unclean_allowed(self, topic: str) -> bool:
        t = self.image.topics.get(topic)
        if t is None:
            return False
        return t.config("unclean.leader.election.enable", self.quorum.cluster_defaults).lower() == "true"

    def _elect_offline(self) -> None:
        for key in sorted(self.image.partitions):
            p = self.image.partitions[key]
            if p.leader != NO_LEADER and self._unfenced(p.leader):
                continue
            leader = self._pick_leader(p, p.isr)
            if leader is not None:
                self._change(p, leader=leader)
            elif self._unclean_allowed(p.topic):
                for b in p.replicas:
                    if self._unfenced(b):
                        self._change(p, leader=b, isr=(b,))
                        self.quorum.announce(
                            f"UNCLEAN leader election: {p.topic}-{p.partition} leader {b} was not in the ISR",
                            "leader",
                            p.topic,
                        )
                        break

    def _change(self, p: PartitionRecord, **kw: Any) -> PartitionRecord:
        new = p.changed(**kw)
        self._commit("partition", partition=new)
        if new.leader != p.leader:
            self.quorum.announce(
                f"partition {p.topic}-{p.partition}: leader {p.leader}→{new.leader}, epoch {new.leader_epoch}",
                "leader",
                p.topic,
            )
        if new.isr != p.isr:
            self.quorum.announce(
                f"partition {p.topic}-{p.partition}: ISR {list(p.isr)}→{list(new.isr)}", "isr", p.topic
            )
        return new

    # -- AlterPartition (ISR changes asked by leaders) -------------------------------------------
    def handle_alter_partition(
        self,
        broker_id: int,
        topic: str,
        partition: int,
        leader_epoch: int,
        partition_epoch: int,
        new_isr: tuple[int, ...],
        respond: Callable[[Any], None],
    ) -> None:
        if not self._writable():
            respond(("NOT_CONTROLLER", None))
            return
        p = self.image.partitions.get((topic, partition))
        if p is None:
            respond(("UNKNOWN_TOPIC_OR_PART", None))
            return
        if p.leader != broker_id or p.leader_epoch != leader_epoch:
            respond(("FENCED_LEADER_EPOCH", p))
            return
        if p.partition_epoch != partition_epoch:
            respond(("INVALID_UPDATE_VERSION", p))
            return
        # KIP-841: a fenced broker may not join the ISR
        if any(b not in p.isr and not self._unfenced(b) for b in new_isr):
            respond(("INELIGIBLE_REPLICA", p))
            return
        ordered = tuple(b for b in p.replicas if b in new_isr)
        new = self._change(p, isr=ordered)
        done = self._maybe_complete_reassignment(new)
        self._push()
        respond(("NO_ERROR", done or new))

    # -- admin ------------------------------------------------------------------------------------
    def handle_create_topic(
        self,
        name: str,
        partitions: int,
        replication_factor: int,
        configs: dict[str, str],
        assignment: list[tuple[int, ...]] | None,
        respond: Callable[[Any], None],
    ) -> None:
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        err = self._validate_topic(name, partitions, replication_factor, configs)
        if err:
            respond(err)
            return
        if assignment is None:
            placed = self._place(0, partitions, replication_factor)
            if isinstance(placed, str):
                respond(("INVALID_REPLICATION_FACTOR", placed))
                return
            assignment = placed
        topic_id = f"{self.kernel.rng.getrandbits(128):032x}"
        self._commit("topic", topic=TopicRecord(name, topic_id, partitions, dict(configs)))
        for i, reps in enumerate(assignment):
            isr = tuple(b for b in reps if self._unfenced(b))
            leader = isr[0] if isr else NO_LEADER
            self._commit(
                "partition", partition=PartitionRecord(name, i, tuple(reps), isr or reps, leader, 0, 0)
            )
        self.quorum.announce(
            f"topic {name} created with {partitions} partitions, replication factor {replication_factor}",
            "topic",
            name,
        )
        self._push()
        respond(("NO_ERROR", None))

    def _place(self, start: int, partitions: int, rf: int) -> list[tuple[int, ...]] | str:
        """Replicas for new partitions, or Kafka's INVALID_REPLICATION_FACTOR message (StripedReplicaPlacer:
        fenced brokers count as registered and are used only when the unfenced ones are too few)."""
        live = self.image.live_brokers()
        registered = sorted(self.image.brokers)
        if rf < 1:
            return f"Invalid replication factor {rf}: the replication factor must be positive."
        if not live:
            return f"Unable to replicate the partition {rf} time(s): All brokers are currently fenced."
        if rf > len(registered):
            return (
                f"Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot "
                f"be reached because only {len(registered)} broker(s) are registered."
            )
        pool = live if rf <= len(live) else live + [b for b in registered if b not in live]
        rng = self.kernel.rng
        placed = place_replicas(
            pool, start + partitions, rf, rng.randrange(len(pool)), rng.randrange(len(pool))
        )
        if any(not any(b in live for b in reps) for reps in placed[start:]):
            return (
                f"Unable to replicate the partition {rf} time(s): All brokers are currently fenced or in "
                "controlled shutdown."
            )
        return placed[start:]

    def _validate_topic(
        self, name: str, partitions: int, rf: int, configs: dict[str, str]
    ) -> tuple[str, str] | None:
        import re

        if name in self.image.topics:
            return ("TOPIC_ALREADY_EXISTS", f"Topic '{name}' already exists.")
        if not name or len(name) > 249 or not re.fullmatch(r"[a-zA-Z0-9._-]+", name) or name in (".", ".."):
            return ("INVALID_TOPIC_EXCEPTION", f"Topic name '{name}' is illegal")
        if partitions < 1:
            return ("INVALID_PARTITIONS", "Number of partitions was set to an invalid non-positive value.")
        if partitions > MAX_PARTITIONS_PER_TOPIC:
            return ("INVALID_PARTITIONS", partitions_cap_message(partitions))
        if rf < 1:
            return (
                "INVALID_REPLICATION_FACTOR",
                "Replication factor must be larger than 0, or -1 to use the default value.",
            )
        for k, v in configs.items():
            if k not in TOPIC_CONFIG_DEFAULTS:
                return ("INVALID_CONFIG", f"Unknown topic config name: {k}")
            bad = _config_error(k, v)
            if bad is not None:
                return ("INVALID_CONFIG", bad)
        return None

    def handle_create_partitions(self, name: str, count: int, respond: Callable[[Any], None]) -> None:
        """CreatePartitions: grow a topic to ``count`` partitions (ReplicationControlManager.createPartitions)."""
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        t = self.image.topics.get(name)
        if t is None:
            respond(("UNKNOWN_TOPIC_OR_PART", "This server does not host this topic-partition."))
            return
        have = t.partitions
        if count == have:
            respond(("INVALID_PARTITIONS", f"Topic already has {have} partition(s)."))
            return
        if count < have:
            respond(
                (
                    "INVALID_PARTITIONS",
                    f"The topic {name} currently has {have} partition(s); {count} would not be an increase.",
                )
            )
            return
        if count > MAX_PARTITIONS_PER_TOPIC:
            respond(("INVALID_PARTITIONS", partitions_cap_message(count)))
            return
        first = self.image.partitions.get((name, 0))
        rf = len(first.replicas) if first is not None else 1
        placed = self._place(have, count - have, rf)
        if isinstance(placed, str):
            respond(("INVALID_REPLICATION_FACTOR", placed))
            return
        self._commit("topic", topic=replace(t, partitions=count))
        for i, reps in enumerate(placed, start=have):
            isr = tuple(b for b in reps if self._unfenced(b))
            self._commit(
                "partition",
                partition=PartitionRecord(name, i, reps, isr or reps, isr[0] if isr else NO_LEADER, 0, 0),
            )
        self.quorum.announce(f"topic {name}: partitions increased from {have} to {count}", "topic", name)
        self._push()
        respond(("NO_ERROR", None))

    def handle_elect_leaders(
        self, election_type: str, partitions: list[tuple[str, int]] | None, respond: Callable[[Any], None]
    ) -> None:
        """ElectLeaders (ReplicationControlManager.electLeaders): PREFERRED moves leadership to the first
        replica when it is in the ISR and unfenced; UNCLEAN gives a leaderless partition a leader, from outside
        the ISR if need be. ``partitions`` None: every partition (ELECTION_NOT_NEEDED ones left out)."""
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        everything = partitions is None
        keys = sorted(self.image.partitions) if partitions is None else partitions
        results: dict[tuple[str, int], str] = {}
        for key in keys:
            err = self._elect_leader(key, election_type)
            if not (everything and err == "ELECTION_NOT_NEEDED"):
                results[key] = err
        self._push()
        respond(("NO_ERROR", results))

    def _elect_leader(self, key: tuple[str, int], election_type: str) -> str:
        p = self.image.partitions.get(key)
        if p is None:
            return "UNKNOWN_TOPIC_OR_PART"
        has_leader = p.leader != NO_LEADER and self._unfenced(p.leader)
        if election_type == "PREFERRED":
            preferred = p.replicas[0]
            if p.leader == preferred:
                return "ELECTION_NOT_NEEDED"
            if preferred not in p.isr or not self._unfenced(preferred):
                return "PREFERRED_LEADER_NOT_AVAILABLE"
            self._change(p, leader=preferred)
            self.quorum.announce(
                f"preferred leader election: {p.topic}-{p.partition} leader {preferred}", "leader", p.topic
            )
            return "NO_ERROR"
        if has_leader:
            return "ELECTION_NOT_NEEDED"
        leader = self._pick_leader(p, p.isr)
        if leader is not None:
            self._change(p, leader=leader)
            return "NO_ERROR"
        for b in p.replicas:
            if self._unfenced(b):
                self._change(p, leader=b, isr=(b,))
                self.quorum.announce(
                    f"UNCLEAN leader election (requested): {p.topic}-{p.partition} leader {b} was not in the ISR",
                    "leader",
                    p.topic,
                )
                return "NO_ERROR"
        return "ELIGIBLE_LEADERS_NOT_AVAILABLE"

    # -- partition reassignment (KIP-455) ------------------------------------------------------------------
    def handle_alter_reassignments(
        self, targets: dict[tuple[str, int], tuple[int, ...] | None], respond: Callable[[Any], None]
    ) -> None:
        """AlterPartitionReassignments: per partition a target replica list, or None to cancel. The adding
        replicas join as followers; once all are in the ISR the removing ones are dropped."""
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        results = {key: self._reassign(key, target) for key, target in sorted(targets.items())}
        self._push()
        respond(("NO_ERROR", results))

    def _reassign(self, key: tuple[str, int], target: tuple[int, ...] | None) -> tuple[str, str]:
        p = self.image.partitions.get(key)
        if p is None:
            return ("UNKNOWN_TOPIC_OR_PART", "This server does not host this topic-partition.")
        original = tuple(b for b in p.replicas if b not in p.adding)
        if target is None:
            if not p.adding and not p.removing:
                return ("NO_REASSIGNMENT_IN_PROGRESS", "No partition reassignment is in progress.")
            isr = tuple(b for b in p.isr if b in original)
            leader = p.leader if p.leader in original else (self._pick_leader(p, isr) or NO_LEADER)
            self._change(
                p, replicas=original, isr=isr or (original[0],), leader=leader, adding=(), removing=()
            )
            self.quorum.announce(
                f"reassignment of {p.topic}-{p.partition} cancelled: replicas {list(original)}",
                "topic",
                p.topic,
            )
            return ("NO_ERROR", "")
        if not target:
            return ("INVALID_REPLICA_ASSIGNMENT", "Empty replica list specified in partition reassignment.")
        if len(set(target)) != len(target):
            return (
                "INVALID_REPLICA_ASSIGNMENT",
                f"Duplicate replica ids in partition reassignment replica list: {list(target)}",
            )
        for b in target:
            if b not in self.image.brokers:
                return (
                    "INVALID_REPLICA_ASSIGNMENT",
                    f"The manual partition assignment includes broker {b}, but no such broker is registered.",
                )
        adding = tuple(b for b in target if b not in original)
        removing = tuple(b for b in original if b not in target)
        if not adding and not removing and target == original and not p.adding:
            return ("NO_ERROR", "")
        merged = target + removing
        new = self._change(p, replicas=merged, adding=adding, removing=removing)
        self.quorum.announce(
            f"reassignment of {p.topic}-{p.partition} started: {list(original)} -> {list(target)}"
            + (f", adding {list(adding)}" if adding else "")
            + (f", removing {list(removing)}" if removing else ""),
            "topic",
            p.topic,
        )
        self._maybe_complete_reassignment(new)
        return ("NO_ERROR", "")

    def _maybe_complete_reassignment(self, p: PartitionRecord) -> PartitionRecord | None:
        """Every adding replica is in the ISR: the partition takes its target replicas (the removed ones stop)."""
        if not (p.adding or p.removing) or any(b not in p.isr for b in p.adding):
            return None
        target = tuple(b for b in p.replicas if b not in p.removing)
        isr = tuple(b for b in target if b in p.isr)
        if p.leader in target:
            leader = p.leader
        else:
            leader = next((b for b in target if b in isr and self._unfenced(b)), NO_LEADER)
        epoch = p.leader_epoch + 1  # removed replicas are fenced by a new leader epoch (KRaft)
        new = self._change(
            p, replicas=target, isr=isr, leader=leader, adding=(), removing=(), leader_epoch=epoch
        )
        self.quorum.announce(
            f"reassignment of {p.topic}-{p.partition} completed: replicas {list(target)}", "topic", p.topic
        )
        return new

    def handle_list_reassignments(self, respond: Callable[[Any], None]) -> None:
        """ListPartitionReassignments: (replicas, adding, removing) of every partition being reassigned."""
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        out = {
            key: (p.replicas, p.adding, p.removing)
            for key, p in sorted(self.image.partitions.items())
            if p.adding or p.removing
        }
        respond(("NO_ERROR", out))

    def handle_alter_broker_configs(
        self, broker: str, changes: dict[str, str | None], respond: Callable[[Any], None]
    ) -> None:
        """IncrementalAlterConfigs of a BROKER resource (``broker`` an id, "" the cluster default)."""
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        merged = dict(self.image.broker_configs.get(broker, {}))
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        self._commit("broker_config", name=broker, configs=merged)
        text = ", ".join(f"{k}={v}" if v is not None else f"{k} deleted" for k, v in changes.items())
        self.quorum.announce(f"broker {broker or 'default'} configs changed: {text}", "broker")
        self._push()
        respond(("NO_ERROR", None))

    def handle_delete_topic(self, name: str, respond: Callable[[Any], None]) -> None:
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        if name not in self.image.topics:
            respond(("UNKNOWN_TOPIC_OR_PART", f"Topic '{name}' does not exist."))
            return
        self._commit("remove_topic", name=name)
        self.quorum.announce(f"topic {name} deleted", "topic", name)
        self._push()
        respond(("NO_ERROR", None))

    def handle_alter_configs(
        self, name: str, configs: dict[str, str | None], respond: Callable[[Any], None]
    ) -> None:
        if not self._writable():
            respond(("NOT_CONTROLLER", "no active controller"))
            return
        t = self.image.topics.get(name)
        if t is None:
            respond(("UNKNOWN_TOPIC_OR_PART", f"Topic '{name}' does not exist."))
            return
        for k, v in configs.items():
            if k not in TOPIC_CONFIG_DEFAULTS:
                respond(("INVALID_CONFIG", f"Unknown topic config name: {k}"))
                return
            bad = _config_error(k, v) if v is not None else None
            if bad is not None:
                respond(("INVALID_CONFIG", bad))
                return
        merged = dict(t.configs)
        for k, v in configs.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        self._commit("config", name=name, configs=merged)
        changes = ", ".join(f"{k}={v}" if v is not None else f"{k} deleted" for k, v in configs.items())
        self.quorum.announce(f"topic {name} configs changed: {changes}", "topic", name)
        self._elect_offline()
        self._push()
        respond(("NO_ERROR", None))

    def handle_allocate_producer_id(self, respond: Callable[[Any], None]) -> None:
        """InitProducerId for an idempotent producer: a fresh producer id, epoch 0."""
        if not self._writable():
            respond(("NOT_CONTROLLER", -1, -1))
            return
        pid = self.image.next_producer_id
        self._commit("producer_ids", number=pid + 1)
        respond(("NO_ERROR", pid, 0))
