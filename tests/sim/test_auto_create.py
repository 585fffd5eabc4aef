"""Topic auto-creation (auto.create.topics.enable) and clients noticing metadata changes."""

from __future__ import annotations

from typing import Any

from kafkalab import Cluster, KafkaError
from kafkalab.sim.clients.common import Message


def deliver(c: Cluster, topic: str, cfg: dict[str, Any] | None = None) -> tuple[KafkaError | None, Message]:
    p = c.producer(cfg)
    out: list[tuple[KafkaError | None, Message]] = []
    p.produce(topic, value=b"hello", on_delivery=lambda e, m: out.append((e, m)))
    p.flush(60.0)
    assert len(out) == 1
    return out[0]


def test_producing_to_a_missing_topic_creates_it_with_the_broker_defaults() -> None:
    c = Cluster(3, seed=1, broker_config={"num.partitions": 4, "default.replication.factor": 2})
    assert "fresh" not in c.topics()
    err, msg = deliver(c, "fresh")
    assert err is None and msg.offset() == 0
    parts = c.describe_topic("fresh")
    assert len(parts) == 4 and all(len(p.replicas) == 2 for p in parts)
    assert any("auto-creating it" in e.text and "fresh" in e.text for e in c.timeline)


def test_with_auto_create_disabled_the_record_fails_as_unknown_topic_after_the_propagation_wait() -> None:
    c = Cluster(3, seed=1, broker_config={"auto.create.topics.enable": False})
    start = c.now_ms
    err, _msg = deliver(c, "fresh")
    assert err is not None and err.name() == "_UNKNOWN_TOPIC"
    assert c.now_ms - start >= 30_000  # librdkafka's topic.metadata.propagation.max.ms
    assert "fresh" not in c.topics()


def test_an_invalid_replication_factor_default_leaves_the_topic_uncreated() -> None:
    c = Cluster(2, seed=1, broker_config={"default.replication.factor": 3})
    err, _msg = deliver(c, "fresh", {"topic.metadata.propagation.max.ms": 5000})
    assert err is not None and err.name() == "_UNKNOWN_TOPIC"
    assert "fresh" not in c.topics()
    assert any(
        "auto-creation of topic fresh failed: INVALID_REPLICATION_FACTOR" in e.text for e in c.timeline
    )


def test_a_consumer_creates_its_subscribed_topic_only_when_it_allows_it() -> None:
    c = Cluster(3, seed=2, broker_config={"offsets.topic.num.partitions": 5, "num.partitions": 2})
    quiet = c.consumer({"group.id": "q", "auto.offset.reset": "earliest"})  # librdkafka default: false
    quiet.subscribe(["a"])
    quiet.consume(10, timeout=5.0)
    assert "a" not in c.topics()
    java = c.consumer({"group.id": "j", "auto.offset.reset": "earliest", "allow.auto.create.topics": True})
    java.subscribe(["b"])
    java.consume(10, timeout=5.0)
    assert "b" in c.topics()
    # the group's leader sees the topic appear in its metadata and rejoins: the new partitions get assigned
    for _ in range(20):
        java.consume(10, timeout=0.5)
    assert sorted((tp.topic, tp.partition) for tp in java.assignment()) == [("b", 0), ("b", 1)]
    err, _ = deliver(c, "b")
    assert err is None
    got: list[Message] = []
    for _ in range(20):
        got += [m for m in java.consume(10, timeout=0.5) if m.error() is None]
    assert [m.value() for m in got] == [b"hello"]


def test_a_partition_without_a_leader_costs_one_metadata_wait_at_a_time() -> None:
    """A consumer assigned partitions a re-created topic no longer has asks for metadata with a backoff; every
    fetcher pass used to add another waiter (and every waiter another pass): a growing storm of events."""
    from kafkalab.sim.clients.common import TopicPartition

    c = Cluster(3, seed=1)
    c.create_topic("t", 3, 1)
    consumer = c.consumer({"group.id": ""}, name="reader")
    consumer.assign([TopicPartition("t", p, 0) for p in range(3)])
    c.run_for(2_000)
    c.delete_topic("t")
    c.run_for(1_000)
    c.create_topic("t", 1, 1)
    seen: list[str] = []
    c.kernel.observers.append(lambda e: seen.append(e.kind) if e.node == "reader" else None)
    for _ in range(100):  # the lab polls every 100 ms
        consumer.consume(10, timeout=0)
        c.run_for(100)
    assert seen.count("fetcher") < 400, seen.count("fetcher")
