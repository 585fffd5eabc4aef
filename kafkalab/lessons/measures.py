"""Reading a lab session for goals: the measures behind every goal predicate.

Every function here reads the cluster without changing it: logs are read straight from the replicas'
memory, history from the cluster's record of client operations, group changes from the coordinators'
timeline. Nothing here runs the simulation. A measure returns a bool (a fact) or a number (a count that
the goal compares with ``equals`` / ``at_least`` / ``at_most``); None means "cannot be judged now".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..sim.records import ControlType

if TYPE_CHECKING:
    from ..commands import LabSession
    from ..sim.cluster import Cluster
    from ..sim.log import PartitionLog

__all__ = [
    "GoalContext",
    "GoalError",
    "command_matches",
    "leader_log",
    "lost_records",
    "split_partition",
    "visible_records",
]

_PARTITION_RX = re.compile(r"(.+)-(\d+)")


class GoalError(Exception):
    """A goal is malformed; ``path`` is relative to the goal (for the line number)."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class GoalContext:
    """What a goal can look at: the session, the state captured when the lesson started, commands run."""

    session: LabSession
    baseline: dict[str, Any] = field(default_factory=dict)
    #: every console line the learner ran successfully, in order
    commands: list[str] = field(default_factory=list)
    #: lesson-local state (e.g. copiers started by lesson verbs)
    extras: dict[str, Any] = field(default_factory=dict)
    #: in a lesson with several clusters: the cluster goals look at (by name: a rewind makes new objects);
    #: None: the cluster the console acts on
    cluster_name: str | None = None

    @property
    def cluster(self) -> Cluster:
        if self.cluster_name is not None:
            world = getattr(self.session._w, "world", None)
            if world is not None and self.cluster_name in world.clusters:
                return world.clusters[self.cluster_name]  # type: ignore[no-any-return]
        return self.session.cluster

    @property
    def world(self) -> Any:
        """The World of a lab with several clusters (None with one cluster)."""
        return getattr(self.session._w, "world", None)

    def on_cluster(self, name: str) -> GoalContext | None:
        """The same context looking at cluster ``name`` (None if the lab has no such cluster)."""
        world = self.world
        if world is None or name not in world.clusters:
            return None
        base = self.baseline.get("clusters", {}).get(name, {})
        return GoalContext(self.session, base, self.commands, self.extras, name)


def split_partition(text: str) -> tuple[str, int]:
    m = _PARTITION_RX.fullmatch(text)
    if not m:
        raise GoalError(f"'{text}' is not a partition (write it as TOPIC-N, e.g. events-0)")
    return m.group(1), int(m.group(2))


# -- reading the cluster without changing it ----------------------------------------------------------


def _partition_info(cluster: Cluster, tp: tuple[str, int]) -> Any:
    for p in cluster.describe_topic(tp[0]):
        if p.partition == tp[1]:
            return p
    return None


def leader_log(cluster: Cluster, topic: str, partition: int) -> PartitionLog | None:
    """The log of the partition's current leader replica, or None when it has no live leader."""
    info = _partition_info(cluster, (topic, partition))
    if info is None or info.leader < 0:
        return None
    b = cluster.brokers.get(info.leader)
    if b is None or not b.alive:
        return None
    part = b.partitions.get((topic, partition))
    return None if part is None else part.log


def visible_records(
    log: PartitionLog, *, read_committed: bool = True, upto: int | None = None
) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of the data records of ``log`` below ``upto`` (default: its end).

    With ``read_committed``, records of aborted or still-open transactions are left out, as a
    read_committed consumer would (control records are never returned).
    """
    end = log.log_end_offset if upto is None else upto
    out: list[tuple[int, bytes | None, bytes | None]] = []
    pending: dict[int, list[tuple[int, bytes | None, bytes | None]]] = {}
    for batch in log.iter_batches(log.log_start_offset):
        if batch.base_offset >= end:
            break
        if batch.is_control:
            recs = pending.pop(batch.producer_id, [])
            if batch.control_type == ControlType.COMMIT:
                out.extend(recs)
            continue
        rows = [(o, r.key, r.value) for o, r in batch.iter_records() if o < end]
        if read_committed and batch.is_transactional:
            pending.setdefault(batch.producer_id, []).extend(rows)
        else:
            out.extend(rows)
    out.sort()
    return out


def _topic_partitions(cluster: Cluster, topic: str) -> list[int]:
    return [p.partition for p in cluster.describe_topic(topic)]


def _topic_values(cluster: Cluster, topic: str) -> list[bytes | None] | None:
    """Values a read_committed reader would see in the whole topic (None if a partition has no leader)."""
    values: list[bytes | None] = []
    for p in _topic_partitions(cluster, topic):
        log = leader_log(cluster, topic, p)
        if log is None:
            return None
        values.extend(v for _o, _k, v in visible_records(log, upto=log.high_watermark))
    return values


def _producers(cluster: Cluster) -> list[Any]:
    from ..sim.clients.producer import Producer

    return [c for c in cluster.clients if isinstance(c, Producer)]


def _producer_acks(cluster: Cluster) -> dict[str, str]:
    out = {}
    for p in _producers(cluster):
        out[p.name] = "all" if p.acks == -1 else str(p.acks)
    return out


def _ops(ctx: GoalContext, type_: str) -> list[Any]:
    return [op for op in ctx.cluster.history.ops if op.type == type_]


# -- measures -------------------------------------------------------------------------------------------


def _m_topic_exists(ctx: GoalContext, a: dict[str, Any]) -> bool:
    c = ctx.cluster
    if a["topic"] not in c.topics():
        return False
    parts = c.describe_topic(a["topic"])
    if "partitions" in a and len(parts) != a["partitions"]:
        return False
    return not ("replication_factor" in a and any(len(p.replicas) != a["replication_factor"] for p in parts))


def _m_high_watermark(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    c = ctx.cluster
    if "partition" in a:
        info = _partition_info(c, split_partition(a["partition"]))
        return None if info is None or info.high_watermark < 0 else int(info.high_watermark)
    if a["topic"] not in c.topics():
        return None
    return sum(max(0, p.high_watermark) for p in c.describe_topic(a["topic"]))


def _m_partitions_with_records(ctx: GoalContext, a: dict[str, Any]) -> int:
    if a["topic"] not in ctx.cluster.topics():
        return 0
    return sum(1 for p in ctx.cluster.describe_topic(a["topic"]) if p.high_watermark > 0)


def _m_key_partition(ctx: GoalContext, a: dict[str, Any]) -> int:
    """Acked records with the key, if they all sit in one partition in the order they were sent; else 0."""
    key = str(a["key"]).encode()
    sent_order = {
        op.value: i for i, op in enumerate(_ops(ctx, "send")) if op.topic == a["topic"] and op.key == key
    }
    acks = [
        op for op in _ops(ctx, "ack") if op.topic == a["topic"] and op.key == key and op.offset is not None
    ]
    if not acks or len({op.partition for op in acks}) != 1:
        return 0
    by_offset = sorted(acks, key=lambda op: op.offset)
    order = [sent_order.get(op.value, -1) for op in by_offset]
    if order != sorted(order):
        return 0
    return len(acks)


def _m_leader_changed(ctx: GoalContext, a: dict[str, Any]) -> bool:
    tp = split_partition(a["partition"])
    info = _partition_info(ctx.cluster, tp)
    before = ctx.baseline.get("leaders", {}).get(tp)
    return info is not None and info.leader >= 0 and before is not None and info.leader != before


def _m_offline(ctx: GoalContext, a: dict[str, Any]) -> bool:
    info = _partition_info(ctx.cluster, split_partition(a["partition"]))
    return info is not None and info.leader < 0


def _m_isr_size(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    info = _partition_info(ctx.cluster, split_partition(a["partition"]))
    return None if info is None else len(info.isr)


def _m_leader_epoch(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    info = _partition_info(ctx.cluster, split_partition(a["partition"]))
    return None if info is None else int(info.leader_epoch)


def _m_broker_state(ctx: GoalContext, a: dict[str, Any]) -> bool:
    for b in ctx.cluster.describe_cluster().brokers:
        if b.broker_id == a["broker"]:
            if b.state != a["state"]:
                return False
            return "fenced" not in a or b.fenced == a["fenced"]
    return False


def _m_controller_changed(ctx: GoalContext, a: dict[str, Any]) -> bool:
    now = ctx.cluster.describe_cluster().controller_id
    return now is not None and now != ctx.baseline.get("controller")


def _m_producer_error(ctx: GoalContext, a: dict[str, Any]) -> bool:
    for p in _producers(ctx.cluster):
        if "client" in a and p.name != a["client"]:
            continue
        if any(e[2] == a["name"] for e in p.errors):
            return True
    return any(
        op.error == a["name"] and ("client" not in a or op.client == a["client"]) for op in _ops(ctx, "fail")
    )


def _m_acked(ctx: GoalContext, a: dict[str, Any]) -> int:
    acks = _producer_acks(ctx.cluster)
    n = 0
    for op in _ops(ctx, "ack"):
        if "topic" in a and op.topic != a["topic"]:
            continue
        if "client" in a and op.client != a["client"]:
            continue
        if "acks" in a and acks.get(op.client) != str(a["acks"]):
            continue
        if "key" in a and op.key != str(a["key"]).encode():
            continue
        n += 1
    return n


def _m_failed(ctx: GoalContext, a: dict[str, Any]) -> int:
    return sum(
        1
        for op in _ops(ctx, "fail")
        if ("topic" not in a or op.topic == a["topic"]) and ("client" not in a or op.client == a["client"])
    )


def _producer_named(ctx: GoalContext, name: str) -> Any:
    for p in _producers(ctx.cluster):
        if p.name == name:
            return p
    return None


def _m_records_per_batch(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    p = _producer_named(ctx, a["client"])
    if p is None or p.sent_batches == 0 or p.acked_records < a.get("min_records", 20):
        return None
    return int(p.acked_records // p.sent_batches)


def _m_ack_latency(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Mean ms from produce() to the acknowledgement, over a client's acknowledged records."""
    sent: dict[bytes | None, int] = {}
    for op in _ops(ctx, "send"):
        if op.client == a["client"]:
            sent.setdefault(op.value, op.time_ms)
    lat = [
        op.time_ms - sent[op.value]
        for op in _ops(ctx, "ack")
        if op.client == a["client"] and op.value in sent
    ]
    if len(lat) < a.get("min_records", 20):
        return None
    return int(sum(lat) / len(lat))


def replica_log(cluster: Cluster, topic: str, partition: int, broker: int) -> PartitionLog | None:
    """The log of ``broker``'s replica of the partition, or None when that broker is not running it."""
    b = cluster.brokers.get(broker)
    if b is None or not b.alive:
        return None
    part = b.partitions.get((topic, partition))
    return None if part is None else part.log


def lost_records(
    ctx: GoalContext, topic: str, acks: str | None = None, replica: int | None = None
) -> list[Any]:
    """Acknowledged records that are no longer in the log of their partition's current leader.

    With ``replica``, the log of that broker's replica is judged instead of the leader's (to show that a
    returning broker truncated records away). A record below the log start offset was removed by
    retention, not lost. Partitions without a live leader (or replica) cannot be judged (their records may
    come back) and count nothing. Compacted topics are skipped.
    """
    c = ctx.cluster
    if topic not in c.topics() or "compact" in c.topic_configs(topic).get("cleanup.policy", ""):
        return []
    producer_acks = _producer_acks(c)
    contents: dict[int, dict[int, bytes | None] | None] = {}
    lost = []
    for op in _ops(ctx, "ack"):
        if op.topic != topic or op.partition is None:
            continue
        if acks is not None and producer_acks.get(op.client) != acks:
            continue
        if op.partition not in contents:
            log = (
                leader_log(c, topic, op.partition)
                if replica is None
                else replica_log(c, topic, op.partition, replica)
            )
            contents[op.partition] = (
                None if log is None else {o: v for o, _k, v in visible_records(log, read_committed=False)}
            )
            if log is not None:
                contents[op.partition][-1] = log.log_start_offset  # type: ignore[index]
        got = contents[op.partition]
        if got is None:
            continue
        start = got.get(-1) or 0
        if op.offset is None:  # acks=0: no offset is known, look for the value
            if op.value not in got.values():
                lost.append(op)
        elif op.offset >= int(start) and got.get(op.offset, object()) != op.value:
            lost.append(op)
    return lost


def _m_records_lost(ctx: GoalContext, a: dict[str, Any]) -> int:
    return len(lost_records(ctx, a["topic"], a.get("acks"), a.get("replica")))


def _m_records_kept(ctx: GoalContext, a: dict[str, Any]) -> int:
    """Acknowledged records (optionally of one acks setting) still in their partition's leader log."""
    c = ctx.cluster
    t = a["topic"]
    if t not in c.topics():
        return 0
    replica = a.get("replica")
    judged = {
        p
        for p in _topic_partitions(c, t)
        if (leader_log(c, t, p) if replica is None else replica_log(c, t, p, replica)) is not None
    }
    acks = _producer_acks(c)
    acked = [
        op
        for op in _ops(ctx, "ack")
        if op.topic == t and op.partition in judged and ("acks" not in a or acks.get(op.client) == a["acks"])
    ]
    return len(acked) - len(lost_records(ctx, t, a.get("acks"), replica))


def _m_retried_without_duplicates(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A producer retried a send to the topic, and the topic still stores every value once."""
    t = a["topic"]
    retried = any(e[1].rsplit("-", 1)[0] == t for p in _producers(ctx.cluster) for e in p.errors)
    if not retried or not any(op.topic == t for op in _ops(ctx, "ack")):
        return False
    return _m_duplicates(ctx, {"topic": t}) == 0


def _m_duplicates(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    values = _topic_values(ctx.cluster, a["topic"]) if a["topic"] in ctx.cluster.topics() else None
    if values is None:
        return None
    counts = Counter(v for v in values if v is not None)
    return sum(1 for n in counts.values() if n > 1)


def _m_consumed(ctx: GoalContext, a: dict[str, Any]) -> int:
    return sum(
        1
        for op in _ops(ctx, "consume")
        if op.topic == a["topic"]
        and ("group" not in a or op.group == a["group"])
        and ("client" not in a or op.client == a["client"])
    )


def _m_redelivered(ctx: GoalContext, a: dict[str, Any]) -> int:
    """Records the group consumed more than once (the same partition and offset)."""
    seen = Counter(
        (op.partition, op.offset)
        for op in _ops(ctx, "consume")
        if op.topic == a["topic"] and op.group == a["group"]
    )
    return sum(1 for n in seen.values() if n > 1)


def _group(ctx: GoalContext, g: str) -> Any:
    return ctx.cluster.describe_group(g)


def _m_group_state(ctx: GoalContext, a: dict[str, Any]) -> bool:
    d = _group(ctx, a["group"])
    if "state" in a and d.state != a["state"]:
        return False
    if "protocol" in a and d.protocol != a["protocol"]:
        return False
    if "idle" in a and sum(1 for m in d.members if not m.assignment) != a["idle"]:
        return False
    return "members" not in a or len(d.members) == a["members"]


def _m_group_generation(ctx: GoalContext, a: dict[str, Any]) -> int:
    return int(_group(ctx, a["group"]).generation)


def _m_idle_members(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    d = _group(ctx, a["group"])
    if d.state != "Stable":
        return None
    return sum(1 for m in d.members if not m.assignment)


def _m_group_protocol(ctx: GoalContext, a: dict[str, Any]) -> bool:
    d = _group(ctx, a["group"])
    return d.state == "Stable" and d.protocol == a["protocol"]


def _m_committed_offset(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    d = _group(ctx, a["group"])
    return d.offsets.get(split_partition(a["partition"]))


def _m_group_lag(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    d = _group(ctx, a["group"])
    if not d.offsets:
        return None
    return sum(v for (t, _p), v in d.lag.items() if "topic" not in a or t == a["topic"])


def _log_of(ctx: GoalContext, partition: str) -> PartitionLog | None:
    t, p = split_partition(partition)
    return leader_log(ctx.cluster, t, p)


def _m_segments(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    log = _log_of(ctx, a["partition"])
    return None if log is None else len(log.segments_info())


def _m_log_start_offset(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    log = _log_of(ctx, a["partition"])
    return None if log is None else int(log.log_start_offset)


def _m_log_records(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    log = _log_of(ctx, a["partition"])
    return None if log is None else len(visible_records(log, read_committed=False))


def _m_latest_value(ctx: GoalContext, a: dict[str, Any]) -> bool:
    log = _log_of(ctx, a["partition"])
    if log is None:
        return False
    key = str(a["key"]).encode()
    rows = [v for _o, k, v in visible_records(log, upto=log.high_watermark) if k == key]
    if not rows:
        return False
    if "value" in a:
        return rows[-1] == str(a["value"]).encode()
    # without a value: the newest record in the log is the newest one a producer had acknowledged
    topic, partition = split_partition(a["partition"])
    acked = [
        op
        for op in _ops(ctx, "ack")
        if op.topic == topic and op.partition == partition and op.key == key and op.offset is not None
    ]
    return bool(acked) and rows[-1] == max(acked, key=lambda op: op.offset).value


def _m_records_compacted(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Offsets between the log start and the high watermark whose records are gone (cleaned away)."""
    log = _log_of(ctx, a["partition"])
    if log is None:
        return None
    hw = log.high_watermark
    present = sum(1 for _r in visible_records(log, read_committed=False, upto=hw))
    markers = sum(
        b.next_offset - b.base_offset
        for b in log.iter_batches(log.log_start_offset)
        if b.is_control and b.base_offset < hw
    )
    return max(0, hw - log.log_start_offset - present - markers)


def _m_isr_full_again(ctx: GoalContext, a: dict[str, Any]) -> bool:
    tp = split_partition(a["partition"])
    info = _partition_info(ctx.cluster, tp)
    before = ctx.baseline.get("epochs", {}).get(tp)
    return (
        info is not None
        and before is not None
        and info.leader_epoch > before
        and set(info.isr) == set(info.replicas)
    )


def _m_records_with_key(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    log = _log_of(ctx, a["partition"])
    if log is None:
        return None
    key = str(a["key"]).encode()
    return sum(1 for _o, k, _v in visible_records(log, read_committed=False) if k == key)


def _m_topic_config(ctx: GoalContext, a: dict[str, Any]) -> bool:
    if a["topic"] not in ctx.cluster.topics():
        return False
    return ctx.cluster.topic_configs(a["topic"]).get(a["name"]) == str(a["value"])


def command_matches(pattern: str, line: str) -> bool:
    from ..commands.parsing import CommandError, split_line

    try:
        want = split_line(pattern)
        got = split_line(line)
    except CommandError:
        return False
    if not want or not got:
        return False

    def tool(w: str) -> str:
        w = w.rsplit("/", 1)[-1]
        return w[:-3] if w.endswith(".sh") else w

    if tool(want[0]) != tool(got[0]):
        return False
    rest = got[1:]
    return all(tok in rest for tok in want[1:])


def _m_ran_command(ctx: GoalContext, a: dict[str, Any]) -> bool:
    return any(command_matches(a["command"], line) for line in ctx.commands)


def _source_fully_committed(c: Cluster, topic: str) -> bool:
    ends = {(topic, p.partition): p.high_watermark for p in c.describe_topic(topic)}
    for g in c.list_groups():
        offsets = c.describe_group(g).offsets
        if all(offsets.get(tp, -1) >= end for tp, end in ends.items()):
            return True
    return False


def _m_copy_outcome(ctx: GoalContext, a: dict[str, Any]) -> bool:
    c = ctx.cluster
    if a["source"] not in c.topics() or a["sink"] not in c.topics():
        return False
    src = _topic_values(c, a["source"])
    sink = _topic_values(c, a["sink"])
    if not src or sink is None or not sink:
        return False
    counts = Counter(sink)
    outcome = a["outcome"]
    if outcome == "missing":
        # only once a consumer group has committed the whole source is a record missing for good
        # (before that, the copy may simply not be finished)
        return any(v not in counts for v in src) and _source_fully_committed(c, a["source"])
    if outcome == "duplicated":
        return any(n > 1 for n in counts.values())
    return set(src) == set(counts) and all(n == 1 for n in counts.values())


def _m_broker_isolated(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """The broker can reach no other broker and no controller, and none of them can reach it."""
    c = ctx.cluster
    me = c.brokers.get(a["broker"])
    if me is None:
        return False
    others = [b.name for bid, b in c.brokers.items() if bid != a["broker"]]
    others += [v.name for v in c.quorum.voters.values()]
    net = c.net
    return all(not net.can_reach(me.name, o) and not net.can_reach(o, me.name) for o in others)


#: how the group coordinator words a member's removal (sim/group.py), by reason
_REMOVED = {
    "session_timeout": "removed: session timeout",
    "left_group": "removed: left the group (LeaveGroup)",
}


def _m_member_removed(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """The coordinator removed a member of the group for this reason (and the group is Stable again)."""
    prefix = f"group {a['group']}: member "
    marker = _REMOVED[a["reason"]]
    if not any(e.text.startswith(prefix) and marker in e.text for e in ctx.cluster.timeline):
        return False
    if "members" not in a:
        return True
    d = ctx.cluster.describe_group(a["group"])
    return d.state == "Stable" and len(d.members) == a["members"]


def _m_consumer_started_at(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """Some consumer's first record of the partition had this offset (it started reading there)."""
    topic, partition = split_partition(a["partition"])
    first: dict[str, int] = {}
    for op in _ops(ctx, "consume"):
        if op.topic == topic and op.partition == partition and op.offset is not None:
            first.setdefault(op.client, op.offset)
    return a["offset"] in first.values()


def _m_key_partitions(ctx: GoalContext, a: dict[str, Any]) -> int:
    """How many partitions of the topic hold acknowledged records with this key."""
    key = str(a["key"]).encode()
    return len({op.partition for op in _ops(ctx, "ack") if op.topic == a["topic"] and op.key == key})


def _m_read_exactly_once(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """The group read every record of the topic (below each high watermark) exactly once; with
    ``committed``, its committed offsets are also at the high watermarks (it committed after them)."""
    c = ctx.cluster
    topic, group = a["topic"], a["group"]
    if topic not in c.topics():
        return False
    seen = Counter(
        (op.partition, op.offset) for op in _ops(ctx, "consume") if op.topic == topic and op.group == group
    )
    if any(n > 1 for n in seen.values()):
        return False
    total = 0
    committed = c.describe_group(group).offsets if a.get("committed") else {}
    for p in c.describe_topic(topic):
        if p.high_watermark < 0:
            return False
        want = set(range(max(0, p.log_start_offset), p.high_watermark))
        got = {o for (part, o) in seen if part == p.partition}
        if not want <= got:
            return False
        total += len(want)
        if (
            a.get("committed")
            and p.high_watermark > 0
            and committed.get((topic, p.partition)) != p.high_watermark
        ):
            return False
    return total > 0 and total >= a.get("records", 0)


def _m_records_only_on(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Acknowledged (acks=0: sent) records that are in one replica's log but not in another's."""
    c = ctx.cluster
    topic = a["topic"]
    if topic not in c.topics():
        return None
    producer_acks = _producer_acks(c)
    logs: dict[tuple[int, int], dict[int, bytes | None] | None] = {}

    def contents(partition: int, broker: int) -> dict[int, bytes | None] | None:
        if (partition, broker) not in logs:
            log = replica_log(c, topic, partition, broker)
            logs[(partition, broker)] = (
                None if log is None else {o: v for o, _k, v in visible_records(log, read_committed=False)}
            )
        return logs[(partition, broker)]

    def holds(got: dict[int, bytes | None], op: Any) -> bool:
        if op.offset is None:
            return op.value in got.values()
        return got.get(op.offset, object()) == op.value

    n = 0
    for op in _ops(ctx, "ack"):
        if op.topic != topic or op.partition is None:
            continue
        if "acks" in a and producer_acks.get(op.client) != a["acks"]:
            continue
        on, off = contents(op.partition, a["replica"]), contents(op.partition, a["not_on"])
        if on is None or off is None:
            continue
        if holds(on, op) and not holds(off, op):
            n += 1
    return n


def _m_controller_active(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """Whether some controller is active (the Raft leader of the metadata log) equals ``active``."""
    return (ctx.cluster.describe_cluster().controller_id is not None) == a["active"]
