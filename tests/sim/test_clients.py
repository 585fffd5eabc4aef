"""Client API details: confluent_kafka shapes, AdminClient, seek/auto.offset.reset, delivery timeouts."""

from __future__ import annotations

from typing import Any

import pytest

from kafkalab import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Cluster,
    ConfigResource,
    KafkaError,
    KafkaException,
    NewTopic,
    TopicPartition,
)


def test_admin_client_creates_describes_alters_and_deletes_topics() -> None:
    c = Cluster(3, seed=2)
    admin = c.admin()
    futures = admin.create_topics(
        [NewTopic("orders", num_partitions=4, replication_factor=3, config={"min.insync.replicas": "2"})]
    )
    assert futures["orders"].result() is None
    md = admin.list_topics()
    assert sorted(md.topics["orders"].partitions) == [0, 1, 2, 3]
    leaders = [p.leader for p in md.topics["orders"].partitions.values()]
    assert sorted(set(leaders)) == [1, 2, 3]  # leaders spread over the brokers
    assert all(len(p.replicas) == 3 and p.isrs == p.replicas for p in md.topics["orders"].partitions.values())
    with pytest.raises(KafkaException) as err:
        admin.create_topics([NewTopic("orders", 1, 1)])["orders"].result()
    assert err.value.error.code() == KafkaError.TOPIC_ALREADY_EXISTS
    with pytest.raises(KafkaException) as err:
        admin.create_topics([NewTopic("big", 1, 5)])["big"].result()
    assert err.value.error.code() == KafkaError.INVALID_REPLICATION_FACTOR
    res = ConfigResource("topic", "orders", set_config={"retention.ms": "1000"})
    admin.alter_configs([res])[res].result()
    assert c.topic_configs("orders")["retention.ms"] == "1000"
    admin.delete_topics(["orders"])["orders"].result()
    c.run_for(1_000)
    assert "orders" not in admin.list_topics().topics
    assert not c.brokers[1].partition_dir("orders", 0).exists()


def test_seek_and_auto_offset_reset() -> None:
    c = Cluster(3, seed=2)
    c.create_topic("t", 1, 3)
    p = c.producer()
    for i in range(10):
        p.produce("t", value=f"v{i}", partition=0)
    p.flush()
    con = c.consumer({"auto.offset.reset": "earliest"})
    con.assign([TopicPartition("t", 0, OFFSET_BEGINNING)])
    assert [m.offset() for m in con.consume(3, timeout=1.0)] == [0, 1, 2]
    con.seek(TopicPartition("t", 0, 7))
    assert [m.value() for m in con.consume(10, timeout=1.0)] == [b"v7", b"v8", b"v9"]
    assert con.position([TopicPartition("t", 0)])[0].offset == 10
    latest = c.consumer({"auto.offset.reset": "latest"})
    latest.assign([TopicPartition("t", 0, OFFSET_END)])
    assert latest.consume(10, timeout=0.5) == []
    p.produce("t", value=b"new", partition=0)
    p.flush()
    assert [m.value() for m in latest.consume(10, timeout=1.0)] == [b"new"]
    strict = c.consumer({"auto.offset.reset": "none"})
    strict.assign([TopicPartition("t", 0, 50)])  # beyond the log end: out of range, and no reset allowed
    msg = strict.poll(1.0)
    assert (
        msg is not None and msg.error() is not None and msg.error().code() == KafkaError.OFFSET_OUT_OF_RANGE
    )
    assert c.consumer().get_watermark_offsets(TopicPartition("t", 0)) == (0, 11)


def test_delivery_timeout_fails_records_that_cannot_be_sent() -> None:
    c = Cluster(3, seed=2)
    c.create_topic("t", 1, 3, {"min.insync.replicas": "2"})
    for b in (1, 2, 3):
        c.kill_broker(b)
    p = c.producer({"delivery.timeout.ms": 10_000, "request.timeout.ms": 3_000})
    errors: list[Any] = []
    p.produce("t", value=b"stuck", partition=0, on_delivery=lambda e, m: errors.append(e))
    assert p.flush(5) == 1  # still trying after 5 s
    p.flush(10)
    assert [e.name() for e in errors] == ["_MSG_TIMED_OUT"]
    assert c.now_ms < 20_000


def test_linger_ms_groups_records_into_fewer_batches() -> None:
    c = Cluster(3, seed=2)
    c.create_topic("t", 1, 3)
    counts = {}
    for linger in (0, 50):
        p = c.producer({"linger.ms": linger})
        for i in range(40):
            p.produce("t", value=f"{linger}-{i}", partition=0)
            c.run_for(2)  # a record every 2 ms
        p.flush()
        counts[linger] = p.sent_batches
    assert counts[50] * 4 < counts[0]


def test_null_keys_stick_to_one_partition_per_batch() -> None:
    c = Cluster(3, seed=2)
    c.create_topic("t", 3, 3)
    p = c.producer({"linger.ms": 1000})
    got: list[int] = []
    for i in range(20):
        p.produce("t", value=f"{i}", on_delivery=lambda e, m: got.append(m.partition()))
    p.flush()
    assert len(set(got)) == 1  # all in the one open batch of the sticky partition
