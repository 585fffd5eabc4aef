"""MirrorMaker 2 between two clusters: order across a cut, offset translation, names and formats."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from kafkalab.platform.mirror import MirrorMaker, MirrorMakerConfigError
from kafkalab.platform.mirror_records import Checkpoint, DefaultReplicationPolicy, Heartbeat, OffsetSync
from kafkalab.sim.world import World

from .helpers import FAST_BROKER_CONFIG, FAST_MIRROR


@pytest.fixture
def world() -> Iterator[World]:
    w = World({"east": 1, "west": 1}, seed=31, broker_config=dict(FAST_BROKER_CONFIG))
    yield w
    w.close()


def values(cluster: object, topic: str) -> dict[int, list[bytes | None]]:
    out = cluster.read_all(topic)  # type: ignore[attr-defined]
    return {p: [v for _o, _k, v in recs] for p, recs in out.items()}


def test_every_record_arrives_in_order_per_partition_across_a_cut(world: World) -> None:
    east, west = world["east"], world["west"]
    east.create_topic("orders", partitions=3)
    mm = MirrorMaker(world, "east", "west", FAST_MIRROR)
    mm.start()
    r = random.Random(31)
    p = east.producer({"linger.ms": 0})
    n = 0
    for phase in ("before", "during", "after"):
        if phase == "during":
            world.cut("east", "west")
        for _ in range(60):
            p.produce("orders", key=f"k{r.randrange(10)}", value=f"{phase}-{n}")
            n += 1
            if r.random() < 0.3:
                world.run_for(r.randrange(1, 200))
        p.flush()
        world.run_for(3000)
        if phase == "during":
            # nothing crosses the cut: the remote topic holds only what came before it
            during = sum(len(v) for v in values(west, "east.orders").values())
            assert during <= 60
            world.heal()
    world.run_for(60_000)  # the consumer's requests that were lost in the cut time out and are sent again
    src, dst = values(east, "orders"), values(west, "east.orders")
    assert sum(len(v) for v in src.values()) == 180
    assert dst == src  # every record, same partition, same order, exactly once here (no process failure)
    assert mm.offset_syncs_sent > 0 and mm.heartbeats_sent > 0
    assert {
        "east.orders",
        "east.heartbeats",
        "east.checkpoints.internal",
        "mm2-offsets.east.internal",
    } <= set(west.topics())
    assert {"heartbeats", "mm2-offset-syncs.west.internal"} <= set(east.topics())


def test_a_group_that_switches_clusters_resumes_at_the_translated_offset(world: World) -> None:
    east, west = world["east"], world["west"]
    east.create_topic("orders", partitions=2)
    cfg = dict(FAST_MIRROR, **{"sync.group.offsets.enabled": True, "offset.lag.max": 10})
    mm = MirrorMaker(world, "east", "west", cfg)
    mm.start()
    p = east.producer()
    for i in range(200):
        p.produce("orders", key=f"k{i % 7}", value=f"order-{i}")
        if i % 5 == 4:  # a steady flow: MirrorMaker sends an offset sync every offset.lag.max records
            p.flush()
            world.run_for(100)
    p.flush()
    world.run_for(5000)
    # the billing group reads 120 records on east and commits
    c = east.consumer({"group.id": "billing", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["orders"])
    seen: list[bytes] = []
    while len(seen) < 120:
        seen += [m.value() for m in c.consume(10, timeout=1.0) if m.error() is None]
    c.commit(asynchronous=False)
    committed = {(t, q): off for (t, q), off in east.describe_group("billing").offsets.items()}
    c.close()
    world.run_for(10_000)
    synced = west.describe_group("billing").offsets
    assert set(synced) == {("east.orders", 0), ("east.orders", 1)}
    for (_t, q), up in committed.items():
        down = synced[("east.orders", q)]
        assert 0 < down <= up, f"partition {q}: upstream {up} translated to {down}"
        assert up - down <= 11  # at most offset.lag.max (+1) records are read again
    # east fails: the same group consumes the mirrored topic on west, from the translated offsets
    w = west.consumer({"group.id": "billing", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    w.subscribe(["east.orders"])
    got: dict[int, list[int]] = {0: [], 1: []}
    while sum(map(len, got.values())) < 200 - sum(synced.values()):
        for m in w.consume(50, timeout=1.0):
            if m.error() is None:
                got[m.partition()].append(m.offset())
    ends = {pi.partition: pi.high_watermark for pi in west.describe_topic("east.orders")}
    for q in (0, 1):
        start = synced[("east.orders", q)]
        assert got[q][:1] == ([start] if start < ends[q] else []), (
            "the group did not resume at its checkpoint"
        )
    assert any(got.values())
    # nothing after the committed offsets is skipped: every record the group had not read comes again
    reread = {v for q in (0, 1) for v in values(west, "east.orders")[q][synced[("east.orders", q)] :]}
    assert {f"order-{i}".encode() for i in range(200)} - set(seen) <= reread
    cps = [
        Checkpoint.decode(k, v)
        for recs in west.read_all("east.checkpoints.internal").values()
        for _o, k, v in recs
    ]
    assert {(cp.group, cp.topic) for cp in cps} == {("billing", "east.orders")}


def test_topic_configs_and_new_topics_follow(world: World) -> None:
    east, west = world["east"], world["west"]
    east.create_topic("audit", partitions=2, config={"retention.ms": 3_600_000, "cleanup.policy": "compact"})
    mm = MirrorMaker(world, "east", "west", FAST_MIRROR)
    mm.start()
    world.run_for(3000)
    assert len(west.describe_topic("east.audit")) == 2
    assert west.topic_configs("east.audit")["retention.ms"] == "3600000"
    assert west.topic_configs("east.audit")["cleanup.policy"] == "compact"
    east.alter_topic_config("audit", {"retention.ms": 7_200_000, "min.insync.replicas": 1})
    east.create_topic("later", partitions=1)
    world.run_for(5000)
    assert west.topic_configs("east.audit")["retention.ms"] == "7200000"
    assert "east.later" in west.topics()
    east.create_partitions("audit", 4)
    world.run_for(5000)
    assert len(west.describe_topic("east.audit")) == 4


def test_restarted_mirror_maker_resumes_from_its_offsets_topic(world: World) -> None:
    east, west = world["east"], world["west"]
    east.create_topic("orders", partitions=1)
    mm = MirrorMaker(world, "east", "west", FAST_MIRROR)
    mm.start()
    p = east.producer()
    for i in range(50):
        p.produce("orders", value=f"a{i}")
    p.flush()
    world.run_for(5000)  # two offset flushes
    mm.kill()
    for i in range(50):
        p.produce("orders", value=f"b{i}")
    p.flush()
    mm.start()
    world.run_for(8000)
    got = values(west, "east.orders")[0]
    assert got[:50] == [f"a{i}".encode() for i in range(50)] and got[-50:] == [
        f"b{i}".encode() for i in range(50)
    ]
    assert len(got) == 100  # flushed positions: nothing sent twice here


def test_names_formats_and_bad_settings() -> None:
    pol = DefaultReplicationPolicy()
    assert pol.format_remote_topic("east", "orders") == "east.orders"
    assert pol.upstream_topic("east.orders") == "orders" and pol.topic_source("east.orders") == "east"
    assert pol.offset_syncs_topic("west") == "mm2-offset-syncs.west.internal"
    assert pol.checkpoints_topic("east") == "east.checkpoints.internal"
    assert pol.is_internal_topic("__consumer_offsets") and pol.is_internal_topic("east.checkpoints.internal")
    sync = OffsetSync("orders", 2, 41, 40)
    assert sync.key() == b"\x00\x06orders\x00\x00\x00\x02"
    assert sync.value() == (41).to_bytes(8, "big") + (40).to_bytes(8, "big")
    assert OffsetSync.decode(sync.key(), sync.value()) == sync
    cp = Checkpoint("billing", "east.orders", 0, 41, 40, "")
    assert cp.value()[:2] == b"\x00\x00" and Checkpoint.decode(cp.key(), cp.value()) == cp
    hb = Heartbeat("west", "east", 123)
    assert Heartbeat.decode(hb.key(), hb.value()) == hb
    w = World({"east": 1, "west": 1}, seed=1, broker_config=dict(FAST_BROKER_CONFIG))
    with pytest.raises(MirrorMakerConfigError, match="Unknown MirrorMaker configuration 'colour'"):
        MirrorMaker(w, "east", "west", {"colour": "red"})
    with pytest.raises(MirrorMakerConfigError, match="Expected value to be either true or false"):
        MirrorMaker(w, "east", "west", {"sync.group.offsets.enabled": "yes"})
    with pytest.raises(MirrorMakerConfigError, match="must differ"):
        MirrorMaker(w, "east", "east")
    mm = MirrorMaker(w, "east", "west", FAST_MIRROR)
    assert mm.should_replicate("orders") and mm.should_replicate("heartbeats")
    assert not mm.should_replicate("west.orders")  # came from the target: a cycle
    assert not mm.should_replicate("__consumer_offsets") and not mm.should_replicate("x-internal")
    w.close()
