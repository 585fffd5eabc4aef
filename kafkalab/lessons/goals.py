"""Goal predicates: a small declarative vocabulary checked against a lab session.

A goal in a lesson file is a one-key mapping ``{predicate: arguments}`` (optionally with ``text:`` to
override the generated description). Arguments are a mapping, or a single scalar for predicates that take
one main argument (``{leader_changed: events-0}``). Counting predicates take ``equals``, ``at_least``
and/or ``at_most``.

Goals are facts about the run: they are evaluated again after every action and every rewind, never
latched (:class:`~kafkalab.lessons.runner.LessonRun`). The measures live in :mod:`.measures`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import measures as M
from .limits import MAX_COUNT
from .measures import GoalContext, GoalError, split_partition, visible_records

__all__ = [
    "COUNT_KEYS",
    "Goal",
    "GoalContext",
    "GoalError",
    "PREDICATES",
    "Predicate",
    "parse_goal",
    "visible_records",
]

COUNT_KEYS = ("equals", "at_least", "at_most")


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
        if "cluster" in self.args:
            there = ctx.on_cluster(self.args["cluster"])
            if there is None:
                return False
            ctx = there
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
            M._m_topic_exists,
            scalar="topic",
        ),
        _pred(
            "high_watermark",
            "the high watermark of a partition (or the sum over a topic's partitions)",
            [P("partition", "partition"), P("topic", "str")],
            lambda a: f"the high watermark of {_where(a)} is {_count_text(a)}",
            M._m_high_watermark,
            counting=True,
        ),
        _pred(
            "partitions_with_records",
            "how many partitions of a topic hold records",
            [P("topic", "str", True)],
            lambda a: f"{_count_text(a)} partitions of {a['topic']} hold records",
            M._m_partitions_with_records,
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
            M._m_key_partition,
            counting=True,
        ),
        _pred(
            "key_partitions",
            "how many partitions of a topic hold acknowledged records with one key",
            [P("topic", "str", True), P("key", "str", True)],
            lambda a: f"records with key {a['key']} sit in {_count_text(a)} partitions of {a['topic']}",
            M._m_key_partitions,
            counting=True,
        ),
        _pred(
            "leader_changed",
            "a partition has a live leader other than the one it had when the lesson started",
            [P("partition", "partition", True)],
            lambda a: f"partition {a['partition']} has a new leader",
            M._m_leader_changed,
            scalar="partition",
        ),
        _pred(
            "partition_offline",
            "a partition has no leader (leader -1)",
            [P("partition", "partition", True)],
            lambda a: f"partition {a['partition']} is offline (no leader)",
            M._m_offline,
            scalar="partition",
        ),
        _pred(
            "isr_size",
            "the number of in-sync replicas of a partition",
            [P("partition", "partition", True)],
            lambda a: f"the ISR of {a['partition']} has {_count_text(a)} replicas",
            M._m_isr_size,
            counting=True,
        ),
        _pred(
            "leader_epoch",
            "the leader epoch of a partition",
            [P("partition", "partition", True)],
            lambda a: f"the leader epoch of {a['partition']} is {_count_text(a)}",
            M._m_leader_epoch,
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
            M._m_broker_state,
        ),
        _pred(
            "controller_changed",
            "another controller than at the start is the active controller",
            [P("changed", "bool")],
            lambda a: "a different controller is active",
            M._m_controller_changed,
            scalar="changed",
        ),
        _pred(
            "controller_active",
            "whether any controller is active (false: the quorum has no majority left)",
            [P("active", "bool", True)],
            lambda a: (
                "a controller is active"
                if a["active"]
                else "no controller is active (the quorum lost its majority)"
            ),
            M._m_controller_active,
            scalar="active",
        ),
        _pred(
            "producer_error",
            "a producer got an error with this name (e.g. NOT_ENOUGH_REPLICAS)",
            [P("name", "str", True), P("client", "str")],
            lambda a: f"a producer{' ' + a['client'] if 'client' in a else ''} got {a['name']}",
            M._m_producer_error,
            scalar="name",
        ),
        _pred(
            "records_acked",
            "acknowledged records (optionally of one topic / client / acks setting)",
            [
                P("topic", "str"),
                P("client", "str"),
                P("acks", "choice", False, ("0", "1", "all")),
                P("key", "str"),
            ],
            lambda a: (
                f"{_count_text(a)} records"
                + (f" with key {a['key']}" if "key" in a else "")
                + (f" to {a['topic']}" if "topic" in a else "")
                + (f" with acks={a['acks']}" if "acks" in a else "")
                + (f" by {a['client']}" if "client" in a else "")
                + (
                    " were reported sent (acks=0 waits for no answer)"
                    if a.get("acks") == "0"
                    else " were acknowledged"
                )
            ),
            M._m_acked,
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
            M._m_failed,
            counting=True,
        ),
        _pred(
            "records_per_batch",
            "average records per produce batch of a producer (after at least min_records acks)",
            [P("client", "str", True), P("min_records", "int")],
            lambda a: f"{a['client']} sends {_count_text(a)} records per batch on average",
            M._m_records_per_batch,
            counting=True,
        ),
        _pred(
            "ack_latency_ms",
            "mean ms from produce() to acknowledgement of a producer (after at least min_records acks)",
            [P("client", "str", True), P("min_records", "int")],
            lambda a: (
                f"{a['client']}'s records wait {_count_text(a)} ms on average for their acknowledgement"
            ),
            M._m_ack_latency,
            counting=True,
        ),
        _pred(
            "records_lost",
            "acknowledged records that are gone from their partition's leader (or from one replica)",
            [P("topic", "str", True), P("acks", "choice", False, ("0", "1", "all")), P("replica", "int")],
            lambda a: (
                f"{_count_text(a)} "
                + ("records reported sent with acks=0" if a.get("acks") == "0" else "acknowledged records")
                + (f" (acks={a['acks']})" if a.get("acks") in ("1", "all") else "")
                + f" of {a['topic']} "
                + (f"are missing from broker {a['replica']}'s log" if "replica" in a else "were lost")
            ),
            M._m_records_lost,
            counting=True,
        ),
        _pred(
            "records_kept",
            "acknowledged records still present in their partition's leader log (or in one replica's)",
            [P("topic", "str", True), P("acks", "choice", False, ("0", "1", "all")), P("replica", "int")],
            lambda a: (
                f"{_count_text(a)} acknowledged records"
                + (f" (acks={a['acks']})" if "acks" in a else "")
                + f" of {a['topic']} are still in "
                + (f"broker {a['replica']}'s log" if "replica" in a else "the log")
            ),
            M._m_records_kept,
            counting=True,
        ),
        _pred(
            "records_only_on",
            "acknowledged records (acks=0: sent) that one replica's log holds and another's does not",
            [
                P("topic", "str", True),
                P("acks", "choice", False, ("0", "1", "all")),
                P("replica", "int", True),
                P("not_on", "int", True),
            ],
            lambda a: (
                f"{_count_text(a)} "
                + ("records sent with acks=0" if a.get("acks") == "0" else "acknowledged records")
                + (f" (acks={a['acks']})" if a.get("acks") in ("1", "all") else "")
                + f" of {a['topic']} are in broker {a['replica']}'s log but not in broker {a['not_on']}'s"
            ),
            M._m_records_only_on,
            counting=True,
        ),
        _pred(
            "retried_without_duplicates",
            "a producer retried a send to the topic and every value is still stored only once",
            [P("topic", "str", True)],
            lambda a: f"a send to {a['topic']} was retried and {a['topic']} still holds every value once",
            M._m_retried_without_duplicates,
            scalar="topic",
        ),
        _pred(
            "duplicates",
            "values stored more than once in a topic (as a read_committed reader sees it)",
            [P("topic", "str", True)],
            lambda a: f"{_count_text(a)} values are stored twice or more in {a['topic']}",
            M._m_duplicates,
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
            M._m_consumed,
            counting=True,
        ),
        _pred(
            "read_exactly_once",
            "a group read every record of a topic exactly once (and, with committed, committed after them)",
            [P("topic", "str", True), P("group", "str", True), P("records", "int"), P("committed", "bool")],
            lambda a: (
                f"group {a['group']} read every record of {a['topic']}"
                + (f" (at least {a['records']})" if "records" in a else "")
                + " exactly once"
                + (" and committed its position after them" if a.get("committed") else "")
            ),
            M._m_read_exactly_once,
        ),
        _pred(
            "records_redelivered",
            "records a group consumed more than once",
            [P("topic", "str", True), P("group", "str", True)],
            lambda a: f"group {a['group']} read {_count_text(a)} records of {a['topic']} twice",
            M._m_redelivered,
            counting=True,
        ),
        _pred(
            "group_state",
            "a consumer group is in a state (Stable, Empty, PreparingRebalance ...), optionally with a number "
            "of members, an assignor (protocol) and a number of idle members (no partitions)",
            [
                P("group", "str", True),
                P(
                    "state",
                    "choice",
                    False,
                    ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead"),
                ),
                P("members", "int"),
                P("protocol", "choice", False, ("range", "roundrobin", "sticky", "cooperative-sticky")),
                P("idle", "int"),
            ],
            lambda a: (
                f"group {a['group']}"
                + (f" is {a['state']}" if "state" in a else "")
                + (f" with {a['members']} members" if "members" in a else "")
                + (f", uses the {a['protocol']} assignor" if "protocol" in a else "")
                + (
                    ""
                    if "idle" not in a
                    else ", and every member has partitions"
                    if a["idle"] == 0
                    else f", {a['idle']} of them idle"
                )
            ),
            M._m_group_state,
        ),
        _pred(
            "group_generation",
            "the generation of a group (one more per completed rebalance)",
            [P("group", "str", True)],
            lambda a: f"group {a['group']} is at generation {_count_text(a)}",
            M._m_group_generation,
            counting=True,
        ),
        _pred(
            "idle_members",
            "members of a Stable group that were assigned no partition",
            [P("group", "str", True)],
            lambda a: f"group {a['group']} has {_count_text(a)} idle members (no partitions)",
            M._m_idle_members,
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
            M._m_group_protocol,
        ),
        _pred(
            "committed_offset",
            "the offset a group committed for a partition (the next offset it will read)",
            [P("group", "str", True), P("partition", "partition", True)],
            lambda a: f"group {a['group']} committed offset {_count_text(a)} for {a['partition']}",
            M._m_committed_offset,
            counting=True,
        ),
        _pred(
            "group_lag",
            "total lag of a group (log end offset minus committed offset), optionally for one topic",
            [P("group", "str", True), P("topic", "str")],
            lambda a: f"the lag of group {a['group']} is {_count_text(a)}",
            M._m_group_lag,
            counting=True,
        ),
        _pred(
            "segments",
            "segment files of a partition on its leader",
            [P("partition", "partition", True)],
            lambda a: f"{a['partition']} has {_count_text(a)} segments",
            M._m_segments,
            counting=True,
        ),
        _pred(
            "log_start_offset",
            "the log start offset of a partition on its leader",
            [P("partition", "partition", True)],
            lambda a: f"the log start offset of {a['partition']} is {_count_text(a)}",
            M._m_log_start_offset,
            counting=True,
        ),
        _pred(
            "log_records",
            "records physically present in a partition's leader log",
            [P("partition", "partition", True)],
            lambda a: f"the log of {a['partition']} holds {_count_text(a)} records",
            M._m_log_records,
            counting=True,
        ),
        _pred(
            "records_compacted",
            "offsets below the high watermark whose records the log cleaner removed",
            [P("partition", "partition", True)],
            lambda a: f"compaction removed {_count_text(a)} records from {a['partition']}",
            M._m_records_compacted,
            counting=True,
        ),
        _pred(
            "isr_full_again",
            "after a leader change, every replica of a partition is back in the ISR",
            [P("partition", "partition", True)],
            lambda a: f"after the leader change every replica of {a['partition']} is in sync again",
            M._m_isr_full_again,
            scalar="partition",
        ),
        _pred(
            "records_with_key",
            "records with a key physically present in a partition's leader log",
            [P("partition", "partition", True), P("key", "str", True)],
            lambda a: f"the log of {a['partition']} holds {_count_text(a)} records with key {a['key']}",
            M._m_records_with_key,
            counting=True,
        ),
        _pred(
            "latest_value",
            "the newest record with a key in a partition has this value (default: the last one acknowledged)",
            [P("partition", "partition", True), P("key", "str", True), P("value", "str")],
            lambda a: (
                f"the newest value of key {a['key']} in {a['partition']} is "
                + a.get("value", "the last one you sent")
            ),
            M._m_latest_value,
        ),
        _pred(
            "consumer_started_at",
            "a consumer's first record of a partition had this offset (it started reading there)",
            [P("partition", "partition", True), P("offset", "int", True)],
            lambda a: f"a consumer started reading {a['partition']} at offset {a['offset']}",
            M._m_consumer_started_at,
        ),
        _pred(
            "broker_isolated",
            "a network partition cuts a broker off from every other broker and every controller",
            [P("broker", "int", True)],
            lambda a: f"broker {a['broker']} is cut off from the other brokers and the controllers",
            M._m_broker_isolated,
            scalar="broker",
        ),
        _pred(
            "member_removed",
            "the group coordinator removed a member for a reason (session_timeout: a crash; left_group: "
            "a clean close), optionally: and the group is Stable again with this many members",
            [
                P("group", "str", True),
                P("reason", "choice", True, ("session_timeout", "left_group")),
                P("members", "int"),
            ],
            lambda a: (
                f"the coordinator removed a member of {a['group']} "
                + (
                    "after session.timeout.ms without heartbeats"
                    if a["reason"] == "session_timeout"
                    else "that left the group (LeaveGroup)"
                )
                + (
                    f", and {a['group']} is Stable again with {a['members']} members"
                    if "members" in a
                    else ""
                )
            ),
            M._m_member_removed,
        ),
        _pred(
            "topic_config",
            "a topic config has this effective value",
            [P("topic", "str", True), P("name", "str", True), P("value", "str", True)],
            lambda a: f"topic {a['topic']} has {a['name']}={a['value']}",
            M._m_topic_config,
        ),
        _pred(
            "ran_command",
            "the learner ran a command containing all these words (tool first, options in any order)",
            [P("command", "str", True)],
            lambda a: f"you ran '{a['command']}'",
            M._m_ran_command,
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
                "missing": f"{a['source']} is copied, and some of its records never reached {a['sink']}",
                "duplicated": f"some records of {a['source']} reached {a['sink']} twice",
                "exact": f"{a['sink']} holds every record of {a['source']} exactly once (read_committed)",
            }[a["outcome"]],
            M._m_copy_outcome,
        ),
    ]
}


def _check_param(param: Param, value: Any) -> Any:
    if param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise GoalError(
                f"'{param.name}' must be a whole number from 0 to {MAX_COUNT}, not {shown}", (param.name,)
            )
        return value
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise GoalError(f"'{param.name}' must be true or false, not {value!r}", (param.name,))
        return value
    if isinstance(value, bool | dict | list) or value is None:
        raise GoalError(f"'{param.name}' must be a word or number, not {value!r}", (param.name,))
    text = str(value)
    if len(text) > 300:
        raise GoalError(f"'{param.name}' is longer than 300 characters", (param.name,))
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

        close = difflib.get_close_matches(name, list(PREDICATES), n=1) if len(name) <= 60 else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GoalError(f"unknown goal predicate '{name[:60]}'{hint}", (name,))
    value = raw[name]
    if not isinstance(value, dict):
        if pred.scalar is None:
            raise GoalError(f"{name} takes a mapping of arguments", (name,))
        value = {pred.scalar: value}
    known = {p.name: p for p in pred.params}
    args: dict[str, Any] = {}
    for k, v in value.items():
        if k == "cluster":  # every predicate: in a lesson with several clusters, which one it looks at
            if not isinstance(v, str) or not v.strip() or len(v) > 40:
                raise GoalError("'cluster' must be the name of one of the lesson's clusters", (name, k))
            args[k] = v.strip()
            continue
        if pred.counting and k in COUNT_KEYS:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_COUNT:
                raise GoalError(f"'{k}' must be a whole number from 0 to {MAX_COUNT}", (name, k))
            args[k] = v
            continue
        param = known.get(k)
        if param is None:
            allowed = list(known) + (list(COUNT_KEYS) if pred.counting else []) + ["cluster"]
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
    described = pred.describe(args) + (f" (on cluster {args['cluster']})" if "cluster" in args else "")
    return Goal(name, args, text or described)


def _add_predicates(more: list[Predicate]) -> None:
    """Predicates defined in their own modules (``goals_*.py``) join the vocabulary here."""
    for p in more:
        assert p.name not in PREDICATES, p.name
        PREDICATES[p.name] = p


from .goals_ops import ops_predicates  # noqa: E402 - replicas, leaders, markers, latency, poll timeouts
from .goals_platform import platform_predicates  # noqa: E402 - it builds on the helpers above
from .goals_streams import streams_predicates  # noqa: E402 - Kafka Streams, ksqlDB, MirrorMaker 2

_add_predicates(platform_predicates())
_add_predicates(streams_predicates(_pred, P, _count_text))
_add_predicates(ops_predicates())
