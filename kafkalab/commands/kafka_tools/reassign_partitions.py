"""``kafka-reassign-partitions`` (Kafka's ReassignPartitionsCommand): --generate, --execute, --verify,
--cancel, --list.

The replicas really move: the controller adds the new replicas to the partition (they fetch from the
leader and catch up), and once all of them are in the ISR it drops the replicas being removed, whose
brokers delete their copies. ``--throttle`` sets the replication throttles Kafka sets (the topic's
``leader/follower.replication.throttled.replicas`` and the brokers' ``*.replication.throttled.rate``);
the brokers then hold the throttled replicas' fetches to that many bytes per second.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from ...sim.assignors import java_hashmap_order
from ...sim.controller import place_replicas
from ...sim.errors import KafkaException
from ..base import Plan, live_broker_ids, require_a_running_broker
from ..parsing import CommandError, Opt, Parsed, parse_options
from .common import read_json_arg, tool_admin

if TYPE_CHECKING:
    from ..session import LabSession

REASSIGN_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt(
        "bootstrap-controller", "str", help="the controllers to connect to (accepted and ignored in the lab)"
    ),
    Opt("command-config", "str", help="(accepted and ignored in the lab)"),
    Opt("generate", help="propose a reassignment of --topics-to-move-json-file onto --broker-list"),
    Opt("execute", help="start the reassignment in --reassignment-json-file"),
    Opt("verify", help="show whether the reassignment is done (and then remove the throttles)"),
    Opt("cancel", help="cancel the reassignment in --reassignment-json-file"),
    Opt("list", help="list the reassignments under way"),
    Opt("reassignment-json-file", "str", help="the reassignment: a file, or in the lab the JSON itself"),
    Opt(
        "topics-to-move-json-file",
        "str",
        help='the topics: a file, or the JSON: \'{"topics": [{"topic": "t"}], "version": 1}\'',
    ),
    Opt("broker-list", "str", help="with --generate: the brokers to place replicas on, e.g. 1,2,3"),
    Opt("disable-rack-aware", help="with --generate: ignore racks (the lab's brokers have none)"),
    Opt("throttle", "long", help="with --execute: limit replication of the moving replicas to B/s"),
    Opt("replica-alter-log-dirs-throttle", "long", help="(the lab's brokers have one log directory)"),
    Opt("timeout", "long", help="(accepted; the lab does not move replicas between log directories)"),
    Opt("additional", help="with --execute: start more reassignments while some are under way"),
    Opt("preserve-throttles", help="with --verify/--cancel: leave the throttles in place"),
]

_ACTIONS = ["generate", "execute", "verify", "cancel", "list"]
_REQUIRED = {
    "verify": ["reassignment-json-file"],
    "generate": ["topics-to-move-json-file", "broker-list"],
    "execute": ["reassignment-json-file"],
    "cancel": ["reassignment-json-file"],
    "list": [],
}
_PERMITTED = {
    "verify": ["bootstrap-server", "command-config", "preserve-throttles"],
    "generate": ["bootstrap-server", "broker-list", "command-config", "disable-rack-aware"],
    "execute": [
        "additional",
        "bootstrap-server",
        "command-config",
        "throttle",
        "replica-alter-log-dirs-throttle",
        "timeout",
    ],
    "cancel": ["bootstrap-server", "bootstrap-controller", "command-config", "preserve-throttles", "timeout"],
    "list": ["bootstrap-server", "bootstrap-controller", "command-config"],
}
_EXISTING = (
    "Cannot execute because there is an existing partition assignment.  Use --additional to override this and "
    "create a new partition assignment in addition to the existing one. The --additional flag can also be used "
    "to change the throttle by resubmitting the current reassignment."
)
_BROKER_THROTTLES = ["leader.replication.throttled.rate", "follower.replication.throttled.rate"]
_TOPIC_THROTTLES = ["leader.replication.throttled.replicas", "follower.replication.throttled.replicas"]


def _json(parts: dict[tuple[str, int], list[int]]) -> str:
    """ReassignPartitionsCommand.formatAsReassignmentJson (Jackson, compact)."""
    data = {
        "version": 1,
        "partitions": [
            {"topic": t, "partition": p, "replicas": reps, "log_dirs": ["any"] * len(reps)}
            for (t, p), reps in sorted(parts.items())
        ],
    }
    return json.dumps(data, separators=(",", ":"))


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise CommandError(f"Error: org.apache.kafka.server.common.AdminOperationException: {e}") from None


def _parse_reassignment(text: str) -> dict[tuple[str, int], list[int]]:
    data = _load(text)
    if not isinstance(data, dict):
        raise CommandError("Error: The input string is not a valid JSON")
    version = data.get("version", 1)
    if version != 1:
        raise CommandError(f"Error: Not supported version field value {version}")
    out: dict[tuple[str, int], list[int]] = {}
    dups: list[str] = []
    for item in data.get("partitions", []) or []:
        if not isinstance(item, dict):
            raise CommandError("Error: Expected JSON objects in 'partitions'")
        topic, part, reps = item.get("topic"), item.get("partition"), item.get("replicas")
        if not isinstance(topic, str) or not isinstance(part, int) or not isinstance(reps, list):
            raise CommandError(
                "Error: each partition needs a string 'topic', a number 'partition' and 'replicas'"
            )
        if not all(isinstance(r, int) and not isinstance(r, bool) for r in reps):
            raise CommandError(f"Error: the replicas of {topic}-{part} must be broker ids")
        dirs = item.get("log_dirs", ["any"] * len(reps))
        if not isinstance(dirs, list) or len(dirs) != len(reps):
            raise CommandError(
                f"Error: Size of replicas list {reps} is different from size of log dirs list {dirs} for partition "
                f"{topic}-{part}"
            )
        if any(d != "any" for d in dirs):
            raise CommandError('Error: the lab\'s brokers have one log directory each; use "any" in log_dirs')
        if (topic, part) in out:
            dups.append(f"{topic}-{part}")
        out[(topic, part)] = list(reps)
    if dups:
        raise CommandError(
            f"Error: Partition reassignment contains duplicate topic partitions: {','.join(dups)}"
        )
    return out


def _check_execute(parts: dict[tuple[str, int], list[int]]) -> None:
    if not parts:
        raise CommandError("Error: Partition reassignment list cannot be empty")
    if any(not reps for reps in parts.values()):
        raise CommandError("Error: Partition replica list cannot be empty")
    dups = [
        f"{t}-{p} contains multiple entries for {','.join(str(b) for b in sorted({b for b in reps if reps.count(b) > 1}))}"
        for (t, p), reps in sorted(parts.items())
        if len(set(reps)) != len(reps)
    ]
    if dups:
        raise CommandError(
            f"Error: Partition replica lists may not contain duplicate entries: {'. '.join(dups)}"
        )


def _current(session: LabSession, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    cluster = session.cluster
    out: dict[tuple[str, int], list[int]] = {}
    missing: list[str] = []
    for t, p in keys:
        info = (
            next((i for i in cluster.describe_topic(t) if i.partition == p), None)
            if t in cluster.topics()
            else None
        )
        if info is None:
            missing.append(f"{t}-{p}")
        else:
            rec = cluster._image().partitions.get((t, p))
            adding = set(getattr(rec, "adding", ()) or ())
            out[(t, p)] = [b for b in info.replicas if b not in adding]
    if missing:
        raise CommandError(
            "Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to find partition: "
            + ", ".join(missing)
        )
    return out


def _ongoing(
    session: LabSession,
) -> dict[tuple[str, int], tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    return {
        key: (p.replicas, p.adding, p.removing)
        for key, p in sorted(session.cluster._image().partitions.items())
        if getattr(p, "adding", ()) or getattr(p, "removing", ())
    }


def _check_args(p: Parsed) -> str:
    chosen = [a for a in _ACTIONS if p.has(a)]
    if len(chosen) != 1:
        raise CommandError(
            "Command must include exactly one action: " + ", ".join(f"--{a}" for a in _ACTIONS)
        )
    action = chosen[0]
    if p.has("bootstrap-server") and p.has("bootstrap-controller"):
        raise CommandError("Please don't specify both --bootstrap-server and --bootstrap-controller")
    for req in _REQUIRED[action]:
        if not p.has(req):
            raise CommandError(f'Missing required argument "[{req}]"')
    for name in p.values:
        if name != action and name not in _REQUIRED[action] and name not in _PERMITTED[action]:
            raise CommandError(f'Option "[{name}]" can\'t be used with action "[{action}]"')
    return action


def kafka_reassign_partitions(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, REASSIGN_OPTS)
    action = _check_args(p)
    cluster = session.cluster
    require_a_running_broker(cluster, "Error: ", "listPartitionReassignments")
    if action == "list":
        return Plan(lambda: _list_lines(session))
    if action == "generate":
        return _generate(session, p)
    parts = _parse_reassignment(
        read_json_arg(session, p.get_str("reassignment-json-file") or "", "reassignment-json-file")
    )
    if action == "execute":
        return _execute(session, p, parts)
    if action == "verify":
        return _verify(session, p, parts)
    return _cancel(session, p, parts)


def _list_lines(session: LabSession) -> list[str]:
    ongoing = _ongoing(session)
    if not ongoing:
        return ["No partition reassignments found."]
    lines = ["Current partition reassignments:"]
    for (t, part), (reps, adding, removing) in ongoing.items():
        text = f"{t}-{part}: replicas: {','.join(map(str, reps))}."
        if adding:
            text += f" adding: {','.join(map(str, adding))}."
        if removing:
            text += f" removing: {','.join(map(str, removing))}."
        lines.append(text)
    return lines


def _generate(session: LabSession, p: Parsed) -> Plan:
    cluster = session.cluster
    try:
        brokers = [int(b) for b in (p.get_str("broker-list") or "").split(",")]
    except ValueError:
        raise CommandError(f'Error: For input string: "{p.get_str("broker-list")}"') from None
    dups = sorted({b for b in brokers if brokers.count(b) > 1})
    if dups:
        raise CommandError(f"Error: Broker list contains duplicate entries: [{', '.join(map(str, dups))}]")
    data = _load(
        read_json_arg(session, p.get_str("topics-to-move-json-file") or "", "topics-to-move-json-file")
    )
    if not isinstance(data, dict):
        raise CommandError("Error: The input string is not a valid JSON")
    if data.get("version", 1) != 1:
        raise CommandError(f"Error: Not supported version field value {data.get('version')}")
    topics: list[str] = []
    for item in data.get("topics", []) or []:
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
            raise CommandError("Error: each entry of 'topics' needs a string 'topic'")
        topics.append(item["topic"])
    tdups = sorted({t for t in topics if topics.count(t) > 1})
    if tdups:
        raise CommandError(
            f"Error: List of topics to reassign contains duplicate entries: [{', '.join(tdups)}]"
        )
    for t in topics:
        if t not in cluster.topics():
            raise CommandError(
                f"Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic {t} not found."
            )
    registered = sorted(cluster._image().brokers)
    usable = [b for b in brokers if b in registered]
    current = {(t, i.partition): list(i.replicas) for t in topics for i in cluster.describe_topic(t)}
    proposed: dict[tuple[str, int], list[int]] = {}
    # AdminUtils.assignReplicasToBrokers with a random start: seeded from the request, so a rewind replays it
    rng = random.Random(f"{cluster.seed}/{','.join(topics)}/{','.join(map(str, brokers))}")
    for t in topics:
        n = len(cluster.describe_topic(t))
        rf = len(current[(t, 0)])
        if rf > len(usable):
            # thrown by AdminUtils directly, not through an admin future: the tool prints its bare message
            raise CommandError(
                f"Error: Replication factor: {rf} larger than available brokers: {len(usable)}."
            )
        placed = place_replicas(usable, n, rf, rng.randrange(len(usable)), rng.randrange(len(usable)))
        for i, reps in enumerate(placed):
            proposed[(t, i)] = list(reps)
    lines = [
        "Current partition replica assignment",
        _json(current),
        "",
        "Proposed partition reassignment configuration",
        _json(proposed),
    ]
    return Plan(lambda: lines)


def _execute(session: LabSession, p: Parsed, parts: dict[tuple[str, int], list[int]]) -> Plan:
    cluster = session.cluster
    _check_execute(parts)
    ongoing = _ongoing(session)
    if ongoing and not p.has("additional"):
        raise CommandError(_EXISTING)
    registered = set(cluster._image().brokers)
    for reps in parts.values():
        for b in reps:
            if b not in registered:
                raise CommandError(f"Error: Unknown broker id {b}")
    current = _current(session, sorted(parts))
    throttle = p.get_int("throttle")
    if throttle is None:
        throttle = -1
    if (p.get_int("replica-alter-log-dirs-throttle") or -1) >= 0:
        raise CommandError(
            "Error: the lab's brokers have one log directory each (no replica-alter-log-dirs throttle)"
        )
    lines = [
        "Current partition replica assignment",
        "",
        _json(current),
        "",
        "Save this to use as the --reassignment-json-file option during rollback",
    ]

    def run() -> list[str]:
        out = list(lines)
        admin = tool_admin(session, "reassign-partitions-tool")
        try:
            if throttle >= 0:
                out.append(
                    "Warning: You must run --verify periodically, until the reassignment completes, to ensure the "
                    "throttle is removed."
                )
                _set_throttles(session, admin, parts, current, ongoing, throttle)
                out.append(f"The inter-broker throttle limit was set to {throttle} B/s")
            results: dict[tuple[str, int], tuple[str, str]] = admin.alter_partition_reassignments(
                {tp: list(reps) for tp, reps in parts.items()}
            ).result(30.0)
        finally:
            admin.closed = True
        errors = {tp: r for tp, r in results.items() if r[0] != "NO_ERROR"}
        if errors:
            raise CommandError(
                "Error reassigning partition(s): "
                + "; ".join(f"{t}-{n}: {msg}" for (t, n), (_e, msg) in sorted(errors.items()))
            )
        names = ",".join(f"{t}-{n}" for t, n in sorted(parts))
        out.append(f"Successfully started partition reassignment{'' if len(parts) == 1 else 's'} for {names}")
        return out

    return Plan(run, records=True)


def _set_throttles(
    session: LabSession,
    admin: Any,
    parts: dict[tuple[str, int], list[int]],
    current: dict[tuple[str, int], list[int]],
    ongoing: dict[tuple[str, int], tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]],
    rate: int,
) -> None:
    """calculateProposedMoveMap + modifyTopicThrottles + modifyInterBrokerThrottle."""
    moves: dict[str, dict[int, tuple[set[int], set[int]]]] = {}
    for (t, n), (reps, adding, _removing) in ongoing.items():
        moves.setdefault(t, {})[n] = (set(reps) - set(adding), set(adding))
    for (t, n), target in parts.items():
        sources = moves.get(t, {}).get(n, (set(current[(t, n)]), set()))[0]
        moves.setdefault(t, {})[n] = (sources, set(target) - sources)
    brokers: set[int] = set()
    for t, by_part in moves.items():
        leader = sorted(f"{n}:{s}" for n, (srcs, _d) in by_part.items() for s in srcs)
        follower = sorted(f"{n}:{d}" for n, (srcs, dests) in by_part.items() for d in dests if d not in srcs)
        session.cluster.alter_topic_config(
            t,
            {
                "leader.replication.throttled.replicas": ",".join(leader),
                "follower.replication.throttled.replicas": ",".join(follower),
            },
        )
        for srcs, dests in by_part.values():
            brokers |= srcs | dests
    for b in sorted(brokers):
        admin.alter_broker_configs(str(b), {k: str(rate) for k in _BROKER_THROTTLES}).result(30.0)


def _clear_throttles(session: LabSession, parts: dict[tuple[str, int], list[int]]) -> list[str]:
    """ReassignPartitionsCommand.clearAllThrottles."""
    cluster = session.cluster
    brokers = sorted(live_broker_ids(cluster) | {b for reps in parts.values() for b in reps})
    topics = java_hashmap_order(dict.fromkeys(t for t, _n in parts))
    admin = tool_admin(session, "reassign-partitions-tool")
    try:
        for b in brokers:
            if b in cluster.brokers:
                admin.alter_broker_configs(str(b), {k: None for k in _BROKER_THROTTLES}).result(30.0)
    finally:
        admin.closed = True
    for t in topics:
        if t in cluster.topics():
            overrides = cluster._image().topics[t].configs
            drop = {k: None for k in _TOPIC_THROTTLES if k in overrides}
            if drop:
                cluster.alter_topic_config(t, drop)
    return [
        f"Clearing broker-level throttles on broker{'' if len(brokers) == 1 else 's'} {','.join(map(str, brokers))}",
        f"Clearing topic-level throttles on topic{'' if len(topics) == 1 else 's'} {','.join(topics)}",
    ]


def _verify(session: LabSession, p: Parsed, parts: dict[tuple[str, int], list[int]]) -> Plan:
    cluster = session.cluster

    def run() -> list[str]:
        ongoing = _ongoing(session)
        lines = ["Status of partition reassignment:"]
        for (t, n), target in sorted(parts.items()):
            if (t, n) in ongoing:
                lines.append(f"Reassignment of partition {t}-{n} is still in progress.")
                continue
            info = (
                next((i for i in cluster.describe_topic(t) if i.partition == n), None)
                if t in cluster.topics()
                else None
            )
            now = list(info.replicas) if info is not None else []
            if now == target:
                lines.append(f"Reassignment of partition {t}-{n} is completed.")
            else:
                lines.append(
                    f"There is no active reassignment of partition {t}-{n}, but replica set is "
                    f"{','.join(map(str, now))} rather than {','.join(map(str, target))}."
                )
        if not ongoing and not p.has("preserve-throttles"):
            lines += _clear_throttles(session, parts)
        return lines

    return Plan(run, records=True)


def _cancel(session: LabSession, p: Parsed, parts: dict[tuple[str, int], list[int]]) -> Plan:
    def run() -> list[str]:
        ongoing = _ongoing(session)
        active = sorted(tp for tp in parts if tp in ongoing)
        lines: list[str] = []
        if active:
            admin = tool_admin(session, "reassign-partitions-tool")
            try:
                results = admin.alter_partition_reassignments({tp: None for tp in active}).result(30.0)
            except KafkaException as e:
                raise CommandError(f"Error: {e.error.str()}") from None
            finally:
                admin.closed = True
            errors = {tp: r for tp, r in results.items() if r[0] != "NO_ERROR"}
            if errors:
                raise CommandError(
                    f"Error cancelling partition reassignment{'' if len(errors) == 1 else 's'} for: "
                    + "; ".join(f"{t}-{n}: {msg}" for (t, n), (_e, msg) in sorted(errors.items()))
                )
            names = ",".join(f"{t}-{n}" for t, n in active)
            lines.append(
                f"Successfully cancelled partition reassignment{'' if len(active) == 1 else 's'} for: {names}"
            )
        else:
            lines.append("None of the specified partition reassignments are active.")
        # Kafka prints this one without a line break, so the next message runs on
        moves = "None of the specified partition moves are active."
        if p.has("preserve-throttles"):
            return [*lines, moves]
        clear = _clear_throttles(session, parts)
        return [*lines, moves + clear[0], *clear[1:]]

    return Plan(run, records=True)
