"""Several clusters on one kernel, and the client additions the platform relies on."""

from __future__ import annotations

import pytest

from kafkalab import Cluster, TopicPartition
from kafkalab.sim.clients.admin import ConsumerGroupTopicPartitions
from kafkalab.sim.errors import KafkaException
from kafkalab.sim.world import World, parse_clusters

FAST = {"offsets.topic.num.partitions": 2, "transaction.state.log.num.partitions": 2}


def test_clusters_of_a_world_share_one_clock_and_stay_apart() -> None:
    w = World("east:2,west:1", seed=5, broker_config=FAST)
    east, west = w["east"], w["west"]
    assert (len(east.brokers), len(west.brokers)) == (2, 1)
    assert east.kernel is west.kernel and east.cluster_id != west.cluster_id
    east.create_topic("orders", partitions=2, replication_factor=2)
    assert "orders" not in west.topics()
    w.run_for(1234)
    assert east.now_ms == west.now_ms == w.now_ms
    assert east.name == "east" and east.world is w
    w.close()


def test_same_seed_same_run() -> None:
    def run() -> str:
        w = World({"east": 1, "west": 1}, seed=9, broker_config=FAST)
        w["east"].create_topic("t", partitions=1)
        p = w["east"].producer()
        for i in range(20):
            p.produce("t", value=str(i))
        p.flush()
        w.run_for(2000)
        h = w.trace_hash()
        w.close()
        return h

    assert run() == run()


def test_a_cut_between_sites_stops_only_clients_placed_across_it() -> None:
    w = World({"east": 1, "west": 1}, seed=2, broker_config=FAST)
    east = w["east"]
    east.create_topic("orders", partitions=1)
    p = east.producer()
    for i in range(5):
        p.produce("orders", value=f"v{i}")
    p.flush()
    local = east.consumer({"auto.offset.reset": "earliest"})
    remote = east.consumer({"auto.offset.reset": "earliest"})
    w.place(remote, "west")
    w.cut("east", "west")
    for c in (local, remote):
        c.assign([TopicPartition("orders", 0, 0)])
    assert len(local.consume(10, timeout=5)) == 5
    assert remote.consume(10, timeout=5) == []
    assert w.cut_pairs() == [("east", "west")]
    w.heal()
    got = []
    for _ in range(40):
        got += remote.consume(10, timeout=2)
        if len(got) == 5:
            break
    assert [m.value() for m in got] == [f"v{i}".encode() for i in range(5)]
    assert "network cut between east and west" in [e.text for e in east.timeline]
    w.close()


def test_parse_clusters_names_what_is_wrong() -> None:
    assert parse_clusters("east:3, west:1") == [("east", 3), ("west", 1)]
    for bad, msg in [
        ("east:3,east:1", "named twice"),
        ("east:x", "bad broker count"),
        ("east:0", "between 1 and"),
        ("9x:1", "bad cluster name"),
        ("", "no cluster"),
    ]:
        with pytest.raises(ValueError, match=msg):
            parse_clusters(bad)


def test_a_cluster_on_its_own_is_unchanged() -> None:
    c = Cluster(brokers=1, seed=4)
    assert c.name == "" and c.world is None and c.net.home_site == ""
    c.close()


def test_transactional_calls_resume_after_a_timeout() -> None:
    """librdkafka's resumable calls: a timed-out commit goes on and is finished by calling again."""
    c = Cluster(brokers=1, seed=3, broker_config=FAST)
    c.create_topic("out", partitions=1)
    p = c.producer({"transactional.id": "tx", "linger.ms": 1000})
    with pytest.raises(KafkaException) as e:
        p.init_transactions(0)
    assert e.value.error.name() == "_TIMED_OUT" and e.value.error.retriable()
    p.init_transactions(10)
    p.begin_transaction()
    p.produce("out", value="x")
    with pytest.raises(KafkaException) as e:
        p.commit_transaction(0)
    assert e.value.error.retriable()
    p.commit_transaction(10)
    assert p.txn_state == "READY"
    read = c.read_all("out", isolation_level="read_committed")
    assert [v for _o, _k, v in read[0]] == [b"x"]
    c.close()


def test_cached_watermarks_come_from_the_last_fetch() -> None:
    c = Cluster(brokers=1, seed=6, broker_config=FAST)
    c.create_topic("t", partitions=1)
    p = c.producer()
    for i in range(3):
        p.produce("t", value=str(i))
    p.flush()
    cons = c.consumer({"auto.offset.reset": "earliest"})
    tp = TopicPartition("t", 0)
    assert cons.get_watermark_offsets(tp, cached=True) == (-1001, -1001)
    cons.assign([TopicPartition("t", 0, 0)])
    assert len(cons.consume(10, timeout=5)) == 3
    assert cons.get_watermark_offsets(tp, cached=True) == (0, 3)
    c.close()


def test_admin_group_calls() -> None:
    c = Cluster(brokers=1, seed=8, broker_config=FAST)
    c.create_topic("t", partitions=2)
    cons = c.consumer({"group.id": "g", "auto.offset.reset": "earliest"})
    cons.subscribe(["t"])
    cons.consume(1, timeout=10)
    admin = c.admin()
    listed = admin.list_consumer_groups().result(10)
    assert [g.group_id for g in listed.valid] == ["g"]
    desc = admin.describe_consumer_groups(["g", "nope"])
    g = desc["g"].result(10)
    assert g.state == "Stable" and g.partition_assignor == "range" and len(g.members) == 1
    assert sorted((tp.topic, tp.partition) for tp in g.members[0].assignment.topic_partitions) == [
        ("t", 0),
        ("t", 1),
    ]
    assert desc["nope"].result(10).state == "Dead"
    # altering offsets needs an empty group, as Kafka's alterConsumerGroupOffsets does
    req = [ConsumerGroupTopicPartitions("g", [TopicPartition("t", 0, 5)])]
    with pytest.raises(KafkaException, match="UNKNOWN_MEMBER_ID"):
        admin.alter_consumer_group_offsets(req)["g"].result(10)
    cons.close()
    admin.alter_consumer_group_offsets(req)["g"].result(10)
    offs = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("g")])["g"].result(10)
    assert {(tp.topic, tp.partition): tp.offset for tp in offs.topic_partitions}[("t", 0)] == 5
    c.close()


def test_lab_majority_quorum_refuses_what_the_shrunk_isr_acknowledges() -> None:
    """``lab.ack.quorum=majority`` (lab-only, Raft-like) against Kafka's acks=all on the ISR, same failure."""
    c = Cluster(brokers=3, seed=1)
    c.create_topic("isr", partitions=1, replication_factor=3)
    c.create_topic("raft", partitions=1, replication_factor=3, config={"lab.ack.quorum": "majority"})
    producers = {t: c.producer({"acks": "all", "delivery.timeout.ms": 120_000}) for t in ("isr", "raft")}
    for t, p in producers.items():
        p.produce(t, value="before")
        assert p.flush(10) == 0
    leader = c.describe_topic("isr")[0].leader
    assert c.describe_topic("raft")[0].leader == leader
    c.partition([leader], [b for b in (1, 2, 3) if b != leader])
    reports: dict[str, str] = {}
    for t, p in producers.items():
        p.produce(
            t,
            value="during",
            on_delivery=lambda err, m: reports.__setitem__(m.topic(), err.name() if err else "OK"),
        )
    c.run_for(150_000)
    for p in producers.values():
        p.poll(0)
    isr, raft = c.describe_topic("isr")[0], c.describe_topic("raft")[0]
    assert isr.isr == raft.isr == (leader,)  # both ISRs shrank to the leader
    assert reports == {"isr": "OK", "raft": "_MSG_TIMED_OUT"}
    assert (isr.high_watermark, raft.high_watermark) == (2, 1)
    c.close()
