"""Every shipped lesson: valid, in the course, no goal reached at the start, and every path of every step
behaves (solutions and alternatives reach every goal, wrong paths reach none) - what `lessons check` runs.

The clusters of these tests write their segment files under a RAM disk when there is one (the paths run
a few hundred small clusters; on a disk, creating their files costs more than simulating them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kafkalab.lessons import (
    PREDICATES,
    LessonRun,
    check_lesson_paths,
    load_all,
    load_course,
    load_lesson,
)
from kafkalab.lessons.course import check_course
from kafkalab.lessons.loader import lesson_files
from kafkalab.lessons.paths import _run_solutions

FILES = lesson_files()
IDS = [f.stem for f in FILES]

COURSE = {
    "topics-partitions-offsets",
    "keys-partitioning",
    "acks-durability",
    "min-insync-replicas",
    "batching",
    "idempotent-producer",
    "consumers-offsets",
    "consumer-groups-rebalancing",
    "assignors",
    "delivery-semantics",
    "replication-failover",
    "unclean-leader-election",
    "kraft-controller-failover",
    "segments-retention",
    "log-compaction",
    "cli-tour",
    "schema-evolution",
    "connect-pipeline",
    "streams-word-count",
    "streams-windowed-store",
    "ksqldb-windowed-count",
    "mirrormaker-failover",
    "kafka-alternatives",
    "reading-segments",
    "reassign-partitions",
    "slow-consumer",
    "long-poll-fetch",
    "retention-bytes",
    "adding-partitions",
}


@pytest.fixture(autouse=True)
def ram_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    shm = Path("/dev/shm")
    if shm.is_dir():
        monkeypatch.setattr(tempfile, "tempdir", str(shm))
    yield


def test_every_shipped_lesson_loads_and_the_course_lists_each_once() -> None:
    lessons, issues = load_all()
    assert issues == []
    assert {lesson.id for lesson in lessons} == COURSE
    course, course_issues = load_course()
    assert course_issues == [] and check_course() == []
    assert sorted(course.order) == sorted(COURSE)  # every lesson has its place in the course
    position = {lid: i for i, lid in enumerate(course.order)}
    for lesson in lessons:
        assert all(position[r] < position[lesson.id] for r in lesson.requires), lesson.id
        for step in lesson.steps:
            if step.goals:  # three paths per step: the solution, an alternative, a mistake
                assert step.solution and step.alternatives and step.wrong, (lesson.id, step.title)


@pytest.mark.parametrize("lesson_id", IDS)
def test_no_goal_of_the_first_step_is_reached_when_the_lesson_opens(lesson_id: str) -> None:
    """(Later steps: the paths check that no goal holds when its step begins.)"""
    run = LessonRun(load_lesson(lesson_id))
    try:
        reached = [g.text for g in run.lesson.steps[0].goals if g.evaluate(run.ctx)]
        assert reached == []
        assert not run.step_complete
        assert not run.advance()
    finally:
        run.close()


@pytest.mark.parametrize("lesson_id", IDS)
def test_every_path_of_every_step(lesson_id: str) -> None:
    """Solution and alternatives reach every goal of their step (no goal held before, no command failed);
    every wrong path reaches none of its step's goals, at any moment."""
    lesson = load_lesson(lesson_id)
    results = check_lesson_paths(lesson)
    failed = [r.describe() + "\n  " + "\n  ".join(r.transcript[-12:]) for r in results if not r.ok]
    assert failed == []
    kinds = {(r.step, r.kind) for r in results}
    for i, step in enumerate(lesson.steps):
        if step.goals:
            assert {(i, "solution"), (i, "alternative"), (i, "wrong")} <= kinds


#: lessons whose clusters run consumer groups, copiers or busy producers (seconds, not milliseconds)
COSTLY = [
    "delivery-semantics",
    "consumer-groups-rebalancing",
    "assignors",
    "batching",
    "consumers-offsets",
    "connect-pipeline",  # its predicates also have tests of their own (tests/lessons/test_goals_platform.py)
    # Kafka Streams instances and MirrorMaker: their predicates have tests of their own (test_goals_streams)
    "streams-word-count",
    "streams-windowed-store",
    "ksqldb-windowed-count",
    "mirrormaker-failover",
    "slow-consumer",  # these two: tests/lessons/test_goals_ops.py
    "reading-segments",
]


def _cheapest_lessons() -> dict[str, str]:
    """predicate -> the cheapest shipped lesson that uses it"""
    costly = COSTLY
    lessons, _ = load_all()
    lessons.sort(key=lambda x: (costly.index(x.id) if x.id in costly else -1, x.id))
    out: dict[str, str] = {}
    for lesson in lessons:
        for g in lesson.goals:
            out.setdefault(g.predicate, lesson.id)
    return out


CHEAPEST = _cheapest_lessons()
#: predicates checked in the normal run: those of cheap lessons (KAFKALAB_LESSON_MUTATIONS=1: all)
MUTATED = sorted(
    p for p, lid in CHEAPEST.items() if os.environ.get("KAFKALAB_LESSON_MUTATIONS") or lid not in COSTLY
)


@pytest.mark.parametrize("predicate", MUTATED)
def test_breaking_a_goal_predicate_fails_the_check(predicate: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every predicate the lessons use is checked both ways: a version that always holds is caught (its
    goal holds before its step begins), and one that never holds is caught (the solution misses it)."""
    import dataclasses

    lesson = load_lesson(CHEAPEST[predicate])
    real = PREDICATES[predicate]
    steps = {i for i, s in enumerate(lesson.steps) if any(g.predicate == predicate for g in s.goals)}
    for value in (True, False):

        def measure(_ctx: Any, _a: Any, value: bool = value) -> Any:
            if real.counting:
                return 10**9 if value else None
            return value

        monkeypatch.setitem(PREDICATES, predicate, dataclasses.replace(real, measure=measure))
        results = _run_solutions(lesson)
        assert any(not r.ok for r in results if r.step in steps), (predicate, value)
        monkeypatch.setitem(PREDICATES, predicate, real)


def test_every_goal_predicate_is_documented_for_lesson_authors() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "writing-lessons.md").read_text()
    missing = [name for name in PREDICATES if f"| `{name}` |" not in doc]
    assert missing == []
