"""The group coordinator (classic consumer group protocol) and the ``__consumer_offsets`` records.

A group is managed by the broker that leads partition ``abs(groupId.hashCode()) % offsets.topic.num.partitions``
of ``__consumer_offsets``. Everything the coordinator must remember is written there as records: committed
offsets (OffsetCommit key/value) and the group's metadata after each rebalance (GroupMetadata key/value), so a
new leader of that partition rebuilds the groups by replaying it ("coordinator failover").

States (Kafka's names): Empty, PreparingRebalance, CompletingRebalance, Stable, Dead.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .assignors import choose_common_protocol, java_hashmap_order
from .records import Record, RecordBatch

if TYPE_CHECKING:
    from .broker import Broker, Partition

__all__ = [
    "CONSUMER_OFFSETS",
    "GroupCoordinator",
    "GroupSnapshot",
    "MemberSnapshot",
    "decode_assignment",
    "decode_offsets_record",
    "SubscriptionData",
    "decode_sticky_user_data",
    "decode_subscription",
    "decode_subscription_data",
    "encode_assignment",
    "encode_sticky_user_data",
    "encode_subscription",
]

CONSUMER_OFFSETS = "__consumer_offsets"

EMPTY = "Empty"
PREPARING = "PreparingRebalance"
COMPLETING = "CompletingRebalance"
STABLE = "Stable"
DEAD = "Dead"

#: GroupMetadataManager's classicGroupNewMemberJoinTimeoutMs: how long a new member's JoinGroup may wait
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000

# -- Kafka's consumer protocol and offsets-topic encodings (big-endian, int16-length strings) ---------------


def _str(s: str | None) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def _bytes(b: bytes | None) -> bytes:
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def int16(self) -> int:
        (v,) = struct.unpack_from(">h", self.buf, self.pos)
        self.pos += 2
        return int(v)

    def int32(self) -> int:
        (v,) = struct.unpack_from(">i", self.buf, self.pos)
        self.pos += 4
        return int(v)

    def int64(self) -> int:
        (v,) = struct.unpack_from(">q", self.buf, self.pos)
        self.pos += 8
        return int(v)

    def string(self) -> str | None:
        n = self.int16()
        if n < 0:
            return None
        s = self.buf[self.pos : self.pos + n].decode()
        self.pos += n
        return s

    def bytes_(self) -> bytes | None:
        n = self.int32()
        if n < 0:
            return None
        b = self.buf[self.pos : self.pos + n]
        self.pos += n
        return b

    def more(self) -> bool:
        return self.pos < len(self.buf)


def _tps_by_topic(tps: list[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for t, p in sorted(tps):
        out.setdefault(t, []).append(p)
    return out


def encode_subscription(
    topics: list[str], owned: list[tuple[str, int]], generation: int = -1, user_data: bytes | None = None
) -> bytes:
    """ConsumerProtocolSubscription v2: topics, user data, owned partitions, generation id."""
    parts = [struct.pack(">h", 2), struct.pack(">i", len(topics))]
    parts += [_str(t) for t in topics]
    parts.append(_bytes(user_data))
    parts.append(_encode_topic_partitions(owned))
    parts.append(struct.pack(">i", generation))
    return b"".join(parts)


def _encode_topic_partitions(tps: list[tuple[str, int]]) -> bytes:
    by_topic = _tps_by_topic(tps)
    parts = [struct.pack(">i", len(by_topic))]
    for t, ps in by_topic.items():
        parts.append(_str(t))
        parts.append(struct.pack(">i", len(ps)) + b"".join(struct.pack(">i", p) for p in ps))
    return b"".join(parts)


def _read_topic_partitions(r: _Reader) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for _ in range(r.int32()):
        t = r.string() or ""
        out += [(t, r.int32()) for _ in range(r.int32())]
    return out


@dataclass(frozen=True)
class SubscriptionData:
    """A decoded ConsumerProtocolSubscription (what a member sends in its JoinGroup metadata)."""

    topics: list[str]
    user_data: bytes | None
    owned_partitions: list[tuple[str, int]]
    generation: int


def decode_subscription_data(buf: bytes) -> SubscriptionData:
    r = _Reader(buf)
    version = r.int16()
    topics = [r.string() or "" for _ in range(r.int32())]
    user_data = r.bytes_()
    owned: list[tuple[str, int]] = []
    generation = -1
    if version >= 1 and r.more():
        owned = _read_topic_partitions(r)
    if version >= 2 and r.more():
        generation = r.int32()
    return SubscriptionData(topics, user_data, owned, generation)


def decode_subscription(buf: bytes) -> tuple[list[str], list[tuple[str, int]], int]:
    d = decode_subscription_data(buf)
    return d.topics, d.owned_partitions, d.generation


def encode_sticky_user_data(previous_assignment: list[tuple[str, int]], generation: int) -> bytes:
    """``StickyAssignor``'s subscription user data (STICKY_ASSIGNOR_USER_DATA_V1): the member's previous
    assignment and its generation. The eager sticky assignor keeps its stickiness through this, because the
    member revokes everything (and reports no owned partitions) before it rejoins."""
    return _encode_topic_partitions(previous_assignment) + struct.pack(">i", generation)


def decode_sticky_user_data(buf: bytes | None) -> tuple[list[tuple[str, int]], int | None]:
    """(previous assignment, generation or None) from StickyAssignor user data (V1, or V0 without the
    generation); unreadable data counts as no previous assignment, as in Java."""
    if not buf:
        return [], None
    r = _Reader(buf)
    try:
        tps = _read_topic_partitions(r)
        generation = r.int32() if r.more() else None
    except (struct.error, UnicodeDecodeError):
        return [], -1
    return tps, generation


def encode_assignment(tps: list[tuple[str, int]]) -> bytes:
    """ConsumerProtocolAssignment v0: partitions by topic, user data."""
    by_topic = _tps_by_topic(tps)
    parts = [struct.pack(">h", 0), struct.pack(">i", len(by_topic))]
    for t, ps in by_topic.items():
        parts.append(_str(t))
        parts.append(struct.pack(">i", len(ps)) + b"".join(struct.pack(">i", p) for p in ps))
    parts.append(_bytes(None))
    return b"".join(parts)


def decode_assignment(buf: bytes | None) -> list[tuple[str, int]]:
    if not buf:
        return []
    r = _Reader(buf)
    r.int16()
    out: list[tuple[str, int]] = []
    for _ in range(r.int32()):
        t = r.string() or ""
        out += [(t, r.int32()) for _ in range(r.int32())]
    return out


def offset_commit_key(group: str, topic: str, partition: int) -> bytes:
    return struct.pack(">h", 1) + _str(group) + _str(topic) + struct.pack(">i", partition)


def offset_commit_value(offset: int, leader_epoch: int, metadata: str, commit_ms: int) -> bytes:
    return struct.pack(">hqi", 3, offset, leader_epoch) + _str(metadata) + struct.pack(">q", commit_ms)


def group_metadata_key(group: str) -> bytes:
    return struct.pack(">h", 2) + _str(group)


def decode_offsets_record(key: bytes | None, value: bytes | None) -> dict[str, Any]:
    """What Kafka's OffsetsMessageFormatter / GroupMetadataMessageFormatter would print, as a dict."""
    if key is None:
        return {"type": "unknown"}
    r = _Reader(key)
    version = r.int16()
    if version in (0, 1):
        group, topic, partition = r.string(), r.string(), r.int32()
        out: dict[str, Any] = {
            "type": "offset_commit",
            "group": group,
            "topic": topic,
            "partition": partition,
        }
        if value is None:
            out["tombstone"] = True
            return out
        v = _Reader(value)
        v.int16()
        out.update(offset=v.int64(), leader_epoch=v.int32(), metadata=v.string(), commit_timestamp=v.int64())
        return out
    group = r.string()
    out = {"type": "group_metadata", "group": group}
    if value is None:
        out["tombstone"] = True
        return out
    v = _Reader(value)
    v.int16()
    out.update(protocol_type=v.string(), generation=v.int32(), protocol=v.string(), leader=v.string())
    v.int64()
    members = []
    for _ in range(v.int32()):
        mid, inst, client, host = v.string(), v.string(), v.string(), v.string()
        rebalance_timeout_ms = v.int32()
        session_timeout_ms = v.int32()
        v.bytes_()
        raw = v.bytes_()
        members.append(
            {
                "member_id": mid,
                "group_instance_id": inst,
                "client_id": client,
                "host": host,
                "rebalance_timeout_ms": rebalance_timeout_ms,
                "session_timeout_ms": session_timeout_ms,
                # only the consumer protocol's assignment is a list of partitions (Connect's, Schema
                # Registry's ... are their own bytes)
                "assignment": decode_assignment(raw)
                if out["protocol_type"] in ("consumer", "", None)
                else [],
                "assignment_bytes": raw or b"",
            }
        )
    out["members"] = members
    return out


# -- coordinator state ----------------------------------------------------------------------------------


@dataclass
class _Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    last_heartbeat_ms: int = 0
    join_respond: Callable[[Any], None] | None = None
    sync_respond: Callable[[Any], None] | None = None
    session_timer: Any = None
    #: joined in the rebalance under way (Kafka's ``isNew``): its JoinGroup may wait up to the new-member
    #: join timeout, since it has no member id to heartbeat with yet
    is_new: bool = False

    def metadata_for(self, protocol: str) -> bytes:
        for name, meta in self.protocols:
            if name == protocol:
                return meta
        return b""


@dataclass
class _Group:
    group_id: str
    state: str = EMPTY
    generation: int = 0
    protocol_type: str | None = None
    protocol: str | None = None
    leader: str | None = None
    members: dict[str, _Member] = field(default_factory=dict)
    static: dict[str, str] = field(default_factory=dict)  # group.instance.id -> member id
    offsets: dict[tuple[str, int], tuple[int, int, str, int]] = field(default_factory=dict)
    pending_members: set[str] = field(default_factory=set)
    join_timer: Any = None
    rebalance_started_ms: int = 0
    initial_delay_done: bool = False


@dataclass(frozen=True)
class MemberSnapshot:
    member_id: str
    group_instance_id: str | None
    client_id: str
    assignment: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class GroupSnapshot:
    group_id: str
    state: str
    generation: int
    protocol_type: str | None
    protocol: str | None
    leader: str | None
    members: tuple[MemberSnapshot, ...]
    offsets: dict[tuple[str, int], int]
    coordinator: int


class GroupCoordinator:
    """Runs inside a broker; owns the groups whose ``__consumer_offsets`` partition that broker leads."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.groups: dict[str, _Group] = {}
        self._member_seq = 0
        #: offsets partition -> producer id -> {(group, topic, partition): offset} waiting for the txn marker
        self.pending_txn: dict[int, dict[int, dict[tuple[str, str, int], int]]] = {}

    # -- ownership -----------------------------------------------------------------------------------
    @property
    def num_partitions(self) -> int:
        return int(self.broker.config["offsets.topic.num.partitions"])

    def partition_for(self, group_id: str) -> int:
        from .partitioner import coordinator_partition

        return coordinator_partition(group_id, self.num_partitions)

    def owns(self, group_id: str) -> Partition | None:
        part = self.broker.partitions.get((CONSUMER_OFFSETS, self.partition_for(group_id)))
        if part is not None and part.is_leader:
            return part
        return None

    def load_partition(self, part: Partition) -> None:
        """Became leader of an offsets partition: rebuild its groups by replaying the log."""
        for gid in [g for g in self.groups if self.partition_for(g) == part.index]:
            del self.groups[gid]
        from .group import decode_offsets_record as dec

        self.pending_txn[part.index] = {}
        for b in part.log.iter_batches(part.log.log_start_offset):
            if b.is_control:
                from .records import ControlType

                self.on_txn_marker(part.index, b.producer_id, b.control_type == ControlType.COMMIT)
                continue
            for _off, rec in b.iter_records():
                d = dec(rec.key, rec.value)
                group_id = d.get("group")
                if not isinstance(group_id, str):
                    continue
                gid = group_id
                if d["type"] == "offset_commit" and b.is_transactional and not d.get("tombstone"):
                    pend = self.pending_txn[part.index].setdefault(b.producer_id, {})
                    pend[(gid, d["topic"], d["partition"])] = d["offset"]
                    continue
                if d["type"] == "offset_commit":
                    g = self.groups.setdefault(gid, _Group(gid))
                    tp = (d["topic"], d["partition"])
                    if d.get("tombstone"):
                        g.offsets.pop(tp, None)
                    else:
                        g.offsets[tp] = (
                            d["offset"],
                            d["leader_epoch"],
                            d["metadata"] or "",
                            d["commit_timestamp"],
                        )
                elif d["type"] == "group_metadata":
                    if d.get("tombstone"):
                        self.groups.pop(gid, None)
                        continue
                    g = self.groups.setdefault(gid, _Group(gid))
                    g.generation = d["generation"]
                    g.protocol_type = d["protocol_type"]
                    g.protocol = d["protocol"]
                    g.leader = d["leader"]
                    now = self.broker.kernel.now_ms
                    g.members = {}
                    g.static = {}
                    for m in d["members"]:
                        mem = _Member(
                            m["member_id"],
                            m["group_instance_id"],
                            m["client_id"],
                            m["session_timeout_ms"],
                            m["rebalance_timeout_ms"],
                            [],
                            m["assignment_bytes"],
                            now,
                        )
                        g.members[mem.member_id] = mem
                        if mem.group_instance_id:
                            g.static[mem.group_instance_id] = mem.member_id
                    g.state = STABLE if g.members else EMPTY
        for gid, g in self.groups.items():
            if self.partition_for(gid) == part.index:
                for mem in g.members.values():  # loaded members get a fresh session to heartbeat in
                    self._schedule_session(g, mem)
        n = sum(1 for g in self.groups if self.partition_for(g) == part.index)
        if n:
            self.broker.emit(
                f"broker {self.broker.broker_id} loaded {n} group(s) from {part.name}", "group", part.topic
            )

    def unload_partition(self, index: int) -> None:
        for gid in [g for g in self.groups if self.partition_for(g) == index]:
            g = self.groups.pop(gid)
            if g.join_timer is not None:
                g.join_timer.cancel()
            for m in g.members.values():
                for r in (m.join_respond, m.sync_respond):
                    if r is not None:
                        r({"error": "NOT_COORDINATOR"})

    # -- helpers -------------------------------------------------------------------------------------
    def _announce(self, g: _Group, text: str) -> None:
        self.broker.emit(f"group {g.group_id}: {text}", "group")

    def _cfg(self, name: str) -> int:
        return int(self.broker.config[name])

    def _new_member_id(self, client_id: str, group_instance_id: str | None = None) -> str:
        """``ClassicGroup.generateMemberId``: ``<group.instance.id or client.id>-<random UUID>``."""
        self._member_seq += 1
        u = uuid.UUID(int=self.broker.kernel.rng.getrandbits(128), version=4)
        return f"{group_instance_id or client_id}-{u}"

    def _schedule(self, delay_ms: int, kind: str, fn: Callable[[], None]) -> Any:
        return self.broker.schedule(delay_ms, kind, fn)

    # -- JoinGroup -----------------------------------------------------------------------------------
    def handle_join(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        gid = req["group_id"]
        timeout = req["session_timeout_ms"]
        if (
            not self._cfg("group.min.session.timeout.ms")
            <= timeout
            <= self._cfg("group.max.session.timeout.ms")
        ):
            # GroupCoordinatorService.joinGroup: checked before the group is even looked at
            respond({"error": "INVALID_SESSION_TIMEOUT", "member_id": req["member_id"]})
            return
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.setdefault(gid, _Group(gid))
        if g.state == DEAD:
            respond({"error": "COORDINATOR_NOT_AVAILABLE"})
            return
        if g.protocol_type is not None and g.members and req["protocol_type"] != g.protocol_type:
            respond({"error": "INCONSISTENT_GROUP_PROTOCOL"})
            return
        names = [p for p, _m in req["protocols"]]
        if g.members and g.protocol is not None and g.state != EMPTY:
            supported = set.intersection(
                *[{p for p, _ in m.protocols} or {g.protocol} for m in g.members.values()]
            )
            if not (supported & set(names)) and not (len(g.members) == 1 and req["member_id"] in g.members):
                respond({"error": "INCONSISTENT_GROUP_PROTOCOL"})
                return
        member_id = req["member_id"]
        instance = req.get("group_instance_id")
        now = self.broker.kernel.now_ms
        if member_id == "":
            if instance:
                # static member (KIP-345): known instance id -> new member id replaces the old one
                old = g.static.get(instance)
                new_id = self._new_member_id(req["client_id"], instance)
                if old is not None and old in g.members:
                    m = g.members.pop(old)
                    if m.join_respond is not None:
                        m.join_respond({"error": "FENCED_INSTANCE_ID"})
                    m.member_id = new_id
                    m.protocols = req["protocols"]
                    m.last_heartbeat_ms = now
                    m.session_timeout_ms = req["session_timeout_ms"]
                    g.members[new_id] = m
                    g.static[instance] = new_id
                    if g.leader == old:
                        g.leader = new_id
                    if g.state == STABLE:
                        self._persist(g)
                        self._announce(g, f"static member {instance} rejoined as {new_id} (no rebalance)")
                        respond(self._join_response(g, m))
                        self._schedule_session(g, m)
                        return
                    member_id = new_id
                else:
                    member_id = new_id
                    g.static[instance] = new_id
            else:
                # KIP-394: hand out a member id first; the member rejoins with it
                new_id = self._new_member_id(req["client_id"])
                g.pending_members.add(new_id)
                respond({"error": "MEMBER_ID_REQUIRED", "member_id": new_id})
                return
        elif member_id not in g.members and member_id not in g.pending_members:
            respond({"error": "UNKNOWN_MEMBER_ID"})
            return
        g.pending_members.discard(member_id)
        known = g.members.get(member_id)
        if known is None:
            m = _Member(
                member_id,
                instance,
                req["client_id"],
                req["session_timeout_ms"],
                req["rebalance_timeout_ms"],
                req["protocols"],
                last_heartbeat_ms=now,
                is_new=True,
            )
            g.members[member_id] = m
            self._announce(g, f"member {member_id} joined")
        else:
            m = known
            same = m.protocols == req["protocols"]
            if same and (g.state == COMPLETING or (g.state == STABLE and member_id != g.leader)):
                # Kafka's doCurrentMemberJoinGroup: a member rejoining with unchanged metadata (it missed
                # the JoinGroup answer, or its SyncGroup failed) gets the current generation back, with no
                # new rebalance; otherwise two members can make each other rebalance forever
                m.last_heartbeat_ms = now
                respond(self._join_response(g, m))
                self._schedule_session(g, m)
                return
            if m.join_respond is not None and m.join_respond is not respond:
                m.join_respond({"error": "REBALANCE_IN_PROGRESS"})
            m.protocols = req["protocols"]
            m.session_timeout_ms = req["session_timeout_ms"]
            m.rebalance_timeout_ms = req["rebalance_timeout_ms"]
            m.last_heartbeat_ms = now
        m.join_respond = respond
        g.protocol_type = req["protocol_type"]
        if g.state in (EMPTY, STABLE, COMPLETING):
            self._prepare_rebalance(g, f"member {member_id} (re)joined")
        self._schedule_session(g, m)
        self._maybe_complete_join(g)

    def _prepare_rebalance(self, g: _Group, reason: str) -> None:
        if g.state == COMPLETING:
            for m in g.members.values():
                if m.sync_respond is not None:
                    m.sync_respond({"error": "REBALANCE_IN_PROGRESS"})
                    m.sync_respond = None
        was_empty = g.state == EMPTY
        g.state = PREPARING
        g.rebalance_started_ms = self.broker.kernel.now_ms
        self._announce(g, f"preparing rebalance ({reason})")
        if g.join_timer is not None:
            g.join_timer.cancel()
        timeout = max([m.rebalance_timeout_ms for m in g.members.values()] or [0])
        delay = self._cfg("group.initial.rebalance.delay.ms") if was_empty else 0
        g.initial_delay_done = delay == 0
        if delay:
            g.join_timer = self._schedule(
                delay, "initial-rebalance-delay", lambda: self._initial_delay_over(g)
            )
        else:
            g.join_timer = self._schedule(timeout, "rebalance-timeout", lambda: self._complete_join(g, True))

    def _initial_delay_over(self, g: _Group) -> None:
        g.initial_delay_done = True
        timeout = max([m.rebalance_timeout_ms for m in g.members.values()] or [0])
        g.join_timer = self._schedule(timeout, "rebalance-timeout", lambda: self._complete_join(g, True))
        self._maybe_complete_join(g)

    def _maybe_complete_join(self, g: _Group) -> None:
        if g.state != PREPARING or not g.initial_delay_done:
            return
        if all(m.join_respond is not None for m in g.members.values()) and not g.pending_members:
            self._complete_join(g, False)

    def _complete_join(self, g: _Group, timed_out: bool) -> None:
        if g.state != PREPARING or self.groups.get(g.group_id) is not g:
            return
        if g.join_timer is not None:
            g.join_timer.cancel()
            g.join_timer = None
        g.pending_members.clear()
        for mid in [mid for mid, m in g.members.items() if m.join_respond is None]:
            self._remove_member(g, mid, "did not rejoin within the rebalance timeout")
        if not g.members:
            g.state = EMPTY
            g.generation += 1
            g.protocol = None
            g.leader = None
            self._persist(g)
            self._announce(g, f"is now Empty (generation {g.generation})")
            return
        g.generation += 1
        g.protocol = choose_common_protocol([[p for p, _ in m.protocols] for m in g.members.values()])
        if g.leader not in g.members:
            g.leader = next(iter(g.members))
        g.state = COMPLETING
        self._announce(
            g, f"rebalance: generation {g.generation}, {len(g.members)} member(s), protocol {g.protocol}"
        )
        now = self.broker.kernel.now_ms
        for m in g.members.values():
            respond, m.join_respond = m.join_respond, None
            m.is_new = False
            m.last_heartbeat_ms = now
            self._schedule_session(g, m)
            if respond is not None:
                respond(self._join_response(g, m))

    def _join_response(self, g: _Group, m: _Member) -> dict[str, Any]:
        resp: dict[str, Any] = {
            "error": "NO_ERROR",
            "generation": g.generation,
            "protocol": g.protocol,
            "leader": g.leader,
            "member_id": m.member_id,
            "members": [],
        }
        if m.member_id == g.leader:
            # ClassicGroup keeps its members in a java.util.HashMap: the leader gets them in its order
            resp["members"] = [
                (mid, g.members[mid].group_instance_id, g.members[mid].metadata_for(g.protocol or ""))
                for mid in java_hashmap_order(g.members)
            ]
        if g.state == STABLE:
            resp["assignment"] = m.assignment
        return resp

    # -- SyncGroup -----------------------------------------------------------------------------------
    def _known_member(self, req: dict[str, Any], respond: Callable[[Any], None]) -> _Group | None:
        """The request's group if this broker coordinates it and knows the member; else answer the error."""
        if self.owns(req["group_id"]) is None:
            respond({"error": "NOT_COORDINATOR"})
            return None
        g = self.groups.get(req["group_id"])
        if g is None or req["member_id"] not in g.members:
            respond({"error": "UNKNOWN_MEMBER_ID"})
            return None
        return g

    def handle_sync(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        g = self._known_member(req, respond)
        if g is None:
            return
        mid = req["member_id"]
        if req["generation"] != g.generation:
            respond({"error": "ILLEGAL_GENERATION"})
            return
        m = g.members[mid]
        m.last_heartbeat_ms = self.broker.kernel.now_ms
        if g.state == PREPARING:
            respond({"error": "REBALANCE_IN_PROGRESS"})
            return
        if g.state == STABLE:
            respond({"error": "NO_ERROR", "assignment": m.assignment})
            return
        m.sync_respond = respond
        if mid == g.leader and req.get("assignments") is not None:
            assignments: dict[str, bytes] = req["assignments"]
            for other_id, other in g.members.items():
                other.assignment = assignments.get(other_id, encode_assignment([]))
            token = g.generation

            def done(ok: bool) -> None:
                if g.generation != token or g.state != COMPLETING:
                    return
                if not ok:
                    self._prepare_rebalance(g, "could not store the group metadata")
                    return
                g.state = STABLE
                self._announce(g, f"is Stable (generation {g.generation})")
                for other in g.members.values():
                    r, other.sync_respond = other.sync_respond, None
                    if r is not None:
                        r({"error": "NO_ERROR", "assignment": other.assignment})

            self._persist(g, done)

    # -- Heartbeat / LeaveGroup / sessions -----------------------------------------------------------
    def handle_heartbeat(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        gid = req["group_id"]
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        mid = req["member_id"]
        if g is None or mid not in g.members:
            inst = req.get("group_instance_id")
            if g is not None and inst and g.static.get(inst) not in (None, mid):
                respond({"error": "FENCED_INSTANCE_ID"})
                return
            respond({"error": "UNKNOWN_MEMBER_ID"})
            return
        m = g.members[mid]
        m.last_heartbeat_ms = self.broker.kernel.now_ms
        if g.state == PREPARING:
            respond({"error": "REBALANCE_IN_PROGRESS"})
        elif req["generation"] != g.generation:
            respond({"error": "ILLEGAL_GENERATION"})
        else:
            respond({"error": "NO_ERROR"})

    def _schedule_session(self, g: _Group, m: _Member) -> None:
        """One session timer per member: it expires the member unless heartbeats moved its deadline."""
        mid = m.member_id
        if m.session_timer is not None:
            m.session_timer.cancel()

        def check() -> None:
            cur = self.groups.get(g.group_id)
            if cur is not g or mid not in g.members:
                return
            mm = g.members[mid]
            now = self.broker.kernel.now_ms
            timeout = NEW_MEMBER_JOIN_TIMEOUT_MS if mm.is_new else mm.session_timeout_ms
            expires = mm.last_heartbeat_ms + timeout
            if now < expires:
                mm.session_timer = self._schedule(expires - now, "session-check", check)
                return
            if not mm.is_new and (mm.join_respond is not None or mm.sync_respond is not None):
                # ClassicGroupMember.hasSatisfiedHeartbeat: a member waiting in JoinGroup or SyncGroup
                # cannot heartbeat, so it is not expired (a new member is, after the new-member timeout)
                mm.session_timer = self._schedule(mm.session_timeout_ms, "session-check", check)
                return
            why = (
                f"its JoinGroup waited {NEW_MEMBER_JOIN_TIMEOUT_MS} ms (new member join timeout)"
                if mm.is_new
                else f"session timeout ({mm.session_timeout_ms} ms without a heartbeat)"
            )
            self._remove_member(g, mid, why)
            if g.state in (STABLE, COMPLETING):
                self._prepare_rebalance(g, f"member {mid} left")
            self._maybe_complete_join(g)

        first = NEW_MEMBER_JOIN_TIMEOUT_MS if m.is_new else m.session_timeout_ms
        m.session_timer = self._schedule(first, "session-check", check)

    def _remove_member(self, g: _Group, mid: str, why: str) -> None:
        m = g.members.pop(mid, None)
        if m is None:
            return
        if m.session_timer is not None:
            m.session_timer.cancel()
        if m.group_instance_id and g.static.get(m.group_instance_id) == mid:
            del g.static[m.group_instance_id]
        for r in (m.join_respond, m.sync_respond):
            if r is not None:
                r({"error": "UNKNOWN_MEMBER_ID"})
        if g.leader == mid:
            g.leader = next(iter(g.members), None)
        self._announce(g, f"member {mid} removed: {why}")

    def handle_leave(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        g = self._known_member(req, respond)
        if g is None:
            return
        mid = req["member_id"]
        self._remove_member(g, mid, "left the group (LeaveGroup)")
        if g.state in (STABLE, COMPLETING):
            self._prepare_rebalance(g, f"member {mid} left")
        elif g.state == PREPARING:
            self._maybe_complete_join(g)
        respond({"error": "NO_ERROR"})

    # -- offsets -------------------------------------------------------------------------------------
    def handle_offset_commit(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        gid = req["group_id"]
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        generation, mid = req["generation"], req["member_id"]
        if generation < 0 and mid == "":
            # a consumer with manual assignment (no group membership) may commit only to an empty group
            if g is not None and g.members:
                respond({"error": "UNKNOWN_MEMBER_ID"})
                return
            if g is None:
                g = self.groups.setdefault(gid, _Group(gid))
        else:
            if g is None or mid not in g.members:
                respond({"error": "UNKNOWN_MEMBER_ID"})
                return
            if generation != g.generation:
                respond({"error": "ILLEGAL_GENERATION"})
                return
            if g.state == COMPLETING:
                respond({"error": "REBALANCE_IN_PROGRESS"})
                return
            g.members[mid].last_heartbeat_ms = self.broker.kernel.now_ms
        now = self.broker.kernel.now_ms
        offsets: list[tuple[str, int, int, int, str]] = req["offsets"]
        records = [
            Record(offset_commit_key(gid, t, p), offset_commit_value(off, epoch, meta, now), (), now)
            for t, p, off, epoch, meta in offsets
        ]
        grp = g

        def done(ok: bool) -> None:
            if not ok:
                respond({"error": "NOT_COORDINATOR"})
                return
            for t, p, off, epoch, meta in offsets:
                grp.offsets[(t, p)] = (off, epoch, meta, now)
            respond({"error": "NO_ERROR"})

        self._append(gid, records, done)

    def handle_offset_fetch(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        gid = req["group_id"]
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        out: dict[tuple[str, int], int] = {}
        if req.get("require_stable"):  # KIP-447: wait while a transaction still holds offsets for the group
            for pend in self.pending_txn.values():
                for offsets in pend.values():
                    if any(k[0] == gid for k in offsets):
                        respond({"error": "UNSTABLE_OFFSET_COMMIT"})
                        return
        if g is not None:
            wanted = req.get("partitions")
            for tp, (off, _e, _m, _ts) in g.offsets.items():
                if wanted is None or tp in wanted:
                    out[tp] = off
        respond({"error": "NO_ERROR", "offsets": out})

    def handle_txn_offset_commit(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        """TxnOffsetCommit: offsets written inside a transaction, visible only once it commits (KIP-98/447)."""
        gid = req["group_id"]
        part = self.owns(gid)
        if part is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        generation, mid = req.get("generation", -1), req.get("member_id", "")
        if generation >= 0 and g is not None and g.members:  # KIP-447: fence zombies by group generation
            if mid not in g.members:
                respond({"error": "UNKNOWN_MEMBER_ID"})
                return
            if generation != g.generation:
                respond({"error": "ILLEGAL_GENERATION"})
                return
        pid, epoch = req["producer_id"], req["producer_epoch"]
        now = self.broker.kernel.now_ms
        records = [
            Record(offset_commit_key(gid, t, p), offset_commit_value(off, -1, "", now), (), now)
            for t, p, off in req["offsets"]
        ]
        batch = RecordBatch.build(
            records, producer_id=pid, producer_epoch=epoch, base_sequence=-1, transactional=True
        )
        from .broker import ProduceRequest

        def done(results: Any) -> None:
            r = results[(CONSUMER_OFFSETS, part.index)]
            if r.error != "NO_ERROR":
                respond({"error": "PRODUCER_FENCED" if r.error == "INVALID_PRODUCER_EPOCH" else r.error})
                return
            # the transaction may have ended while the append waited for the replicas: its marker already
            # came, so these offsets must not wait for one (they would block read_committed OffsetFetch)
            first = part.ongoing_txns.get(pid)
            if first is not None and first <= r.base_offset:
                pend = self.pending_txn.setdefault(part.index, {}).setdefault(pid, {})
                for t, p, off in req["offsets"]:
                    pend[(gid, t, p)] = off
            respond({"error": "NO_ERROR"})

        self.broker.handle_produce(ProduceRequest(-1, 5000, [(CONSUMER_OFFSETS, part.index, batch)]), done)

    def on_txn_marker(self, index: int, pid: int, commit: bool) -> None:
        """A COMMIT/ABORT marker reached offsets partition ``index``: apply or drop the producer's offsets."""
        pend = self.pending_txn.get(index, {}).pop(pid, None)
        if not pend or not commit:
            return
        now = self.broker.kernel.now_ms
        for (gid, t, p), off in pend.items():
            g = self.groups.setdefault(gid, _Group(gid))
            g.offsets[(t, p)] = (off, -1, "", now)

    def subscribed_topics(self, g: _Group) -> set[str]:
        """Topics the members of a consumer-protocol group subscribe to (from their JoinGroup metadata)."""
        out: set[str] = set()
        if g.protocol_type != "consumer" or g.protocol is None:
            return out
        for m in g.members.values():
            meta = m.metadata_for(g.protocol)
            if meta:
                try:
                    out.update(decode_subscription_data(meta).topics)
                except (struct.error, UnicodeDecodeError):
                    continue
        return out

    def handle_delete_groups(self, gid: str, respond: Callable[[Any], None]) -> None:
        """DeleteGroups: only an Empty (or Dead) group; its offsets and metadata get tombstones."""
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        if g is None or g.state == DEAD:
            respond({"error": "GROUP_ID_NOT_FOUND"})
            return
        if g.state != EMPTY:
            respond({"error": "NON_EMPTY_GROUP"})
            return
        now = self.broker.kernel.now_ms
        records = [Record(offset_commit_key(gid, t, p), None, (), now) for (t, p) in sorted(g.offsets)]
        records.append(Record(group_metadata_key(gid), None, (), now))

        def done(ok: bool) -> None:
            if not ok:
                respond({"error": "NOT_COORDINATOR"})
                return
            if self.groups.get(gid) is g:
                g.state = DEAD
                del self.groups[gid]
                self._announce(g, "deleted (DeleteGroups)")
            respond({"error": "NO_ERROR"})

        self._append(gid, records, done)

    def handle_offset_delete(
        self, gid: str, partitions: list[tuple[str, int]], respond: Callable[[Any], None]
    ) -> None:
        """OffsetDelete: forget committed offsets, refused per partition while the group subscribes to it."""
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        if g is None or g.state == DEAD:
            respond({"error": "GROUP_ID_NOT_FOUND"})
            return
        subscribed = self.subscribed_topics(g) if g.state != EMPTY else set()
        results = {
            tp: ("GROUP_SUBSCRIBED_TO_TOPIC" if tp[0] in subscribed else "NO_ERROR") for tp in partitions
        }
        doomed = [tp for tp, err in results.items() if err == "NO_ERROR" and tp in g.offsets]
        now = self.broker.kernel.now_ms
        records = [Record(offset_commit_key(gid, t, p), None, (), now) for (t, p) in sorted(doomed)]

        def done(ok: bool) -> None:
            if not ok:
                respond({"error": "NOT_COORDINATOR"})
                return
            for tp in doomed:
                g.offsets.pop(tp, None)
            top = (
                "GROUP_SUBSCRIBED_TO_TOPIC" if any(e != "NO_ERROR" for e in results.values()) else "NO_ERROR"
            )
            respond({"error": top, "partitions": results})

        self._append(gid, records, done)

    def reset_offsets(
        self, gid: str, offsets: dict[tuple[str, int], int], respond: Callable[[Any], None]
    ) -> None:
        """Admin: overwrite committed offsets; refused unless the group is Empty/Dead (as Kafka does)."""
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        g = self.groups.get(gid)
        if g is not None and g.state not in (EMPTY, DEAD):
            respond({"error": "NON_EMPTY_GROUP", "state": g.state})
            return
        req = {
            "group_id": gid,
            "generation": -1,
            "member_id": "",
            "offsets": [(t, p, o, -1, "") for (t, p), o in sorted(offsets.items())],
        }
        self.handle_offset_commit(req, respond)

    # -- persistence ---------------------------------------------------------------------------------
    def _persist(self, g: _Group, then: Callable[[bool], None] | None = None) -> None:
        now = self.broker.kernel.now_ms
        members = []
        for m in g.members.values():
            members.append(
                _str(m.member_id)
                + _str(m.group_instance_id)
                + _str(m.client_id)
                + _str("/127.0.0.1")
                + struct.pack(">ii", m.rebalance_timeout_ms, m.session_timeout_ms)
                + _bytes(m.metadata_for(g.protocol or ""))
                + _bytes(m.assignment)
            )
        value = (
            struct.pack(">h", 3)
            + _str(g.protocol_type)
            + struct.pack(">i", g.generation)
            + _str(g.protocol)
            + _str(g.leader)
            + struct.pack(">q", now)
            + struct.pack(">i", len(members))
            + b"".join(members)
        )
        rec = Record(group_metadata_key(g.group_id), value, (), now)
        self._append(g.group_id, [rec], then or (lambda ok: None))

    def _append(self, gid: str, records: list[Record], then: Callable[[bool], None]) -> None:
        """Append to the group's offsets partition with acks=all and report when it is committed."""
        from .broker import ProduceRequest

        part = self.owns(gid)
        if part is None:
            then(False)
            return
        if not records:  # e.g. an OffsetCommit with no partitions: nothing to write, nothing to wait for
            then(True)
            return
        batch = RecordBatch.build(records)

        def respond(results: Any) -> None:
            res = results[(CONSUMER_OFFSETS, part.index)]
            then(res.error == "NO_ERROR")

        self.broker.handle_produce(ProduceRequest(-1, 5000, [(CONSUMER_OFFSETS, part.index, batch)]), respond)

    # -- views ---------------------------------------------------------------------------------------
    def handle_describe_groups(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        """DescribeGroups (for the AdminClient): state, protocol and members with their assignments."""
        gid = req["group_id"]
        if self.owns(gid) is None:
            respond({"error": "NOT_COORDINATOR"})
            return
        respond({"error": "NO_ERROR", "group": self.snapshot(gid)})

    def handle_list_groups(self, req: dict[str, Any], respond: Callable[[Any], None]) -> None:
        """ListGroups: (group id, state, protocol type) of every group this broker coordinates."""
        out = []
        for gid, g in sorted(self.groups.items()):
            if self.owns(gid) is not None:
                out.append((gid, g.state, g.protocol_type or ""))
        respond({"error": "NO_ERROR", "groups": out})

    def snapshot(self, gid: str) -> GroupSnapshot | None:
        g = self.groups.get(gid)
        if g is None:
            return None
        members = tuple(
            MemberSnapshot(
                m.member_id,
                m.group_instance_id,
                m.client_id,
                tuple(decode_assignment(m.assignment))
                if g.state == STABLE and g.protocol_type in ("consumer", "", None)
                else (),
            )
            for m in g.members.values()
        )
        return GroupSnapshot(
            gid,
            g.state,
            g.generation,
            g.protocol_type,
            g.protocol,
            g.leader,
            members,
            {tp: v[0] for tp, v in sorted(g.offsets.items())},
            self.broker.broker_id,
        )
