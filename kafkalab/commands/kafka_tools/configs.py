"""``kafka-configs`` (Kafka's ConfigCommand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...sim.broker import BROKER_DEFAULTS
from ...sim.metadata import TOPIC_CONFIG_DEFAULTS
from ..base import Plan, require_a_running_broker, topic_name_error
from ..parsing import CommandError, Opt, Parsed, parse_options, split_config_list
from ..topic_configs import BROKER_SYNONYMS, validate_topic_config
from .common import _exactly_one_action

if TYPE_CHECKING:
    from ..session import LabSession


_CONFIGS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("alter", help="alter the configuration of the entity"),
    Opt("describe", help="list configs for the given entity"),
    Opt("entity-type", "str", help="type of entity: topics, brokers or groups"),
    Opt("entity-name", "str", help="name of the entity (a topic, a broker id, a group id)"),
    Opt("entity-default", help="the cluster-wide default (with --entity-type brokers)"),
    Opt("topic", "str", help="the topic (same as --entity-type topics --entity-name T)"),
    Opt("broker", "str", help="the broker id (same as --entity-type brokers --entity-name N)"),
    Opt("broker-defaults", help="the brokers' cluster-wide defaults"),
    Opt("group", "str", help="the group (same as --entity-type groups --entity-name G)"),
    Opt("add-config", "str", help="configs to add: k1=v1,k2=[v1,v2,v2],k3=v3"),
    Opt("delete-config", "str", help="config keys to remove: k1,k2"),
    Opt("all", help="with --describe: list all configs, not only the overridden ones"),
]

_ENTITY_TYPES = ("topics", "clients", "users", "brokers", "broker-loggers", "ips", "client-metrics", "groups")

#: Kafka 4.x GroupConfig: name -> (default, broker config that provides it)
GROUP_CONFIGS: dict[str, tuple[str, str]] = {
    "consumer.heartbeat.interval.ms": ("5000", "group.consumer.heartbeat.interval.ms"),
    "consumer.session.timeout.ms": ("45000", "group.consumer.session.timeout.ms"),
    "share.heartbeat.interval.ms": ("5000", "group.share.heartbeat.interval.ms"),
    "share.record.lock.duration.ms": ("30000", "group.share.record.lock.duration.ms"),
    "share.session.timeout.ms": ("45000", "group.share.session.timeout.ms"),
}

#: broker configs Kafka can change while running (a subset: the ones this lab's brokers have)
_DYNAMIC_BROKER_CONFIGS = {
    "leader.replication.throttled.rate",
    "follower.replication.throttled.rate",
    "log.cleanup.policy",
    "log.retention.ms",
    "log.retention.bytes",
    "log.segment.bytes",
    "log.roll.ms",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "log.cleaner.backoff.ms",
}


def _config_synonyms(session: LabSession, name: str, override: str | None) -> str:
    syn = []
    if override is not None:
        syn.append(f"DYNAMIC_TOPIC_CONFIG:{name}={override}")
    broker_name, default = BROKER_SYNONYMS.get(name, (name, TOPIC_CONFIG_DEFAULTS.get(name, "")))
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


def _broker_config_lines(session: LabSession) -> list[str]:
    """``--describe --all`` of a broker: every config the lab's brokers have, with where its value comes from."""
    static = {
        str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in session.broker_config.items()
    }
    values = dict(BROKER_DEFAULTS)
    for _topic_name, (broker_name, default) in BROKER_SYNONYMS.items():
        values.setdefault(broker_name, default)
    values.update({k: v for k, v in static.items() if k in values})
    out = []
    for k in sorted(values):
        default = BROKER_DEFAULTS.get(k, next((d for b, d in BROKER_SYNONYMS.values() if b == k), values[k]))
        syn = [f"STATIC_BROKER_CONFIG:{k}={static[k]}"] if k in static else []
        syn.append(f"DEFAULT_CONFIG:{k}={default}")
        out.append(f"  {k}={values[k]} sensitive=false synonyms={{{', '.join(syn)}}}")
    return out


def _resolve_entity(p: Parsed) -> tuple[str | None, str | None, bool]:
    """(entity type, entity name, default entity) from --entity-* or the shortcut flags."""
    etype = p.get_str("entity-type")
    name = p.get_str("entity-name")
    default = p.has("entity-default")
    shortcuts = [f for f in ("topic", "broker", "broker-defaults", "group") if p.has(f)]
    if shortcuts and (p.has("entity-type") or p.has("entity-name") or default):
        raise CommandError(
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags"
        )
    if len(shortcuts) > 1:
        raise CommandError("Only one of --topic, --broker, --broker-defaults and --group can be given")
    if shortcuts:
        flag = shortcuts[0]
        etype = {"topic": "topics", "broker": "brokers", "broker-defaults": "brokers", "group": "groups"}[
            flag
        ]
        name = None if flag == "broker-defaults" else p.get_str(flag)
        default = flag == "broker-defaults"
    return etype, name, default


def kafka_configs(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _CONFIGS_OPTS)
    action = _exactly_one_action(
        p, ["alter", "describe"], "Command must include exactly one action: --describe, --alter"
    )
    cluster = session.cluster
    etype, name, default = _resolve_entity(p)
    if etype is None:
        raise CommandError("At least one entity type must be specified")
    if etype not in _ENTITY_TYPES:
        raise CommandError(
            f"Invalid entity type {etype}, the entity type must be one of {', '.join(_ENTITY_TYPES)} with a "
            "--bootstrap-server or --bootstrap-controller argument"
        )
    if etype not in ("topics", "brokers", "groups"):
        raise CommandError(
            f"--entity-type {etype} is not supported by this lab (topics, brokers and groups are)"
        )
    if action == "describe" and (p.has("add-config") or p.has("delete-config")):
        raise CommandError('Option "[add-config]" can\'t be used with option "[describe]"')
    if action == "alter" and p.has("all"):
        raise CommandError('Option "[all]" can\'t be used with option "[alter]"')
    if etype == "brokers" and name is not None:
        try:
            int(name)
        except ValueError:
            raise CommandError(
                f"The entity name for brokers must be a valid integer broker id, but it is: {name}"
            ) from None
    if default and etype != "brokers":
        raise CommandError(f"--entity-default must not be specified with --{action} of {etype}")
    require_a_running_broker(
        cluster,
        "Error while executing config command : ",
        "describeConfigs" if action == "describe" else "incrementalAlterConfigs",
    )
    if action == "describe":
        if etype == "brokers":
            return _describe_brokers(session, name, default, p.has("all"))
        if etype == "groups":
            return _describe_groups(session, name, p.has("all"))
        return _describe_topics(session, name, p.has("all"))
    if name is None and not default:
        if etype == "brokers":
            raise CommandError(
                "An entity-name or default entity must be specified with --alter of users, clients, brokers or ips"
            )
        raise CommandError(f"An entity name must be specified with --alter of {etype}")
    if not p.has("add-config") and not p.has("delete-config"):
        raise CommandError(
            "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"
        )
    items = split_config_list(p.get_str("add-config") or "")
    deletes = [k.strip() for k in (p.get_str("delete-config") or "").split(",") if k.strip()]
    if etype == "brokers":
        keys = [i.split("=", 1)[0].strip() for i in items] + deletes
        fixed = sorted(k for k in keys if k not in _DYNAMIC_BROKER_CONFIGS)
        if fixed:
            raise CommandError(
                "Error while executing config command : Cannot update these configs dynamically: "
                f"Set({', '.join(fixed)})"
            )
        lab_dynamic = {"leader.replication.throttled.rate", "follower.replication.throttled.rate"}
        others = sorted(k for k in keys if k not in lab_dynamic)
        if others:
            raise CommandError(
                f"this lab's brokers change only the replication throttle rates while running ({others[0]} would be "
                "valid in Kafka); set other broker configs when the lab starts"
            )
        broker_changes: dict[str, str | None] = {}
        for item in items:
            k, _, v = item.partition("=")
            try:
                if int(v.strip()) < 0:
                    raise ValueError
            except ValueError:
                raise CommandError(
                    f"Error while executing config command : Invalid value {v.strip()} for configuration "
                    f"{k.strip()}: Value must be at least 0"
                ) from None
            broker_changes[k.strip()] = v.strip()
        current = session.cluster._image().broker_configs.get(name or "", {})
        missing = [k for k in deletes if k not in current]
        if missing:
            raise CommandError(f"Invalid config(s): {','.join(missing)}")
        broker_changes.update({k: None for k in deletes})
        target = name or ""

        def alter_broker() -> list[str]:
            admin = session.cluster.admin({"client.id": "adminclient-configs"})
            try:
                admin.alter_broker_configs(target, broker_changes).result(30.0)
            finally:
                admin.closed = True
            if target:
                return [f"Completed updating config for broker {target}."]
            return ["Completed updating default config for brokers in the cluster."]

        return Plan(alter_broker, records=True)
    if etype == "groups":
        unknown = sorted(
            k for k in [i.split("=", 1)[0].strip() for i in items] + deletes if k not in GROUP_CONFIGS
        )
        if unknown:
            raise CommandError(
                f"Error while executing config command : Unknown group config name: {unknown[0]}"
            )
        raise CommandError(
            "group configs (KIP-848) apply to groups of the new consumer protocol; this lab runs classic "
            "groups only, so it does not store them"
        )
    assert name is not None
    if name not in cluster.topics():
        raise CommandError(f"The topic '{name}' does not exist.")
    changes: dict[str, str | None] = {}
    for item in items:
        if "=" not in item:
            raise CommandError(
                f'Invalid entity config: all configs to be added must be in the format "key=val" ({item})'
            )
        k, v = item.split("=", 1)
        k = k.strip()
        changes[k] = validate_topic_config(k, v.strip())
    current = _topic_overrides(session, name)
    missing = [k for k in deletes if k not in current]
    if missing:
        raise CommandError(f"Invalid config(s): {','.join(missing)}")
    overlap = [k for k in deletes if k in changes]
    if overlap:
        raise CommandError(f"Invalid config(s): {','.join(overlap)} cannot be both added and deleted")
    for k in deletes:
        changes[k] = None
    topic = name

    def alter() -> list[str]:
        session.cluster.alter_topic_config(topic, changes)
        return [f"Completed updating config for topic {topic}."]

    return Plan(alter, records=True)


def _describe_topics(session: LabSession, name: str | None, show_all: bool) -> Plan:
    cluster = session.cluster
    if name is not None:
        err = topic_name_error(name)
        if err:
            raise CommandError(f"Error while executing config command : {err}")
        if name not in cluster.topics():
            raise CommandError(f"The topic '{name}' does not exist.")
    topics = [name] if name is not None else list(cluster.topics())

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


def _describe_brokers(session: LabSession, name: str | None, default: bool, show_all: bool) -> Plan:
    ids = sorted(session.cluster.brokers)
    if name is not None and int(name) not in ids:
        raise CommandError(
            "Error while executing config command : Timed out waiting for a node assignment. Call: describeConfigs "
            f"(there is no broker {name}; the brokers are {', '.join(map(str, ids))})"
        )
    entities: list[str | None] = [name] if name is not None else ([] if default else [str(b) for b in ids])
    if name is None:
        entities.append(None)  # the cluster-wide default entity

    def describe() -> list[str]:
        lines: list[str] = []
        dynamic = session.cluster._image().broker_configs
        for e in entities:
            if e is None:
                lines.append("Default configs for brokers in the cluster are:")
                for k, v in sorted(dynamic.get("", {}).items()):
                    lines.append(
                        f"  {k}={v} sensitive=false synonyms={{DYNAMIC_DEFAULT_BROKER_CONFIG:{k}={v}}}"
                    )
                continue
            lines.append(f"{'All' if show_all else 'Dynamic'} configs for broker {e} are:")
            own = dynamic.get(e, {})
            for k, v in sorted(own.items()):
                lines.append(f"  {k}={v} sensitive=false synonyms={{DYNAMIC_BROKER_CONFIG:{k}={v}}}")
            if show_all:
                lines.extend(x for x in _broker_config_lines(session) if x.split("=")[0].strip() not in own)
        return lines

    return Plan(describe)


def _describe_groups(session: LabSession, name: str | None, show_all: bool) -> Plan:
    cluster = session.cluster
    groups = [name] if name is not None else list(cluster.list_groups())

    def describe() -> list[str]:
        lines: list[str] = []
        for g in groups:
            lines.append(f"{'All' if show_all else 'Dynamic'} configs for group {g} are:")
            if show_all:
                for k, (dflt, broker_name) in sorted(GROUP_CONFIGS.items()):
                    lines.append(
                        f"  {k}={dflt} sensitive=false synonyms={{DEFAULT_CONFIG:{broker_name}={dflt}}}"
                    )
        return lines

    return Plan(describe)
