"""Retention and compaction on a running cluster: files on disk appear, roll and disappear."""

from __future__ import annotations

from kafkalab import OFFSET_BEGINNING, Cluster, TopicPartition

BROKER = {"log.retention.check.interval.ms": 1000, "log.cleaner.backoff.ms": 1000}


def segment_files(c: Cluster, broker: int, topic: str) -> list[str]:
    return sorted(p.name for p in c.brokers[broker].partition_dir(topic, 0).glob("*.log"))


def produce(c: Cluster, topic: str, items: list[tuple[bytes | None, bytes | None]]) -> None:
    p = c.producer({"linger.ms": 0})
    for k, v in items:
        p.produce(topic, key=k, value=v, partition=0)
        p.flush()


def test_segments_roll_and_retention_deletes_old_ones_on_every_replica() -> None:
    c = Cluster(3, seed=5, broker_config=BROKER)
    c.create_topic("t", 1, 3, {"segment.bytes": 600, "retention.ms": 20_000})
    produce(c, "t", [(None, b"x" * 100) for _ in range(20)])
    c.run_for(500)
    files = segment_files(c, 1, "t")
    assert len(files) >= 4 and files[0] == "00000000000000000000.log"
    assert all(segment_files(c, b, "t") == files for b in (2, 3))  # same offsets, same file names
    c.run_for(25_000)  # older than retention.ms: every segment goes, the active one too (Kafka rolls first)
    for b in (1, 2, 3):
        assert segment_files(c, b, "t") == ["00000000000000000020.log"]
    info = c.describe_topic("t")[0]
    assert info.log_start_offset == info.log_end_offset == 20
    assert any("deleted" in e.text and "retention" in e.text for e in c.timeline)
    # a consumer asking for offset 0 is out of range and auto.offset.reset=earliest moves it to log start
    con = c.consumer({"auto.offset.reset": "earliest"})
    con.assign([TopicPartition("t", 0, 0)])
    assert con.consume(100, timeout=2.0) == []
    assert con.position([TopicPartition("t", 0)])[0].offset == 20
    produce(c, "t", [(None, b"new")])
    msgs = con.consume(100, timeout=2.0)
    assert [m.offset() for m in msgs] == [20]


def test_compaction_keeps_the_latest_value_per_key_at_its_original_offset() -> None:
    c = Cluster(3, seed=6, broker_config=BROKER)
    c.create_topic(
        "k", 1, 3, {"cleanup.policy": "compact", "segment.bytes": 400, "min.cleanable.dirty.ratio": "0.01"}
    )
    items: list[tuple[bytes | None, bytes | None]] = []
    for round_ in range(6):
        for key in (b"a", b"b", b"c"):
            items.append((key, f"{key.decode()}{round_}".encode()))
    items.append((b"b", None))  # tombstone for b
    items += [(b"z", b"filler")] * 6  # roll past the interesting records so they are in closed segments
    produce(c, "k", items)
    latest = {b"a": 15, b"c": 17, b"b": 18}
    c.run_for(5_000)
    con = c.consumer({"auto.offset.reset": "earliest"})
    con.assign([TopicPartition("k", 0, OFFSET_BEGINNING)])
    got = []
    for _ in range(5):
        got += [(m.offset(), m.key(), m.value()) for m in con.consume(100, timeout=0.5)]
    by_key: dict[bytes | None, list[int]] = {}
    for off, key, _v in got:
        by_key.setdefault(key, []).append(off)
    assert by_key[b"a"] == [latest[b"a"]] and by_key[b"c"] == [latest[b"c"]]  # earlier duplicates gone
    assert (15, b"a", b"a5") in got and (17, b"c", b"c5") in got  # at their original offsets
    assert (18, b"b", None) in got  # the tombstone survives for delete.retention.ms
    offsets = [o for o, _k, _v in got]
    assert offsets != list(range(offsets[0], offsets[0] + len(offsets)))  # gaps are visible
    assert any("compacted k-0" in e.text for e in c.timeline)


def test_consumers_read_the_original_offsets_inside_a_compacted_batch() -> None:
    c = Cluster(3, seed=7, broker_config=BROKER)
    c.create_topic(
        "k", 1, 3, {"cleanup.policy": "compact", "segment.bytes": 300, "min.cleanable.dirty.ratio": "0.01"}
    )
    p = c.producer({"linger.ms": 50})
    for i in range(6):  # one batch: a0 b0 a1 b1 a2 b2 at offsets 0..5
        p.produce("k", key=b"ab"[i % 2 : i % 2 + 1], value=f"{'ab'[i % 2]}{i // 2}".encode(), partition=0)
    p.flush()
    produce(c, "k", [(b"z", b"filler")] * 6)  # roll, so the first batch is in a closed segment
    c.run_for(5_000)
    assert any("compacted k-0" in e.text for e in c.timeline)
    con = c.consumer({"auto.offset.reset": "earliest"})
    con.assign([TopicPartition("k", 0, OFFSET_BEGINNING)])
    got = []
    for _ in range(5):
        got += [(m.offset(), m.key(), m.value()) for m in con.consume(100, timeout=0.5)]
    assert (4, b"a", b"a2") in got and (5, b"b", b"b2") in got  # the survivors keep offsets 4 and 5
    assert all(o >= 4 for o, k, _v in got if k in (b"a", b"b"))


def test_a_killed_broker_leaves_every_appended_byte_in_its_files() -> None:
    """Appends are buffered like the OS page cache; a process crash must not lose what was written."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", 1, 3)
    produce(c, "t", [(None, b"x" * 100)] * 30)
    leader = c.describe_topic("t")[0].leader
    log = c.brokers[leader].partitions[("t", 0)].log
    expected = [(s.log_path, s.size_bytes) for s in log.segments_info()]
    produce(c, "t", [(None, b"y" * 100)] * 5)  # buffered, not yet flushed by anything
    expected_size = log.log_end_offset
    c.kill_broker(leader)
    on_disk = sum(path.stat().st_size for path, _ in expected)
    assert on_disk > sum(size for _, size in expected)
    c.restart_broker(leader)
    c.run_for(5_000)
    assert c.brokers[leader].partitions[("t", 0)].log.log_end_offset == expected_size == 35
    c.close()
