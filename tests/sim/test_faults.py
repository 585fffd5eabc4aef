"""Seeded fault schedules against the safe configuration: nothing acknowledged is ever lost.

RF=3, min.insync.replicas=2, acks=all, idempotence on, unclean election off; random kills, restarts,
pauses and network partitions. Every event is followed by an invariant check (HW <= LEO, one leader per
partition per epoch, a leader's HW never goes back). 200 schedules by default;
``KAFKALAB_FAULT_SCHEDULES=1000`` runs more.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab.checker import check
from kafkalab.sim.cluster import Cluster
from kafkalab.sim.faults import Fault, random_schedule, run_produce_workload

N = int(os.environ.get("KAFKALAB_FAULT_SCHEDULES", "200"))
CHUNK = 20


@pytest.mark.parametrize("first", range(0, N, CHUNK))
def test_safe_configuration_loses_and_duplicates_nothing(first: int) -> None:
    failures = []
    acked_total = 0
    for seed in range(first, min(first + CHUNK, N)):
        cluster = Cluster(brokers=3, seed=seed, check_invariants=True)
        cluster.create_topic("t", partitions=2, replication_factor=3, config={"min.insync.replicas": "2"})
        schedule = random_schedule(seed, brokers=3, duration_ms=40_000)
        stats = run_produce_workload(cluster, "t", schedule, {"acks": "all", "enable.idempotence": True})
        result = check(cluster.history)
        s = result.summary()
        acked_total += s["acked"]
        if s["lost"] or s["duplicates"] or s["inconsistent_offsets"] or s["unseen"] or stats["pending"]:
            failures.append((seed, s, stats, [f.describe() for f in schedule]))
        cluster.close()
    assert failures == []
    assert acked_total > 0


def test_the_unsafe_configuration_does_lose_writes_on_the_same_schedules() -> None:
    """The same kind of schedules with acks=1 and unclean election: the checker must see losses."""
    lost = 0
    for seed in range(10):
        cluster = Cluster(brokers=3, seed=seed, broker_config={"unclean.leader.election.enable": "true"})
        cluster.create_topic("t", partitions=2, replication_factor=3)
        schedule = random_schedule(seed, brokers=3, duration_ms=40_000)
        run_produce_workload(cluster, "t", schedule, {"acks": "1"})
        lost += check(cluster.history).summary()["lost"]
        cluster.close()
    assert lost > 0


faults = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=30_000),
        st.sampled_from(["kill", "restart", "pause", "resume", "partition", "heal"]),
        st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=2, unique=True),
    ),
    max_size=12,
).map(lambda rows: [Fault(t, kind, tuple(sorted(bs)) if kind != "heal" else ()) for t, kind, bs in rows])


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=faults, seed=st.integers(min_value=0, max_value=10_000))
def test_replication_invariants_hold_for_any_fault_schedule(schedule: list[Fault], seed: int) -> None:
    """Hypothesis explores (and shrinks) schedules; the invariant observer raises on any violation."""
    cluster = Cluster(brokers=3, seed=seed, check_invariants=True)
    cluster.create_topic("t", partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    stats = run_produce_workload(
        cluster, "t", schedule, {"acks": "all"}, records=40, duration_ms=30_000, settle_ms=30_000
    )
    s = check(cluster.history).summary()
    cluster.close()
    assert (s["lost"], s["duplicates"], s["inconsistent_offsets"], s["unseen"], stats["pending"]) == (
        0,
        0,
        0,
        0,
        0,
    )
