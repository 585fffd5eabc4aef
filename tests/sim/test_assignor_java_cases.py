"""Rebalances where kafkalab's sticky assignors used to differ from Java's, with Java's answers.

``data/java_sticky_cases.json`` holds rebalances of groups of 10-16 members with unequal subscriptions and
stale (older-generation) claims, and the assignment Kafka's own ``AbstractStickyAssignor`` (and
``CooperativeStickyAssignor``'s adjustment) computed for them when compiled from Kafka's source and given
the same inputs, members in the same order (the coordinator's). The order of ``members`` matters: it is
the order a Java ``HashMap`` saw them inserted in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafkalab.sim.assignors import CooperativeStickyAssignor, MemberSubscription, StickyAssignor

CASES = json.loads((Path(__file__).parent / "data" / "java_sticky_cases.json").read_text())


@pytest.mark.parametrize(
    ("mode", "case"),
    [("sticky", c) for c in CASES["sticky"]] + [("coop", c) for c in CASES["coop"]],
    ids=[f"sticky-{i}" for i in range(len(CASES["sticky"]))]
    + [f"coop-{i}" for i in range(len(CASES["coop"]))],
)
def test_same_assignment_as_java(mode: str, case: dict) -> None:  # type: ignore[type-arg]
    subs = {
        mid: MemberSubscription(mid, tuple(topics), tuple((t, p) for t, p in owned), gen)
        for mid, gen, topics, owned in case["members"]
    }
    assignor = CooperativeStickyAssignor() if mode == "coop" else StickyAssignor()
    got = assignor.assign(case["partitions_per_topic"], subs)
    want = {m: sorted((t, p) for t, p in tps) for m, tps in case["java"].items()}
    assert {m: sorted(got.get(m, [])) for m in want} == want
