"""Topic config names, types and broker synonyms, for validating ``--config`` / ``--add-config`` like Kafka.

Types and ranges live in :mod:`kafkalab.sim.configdefs` (one place for brokers, topics, clients and the
console); messages follow Kafka's ``ConfigDef`` (``Invalid value abc for configuration min.insync.replicas:
Not a number of type INT``) and ``LogConfig.validate`` (``Unknown topic config name: foo``).
"""

from __future__ import annotations

import re

from ..sim.configdefs import TOPIC, ConfigError, validate_config
from ..sim.metadata import TOPIC_CONFIG_DEFAULTS
from .parsing import CommandError

__all__ = ["BROKER_SYNONYMS", "validate_topic_config"]

#: name -> (type, minimum) of the topic configs that sim.configdefs does not define (kafka-configs --all lists
#: them); type one of INT, LONG, BOOLEAN, COMPRESSION, TIMESTAMP_TYPE, THROTTLED
_TYPES: dict[str, tuple[str, float | None]] = {
    "compression.type": ("COMPRESSION", None),
    "compression.gzip.level": ("INT", 1),
    "compression.lz4.level": ("INT", 1),
    "compression.zstd.level": ("INT", -131072),
    "file.delete.delay.ms": ("LONG", 0),
    "flush.messages": ("LONG", 1),
    "flush.ms": ("LONG", 0),
    "follower.replication.throttled.replicas": ("THROTTLED", None),
    "leader.replication.throttled.replicas": ("THROTTLED", None),
    "local.retention.bytes": ("LONG", -2),
    "local.retention.ms": ("LONG", -2),
    "max.compaction.lag.ms": ("LONG", 1),
    "message.timestamp.after.max.ms": ("LONG", 0),
    "message.timestamp.before.max.ms": ("LONG", 0),
    "message.timestamp.type": ("TIMESTAMP_TYPE", None),
    "preallocate": ("BOOLEAN", None),
    "remote.log.copy.disable": ("BOOLEAN", None),
    "remote.log.delete.on.disable": ("BOOLEAN", None),
    "remote.storage.enable": ("BOOLEAN", None),
    "segment.index.bytes": ("INT", 4),
    "segment.jitter.ms": ("LONG", 0),
}

#: topic config -> (broker config that provides its default, that default as Kafka shows it)
BROKER_SYNONYMS: dict[str, tuple[str, str]] = {
    "cleanup.policy": ("log.cleanup.policy", "delete"),
    "min.insync.replicas": ("min.insync.replicas", "1"),
    "unclean.leader.election.enable": ("unclean.leader.election.enable", "false"),
    "segment.bytes": ("log.segment.bytes", "1073741824"),
    "segment.ms": ("log.roll.hours", "168"),
    "retention.ms": ("log.retention.hours", "168"),
    "retention.bytes": ("log.retention.bytes", "-1"),
    "delete.retention.ms": ("log.cleaner.delete.retention.ms", "86400000"),
    "min.cleanable.dirty.ratio": ("log.cleaner.min.cleanable.ratio", "0.5"),
    "min.compaction.lag.ms": ("log.cleaner.min.compaction.lag.ms", "0"),
    "max.message.bytes": ("message.max.bytes", "1048588"),
    "index.interval.bytes": ("log.index.interval.bytes", "4096"),
    "compression.type": ("compression.type", "producer"),
    "compression.gzip.level": ("compression.gzip.level", "9"),
    "compression.lz4.level": ("compression.lz4.level", "9"),
    "compression.zstd.level": ("compression.zstd.level", "3"),
    "file.delete.delay.ms": ("log.segment.delete.delay.ms", "60000"),
    "flush.messages": ("log.flush.interval.messages", "9223372036854775807"),
    "flush.ms": ("log.flush.scheduler.interval.ms", "9223372036854775807"),
    "local.retention.bytes": ("log.local.retention.bytes", "-2"),
    "local.retention.ms": ("log.local.retention.ms", "-2"),
    "max.compaction.lag.ms": ("log.cleaner.max.compaction.lag.ms", "9223372036854775807"),
    "message.timestamp.after.max.ms": ("log.message.timestamp.after.max.ms", "3600000"),
    "message.timestamp.before.max.ms": ("log.message.timestamp.before.max.ms", "9223372036854775807"),
    "message.timestamp.type": ("log.message.timestamp.type", "CreateTime"),
    "preallocate": ("log.preallocate", "false"),
    "segment.index.bytes": ("log.index.size.max.bytes", "10485760"),
    "segment.jitter.ms": ("log.roll.jitter.hours", "0"),
}

_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1


def validate_topic_config(name: str, value: str) -> str:
    """Check one topic config; returns the value normalised as Kafka stores it, or raises CommandError."""
    if name not in TOPIC_CONFIG_DEFAULTS:
        raise CommandError(f"Unknown topic config name: {name}")
    if name in TOPIC:  # one place for the ranges the brokers check too
        try:
            return validate_config("topic", name, value)
        except ConfigError as e:
            raise CommandError(str(e)) from None
    kind, minimum = _TYPES.get(name, ("STRING", None))
    v = value.strip()
    bad = f"Invalid value {value} for configuration {name}"
    if kind in ("INT", "LONG"):
        try:
            n = int(v)
        except ValueError:
            raise CommandError(f"{bad}: Not a number of type {kind}") from None
        limit = _INT_MAX if kind == "INT" else _LONG_MAX
        if not -limit - 1 <= n <= limit:
            raise CommandError(f"{bad}: Not a number of type {kind}")
        if minimum is not None and n < minimum:
            raise CommandError(f"{bad}: Value must be at least {int(minimum)}")
        return str(n)
    if kind == "BOOLEAN":
        if v.lower() not in ("true", "false"):
            raise CommandError(f"{bad}: Expected value to be either true or false")
        return v.lower()
    if kind == "COMPRESSION":
        names = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
        if v not in names:
            raise CommandError(f"{bad}: String must be one of: {', '.join(names)}")
        return v
    if kind == "TIMESTAMP_TYPE":
        if v not in ("CreateTime", "LogAppendTime"):
            raise CommandError(f"{bad}: String must be one of: CreateTime, LogAppendTime")
        return v
    if kind == "THROTTLED":
        # ThrottledReplicaListValidator: '*' or partition:broker pairs
        items = [x.strip() for x in v.strip("[]").split(",") if x.strip()]
        if v.strip() in ("", "*") or all(re.fullmatch(r"\d+:\d+", x) for x in items):
            return ",".join(items) if v.strip() not in ("", "*") else v.strip()
        raise CommandError(
            f"{bad}: must be the literal '*' or a list of replicas in the following format: "
            "[partitionId]:[brokerId],[partitionId]:[brokerId],..."
        )
    return v
