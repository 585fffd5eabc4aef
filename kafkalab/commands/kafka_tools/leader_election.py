"""``kafka-leader-election`` (Kafka's LeaderElectionCommand): preferred or unclean leader elections."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..base import Plan, require_a_running_broker
from ..parsing import CommandError, Opt, parse_options
from .common import java_hashmap_order_by, read_json_arg, tool_admin, topic_partition_hash

if TYPE_CHECKING:
    from ..session import LabSession

LEADER_ELECTION_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("election-type", "str", help="PREFERRED (move leadership back to the first replica) or UNCLEAN"),
    Opt("topic", "str", help="the topic (with --partition)"),
    Opt("partition", "int", help="the partition (with --topic)"),
    Opt("all-topic-partitions", help="every partition that needs the election"),
    Opt(
        "path-to-json-file",
        "str",
        help='the partitions: a file, or in the lab the JSON itself: \'{"partitions": [{"topic": "t", '
        '"partition": 0}]}\'',
    ),
    Opt("admin.config", "str", help="(accepted and ignored in the lab)"),
]

#: ExecutionException messages of the errors ElectLeaders answers per partition
_EXCEPTIONS = {
    "PREFERRED_LEADER_NOT_AVAILABLE": (
        "PreferredLeaderNotAvailableException",
        "The preferred leader was not available.",
    ),
    "ELIGIBLE_LEADERS_NOT_AVAILABLE": (
        "EligibleLeadersNotAvailableException",
        "Eligible topic partition leaders are not available.",
    ),
    "UNKNOWN_TOPIC_OR_PART": (
        "UnknownTopicOrPartitionException",
        "This server does not host this topic-partition.",
    ),
}


def _json_partitions(text: str) -> list[tuple[str, int]]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise CommandError("Replica election data is empty") from None
    if not isinstance(data, dict) or "partitions" not in data:
        raise CommandError('Replica election data is missing "partitions" field')
    out: list[tuple[str, int]] = []
    for item in data["partitions"] if isinstance(data["partitions"], list) else []:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("topic"), str)
            or not isinstance(item.get("partition"), int)
        ):
            raise CommandError("Replica election data entries need a string 'topic' and a number 'partition'")
        out.append((item["topic"], item["partition"]))
    dups = sorted({tp for tp in out if out.count(tp) > 1})
    if dups:
        raise CommandError(
            "Replica election data contains duplicate partitions: ["
            + ", ".join(f"{t}-{p}" for t, p in dups)
            + "]"
        )
    return sorted(set(out))


def kafka_leader_election(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, LEADER_ELECTION_OPTS)
    if not p.has("election-type"):
        raise CommandError("Missing required option(s): election-type")
    kind = (p.get_str("election-type") or "").upper()
    if kind not in ("PREFERRED", "UNCLEAN"):
        raise CommandError(f"Cannot parse argument '{p.get_str('election-type')}' of option election-type")
    chosen = [o for o in ("topic", "all-topic-partitions", "path-to-json-file") if p.has(o)]
    if len(chosen) != 1:
        raise CommandError(
            "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"
        )
    if p.has("topic") and not p.has("partition"):
        raise CommandError("Missing required option(s): partition")
    if p.has("partition") and not p.has("topic"):
        raise CommandError("Option partition is only allowed if topic is used")
    partitions: list[tuple[str, int]] | None = None
    if p.has("topic"):
        topic, part = p.get_str("topic"), p.get_int("partition")
        assert topic is not None and part is not None
        partitions = [(topic, part)]
    elif p.has("path-to-json-file"):
        partitions = _json_partitions(
            read_json_arg(session, p.get_str("path-to-json-file") or "", "path-to-json-file")
        )
    require_a_running_broker(session.cluster, "", "electLeaders")

    def run() -> list[str]:
        admin = tool_admin(session, "adminclient-leader-election")
        try:
            results: dict[tuple[str, int], str] = admin.elect_leaders(kind, partitions).result(30.0)
        finally:
            admin.closed = True
        # the tool collects the outcome in java.util.HashSet / HashMap order
        order = java_hashmap_order_by(sorted(results), topic_partition_hash)
        done = [tp for tp in order if results[tp] == "NO_ERROR"]
        noop = [tp for tp in order if results[tp] == "ELECTION_NOT_NEEDED"]
        failed = [tp for tp in order if results[tp] not in ("NO_ERROR", "ELECTION_NOT_NEEDED")]
        topics = set(session.cluster.topics())
        lines: list[str] = []
        if done:
            names = ", ".join(f"{t}-{n}" for t, n in done)
            lines.append(f"Successfully completed leader election ({kind}) for partitions {names}")
        if noop:
            lines.append(
                "Valid replica already elected for partitions " + ", ".join(f"{t}-{n}" for t, n in noop)
            )
        for t, n in failed:
            cls, msg = _EXCEPTIONS.get(results[(t, n)], ("KafkaException", results[(t, n)]))
            if results[(t, n)] == "UNKNOWN_TOPIC_OR_PART":  # the controller's ApiError message
                msg = f"No such partition as {t}-{n}" if t in topics else f"No such topic as {t}"
            lines.append(
                f"Error completing leader election ({kind}) for partition: {t}-{n}: "
                f"org.apache.kafka.common.errors.{cls}: {msg}"
            )
        if failed:
            lines.append(f"{len(failed)} replica(s) could not be elected")
        return lines

    return Plan(run, records=True)
