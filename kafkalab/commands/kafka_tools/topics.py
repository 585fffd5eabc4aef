"""``kafka-topics`` (Kafka's TopicCommand)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...sim.controller import MAX_PARTITIONS_PER_TOPIC, partitions_cap_message
from ..base import (
    Plan,
    fmt_ids,
    kafka_topic_id,
    live_broker_ids,
    match_topics,
    require_a_running_broker,
    topic_name_error,
)
from ..parsing import CommandError, Opt, Parsed, parse_options
from ..topic_configs import BROKER_SYNONYMS, validate_topic_config
from .common import _check_invalid, _exactly_one_action, _is_internal

if TYPE_CHECKING:
    from ...sim.cluster import Cluster
    from ..session import LabSession

_ERR = "Error while executing topic command : "

_TOPICS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("list", help="list all available topics"),
    Opt("create", help="create a new topic"),
    Opt("delete", help="delete a topic"),
    Opt("alter", help="alter the number of partitions"),
    Opt("describe", help="list details for the given topics"),
    Opt("topic", "str", help="the topic (a regular expression, except with --create)"),
    Opt("config", "str", multi=True, help="a topic config override (name=value) for --create"),
    Opt("partitions", "int", help="the number of partitions"),
    Opt("replication-factor", "int", help="the replication factor"),
    Opt("under-replicated-partitions", help="only show under-replicated partitions"),
    Opt("unavailable-partitions", help="only show partitions whose leader is not available"),
    Opt(
        "under-min-isr-partitions", help="only show partitions whose ISR is smaller than min.insync.replicas"
    ),
    Opt("at-min-isr-partitions", help="only show partitions whose ISR size equals min.insync.replicas"),
    Opt("topics-with-overrides", help="only show topics that have overridden configs"),
    Opt("if-exists", help="only act if the topic exists"),
    Opt("if-not-exists", help="do not fail if the topic already exists"),
    Opt("exclude-internal", help="exclude internal topics"),
]

_TOPICS_ALLOWED: dict[str, tuple[str, ...]] = {
    "config": ("create",),
    "partitions": ("alter", "create"),
    "replication-factor": ("create",),
    "under-replicated-partitions": ("describe",),
    "unavailable-partitions": ("describe",),
    "under-min-isr-partitions": ("describe",),
    "at-min-isr-partitions": ("describe",),
    "topics-with-overrides": ("describe",),
    "if-exists": ("alter", "delete", "describe"),
    "if-not-exists": ("create",),
    "exclude-internal": ("list", "describe"),
}


def _parse_topic_configs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        parts = re.split(r"\s*=\s*", item)
        if len(parts) != 2 or not parts[0].strip():
            raise CommandError(
                'requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".'
            )
        k = parts[0].strip()
        out[k] = validate_topic_config(k, parts[1].strip())
    return out


def _non_default_configs(session: LabSession, topic: str) -> dict[str, str]:
    """Configs kafka-topics --describe shows: topic overrides, then static broker settings of the lab."""
    cluster = session.cluster
    image_of = getattr(cluster, "_image", None)
    overrides: dict[str, str] = {}
    if callable(image_of):
        rec = image_of().topics.get(topic)
        if rec is not None:
            overrides = dict(getattr(rec, "configs", {}) or {})
    out: dict[str, str] = {}
    static = {
        str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in session.broker_config.items()
    }
    for name, (synonym, _default) in BROKER_SYNONYMS.items():
        if name in overrides:
            out[name] = overrides[name]
        elif synonym in static and synonym == name:
            out[name] = static[synonym]
    for name, value in overrides.items():
        out.setdefault(name, value)
    return dict(sorted(out.items()))


def describe_topic_lines(session: LabSession, topics: list[str], p: Parsed | None = None) -> list[str]:
    """``kafka-topics --describe`` output for ``topics`` (filters from ``p`` if given)."""
    cluster = session.cluster

    def has(name: str) -> bool:
        return p is not None and p.has(name)

    report = [
        f
        for f in (
            "under-replicated-partitions",
            "unavailable-partitions",
            "under-min-isr-partitions",
            "at-min-isr-partitions",
        )
        if has(f)
    ]
    live = live_broker_ids(cluster)
    lines: list[str] = []
    image = cluster._image()

    def moving(topic: str, partition: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        rec = image.partitions.get((topic, partition))
        return (tuple(getattr(rec, "adding", ())), tuple(getattr(rec, "removing", ()))) if rec else ((), ())

    def rf(topic: str, info: Any) -> int:
        """TopicCommand.getReplicationFactor: replicas being added do not count while they move in."""
        return len(info.replicas) - len(moving(topic, info.partition)[0])

    for topic in topics:
        parts = sorted(cluster.describe_topic(topic), key=lambda x: x.partition)
        if not parts:
            continue
        configs = _non_default_configs(session, topic)
        if has("topics-with-overrides") and not configs:
            continue
        min_isr = int(cluster.topic_configs(topic).get("min.insync.replicas", "1"))
        if not report:
            cfg = ",".join(f"{k}={v}" for k, v in configs.items())
            lines.append(
                f"Topic: {topic}\tTopicId: {kafka_topic_id(cluster, topic)}\tPartitionCount: {len(parts)}\t"
                f"ReplicationFactor: {rf(topic, parts[0])}\tConfigs: {cfg}"
            )
        if has("topics-with-overrides"):
            continue
        for info in parts:
            has_leader = info.leader >= 0
            if report:
                show = (
                    ("under-replicated-partitions" in report and len(info.isr) < rf(topic, info))
                    or ("unavailable-partitions" in report and (not has_leader or info.leader not in live))
                    or ("under-min-isr-partitions" in report and (not has_leader or len(info.isr) < min_isr))
                    or ("at-min-isr-partitions" in report and len(info.isr) == min_isr)
                )
                if not show:
                    continue
            adding, removing = moving(topic, info.partition)
            reassigning = (
                f"\tAdding Replicas: {fmt_ids(adding)}\tRemoving Replicas: {fmt_ids(removing)}"
                if adding or removing
                else ""
            )
            lines.append(
                f"\tTopic: {topic}\tPartition: {info.partition}\tLeader: {info.leader if has_leader else 'none'}\t"
                f"Replicas: {fmt_ids(info.replicas)}\tIsr: {fmt_ids(info.isr)}{reassigning}\tElr: \tLastKnownElr: "
            )
    return lines


def kafka_topics(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _TOPICS_OPTS)
    action = _exactly_one_action(
        p,
        ["create", "list", "alter", "describe", "delete"],
        "Command must include exactly one action: --list, --describe, --create, --alter or --delete",
    )
    if action not in ("list", "describe") and not p.has("topic"):
        raise CommandError('Missing required argument "[topic]"')
    if action == "alter" and p.has("config"):
        raise CommandError(
            'Option "[config]" can\'t be used with option "[alter]" (To alter topic configurations, '
            "the kafka-configs tool can be used.)"
        )
    if action == "alter" and not p.has("partitions"):
        raise CommandError('Missing required argument "[partitions]"')
    _check_invalid(p, _TOPICS_ALLOWED, action)
    cluster = session.cluster
    topic = p.get_str("topic")
    require_a_running_broker(
        cluster,
        "Error while executing topic command : ",
        "createTopics" if action == "create" else "listTopics",
    )

    if action == "create":
        assert topic is not None
        rf = p.get_int("replication-factor")
        parts = p.get_int("partitions")
        if rf is not None and not 1 <= rf <= 32767:
            raise CommandError(f"{_ERR}The replication factor must be between 1 and 32767 inclusive")
        if parts is not None and parts < 1:
            raise CommandError(f"{_ERR}The partitions must be greater than 0")
        configs = _parse_topic_configs(p.get_list("config"))
        err = topic_name_error(topic)
        if err:
            raise CommandError(f"Error while executing topic command : {err}")
        n = parts if parts is not None else int(cluster.broker_config("num.partitions"))
        r = rf if rf is not None else int(cluster.broker_config("default.replication.factor"))
        if topic in cluster.topics():
            if p.has("if-not-exists"):
                return Plan(lambda: [])
            raise CommandError(f"Error while executing topic command : Topic '{topic}' already exists.")
        if n > MAX_PARTITIONS_PER_TOPIC:
            raise CommandError(f"{_ERR}{partitions_cap_message(n)}")
        placement = _placement_error(cluster, r)
        if placement:
            raise CommandError(f"{_ERR}{placement}")
        warn = []
        if "." in topic or "_" in topic:
            warn.append(
                "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') "
                "could collide. To avoid issues it is best to use either, but not both."
            )

        def create() -> list[str]:
            session.cluster.create_topic(topic, n, r, configs)
            return [*warn, f"Created topic {topic}."]

        return Plan(create, records=True)

    internal_ok = not p.has("exclude-internal")
    if action == "list":
        names = match_topics(cluster, topic) if topic else cluster.topics()
        names = [t for t in names if internal_ok or not _is_internal(t)]
        return Plan(lambda: list(names))

    found = match_topics(cluster, topic) if topic else cluster.topics()
    found = [t for t in found if internal_ok or not _is_internal(t)]
    if topic and not found:
        if p.has("if-exists"):
            return Plan(lambda: [])
        # TopicCommand.ensureTopicExists formats the Optional<String> itself, hence Kafka's "Optional[...]"
        raise CommandError(f"{_ERR}Topic 'Optional[{topic}]' does not exist as expected")

    if action == "describe":
        return Plan(lambda: describe_topic_lines(session, found, p))

    if action == "delete":
        for t in found:
            if _is_internal(t):
                raise CommandError(
                    f"Error while executing topic command : Topic {t} is a kafka internal topic and is not "
                    "allowed to be marked for deletion."
                )

        def delete() -> list[str]:
            for t in found:
                session.cluster.delete_topic(t)
            return []

        return Plan(delete, records=True)

    # alter
    want = p.get_int("partitions")
    assert want is not None
    for t in found:
        # ReplicationControlManager.createPartitions (the controller answers InvalidPartitionsException)
        have = len(cluster.describe_topic(t))
        if want < have:
            raise CommandError(
                f"{_ERR}The topic {t} currently has {have} partition(s); {want} would not be an increase."
            )
        if want == have:
            raise CommandError(f"{_ERR}Topic already has {have} partition(s).")
        if want > MAX_PARTITIONS_PER_TOPIC:
            raise CommandError(f"{_ERR}{partitions_cap_message(want)}")
        rf = len(cluster.describe_topic(t)[0].replicas)
        placement = _placement_error(cluster, rf)
        if placement:
            raise CommandError(f"{_ERR}{placement}")

    def alter() -> list[str]:
        for t in found:
            session.cluster.create_partitions(t, want)
        return []

    return Plan(alter, records=True)


def _placement_error(cluster: Cluster, rf: int) -> str | None:
    """What the controller's replica placer answers for ``rf`` replicas (StripedReplicaPlacer), or None."""
    registered = len(cluster._image().brokers)
    if not live_broker_ids(cluster):
        return f"Unable to replicate the partition {rf} time(s): All brokers are currently fenced."
    if rf > registered:
        return (
            f"Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be "
            f"reached because only {registered} broker(s) are registered."
        )
    return None
