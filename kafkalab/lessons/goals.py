"""Goal predicates: a small declarative vocabulary checked live against a lab session.

A goal in a lesson file is a one-key mapping ``{predicate: arguments}`` (optionally with ``text:`` to
override the generated description). Arguments are a mapping, or a single scalar for predicates that take
one main argument (``{leader_changed: events-0}``). Counting predicates take ``equals``, ``at_least``
and/or ``at_most``.

Every predicate reads the cluster without changing it: logs are read straight from the replicas' memory,
history from the cluster's record of client operations. Nothing here runs the simulation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..sim.records import ControlType

if TYPE_CHECKING:
    from ..commands import LabSession
    from ..sim.cluster import Cluster
    from ..sim.log import PartitionLog

__all__ = [
    "Goal",
    "GoalContext",
    "GoalError",
    "PREDICATES",
    "Predicate",
    "parse_goal",
    "visible_records",
]

COUNT_KEYS = ("equals", "at_least", "at_most")
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

    @property
    def cluster(self) -> Cluster:
        return self.session.cluster


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # str, int, partition, bool, choice
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Predicate:
    name: str
    summary: str
    params: tuple[Param, ...]
    #: the parameter a bare scalar argument fills
    scalar: str | None
    #: takes equals / at_least / at_most and ``measure`` returns a number
    counting: bool
    describe: Callable[[dict[str, Any]], str]
    measure: Callable[[GoalContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Goal:
    predicate: str
    args: dict[str, Any]
    text: str

    def evaluate(self, ctx: GoalContext) -> bool:
        pred = PREDICATES[self.predicate]
        try:
            value = pred.measure(ctx, self.args)
        except Exception:  # a goal must never take the lesson down; unreadable state = not reached
            return False
        if not pred.counting:
            return bool(value)
        if value is None:
            return False
        return _compare(int(value), self.args)


def _compare(value: int, args: dict[str, Any]) -> bool:
    if "equals" in args and value != args["equals"]:
        return False
    if "at_least" in args and value < args["at_least"]:
        return False
    return not ("at_most" in args and value > args["at_most"])


def _count_text(args: dict[str, Any]) -> str:
    parts = []
    if "equals" in args:
        parts.append(f"exactly {args['equals']}")
    if "at_least" in args:
        parts.append(f"at least {args['at_least']}")
    if "at_most" in args:
        parts.append(f"at most {args['at_most']}")
    return " and ".join(parts)


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


def lost_records(ctx: GoalContext, topic: str, acks: str | None = None) -> list[Any]:
    """Acknowledged records that are no longer in the log of their partition's current leader.

    A record below the log start offset was removed by retention, not lost. Partitions without a live
    leader cannot be judged (their records may come back) and count nothing. Compacted topics are skipped.
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
            log = leader_log(c, topic, op.partition)
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
    return len(lost_records(ctx, a["topic"], str(a["acks"]) if "acks" in a else None))


def _m_records_kept(ctx: GoalContext, a: dict[str, Any]) -> int:
    """Acknowledged records (optionally of one acks setting) still in their partition's leader log."""
    c = ctx.cluster
    if a["topic"] not in c.topics():
        return 0
    judged = {p for p in _topic_partitions(c, a["topic"]) if leader_log(c, a["topic"], p) is not None}
    acks = _producer_acks(c)
    acked = [
        op
        for op in _ops(ctx, "ack")
        if op.topic == a["topic"]
        and op.partition in judged
        and ("acks" not in a or acks.get(op.client) == str(a["acks"]))
    ]
    return len(acked) - len(lost_records(ctx, a["topic"], str(a["acks"]) if "acks" in a else None))


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
    return bool(rows) and rows[-1] == str(a["value"]).encode()


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
        return any(v not in counts for v in src)
    if outcome == "duplicated":
        return any(n > 1 for n in counts.values())
    return set(src) == set(counts) and all(n == 1 for n in counts.values())


# -- the vocabulary ---------------------------------------------------------------------------------------

P = Param


def _pred(
    name: str,
    summary: str,
    params: list[Param],
    describe: Callable[[dict[str, Any]], str],
    measure: Callable[[GoalContext, dict[str, Any]], Any],
    *,
    scalar: str | None = None,
    counting: bool = False,
) -> Predicate:
    return Predicate(name, summary, tuple(params), scalar, counting, describe, measure)


def _where(a: dict[str, Any]) -> str:
    return a.get("partition") or f"topic {a.get('topic')}"


PREDICATES: dict[str, Predicate] = {
    p.name: p
    for p in [
        _pred(
            "topic_exists",
            "a topic exists (optionally with a number of partitions / replication factor)",
            [P("topic", "str", True), P("partitions", "int"), P("replication_factor", "int")],
            lambda a: (
                f"topic {a['topic']} exists"
                + (f" with {a['partitions']} partitions" if "partitions" in a else "")
                + (f", replication factor {a['replication_factor']}" if "replication_factor" in a else "")
            ),
            _m_topic_exists,
            scalar="topic",
        ),
        _pred(
            "high_watermark",
            "the high watermark of a partition (or the sum over a topic's partitions)",
            [P("partition", "partition"), P("topic", "str")],
            lambda a: f"the high watermark of {_where(a)} is {_count_text(a)}",
            _m_high_watermark,
            counting=True,
        ),
        _pred(
            "partitions_with_records",
            "how many partitions of a topic hold records",
            [P("topic", "str", True)],
            lambda a: f"{_count_text(a)} partitions of {a['topic']} hold records",
            _m_partitions_with_records,
            counting=True,
        ),
        _pred(
            "key_in_one_partition",
            "acknowledged records with one key all landed in one partition, in the order they were sent",
            [P("topic", "str", True), P("key", "str", True)],
            lambda a: (
                f"{_count_text(a)} records with key {a['key']} sit in one partition of {a['topic']}, "
                "in the order they were sent"
            ),
            _m_key_partition,
            counting=True,
        ),
        _pred(
            "leader_changed",
            "a partition has a live leader other than the one it had when the lesson started",
            [P("partition", "partition", True)],
            lambda a: f"partition {a['partition']} has a new leader",
            _m_leader_changed,
            scalar="partition",
        ),
        _pred(
            "partition_offline",
            "a partition has no leader (leader -1)",
            [P("partition", "partition", True)],
            lambda a: f"partition {a['partition']} is offline (no leader)",
            _m_offline,
            scalar="partition",
        ),
        _pred(
            "isr_size",
            "the number of in-sync replicas of a partition",
            [P("partition", "partition", True)],
            lambda a: f"the ISR of {a['partition']} has {_count_text(a)} replicas",
            _m_isr_size,
            counting=True,
        ),
        _pred(
            "leader_epoch",
            "the leader epoch of a partition",
            [P("partition", "partition", True)],
            lambda a: f"the leader epoch of {a['partition']} is {_count_text(a)}",
            _m_leader_epoch,
            counting=True,
        ),
        _pred(
            "broker_state",
            "a broker is up, down or paused (optionally fenced or not)",
            [
                P("broker", "int", True),
                P("state", "choice", True, ("up", "down", "paused")),
                P("fenced", "bool"),
            ],
            lambda a: (
                f"broker {a['broker']} is {a['state']}"
                + ("" if "fenced" not in a else (" and fenced" if a["fenced"] else " and not fenced"))
            ),
            _m_broker_state,
        ),
        _pred(
            "controller_changed",
            "another controller than at the start is the active controller",
            [P("changed", "bool")],
            lambda a: "a different controller is active",
            _m_controller_changed,
            scalar="changed",
        ),
        _pred(
            "producer_error",
            "a producer got an error with this name (e.g. NOT_ENOUGH_REPLICAS)",
            [P("name", "str", True), P("client", "str")],
            lambda a: f"a producer{' ' + a['client'] if 'client' in a else ''} got {a['name']}",
            _m_producer_error,
            scalar="name",
        ),
        _pred(
            "records_acked",
            "acknowledged records (optionally of one topic / client / acks setting)",
            [P("topic", "str"), P("client", "str"), P("acks", "choice", False, ("0", "1", "all"))],
            lambda a: (
                f"{_count_text(a)} records"
                + (f" to {a['topic']}" if "topic" in a else "")
                + (f" with acks={a['acks']}" if "acks" in a else "")
                + (f" by {a['client']}" if "client" in a else "")
                + (
                    " were reported sent (acks=0 waits for no answer)"
                    if a.get("acks") == "0"
                    else " were acknowledged"
                )
            ),
            _m_acked,
            counting=True,
        ),
        _pred(
            "records_failed",
            "records whose delivery failed",
            [P("topic", "str"), P("client", "str")],
            lambda a: (
                f"{_count_text(a)} records"
                + (f" to {a['topic']}" if "topic" in a else "")
                + " failed to be delivered"
            ),
            _m_failed,
            counting=True,
        ),
        _pred(
            "records_per_batch",
            "average records per produce batch of a producer (after at least min_records acks)",
            [P("client", "str", True), P("min_records", "int")],
            lambda a: f"{a['client']} sends {_count_text(a)} records per batch on average",
            _m_records_per_batch,
            counting=True,
        ),
        _pred(
            "ack_latency_ms",
            "mean ms from produce() to acknowledgement of a producer (after at least min_records acks)",
            [P("client", "str", True), P("min_records", "int")],
            lambda a: (
                f"{a['client']}'s records wait {_count_text(a)} ms on average for their acknowledgement"
            ),
            _m_ack_latency,
            counting=True,
        ),
        _pred(
            "records_lost",
            "acknowledged records that are gone from their partition's leader",
            [P("topic", "str", True), P("acks", "choice", False, ("0", "1", "all"))],
            lambda a: (
                f"{_count_text(a)} "
                + ("records reported sent with acks=0" if a.get("acks") == "0" else "acknowledged records")
                + (f" (acks={a['acks']})" if a.get("acks") in ("1", "all") else "")
                + f" of {a['topic']} were lost"
            ),
            _m_records_lost,
            counting=True,
        ),
        _pred(
            "records_kept",
            "acknowledged records still present in their partition's leader log",
            [P("topic", "str", True), P("acks", "choice", False, ("0", "1", "all"))],
            lambda a: (
                f"{_count_text(a)} acknowledged records"
                + (f" (acks={a['acks']})" if "acks" in a else "")
                + f" of {a['topic']} are still in the log"
            ),
            _m_records_kept,
            counting=True,
        ),
        _pred(
            "retried_without_duplicates",
            "a producer retried a send to the topic and every value is still stored only once",
            [P("topic", "str", True)],
            lambda a: f"a send to {a['topic']} was retried and {a['topic']} still holds every value once",
            _m_retried_without_duplicates,
            scalar="topic",
        ),
        _pred(
            "duplicates",
            "values stored more than once in a topic (as a read_committed reader sees it)",
            [P("topic", "str", True)],
            lambda a: f"{_count_text(a)} values are stored twice or more in {a['topic']}",
            _m_duplicates,
            counting=True,
        ),
        _pred(
            "records_consumed",
            "records returned by poll to consumers (optionally of one group or client)",
            [P("topic", "str", True), P("group", "str"), P("client", "str")],
            lambda a: (
                f"consumers{' of group ' + a['group'] if 'group' in a else ''} read {_count_text(a)} "
                f"records of {a['topic']}"
            ),
            _m_consumed,
            counting=True,
        ),
        _pred(
            "records_redelivered",
            "records a group consumed more than once",
            [P("topic", "str", True), P("group", "str", True)],
            lambda a: f"group {a['group']} read {_count_text(a)} records of {a['topic']} twice",
            _m_redelivered,
            counting=True,
        ),
        _pred(
            "group_state",
            "a consumer group is in a state (Stable, Empty, PreparingRebalance ...) with a number of members",
            [
                P("group", "str", True),
                P(
                    "state",
                    "choice",
                    False,
                    ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead"),
                ),
                P("members", "int"),
            ],
            lambda a: (
                f"group {a['group']}"
                + (f" is {a['state']}" if "state" in a else "")
                + (f" with {a['members']} members" if "members" in a else "")
            ),
            _m_group_state,
        ),
        _pred(
            "group_generation",
            "the generation of a group (one more per completed rebalance)",
            [P("group", "str", True)],
            lambda a: f"group {a['group']} is at generation {_count_text(a)}",
            _m_group_generation,
            counting=True,
        ),
        _pred(
            "idle_members",
            "members of a Stable group that were assigned no partition",
            [P("group", "str", True)],
            lambda a: f"group {a['group']} has {_count_text(a)} idle members (no partitions)",
            _m_idle_members,
            counting=True,
        ),
        _pred(
            "group_protocol",
            "a Stable group uses this assignor (range, roundrobin, sticky, cooperative-sticky)",
            [
                P("group", "str", True),
                P("protocol", "choice", True, ("range", "roundrobin", "sticky", "cooperative-sticky")),
            ],
            lambda a: f"group {a['group']} is Stable and uses the {a['protocol']} assignor",
            _m_group_protocol,
        ),
        _pred(
            "committed_offset",
            "the offset a group committed for a partition (the next offset it will read)",
            [P("group", "str", True), P("partition", "partition", True)],
            lambda a: f"group {a['group']} committed offset {_count_text(a)} for {a['partition']}",
            _m_committed_offset,
            counting=True,
        ),
        _pred(
            "group_lag",
            "total lag of a group (log end offset minus committed offset), optionally for one topic",
            [P("group", "str", True), P("topic", "str")],
            lambda a: f"the lag of group {a['group']} is {_count_text(a)}",
            _m_group_lag,
            counting=True,
        ),
        _pred(
            "segments",
            "segment files of a partition on its leader",
            [P("partition", "partition", True)],
            lambda a: f"{a['partition']} has {_count_text(a)} segments",
            _m_segments,
            counting=True,
        ),
        _pred(
            "log_start_offset",
            "the log start offset of a partition on its leader",
            [P("partition", "partition", True)],
            lambda a: f"the log start offset of {a['partition']} is {_count_text(a)}",
            _m_log_start_offset,
            counting=True,
        ),
        _pred(
            "log_records",
            "records physically present in a partition's leader log",
            [P("partition", "partition", True)],
            lambda a: f"the log of {a['partition']} holds {_count_text(a)} records",
            _m_log_records,
            counting=True,
        ),
        _pred(
            "records_compacted",
            "offsets below the high watermark whose records the log cleaner removed",
            [P("partition", "partition", True)],
            lambda a: f"compaction removed {_count_text(a)} records from {a['partition']}",
            _m_records_compacted,
            counting=True,
        ),
        _pred(
            "isr_full_again",
            "after a leader change, every replica of a partition is back in the ISR",
            [P("partition", "partition", True)],
            lambda a: f"after the leader change every replica of {a['partition']} is in sync again",
            _m_isr_full_again,
            scalar="partition",
        ),
        _pred(
            "records_with_key",
            "records with a key physically present in a partition's leader log",
            [P("partition", "partition", True), P("key", "str", True)],
            lambda a: f"the log of {a['partition']} holds {_count_text(a)} records with key {a['key']}",
            _m_records_with_key,
            counting=True,
        ),
        _pred(
            "latest_value",
            "the newest record with a key in a partition has this value",
            [P("partition", "partition", True), P("key", "str", True), P("value", "str", True)],
            lambda a: f"the newest value of key {a['key']} in {a['partition']} is {a['value']}",
            _m_latest_value,
        ),
        _pred(
            "topic_config",
            "a topic config has this effective value",
            [P("topic", "str", True), P("name", "str", True), P("value", "str", True)],
            lambda a: f"topic {a['topic']} has {a['name']}={a['value']}",
            _m_topic_config,
        ),
        _pred(
            "ran_command",
            "the learner ran a command containing all these words (tool first, options in any order)",
            [P("command", "str", True)],
            lambda a: f"you ran '{a['command']}'",
            _m_ran_command,
            scalar="command",
        ),
        _pred(
            "copy_outcome",
            "compare a copy with its source: missing (some record never copied), duplicated, or exact",
            [
                P("source", "str", True),
                P("sink", "str", True),
                P("outcome", "choice", True, ("missing", "duplicated", "exact")),
            ],
            lambda a: {
                "missing": f"some records of {a['source']} never reached {a['sink']}",
                "duplicated": f"some records of {a['source']} reached {a['sink']} twice",
                "exact": f"{a['sink']} holds every record of {a['source']} exactly once (read_committed)",
            }[a["outcome"]],
            _m_copy_outcome,
        ),
    ]
}


def _check_param(param: Param, value: Any) -> Any:
    if param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise GoalError(f"'{param.name}' must be a whole number, not {value!r}", (param.name,))
        return value
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise GoalError(f"'{param.name}' must be true or false, not {value!r}", (param.name,))
        return value
    if isinstance(value, bool | dict | list) or value is None:
        raise GoalError(f"'{param.name}' must be a word or number, not {value!r}", (param.name,))
    text = str(value)
    if param.kind == "partition":
        try:
            split_partition(text)
        except GoalError as e:
            raise GoalError(e.message, (param.name,)) from None
    if param.kind == "choice" and text not in param.choices:
        raise GoalError(
            f"'{param.name}' must be one of {', '.join(param.choices)}, not '{text}'", (param.name,)
        )
    return text


def parse_goal(raw: Any) -> Goal:
    """Validate one goal as written in a lesson file; raises :class:`GoalError`."""
    if not isinstance(raw, dict) or not raw:
        raise GoalError("a goal is a mapping like {leader_changed: events-0}")
    text = raw.get("text")
    names = [k for k in raw if k != "text"]
    if text is not None and not isinstance(text, str):
        raise GoalError("'text' of a goal must be a sentence", ("text",))
    if len(names) != 1:
        raise GoalError(
            f"a goal names exactly one predicate, this one has {len(names)}: {', '.join(names) or '-'}"
        )
    name = names[0]
    pred = PREDICATES.get(name)
    if pred is None:
        import difflib

        close = difflib.get_close_matches(name, list(PREDICATES), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GoalError(f"unknown goal predicate '{name}'{hint}", (name,))
    value = raw[name]
    if not isinstance(value, dict):
        if pred.scalar is None:
            raise GoalError(f"{name} takes a mapping of arguments", (name,))
        value = {pred.scalar: value}
    known = {p.name: p for p in pred.params}
    args: dict[str, Any] = {}
    for k, v in value.items():
        if pred.counting and k in COUNT_KEYS:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise GoalError(f"'{k}' must be a whole number, 0 or more", (name, k))
            args[k] = v
            continue
        param = known.get(k)
        if param is None:
            allowed = list(known) + (list(COUNT_KEYS) if pred.counting else [])
            raise GoalError(f"{name} has no argument '{k}' (it takes {', '.join(allowed)})", (name, k))
        try:
            args[k] = _check_param(param, v)
        except GoalError as e:
            raise GoalError(e.message, (name, *e.path)) from None
    for p in pred.params:
        if p.required and p.name not in args:
            raise GoalError(f"{name} needs '{p.name}'", (name,))
    if name == "high_watermark" and ("partition" in args) == ("topic" in args):
        raise GoalError("high_watermark takes either 'partition' or 'topic'", (name,))
    if pred.counting and not any(k in args for k in COUNT_KEYS):
        raise GoalError(f"{name} needs one of equals, at_least, at_most", (name,))
    return Goal(name, args, text or pred.describe(args))
