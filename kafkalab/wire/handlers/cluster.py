"""ApiVersions, Metadata, DescribeCluster, DescribeConfigs, CreateTopics, DeleteTopics (and telemetry).

Metadata answers come from the broker's own metadata image, which may be a little behind the controller's,
as in Kafka. Topic changes are forwarded to the active controller (KRaft forwarding) by the broker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...sim.broker import BROKER_DEFAULTS
from ...sim.group import CONSUMER_OFFSETS
from ...sim.metadata import NO_LEADER, TOPIC_CONFIG_DEFAULTS
from ...sim.txn import TRANSACTION_STATE
from .common import id_hex, names_by_id, topic_uuid

if TYPE_CHECKING:
    from ...sim.broker import Broker
    from ..node import RequestContext

__all__ = [
    "api_versions",
    "create_topics",
    "delete_topics",
    "describe_cluster",
    "describe_configs",
    "get_telemetry_subscriptions",
    "metadata",
]

_SOFTWARE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?")
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_INTERNAL = (CONSUMER_OFFSETS, TRANSACTION_STATE)
#: "no ACL information" in authorized-operations fields
_NO_OPS = -2147483648

# Kafka's ConfigSource and ConfigType codes (DescribeConfigs v1+ / v3+)
TOPIC_CONFIG = 1
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5
_BOOLEAN, _STRING, _INT, _LONG, _DOUBLE, _LIST = 1, 2, 3, 5, 6, 7
_TOPIC_CONFIG_TYPES = {
    "cleanup.policy": _LIST,
    "min.insync.replicas": _INT,
    "unclean.leader.election.enable": _BOOLEAN,
    "segment.bytes": _INT,
    "segment.ms": _LONG,
    "retention.ms": _LONG,
    "retention.bytes": _LONG,
    "delete.retention.ms": _LONG,
    "min.cleanable.dirty.ratio": _DOUBLE,
    "min.compaction.lag.ms": _LONG,
    "max.message.bytes": _INT,
    "index.interval.bytes": _INT,
}


def _live(b: Broker) -> list[int]:
    return b.image.live_brokers()


def _controller_id(b: Broker) -> int:
    # KRaft brokers hand clients a live broker as "controller" (clients cannot reach the controllers)
    live = _live(b)
    return live[0] if live else -1


# -- ApiVersions (API key 18) -------------------------------------------------------------------------------


def api_versions(ctx: RequestContext, req: Any) -> None:
    from ..apis import APIS

    if req is None:
        # an unsupported (newer) version: the v0 answer naming the ApiVersions versions this broker has
        api = APIS[18]
        ctx.reply(
            {
                "error_code": "UNSUPPORTED_VERSION",
                "api_keys": [{"api_key": 18, "min_version": api.min_version, "max_version": api.max_version}],
            }
        )
        return
    error = "NO_ERROR"
    if ctx.version >= 3:
        name, version = req.client_software_name, req.client_software_version
        if not (_SOFTWARE.fullmatch(name or "") and _SOFTWARE.fullmatch(version or "")):
            error = "INVALID_REQUEST"
        else:
            ctx.conn.software = f"{name} {version}"
    keys = [
        {"api_key": a.key, "min_version": a.min_version, "max_version": a.max_version} for a in APIS.values()
    ]

    def on_broker(_b: Broker, respond: Any) -> None:
        respond(None)

    ctx.call(on_broker, lambda _r: ctx.reply({"error_code": error, "api_keys": keys}))


# -- Metadata (API key 3) -----------------------------------------------------------------------------------


def _auto_create(b: Broker, name: str) -> str:
    """Ask the controller to create ``name`` (auto.create.topics.enable); the error to answer meanwhile."""
    if not _TOPIC_NAME.fullmatch(name) or len(name) > 249 or name in (".", ".."):
        return "INVALID_TOPIC_EXCEPTION"
    rf = int(b.config.get("default.replication.factor", "1"))
    if rf > len(_live(b)):
        return "INVALID_REPLICATION_FACTOR"
    partitions = int(b.config.get("num.partitions", "1"))
    b.handle_admin("create_topic", (name, partitions, rf, {}, None), lambda _r: None)
    return "LEADER_NOT_AVAILABLE"


def _topic_metadata(b: Broker, name: str, error: str = "NO_ERROR") -> dict[str, Any]:
    t = b.image.topics.get(name)
    parts = []
    if t is not None:
        for st in b.image.partitions_of(name):
            parts.append(
                {
                    "error_code": "LEADER_NOT_AVAILABLE" if st.leader == NO_LEADER else "NO_ERROR",
                    "partition_index": st.partition,
                    "leader_id": st.leader,
                    "leader_epoch": st.leader_epoch,
                    "replica_nodes": list(st.replicas),
                    "isr_nodes": list(st.isr),
                    "offline_replicas": [],
                }
            )
    return {
        "error_code": error,
        "name": name,
        "topic_id": uuid.UUID(hex=t.topic_id) if t is not None else None,
        "is_internal": name in _INTERNAL,
        "partitions": parts,
        "topic_authorized_operations": _NO_OPS,
    }


def metadata(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    requested: list[tuple[str | None, Any]] | None
    if req.topics is None or (v == 0 and not req.topics):
        requested = None
    else:
        requested = [(getattr(t, "name", None), getattr(t, "topic_id", None)) for t in req.topics]
    allow_auto = bool(getattr(req, "allow_auto_topic_creation", True))

    def on_broker(b: Broker, respond: Any) -> None:
        topics = []
        if requested is None:
            topics = [_topic_metadata(b, name) for name in sorted(b.image.topics)]
        else:
            ids: dict[str, str] | None = None
            for name, topic_id in requested:
                if not name:
                    ids = ids if ids is not None else names_by_id(b)
                    hexid = id_hex(topic_id)
                    found = ids.get(hexid) if hexid else None
                    if found is None:
                        topics.append(
                            {
                                "error_code": "UNKNOWN_TOPIC_ID",
                                "name": None,
                                "topic_id": topic_id,
                                "partitions": [],
                            }
                        )
                        continue
                    name = found
                if name in b.image.topics:
                    topics.append(_topic_metadata(b, name))
                    continue
                if not _TOPIC_NAME.fullmatch(name) or len(name) > 249:
                    error = "INVALID_TOPIC_EXCEPTION"
                elif allow_auto and b.config.get("auto.create.topics.enable", "true") == "true":
                    error = _auto_create(b, name)
                else:
                    error = "UNKNOWN_TOPIC_OR_PART"
                topics.append({"error_code": error, "name": name, "topic_id": None, "partitions": []})
        brokers = []
        for bid in _live(b):
            host, port = ctx.endpoint(bid)
            brokers.append({"node_id": bid, "host": host, "port": port, "rack": None})
        respond(
            {
                "brokers": brokers,
                "cluster_id": ctx.cluster.cluster_id,
                "controller_id": _controller_id(b),
                "topics": topics,
                "cluster_authorized_operations": _NO_OPS,
                "error_code": "NO_ERROR",
            }
        )

    ctx.call(on_broker, ctx.reply)


# -- DescribeCluster (API key 60) ---------------------------------------------------------------------------


def describe_cluster(ctx: RequestContext, req: Any) -> None:
    endpoint_type = int(getattr(req, "endpoint_type", 1))
    include_fenced = bool(getattr(req, "include_fenced_brokers", False))

    def on_broker(b: Broker, respond: Any) -> None:
        if endpoint_type != 1:
            respond(
                {
                    "error_code": "MISMATCHED_ENDPOINT_TYPE",
                    "error_message": "The request was sent to an endpoint of type BROKER, "
                    f"but we wanted an endpoint of type {'CONTROLLER' if endpoint_type == 2 else endpoint_type}",
                    "endpoint_type": 1,
                    "cluster_id": ctx.cluster.cluster_id,
                    "brokers": [],
                }
            )
            return
        brokers = []
        for bid, reg in sorted(b.image.brokers.items()):
            if reg.fenced and not include_fenced:
                continue
            host, port = ctx.endpoint(bid)
            brokers.append(
                {"broker_id": bid, "host": host, "port": port, "rack": None, "is_fenced": reg.fenced}
            )
        respond(
            {
                "error_code": "NO_ERROR",
                "error_message": None,
                "endpoint_type": 1,
                "cluster_id": ctx.cluster.cluster_id,
                "controller_id": _controller_id(b),
                "brokers": brokers,
                "cluster_authorized_operations": _NO_OPS,
            }
        )

    ctx.call(on_broker, ctx.reply)


# -- DescribeConfigs (API key 32) ---------------------------------------------------------------------------


def _config_entry(name: str, value: str | None, source: int, ctype: int) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "read_only": False,
        "is_default": source == DEFAULT_CONFIG,
        "config_source": source,
        "is_sensitive": False,
        "synonyms": [],
        "config_type": ctype,
        "documentation": None,
    }


def topic_config_entries(b: Broker, topic_configs: dict[str, str]) -> list[dict[str, Any]]:
    """Every topic config with its effective value and where that value comes from."""
    out = []
    for name, default in TOPIC_CONFIG_DEFAULTS.items():
        if name in topic_configs:
            value, source = topic_configs[name], TOPIC_CONFIG
        elif name in b.config and b.config[name] != default:
            value, source = b.config[name], STATIC_BROKER_CONFIG
        else:
            value, source = default, DEFAULT_CONFIG
        out.append(_config_entry(name, value, source, _TOPIC_CONFIG_TYPES.get(name, _STRING)))
    return out


def _broker_config_type(value: str) -> int:
    if value in ("true", "false"):
        return _BOOLEAN
    try:
        n = int(value)
    except ValueError:
        return _STRING
    return _INT if -(2**31) <= n < 2**31 else _LONG


def describe_configs(ctx: RequestContext, req: Any) -> None:
    resources = [(int(r.resource_type), r.resource_name, r.configuration_keys) for r in req.resources]

    def one(b: Broker, rtype: int, rname: str, keys: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "error_code": "NO_ERROR",
            "error_message": None,
            "resource_type": rtype,
            "resource_name": rname,
            "configs": [],
        }
        if rtype == 2:  # TOPIC
            t = b.image.topics.get(rname)
            if t is None:
                out["error_code"] = "UNKNOWN_TOPIC_OR_PART"
                out["error_message"] = f"Topic '{rname}' does not exist."
                return out
            entries = topic_config_entries(b, t.configs)
        elif rtype == 4:  # BROKER
            if rname not in ("", str(b.broker_id)):
                out["error_code"] = "INVALID_REQUEST"
                out["error_message"] = (
                    f"Unexpected broker id, expected {b.broker_id} or empty string, but received {rname}"
                )
                return out
            entries = [
                _config_entry(
                    k,
                    v,
                    STATIC_BROKER_CONFIG if BROKER_DEFAULTS.get(k) != v else DEFAULT_CONFIG,
                    _broker_config_type(v),
                )
                for k, v in sorted(b.config.items())
            ]
        elif rtype == 8:  # BROKER_LOGGER: no loggers to show
            entries = []
        else:
            out["error_code"] = "INVALID_REQUEST"
            out["error_message"] = f"Unsupported resource type {rtype}"
            return out
        if keys:
            wanted = set(keys)
            entries = [e for e in entries if e["name"] in wanted]
        out["configs"] = entries
        return out

    def on_broker(b: Broker, respond: Any) -> None:
        respond({"results": [one(b, rtype, rname, keys) for rtype, rname, keys in resources]})

    ctx.call(on_broker, ctx.reply)


# -- CreateTopics (API key 19) ------------------------------------------------------------------------------


def _validate_new_topic(
    b: Broker, name: str, partitions: int, rf: int, configs: dict[str, str]
) -> tuple[str, str] | None:
    """The controller's checks, for validate_only requests (which create nothing)."""
    if name in b.image.topics:
        return ("TOPIC_ALREADY_EXISTS", f"Topic '{name}' already exists.")
    if not name or len(name) > 249 or not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
        return ("INVALID_TOPIC_EXCEPTION", f"Topic name '{name}' is illegal")
    if partitions < 1:
        return ("INVALID_PARTITIONS", "Number of partitions must be larger than 0.")
    if rf < 1:
        return ("INVALID_REPLICATION_FACTOR", "Replication factor must be larger than 0.")
    live = len(_live(b))
    if rf > live:
        return (
            "INVALID_REPLICATION_FACTOR",
            f"Replication factor: {rf} larger than available brokers: {live}.",
        )
    for k in configs:
        if k not in TOPIC_CONFIG_DEFAULTS:
            return ("INVALID_CONFIG", f"Unknown topic config name: {k}")
    return None


def create_topics(ctx: RequestContext, req: Any) -> None:
    validate_only = bool(getattr(req, "validate_only", False))
    names = [t.name for t in req.topics]
    topics = []
    for t in req.topics:
        assignment = [
            tuple(int(x) for x in a.broker_ids)
            for a in sorted(t.assignments, key=lambda a: a.partition_index)
        ]
        configs = {c.name: c.value for c in t.configs}
        topics.append((t.name, int(t.num_partitions), int(t.replication_factor), assignment, configs))

    def on_broker(b: Broker, respond: Any) -> None:
        results: list[dict[str, Any] | None] = [None] * len(topics)
        pending = [0]

        def finish() -> None:
            if pending[0] == 0 and all(r is not None for r in results):
                respond({"topics": results})

        def result(
            i: int,
            name: str,
            err: str,
            msg: str | None,
            n: int = -1,
            rf: int = -1,
            cfg: dict[str, str] | None = None,
        ) -> None:
            entry: dict[str, Any] = {
                "name": name,
                "topic_id": None,
                "error_code": err,
                "error_message": msg,
                "num_partitions": -1,
                "replication_factor": -1,
                "configs": [],
            }
            if err == "NO_ERROR":
                entry["topic_id"] = topic_uuid(b, name) if not validate_only else None
                entry["num_partitions"], entry["replication_factor"] = n, rf
                entry["configs"] = topic_config_entries(b, cfg or {})
            results[i] = entry

        for i, (name, n, rf, assignment, configs) in enumerate(topics):
            if names.count(name) > 1:
                result(
                    i,
                    name,
                    "INVALID_REQUEST",
                    f"Create topics request from client contains a duplicate topic {name}",
                )
                continue
            if assignment:
                if n != -1 or rf != -1:
                    result(
                        i,
                        name,
                        "INVALID_REQUEST",
                        "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
                    )
                    continue
                n, rf = len(assignment), len(assignment[0])
            if n == -1:
                n = int(b.config.get("num.partitions", "1"))
            if rf == -1:
                rf = int(b.config.get("default.replication.factor", "1"))
            if validate_only:
                problem = _validate_new_topic(b, name, n, rf, configs)
                if problem is None:
                    result(i, name, "NO_ERROR", None, n, rf, configs)
                else:
                    result(i, name, problem[0], problem[1])
                continue
            pending[0] += 1

            def done(
                resp: Any,
                i: int = i,
                name: str = name,
                n: int = n,
                rf: int = rf,
                configs: dict[str, str] = configs,
            ) -> None:
                err, detail = resp[0], resp[1] if len(resp) > 1 else None
                if err == "NO_ERROR":
                    result(i, name, "NO_ERROR", None, n, rf, configs)
                    ctx.conn.note(f"created topic {name} ({n} partitions, replication factor {rf})")
                else:
                    result(i, name, err, detail if isinstance(detail, str) else None)
                pending[0] -= 1
                finish()

            b.handle_admin("create_topic", (name, n, rf, dict(configs), assignment or None), done)
        finish()

    ctx.call(on_broker, ctx.reply)


# -- DeleteTopics (API key 20) ------------------------------------------------------------------------------


def delete_topics(ctx: RequestContext, req: Any) -> None:
    if ctx.version >= 6:
        wanted = [(t.name, t.topic_id) for t in req.topics]
    else:
        wanted = [(name, None) for name in req.topic_names]

    def on_broker(b: Broker, respond: Any) -> None:
        results: list[dict[str, Any] | None] = [None] * len(wanted)
        pending = [len(wanted)]
        ids = names_by_id(b)

        def set_result(i: int, name: str | None, tid: Any, err: str, msg: str | None) -> None:
            results[i] = {"name": name, "topic_id": tid, "error_code": err, "error_message": msg}
            pending[0] -= 1
            if pending[0] == 0:
                respond({"responses": results})

        if not wanted:
            respond({"responses": []})
            return
        for i, (name, topic_id) in enumerate(wanted):
            resolved = name or (ids.get(id_hex(topic_id) or "") if topic_id is not None else None)
            tid = topic_uuid(b, resolved) if resolved else topic_id
            if resolved is None:
                set_result(i, None, topic_id, "UNKNOWN_TOPIC_ID", None)
                continue

            def done(resp: Any, i: int = i, name: str = resolved, tid: Any = tid) -> None:
                err, detail = resp[0], resp[1] if len(resp) > 1 else None
                if err == "NO_ERROR":
                    ctx.conn.note(f"deleted topic {name}")
                set_result(
                    i, name, tid, err, detail if isinstance(detail, str) and err != "NO_ERROR" else None
                )

            b.handle_admin("delete_topic", (resolved,), done)

    ctx.call(on_broker, ctx.reply)


# -- GetTelemetrySubscriptions (API key 71) -----------------------------------------------------------------


def get_telemetry_subscriptions(ctx: RequestContext, req: Any) -> None:
    """KIP-714 client metrics: this broker has no metrics receiver, so it says the API is unsupported."""

    def on_broker(_b: Broker, respond: Callable[[Any], None]) -> None:
        respond(None)

    ctx.call(
        on_broker,
        lambda _r: ctx.reply(
            {
                "error_code": "UNSUPPORTED_VERSION",
                "client_instance_id": uuid.UUID(int=0),
                "subscription_id": 0,
                "accepted_compression_types": [],
                "push_interval": 0,
                "telemetry_max_bytes": 0,
                "delta_temporality": False,
                "requested_metrics": [],
            }
        ),
    )
