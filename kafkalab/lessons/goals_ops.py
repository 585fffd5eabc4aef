"""Goal predicates of the operations lessons (issue 14): where replicas and leaders are, what a segment
holds, how long a record took to reach a consumer, why a consumer left its group.

Like every measure, these read the run without changing it: partition metadata from the cluster's
metadata image, batches from the partition's leader log, times from the client history, causes from
the timeline the coordinator and the clients write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sim.records import ControlType
from .measures import GoalContext, _log_of, _partition_info, split_partition

if TYPE_CHECKING:
    from .goals import Predicate

__all__ = ["ops_predicates"]


def _broker_list(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        return None


def _m_replicas(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """The partition's replica list is exactly these brokers, in this order (no reassignment under way:
    while one is, the list also holds the replicas being added or removed)."""
    info = _partition_info(ctx.cluster, split_partition(a["partition"]))
    return info is not None and tuple(info.replicas) == _broker_list(a["brokers"])


def _m_leader(ctx: GoalContext, a: dict[str, Any]) -> bool:
    info = _partition_info(ctx.cluster, split_partition(a["partition"]))
    return info is not None and info.leader == a["broker"]


def _m_control_records(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Transaction markers (control records) of one kind in the partition's leader log."""
    log = _log_of(ctx, a["partition"])
    if log is None:
        return None
    want = ControlType[a["marker"]]
    return sum(1 for b in log.iter_batches(log.log_start_offset) if b.is_control and b.control_type == want)


def _latencies_ms(ctx: GoalContext) -> dict[str, int]:
    """Per consumer: mean ms from produce() of a record to the poll() that returned it. Records matched by
    topic and value; a record produced before the consumer's first poll() that returned anything is left
    out (a backlog read --from-beginning says nothing about how fast new records arrive)."""
    sent: dict[tuple[str, bytes | None], list[int]] = {}
    first: dict[str, int] = {}
    sums: dict[str, list[int]] = {}
    for op in ctx.cluster.history.ops:
        if op.type == "send":
            sent.setdefault((op.topic, op.value), []).append(op.time_ms)
        elif op.type == "consume":
            start = first.setdefault(op.client, op.time_ms)
            times = [t for t in sent.get((op.topic, op.value), ()) if t <= op.time_ms]
            if times and times[-1] >= start:
                acc = sums.setdefault(op.client, [0, 0])
                acc[0] += op.time_ms - times[-1]
                acc[1] += 1
    return {client: total // n for client, (total, n) in sums.items()}


def _m_consume_latency_ms(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """The mean latency of ``client``; without a client, that of some consumer whose mean meets the bounds
    (the goal then holds for any consumer, whatever the learner named or numbered it)."""
    from .goals import _compare

    means = _latencies_ms(ctx)
    if "client" in a:
        return means.get(a["client"])
    return next((v for v in means.values() if _compare(v, a)), None)


def _m_left_on_poll_timeout(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A consumer of the group left it because max.poll.interval.ms passed without a poll(), and the
    coordinator removed it (LeaveGroup) after that."""
    group = a["group"]
    left_at: int | None = None
    for e in ctx.cluster.timeline:
        if left_at is None:
            if e.text.startswith("consumer ") and f" left group {group}: max.poll.interval.ms" in e.text:
                left_at = e.time_ms
        elif e.text.startswith(f"group {group}: member ") and "removed: left the group" in e.text:
            return True
    return False


def _dumped_files(line: str) -> list[str]:
    """The files of a kafka-dump-log command line (``--files A,B`` or ``--files=A,B``)."""
    from ..commands.parsing import CommandError, split_line

    try:
        words = split_line(line)
    except CommandError:
        return []
    if not words or words[0].rsplit("/", 1)[-1].removesuffix(".sh") != "kafka-dump-log":
        return []
    out: list[str] = []
    for i, w in enumerate(words):
        if w == "--files" and i + 1 < len(words):
            out += words[i + 1].split(",")
        elif w.startswith("--files="):
            out += w[len("--files=") :].split(",")
    return out


def _m_segment_dumped(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """The learner decoded a segment (.log) file of the partition with kafka-dump-log (any broker's copy;
    commands that failed do not count)."""
    name = a["partition"]
    for line in ctx.commands:
        for f in _dumped_files(line):
            parts = f.strip().split("/")
            if len(parts) >= 2 and parts[-2] == name and parts[-1].endswith(".log"):
                return True
    return False


def ops_predicates() -> list[Predicate]:
    from .goals import Param as P
    from .goals import _count_text, _pred

    return [
        _pred(
            "replicas",
            "a partition's replicas are exactly these brokers, in this order (a finished reassignment)",
            [P("partition", "partition", True), P("brokers", "str", True)],
            lambda a: f"the replicas of {a['partition']} are {a['brokers']}",
            _m_replicas,
        ),
        _pred(
            "leader",
            "a partition's leader is this broker",
            [P("partition", "partition", True), P("broker", "int", True)],
            lambda a: f"broker {a['broker']} leads {a['partition']}",
            _m_leader,
        ),
        _pred(
            "control_records",
            "transaction markers (COMMIT or ABORT control records) in a partition's leader log",
            [P("partition", "partition", True), P("marker", "choice", True, ("COMMIT", "ABORT"))],
            lambda a: f"{a['partition']} holds {_count_text(a)} {a['marker']} marker(s)",
            _m_control_records,
            counting=True,
        ),
        _pred(
            "segment_dumped",
            "you decoded a segment (.log) file of a partition with kafka-dump-log (a read-only step)",
            [P("partition", "partition", True)],
            lambda a: f"you decoded a segment file of {a['partition']} with kafka-dump-log",
            _m_segment_dumped,
            scalar="partition",
        ),
        _pred(
            "consume_latency_ms",
            "mean ms from produce() of a record to the poll() of a consumer that returned it (without a "
            "client: of some consumer); records produced before the consumer first got one do not count",
            [P("client", "str")],
            lambda a: (
                f"{a.get('client', 'a consumer')} got new records {_count_text(a)} ms after produce(), "
                "on average"
            ),
            _m_consume_latency_ms,
            counting=True,
        ),
        _pred(
            "left_on_poll_timeout",
            "a consumer left a group because max.poll.interval.ms passed without a poll(), and the "
            "coordinator removed it",
            [P("group", "str", True)],
            lambda a: (
                f"a member of {a['group']} left after max.poll.interval.ms without a poll(), and the "
                "coordinator removed it"
            ),
            _m_left_on_poll_timeout,
            scalar="group",
        ),
    ]
