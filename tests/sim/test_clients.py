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


def test_an_idempotent_producer_waits_out_a_missing_controller_for_its_producer_id() -> None:
    """InitProducerId is forwarded to the controller; with none active the broker answers an error (a
    2-tuple, not the 3-tuple of a success) and the producer retries until a controller is back."""
    c = Cluster(3, seed=2)
    c.create_topic("t", 1, 3)
    c.kill_controller()
    p = c.producer({"acks": "all", "enable.idempotence": True})
    delivered: list[Any] = []
    p.produce("t", b"v", on_delivery=lambda err, msg: delivered.append(err))
    c.run_for(3_000)
    assert p.producer_id < 0 and not delivered  # no producer id yet: nothing may be sent
    c.restart_controller(3000)
    assert p.flush(30) == 0
    assert delivered == [None] and p.producer_id >= 0
    c.close()


def test_resetting_a_group_without_committed_offsets_commits_nothing_and_succeeds() -> None:
    c = Cluster(3, seed=2)
    c.create_topic("t", 1, 3)
    consumer = c.consumer({"group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["t"])
    consumer.poll(5.0)
    consumer.close()
    c.run_for(1_000)  # the LeaveGroup arrives: the group is Empty and has no offsets
    assert c.describe_group("g").state == "Empty"
    c.reset_offsets("g", {})  # used to crash building an empty record batch
    assert c.describe_group("g").state == "Empty"
    c.close()


def test_local_errors_read_like_librdkafka() -> None:
    """confluent_kafka shows librdkafka's texts: a learner can search for the message they see."""
    assert KafkaError("_TRANSPORT").str() == "Local: Broker transport failure"
    assert KafkaError("_MSG_TIMED_OUT").str() == "Local: Message timed out"
    assert KafkaError("_TRANSPORT", "Failed to get metadata").str() == "Failed to get metadata"
    assert KafkaError("NOT_ENOUGH_REPLICAS").str() == "Not enough replicas"
