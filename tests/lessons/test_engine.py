"""The lesson engine: validation with file:line messages, the run API, the CLI and the progress store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kafkalab.cli import main
from kafkalab.lessons import LessonError, LessonRun, ProgressStore, check_path, load_lesson, parse_lesson
from kafkalab.lessons import progress as progress_mod

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
    text: Write two records.
    goals:
      - high_watermark: {partition: t-0, at_least: 2}
      - ran_command: kafka-topics --list
    hints: [first hint, second hint]
    question:
      prompt: Which offset does the first record get?
      choices: ["0", "1"]
      answer: "0"
      explain: Offsets start at 0.
    solution:
      - produce t v --partition 0 --count 2
      - kafka-topics --list
  - title: Read
    text: Read them.
    goals:
      - records_consumed: {topic: t, at_least: 2}
    solution:
      - kafka-console-consumer --topic t --partition 0 --offset earliest
      - run 1s
"""


def issues_of(text: str, name: str = "bad.yaml") -> list[str]:
    with pytest.raises(LessonError) as e:
        parse_lesson(text, name)
    return [str(i) for i in e.value.issues]


def test_a_good_lesson_parses() -> None:
    lesson = parse_lesson(GOOD, "tiny.yaml")
    assert [s.title for s in lesson.steps] == ["Write", "Read"]
    assert lesson.goals[0].text == "the high watermark of t-0 is at least 2"


def test_yaml_syntax_error_has_file_and_line() -> None:
    text = GOOD.replace("    text: Write two records.", "    text: [unclosed")
    (issue,) = issues_of(text)
    assert issue.startswith(("bad.yaml:11:", "bad.yaml:12:")) and "YAML syntax error" in issue
    text = GOOD.replace("  brokers: 1", "  brokers: 1\n   bad: indent")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:7:") and "YAML syntax error" in issue


def test_missing_field_points_at_its_mapping() -> None:
    text = GOOD.replace("title: A tiny lesson\n", "")
    assert issues_of(text) == ["bad.yaml:1: the lesson is missing the field 'title'"]
    text = GOOD.replace("    text: Read them.\n", "")
    assert issues_of(text) == ["bad.yaml:24: step 2 is missing the field 'text'"]


def test_unknown_goal_predicate_points_at_the_goal() -> None:
    text = GOOD.replace("      - ran_command: kafka-topics --list", "      - leader_moved: t-0")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:14: unknown goal predicate 'leader_moved'")


def test_bad_goal_arguments_are_reported_with_lines() -> None:
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t0, at_least: two}")
    assert issues_of(text) == ["bad.yaml:13: 't0' is not a partition (write it as TOPIC-N, e.g. events-0)"]
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0, at_least: two}")
    assert issues_of(text) == ["bad.yaml:13: 'at_least' must be a whole number, 0 or more"]
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0}")
    assert issues_of(text) == ["bad.yaml:13: high_watermark needs one of equals, at_least, at_most"]
    text = GOOD.replace("{partition: t-0, at_least: 2}", "{partition: t-0, at_least: 2, colour: red}")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:13: high_watermark has no argument 'colour'")


def test_bad_command_in_solution_points_at_its_line() -> None:
    text = GOOD.replace("      - kafka-topics --list\n", "      - kafka-topcis --list\n")
    assert issues_of(text) == [
        "bad.yaml:23: bad command 'kafka-topcis --list': unknown command 'kafka-topcis'"
    ]
    text = GOOD.replace("      - run 1s", "      - run soon")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:30: bad command 'run soon'")
    text = GOOD.replace("--partition 0 --offset earliest", "--partition 0 --offzet earliest")
    (issue,) = issues_of(text)
    assert issue.startswith("bad.yaml:29: bad command") and "--offzet" in issue


def test_several_problems_are_all_reported() -> None:
    text = GOOD.replace("level: beginner", "level: expert").replace(
        "      - ran_command: kafka-topics --list", "      - nope: 1"
    )
    got = issues_of(text)
    assert got[0] == "bad.yaml:3: level must be one of beginner, intermediate, advanced, not 'expert'"
    assert got[1].startswith("bad.yaml:14: unknown goal predicate 'nope'")


def test_lessons_check_cli_prints_file_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text(
        GOOD.replace("id: tiny", "id: broken").replace("kafka-topics --list\n", "frobnicate\n")
    )
    assert main(["lessons", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "broken.yaml:23: bad command 'frobnicate'" in out[0]
    assert main(["lessons", "check", str(tmp_path / "tiny.yaml")]) == 0
    assert main(["lessons", "check"]) == 0


def test_the_id_must_match_the_file_name(tmp_path: Path) -> None:
    f = tmp_path / "other.yaml"
    f.write_text(GOOD)
    n, issues = check_path(f)
    assert n == 1 and [i.message for i in issues] == ["id 'tiny' must match the file name 'other'"]


def test_lesson_cli_refuses_a_broken_lesson_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD.replace("      - nope", "").replace("level: beginner", "level: 3"))
    assert main(["lesson", str(f), "--headless", "--solve"]) == 2
    assert "tiny.yaml:3: 'level' must be non-empty text" in capsys.readouterr().err
    assert main(["lesson", "no-such-lesson", "--headless", "--solve"]) == 2


def test_headless_solve_prints_goals_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD)
    assert main(["lesson", str(f), "--headless", "--solve"]) == 0
    out = capsys.readouterr().out
    assert "[x] the high watermark of t-0 is at least 2" in out and "3 of 3 goals reached" in out
    f.write_text(GOOD.replace("at_least: 2}", "at_least: 3}"))
    assert main(["lesson", str(f), "--headless", "--solve"]) == 1
    assert "[ ] the high watermark of t-0 is at least 3" in capsys.readouterr().out


def test_lessons_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path))
    assert main(["lessons", "list"]) == 0
    assert "acks-durability" in capsys.readouterr().out


def test_run_api_latches_goals_hints_questions_and_advance(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD)
    store = ProgressStore(tmp_path / "data")
    run = LessonRun(load_lesson(f), progress=store)
    try:
        assert [g.reached for g in run.goal_status()] == [False, False]
        assert run.hint() == "first hint" and run.hint() == "second hint" and run.hint() == "second hint"
        assert run.question is not None and run.reveal().startswith("0. Offsets start at 0.")
        assert not run.advance()
        r = run.execute("produce t v --partition 0 --count 2")
        assert r.ok
        assert [g.reached for g in run.goal_status()] == [True, False]
        assert not run.execute("kafka-topics --lisst").ok
        assert [g.reached for g in run.goal_status()] == [True, False]
        run.execute("kafka-topics --list")
        assert run.step_complete and run.advance()
        assert run.current_step.title == "Read"
        assert store.get("tiny") == {**store.get("tiny"), "step": 1, "completed": False}  # type: ignore[dict-item]
        run.execute("kafka-console-consumer --topic t --partition 0 --offset earliest")
        run.tick(1000)
        assert run.finished
        assert not run.advance()
        assert store.get("tiny")["completed"] is True  # type: ignore[index]
    finally:
        run.close()


def test_scheduled_faults_fire_as_time_passes(tmp_path: Path) -> None:
    text = GOOD.replace("  brokers: 1\n", "  brokers: 2\n  faults:\n    - {at: 2s, command: kill-broker 2}\n")
    run = LessonRun(parse_lesson(text, "tiny.yaml"))
    try:
        run.tick(1500)
        assert all(b.state == "up" for b in run.session.cluster.describe_cluster().brokers)
        run.tick(1000)
        states = {b.broker_id: b.state for b in run.session.cluster.describe_cluster().brokers}
        assert states == {1: "up", 2: "down"}
    finally:
        run.close()


# -- progress store -------------------------------------------------------------------------------------


def test_data_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path / "k"))
    assert progress_mod.data_dir() == tmp_path / "k"
    monkeypatch.delenv("KAFKALAB_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert progress_mod.data_dir() == tmp_path / "xdg" / "kafkalab"


def test_progress_round_trip_and_no_temp_files_left(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    assert store.all() == {}
    assert store.record("a", 1, False) and store.record("a", 2, False) and store.record("b", 3, True)
    again = ProgressStore(tmp_path)
    assert again.get("a")["step"] == 2 and again.get("b")["completed"] is True  # type: ignore[index]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.json", "progress.json.bak"]


def test_a_corrupt_progress_file_falls_back_to_the_previous_good_copy(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    store.record("a", 1, False)
    store.record("b", 2, False)
    store.path.write_text('{"version": 1, "lessons": {"a": {"st')  # torn write
    assert ProgressStore(tmp_path).get("a")["step"] == 1  # type: ignore[index]
    store.path.write_bytes(b"\x00\xff garbage")
    assert ProgressStore(tmp_path).get("a") is not None
    store.backup.write_text("[]")
    assert ProgressStore(tmp_path).all() == {}  # both unreadable: empty, never a crash
    assert store.record("c", 1, False)  # and saving works again
    assert ProgressStore(tmp_path).get("c") is not None


def test_a_crash_during_the_write_keeps_the_old_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ProgressStore(tmp_path)
    store.record("a", 1, False)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    assert store.record("a", 5, True) is False
    assert store.last_error is not None and "disk full" in store.last_error
    monkeypatch.undo()
    assert json.loads(store.path.read_text())["lessons"]["a"]["step"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_progress_in_an_unwritable_place_does_not_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = ProgressStore(blocker / "sub")
    assert store.record("a", 1, False) is False and store.all() == {}
