"""The lesson engine: validation with file:line messages, the time model, goals as facts, paths, the CLI."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.lessons import (
    LessonError,
    LessonRun,
    ProgressStore,
    check_lesson_paths,
    check_path,
    load_lesson,
    parse_lesson,
)
from kafkalab.lessons.cli import format_course
from kafkalab.lessons.course import course_entries, load_course
from kafkalab.lessons.loader import load_all

GOOD = """\
id: tiny
title: A tiny lesson
level: beginner
concepts: [topic]
setup:
  brokers: 1
  topics:
    - {name: t, partitions: 2, replication_factor: 1}
steps:
  - title: Write
    question:
      prompt: Which offset does the first record get?
      choices: ["0", "1"]
      answer: "0"
      explain: Offsets start at 0.
    text: Write two records.
    goals:
      - high_watermark: {partition: t-0, at_least: 2}
      - ran_command: kafka-topics --list
    hints: [first hint, second hint]
    solution:
      - produce t v --partition 0 --count 2
      - kafka-topics --list
    alternatives:
      - why: one at a time
        commands:
          - produce t v --partition 0
          - produce t w --partition 0
          - kafka-topics --list
    wrong:
      - why: the other partition
        commands:
          - produce t v --partition 1 --count 2
  - title: Read
    text: Read them.
    goals:
      - records_consumed: {topic: t, at_least: 2}
    solution:
      - kafka-console-consumer --topic t --partition 0 --offset earliest
      - run 1s
    alternatives:
      - why: wait-for
        commands:
          - kafka-console-consumer --topic t --partition 0 --offset earliest
          - wait-for caught-up console-consumer-1
    wrong:
      - why: the empty partition
        commands:
          - kafka-console-consumer --topic t --partition 1 --offset earliest
          - run 1s
"""


@pytest.fixture(autouse=True)
def ram_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if Path("/dev/shm").is_dir():
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    yield


def issues_of(text: str, name: str = "bad.yaml") -> list[str]:
    with pytest.raises(LessonError) as e:
        parse_lesson(text, name)
    return [str(i) for i in e.value.issues]


# -- the file format ------------------------------------------------------------------------------------


def test_a_good_lesson_parses() -> None:
    lesson = parse_lesson(GOOD, "tiny.yaml")
    assert [s.title for s in lesson.steps] == ["Write", "Read"]
    assert lesson.goals[0].text == "the high watermark of t-0 is at least 2"
    step = lesson.steps[0]
    assert step.alternatives[0].why == "one at a time" and step.alternatives[0].line == 25
    assert step.wrong[0].commands == ("produce t v --partition 1 --count 2",)


def test_yaml_syntax_error_has_file_and_line() -> None:
    text = GOOD.replace("    text: Write two records.", "    text: [unclosed")
    (issue,) = issues_of(text)
    assert issue.startswith(("bad.yaml:17:", "bad.yaml:18:")) and "YAML syntax error" in issue
    text = GOOD.replace("  brokers: 1", "  brokers: 1\n   bad: indent")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:7:") and "YAML syntax error" in issue


def test_missing_fields_and_paths_point_at_their_mapping() -> None:
    assert issues_of(GOOD.replace("title: A tiny lesson\n", "")) == [
        "bad.yaml:1: the lesson is missing the field 'title'"
    ]
    text = GOOD.replace("    alternatives:\n      - why: wait-for\n", "    other:\n      - why: wait-for\n")
    got = issues_of(text)
    assert any("step 2 has goals but no 'alternatives'" in g for g in got)
    text = GOOD.replace(
        "    wrong:\n      - why: the other partition\n", "    wrong: []\n    x:\n      - why: y\n"
    )
    assert any("step 1 has goals but no 'wrong'" in g for g in issues_of(text))


def test_unknown_goal_predicate_points_at_the_goal() -> None:
    text = GOOD.replace("      - ran_command: kafka-topics --list", "      - leader_moved: t-0")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:19: unknown goal predicate 'leader_moved'")


def test_bad_goal_arguments_are_reported_with_lines() -> None:
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t0, at_least: 2}")
    assert issues_of(text) == ["bad.yaml:18: 't0' is not a partition (write it as TOPIC-N, e.g. events-0)"]
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0, at_least: two}")
    assert issues_of(text) == ["bad.yaml:18: 'at_least' must be a whole number from 0 to 1000000000"]
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0}")
    assert issues_of(text) == ["bad.yaml:18: high_watermark needs one of equals, at_least, at_most"]


def test_bad_commands_in_every_path_point_at_their_line() -> None:
    text = GOOD.replace(
        "      - kafka-topics --list\n    alternatives", "      - kafka-topcis --list\n    alternatives"
    )
    assert issues_of(text) == [
        "bad.yaml:23: bad command 'kafka-topcis --list': unknown command 'kafka-topcis'"
    ]
    text = GOOD.replace("          - produce t w --partition 0", "          - produce t w --partitoin 0")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:28: bad command") and "--partitoin" in issue
    text = GOOD.replace(
        "          - wait-for caught-up console-consumer-1", "          - wait-for nothing-at-all"
    )
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:45: bad command 'wait-for nothing-at-all': no condition")
    text = GOOD.replace("      - run 1s\n    alternatives", "      - seed 7\n    alternatives")
    (issue,) = issues_of(text)
    assert "a lesson path must not depend on it" in issue


def test_a_long_hint_and_a_question_without_goals_are_refused() -> None:
    text = GOOD.replace("hints: [first hint, second hint]", "hints: [" + "word " * 20 + "]")
    (issue,) = issues_of(text)
    assert "a hint has at most 70 characters" in issue
    text = GOOD.replace(
        "    goals:\n      - high_watermark: {partition: t-0, at_least: 2}\n      - ran_command: kafka-topics --list\n",
        "",
    )
    got = issues_of(text)
    assert any("a step with a question needs goals" in g for g in got)


# -- limits: hostile or broken files are refused, never crash or hang the lab ---------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (BOMB, "anchors and aliases"),
        ("&a [*a]", "anchors and aliases"),
        ("a:" + " [" * 5000 + " ]" * 5000, "nested more than"),
        ("- " * 3000 + "x", "nested more than"),
        ("x: !!python/object:os.system ls", "tag"),
        ("x: '" + "y" * 30_000 + "'", "longer than"),
    ],
)
def test_hostile_yaml_is_refused_at_once(text: str, expect: str) -> None:
    (issue,) = issues_of(text)
    assert expect in issue


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("  brokers: 1\n", "  brokers: 1\n  run: 999999999999999999999999h\n", "run must be"),
        ("  brokers: 1\n", "  brokers: 1\n  run: 100000000000000000000\n", "at most 60 minutes"),
        ("  brokers: 1\n", "  brokers: 1\n  run: 1e20\n", "run must be"),
        ("  brokers: 1\n", "  brokers: 1\n  broker_config: {replica.lag.time.max.ms: abc}\n", "Not a number"),
        ("  brokers: 1\n", "  brokers: 1\n  broker_config: {log.cleaner.backoff.ms: 0}\n", "at least 1"),
        ("  brokers: 1\n", "  brokers: 1\n  broker_config: {no.such.config: 1}\n", "unknown broker config"),
        ("  brokers: 1\n", "  brokers: 99999999999999999999\n", "'brokers' must be a whole number"),
        ("replication_factor: 1}", "replication_factor: 1, config: {retention.ms: soon}}", "Not a number"),
        ("      - run 1s\n    alternatives", "      - run 2000h\n    alternatives", "at most 60 minutes"),
        ("at_least: 2}", "at_least: 99999999999999999999}", "whole number from 0"),
    ],
)
def test_values_that_would_crash_or_hang_the_lab_are_refused(old: str, new: str, expect: str) -> None:
    text = GOOD.replace(old, new, 1)
    assert text != GOOD
    assert any(expect in i for i in issues_of(text)), issues_of(text)


def test_a_file_that_passes_the_check_opens(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(
        GOOD.replace(
            "  brokers: 1\n", "  brokers: 1\n  broker_config: {log.cleaner.backoff.ms: 1}\n  run: 2s\n"
        )
    )
    assert check_path(f) == (1, [])
    run = LessonRun(load_lesson(f))
    try:
        assert run.session.now_ms >= 2000
    finally:
        run.close()


# -- the CLI ------------------------------------------------------------------------------------------------


def test_lessons_check_runs_every_path_and_reports_file_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.yaml").write_text(GOOD)
    assert main(["lessons", "check", str(tmp_path / "tiny.yaml")]) == 0
    assert "6 paths run" in capsys.readouterr().err
    # a wrong path that reaches a goal, and an alternative that does not
    bad = GOOD.replace("produce t v --partition 1 --count 2", "produce t v --partition 0 --count 2").replace(
        "          - produce t w --partition 0\n", ""
    )
    (tmp_path / "tiny.yaml").write_text(bad)
    assert main(["lessons", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(
        "tiny.yaml:25: step 1: alternative path 'one at a time' fails: goal not reached" in line
        for line in out
    ), out
    assert any(
        "tiny.yaml:30: step 1: wrong path 'the other partition' fails: it reached a goal" in x for x in out
    )
    assert main(["lessons", "check", "--no-run", str(tmp_path)]) == 0


def test_lessons_check_on_several_cores_prints_what_one_core_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder's lessons run in worker processes when there are cores for them: same lines, same order."""
    bad = GOOD.replace("produce t v --partition 1 --count 2", "produce t v --partition 0 --count 2")
    (tmp_path / "a-tiny.yaml").write_text(bad.replace("id: tiny", "id: a-tiny"))
    (tmp_path / "b-tiny.yaml").write_text(GOOD.replace("id: tiny", "id: b-tiny"))
    (tmp_path / "c-tiny.yaml").write_text(bad.replace("id: tiny", "id: c-tiny"))
    runs = {}
    for cores in (1, 2):
        monkeypatch.setattr("os.sched_getaffinity", lambda _pid, n=cores: set(range(n)), raising=False)
        assert main(["lessons", "check", str(tmp_path)]) == 1
        runs[cores] = capsys.readouterr()
    assert runs[1].out == runs[2].out
    lines = runs[2].out.splitlines()
    assert [line.split(":")[0].rsplit("/", 1)[-1] for line in lines] == ["a-tiny.yaml", "c-tiny.yaml"], lines
    assert "18 paths run" in runs[2].err and "3 lesson files checked, 2 with problems" in runs[2].err


def test_the_id_must_match_the_file_name(tmp_path: Path) -> None:
    f = tmp_path / "other.yaml"
    f.write_text(GOOD)
    n, issues = check_path(f)
    assert n == 1 and [i.message for i in issues] == ["id 'tiny' must match the file name 'other'"]


def test_lesson_cli_refuses_a_broken_lesson_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD.replace("level: beginner", "level: 3"))
    assert main(["lesson", str(f), "--headless", "--solve"]) == 2
    assert "tiny.yaml:3: 'level' must be non-empty text" in capsys.readouterr().err
    assert main(["lesson", "no-such-lesson", "--headless", "--solve"]) == 2
    assert main(["lesson", "../../etc/passwd", "--headless", "--solve"]) == 2


def test_headless_solve_prints_goals_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD)
    assert main(["lesson", str(f), "--headless", "--solve"]) == 0
    out = capsys.readouterr().out
    assert "[x] the high watermark of t-0 is at least 2" in out and "3 of 3 goals reached" in out
    assert "predict: Which offset does the first record get?" in out
    f.write_text(GOOD.replace("at_least: 2}", "at_least: 3}"))
    assert main(["lesson", str(f), "--headless", "--solve"]) == 1
    assert "[ ] the high watermark of t-0 is at least 3" in capsys.readouterr().out


def test_lessons_list_is_the_course_in_order_with_progress_and_a_suggestion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path))
    assert main(["lessons", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in out)
    rows = [line for line in out if line[:3].strip().isdigit()]
    assert rows[0].split()[2] == "topics-partitions-offsets"  # the natural first lesson comes first
    assert out[-1] == "next: kafkalab lesson topics-partitions-offsets"
    store = ProgressStore(tmp_path)
    store.record("topics-partitions-offsets", 3, True)
    store.record("cli-tour", 1, False)
    assert main(["lessons", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"The kafkalab course: 1 of {len(load_all()[0])} lessons completed"
    assert any(r.startswith("  1 ✓ topics-partitions-offsets") for r in out)
    assert any(r.startswith("  2 ◐ cli-tour") and r.endswith(" 2/4") for r in out)
    assert out[-1] == "continue: kafkalab lesson cli-tour"


def test_the_course_suggests_the_first_lesson_whose_requirements_are_done() -> None:
    lessons, _ = load_all()
    course, _ = load_course()
    entries = course_entries(lessons, course, {"topics-partitions-offsets": {"completed": True}})
    text = format_course(entries)
    assert text[-1] == "next: kafkalab lesson cli-tour"
    unclean = next(e for e in entries if e.lesson.id == "unclean-leader-election")
    assert unclean.missing == ("replication-failover", "acks-durability")


def test_a_course_that_breaks_requires_is_reported(tmp_path: Path) -> None:
    from kafkalab.lessons.course import check_course

    (tmp_path / "tiny.yaml").write_text(GOOD.replace("concepts:", "requires: [later]\nconcepts:"))
    (tmp_path / "later.yaml").write_text(GOOD.replace("id: tiny", "id: later"))
    (tmp_path / "course.yaml").write_text("parts:\n  - title: All\n    lessons: [tiny, later, ghost]\n")
    got = [str(i) for i in check_course(tmp_path)]
    assert any("no lesson ghost.yaml" in g for g in got)
    assert any("requires 'later', which the course must list before tiny" in g for g in got)


# -- running: time, goals as facts, rewinds, predictions, play ------------------------------------------


def test_time_moves_only_through_commands_and_goals_are_facts(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD)
    store = ProgressStore(tmp_path / "data")
    run = LessonRun(load_lesson(f), progress=store)
    try:
        t0 = run.session.now_ms
        assert run.goal_status()[0].reached is False and run.session.now_ms == t0  # looking is free
        assert run.unmet()[0].startswith("the prediction is not answered yet")
        assert run.hint() == "first hint" and run.hint() == "second hint" and run.hint() == "second hint"
        assert run.reveal() == ""  # nothing before the pick
        assert run.answer(1) and not run.answer(0)  # the first pick counts
        assert store.get("tiny")["predictions"] == {"0": {"picked": "1", "right": False}}  # type: ignore[index]
        assert run.reveal() == ""  # picked, but the experiment has not shown the answer yet
        assert run.execute("produce t v --partition 0 --count 2").ok
        assert [g.reached for g in run.goal_status()] == [True, False]
        assert not run.advance()
        run.execute("kafka-topics --list")
        assert run.step_complete and run.reveal().startswith("0. Offsets start at 0.")
        # not latched: rewinding to before the records makes the goal false again
        assert run.execute(f"rewind --to {run.start_ms}").ok
        assert [g.reached for g in run.goal_status()] == [False, False]  # the typed command was undone too
        assert not run.advance()
        run.execute("produce t v --partition 0 --count 2")
        run.execute("kafka-topics --list")
        assert run.advance() and run.current_step.title == "Read"
        assert store.get("tiny")["step"] == 1  # type: ignore[index]
        start = run.step_starts[1]
        run.execute("kafka-console-consumer --topic t --partition 0 --offset earliest")
        run.execute("run 1s")
        assert run.finished and store.get("tiny") is not None
        # a rewind to before step 2 began takes the lesson back to step 1
        run.session.rewind_events(run.session.events - start + 1)
        assert run.sync() is not None and run.step_index == 0
    finally:
        run.close()


def test_the_same_commands_give_the_same_run_however_time_is_sliced(tmp_path: Path) -> None:
    """Reading time does not exist for a lesson; a run is a function of the commands alone."""
    lesson = load_lesson("replication-failover")
    hashes = set()
    for grain in (1, 37, 250, 10_000):
        run = LessonRun(lesson)
        try:
            run.execute("kill-broker 3")
            while not run.play(grain):  # the play key, in wall-clock ticks of different sizes
                pass
            assert run.session.now_ms % 100 == 0  # play stops on a 100 ms boundary
            run.execute("kafka-topics --describe --topic events")
            hashes.add((run.session.now_ms, run.session.cluster.trace_hash()))
        finally:
            run.close()
    assert len(hashes) == 1


def test_restarting_a_step_replays_the_earlier_solutions_deterministically() -> None:
    lesson = load_lesson("acks-durability")
    a, b = LessonRun.at_step(lesson, 3), LessonRun.at_step(lesson, 3)
    try:
        assert a.step_index == b.step_index == 3
        assert a.session.cluster.trace_hash() == b.session.cluster.trace_hash()
        assert a.session.now_ms == b.session.now_ms > 9000  # the new leader was elected in step 3
    finally:
        a.close()
        b.close()


def test_scheduled_faults_fire_as_time_passes_also_inside_wait_for(tmp_path: Path) -> None:
    text = GOOD.replace("  brokers: 1\n", "  brokers: 2\n  faults:\n    - {at: 2s, command: kill-broker 2}\n")
    run = LessonRun(parse_lesson(text, "tiny.yaml"))
    try:
        run.tick(1500)
        assert all(b.state == "up" for b in run.session.cluster.describe_cluster().brokers)
        r = run.execute("wait-for fenced 2")
        assert r.ok and "broker 2 is fenced" in r.lines[0]
        assert run.session.now_ms > 2000 + 8000  # killed at 2 s, fenced after broker.session.timeout.ms
    finally:
        run.close()


def test_lesson_verbs_have_help_and_the_compare_screens_words() -> None:
    run = LessonRun(load_lesson("delivery-semantics"))
    try:
        r = run.execute("help copier-step")
        assert r.ok and r.lines[0].startswith("copier-step: ") and any("--crash" in x for x in r.lines)
        assert any("start-copier" in x for x in run.execute("help").lines)
        assert run.execute("start-copier amo --mode at-most-once --from orders --to copy-amo").ok
        r = run.execute("start-copier x --mode sometimes --from orders --to copy-amo")
        assert not r.ok and "at-most-once, at-least-once, exactly-once" in (r.error or "")
        r = run.execute("copier-step amo --count 2 --crash")
        assert "after committing the offsets of its last batch, before writing" in r.lines[-1]
    finally:
        run.close()


def test_paths_report_a_goal_that_holds_before_its_step_begins() -> None:
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0, at_least: 0}")
    results = check_lesson_paths(parse_lesson(text, "tiny.yaml"))
    (bad,) = [r for r in results if not r.ok and r.kind == "solution"]
    assert "already holds when the step begins" in bad.describe()
