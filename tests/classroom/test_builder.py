"""The lesson builder: a scripted sandbox session exported as a lesson passes ``kafkalab lessons check``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kafkalab.classroom.builder import ExportError, export_lesson
from kafkalab.cli import main
from kafkalab.commands import LabSession, execute
from kafkalab.lessons import LessonRun, load_lesson

STORY = [
    "kafka-topics --create --topic payments --partitions 1 --replication-factor 3",
    "start-consumer c1 --topic payments --group billing --from-beginning",
    "start-consumer c2 --topic payments --group billing --from-beginning",
    "run 5s",
    'note "Cut the leader, broker 3, off from the others, and write with acks=1"',
    "partition 3 1,2,controller-3000",
    "produce payments card --acks 1 --count 3",
    "note The controller elects a new leader",
    "run 15s",
    "note A consumer crashes: the group notices after session.timeout.ms",
    "crash-consumer c2",
    "run 50s",
]


def session(lines: list[str]) -> LabSession:
    s = LabSession(brokers=3, seed=42, broker_config={"offsets.topic.num.partitions": 1})
    for line in lines:
        r = execute(s, line)
        assert r.ok, (line, r.error)
    return s


def test_an_exported_lesson_passes_lessons_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = session(STORY)
    path, report = export_lesson(s, tmp_path / "acks-one-story.yaml")
    lesson = load_lesson(path)
    # the set-up and the solutions replay the session's run: the story the goals were proposed from
    run = LessonRun(lesson)
    run.solve()
    assert (run.session.position(), run.session.cluster.trace_hash()) == (
        s.position(),
        s.cluster.trace_hash(),
    )
    run.close()
    s.close()
    # setup: the commands before the first note; one step per note, its text from the note
    assert lesson.setup.commands[:3] == tuple(STORY[:3]) and lesson.setup.commands[3].startswith("run ")
    assert [st.text for st in lesson.steps] == [
        "Cut the leader, broker 3, off from the others, and write with acks=1",
        "The controller elects a new leader",
        "A consumer crashes: the group notices after session.timeout.ms",
    ]
    # goals proposed from what happened: records lost, leader changed, the group rebalanced
    preds = {st.title: {g.predicate for g in st.goals} for st in lesson.steps}
    assert {"records_lost", "leader_changed"} <= preds["The controller elects a new leader"]
    assert {"member_removed", "group_generation"} <= set().union(*preds.values())
    assert report.paths == report.paths_ok == 3 * len(lesson.steps)
    assert main(["lessons", "check", str(path)]) == 0
    assert "0 with problems" in capsys.readouterr().err
    # the author fills in the text: still a valid lesson
    text = path.read_text()
    assert "TODO" in text
    filled = re.sub(r'"TODO:[^"]*"', '"Written by the author."', text)
    path.write_text(filled)
    assert main(["lessons", "check", "--no-run", str(path)]) == 0


def test_without_notes_every_command_is_a_step(tmp_path: Path) -> None:
    s = session([line for line in STORY[:7] if not line.startswith("note")] + ["run 15s"])
    path, report = export_lesson(s, tmp_path / "no-notes.yaml")
    s.close()
    lesson = load_lesson(path)
    assert lesson.setup.commands[0] == STORY[0]  # the leading topic creation (and the time until step 1)
    assert all(st.goals and st.solution and st.wrong and st.alternatives for st in lesson.steps)
    assert report.paths_ok == report.paths


def test_nothing_to_check_says_why(tmp_path: Path) -> None:
    s = session(STORY[:1] + ["run 1s"])
    with pytest.raises(ExportError, match="no action after its set-up"):
        export_lesson(s, tmp_path / "empty.yaml")
    with pytest.raises(ExportError, match="cannot be a lesson id"):
        export_lesson(s, tmp_path / "Bad Name.yaml")
    s.close()
