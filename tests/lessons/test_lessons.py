"""Every shipped lesson is valid, starts with no goal reached, and its reference solution reaches every goal."""

from __future__ import annotations

import pytest

from kafkalab.lessons import LessonRun, load_all, load_lesson
from kafkalab.lessons.model import lesson_files

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
}


def test_every_shipped_lesson_loads_and_the_course_is_complete() -> None:
    lessons, issues = load_all()
    assert issues == []
    assert {lesson.id for lesson in lessons} == COURSE
    for lesson in lessons:
        assert lesson.goals, lesson.id
        assert lesson.solution, lesson.id


@pytest.mark.parametrize("lesson_id", IDS)
def test_no_goal_is_reached_before_the_solution_runs(lesson_id: str) -> None:
    run = LessonRun(load_lesson(lesson_id))
    try:
        reached = [g.text for g in run.lesson.goals if g.evaluate(run.ctx)]
        assert reached == []
        assert not run.step_complete
        assert not run.advance()
    finally:
        run.close()


@pytest.mark.parametrize("lesson_id", IDS)
def test_the_reference_solution_reaches_every_goal(lesson_id: str) -> None:
    run = LessonRun(load_lesson(lesson_id))
    try:
        report = run.solve()
        missed = [s.description for _i, s in report.statuses if not s.reached]
        assert missed == [], "\n".join(report.lines)
        assert len(report.statuses) == len(run.lesson.goals)
        assert not any("ERROR" in line for line in report.lines), "\n".join(report.lines)
    finally:
        run.close()
