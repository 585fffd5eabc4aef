"""Transactions and exactly-once: markers, LSO, read_committed, fencing, timeouts, a crash-proof copier."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from kafkalab import OFFSET_BEGINNING, Cluster, KafkaException, TopicPartition
from kafkalab.checker import check
from kafkalab.sim.workloads import Copier

CFG = {
    "offsets.topic.num.partitions": 3,
    "transaction.state.log.num.partitions": 3,
    "group.initial.rebalance.delay.ms": 0,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
}


def make(seed: int = 1) -> Cluster:
    c = Cluster(3, seed=seed, check_invariants=True, broker_config=CFG)
    c.create_topic("out", 1, 3, {"min.insync.replicas": 2})
    return c


def read(c: Cluster, isolation: str) -> list[bytes | None]:
    con = c.consumer({"isolation.level": isolation})
    con.assign([TopicPartition("out", 0, OFFSET_BEGINNING)])
    got: list[bytes | None] = []
    for _ in range(5):
        got += [m.value() for m in con.consume(100, timeout=0.5)]
    return got


def leader_partition(c: Cluster):  # type: ignore[no-untyped-def]
    info = c.describe_topic("out")[0]
    return c.brokers[info.leader].partitions[("out", 0)]


def test_read_committed_sees_committed_records_only_and_stops_at_the_lso() -> None:
    c = make()
    p = c.producer({"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    for i in range(3):
        p.produce("out", value=f"committed-{i}")
    p.commit_transaction()
    p.begin_transaction()
    for i in range(3):
        p.produce("out", value=f"aborted-{i}")
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    p.produce("out", value=b"open")
    p.flush()
    part = leader_partition(c)
    # 3 committed + COMMIT marker + 3 aborted + ABORT marker = 8 offsets; the open transaction starts at 8
    assert part.last_stable_offset() == 8 and part.log.high_watermark == 9
    assert read(c, "read_committed") == [b"committed-0", b"committed-1", b"committed-2"]
    uncommitted = read(c, "read_uncommitted")
    assert uncommitted[:3] == [b"committed-0", b"committed-1", b"committed-2"]
    assert (
        b"aborted-0" in uncommitted and b"open" in uncommitted and len(uncommitted) == 7
    )  # no control records
    p.commit_transaction()
    c.run_for(500)
    assert read(c, "read_committed")[-1] == b"open"
    r = check(c.history)
    assert {op.value for op in c.history if op.type == "ack"} == {
        b"committed-0",
        b"committed-1",
        b"committed-2",
        b"open",
    }
    assert r.summary()["duplicates"] == 0


def test_a_fenced_producer_gets_an_error_and_cannot_write() -> None:
    c = make()
    old = c.producer({"transactional.id": "t1"})
    old.init_transactions()
    old.begin_transaction()
    old.produce("out", value=b"before-fence")
    old.flush()
    new = c.producer({"transactional.id": "t1"})
    new.init_transactions()  # bumps the epoch, aborts the old open transaction
    assert new.producer_epoch > old.producer_epoch
    errors: list[str] = []
    old.produce("out", value=b"zombie", on_delivery=lambda e, m: errors.append(e.name() if e else "ok"))
    old.flush()
    assert errors == ["INVALID_PRODUCER_EPOCH"]
    with pytest.raises(KafkaException) as info:
        old.commit_transaction()
    assert info.value.error.fatal() and "fenced" in info.value.error.str()
    with pytest.raises(KafkaException):
        old.begin_transaction()
    values = read(c, "read_uncommitted")
    assert b"zombie" not in values
    assert b"before-fence" not in read(c, "read_committed")


def test_an_open_transaction_is_aborted_after_transaction_timeout() -> None:
    c = make()
    p = c.producer({"transactional.id": "slow", "transaction.timeout.ms": 3000})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"never-committed")
    p.flush()
    assert leader_partition(c).ongoing_txns
    c.run_for(6000)
    assert not leader_partition(c).ongoing_txns
    assert read(c, "read_committed") == []
    with pytest.raises(KafkaException):
        p.commit_transaction()  # its epoch was bumped by the aborting coordinator


def run_eos_copy(
    seed: int, records: int = 60, mode: str = "exactly_once"
) -> tuple[Counter[bytes | None], Copier]:
    c = Cluster(3, seed=seed, check_invariants=True, broker_config=CFG)
    c.create_topic("A", 2, 3, {"min.insync.replicas": 2})
    c.create_topic("B", 2, 3, {"min.insync.replicas": 2})
    src = c.producer()
    for i in range(records):
        src.produce("A", key=f"k{i % 7}", value=f"a-{i}")
    src.flush()
    copier = Copier(c, "A", "B", mode, batch=7, transform=lambda v: (v or b"").replace(b"a-", b"b-"))
    rng = random.Random(seed)
    down: int | None = None
    for _round in range(60):
        roll = rng.random()
        copier.step(0.3, crash_before_commit=roll < 0.3 or _round % 5 == 2)
        if copier.crashed:
            copier.restart()  # killed after producing, before committing; started again
        elif roll < 0.4 and down is None:
            down = rng.choice(sorted(c.brokers))
            c.kill_broker(down)
        elif roll < 0.5 and down is not None:
            c.restart_broker(down)
            down = None
    if down is not None:
        c.restart_broker(down)

    def done() -> bool:
        offsets = c.describe_group("copier").offsets
        return sum(offsets.get(("A", p), 0) for p in range(2)) == records

    while not done() and c.now_ms < 600_000:
        copier.step(0.5)
    assert done()
    c.run_for(5000)
    out = c.read_all("B", isolation_level="read_committed")
    return Counter(v for part in out.values() for _o, _k, v in part), copier


@pytest.mark.parametrize("seed", range(6))
def test_transactional_copy_is_exactly_once_through_broker_and_copier_crashes(seed: int) -> None:
    counts, copier = run_eos_copy(seed)
    assert set(counts) == {f"b-{i}".encode() for i in range(60)}
    assert max(counts.values()) == 1
    assert copier.restarts > 0  # the copier really was killed between producing and committing


def test_the_same_crashes_duplicate_records_without_transactions() -> None:
    """Control experiment: at-least-once copying under the same schedules does produce duplicates."""
    duplicated = 0
    for seed in range(6):
        counts, _copier = run_eos_copy(seed, mode="at_least_once")
        assert set(counts) == {f"b-{i}".encode() for i in range(60)}
        duplicated += sum(n - 1 for n in counts.values())
    assert duplicated > 0


def test_groups_and_transactions_replay_identically_from_the_seed() -> None:
    """Determinism beyond plain produce: group rebalances, coordinators and transactions included."""

    def run() -> tuple[str, list[str]]:
        c = Cluster(3, seed=11, broker_config=CFG)
        c.create_topic("A", 2, 3)
        c.create_topic("B", 2, 3)
        src = c.producer()
        for i in range(30):
            src.produce("A", key=f"k{i % 5}", value=f"a-{i}")
        src.flush()
        copier = Copier(c, "A", "B", "exactly_once", batch=5)
        for r in range(20):
            copier.step(0.3, crash_before_commit=copier.restarts == 0 and r >= 3)
            if copier.crashed:
                copier.restart()
            if r == 10:
                c.kill_broker(2)
        return c.trace_hash(), [e.text for e in c.timeline]

    first = run()
    assert run() == first
    assert any("aborting the open transaction" in t for t in first[1])
