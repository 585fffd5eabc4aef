"""Consumer groups: rebalances, ownership, offsets, failure of members and of the coordinator."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from kafkalab import Cluster, KafkaException, TopicPartition
from kafkalab.checker import check
from kafkalab.sim.clients.consumer import Consumer
from kafkalab.sim.group import CONSUMER_OFFSETS, decode_offsets_record
from kafkalab.sim.history import Op

FAST = {"offsets.topic.num.partitions": 5, "group.initial.rebalance.delay.ms": 0}


def make(seed: int = 3, partitions: int = 3, records: int = 60) -> Cluster:
    c = Cluster(3, seed=seed, check_invariants=True, broker_config=FAST)
    c.create_topic("t", partitions, 3)
    p = c.producer()
    for i in range(records):
        p.produce("t", key=f"k{i}", value=f"v{i}")
    p.flush()
    return c


def group_consumer(c: Cluster, strategy: str = "range", **cfg: Any) -> Consumer:
    conf = {
        "group.id": "g",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": strategy,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 1000,
    }
    conf.update(cfg)
    cons = c.consumer(conf)
    cons.subscribe(["t"])
    return cons


def poll_all(consumers: list[Consumer], rounds: int = 10, timeout: float = 0.5) -> int:
    n = 0
    for _ in range(rounds):
        for con in consumers:
            if not con.closed:
                n += len(con.consume(100, timeout=timeout))
    return n


def owned(con: Consumer) -> set[tuple[str, int]]:
    return {(tp.topic, tp.partition) for tp in con.assignment()}


class OwnershipWatch:
    """After every simulation event: no partition is owned by two live consumers at once."""

    def __init__(self, cluster: Cluster, consumers: list[Consumer]) -> None:
        self.consumers = consumers
        self.violations: list[str] = []
        cluster.kernel.observers.append(self)

    def __call__(self, _ev: Any) -> None:
        seen: dict[tuple[str, int], str] = {}
        for con in self.consumers:
            if con.closed or not con.alive:
                continue
            for tp in owned(con):
                if tp in seen:
                    self.violations.append(f"{tp} owned by {seen[tp]} and {con.name}")
                seen[tp] = con.name


@pytest.mark.parametrize("strategy", ["range", "roundrobin", "sticky", "cooperative-sticky"])
def test_every_partition_has_exactly_one_owner_after_each_rebalance(strategy: str) -> None:
    c = make(partitions=6)
    cons = [group_consumer(c, strategy) for _ in range(2)]
    watch = OwnershipWatch(c, cons)
    poll_all(cons)
    cons.append(group_consumer(c, strategy))
    watch.consumers = cons
    poll_all(cons, rounds=15)
    d = c.describe_group("g")
    assert d.state == "Stable" and len(d.members) == 3
    owners = [tp for con in cons for tp in owned(con)]
    assert sorted(owners) == [("t", p) for p in range(6)]
    assert watch.violations == []
    cons[0].close()
    poll_all(cons[1:], rounds=15)
    owners = [tp for con in cons[1:] for tp in owned(con)]
    assert sorted(owners) == [("t", p) for p in range(6)]
    assert watch.violations == []


def test_a_fourth_consumer_on_three_partitions_is_idle() -> None:
    c = make(partitions=3)
    cons = [group_consumer(c) for _ in range(4)]
    poll_all(cons, rounds=15)
    d = c.describe_group("g")
    assert d.state == "Stable" and len(d.members) == 4
    sizes = sorted(len(m.assignment) for m in d.members)
    assert sizes == [0, 1, 1, 1]
    assert sum(1 for con in cons if not owned(con)) == 1


def test_a_crashed_member_loses_its_partitions_after_session_timeout() -> None:
    c = make(partitions=4)
    a, b = group_consumer(c), group_consumer(c)
    poll_all([a, b])
    assert owned(a) and owned(b)
    lost = owned(b)
    gen = c.describe_group("g").generation
    c.crash_client(b.name)
    for _ in range(8):  # 8 s of polling by a: still within b's session.timeout.ms (10 s)
        a.consume(100, timeout=1.0)
    assert c.describe_group("g").generation == gen and not lost & owned(a)
    for _ in range(8):
        a.consume(100, timeout=1.0)
    d = c.describe_group("g")
    assert d.generation > gen and len(d.members) == 1
    assert owned(a) == {("t", p) for p in range(4)}
    assert any("session timeout" in e.text for e in c.timeline)


def test_cooperative_sticky_never_revokes_partitions_that_do_not_move() -> None:
    c = make(partitions=6)
    revoked: dict[str, list[tuple[str, int]]] = {}

    def join(con: Consumer) -> None:
        con.subscribe(
            ["t"],
            on_revoke=lambda cc, ps: revoked.setdefault(cc.name, []).extend(
                (tp.topic, tp.partition) for tp in ps
            ),
        )

    a, b = group_consumer(c, "cooperative-sticky"), group_consumer(c, "cooperative-sticky")
    join(a)
    join(b)
    poll_all([a, b], rounds=15)
    before = {a.name: owned(a), b.name: owned(b)}
    assert len(before[a.name]) == len(before[b.name]) == 3
    revoked.clear()
    third = group_consumer(c, "cooperative-sticky")
    join(third)
    watch = OwnershipWatch(c, [a, b, third])
    poll_all([a, b, third], rounds=20)
    after = {con.name: owned(con) for con in (a, b, third)}
    assert sorted(tp for s in after.values() for tp in s) == [("t", p) for p in range(6)]
    assert len(after[third.name]) == 2
    for name in (a.name, b.name):
        kept = before[name] & after[name]
        assert len(kept) == 2
        # only the partition that moved was ever revoked: no stop-the-world
        assert set(revoked.get(name, [])) == before[name] - after[name]
    assert watch.violations == []
    assert c.describe_group("g").protocol == "cooperative-sticky"


def test_eager_protocol_revokes_everything_on_rebalance() -> None:
    c = make(partitions=4)
    revoked: list[str] = []
    a = group_consumer(c, "range")
    a.subscribe(["t"], on_revoke=lambda cc, ps: revoked.extend(f"{tp.topic}-{tp.partition}" for tp in ps))
    poll_all([a])
    b = group_consumer(c, "range")
    poll_all([a, b], rounds=15)
    assert sorted(revoked) == ["t-0", "t-1", "t-2", "t-3"]


def run_crash_mid_batch(commit_before_processing: bool) -> dict[str, int]:
    c = make(partitions=1, records=40)
    h = c.history
    a = group_consumer(c, **{"enable.auto.commit": False})
    batch: list[Any] = []
    while not batch:
        batch = a.consume(20, timeout=1.0)
    if commit_before_processing:
        a.commit(asynchronous=False)  # at-most-once
    for m in batch[:10]:  # process half the batch, then the process dies
        h.append(
            Op(
                c.now_ms,
                "process",
                a.name,
                m.topic(),
                m.partition(),
                m.offset(),
                m.key(),
                m.value(),
                None,
                "g",
            )
        )
    c.crash_client(a.name)
    b = group_consumer(c, **{"enable.auto.commit": False})
    seen = 0
    while seen < 40 and c.now_ms < 120_000:
        for m in b.consume(50, timeout=1.0):
            h.append(
                Op(
                    c.now_ms,
                    "process",
                    b.name,
                    m.topic(),
                    m.partition(),
                    m.offset(),
                    m.key(),
                    m.value(),
                    None,
                    "g",
                )
            )
            seen = max(seen, m.offset() + 1)
        b.commit(asynchronous=False) if b.assignment() and b.position(b.assignment())[0].offset > 0 else None
    g = check(h).groups["g"]
    return {"missing": g.missing_count, "redelivered": g.redelivered_count}


def test_commit_before_processing_loses_records_when_the_consumer_crashes() -> None:
    assert run_crash_mid_batch(commit_before_processing=True) == {"missing": 10, "redelivered": 0}


def test_commit_after_processing_duplicates_records_when_the_consumer_crashes() -> None:
    assert run_crash_mid_batch(commit_before_processing=False) == {"missing": 0, "redelivered": 10}


def test_committed_offsets_are_records_in_the_compacted_offsets_topic() -> None:
    c = make(partitions=2)
    a = group_consumer(c, **{"enable.auto.commit": False})
    poll_all([a])
    a.commit(asynchronous=False)
    committed = a.committed([TopicPartition("t", 0), TopicPartition("t", 1)])
    assert sum(tp.offset for tp in committed) == 60
    assert c.topic_configs(CONSUMER_OFFSETS)["cleanup.policy"] == "compact"
    records = [
        decode_offsets_record(k, v) for part in c.read_all(CONSUMER_OFFSETS).values() for _o, k, v in part
    ]
    commits = {(r["topic"], r["partition"]): r["offset"] for r in records if r["type"] == "offset_commit"}
    assert commits == {("t", 0): committed[0].offset, ("t", 1): committed[1].offset}
    assert any(r["type"] == "group_metadata" and r["group"] == "g" for r in records)
    d = c.describe_group("g")
    assert d.offsets == commits and all(v == 0 for v in d.lag.values())


def test_auto_commit_commits_positions_every_interval() -> None:
    c = make(partitions=1)
    a = group_consumer(c, **{"enable.auto.commit": True, "auto.commit.interval.ms": 1000})
    for _ in range(5):
        a.consume(100, timeout=1.0)
    assert c.describe_group("g").offsets == {("t", 0): 60}


def test_reset_offsets_is_refused_while_the_group_is_active_and_works_when_empty() -> None:
    c = make(partitions=1)
    a = group_consumer(c, **{"enable.auto.commit": False})
    poll_all([a])
    a.commit(asynchronous=False)
    with pytest.raises(KafkaException, match="current state is Stable"):
        c.reset_offsets("g", {("t", 0): 0})
    a.close()
    c.run_for(1000)
    assert c.describe_group("g").state == "Empty"
    c.reset_offsets("g", {("t", 0): 5})
    assert c.describe_group("g").offsets == {("t", 0): 5}
    b = group_consumer(c)
    first = []
    while not first:
        first = b.consume(1, timeout=1.0)
    assert first[0].offset() == 5


def test_the_group_survives_the_coordinator_broker_being_killed() -> None:
    c = make(partitions=3)
    cons = [group_consumer(c, **{"enable.auto.commit": False}) for _ in range(2)]
    poll_all(cons)
    for con in cons:
        con.commit(asynchronous=False)
    before = c.describe_group("g")
    coordinator = before.coordinator
    c.kill_broker(coordinator)
    poll_all(cons, rounds=20, timeout=1.0)
    after = c.describe_group("g")
    assert after.coordinator != coordinator
    assert after.state == "Stable" and len(after.members) == 2
    assert after.offsets == before.offsets
    p = c.producer()
    p.produce("t", key=b"late", value=b"after-failover")
    p.flush()
    values = [m.value() for _ in range(10) for con in cons for m in con.consume(100, timeout=0.5)]
    assert b"after-failover" in values


def test_static_member_restart_within_session_timeout_causes_no_rebalance() -> None:
    c = make(partitions=2)
    a = group_consumer(c, **{"group.instance.id": "worker-a"})
    b = group_consumer(c, **{"group.instance.id": "worker-b"})
    poll_all([a, b])
    gen = c.describe_group("g").generation
    mine = owned(a)
    c.crash_client(a.name)
    a2 = group_consumer(c, **{"group.instance.id": "worker-a"})
    poll_all([a2, b], rounds=5)
    assert c.describe_group("g").generation == gen
    assert owned(a2) == mine


def test_a_consumer_that_stops_polling_leaves_after_max_poll_interval() -> None:
    c = make(partitions=2)
    a = group_consumer(c, **{"max.poll.interval.ms": 5000})
    b = group_consumer(c, **{"max.poll.interval.ms": 5000})
    poll_all([a, b])
    for _ in range(10):  # only b polls: a is "stuck processing"
        b.consume(100, timeout=1.0)
    d = c.describe_group("g")
    assert len(d.members) == 1 and owned(b) == {("t", 0), ("t", 1)}
    assert any("max.poll.interval.ms" in e.text for e in c.timeline)


def test_a_member_that_dies_during_coordinator_failover_is_still_expired() -> None:
    c = make(partitions=2)
    a, b = group_consumer(c), group_consumer(c)
    poll_all([a, b])
    coordinator = c.describe_group("g").coordinator
    c.kill_broker(coordinator)
    c.crash_client(b.name)  # b dies while the group moves to a new coordinator
    for _ in range(30):
        a.consume(100, timeout=1.0)
    d = c.describe_group("g")
    assert d.coordinator != coordinator
    assert d.state == "Stable" and [m.client_id for m in d.members] == [a.name]
    assert owned(a) == {("t", 0), ("t", 1)}


def process_then_commit(c: Cluster, con: Consumer, max_records: int, timeout: float) -> None:
    """At-least-once: record each polled record as processed, then commit (a failed commit only means
    the records are processed again)."""
    for m in con.consume(max_records, timeout=timeout):
        c.history.append(
            Op(
                c.now_ms,
                "process",
                con.name,
                m.topic(),
                m.partition(),
                m.offset(),
                m.key(),
                m.value(),
                None,
                "g",
            )
        )
    with contextlib.suppress(KafkaException):
        con.commit(asynchronous=False)


@pytest.mark.parametrize("seed", range(8))
def test_at_least_once_group_misses_nothing_through_broker_and_member_failures(seed: int) -> None:
    """Seeded faults: brokers die and come back, members crash and are replaced; commit-after-processing
    still processes every record at least once (the checker finds no missing delivery)."""
    import random

    c = make(seed=seed, partitions=3, records=0)
    rng = random.Random(seed)
    h = c.history
    p = c.producer()
    members = [group_consumer(c, **{"enable.auto.commit": False}) for _ in range(2)]
    down: int | None = None
    for r in range(40):
        for i in range(3):
            p.produce("t", key=f"k{r}-{i}", value=f"v{r}-{i}")
        for con in list(members):
            process_then_commit(c, con, 50, 0.2)
        roll = rng.random()
        if roll < 0.1:
            victim = members.pop(rng.randrange(len(members)))
            c.crash_client(victim.name)
            members.append(group_consumer(c, **{"enable.auto.commit": False}))
        elif roll < 0.2 and down is None:
            down = rng.choice([1, 2, 3])
            c.kill_broker(down)
        elif roll < 0.3 and down is not None:
            c.restart_broker(down)
            down = None
    if down is not None:
        c.restart_broker(down)
    p.flush(120)
    for _ in range(60):
        for con in members:
            process_then_commit(c, con, 200, 0.5)
    result = check(h)
    assert result.summary()["acked"] == 120
    assert result.groups["g"].missing_count == 0
    assert result.summary()["lost"] == 0
