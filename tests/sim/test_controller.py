"""The KRaft-style controller quorum: failover of the active controller, majority, placement."""

from __future__ import annotations

from kafkalab import Cluster
from kafkalab.sim.controller import place_replicas


def test_a_new_active_controller_is_elected_and_keeps_managing_the_cluster() -> None:
    c = Cluster(3, seed=4, controllers=3, check_invariants=True)
    c.create_topic("t", 3, 3)
    first = c.describe_cluster().controller_id
    assert first is not None
    c.kill_controller()
    assert c.describe_cluster().controller_id is None
    c.run_for(5_000)
    second = c.describe_cluster().controller_id
    assert second is not None and second != first
    assert any(f"controller {second} became the active controller" in e.text for e in c.timeline)
    # the new controller still fences dead brokers and moves leadership
    leader = c.describe_topic("t")[0].leader
    c.kill_broker(leader)
    c.run_for(15_000)
    assert c.describe_topic("t")[0].leader not in (leader, -1)


def test_without_a_quorum_majority_no_controller_is_active() -> None:
    c = Cluster(3, seed=4, controllers=3)
    ids = sorted(c.quorum.voters)
    c.kill_controller(ids[0])
    c.kill_controller(ids[1])
    c.run_for(10_000)
    assert c.describe_cluster().controller_id is None
    c.restart_controller(ids[1])
    c.run_for(10_000)
    assert c.describe_cluster().controller_id in ids[1:]


def test_replica_placement_spreads_leaders_and_replicas_like_kafka() -> None:
    # AdminUtils.assignReplicasToBrokersRackUnaware with start index 0 and shift 0
    assert place_replicas([1, 2, 3], 3, 3, 0, 0) == [(1, 2, 3), (2, 3, 1), (3, 1, 2)]
    placed = place_replicas([1, 2, 3, 4], 8, 2, 1, 0)
    leaders = [r[0] for r in placed]
    assert sorted(leaders) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert all(len(set(r)) == 2 for r in placed)
