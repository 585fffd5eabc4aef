"""Lessons with several clusters (setup.clusters, topics and goals per cluster) and ksqlDB lines in paths."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafkalab.lessons import LessonError, LessonRun, check_lesson_paths, parse_lesson
from kafkalab.lessons.loader import command_issue

TWO = """\
id: two
title: Two clusters
level: advanced
concepts: [clusters]
setup:
  clusters: {east: 1, west: 2}
  topics:
    - {name: t, partitions: 1, replication_factor: 1, cluster: east}
    - {name: t, partitions: 2, replication_factor: 2, cluster: west}
    - {name: only-east, partitions: 1, replication_factor: 1}
steps:
  - title: Write to west
    text: Write to west's t.
    goals:
      - high_watermark: {topic: t, cluster: west, at_least: 2}
    solution:
      - use-cluster west
      - produce t v --count 2
    alternatives:
      - why: one at a time
        commands:
          - use-cluster west
          - produce t v
          - produce t w
    wrong:
      - why: east's t is another topic
        commands:
          - produce t v --count 2
  - title: Write to east
    text: Back to east.
    goals:
      - high_watermark: {topic: t, at_least: 1}
    solution:
      - use-cluster east
      - produce t v
    alternatives:
      - why: the topic of east only
        commands:
          - use-cluster east
          - produce t v --count 3
    wrong:
      - why: still on west
        commands:
          - produce t v
"""


@pytest.fixture(autouse=True)
def ram_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if Path("/dev/shm").is_dir():
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    yield


def issues_of(text: str) -> list[str]:
    with pytest.raises(LessonError) as e:
        parse_lesson(text, "bad.yaml")
    return [str(i) for i in e.value.issues]


def test_a_lesson_with_two_clusters_sets_up_each_and_its_goals_look_where_they_say() -> None:
    lesson = parse_lesson(TWO, "two.yaml")
    assert lesson.setup.clusters == (("east", 1), ("west", 2))
    assert [(t.name, t.cluster) for t in lesson.setup.topics] == [
        ("t", "east"),
        ("t", "west"),
        ("only-east", None),
    ]
    assert lesson.goals[0].text.endswith("(on cluster west)")
    run = LessonRun(lesson)
    try:
        world = run.session._w.world
        assert run.session.cluster is world["east"]  # the setup ends on the first cluster
        assert sorted(world["east"].topics()) == ["only-east", "t"]
        assert [p.partition for p in world["west"].describe_topic("t")] == [0, 1]
        assert "only-east" not in world["west"].topics()
        assert not run.step_complete
        # a goal without 'cluster' looks at the first cluster, whichever one the console is on
        run.execute("use-cluster west")
        run.execute("produce t v --count 2")
        assert run.step_complete
        run.advance()
        run.execute("produce t v")  # still on west: east's t is empty
        assert not run.step_complete
        run.execute("use-cluster east")
        run.execute("produce t v")
        assert run.step_complete
    finally:
        run.close()


def test_every_path_of_a_two_cluster_lesson_runs() -> None:
    results = check_lesson_paths(parse_lesson(TWO, "two.yaml"))
    assert [r.describe() for r in results if not r.ok] == []
    assert len(results) == 6


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("clusters: {east: 1, west: 2}", "clusters: {east: 1}", "'clusters' names 2 to 4 clusters"),
        ("clusters: {east: 1, west: 2}", "clusters: [east, west]", "'clusters' maps cluster names"),
        ("clusters: {east: 1, west: 2}", "clusters: {east: 1, 9west: 2}", "bad cluster name '9west'"),
        (
            "clusters: {east: 1, west: 2}",
            "clusters: {east: 1, west: 12}",
            "'west' must be a whole number from 1 to 9",
        ),
        ("clusters: {east: 1, west: 2}", "clusters: {east: 1, west: 2}\n  brokers: 3", "not 'brokers'"),
        ("cluster: west}", "cluster: north}", "there is no cluster 'north'"),
        ("replication_factor: 2, cluster: west", "replication_factor: 2, cluster: east", "of cluster east"),
        (
            "{topic: t, cluster: west, at_least: 2}",
            "{topic: t, cluster: north, at_least: 2}",
            "cluster 'north'",
        ),
        (
            "{topic: t, cluster: west, at_least: 2}",
            "{topic: t, cluster: [w], at_least: 2}",
            "'cluster' must be",
        ),
    ],
)
def test_cluster_mistakes_are_reported_with_their_line(old: str, new: str, expect: str) -> None:
    assert old in TWO
    found = issues_of(TWO.replace(old, new, 1))
    assert any(expect in i for i in found), found
    assert all(i.startswith("bad.yaml:") and int(i.split(":")[1]) > 0 for i in found)


def test_a_topic_cluster_needs_several_clusters() -> None:
    one = TWO.replace("clusters: {east: 1, west: 2}", "brokers: 2").replace(", cluster: east", "", 1)
    found = issues_of(one)
    assert any("'cluster' needs several clusters" in i for i in found), found
    assert any("which the setup does not have" in i for i in found), found


def test_ksql_statements_in_paths_are_checked_with_the_grammar() -> None:
    assert command_issue("SELECT * FROM pageviews EMIT CHANGES;") is None
    assert (
        command_issue("create stream s (k string key) with (kafka_topic='t', value_format='json');") is None
    )
    issue = command_issue("SELECT * FROM;")
    assert issue is not None and "Syntax" in issue
    assert command_issue("CREATE TABLE") is not None
