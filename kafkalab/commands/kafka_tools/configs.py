"""``kafka-configs`` (Kafka's ConfigCommand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Plan, require_a_running_broker
from ..parsing import CommandError, Opt, parse_options, split_config_list
from ..topic_configs import BROKER_SYNONYMS, validate_topic_config
from .common import _exactly_one_action

if TYPE_CHECKING:
    from ..session import LabSession


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
