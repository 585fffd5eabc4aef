"""What several API handlers share: topic names and ids, leaders, grouping answers by topic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...sim.metadata import NO_LEADER

if TYPE_CHECKING:
    from ...sim.broker import Broker
    from ..node import RequestContext

__all__ = [
    "by_topic",
    "current_leader",
    "id_hex",
    "names_by_id",
    "node_endpoints",
    "resolve_topic",
    "topic_uuid",
]


def id_hex(topic_id: Any) -> str | None:
    """The simulation's form of a topic id (32 hex digits) from a request's UUID; None for the zero UUID."""
    if topic_id is None:
        return None
    u = topic_id if isinstance(topic_id, uuid.UUID) else uuid.UUID(str(topic_id))
    return None if u.int == 0 else u.hex


def topic_uuid(broker: Broker, name: str | None) -> uuid.UUID | None:
    t = broker.image.topics.get(name) if name is not None else None
    return uuid.UUID(hex=t.topic_id) if t is not None else None


def names_by_id(broker: Broker) -> dict[str, str]:
    return {t.topic_id: t.name for t in broker.image.topics.values()}


def resolve_topic(
    broker: Broker, name: str | None, topic_id: Any, cache: dict[str, str] | None = None
) -> str | None:
    """The topic's name: ``name`` if the request gave one, else the name of ``topic_id`` (None if unknown)."""
    if name:
        return name
    hexid = id_hex(topic_id)
    if hexid is None:
        return None
    ids = cache if cache is not None else names_by_id(broker)
    return ids.get(hexid)


def current_leader(broker: Broker, topic: str, partition: int) -> dict[str, int]:
    """KIP-951: who leads the partition now, for a NOT_LEADER_OR_FOLLOWER answer."""
    st = broker.image.partitions.get((topic, partition))
    if st is None or st.leader == NO_LEADER:
        return {"leader_id": -1, "leader_epoch": -1}
    return {"leader_id": st.leader, "leader_epoch": st.leader_epoch}


def node_endpoints(ctx: RequestContext, broker_ids: Iterable[int]) -> list[dict[str, Any]]:
    out = []
    for b in sorted(set(broker_ids)):
        if b < 0:
            continue
        host, port = ctx.endpoint(b)
        out.append({"node_id": b, "host": host, "port": port, "rack": None})
    return out


def by_topic(
    rows: Iterable[tuple[tuple[str | None, Any], dict[str, Any]]], list_key: str
) -> list[dict[str, Any]]:
    """Group per-partition answers under their topic, in the order topics first appear.

    ``rows`` are ((name, topic id), partition dict); each topic entry gets the name under every key the
    APIs use for it (``name``, ``topic``) and the id, so each version keeps the one it has.
    """
    out: dict[Any, dict[str, Any]] = {}
    for topic, part in rows:
        entry = out.get(topic)
        if entry is None:
            name, tid = topic
            entry = out[topic] = {"name": name, "topic": name, "topic_id": tid, list_key: []}
        entry[list_key].append(part)
    return list(out.values())
