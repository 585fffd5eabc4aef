"""Tests for kafkalab.sim.assignors.

Known-answer vectors are copied from Apache Kafka's own unit tests (named in each test) and Javadoc;
the property tests use hypothesis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.sim.assignors import (
    ASSIGNORS,
    COOPERATIVE,
    EAGER,
    CooperativeStickyAssignor,
    MemberSubscription,
    RangeAssignor,
    RoundRobinAssignor,
    StickyAssignor,
    TopicPartition,
    choose_common_protocol,
    common_rebalance_protocol,
    cooperative_plan,
    get_assignor,
    java_hashmap_order,
    parse_strategy,
    revoked_partitions,
)

M = MemberSubscription
Assignment = dict[str, list[TopicPartition]]


def tps(*pairs: tuple[str, int]) -> list[TopicPartition]:
    return sorted(pairs)


def subs(**topics: tuple[str, ...]) -> dict[str, MemberSubscription]:
    return {member: M(member, t) for member, t in topics.items()}


def owning(
    topics: tuple[str, ...], assignment: Mapping[str, list[TopicPartition]], generation: int, *members: str
) -> dict[str, MemberSubscription]:
    """Members rejoining with what they were assigned (``buildSubscriptionV2Above`` in Kafka's tests)."""
    return {m: M(m, topics, tuple(assignment.get(m, [])), generation) for m in members}


# ------------------------------------------------------------------------------------------ range

range_ = RangeAssignor()


def test_range_one_consumer_no_topic() -> None:  # RangeAssignorTest.testOneConsumerNoTopic
    assert range_.assign({}, {"consumer": M("consumer", ())}) == {"consumer": []}


def test_range_one_consumer_nonexistent_topic() -> None:  # RangeAssignorTest.testOneConsumerNonexistentTopic
    assert range_.assign({}, subs(consumer=("topic",))) == {"consumer": []}


def test_range_only_subscribed_topics() -> (
    None
):  # RangeAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics
    result = range_.assign({"topic": 3, "other": 3}, subs(consumer=("topic",)))
    assert result == {"consumer": tps(("topic", 0), ("topic", 1), ("topic", 2))}


def test_range_one_consumer_multiple_topics() -> None:  # RangeAssignorTest.testOneConsumerMultipleTopics
    result = range_.assign({"topic1": 1, "topic2": 2}, subs(consumer=("topic1", "topic2")))
    assert result == {"consumer": tps(("topic1", 0), ("topic2", 0), ("topic2", 1))}


def test_range_two_consumers_one_topic_one_partition() -> (
    None
):  # RangeAssignorTest.testTwoConsumersOneTopicOnePartition
    result = range_.assign({"topic": 1}, subs(consumer1=("topic",), consumer2=("topic",)))
    assert result == {"consumer1": [("topic", 0)], "consumer2": []}


def test_range_multiple_consumers_mixed_topics() -> (
    None
):  # RangeAssignorTest.testMultipleConsumersMixedTopics
    result = range_.assign(
        {"topic1": 3, "topic2": 2},
        subs(consumer1=("topic1",), consumer2=("topic1", "topic2"), consumer3=("topic1",)),
    )
    assert result == {
        "consumer1": [("topic1", 0)],
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer3": [("topic1", 2)],
    }


def test_range_two_consumers_two_topics_six_partitions() -> None:
    # RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions (also the RangeAssignor Javadoc example)
    result = range_.assign(
        {"topic1": 3, "topic2": 3}, subs(consumer1=("topic1", "topic2"), consumer2=("topic1", "topic2"))
    )
    assert result == {
        "consumer1": tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer2": tps(("topic1", 2), ("topic2", 2)),
    }


def test_range_static_members_sort_by_group_instance_id() -> None:
    # RangeAssignorTest.testTwoStaticConsumersTwoTopicsSixPartitions, with member ids in the opposite order
    # of the instance ids: MemberInfo.compareTo sorts static members by group.instance.id.
    members = {
        "consumer-a": M("consumer-a", ("topic1", "topic2"), group_instance_id="instance2"),
        "consumer-b": M("consumer-b", ("topic1", "topic2"), group_instance_id="instance1"),
    }
    result = range_.assign({"topic1": 3, "topic2": 3}, members)
    assert result["consumer-b"] == tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1))
    assert result["consumer-a"] == tps(("topic1", 2), ("topic2", 2))


def test_range_static_member_sorts_before_dynamic() -> None:
    # RangeAssignorTest.testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
    members = {
        "consumer1": M("consumer1", ("topic1", "topic2")),
        "consumer2": M("consumer2", ("topic1", "topic2"), group_instance_id="instance2"),
    }
    result = range_.assign({"topic1": 3, "topic2": 3}, members)
    assert result["consumer2"] == tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1))
    assert result["consumer1"] == tps(("topic1", 2), ("topic2", 2))


# ------------------------------------------------------------------------------------- roundrobin

roundrobin = RoundRobinAssignor()


def test_roundrobin_two_consumers_two_topics_six_partitions() -> None:
    # RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions (also the RoundRobinAssignor Javadoc)
    result = roundrobin.assign(
        {"topic1": 3, "topic2": 3}, subs(consumer1=("topic1", "topic2"), consumer2=("topic1", "topic2"))
    )
    assert result == {
        "consumer1": tps(("topic1", 0), ("topic1", 2), ("topic2", 1)),
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }


def test_roundrobin_multiple_consumers_mixed_topics() -> (
    None
):  # RoundRobinAssignorTest.testMultipleConsumersMixedTopics
    result = roundrobin.assign(
        {"topic1": 3, "topic2": 2},
        subs(consumer1=("topic1",), consumer2=("topic1", "topic2"), consumer3=("topic1",)),
    )
    assert result == {
        "consumer1": [("topic1", 0)],
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer3": [("topic1", 2)],
    }


def test_roundrobin_javadoc_unequal_subscriptions() -> None:
    # RoundRobinAssignor Javadoc: C0 -> t0; C1 -> t0, t1; C2 -> t0, t1, t2 with 1, 2, 3 partitions
    result = roundrobin.assign(
        {"t0": 1, "t1": 2, "t2": 3}, subs(C0=("t0",), C1=("t0", "t1"), C2=("t0", "t1", "t2"))
    )
    assert result == {
        "C0": [("t0", 0)],
        "C1": [("t1", 0)],
        "C2": tps(("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)),
    }


def test_roundrobin_static_members_sort_by_group_instance_id() -> None:
    # RoundRobinAssignorTest.testTwoStaticConsumersTwoTopicsSixPartitions, member ids reversed
    members = {
        "consumer-a": M("consumer-a", ("topic1", "topic2"), group_instance_id="instance2"),
        "consumer-b": M("consumer-b", ("topic1", "topic2"), group_instance_id="instance1"),
    }
    result = roundrobin.assign({"topic1": 3, "topic2": 3}, members)
    assert result["consumer-b"] == tps(("topic1", 0), ("topic1", 2), ("topic2", 1))


# ----------------------------------------------------------------------------------------- sticky

sticky = StickyAssignor()
coop = CooperativeStickyAssignor()
POOR_RR_TOPICS = {f"topic{i}": (i % 2) + 1 for i in range(1, 6)}
POOR_RR_SUBS = {
    "consumer1": M("consumer1", tuple(POOR_RR_TOPICS)),
    "consumer2": M("consumer2", ("topic1", "topic3", "topic5")),
    "consumer3": M("consumer3", ("topic1", "topic3", "topic5")),
    "consumer4": M("consumer4", tuple(POOR_RR_TOPICS)),
}


def test_sticky_two_consumers_two_topics_six_partitions() -> None:
    # AbstractStickyAssignorTest.testTwoConsumersTwoTopicsSixPartitions
    result = sticky.assign(
        {"topic1": 3, "topic2": 3}, subs(consumer1=("topic1", "topic2"), consumer2=("topic1", "topic2"))
    )
    assert result == {
        "consumer1": tps(("topic1", 0), ("topic1", 2), ("topic2", 1)),
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }


def test_sticky_add_remove_two_consumers_two_topics() -> None:
    # AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics (all three steps)
    topics = ("topic1", "topic2")
    counts = {"topic1": 3, "topic2": 4}
    first = sticky.assign(counts, subs(consumer1=topics, consumer2=topics))
    assert first == {
        "consumer1": tps(("topic1", 0), ("topic1", 2), ("topic2", 1), ("topic2", 3)),
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }
    grown = owning(topics, first, 1, "consumer1", "consumer2", "consumer3", "consumer4")
    second = sticky.assign(counts, grown)
    assert second == {
        "consumer1": tps(("topic1", 0), ("topic2", 1)),
        "consumer2": tps(("topic2", 0), ("topic1", 1)),
        "consumer3": tps(("topic1", 2), ("topic2", 3)),
        "consumer4": [("topic2", 2)],
    }
    # cooperative: the partitionsTransferringOwnership of that test are withheld this round
    assert coop.assign(counts, grown) == {
        "consumer1": tps(("topic1", 0), ("topic2", 1)),
        "consumer2": tps(("topic2", 0), ("topic1", 1)),
        "consumer3": [],
        "consumer4": [],
    }
    shrunk = owning(topics, second, 2, "consumer3", "consumer4")
    assert sticky.assign(counts, shrunk) == {
        "consumer3": tps(("topic1", 2), ("topic2", 3), ("topic1", 0), ("topic2", 1)),
        "consumer4": tps(("topic2", 2), ("topic1", 1), ("topic2", 0)),
    }


def test_sticky_max_quota_members_more_than_expected() -> None:
    # AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers. Kafka walks the
    # members in java.util.HashMap order (consumer3, consumer2, consumer1), so consumer2 keeps maxQuota.
    topics = ("topic1", "topic2")
    members = {
        "consumer1": M("consumer1", topics, (("topic1", 0), ("topic2", 0)), 1),
        "consumer2": M("consumer2", topics, (("topic1", 1), ("topic2", 1)), 1),
        "consumer3": M("consumer3", topics, (), 1),
    }
    counts = {"topic1": 2, "topic2": 2}
    assert sticky.assign(counts, members) == {
        "consumer1": [("topic1", 0)],
        "consumer2": tps(("topic1", 1), ("topic2", 1)),
        "consumer3": [("topic2", 0)],
    }
    assert coop.assign(counts, members)["consumer3"] == []  # topic2-0 transfers from consumer1


def test_java_hashmap_order_matches_kafka_test_names() -> None:
    assert java_hashmap_order(["consumer1", "consumer2", "consumer3"]) == [
        "consumer3",
        "consumer2",
        "consumer1",
    ]


def test_sticky_owning_min_quota_expected_max_quota() -> None:
    # AbstractStickyAssignorTest.testConsumerOwningMinQuotaExpectedMaxQuota
    topics = ("topic1", "topic2")
    members = {
        "consumer1": M("consumer1", topics, (("topic1", 0), ("topic2", 1)), 1),
        "consumer2": M("consumer2", topics, (("topic1", 1), ("topic2", 2)), 1),
    }
    for assignor in (sticky, coop):
        assert assignor.assign({"topic1": 2, "topic2": 3}, members) == {
            "consumer1": tps(("topic1", 0), ("topic2", 1), ("topic2", 0)),
            "consumer2": tps(("topic1", 1), ("topic2", 2)),
        }


def test_sticky_all_consumers_under_min_quota() -> None:
    # AbstractStickyAssignorTest.testAllConsumersAreUnderMinQuota
    topics = ("topic1", "topic2")
    members = {
        "consumer1": M("consumer1", topics, (("topic1", 0),), 1),
        "consumer2": M("consumer2", topics, (("topic1", 1),), 1),
        "consumer3": M("consumer3", topics, (), 1),
    }
    expected = {
        "consumer1": tps(("topic1", 0), ("topic2", 1)),
        "consumer2": tps(("topic1", 1), ("topic2", 2)),
        "consumer3": [("topic2", 0)],
    }
    assert sticky.assign({"topic1": 2, "topic2": 3}, members) == expected
    assert coop.assign({"topic1": 2, "topic2": 3}, members) == expected  # nothing changes owner


def test_sticky_and_cooperative_add_remove_consumer_one_topic() -> None:
    # AbstractStickyAssignorTest / CooperativeStickyAssignorTest.testAddRemoveConsumerOneTopic
    counts = {"topic": 3}
    first = sticky.assign(counts, subs(consumer1=("topic",)))
    assert first == {"consumer1": tps(("topic", 0), ("topic", 1), ("topic", 2))}
    joined = owning(("topic",), first, 1, "consumer1", "consumer2")
    assert sticky.assign(counts, joined) == {
        "consumer1": tps(("topic", 0), ("topic", 1)),
        "consumer2": [("topic", 2)],
    }
    phase1 = coop.assign(counts, joined)
    assert phase1 == {"consumer1": tps(("topic", 0), ("topic", 1)), "consumer2": []}
    assert revoked_partitions({m: s.owned_partitions for m, s in joined.items()}, phase1) == {
        "consumer1": [("topic", 2)]
    }
    phase2 = coop.assign(counts, owning(("topic",), phase1, 2, "consumer1", "consumer2"))
    assert phase2 == {"consumer1": tps(("topic", 0), ("topic", 1)), "consumer2": [("topic", 2)]}


def test_sticky_poor_round_robin_scenario() -> None:
    # AbstractStickyAssignorTest.testPoorRoundRobinAssignmentScenario (results from its Javadoc)
    assert roundrobin.assign(POOR_RR_TOPICS, POOR_RR_SUBS) == {
        "consumer1": tps(("topic1", 0), ("topic3", 0), ("topic5", 0)),
        "consumer2": tps(("topic1", 1), ("topic3", 1), ("topic5", 1)),
        "consumer3": [],
        "consumer4": tps(("topic2", 0), ("topic4", 0)),
    }
    assert sticky.assign(POOR_RR_TOPICS, POOR_RR_SUBS) == {
        "consumer1": tps(("topic2", 0), ("topic3", 0)),
        "consumer2": tps(("topic1", 0), ("topic3", 1)),
        "consumer3": tps(("topic1", 1), ("topic5", 0)),
        "consumer4": tps(("topic4", 0), ("topic5", 1)),
    }


def test_sticky_general_path_keeps_owned_partitions() -> None:
    # StickyAssignor Javadoc: C1 leaves; C0 and C2 keep everything they had (general path: the
    # subscriptions differ because C2 also subscribes to an extra topic without partitions).
    topics = ("t0", "t1", "t2", "t3")
    counts = {t: 2 for t in topics}
    members = {
        "C0": M("C0", topics, (("t0", 0), ("t1", 1), ("t3", 0)), 1),
        "C2": M("C2", (*topics, "t4"), (("t1", 0), ("t2", 1)), 1),
    }
    result = sticky.assign(counts, members)
    assert {("t0", 0), ("t1", 1), ("t3", 0)} <= set(result["C0"])
    assert {("t1", 0), ("t2", 1)} <= set(result["C2"])
    assert sorted(len(v) for v in result.values()) == [4, 4]


def test_sticky_general_path_rebalances_overloaded_member() -> None:
    # Hand-derived from GeneralAssignmentBuilder.balance/performReassignments: "a" keeps all of t1 and
    # must take t2-0 (nobody else can), so t1-0 and t1-1 move to "b" until the loads differ by one.
    members = {
        "a": M("a", ("t1", "t2"), (("t1", 0), ("t1", 1), ("t1", 2), ("t1", 3)), 1),
        "b": M("b", ("t1",), (), 1),
    }
    assert sticky.assign({"t1": 4, "t2": 1}, members) == {
        "a": tps(("t1", 2), ("t1", 3), ("t2", 0)),
        "b": tps(("t1", 0), ("t1", 1)),
    }
    # cooperative: the two partitions leaving "a" are withheld from "b" in the first round
    assert coop.assign({"t1": 4, "t2": 1}, members) == {"a": tps(("t1", 2), ("t1", 3), ("t2", 0)), "b": []}


def test_sticky_stale_generation_loses_conflicting_claim() -> None:
    # AbstractStickyAssignor.allSubscriptionsEqual: the higher generation keeps a doubly claimed partition
    members = {
        "a": M("a", ("t",), (("t", 0),), 3),
        "b": M("b", ("t",), (("t", 0), ("t", 1)), 2),
    }
    result = sticky.assign({"t": 2}, members)
    assert result == {"a": [("t", 0)], "b": [("t", 1)]}
    assert coop.assign({"t": 2}, members) == result  # a already owns it: nothing to withhold


def test_sticky_same_generation_conflict_is_invalidated() -> None:
    # two members claiming one partition in the same generation: both claims are dropped, and the
    # cooperative assignor withholds it (partitionsWithMultiplePreviousOwners)
    members = {
        "a": M("a", ("t",), (("t", 0),), 3),
        "b": M("b", ("t",), (("t", 0),), 3),
    }
    assert sorted(len(v) for v in sticky.assign({"t": 2}, members).values()) == [1, 1]
    phase1 = coop.assign({"t": 2}, members)
    assert ("t", 0) not in phase1["a"] + phase1["b"]
    assert ("t", 1) in phase1["a"] + phase1["b"]


@pytest.mark.parametrize("name", sorted(ASSIGNORS))
def test_four_consumers_three_partitions_leaves_one_idle(name: str) -> None:
    result = ASSIGNORS[name].assign({"t": 3}, {c: M(c, ("t",)) for c in ("c1", "c2", "c3", "c4")})
    assert sorted(len(v) for v in result.values()) == [0, 1, 1, 1]
    assert sorted(tp for v in result.values() for tp in v) == [("t", 0), ("t", 1), ("t", 2)]


def test_cooperative_plan_two_rounds() -> None:
    topics = ("topic1", "topic2")
    counts = {"topic1": 3, "topic2": 4}
    first = sticky.assign(counts, subs(consumer1=topics, consumer2=topics))
    plan = cooperative_plan(
        counts, owning(topics, first, 1, "consumer1", "consumer2", "consumer3", "consumer4")
    )
    assert len(plan.assignments) == 2
    assert plan.generations == (2, 3)
    assert plan.revocations[0] == {
        "consumer1": tps(("topic1", 2), ("topic2", 3)),
        "consumer2": [("topic2", 2)],
    }
    assert plan.revocations[1] == {}
    assert plan.final == sticky.assign(
        counts, owning(topics, first, 1, "consumer1", "consumer2", "consumer3", "consumer4")
    )


def test_cooperative_plan_with_eager_assignor_is_one_round() -> None:
    plan = cooperative_plan({"t": 4}, subs(a=("t",), b=("t",)), assignor=range_)
    assert len(plan.assignments) == 1


# ------------------------------------------------------------------------------ registry & config


def test_registry_names_and_protocols() -> None:
    assert {name: a.rebalance_protocol for name, a in ASSIGNORS.items()} == {
        "range": EAGER,
        "roundrobin": EAGER,
        "sticky": EAGER,
        "cooperative-sticky": COOPERATIVE,
    }
    assert all(a.name == name for name, a in ASSIGNORS.items())


def test_get_assignor_unknown_names_valid_choices() -> None:
    assert get_assignor("org.apache.kafka.clients.consumer.StickyAssignor") is ASSIGNORS["sticky"]
    with pytest.raises(ValueError, match="'fair'.*range.*roundrobin.*sticky.*cooperative-sticky"):
        get_assignor("fair")


def test_parse_strategy_names_and_java_classes() -> None:
    parsed = parse_strategy(
        " org.apache.kafka.clients.consumer.CooperativeStickyAssignor, range ,,"
        "org.apache.kafka.clients.consumer.RoundRobinAssignor,range"
    )
    assert [a.name for a in parsed] == ["cooperative-sticky", "range", "roundrobin"]
    with pytest.raises(ValueError):
        parse_strategy(" , ")
    with pytest.raises(ValueError, match="RandomAssignor"):
        parse_strategy("range,com.example.RandomAssignor")


def test_common_rebalance_protocol() -> None:
    assert common_rebalance_protocol(parse_strategy("cooperative-sticky")) == COOPERATIVE
    assert common_rebalance_protocol(parse_strategy("cooperative-sticky,range")) == EAGER


def test_choose_common_protocol() -> None:
    # only protocols every member supports are candidates; each member votes its first candidate
    assert choose_common_protocol([["range", "roundrobin"], ["roundrobin"]]) == "roundrobin"
    assert choose_common_protocol([["sticky", "range"], ["range", "sticky"], ["range", "sticky"]]) == "range"
    assert choose_common_protocol([["cooperative-sticky", "range"], ["cooperative-sticky", "range"]]) == (
        "cooperative-sticky"
    )
    # tie: the first member's preference order decides
    assert choose_common_protocol([["sticky", "range"], ["range", "sticky"]]) == "sticky"
    assert choose_common_protocol([["range", "sticky"], ["sticky", "range"]]) == "range"
    with pytest.raises(ValueError, match="INCONSISTENT_GROUP_PROTOCOL"):
        choose_common_protocol([["range"], ["roundrobin"]])
    with pytest.raises(ValueError):
        choose_common_protocol([])


def test_revoked_partitions() -> None:
    owned = {"a": [("t", 0), ("t", 1)], "b": [("t", 2)], "gone": [("t", 3)]}
    assignment = {"a": [("t", 0)], "b": [("t", 2), ("t", 1)]}
    assert revoked_partitions(owned, assignment) == {"a": [("t", 1)], "gone": [("t", 3)]}


def test_mismatched_member_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="member_id"):
        range_.assign({"t": 1}, {"a": M("b", ("t",))})


# ------------------------------------------------------------------------------------ properties

TOPICS = ("t0", "t1", "t2", "t3")


@st.composite
def groups(
    draw: st.DrawFn, identical: bool = False, with_owned: bool = True
) -> tuple[dict[str, int], dict[str, MemberSubscription]]:
    counts = {t: draw(st.integers(0, 7)) for t in draw(st.sets(st.sampled_from(TOPICS), min_size=1))}
    names = draw(st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=1, max_size=6, unique=True))
    shared = tuple(draw(st.sets(st.sampled_from((*TOPICS, "missing")), min_size=1)))
    all_tps = [(t, p) for t in TOPICS for p in range(8)]
    members: dict[str, MemberSubscription] = {}
    for name in names:
        topics = (
            shared if identical else tuple(draw(st.sets(st.sampled_from((*TOPICS, "missing")), min_size=1)))
        )
        owned = tuple(draw(st.lists(st.sampled_from(all_tps), max_size=6))) if with_owned else ()
        generation = draw(st.integers(-1, 3)) if owned else -1
        static = draw(st.none() | st.sampled_from(("i1", "i2", "i3", "i4")))
        members[name] = M(name, topics, owned, generation, static)
    return counts, members


def subscribed_partitions(
    counts: Mapping[str, int], members: Mapping[str, MemberSubscription]
) -> set[TopicPartition]:
    topics = {t for s in members.values() for t in s.topics}
    return {(t, p) for t in topics for p in range(counts.get(t, 0))}


def check_valid(
    counts: Mapping[str, int],
    members: Mapping[str, MemberSubscription],
    result: Assignment,
    exact: bool,
    sticky: bool = True,
) -> None:
    assert set(result) == set(members)
    every = Counter(tp for v in result.values() for tp in v)
    assert all(n == 1 for n in every.values()), "a partition was given to two members"
    if exact:
        assert set(every) == subscribed_partitions(counts, members)
    else:
        assert set(every) <= subscribed_partitions(counts, members)
    for member, assigned in result.items():
        outside = {tp for tp in assigned if tp[0] not in members[member].topics}
        if sticky:
            # Java's AbstractStickyAssignor hands a partition back to its previous owner without looking at that
            # owner's subscription (the consumer refuses such an assignment and rejoins); nothing else is allowed
            assert outside <= set(members[member].owned_partitions)
        else:
            assert not outside


EAGER_ASSIGNORS = ("range", "roundrobin", "sticky")


@settings(max_examples=150, deadline=None)
@given(groups())
def test_eager_assignors_assign_every_partition_once(
    group: tuple[dict[str, int], dict[str, MemberSubscription]],
) -> None:
    counts, members = group
    for name in EAGER_ASSIGNORS:
        check_valid(
            counts, members, ASSIGNORS[name].assign(counts, members), exact=True, sticky=name == "sticky"
        )


@settings(max_examples=150, deadline=None)
@given(groups())
def test_cooperative_phase_one_then_complete(
    group: tuple[dict[str, int], dict[str, MemberSubscription]],
) -> None:
    counts, members = group
    phase1 = coop.assign(counts, members)
    check_valid(counts, members, phase1, exact=False)
    # never hands a member a partition another member still claims to own
    for member, assigned in phase1.items():
        for tp in assigned:
            claims = {m: s.generation for m, s in members.items() if tp in s.owned_partitions}
            newest = [m for m, g in claims.items() if g == max(claims.values(), default=0)]
            rightful_owner = newest == [member]
            assert rightful_owner or set(claims) <= {member}, f"{tp} given to {member} while {claims} own it"
    plan = cooperative_plan(counts, members)
    check_valid(counts, members, plan.final, exact=True)


@settings(max_examples=150, deadline=None)
@given(groups(identical=True))
def test_cooperative_second_call_completes_identical_subscriptions(
    group: tuple[dict[str, int], dict[str, MemberSubscription]],
) -> None:
    counts, members = group
    phase1 = coop.assign(counts, members)
    rejoined = {m: M(m, s.topics, tuple(phase1[m]), 10, s.group_instance_id) for m, s in members.items()}
    phase2 = coop.assign(counts, rejoined)
    check_valid(counts, members, phase2, exact=True)
    assert revoked_partitions({m: phase1[m] for m in phase1}, phase2) == {}
    assert phase2 == sticky.assign(counts, members) or _is_balanced(phase2)


def _is_balanced(result: Assignment) -> bool:
    sizes = [len(v) for v in result.values()]
    return max(sizes) - min(sizes) <= 1


@settings(max_examples=150, deadline=None)
@given(groups(identical=True))
def test_balance_with_identical_subscriptions(
    group: tuple[dict[str, int], dict[str, MemberSubscription]],
) -> None:
    counts, members = group
    for name in ("roundrobin", "sticky"):
        assert _is_balanced(ASSIGNORS[name].assign(counts, members)), name
    assert _is_balanced(cooperative_plan(counts, members).final)


@settings(max_examples=100, deadline=None)
@given(groups())
def test_deterministic_and_independent_of_mapping_order(
    group: tuple[dict[str, int], dict[str, MemberSubscription]],
) -> None:
    counts, members = group
    reordered = dict(reversed(list(members.items())))
    for assignor in ASSIGNORS.values():
        first = assignor.assign(counts, members)
        assert assignor.assign(counts, members) == first
        assert assignor.assign(dict(reversed(list(counts.items()))), reordered) == first


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 40), st.integers(1, 8))
def test_sticky_adding_a_member_moves_the_minimum(partitions: int, members: int) -> None:
    counts = {"t": partitions}
    names = [f"m{i}" for i in range(members)]
    stable = sticky.assign(counts, {m: M(m, ("t",)) for m in names})
    rejoin = owning(("t",), stable, 1, *names, "new")
    after = sticky.assign(counts, rejoin)
    assert _is_balanced(after)
    moved = [tp for m in names for tp in stable[m] if tp not in after[m]]
    # the newcomer must get at least floor(n / (m + 1)) partitions; nothing else may move
    assert len(moved) == partitions // (members + 1) == len(after["new"])


def test_sticky_gives_a_stale_claim_back_like_java_even_outside_the_subscription() -> None:
    """Java's answer (AbstractStickyAssignor compiled from Kafka's source, same input): ``a`` subscribes to t0
    only but claims t1-0 from an unknown generation, and gets it back; its consumer then refuses and rejoins."""
    members = {
        m: MemberSubscription(m, tuple(topics), tuple(owned), gen)
        for m, gen, topics, owned in [
            ("a", -1, ["t0"], [("t1", 0)]),
            ("b", -1, ["t0"], []),
            ("c", -1, ["t0"], []),
            ("x", -1, ["t0"], []),
            ("aa", -1, ["t0", "t1"], []),
            ("aaa", 0, ["t0", "t1"], [("t0", 0)]),
        ]
    }
    got = ASSIGNORS["sticky"].assign({"t0": 1, "t1": 3}, members)
    assert {m: sorted(v) for m, v in got.items() if v} == {
        "a": [("t1", 0)],
        "b": [("t0", 0)],
        "aa": [("t1", 1)],
        "aaa": [("t1", 2)],
    }
