"""Emulations of Kafka's command-line tools on the simulated cluster.

``kafka-topics``, ``kafka-configs``, ``kafka-console-producer``, ``kafka-console-consumer`` and
``kafka-consumer-groups`` accept Kafka's flags and print what the Apache Kafka 3.x/4.x tools print
(``TopicCommand``, ``ConfigCommand``, ``ConsoleProducer``, ``ConsoleConsumer``, ``ConsumerGroupCommand``).
Every handler validates its whole command line (and the cluster state it depends on) before it returns a
:class:`~kafkalab.commands.base.Plan`; nothing changes until the plan runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sim.clients.common import OFFSET_BEGINNING, OFFSET_END, Message, TopicPartition
from ..sim.clients.consumer import CONSUMER_DEFAULTS
from ..sim.clients.producer import PRODUCER_DEFAULTS
from ..sim.errors import KafkaError
from .base import (
    GROUPS_UNAVAILABLE,
    Plan,
    fmt_ids,
    groups_available,
    kafka_topic_id,
    live_broker_ids,
    match_topics,
    require_a_running_broker,
    require_topic,
)
from .parsing import CommandError, Opt, Parsed, parse_kv, parse_options, split_config_list
from .session import BackgroundConsumer, ConsoleProducer
from .topic_configs import BROKER_SYNONYMS, validate_topic_config

if TYPE_CHECKING:
    from ..sim.clients.producer import Producer
    from .session import LabSession

__all__ = [
    "TOOL_OPTIONS",
    "kafka_configs",
    "kafka_console_consumer",
    "kafka_console_producer",
    "kafka_consumer_groups",
    "kafka_topics",
    "produce",
]

_NAME_RX = re.compile(r"[A-Za-z0-9._-]+")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _is_internal(topic: str) -> bool:
    return topic.startswith("__")


def _opt_name(name: str) -> str:
    return f'"[{name}]"'


def _exactly_one_action(p: Parsed, actions: list[str], message: str) -> str:
    present = [a for a in actions if p.has(a)]
    if len(present) != 1:
        raise CommandError(message)
    return present[0]


def _check_invalid(p: Parsed, allowed: dict[str, tuple[str, ...]], action: str) -> None:
    """Kafka's CommandLineUtils.checkInvalidArgs: an option used with an action it does not belong to."""
    for opt, actions in allowed.items():
        if p.has(opt) and action not in actions:
            raise CommandError(f"Option {_opt_name(opt)} can't be used with option {_opt_name(action)}")


def _client_props(
    pairs: list[str], defaults: dict[str, Any], what: str, extra_known: tuple[str, ...] = ()
) -> tuple[dict[str, Any], list[str]]:
    """Validate ``k=v`` client properties the simulated client understands; unknown ones only warn (as Kafka)."""
    cfg: dict[str, Any] = {}
    warnings: list[str] = []
    for text in pairs:
        k, v = parse_kv(text, what)
        if k in defaults:
            d = defaults[k]
            if isinstance(d, bool):
                if v.lower() not in ("true", "false"):
                    raise CommandError(
                        f"Invalid value {v} for configuration {k}: Expected value to be either true or false"
                    )
                cfg[k] = v.lower() == "true"
                continue
            if isinstance(d, int):
                try:
                    n = int(v)
                except ValueError:
                    raise CommandError(
                        f"Invalid value {v} for configuration {k}: Not a number of type INT"
                    ) from None
                if n < 0:
                    raise CommandError(f"Invalid value {v} for configuration {k}: Value must be at least 0")
                cfg[k] = n
                continue
            cfg[k] = v
        elif k in extra_known:
            cfg[k] = v
        else:
            warnings.append(f"WARN The configuration '{k}' was supplied but isn't a known config.")
    return cfg, warnings


def _check_producer_cfg(cfg: dict[str, Any]) -> None:
    acks = str(cfg.get("acks", "all")).lower()
    if acks not in ("all", "-1", "0", "1"):
        raise CommandError(
            f"Invalid value {cfg['acks']} for configuration acks: String must be one of: all, -1, 0, 1"
        )
    if acks in ("0", "1") and cfg.get("enable.idempotence") is True:
        raise CommandError(
            "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."
        )
    if (
        cfg.get("enable.idempotence", True) is not False
        and int(cfg.get("max.in.flight.requests.per.connection", 5)) > 5
    ):
        raise CommandError(
            "Must set max.in.flight.requests.per.connection to at most 5 when using the idempotent producer."
        )


def _check_consumer_cfg(cfg: dict[str, Any]) -> None:
    reset = str(cfg.get("auto.offset.reset", "latest")).lower()
    if reset not in ("earliest", "latest", "none"):
        raise CommandError(
            f"Invalid value {cfg['auto.offset.reset']} for configuration auto.offset.reset: "
            "Invalid value for auto.offset.reset: must be one of earliest, latest, none"
        )
    iso = str(cfg.get("isolation.level", "read_uncommitted")).lower()
    if iso not in ("read_committed", "read_uncommitted"):
        raise CommandError(
            f"Invalid value {cfg['isolation.level']} for configuration isolation.level: "
            "String must be one of: read_committed, read_uncommitted"
        )


def _unique_node_name(session: LabSession, prefix: str) -> str:
    cluster = session.cluster
    while True:
        name = cluster.next_client_name(prefix)
        if name not in cluster.net.nodes and name not in session.clients:
            return name


# =====================================================================================================
# kafka-topics
# =====================================================================================================

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


def _topic_name_error(name: str) -> str | None:
    """Kafka's Topic.validate messages."""
    if not name:
        return "Topic name is illegal, it can't be empty"
    if name in (".", ".."):
        return 'Topic name cannot be "." or ".."'
    if len(name) > 249:
        return f"Topic name is illegal, it can't be longer than 249 characters, topic name: {name}"
    if not _NAME_RX.fullmatch(name):
        return (
            f'Topic name "{name}" is illegal, it contains a character other than ASCII alphanumerics, '
            "'.', '_' and '-'"
        )
    return None


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
                f"ReplicationFactor: {len(parts[0].replicas)}\tConfigs: {cfg}"
            )
        if has("topics-with-overrides"):
            continue
        for info in parts:
            has_leader = info.leader >= 0
            if report:
                show = (
                    ("under-replicated-partitions" in report and len(info.isr) < len(info.replicas))
                    or ("unavailable-partitions" in report and (not has_leader or info.leader not in live))
                    or ("under-min-isr-partitions" in report and (not has_leader or len(info.isr) < min_isr))
                    or ("at-min-isr-partitions" in report and len(info.isr) == min_isr)
                )
                if not show:
                    continue
            lines.append(
                f"\tTopic: {topic}\tPartition: {info.partition}\tLeader: {info.leader if has_leader else 'none'}\t"
                f"Replicas: {fmt_ids(info.replicas)}\tIsr: {fmt_ids(info.isr)}\tElr: \tLastKnownElr: "
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
            raise CommandError("The replication factor must be between 1 and 32767 inclusive")
        if parts is not None and parts < 1:
            raise CommandError("The partitions must be greater than 0")
        configs = _parse_topic_configs(p.get_list("config"))
        err = _topic_name_error(topic)
        if err:
            raise CommandError(f"Error while executing topic command : {err}")
        n = parts if parts is not None else int(cluster.broker_config("num.partitions"))
        r = rf if rf is not None else int(cluster.broker_config("default.replication.factor"))
        if topic in cluster.topics():
            if p.has("if-not-exists"):
                return Plan(lambda: [])
            raise CommandError(f"Error while executing topic command : Topic '{topic}' already exists.")
        live = len(live_broker_ids(cluster))
        if r > live:
            raise CommandError(
                f"Error while executing topic command : Replication factor: {r} larger than available brokers: {live}."
            )
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
        raise CommandError(f"Topic '{topic}' does not exist as expected")

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
        have = len(cluster.describe_topic(t))
        if want < have:
            raise CommandError(
                f"Error while executing topic command : Topic currently has {have} partitions, "
                f"which is higher than the requested {want}."
            )
        if want == have:
            raise CommandError(f"Error while executing topic command : Topic already has {have} partitions.")
    raise CommandError(
        "adding partitions (--alter --partitions) is not supported by this lab's simulated cluster yet"
    )


# =====================================================================================================
# kafka-configs
# =====================================================================================================

_CONFIGS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("alter", help="alter the configuration of the entity"),
    Opt("describe", help="list configs for the given entity"),
    Opt("entity-type", "str", help="type of entity: topics (the only type in this lab)"),
    Opt("entity-name", "str", help="name of the entity"),
    Opt("topic", "str", help="the topic (same as --entity-type topics --entity-name T)"),
    Opt("add-config", "str", help="configs to add: k1=v1,k2=[v1,v2,v2],k3=v3"),
    Opt("delete-config", "str", help="config keys to remove: k1,k2"),
    Opt("all", help="with --describe: list all configs, not only the overridden ones"),
]

_ENTITY_TYPES = ("topics", "brokers", "users", "clients", "broker-loggers", "ips", "client-metrics", "groups")


def _config_synonyms(session: LabSession, name: str, override: str | None) -> str:
    syn = []
    if override is not None:
        syn.append(f"DYNAMIC_TOPIC_CONFIG:{name}={override}")
    broker_name, default = BROKER_SYNONYMS.get(name, (name, ""))
    static = session.broker_config
    if broker_name in static:
        v = static[broker_name]
        syn.append(f"STATIC_BROKER_CONFIG:{broker_name}={str(v).lower() if isinstance(v, bool) else v}")
    syn.append(f"DEFAULT_CONFIG:{broker_name}={default}")
    return "{" + ", ".join(syn) + "}"


def _topic_overrides(session: LabSession, topic: str) -> dict[str, str]:
    image_of = getattr(session.cluster, "_image", None)
    if callable(image_of):
        rec = image_of().topics.get(topic)
        if rec is not None:
            return dict(getattr(rec, "configs", {}) or {})
    return {}


def kafka_configs(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _CONFIGS_OPTS)
    action = _exactly_one_action(
        p, ["alter", "describe"], "Command must include exactly one action: --describe, --alter"
    )
    cluster = session.cluster
    etype = p.get_str("entity-type")
    name = p.get_str("entity-name")
    if p.has("topic"):
        if etype not in (None, "topics") or (name is not None and name != p.get_str("topic")):
            raise CommandError(
                "--topic cannot be used together with --entity-type/--entity-name of another entity"
            )
        etype, name = "topics", p.get_str("topic")
    if etype is None:
        raise CommandError("At least one entity type must be specified")
    if etype not in _ENTITY_TYPES:
        raise CommandError(
            f"Invalid entity type {etype}, the entity type must be one of {', '.join(_ENTITY_TYPES)}"
        )
    if etype != "topics":
        raise CommandError(f"--entity-type {etype} is not supported by this lab (only topics)")
    if action == "describe" and (p.has("add-config") or p.has("delete-config")):
        raise CommandError('Option "[add-config]" can\'t be used with option "[describe]"')
    require_a_running_broker(
        cluster,
        "Error while executing config command : ",
        "describeConfigs" if action == "describe" else "incrementalAlterConfigs",
    )
    if action == "alter" and p.has("all"):
        raise CommandError('Option "[all]" can\'t be used with option "[alter]"')

    if action == "describe":
        if name is not None and name not in cluster.topics():
            raise CommandError(f"The topic '{name}' does not exist.")
        topics = [name] if name is not None else [t for t in cluster.topics()]
        show_all = p.has("all")

        def describe() -> list[str]:
            lines: list[str] = []
            for t in topics:
                overrides = _topic_overrides(session, t)
                lines.append(f"{'All' if show_all else 'Dynamic'} configs for topic {t} are:")
                effective = session.cluster.topic_configs(t)
                keys = sorted(effective) if show_all else sorted(overrides)
                for k in keys:
                    v = overrides.get(k, effective.get(k, ""))
                    lines.append(
                        f"  {k}={v} sensitive=false synonyms={_config_synonyms(session, k, overrides.get(k))}"
                    )
            return lines

        return Plan(describe)

    if name is None:
        raise CommandError("an entity name must be specified with --alter of topics")
    if not p.has("add-config") and not p.has("delete-config"):
        raise CommandError(
            "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"
        )
    if name not in cluster.topics():
        raise CommandError(f"The topic '{name}' does not exist.")
    changes: dict[str, str | None] = {}
    for item in split_config_list(p.get_str("add-config") or ""):
        if "=" not in item:
            raise CommandError(
                f'Invalid entity config: all configs to be added must be in the format "key=val" ({item})'
            )
        k, v = item.split("=", 1)
        k = k.strip()
        changes[k] = validate_topic_config(k, v.strip())
    deletes = [k.strip() for k in (p.get_str("delete-config") or "").split(",") if k.strip()]
    current = _topic_overrides(session, name)
    missing = [k for k in deletes if k not in current]
    if missing:
        raise CommandError(f"Invalid config(s): {','.join(missing)}")
    overlap = [k for k in deletes if k in changes]
    if overlap:
        raise CommandError(f"Invalid config(s): {','.join(overlap)} cannot be both added and deleted")
    for k in deletes:
        changes[k] = None

    def alter() -> list[str]:
        session.cluster.alter_topic_config(name, changes)
        return [f"Completed updating config for topic {name}."]

    return Plan(alter, records=True)


# =====================================================================================================
# kafka-console-producer and the `produce` shortcut
# =====================================================================================================

_PRODUCER_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("topic", "str", help="the topic to produce to"),
    Opt("producer-property", "str", multi=True, help="a producer config: key=value (e.g. acks=all)"),
    Opt(
        "property",
        "str",
        multi=True,
        help="a reader property: parse.key=true, key.separator=:, ignore.error=true",
    ),
    Opt("request-required-acks", "str", help="acks of the producer requests (default -1)"),
    Opt("timeout", "int", help="linger.ms: how long a record may wait for a batch (default 1000)"),
    Opt("batch-size", "int", help="batch.size in bytes"),
    Opt("sync", help="send records synchronously (linger.ms=0)"),
]


def kafka_console_producer(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _PRODUCER_OPTS)
    topic = p.get_str("topic")
    if topic is None:
        raise CommandError('Missing required argument "[topic]"')
    require_topic(session.cluster, topic, "kafka-console-producer")
    cfg: dict[str, Any] = {"acks": "all", "linger.ms": 1000}
    acks = p.get_str("request-required-acks")
    if acks is not None:
        cfg["acks"] = "all" if acks == "-1" else acks
    if p.has("timeout"):
        cfg["linger.ms"] = p.get_int("timeout")
    if p.has("sync"):
        cfg["linger.ms"] = 0
    if p.has("batch-size"):
        cfg["batch.size"] = p.get_int("batch-size")
    user, warnings = _client_props(
        p.get_list("producer-property"),
        PRODUCER_DEFAULTS,
        "producer property",
        ("client.id", "compression.type"),
    )
    cfg.update(user)
    cfg["acks"] = str(cfg["acks"]).lower()
    _check_producer_cfg(cfg)
    props = dict(parse_kv(x, "property") for x in p.get_list("property"))
    for k in ("parse.key", "ignore.error"):
        if k in props and props[k].lower() not in ("true", "false"):
            raise CommandError(f"Invalid value {props[k]} for property {k}: expected true or false")
    parse_key = props.get("parse.key", "false").lower() == "true"
    ignore_error = props.get("ignore.error", "false").lower() == "true"
    sep = props.get("key.separator", "\t")
    if sep == "":
        raise CommandError("key.separator must not be empty")
    command = "kafka-console-producer --topic " + topic

    def start() -> list[str]:
        name = _unique_node_name(session, "console-producer")
        producer = session.cluster.producer(dict(cfg), name=name)
        w = session._w
        cp = ConsoleProducer(w, name, topic, producer, parse_key, sep, ignore_error, command)
        w.clients[name] = cp
        w.console_producer = cp
        hint = f" as key{'<TAB>' if sep == chr(9) else sep}value" if parse_key else ""
        return [
            *warnings,
            f"{name}: type records for topic {topic}{hint}, one per line; '.exit' or an empty line ends.",
        ]

    return Plan(start, records=True)


def console_producer_line(session: LabSession, line: str) -> tuple[Plan | None, str | None]:
    """Route a line typed while a console producer is reading; returns (plan, error)."""
    cp = session._w.console_producer
    assert cp is not None
    if line == "" or line.strip() == ".exit":

        def finish() -> list[str]:
            session._w.console_producer = None
            cp.finish()
            return [f"{cp.name}: end of input ({_n(cp.sent, 'record')} sent, {cp.acked} acknowledged so far)"]

        return Plan(finish, records=True), None
    key: str | None = None
    value = line
    if cp.parse_key:
        if cp.key_separator not in line:
            if not cp.ignore_error:
                return None, (
                    f"kafka-console-producer: No key separator found on line number {cp.line_number + 1}: "
                    f"'{line}'"
                )
        else:
            key, value = line.split(cp.key_separator, 1)

    def send() -> list[str]:
        cp.line_number += 1
        cp.producer.produce(cp.topic, value=value, key=key, on_delivery=cp._report)
        cp.sent += 1
        cp._ensure_pump()
        return []

    return Plan(send, records=True), None


_PRODUCE_OPTS = [
    Opt("key", "str", help="the record key"),
    Opt("acks", "str", help="0, 1 or all (default all)"),
    Opt("count", "int", help="send N records (values VALUE-1 .. VALUE-N)"),
    Opt("partition", "int", help="send to this partition instead of the partitioner's choice"),
]


def produce(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _PRODUCE_OPTS, max_positionals=2)
    if len(p.positionals) < 2:
        raise CommandError(
            "usage: produce TOPIC VALUE [--key K] [--acks 0|1|all] [--count N] [--partition P]"
        )
    topic, value = p.positionals
    parts = require_topic(session.cluster, topic, "produce")
    acks = (p.get_str("acks") or "all").lower()
    if acks == "-1":
        acks = "all"
    if acks not in ("0", "1", "all"):
        raise CommandError(f"--acks must be 0, 1 or all, not '{acks}'")
    count = p.get_int("count") if p.has("count") else 1
    assert count is not None
    if not 1 <= count <= 100_000:
        raise CommandError("--count must be between 1 and 100000")
    part = p.get_int("partition") if p.has("partition") else -1
    assert part is not None
    if p.has("partition") and not 0 <= part < len(parts):
        raise CommandError(f"topic {topic} has no partition {part} (it has {len(parts)})")
    key = p.get_str("key")

    def run() -> list[str]:
        w = session._w
        producer: Producer | None = w.shortcut_producers.get(acks)
        if producer is None:
            name = _unique_node_name(session, "lab-producer")
            producer = session.cluster.producer({"acks": acks, "linger.ms": 0}, name=name)
            w.shortcut_producers[acks] = producer
        results: list[tuple[KafkaError | None, Message]] = []
        for i in range(count):
            v = value if count == 1 else f"{value}-{i + 1}"
            producer.produce(
                topic,
                value=v,
                key=key,
                partition=part,
                on_delivery=lambda err, msg: results.append((err, msg)),
            )
        producer.flush()
        return _delivery_lines(topic, acks, results)

    return Plan(run, records=True)


def _delivery_lines(topic: str, acks: str, results: list[tuple[KafkaError | None, Message]]) -> list[str]:
    lines: list[str] = []
    if len(results) <= 10:
        for err, msg in results:
            if err is not None:
                lines.append(f"failed: {msg.topic()}-{msg.partition()}: {err.name()}: {err.str()}")
            elif msg.offset() < 0:
                lines.append(
                    f"sent to {msg.topic()}-{msg.partition()} (acks=0: no acknowledgement, offset unknown)"
                )
            else:
                lines.append(f"acknowledged: {msg.topic()}-{msg.partition()}@{msg.offset()} (acks={acks})")
        return lines
    ok = [m for e, m in results if e is None]
    bad = [(e, m) for e, m in results if e is not None]
    per: dict[int, int] = {}
    for m in ok:
        per[m.partition()] = per.get(m.partition(), 0) + 1
    spread = ", ".join(f"{topic}-{k}: {v}" for k, v in sorted(per.items()))
    lines.append(
        f"{len(ok)} of {len(results)} records {'sent' if acks == '0' else 'acknowledged'} (acks={acks})"
        + (f": {spread}" if spread else "")
    )
    if bad:
        names = sorted({e.name() for e, _m in bad if e is not None})
        lines.append(f"{len(bad)} failed: {', '.join(names)}")
    return lines


# =====================================================================================================
# kafka-console-consumer
# =====================================================================================================

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
    parts = require_topic(session.cluster, topic, "kafka-console-consumer")
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
        ("client.id", "group.instance.id"),
    )
    if p.has("isolation-level"):
        cfg["isolation.level"] = p.get_str("isolation-level")
    cfg.setdefault("auto.offset.reset", "earliest" if p.has("from-beginning") else "latest")
    if group is not None:
        cfg["group.id"] = group
    elif "group.id" in cfg:
        group = str(cfg["group.id"])
        if not groups_available(session.cluster):
            raise CommandError(GROUPS_UNAVAILABLE)
    _check_consumer_cfg(cfg)
    props = dict(parse_kv(x, "property") for x in p.get_list("property"))
    fmt = _formatter(props)
    n_parts = len(parts)

    def start() -> list[str]:
        name = _unique_node_name(session, "console-consumer")
        consumer = session.cluster.consumer(dict(cfg), name=name)
        if group is not None:
            consumer.subscribe([topic])
        elif partition is not None:
            consumer.assign([TopicPartition(topic, partition, start_offset)])
        else:
            consumer.assign([TopicPartition(topic, i, start_offset) for i in range(n_parts)])
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
            f"{name} is consuming {topic} ({where}); its records appear in the output pane. "
            f"'stop {name}' ends it.",
        ]

    return Plan(start, records=True)


# =====================================================================================================
# kafka-consumer-groups
# =====================================================================================================

_GROUPS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("list", help="list all consumer groups"),
    Opt("describe", help="describe a consumer group: offsets and lag per partition"),
    Opt("delete", help="delete a group (not supported in the lab)"),
    Opt("reset-offsets", help="reset the committed offsets of an inactive group"),
    Opt("delete-offsets", help="delete offsets (not supported in the lab)"),
    Opt("group", "str", multi=True, help="the consumer group"),
    Opt("all-groups", help="apply to all groups"),
    Opt("topic", "str", multi=True, help="with --reset-offsets: T or T:0,1"),
    Opt("all-topics", help="with --reset-offsets: every topic the group has offsets for"),
    Opt("to-earliest", help="reset to the earliest offset"),
    Opt("to-latest", help="reset to the latest offset (the high watermark)"),
    Opt("to-current", help="reset to the current committed offset"),
    Opt("to-offset", "int", help="reset to this offset"),
    Opt("shift-by", "int", help="move the committed offset by N (may be negative)"),
    Opt("by-duration", "str", help="reset to the offset of records written PnDTnHnMnS ago"),
    Opt("to-datetime", "str", help="(not supported in the lab; use --by-duration)"),
    Opt("dry-run", help="only show the result"),
    Opt("execute", help="really reset the offsets"),
    Opt("members", help="with --describe: list the members"),
    Opt("offsets", help="with --describe: list offsets and lag (default)"),
    Opt("state", "optional", help="with --describe: show the group's state; with --list: filter by state"),
    Opt("verbose", help="more detail"),
]

_SCENARIOS = ["to-datetime", "by-duration", "to-earliest", "to-latest", "shift-by", "to-current", "to-offset"]


def _snapshot(cluster: Any, group: str) -> Any:
    try:
        return cluster.describe_group(group)
    except Exception:
        return None


def _members(snap: Any) -> list[Any]:
    return list(getattr(snap, "members", ()) or ())


def _member_field(m: Any, *names: str, default: str = "-") -> str:
    for n in names:
        v = getattr(m, n, None)
        if v:
            return str(v)
    return default


def _assignment(m: Any) -> list[tuple[str, int]]:
    raw = getattr(m, "assignment", None) or ()
    out: list[tuple[str, int]] = []
    for tp in raw:
        if isinstance(tp, TopicPartition):
            out.append((tp.topic, tp.partition))
        else:
            t, p = tp
            out.append((str(t), int(p)))
    return sorted(out)


def _committed(snap: Any) -> dict[tuple[str, int], int]:
    raw = getattr(snap, "offsets", None) or {}
    out: dict[tuple[str, int], int] = {}
    for k, v in dict(raw).items():
        key = (k.topic, k.partition) if isinstance(k, TopicPartition) else (str(k[0]), int(k[1]))
        out[key] = int(v)
    return out


def _state(snap: Any) -> str:
    return str(getattr(snap, "state", "Dead")) if snap is not None else "Dead"


def _hw(session: LabSession, topic: str, partition: int) -> int | None:
    try:
        for info in session.cluster.describe_topic(topic):
            if info.partition == partition:
                return info.high_watermark if info.high_watermark >= 0 else None
    except Exception:
        return None
    return None


def _table(rows: list[list[str]], widths: list[int]) -> list[str]:
    out = []
    for r in rows:
        cells = [f"{c:<{w}}" for c, w in zip(r[:-1], widths, strict=False)] + [r[-1]]
        out.append(" ".join(cells).rstrip())
    return out


def _describe_group_lines(session: LabSession, group: str, p: Parsed) -> list[str]:
    snap = _snapshot(session.cluster, group)
    state = _state(snap)
    if snap is None or state == "Dead":
        raise CommandError(f"Error: Consumer group '{group}' does not exist.")
    lines: list[str] = []
    members = _members(snap)
    if p.has("state") and not p.has("members"):
        coord_id = getattr(snap, "coordinator", -1)
        coordinator = f"broker-{coord_id}:9092  ({coord_id})"
        strategy = str(getattr(snap, "protocol", None) or "-")
        cw = max(25, len(coordinator))
        gw = max(15, len(group))
        rows = [
            ["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
            [group, coordinator, strategy, state, str(len(members))],
        ]
        return ["", *_table(rows, [gw, cw, 20, 20])]
    if state == "Empty":
        lines.append(f"Consumer group '{group}' has no active members.")
    elif state in ("PreparingRebalance", "CompletingRebalance"):
        lines.append(f"Warning: Consumer group '{group}' is rebalancing.")
    if p.has("members"):
        rows = [["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]]
        for m in members:
            rows.append(
                [
                    group,
                    _member_field(m, "member_id", "consumer_id"),
                    _member_field(m, "host", default="/127.0.0.1"),
                    _member_field(m, "client_id"),
                    str(len(_assignment(m))),
                ]
            )
        widths = [max(15, *(len(r[i]) for r in rows)) for i in range(4)]
        return [*lines, "", *_table(rows, widths)]
    committed = _committed(snap)
    data: list[list[str]] = []
    seen: set[tuple[str, int]] = set()
    for m in members:
        tps = _assignment(m)
        cid = _member_field(m, "member_id", "consumer_id")
        host = _member_field(m, "host", default="/127.0.0.1")
        client = _member_field(m, "client_id")
        if not tps:
            data.append([group, "-", "-", "-", "-", "-", cid, host, client])
        for t, part in tps:
            seen.add((t, part))
            data.append(_offset_row(session, group, t, part, committed.get((t, part)), cid, host, client))
    for (t, part), off in sorted(committed.items()):
        if (t, part) not in seen:
            data.append(_offset_row(session, group, t, part, off, "-", "-", "-"))
    if not data:
        return lines
    head = [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]
    gw = max(15, *(len(r[0]) for r in data)) if data else 15
    tw = max(15, *(len(r[1]) for r in data)) if data else 15
    cw = max(15, *(len(r[6]) for r in data)) if data else 15
    hw = max(15, *(len(r[7]) for r in data)) if data else 15
    return [*lines, "", *_table([head, *data], [gw, tw, 10, 15, 15, 15, cw, hw])]


def _offset_row(
    session: LabSession,
    group: str,
    topic: str,
    partition: int,
    committed: int | None,
    cid: str,
    host: str,
    client: str,
) -> list[str]:
    end = _hw(session, topic, partition)
    lag = "-" if committed is None or committed < 0 or end is None else str(end - committed)
    return [
        group,
        topic,
        str(partition),
        "-" if committed is None or committed < 0 else str(committed),
        "-" if end is None else str(end),
        lag,
        cid,
        host,
        client,
    ]


_DURATION_RX = re.compile(
    r"(?P<sign>[-+]?)P(?:(?P<d>[-+]?\d+)D)?(?:T(?:(?P<h>[-+]?\d+)H)?(?:(?P<m>[-+]?\d+)M)?(?:(?P<s>[-+]?\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration_ms(text: str) -> int:
    """Java's ``Duration.parse`` (ISO-8601 PnDTnHnMnS) in milliseconds."""
    m = _DURATION_RX.fullmatch(text.strip())
    if not m or text.upper().rstrip("T").endswith("P") or text.upper().endswith("T"):
        raise CommandError(
            f"Error parsing duration {text}: expected the ISO-8601 form PnDTnHnMnS, e.g. PT10M"
        )
    if not any(m.group(g) for g in ("d", "h", "m", "s")):
        raise CommandError(
            f"Error parsing duration {text}: expected the ISO-8601 form PnDTnHnMnS, e.g. PT10M"
        )
    total = (
        int(m.group("d") or 0) * 86_400_000
        + int(m.group("h") or 0) * 3_600_000
        + int(m.group("m") or 0) * 60_000
        + int(float(m.group("s") or 0) * 1000)
    )
    return -total if m.group("sign") == "-" else total


def _offset_for_time(session: LabSession, topic: str, partition: int, ts: int) -> int:
    """First offset with timestamp >= ts below the high watermark (ListOffsets by timestamp), else the HW."""
    cluster = session.cluster
    info = next((i for i in cluster.describe_topic(topic) if i.partition == partition), None)
    if info is None or info.leader < 0:
        raise CommandError(f"Error: the leader of {topic}-{partition} is not available")
    log = cluster.brokers[info.leader].partitions[(topic, partition)].log
    for b in log.iter_batches(log.log_start_offset):
        if b.base_offset >= log.high_watermark:
            break
        if b.max_timestamp >= ts:
            for off, rec in b.iter_records():
                if rec.timestamp_ms >= ts and off < log.high_watermark:
                    return int(off)
    return int(log.high_watermark)


def kafka_consumer_groups(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _GROUPS_OPTS)
    actions = ["list", "describe", "delete", "reset-offsets", "delete-offsets"]
    action = _exactly_one_action(
        p, actions, "Command must include exactly one action: " + ", ".join(f"--{a}" for a in actions)
    )
    cluster = session.cluster
    if action in ("delete", "delete-offsets"):
        raise CommandError(f"--{action} is not supported by this lab")
    require_a_running_broker(
        cluster,
        "Error: Executing consumer group command failed due to ",
        "listConsumerGroups" if action == "list" else "describeConsumerGroups",
    )
    if not groups_available(cluster):
        raise CommandError(GROUPS_UNAVAILABLE)
    groups = p.get_list("group")
    if action == "list":

        def listing() -> list[str]:
            lister = getattr(session.cluster, "list_groups", None)
            names = [str(getattr(g, "group_id", g)) for g in (lister() if callable(lister) else [])]
            state_filter = p.get_str("state")
            if not p.has("state"):
                return sorted(names)
            wanted = {s.strip().lower() for s in state_filter.split(",")} if state_filter else None
            rows = [["GROUP", "STATE"]]
            for g in sorted(names):
                st = _state(_snapshot(session.cluster, g))
                if wanted is None or st.lower() in wanted:
                    rows.append([g, st])
            width = max(15, *(len(r[0]) for r in rows)) + 10
            return _table(rows, [width])

        return Plan(listing)

    if not groups and not p.has("all-groups"):
        raise CommandError('Missing required argument "[group]"')

    if action == "describe":

        def describe() -> list[str]:
            names = groups
            if p.has("all-groups"):
                lister = getattr(session.cluster, "list_groups", None)
                names = sorted(str(getattr(g, "group_id", g)) for g in (lister() if callable(lister) else []))
            lines: list[str] = []
            for g in names:
                lines.extend(_describe_group_lines(session, g, p))
            return lines

        return Plan(describe)

    # reset-offsets
    scenarios = [s for s in _SCENARIOS if p.has(s)]
    if len(scenarios) != 1:
        raise CommandError(
            "Option [reset-offsets] takes exactly one of these options: "
            + ", ".join(f"[{s}]" for s in _SCENARIOS)
        )
    scenario = scenarios[0]
    if p.has("topic") == p.has("all-topics"):
        raise CommandError("Option [reset-offsets] takes one of these options: [all-topics], [topic]")
    if p.has("dry-run") and p.has("execute"):
        raise CommandError("Option [reset-offsets] only accepts one of [execute], [dry-run]")
    if scenario == "to-datetime":
        raise CommandError(
            "--to-datetime is not supported by this lab (virtual time has no calendar); use --by-duration"
        )
    if len(groups) != 1 or p.has("all-groups"):
        raise CommandError("this lab resets the offsets of one --group at a time")
    group = groups[0]
    duration = parse_duration_ms(p.get_str("by-duration") or "") if scenario == "by-duration" else 0
    # scope
    targets: list[tuple[str, int]] = []
    for spec in p.get_list("topic"):
        t, _, plist = spec.partition(":")
        if t not in cluster.topics():
            raise CommandError(f"Error: topic '{t}' does not exist")
        n = len(cluster.describe_topic(t))
        if plist:
            for x in plist.split(","):
                try:
                    part = int(x)
                except ValueError:
                    raise CommandError(f"Error: invalid partition '{x}' in --topic {spec}") from None
                if not 0 <= part < n:
                    raise CommandError(f"Error: topic {t} has no partition {part}")
                targets.append((t, part))
        else:
            targets.extend((t, i) for i in range(n))
    snap = _snapshot(cluster, group)
    state = _state(snap)
    if snap is not None and state not in ("Empty", "Dead"):
        raise CommandError(
            f"Error: Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
        )
    committed = _committed(snap) if snap is not None else {}
    if p.has("all-topics"):
        targets = sorted(committed)
    warnings: list[str] = []
    new: dict[tuple[str, int], int] = {}
    for t, part in sorted(set(targets)):
        info = next(i for i in cluster.describe_topic(t) if i.partition == part)
        if info.leader < 0 or info.high_watermark < 0:
            raise CommandError(f"Error: the leader of {t}-{part} is not available")
        lo, hi = info.log_start_offset, info.high_watermark
        if scenario == "to-earliest":
            off = lo
        elif scenario == "to-latest":
            off = hi
        elif scenario == "to-current":
            off = committed.get((t, part), hi)
        elif scenario == "to-offset":
            off = int(p.get_int("to-offset") or 0)
        elif scenario == "shift-by":
            if (t, part) not in committed:
                raise CommandError(
                    f"Error: group '{group}' has no committed offset for {t}-{part} to shift from"
                )
            off = committed[(t, part)] + int(p.get_int("shift-by") or 0)
        else:
            off = _offset_for_time(session, t, part, cluster.now_ms - duration)
        if off > hi:
            warnings.append(
                f"New offset ({off}) is higher than latest offset for topic partition {t}-{part}. "
                f"Value will be set to {hi}"
            )
            off = hi
        elif off < lo:
            warnings.append(
                f"New offset ({off}) is lower than earliest offset for topic partition {t}-{part}. "
                f"Value will be set to {lo}"
            )
            off = lo
        new[(t, part)] = off
    rows = [["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]]
    rows += [[group, t, str(part), str(off)] for (t, part), off in sorted(new.items())]
    gw = max(15, len(group))
    tw = max(15, *(len(t) for t, _ in new)) if new else 15
    table = ["", *_table(rows, [gw, tw, 10])] if new else []
    execute = p.has("execute")
    pre = (
        []
        if execute or p.has("dry-run")
        else [
            "WARN: No action will be performed as the --execute option is missing. In a future major release, the "
            "default behavior of this command will be to prompt the user before executing the reset rather than doing "
            "a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to "
            "keep the current default behavior without prompting."
        ]
    )
    if not execute:
        return Plan(lambda: [*pre, *warnings, *table])

    def do_reset() -> list[str]:
        session.cluster.reset_offsets(group, dict(new))
        return [*warnings, *table]

    return Plan(do_reset, records=True)


TOOL_OPTIONS: dict[str, list[Opt]] = {
    "kafka-topics": _TOPICS_OPTS,
    "kafka-configs": _CONFIGS_OPTS,
    "kafka-console-producer": _PRODUCER_OPTS,
    "kafka-console-consumer": _CONSUMER_OPTS,
    "kafka-consumer-groups": _GROUPS_OPTS,
    "produce": _PRODUCE_OPTS,
}
