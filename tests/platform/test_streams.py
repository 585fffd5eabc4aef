"""Kafka Streams: names and describe() as Kafka's, tasks through the group, changelogs, EOS under kills."""

from __future__ import annotations

import collections
import os
import random
from typing import Any

import pytest

from kafkalab.platform.streams import (
    Grouped,
    KafkaStreams,
    Materialized,
    Produced,
    Serdes,
    StreamsBuilder,
    StreamsConfigError,
    TimeWindows,
    TopologyException,
)

from .helpers import last_values, small_cluster

WORDCOUNT_DESCRIBE = """Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> KSTREAM-FILTER-0000000006
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FILTER-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)
      <-- KSTREAM-FILTER-0000000006

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])
      --> KSTREAM-AGGREGATE-0000000004
    Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-SOURCE-0000000007
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KSTREAM-AGGREGATE-0000000004
    Sink: KSTREAM-SINK-0000000009 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000008

"""

LONG = Produced.with_(Serdes.String(), Serdes.Long())


def word_count(src: str = "lines", dst: str = "counts", materialized: Materialized | None = None) -> Any:
    b = StreamsBuilder()
    words = b.stream(src).flat_map_values(lambda line: line.lower().split())
    counts = words.group_by(lambda _k, w: w).count(materialized=materialized)
    counts.to_stream().to(dst, LONG)
    return b.build()


def decode_long(v: bytes) -> int:
    return int.from_bytes(v, "big", signed=True)


def test_word_count_describe_is_kafkas_text() -> None:
    topo = word_count("streams-plaintext-input", "streams-wordcount-output")
    assert str(topo.describe()) == WORDCOUNT_DESCRIBE


def test_user_names_replace_generated_ones_as_in_kafka() -> None:
    topo = word_count(materialized=Materialized.as_("counts-store"))
    text = str(topo.describe())
    # a named store names the repartition topic and its nodes; no name is burnt for count(Materialized)
    assert "Sink: counts-store-repartition-sink (topic: counts-store-repartition)" in text
    assert "Source: counts-store-repartition-source (topics: [counts-store-repartition])" in text
    assert "Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])" in text
    b = StreamsBuilder()
    b.stream("in").group_by(lambda _k, v: v, Grouped.as_("by-value")).count().to_stream().to("out", LONG)
    text = str(b.build().describe())
    assert "Processor: by-value (stores: [])" in text
    assert "(topic: by-value-repartition)" in text
    # count(Materialized without a name) burns one index, as Kafka keeps doing for compatibility
    b = StreamsBuilder()
    b.stream("in").group_by_key().count(materialized=Materialized.with_(None, None)).to_stream().to(
        "out", LONG
    )
    assert "KSTREAM-AGGREGATE-STATE-STORE-0000000002" in str(b.build().describe())


def test_stream_table_join_shares_one_subtopology() -> None:
    b = StreamsBuilder()
    users = b.table("users")
    b.stream("clicks").join(users, lambda c, u: f"{c}:{u}").to("out")
    desc = b.build().describe()
    assert len(desc.subtopologies) == 1
    text = str(desc)
    assert "Processor: KSTREAM-JOIN-0000000004 (stores: [users-STATE-STORE-0000000000])" in text
    assert "Processor: KTABLE-SOURCE-0000000002 (stores: [users-STATE-STORE-0000000000])" in text


def test_internal_topics_are_named_and_configured_as_kafka_streams_does() -> None:
    c = small_cluster(1)
    c.create_topic("lines", partitions=3)
    c.create_topic("counts", partitions=3)
    app = KafkaStreams(word_count(), {"application.id": "wc"}, c)
    app.start()
    rep = "wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition"
    log = "wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog"
    assert {rep, log} <= set(c.topics())
    assert len(c.describe_topic(rep)) == 3 and len(c.describe_topic(log)) == 3
    assert c.topic_configs(rep)["cleanup.policy"] == "delete"
    assert c.topic_configs(rep)["retention.ms"] == "-1"
    assert c.topic_configs(log)["cleanup.policy"] == "compact"
    c.run_until(lambda: app.state == "RUNNING", 30_000)
    # one task per input partition of each sub-topology, assigned through the consumer group
    assert sorted(str(t.id) for t in app.active_tasks()) == ["0_0", "0_1", "0_2", "1_0", "1_1", "1_2"]
    group = c.describe_group("wc")
    assert group.state == "Stable" and len(group.members) == 1
    c.close()


def _schedule(seed: int, guarantee: str, n_lines: int = 25) -> tuple[dict[str, int], dict[str, int]]:
    """Two instances count words; one is killed at a random event, a new one starts a random time later."""
    r = random.Random(seed)
    c = small_cluster(seed)
    c.create_topic("lines", partitions=2)
    c.create_topic("counts", partitions=2)
    topo = word_count()
    cfg = {
        "application.id": "wc",
        "processing.guarantee": guarantee,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 2000,
        "transaction.timeout.ms": 3000,
        "commit.interval.ms": 1000,
    }
    apps = [KafkaStreams(topo, cfg, c) for _ in range(2)]
    for a in apps:
        a.start()
    c.run_until(lambda: all(a.state == "RUNNING" for a in apps), 20_000)
    p = c.producer({"linger.ms": 0})
    expected: collections.Counter[str] = collections.Counter()
    kill_at = c.now_ms + r.randrange(0, n_lines * 100)
    killed = False
    for i in range(n_lines):
        words = [r.choice("abcde") for _ in range(3)]
        expected.update(words)
        p.produce("lines", key=str(i), value=" ".join(words))
        p.flush()
        c.run_for(100)
        if not killed and c.now_ms >= kill_at:
            for _ in range(r.randrange(0, 60)):  # land anywhere: mid-commit, mid-transaction, mid-restore
                c.step()
            apps[r.randrange(2)].kill()
            killed = True
            c.run_for(r.randrange(0, 3000))
            apps.append(KafkaStreams(topo, cfg, c))
            apps[-1].start()
    assert killed
    # the dead member's session (6 s) and its open transaction (3 s) expire, its tasks move and catch up
    c.run_for(10_000)
    got = last_values(c, "counts", decode_long)
    c.close()
    return got, dict(expected)


SEEDS = int(os.environ.get("KAFKALAB_STREAMS_SEEDS", "50"))


def test_word_count_is_exact_under_exactly_once_v2_with_an_instance_killed() -> None:
    wrong = {}
    for seed in range(SEEDS):
        got, expected = _schedule(seed, "exactly_once_v2")
        if got != expected:
            wrong[seed] = {k: got.get(k, 0) - n for k, n in expected.items() if got.get(k, 0) != n}
    assert wrong == {}, f"exactly_once_v2 counted wrongly in {len(wrong)} of {SEEDS} schedules: {wrong}"


def test_at_least_once_over_counts_in_the_same_schedules() -> None:
    for seed in range(SEEDS):
        got, expected = _schedule(seed, "at_least_once")
        assert all(got.get(k, 0) >= n for k, n in expected.items()), (
            f"seed {seed} lost counts: {got} {expected}"
        )
        if got != expected:
            return  # found a schedule where at_least_once counted a word twice
    pytest.fail(f"at_least_once never over-counted in {SEEDS} schedules")


def test_at_least_once_commits_idle_tasks_so_a_later_kill_counts_nothing_again() -> None:
    """StreamThread.maybeCommit runs on every loop: records processed before an idle spell longer than
    commit.interval.ms are committed, so a kill -9 after it re-processes (and over-counts) nothing."""
    c = small_cluster(5)
    c.create_topic("lines", partitions=1)
    c.create_topic("counts", partitions=1)
    topo = word_count()
    cfg = {
        "application.id": "wc",
        "processing.guarantee": "at_least_once",
        "session.timeout.ms": 6000,
        "commit.interval.ms": 1000,
    }
    a = KafkaStreams(topo, cfg, c)
    a.start()
    c.run_until(lambda: a.state == "RUNNING", 20_000)
    p = c.producer({"linger.ms": 0})
    p.produce("lines", key="1", value="the cat and the dog")
    p.flush()
    c.run_until(lambda: last_values(c, "counts", decode_long).get("the") == 2, 10_000)
    c.run_for(3000)  # idle, longer than commit.interval.ms
    a.kill()
    b = KafkaStreams(topo, cfg, c)
    b.start()
    c.run_for(15_000)  # the dead member's session expires; b restores the store and takes the tasks
    assert b.state == "RUNNING" and b.active_tasks()
    assert last_values(c, "counts", decode_long) == {"the": 2, "cat": 1, "and": 1, "dog": 1}
    c.close()


def _store_snapshot(app: KafkaStreams, store: str) -> dict[str, dict[bytes, bytes]]:
    return {str(t.id): t.stores[store].snapshot() for t in app.active_tasks() if store in t.stores}


@pytest.mark.parametrize("standbys", [0, 1])
def test_a_moved_task_restores_its_store_from_the_changelog(standbys: int) -> None:
    c = small_cluster(7)
    c.create_topic("lines", partitions=2)
    c.create_topic("counts", partitions=2)
    topo = word_count(materialized=Materialized.as_("counts"))
    cfg = {
        "application.id": "wc",
        "processing.guarantee": "exactly_once_v2",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 2000,
        "num.standby.replicas": standbys,
    }
    a, b = KafkaStreams(topo, cfg, c), KafkaStreams(topo, cfg, c)
    a.start()
    b.start()
    p = c.producer()
    for i in range(60):
        p.produce("lines", key=str(i), value=f"w{i % 7} w{i % 3} x")
    p.flush()
    c.run_until(lambda: a.state == b.state == "RUNNING" and bool(_store_snapshot(a, "counts")), 30_000)
    c.run_for(3000)
    before = _store_snapshot(a, "counts")
    assert before and all(before.values())
    if standbys:
        # b keeps a standby copy of a's stateful tasks, equal to the active store
        copies = {str(s.id): s.stores["counts"].snapshot() for s in b.standby_tasks()}
        assert copies == before
    restored_before = b.thread.restored_records if b.thread else 0
    a.kill()
    c.run_until(lambda: set(before) <= {str(t.id) for t in b.active_tasks()} and b.state == "RUNNING", 60_000)
    after = _store_snapshot(b, "counts")
    for tid, snap in before.items():
        assert after[tid] == snap, f"task {tid}: restored store differs from the store before the crash"
    read = (b.thread.restored_records if b.thread else 0) - restored_before
    if standbys:
        assert read == 0, "a caught-up standby needs no restoration"
    else:
        assert read >= sum(len(s) for s in before.values())
    assert c.topic_configs("wc-counts-changelog")["cleanup.policy"] == "compact"
    c.close()


def test_hopping_window_counts_match_a_brute_force_count() -> None:
    c = small_cluster(3)
    c.create_topic("clicks", partitions=2)
    c.create_topic("per-window", partitions=2)
    b = StreamsBuilder()
    w = TimeWindows.of_size_and_grace(1000, 500).advance_by(500)
    b.stream("clicks").group_by_key().windowed_by(w).count().to_stream().map(
        lambda k, v: (f"{k.key}@{k.window.start_ms}", str(v))
    ).to("per-window")
    app = KafkaStreams(b.build(), {"application.id": "win", "processing.guarantee": "exactly_once_v2"}, c)
    app.start()
    r = random.Random(3)
    p = c.producer()
    expected: collections.Counter[str] = collections.Counter()
    ts = 1000
    for _ in range(80):
        ts += r.randrange(0, 120)
        user = r.choice(["ann", "bob", "cyd"])
        p.produce("clicks", key=user, value="click", timestamp=ts)
        for start in w.windows_for(ts):
            expected[f"{user}@{start}"] += 1
    p.flush()
    c.run_for(8000)
    got = {k: int(v) for k, v in last_values(c, "per-window").items()}
    assert got == dict(expected)
    c.close()


def test_late_records_are_dropped_after_the_grace_period() -> None:
    c = small_cluster(4)
    c.create_topic("clicks", partitions=1)
    c.create_topic("out", partitions=1)
    b = StreamsBuilder()
    counts = b.stream("clicks").group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(1000)).count()
    counts.to_stream().map(lambda k, v: (f"{k.key}@{k.window.start_ms}", str(v))).to("out")
    app = KafkaStreams(b.build(), {"application.id": "late"}, c)
    app.start()
    p = c.producer()
    for ts in (1100, 1500, 2300, 1900):  # 1900 arrives after stream time 2300 closed [1000, 2000)
        p.produce("clicks", key="k", value="x", timestamp=ts)
    p.flush()
    c.run_for(6000)
    assert last_values(c, "out") == {"k@1000": b"2", "k@2000": b"1"}
    task = app.active_tasks()[0]
    assert task.dropped_records == 1 and "expired window" in task.last_drop
    c.close()


def test_stream_table_join_reads_the_tables_current_value() -> None:
    c = small_cluster(5)
    for t in ("clicks", "users", "out"):
        c.create_topic(t, partitions=2)
    b = StreamsBuilder()
    users = b.table("users")
    b.stream("clicks").left_join(users, lambda click, name: f"{click} by {name}").to("out")
    app = KafkaStreams(b.build(), {"application.id": "enrich"}, c)
    p = c.producer()
    p.produce("users", key="u1", value="alice", timestamp=1000)
    p.flush()
    app.start()
    c.run_until(lambda: app.state == "RUNNING", 30_000)
    c.run_for(1000)
    p.produce("clicks", key="u1", value="c1", timestamp=2000)
    p.produce("clicks", key="u2", value="c2", timestamp=2001)
    p.flush()
    c.run_for(2000)
    p.produce("users", key="u2", value="bob", timestamp=3000)
    p.flush()
    c.run_for(2000)
    p.produce("clicks", key="u2", value="c3", timestamp=4000)
    p.flush()
    c.run_for(3000)
    values = sorted(v.decode() for recs in c.read_all("out").values() for _o, _k, v in recs)
    assert values == ["c1 by alice", "c2 by None", "c3 by bob"]
    c.close()


def test_configuration_and_topology_errors_are_kafkas() -> None:
    c = small_cluster(6)
    c.create_topic("a", partitions=2)
    c.create_topic("b", partitions=3)
    topo = word_count("a", "counts")
    with pytest.raises(StreamsConfigError, match='Missing required configuration "application.id"'):
        KafkaStreams(topo, {}, c)
    with pytest.raises(
        StreamsConfigError, match="Invalid value exactly_once for configuration processing.guarantee"
    ):
        KafkaStreams(topo, {"application.id": "x", "processing.guarantee": "exactly_once"}, c)
    with pytest.raises(TopologyException, match=r"Missing source topic\(s\) \['nope'\]"):
        KafkaStreams(word_count("nope", "counts"), {"application.id": "x"}, c).start()
    jb = StreamsBuilder()
    jb.stream("a").join(jb.table("b"), lambda x, y: x).to("out")
    with pytest.raises(TopologyException, match="Topics not co-partitioned"):
        KafkaStreams(jb.build(), {"application.id": "j"}, c).start()
    with pytest.raises(ValueError, match="Window size"):
        TimeWindows.of_size_with_no_grace(0)
    c.close()
