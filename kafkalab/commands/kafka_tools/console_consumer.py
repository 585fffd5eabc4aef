"""``kafka-console-consumer`` (Kafka's ConsoleConsumer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...sim.clients.common import OFFSET_BEGINNING, OFFSET_END, Message, TopicPartition
from ...sim.clients.consumer import CONSUMER_DEFAULTS
from ..base import (
    GROUPS_UNAVAILABLE,
    Plan,
    auto_create_enabled,
    groups_available,
    require_topic,
    topic_name_error,
)
from ..parsing import CommandError, Opt, parse_kv, parse_options
from ..session import BackgroundConsumer
from .common import _check_consumer_cfg, _client_props, _unique_node_name

if TYPE_CHECKING:
    from ..session import LabSession


_CONSUMER_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("topic", "str", help="the topic to consume from"),
    Opt("group", "str", help="the consumer group id"),
    Opt("from-beginning", help="start from the earliest offset when there is no committed offset"),
    Opt("max-messages", "int", help="exit after this many records"),
    Opt("partition", "int", help="consume only this partition (no group)"),
    Opt("offset", "str", help="with --partition: a number, earliest or latest"),
    Opt("property", "str", multi=True, help="formatter property: print.key=true, print.partition=true, ..."),
    Opt("consumer-property", "str", multi=True, help="a consumer config: key=value"),
    Opt("isolation-level", "str", help="read_committed or read_uncommitted"),
]

_FORMATTER_FLAGS = (
    "print.timestamp",
    "print.key",
    "print.value",
    "print.partition",
    "print.offset",
    "print.headers",
)


def _formatter(props: dict[str, str]) -> Callable[[Message], str]:
    flags = {
        k: props.get(k, "true" if k == "print.value" else "false").lower() == "true" for k in _FORMATTER_FLAGS
    }
    sep = props.get("key.separator", "\t")
    null = props.get("null.literal", "null")

    def text(b: bytes | None) -> str:
        return null if b is None else b.decode("utf-8", errors="replace")

    def fmt(m: Message) -> str:
        out: list[str] = []
        if flags["print.timestamp"]:
            kind, ts = m.timestamp()
            out.append(f"CreateTime:{ts}" if kind else "NO_TIMESTAMP")
        if flags["print.partition"]:
            out.append(f"Partition:{m.partition()}")
        if flags["print.offset"]:
            out.append(f"Offset:{m.offset()}")
        if flags["print.headers"]:
            hs = m.headers()
            out.append(",".join(f"{k}:{text(v)}" for k, v in hs) if hs else "NO_HEADERS")
        if flags["print.key"]:
            out.append(text(m.key()))
        if flags["print.value"]:
            out.append(text(m.value()))
        return sep.join(out)

    return fmt


def kafka_console_consumer(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _CONSUMER_OPTS)
    topic = p.get_str("topic")
    if topic is None:
        raise CommandError('Missing required argument "[topic]"')
    if p.has("group") and p.has("partition"):
        raise CommandError("Options group and partition cannot be specified together.")
    if p.has("offset") and not p.has("partition"):
        raise CommandError("The partition is required when offset is specified.")
    if p.has("offset") and p.has("from-beginning"):
        raise CommandError("Options from-beginning and offset cannot be specified together.")
    err = topic_name_error(topic)
    if err:
        raise CommandError(f"kafka-console-consumer: {err}")
    cluster = session.cluster
    missing = topic not in cluster.topics()
    if missing and (p.has("partition") or not auto_create_enabled(cluster)):
        require_topic(cluster, topic, "kafka-console-consumer")
    parts = [] if missing else cluster.describe_topic(topic)
    partition = p.get_int("partition")
    if partition is not None and not 0 <= partition < len(parts):
        raise CommandError(
            f"Partition {partition} of topic {topic} does not exist (it has {len(parts)} partitions)"
        )
    offset_spec = p.get_str("offset")
    start_offset = OFFSET_BEGINNING if p.has("from-beginning") else OFFSET_END
    if offset_spec is not None:
        if offset_spec.lower() == "earliest":
            start_offset = OFFSET_BEGINNING
        elif offset_spec.lower() == "latest":
            start_offset = OFFSET_END
        else:
            try:
                start_offset = int(offset_spec)
            except ValueError:
                raise CommandError(
                    f"The provided offset value '{offset_spec}' is incorrect. Valid values are "
                    "'earliest', 'latest', or a non-negative long."
                ) from None
            if start_offset < 0:
                raise CommandError(
                    f"The provided offset value '{offset_spec}' is incorrect. Valid values are "
                    "'earliest', 'latest', or a non-negative long."
                )
    max_messages = p.get_int("max-messages")
    if max_messages is not None and max_messages < 1:
        raise CommandError("--max-messages must be at least 1")
    group = p.get_str("group")
    if group is not None and not groups_available(session.cluster):
        raise CommandError(GROUPS_UNAVAILABLE)
    cfg, warnings = _client_props(
        p.get_list("consumer-property"),
        CONSUMER_DEFAULTS,
        "consumer property",
        ("client.id", "group.instance.id", "group.id"),
    )
    if p.has("isolation-level"):
        cfg["isolation.level"] = p.get_str("isolation-level")
    # ConsoleConsumerOptions.setAutoOffsetResetValue
    if "auto.offset.reset" in cfg:
        if p.has("from-beginning") and str(cfg["auto.offset.reset"]) != "earliest":
            raise CommandError(
                f"Can't simultaneously specify --from-beginning and 'auto.offset.reset={cfg['auto.offset.reset']}', "
                "please remove one option"
            )
    else:
        cfg["auto.offset.reset"] = "earliest" if p.has("from-beginning") else "latest"
    cfg.setdefault("allow.auto.create.topics", True)  # the Java consumer's default
    if "group.id" in cfg:
        ids = sorted({str(cfg["group.id"]), *([group] if group is not None else [])})
        if len(ids) > 1:
            raise CommandError(
                "The group ids provided in different places (directly using '--group', via '--consumer-property', "
                "or via '--consumer.config') do not match. Detected group ids: "
                + ", ".join(f"'{g}'" for g in ids)
            )
        if p.has("partition"):
            raise CommandError("Options group and partition cannot be specified together.")
        group = str(cfg["group.id"])
        if not groups_available(session.cluster):
            raise CommandError(GROUPS_UNAVAILABLE)
    if group is not None:
        cfg["group.id"] = group
    _check_consumer_cfg(cfg)
    if offset_spec is None and not p.has("from-beginning") and cfg["auto.offset.reset"] == "earliest":
        start_offset = OFFSET_BEGINNING
    props = dict(parse_kv(x, "property") for x in p.get_list("property"))
    fmt = _formatter(props)
    n_parts = len(parts)

    def start() -> list[str]:
        name = _unique_node_name(session, "console-consumer")
        consumer = session.cluster.consumer(dict(cfg), name=name)
        notes: list[str] = []
        n = n_parts
        if missing:
            notes.append(
                f"[{name}] WARN [Consumer clientId={name}] The metadata response from the cluster reported a "
                f"recoverable issue with correlation id 1 : {{{topic}=UNKNOWN_TOPIC_OR_PARTITION}} "
                "(org.apache.kafka.clients.NetworkClient)"
            )
        if group is not None:
            consumer.subscribe([topic])
        elif partition is not None:
            consumer.assign([TopicPartition(topic, partition, start_offset)])
        else:
            if missing:  # its metadata request lets a broker auto-create the topic; wait until it exists
                consumer.metadata_topics.add(topic)
                consumer.allow_auto_create_topics = bool(cfg["allow.auto.create.topics"])
                consumer.refresh_metadata()
                consumer.wait_until(lambda: topic in consumer.topics, 10.0)
                n = consumer.topics[topic].partitions if topic in consumer.topics else 0
            consumer.assign([TopicPartition(topic, i, start_offset) for i in range(n)])
        w = session._w
        bc = BackgroundConsumer(
            w, name, topic, consumer, group=group, console=True, max_messages=max_messages, formatter=fmt
        )
        w.clients[name] = bc
        where = (
            "from the beginning"
            if start_offset == OFFSET_BEGINNING
            else ("new records only" if start_offset == OFFSET_END else f"from offset {start_offset}")
        )
        if group is not None:
            where = f"group {group}, committed offsets or {cfg['auto.offset.reset']}"
        return [
            *warnings,
            *notes,
            f"{name} is consuming {topic} ({where}); its records appear in the output pane. "
            f"'stop {name}' ends it.",
        ]

    return Plan(start, records=True)
