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
from dataclasses import dataclass
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

__all__ = ["Controller", "ControllerQuorum", "place_replicas"]

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
        self._broker_seen_ms: dict[int, int] = {}
        self._broker_incarnation: dict[int, int] = {}
        #: brokers that registered and wait for metadata push (name)
        self._push_to: dict[int, str] = {}

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
            elif now - self._last_contact_ms >= QUORUM_FETCH_TIMEOUT_MS and q.can_reach_majority(self):
                self._become_active()
        self.schedule(QUORUM_TICK_MS, "quorum-tick", self._quorum_tick)

    def _become_active(self) -> None:
        q = self.quorum
        q.state.epoch += 1
        q.state.leader = self.node_id
        self._catch_up()
        now = self.kernel.now_ms
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
        self._push()
        respond(("NO_ERROR", new))

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
        live = self.image.live_brokers()
        if assignment is None:
            if replication_factor > len(live):
                respond(
                    (
                        "INVALID_REPLICATION_FACTOR",
                        f"Replication factor: {replication_factor} larger than available brokers: {len(live)}.",
                    )
                )
                return
            rng = self.kernel.rng
            assignment = place_replicas(
                live, partitions, replication_factor, rng.randrange(len(live)), rng.randrange(len(live))
            )
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

    def _validate_topic(
        self, name: str, partitions: int, rf: int, configs: dict[str, str]
    ) -> tuple[str, str] | None:
        import re

        if name in self.image.topics:
            return ("TOPIC_ALREADY_EXISTS", f"Topic '{name}' already exists.")
        if not name or len(name) > 249 or not re.fullmatch(r"[a-zA-Z0-9._-]+", name) or name in (".", ".."):
            return ("INVALID_TOPIC_EXCEPTION", f"Topic name '{name}' is illegal")
        if partitions < 1:
            return ("INVALID_PARTITIONS", "Number of partitions must be larger than 0.")
        if rf < 1:
            return ("INVALID_REPLICATION_FACTOR", "Replication factor must be larger than 0.")
        for k, v in configs.items():
            if k not in TOPIC_CONFIG_DEFAULTS:
                return ("INVALID_CONFIG", f"Unknown topic config name: {k}")
            bad = _config_error(k, v)
            if bad is not None:
                return ("INVALID_CONFIG", bad)
        return None

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
        self.quorum.announce(f"topic {name} configs changed: {configs}", "topic", name)
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
