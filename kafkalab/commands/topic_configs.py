"""Topic config names, types and broker synonyms, for validating ``--config`` / ``--add-config`` like Kafka.

Messages follow Kafka's ``ConfigDef`` (``Invalid value abc for configuration min.insync.replicas: Not a
number of type INT``) and ``LogConfig.validate`` (``Unknown topic config name: foo``).
"""

from __future__ import annotations

from ..sim.metadata import TOPIC_CONFIG_DEFAULTS
from .parsing import CommandError

__all__ = ["BROKER_SYNONYMS", "validate_topic_config"]

#: name -> (type, minimum) ; type one of INT, LONG, DOUBLE, BOOLEAN, LIST(cleanup.policy)
_TYPES: dict[str, tuple[str, float | None]] = {
    "cleanup.policy": ("POLICY", None),
    "min.insync.replicas": ("INT", 1),
    "unclean.leader.election.enable": ("BOOLEAN", None),
    "segment.bytes": ("INT", 14),
    "segment.ms": ("LONG", 1),
    "retention.ms": ("LONG", -1),
    "retention.bytes": ("LONG", None),
    "delete.retention.ms": ("LONG", 0),
    "min.cleanable.dirty.ratio": ("DOUBLE", 0),
    "min.compaction.lag.ms": ("LONG", 0),
    "max.message.bytes": ("INT", 0),
    "index.interval.bytes": ("INT", 0),
    "lab.ack.quorum": ("QUORUM", None),
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
}

_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1


def validate_topic_config(name: str, value: str) -> str:
    """Check one topic config; returns the value normalised as Kafka stores it, or raises CommandError."""
    if name not in TOPIC_CONFIG_DEFAULTS:
        raise CommandError(f"Unknown topic config name: {name}")
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
    if kind == "DOUBLE":
        try:
            f = float(v)
        except ValueError:
            raise CommandError(f"{bad}: Not a number of type DOUBLE") from None
        if not 0.0 <= f <= 1.0:
            raise CommandError(f"{bad}: Value must be {'at least 0.0' if f < 0 else 'no more than 1.0'}")
        return v
    if kind == "BOOLEAN":
        if v.lower() not in ("true", "false"):
            raise CommandError(f"{bad}: Expected value to be either true or false")
        return v.lower()
    if kind == "QUORUM":  # the lab's own setting (not Kafka's): isr (Kafka) or majority (Raft, as Redpanda)
        if v.lower() not in ("isr", "majority"):
            raise CommandError(
                f"{bad}: String must be one of: isr, majority (a lab-only setting, not a Kafka config)"
            )
        return v.lower()
    if kind == "POLICY":
        items = [p.strip() for p in v.strip("[]").split(",") if p.strip()]
        if not items or any(p not in ("compact", "delete") for p in items):
            raise CommandError(f"{bad}: String must be one of: compact, delete")
        return ",".join(items)
    return v
