"""Config values are checked against Kafka's ConfigDef ranges in one place (issue 11, point 11).

A period of 0 used to hang the kernel at one virtual instant (a timer rescheduling itself with no delay);
now such values get Kafka's one-line ConfigException message before anything starts.
"""

from __future__ import annotations

import pytest

from kafkalab import Cluster, KafkaException
from kafkalab.commands.parsing import CommandError
from kafkalab.commands.topic_configs import validate_topic_config
from kafkalab.sim.configdefs import ConfigError, validate_config


@pytest.mark.parametrize(
    "name",
    [
        "log.retention.check.interval.ms",
        "replica.high.watermark.checkpoint.interval.ms",
        "broker.heartbeat.interval.ms",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    ],
)
def test_a_zero_period_is_refused_with_kafkas_message_instead_of_hanging(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        Cluster(3, seed=1, broker_config={name: 0})  # before: never returned
    msg = str(info.value)
    assert msg.startswith(f"Invalid value 0 for configuration {name}: Value must be at least 1")
    assert "\n" not in msg


def test_a_zero_cleaner_backoff_is_refused_and_the_message_says_the_limit_is_the_labs() -> None:
    """Kafka allows log.cleaner.backoff.ms=0 (its cleaner thread checks again at once); the lab runs the
    cleaner as a timer, so it needs 1 ms, and says that this limit is its own."""
    with pytest.raises(ConfigError) as info:
        Cluster(1, seed=1, broker_config={"log.cleaner.backoff.ms": 0})  # before: hung here
    assert "at least 1 (a limit of this lab" in str(info.value) and "Kafka allows 0" in str(info.value)
    c = Cluster(1, seed=1, broker_config={"log.cleaner.backoff.ms": 1})
    c.create_topic(
        "k", 1, 1, {"cleanup.policy": "compact", "segment.bytes": 200, "min.cleanable.dirty.ratio": 0.01}
    )
    p = c.producer()
    for i in range(40):
        p.produce("k", key=b"same", value=f"v{i}")
        p.flush()
    c.run_for(2000)
    assert any("compacted k-0" in e.text for e in c.timeline)
    c.close()


@pytest.mark.parametrize(
    ("kind", "name", "value", "message"),
    [
        ("broker", "num.partitions", "0", "Value must be at least 1"),
        ("broker", "min.insync.replicas", "abc", "Not a number of type INT"),
        ("broker", "log.retention.check.interval.ms", "9" * 40, "Not a number of type LONG"),
        ("broker", "offsets.topic.replication.factor", "40000", "Not a number of type SHORT"),
        ("broker", "unclean.leader.election.enable", "maybe", "Expected value to be either true or false"),
        ("broker", "log.cleanup.policy", "shred", "String must be one of: compact, delete"),
        ("topic", "min.cleanable.dirty.ratio", "1.5", "Value must be no more than 1"),
        ("topic", "min.cleanable.dirty.ratio", "nan", "Not a number of type DOUBLE"),
        ("topic", "retention.ms", "-2", "Value must be at least -1"),
        ("topic", "segment.bytes", "13", "Value must be at least 14 (Kafka 4 requires at least 1048576"),
        ("producer", "linger.ms", "-1", "Value must be at least 0"),
        ("producer", "acks", "2", "String must be one of: all, -1, 0, 1"),
        ("producer", "max.in.flight.requests.per.connection", "0", "Value must be at least 1"),
        ("consumer", "max.poll.records", "0", "Value must be at least 1"),
        ("consumer", "heartbeat.interval.ms", "0", "Value must be at least 1 (a limit of this lab"),
    ],
)
def test_out_of_range_values_get_a_one_line_error_naming_config_and_range(
    kind: str, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(kind, name, value)
    assert str(info.value).startswith(f"Invalid value {value[:60]} for configuration {name}: {message}")
    assert "\n" not in str(info.value)


def test_every_entry_point_uses_the_same_checks() -> None:
    c = Cluster(3, seed=2)
    with pytest.raises(KafkaException) as info:
        c.create_topic("t", 1, 3, {"segment.ms": 0})  # the controller checks topic configs
    assert info.value.error.name() == "INVALID_CONFIG"
    assert "Invalid value 0 for configuration segment.ms: Value must be at least 1" in info.value.error.str()
    c.create_topic("t", 1, 3)
    with pytest.raises(KafkaException) as info:
        c.alter_topic_config("t", {"min.insync.replicas": 0})
    assert "Value must be at least 1" in info.value.error.str()
    with pytest.raises(KafkaException) as info:
        c.producer({"linger.ms": -5})
    assert info.value.error.name() == "_INVALID_ARG" and "linger.ms" in info.value.error.str()
    with pytest.raises(KafkaException) as info:
        c.consumer({"group.id": "g", "heartbeat.interval.ms": 0})
    assert "heartbeat.interval.ms" in info.value.error.str()
    with pytest.raises(CommandError) as cinfo:
        validate_topic_config("segment.ms", "0")  # the console (kafka-configs, kafka-topics --config)
    assert str(cinfo.value) == "Invalid value 0 for configuration segment.ms: Value must be at least 1"
    assert validate_config("topic", "cleanup.policy", "[compact, delete]") == "compact,delete"
    assert validate_config("broker", "log.retention.ms", 60000) == "60000"
    assert validate_config("broker", "unclean.leader.election.enable", True) == "true"
    c.close()


LESSON = """\
id: tiny
title: A tiny lesson
level: beginner
concepts: [topic]
setup:
  brokers: 1
  broker_config: {log.retention.check.interval.ms: 0}
  topics:
    - {name: t, partitions: 1, replication_factor: 1, config: {min.cleanable.dirty.ratio: 7}}
steps:
  - title: Write
    text: Write a record.
    goals:
      - high_watermark: {partition: t-0, at_least: 1}
    solution:
      - produce t v --partition 0
"""


def test_lesson_files_get_the_same_checks_with_file_and_line() -> None:
    from kafkalab.lessons import LessonError, parse_lesson

    with pytest.raises(LessonError) as info:
        parse_lesson(LESSON, "tiny.yaml")
    issues = [str(i) for i in info.value.issues]
    assert any(
        "log.retention.check.interval.ms" in i and "Value must be at least 1" in i and "tiny.yaml:" in i
        for i in issues
    )
    assert any("min.cleanable.dirty.ratio" in i and "no more than 1" in i for i in issues)
