"""The fault audit: every kind of fault against idempotent producers, transactions and consumer groups.

Each schedule (seeded, virtual time) mixes kills, restarts, pauses, symmetric and one-way network cuts
(also broker-to-client), leader isolation, controller kills with 1 or 3 controllers, latency changes up to
12 s and time jumps, on 3-5 brokers; then everything heals and the auditors check Kafka's guarantees (see
:mod:`kafkalab.sim.fault_audit`). The normal run takes a few dozen schedules per mode;
``KAFKALAB_FAULT_SCHEDULES=2000`` runs 2,000 per mode (that one takes hours: run it with ``nice``).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from kafkalab.sim.cluster import Cluster
from kafkalab.sim.fault_audit import AUDIT_MODES, run_audit, shape_for
from kafkalab.sim.faults import FAULT_KINDS, Fault, apply_fault, random_faults

#: schedules per mode in the normal run (about 25 s together on the 2-core machine under load)
DEFAULT_SCHEDULES = {"idempotent": 48, "transactions": 30, "groups": 30}
CHUNK = 6
_ENV = os.environ.get("KAFKALAB_FAULT_SCHEDULES")


def _schedules(mode: str) -> int:
    return int(_ENV) if _ENV else DEFAULT_SCHEDULES[mode]


@pytest.mark.parametrize(
    ("mode", "first"), [(m, f) for m in AUDIT_MODES for f in range(0, _schedules(m), CHUNK)]
)
def test_every_guarantee_holds_under_every_kind_of_fault(mode: str, first: int) -> None:
    failures = []
    stats: Counter[str] = Counter()
    for seed in range(first, min(first + CHUNK, _schedules(mode))):
        report = run_audit(mode, seed)
        stats.update(report.stats)
        if not report.ok:
            failures.append(report.describe())
    assert failures == []
    # the audits did real work, so "no findings" means something
    if mode == "idempotent":
        assert stats["acked"] > 1000
    elif mode == "transactions":
        assert stats["committed"] > 0 and stats["aborted"] > 0
    else:
        assert stats["processed"] > 0 and stats["copied"] > 0


def test_the_schedules_cover_every_fault_kind_and_cluster_shape() -> None:
    kinds: Counter[str] = Counter()
    shapes = set()
    for seed in range(min(_schedules("transactions"), 60)):
        brokers, controllers = shape_for(seed)
        shapes.add((brokers, controllers))
        faults = random_faults(seed, brokers, 30_000, controllers=controllers, topic="t", partitions=3)
        kinds.update(f.kind for f in faults)
        latencies = [f.value for f in faults if f.kind == "latency"]
        assert all(1 <= v <= 12_000 for v in latencies)
    assert set(kinds) == set(FAULT_KINDS) - {"isolate"}  # isolate is partition's older name
    assert {b for b, _ in shapes} == {3, 4, 5} and {c for _, c in shapes} == {1, 3}


def test_a_schedule_is_plain_data_that_replays_identically() -> None:
    first = run_audit("transactions", 5)
    again = run_audit("transactions", 5)
    assert (first.schedule, first.stats, first.findings) == (again.schedule, again.stats, again.findings)
    brokers, controllers = shape_for(5)
    faults = random_faults(5, brokers, 30_000, controllers=controllers, topic="t", partitions=3)
    assert first.schedule == [f.describe() for f in faults]


def test_one_way_cuts_latency_and_time_jumps_do_what_they_say() -> None:
    c = Cluster(3, seed=1, controllers=3)
    c.create_topic("t", 1, 3)
    apply_fault(c, Fault(0, "cut", (1,), (2,)))
    assert not c.net.can_reach("broker-1", "broker-2") and c.net.can_reach("broker-2", "broker-1")
    apply_fault(c, Fault(0, "latency", value=12_000))
    assert c.net.latency_ms == 12_000
    apply_fault(c, Fault(0, "kill-controller", (3001,)))
    assert not c.quorum.voters[3001].alive
    leader = c.describe_topic("t")[0].leader
    apply_fault(c, Fault(0, "isolate-leader", value=0, topic="t"))
    assert not c.net.can_reach(f"broker-{leader}", "controller-3000")
    apply_fault(c, Fault(0, "heal"))
    apply_fault(c, Fault(0, "latency", value=1))
    start = c.now_ms
    apply_fault(c, Fault(0, "jump", value=5000))
    assert all(n.paused for n in c.brokers.values())
    c.run_for(6000)
    assert not any(n.paused for n in c.brokers.values()) and c.now_ms == start + 6000
    c.close()


#: schedules that once broke a guarantee (seed -> what broke), run in every normal run
FOUND = {
    ("idempotent", 175): "an unanswered batch fell out of the broker's last 5: written twice, out of order",
    (
        "transactions",
        990,
    ): "a restarted broker led with pre-crash metadata and confirmed an unreplicated commit",
    ("transactions", 1043): "a consumer took a zombie leader's older epoch and reset its position",
    ("groups", 1694): "the audit read before a marker write, delayed by a stalled follower, finished",
    ("groups", 256): "two members made each other rebalance forever",
}


@pytest.mark.parametrize(("mode", "seed"), sorted(FOUND))
def test_schedules_that_found_bugs_stay_fixed(mode: str, seed: int) -> None:
    report = run_audit(mode, seed)
    assert report.ok, f"{FOUND[(mode, seed)]}:\n{report.describe()}"


def test_a_restarted_broker_does_not_act_on_metadata_before_it_registers() -> None:
    """The controller fences a broker's old incarnation when the new one registers; a metadata push that
    reaches the new incarnation before that still names it leader, at the old epoch. Acting on it made a
    zombie leader (and a zombie transaction coordinator) for a moment."""
    c = Cluster(3, seed=1)
    c.create_topic("t", 1, 3)
    info = c.describe_topic("t")[0]
    other = next(b for b in info.replicas if b != info.leader)
    c.kill_broker(info.leader)
    c.kill_broker(other)  # the controller has not noticed either death yet
    restart_ms = c.now_ms
    c.restart_broker(other)  # its registration pushes metadata to every broker, the new leader too
    c.restart_broker(info.leader)
    c.run_for(5000)
    zombie = f"broker {info.leader} became leader of t-0 (epoch {info.leader_epoch})"
    assert [e.text for e in c.timeline if e.time_ms >= restart_ms and e.text == zombie] == []
    c.close()


def test_a_client_never_goes_back_to_an_older_leader_epoch() -> None:
    """KIP-320: Metadata from a broker that missed a leader change (older epoch) does not replace newer."""
    c = Cluster(3, seed=1)
    c.create_topic("t", 1, 3)
    con = c.consumer({"group.id": "g"})
    con.refresh_metadata()
    c.run_for(100)
    known = con.partitions[("t", 0)]
    newer = known.changed(leader=known.leader % 3 + 1)  # a leader change bumps the epoch
    con.merge_metadata(dict(con.topics), {("t", 0): newer}, [1, 2, 3])
    assert con.partitions[("t", 0)] == newer
    con.merge_metadata(dict(con.topics), {("t", 0): known}, [1, 2, 3])  # a stale broker's answer
    assert con.partitions[("t", 0)] == newer
    c.close()
