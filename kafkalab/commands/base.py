"""Shared types of the command layer: results, plans and the cluster look-ups every command needs."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..sim.cluster import Cluster, PartitionInfo
from .parsing import CommandError

__all__ = [
    "CommandResult",
    "GROUPS_UNAVAILABLE",
    "Plan",
    "groups_available",
    "kafka_topic_id",
    "live_broker_ids",
    "match_topics",
    "require_topic",
]

#: what a group command says while the simulation has no consumer-group support
GROUPS_UNAVAILABLE = "consumer groups are not available yet"


@dataclass
class CommandResult:
    """What a console command printed. ``error`` is one line naming what is wrong (None when ok)."""

    ok: bool
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    #: set when the command did nothing because it would throw work away: the question to ask; the same
    #: line with ``--yes`` goes ahead (the lab screen asks in a dialog)
    confirm: str | None = None


@dataclass
class Plan:
    """A fully validated command, ready to run.

    ``records``: the command changes the cluster (not just by time passing) and goes into the action log.
    ``kind="time"``: the command only moves time or rebuilds the run (step, run, rewind, seed); it is never
    recorded, because an action's position in the run already captures how far time had moved.
    ``run`` returns the lines to print; it may raise, which the executor turns into an error result.
    """

    run: Callable[[], list[str]]
    records: bool = False
    kind: str = ""


def groups_available(cluster: Cluster) -> bool:
    from ..sim.clients.consumer import Consumer

    return (
        callable(getattr(cluster, "describe_group", None))
        and callable(getattr(Consumer, "subscribe", None))
        and callable(getattr(Consumer, "commit", None))
    )


def live_broker_ids(cluster: Cluster) -> set[int]:
    """Brokers that are registered, unfenced and running (what describeCluster would list)."""
    return {b.broker_id for b in cluster.describe_cluster().brokers if b.state != "down" and not b.fenced}


def require_a_running_broker(cluster: Cluster, prefix: str, call: str) -> None:
    """Kafka's admin tools talk to the brokers; with none running they time out (here: fail at once)."""
    if not any(b.alive for b in cluster.brokers.values()):
        raise CommandError(
            f"{prefix}Timed out waiting for a node assignment. Call: {call} "
            "(no broker is running, so no bootstrap server answers)"
        )


def kafka_topic_id(cluster: Cluster, topic: str) -> str:
    """The topic id as Kafka prints a Uuid: 22 characters of URL-safe base64 without padding."""
    image_of = getattr(cluster, "_image", None)
    raw = ""
    if callable(image_of):
        rec = image_of().topics.get(topic)
        raw = getattr(rec, "topic_id", "") if rec is not None else ""
    try:
        data = bytes.fromhex(raw)
    except ValueError:
        return raw
    if len(data) != 16:
        return raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def match_topics(cluster: Cluster, pattern: str) -> list[str]:
    """``--topic`` of kafka-topics accepts a regular expression (matched against the whole name)."""
    topics = cluster.topics()
    if pattern in topics:
        return [pattern]
    try:
        rx = re.compile(pattern)
    except re.error:
        return []
    return [t for t in topics if rx.fullmatch(t)]


def auto_create_enabled(cluster: Cluster) -> bool:
    """``auto.create.topics.enable`` of the brokers (a static broker config: set when the cluster starts)."""
    return str(cluster.broker_config("auto.create.topics.enable")).lower() == "true"


def require_topic(cluster: Cluster, topic: str, tool: str) -> list[PartitionInfo]:
    if topic not in cluster.topics():
        why = (
            "the brokers run with auto.create.topics.enable=false"
            if not auto_create_enabled(cluster)
            else "this tool does not create it"
        )
        raise CommandError(
            f"{tool}: topic '{topic}' does not exist ({why}; create it with kafka-topics --create --topic {topic})"
        )
    return cluster.describe_topic(topic)


_NAME_RX = re.compile(r"[A-Za-z0-9._-]+")


def topic_name_error(name: str) -> str | None:
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


def fmt_ids(ids: Any) -> str:
    return ",".join(str(i) for i in ids)
