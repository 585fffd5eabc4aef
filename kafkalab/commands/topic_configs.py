"""Topic config names, types and broker synonyms, for validating ``--config`` / ``--add-config`` like Kafka.

Types and ranges live in :mod:`kafkalab.sim.configdefs` (one place for brokers, topics, clients and the
console); messages follow Kafka's ``ConfigDef`` (``Invalid value abc for configuration min.insync.replicas:
Not a number of type INT``) and ``LogConfig.validate`` (``Unknown topic config name: foo``).
"""

from __future__ import annotations

from ..sim.configdefs import ConfigError, validate_config
from ..sim.metadata import TOPIC_CONFIG_DEFAULTS
from .parsing import CommandError

__all__ = ["BROKER_SYNONYMS", "validate_topic_config"]

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
}


def validate_topic_config(name: str, value: str) -> str:
    """Check one topic config; returns the value normalised as Kafka stores it, or raises CommandError."""
    if name not in TOPIC_CONFIG_DEFAULTS:
        raise CommandError(f"Unknown topic config name: {name}")
    try:
        return validate_config("topic", name, value)
    except ConfigError as e:
        raise CommandError(str(e)) from None
