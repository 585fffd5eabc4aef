"""Consumer groups as Kafka 4.x runs them: eager sticky keeps partitions through a rebalance, JoinGroup
checks the session timeout against the broker's bounds, members waiting in JoinGroup are not expired, and
member ids look like Kafka's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kafkalab import Cluster
from kafkalab.sim.clients.consumer import Consumer

FAST = {"offsets.topic.num.partitions": 5, "group.initial.rebalance.delay.ms": 0}


def consumer(c: Cluster, strategy: str, **cfg: Any) -> Consumer:
    conf: dict[str, Any] = {
        "group.id": "g",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": strategy,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 1000,
    }
    conf.update(cfg)
    con = c.consumer(conf)
    con.subscribe(["t"])
    return con


def settle(c: Cluster, cons: list[Consumer], members: int, rounds: int = 40) -> dict[tuple[str, int], str]:
    """Poll until the group is Stable with ``members`` members and every consumer owns what it was given."""
    for _ in range(rounds):
        for con in cons:
            con.consume(100, timeout=0.2)
        d = c.describe_group("g")
        if d.state == "Stable" and len(d.members) == members:
            owners = {tp: m.member_id for m in d.members for tp in m.assignment}
            mine = {(tp.topic, tp.partition): con.member_id for con in cons for tp in con.assignment()}
            if mine == owners and len(owners) == 12:
                return owners
    raise AssertionError(f"group did not settle: {c.describe_group('g')}")


@pytest.mark.parametrize("strategy", ["sticky", "cooperative-sticky"])
def test_a_fourth_member_takes_exactly_three_of_twelve_partitions(strategy: str) -> None:
    """Java's StickyAssignor carries the previous assignment in the subscription user data, so even the
    eager protocol (everyone revokes everything first) moves only the 3 partitions the newcomer needs."""
    c = Cluster(3, seed=11, broker_config=FAST)
    c.create_topic("t", 12, 3)
    cons = [consumer(c, strategy) for _ in range(3)]
    before = settle(c, cons, 3)
    assert sorted(before.values()).count(cons[0].member_id) == 4
    cons.append(consumer(c, strategy))
    after = settle(c, cons, 4)
    moved = [tp for tp in before if after[tp] != before[tp]]
    assert len(moved) == 3
    assert sorted(tp for tp, m in after.items() if m == cons[3].member_id) == sorted(moved)
    # one from each old member
    assert sorted(before[tp] for tp in moved) == sorted(con.member_id for con in cons[:3])


def test_sticky_subscription_user_data_holds_the_previous_assignment_and_generation() -> None:
    from kafkalab.sim.group import decode_sticky_user_data, decode_subscription_data

    c = Cluster(3, seed=5, broker_config=FAST)
    c.create_topic("t", 4, 3)
    con = consumer(c, "sticky")
    for _ in range(20):
        con.consume(10, timeout=0.2)
        if len(con.assignment()) == 4:
            break
    sent: list[bytes] = []
    real = con._group_call

    def spy(op: str, req: dict[str, Any], *a: Any, **kw: Any) -> None:
        if op == "JoinGroup":
            sent.append(dict(req["protocols"])["sticky"])
        real(op, req, *a, **kw)

    con._group_call = spy  # type: ignore[method-assign]
    gen = con.generation
    con._needs_rejoin = True
    con.consume(10, timeout=1.0)
    assert sent
    data = decode_subscription_data(sent[0])
    assert data.owned_partitions == []  # eager: revoked before joining
    previous, generation = decode_sticky_user_data(data.user_data)
    assert sorted(previous) == [("t", p) for p in range(4)]
    assert generation == gen


@pytest.mark.parametrize("timeout_ms", [1000, 5999, 1_800_001])
def test_join_outside_the_brokers_session_timeout_bounds_is_refused(timeout_ms: int) -> None:
    c = Cluster(3, seed=7, broker_config={"offsets.topic.num.partitions": 5})
    c.create_topic("t", 3, 3)
    con = consumer(c, "range", **{"session.timeout.ms": timeout_ms, "heartbeat.interval.ms": 500})
    errors = [m.error() for m in con.consume(10, timeout=30.0) if m.error() is not None]
    assert [e.name() for e in errors] == ["INVALID_SESSION_TIMEOUT"]
    assert "group.min.session.timeout.ms and group.max.session.timeout.ms" in errors[0].str()
    c.run_for(30_000)
    d = c.describe_group("g")
    assert d.generation <= 0 and not d.members  # no endless rebalancing
    assert con.consume(10, timeout=5.0) == []  # the error is reported once, the consumer gives up


def test_session_timeout_bounds_are_broker_configs() -> None:
    c = Cluster(
        3,
        seed=7,
        broker_config={
            "offsets.topic.num.partitions": 5,
            "group.min.session.timeout.ms": 1000,
            "group.initial.rebalance.delay.ms": 3000,
        },
    )
    c.create_topic("t", 3, 3)
    con = consumer(c, "range", **{"session.timeout.ms": 1000, "heartbeat.interval.ms": 300})
    for _ in range(100):
        con.consume(10, timeout=0.3)
    d = c.describe_group("g")
    # the member waited 3 s in JoinGroup (the initial rebalance delay) with a 1 s session: not expired
    assert d.state == "Stable" and len(d.members) == 1 and d.generation == 1


def test_an_existing_member_waiting_in_join_group_is_not_expired() -> None:
    """A slow member holds the rebalance open (up to max.poll.interval.ms); the members already waiting in
    JoinGroup cannot heartbeat meanwhile and must not be expired for it."""
    c = Cluster(3, seed=9, broker_config=FAST)
    c.create_topic("t", 6, 3)
    fast = consumer(c, "range", **{"session.timeout.ms": 6000, "max.poll.interval.ms": 60000})
    slow = consumer(c, "range", **{"session.timeout.ms": 6000, "max.poll.interval.ms": 60000})
    for _ in range(20):
        fast.consume(10, timeout=0.2)
        slow.consume(10, timeout=0.2)
    assert c.describe_group("g").state == "Stable"
    gen = c.describe_group("g").generation
    third = consumer(c, "range", **{"session.timeout.ms": 6000, "max.poll.interval.ms": 60000})
    # `slow` stops polling: it keeps heartbeating (background thread) but only rejoins on its next poll
    for _ in range(60):  # 30 s: five session timeouts
        fast.consume(10, timeout=0.5)
        third.consume(10, timeout=0.5)
    d = c.describe_group("g")
    assert d.state == "PreparingRebalance" and d.generation == gen
    assert {fast.member_id, third.member_id, slow.member_id} <= {m.member_id for m in d.members}
    for _ in range(80):  # past the rebalance timeout (max.poll.interval.ms): `slow` is dropped
        fast.consume(10, timeout=0.5)
        third.consume(10, timeout=0.5)
    d = c.describe_group("g")
    assert d.state == "Stable" and d.generation == gen + 1
    assert {m.member_id for m in d.members} == {fast.member_id, third.member_id}


def test_member_ids_are_client_id_or_instance_id_then_a_uuid() -> None:
    c = Cluster(3, seed=4, broker_config=FAST)
    c.create_topic("t", 2, 3)
    dyn = consumer(c, "range")
    static = consumer(c, "range", **{"group.instance.id": "inst-a"})
    for _ in range(20):
        dyn.consume(10, timeout=0.2)
        static.consume(10, timeout=0.2)
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(re.escape(dyn.name) + "-" + uuid, dyn.member_id)
    assert re.fullmatch("inst-a-" + uuid, static.member_id)
