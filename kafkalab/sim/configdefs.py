"""Config definitions: types and valid ranges of broker, topic and client configs, checked in one place.

Types and ranges are Kafka 4's ``ConfigDef`` definitions (``atLeast``, ``between``, ``ValidString``,
``ValidList``), and errors read like Kafka's ``ConfigException``::

    Invalid value 0 for configuration log.retention.check.interval.ms: Value must be at least 1

A few configs that Kafka leaves unchecked (or allows to be 0) drive a periodic task here (a broker
heartbeat, the high watermark checkpoint, the log cleaner's backoff, a consumer heartbeat): a period of 0
would repeat at one instant forever, so the lab needs at least 1 ms and says that the limit is its own. ``segment.bytes`` is the one deliberate difference
from Kafka 4, which requires at least 1 MiB: lessons use segments of a few hundred bytes so they roll while
you watch, so the lab keeps the minimum of Kafka 3 (14 bytes) and says so.

Cluster (broker configs), the controller (topic configs on create and alter), the clients (their configs)
and the console (``kafka-configs``, ``kafka-topics --config``) all call :func:`validate_config`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BROKER",
    "CONSUMER",
    "ConfigError",
    "ConfigDef",
    "PRODUCER",
    "TOPIC",
    "validate_config",
    "validate_configs",
]

INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")


class ConfigError(ValueError):
    """A config value outside its type or range; the message is one line, naming the config."""


@dataclass(frozen=True)
class ConfigDef:
    name: str
    type: str  # INT, SHORT, LONG, DOUBLE, BOOLEAN, STRING, LIST
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: why the lab's range differs from Kafka's (shown in the error), empty when it is Kafka's own
    lab_note: str = ""

    def describe_range(self) -> str:
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"[{_num(self.minimum)},...,{_num(self.maximum)}]"
        if self.minimum is not None:
            return f"[{_num(self.minimum)},...]"
        return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_LAB_PERIOD = "a limit of this lab, which runs it as a timer; Kafka itself does not check it"


def _defs(*defs: ConfigDef) -> dict[str, ConfigDef]:
    return {d.name: d for d in defs}


#: broker configs the lab's brokers, controllers and coordinators read
BROKER = _defs(
    ConfigDef("replica.lag.time.max.ms", "LONG"),
    ConfigDef("replica.fetch.wait.max.ms", "INT"),
    ConfigDef("replica.fetch.min.bytes", "INT"),
    ConfigDef("replica.fetch.max.bytes", "INT", 0),
    ConfigDef("replica.fetch.backoff.ms", "INT", 0),
    ConfigDef("replica.high.watermark.checkpoint.interval.ms", "LONG", 1, lab_note=_LAB_PERIOD),
    ConfigDef("broker.heartbeat.interval.ms", "INT", 1, lab_note=_LAB_PERIOD),
    ConfigDef("broker.session.timeout.ms", "INT"),
    ConfigDef("min.insync.replicas", "INT", 1),
    ConfigDef("unclean.leader.election.enable", "BOOLEAN"),
    ConfigDef("default.replication.factor", "INT"),
    ConfigDef("num.partitions", "INT", 1),
    ConfigDef(
        "log.segment.bytes",
        "INT",
        14,
        lab_note="Kafka 4 requires at least 1048576; the lab allows small segments so they roll in a lesson",
    ),
    ConfigDef("log.roll.ms", "LONG", 1),
    ConfigDef("log.retention.ms", "LONG", -1),
    ConfigDef("log.retention.bytes", "LONG"),
    ConfigDef("log.cleanup.policy", "LIST", choices=("compact", "delete")),
    ConfigDef("auto.create.topics.enable", "BOOLEAN"),
    ConfigDef("offsets.topic.num.partitions", "INT", 1),
    ConfigDef("offsets.topic.replication.factor", "SHORT", 1),
    ConfigDef(
        "group.initial.rebalance.delay.ms",
        "INT",
        0,
        lab_note="a limit of this lab: a negative delay means nothing; Kafka itself does not check it",
    ),
    ConfigDef("transaction.state.log.num.partitions", "INT", 1),
    ConfigDef("transaction.state.log.replication.factor", "SHORT", 1),
    ConfigDef("transaction.max.timeout.ms", "INT", 1),
    ConfigDef("transaction.abort.timed.out.transaction.cleanup.interval.ms", "INT", 1),
    ConfigDef("log.retention.check.interval.ms", "LONG", 1),
    ConfigDef("log.cleaner.enable", "BOOLEAN"),
    ConfigDef(
        "log.cleaner.backoff.ms",
        "LONG",
        1,
        lab_note="a limit of this lab, which runs the cleaner as a timer; Kafka allows 0",
    ),
)

#: topic configs (Kafka's LogConfig)
TOPIC = _defs(
    ConfigDef("cleanup.policy", "LIST", choices=("compact", "delete")),
    ConfigDef("min.insync.replicas", "INT", 1),
    ConfigDef("unclean.leader.election.enable", "BOOLEAN"),
    ConfigDef(
        "segment.bytes",
        "INT",
        14,
        lab_note="Kafka 4 requires at least 1048576; the lab allows small segments so they roll in a lesson",
    ),
    ConfigDef("segment.ms", "LONG", 1),
    ConfigDef("retention.ms", "LONG", -1),
    ConfigDef("retention.bytes", "LONG"),
    ConfigDef("delete.retention.ms", "LONG", 0),
    ConfigDef("min.cleanable.dirty.ratio", "DOUBLE", 0, 1),
    ConfigDef("min.compaction.lag.ms", "LONG", 0),
    ConfigDef("max.message.bytes", "INT", 0),
    ConfigDef("index.interval.bytes", "INT", 0),
    # isr (Kafka) or majority (Raft, as Redpanda): how many replicas acks=all waits for
    ConfigDef(
        "lab.ack.quorum",
        "STRING",
        choices=("isr", "majority"),
        lab_note="a lab-only setting, not a Kafka config",
    ),
)

#: producer configs (Java's ProducerConfig names, which confluent_kafka accepts too)
PRODUCER = _defs(
    ConfigDef("acks", "STRING", choices=("all", "-1", "0", "1")),
    ConfigDef("enable.idempotence", "BOOLEAN"),
    ConfigDef("linger.ms", "LONG", 0),
    ConfigDef("batch.size", "INT", 0),
    ConfigDef("retries", "INT", 0, INT_MAX),
    ConfigDef("retry.backoff.ms", "LONG", 0),
    ConfigDef("delivery.timeout.ms", "INT", 0),
    ConfigDef("request.timeout.ms", "INT", 0),
    ConfigDef("max.in.flight.requests.per.connection", "INT", 1),
    ConfigDef("max.request.size", "INT", 0),
    ConfigDef("transaction.timeout.ms", "INT"),
)

#: consumer configs
CONSUMER = _defs(
    ConfigDef("enable.auto.commit", "BOOLEAN"),
    ConfigDef("auto.commit.interval.ms", "INT", 0),
    ConfigDef("fetch.min.bytes", "INT", 0),
    ConfigDef("fetch.max.wait.ms", "INT", 0),
    ConfigDef("fetch.max.bytes", "INT", 0),
    ConfigDef("max.partition.fetch.bytes", "INT", 0),
    ConfigDef("max.poll.records", "INT", 1),
    ConfigDef("max.poll.interval.ms", "INT", 1),
    ConfigDef("session.timeout.ms", "INT"),
    ConfigDef("heartbeat.interval.ms", "INT", 1, lab_note=_LAB_PERIOD),
    ConfigDef("request.timeout.ms", "INT", 0),
    ConfigDef("retry.backoff.ms", "LONG", 0),
)

_KINDS: dict[str, dict[str, ConfigDef]] = {
    "broker": BROKER,
    "topic": TOPIC,
    "producer": PRODUCER,
    "consumer": CONSUMER,
}


def validate_config(kind: str, name: str, value: Any) -> str:
    """Check ``value`` of config ``name`` (a ``kind`` config: broker, topic, producer or consumer).

    Returns the value as Kafka stores it (a string); raises :class:`ConfigError` with a one-line message.
    Names the lab does not know are returned unchecked (Kafka ignores unknown broker and client configs).
    """
    d = _KINDS[kind].get(name)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if d is None:
        return text
    v = text.strip()
    bad = f"Invalid value {text[:60]} for configuration {name}"
    if d.type in ("INT", "SHORT", "LONG"):
        limit = {"INT": INT_MAX, "SHORT": 2**15 - 1, "LONG": LONG_MAX}[d.type]
        if isinstance(value, float) and value.is_integer():
            v = str(int(value))
        if not _INTEGER.fullmatch(v) or len(v) > 21 or not -limit - 1 <= int(v) <= limit:
            raise ConfigError(f"{bad}: Not a number of type {d.type}")
        n = float(int(v))  # only compared with small limits below
        out = str(int(v))
    elif d.type == "DOUBLE":
        try:
            n = float(v)
        except ValueError:
            raise ConfigError(f"{bad}: Not a number of type DOUBLE") from None
        if math.isnan(n) or math.isinf(n):
            raise ConfigError(f"{bad}: Not a number of type DOUBLE")
        out = v
    elif d.type == "BOOLEAN":
        if v.lower() not in ("true", "false"):
            raise ConfigError(f"{bad}: Expected value to be either true or false")
        return v.lower()
    why = f" ({d.lab_note})" if d.lab_note else ""
    if d.type == "LIST":
        items = [p.strip() for p in v.strip("[]").split(",") if p.strip()]
        if not items or (d.choices and any(p not in d.choices for p in items)):
            raise ConfigError(f"{bad}: String must be one of: {', '.join(d.choices)}{why}")
        return ",".join(items)
    if d.type == "STRING":
        if d.choices and v.lower() not in d.choices:
            raise ConfigError(f"{bad}: String must be one of: {', '.join(d.choices)}{why}")
        return v.lower() if d.choices else v
    if d.minimum is not None and n < d.minimum:
        raise ConfigError(f"{bad}: Value must be at least {_num(d.minimum)}{why}")
    if d.maximum is not None and n > d.maximum:
        raise ConfigError(f"{bad}: Value must be no more than {_num(d.maximum)}{why}")
    return out


def validate_configs(kind: str, configs: dict[str, Any]) -> dict[str, str]:
    """Every entry of ``configs`` checked and normalised (the first bad one raises :class:`ConfigError`)."""
    return {str(k): validate_config(kind, str(k), v) for k, v in configs.items()}
