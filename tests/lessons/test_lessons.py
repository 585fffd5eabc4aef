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


def test_a_rewind_replays_lesson_verbs_and_rebuilds_their_copiers() -> None:
    """start-copier / copier-step are session actions: going back and forth gives the same world."""
    run = LessonRun(load_lesson("delivery-semantics"))
    s = run.session
    for line in (
        "start-copier amo --mode at_most_once --from orders --to copy-amo",
        "copier-step amo --count 2 --crash-before-commit",
        "restart-copier amo",
        "copier-step amo --count 1",
    ):
        assert run.execute(line).ok, line
    assert [line for _t, line in s.actions][-4:][0].startswith("start-copier amo")
    copied = s.cluster.describe_topic("copy-amo")[0].high_watermark
    assert copied == 10  # 3 batches read, 2 written: at-most-once lost the one the crash interrupted
    before = (s.position(), s.cluster.trace_hash(), copied)
    old_copier = s.extension_state["copiers"]["amo"]
    s.replay()  # rebuild from the seed, re-running every action (the copier verbs among them)
    assert s.divergence is None
    assert (
        s.position(),
        s.cluster.trace_hash(),
        s.cluster.describe_topic("copy-amo")[0].high_watermark,
    ) == before
    new_copier = s.extension_state["copiers"]["amo"]
    assert new_copier is not old_copier and new_copier.cluster is s.cluster
    assert run.execute("copier-step amo --count 1").ok  # the rebuilt copier keeps working
    s.rewind_to(s.action_positions[-4][2] - 1)  # back to just before the crash step
    assert "amo" in s.extension_state["copiers"]
    assert not run.execute("start-copier amo --mode at_most_once --from orders --to x").ok  # exists
