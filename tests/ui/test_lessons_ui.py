"""Pilot tests of lessons in the lab: the browser, the lesson pane, goals noticed live, questions, progress.

Every test keeps its progress in ``tmp_path`` (``KAFKALAB_DATA_DIR``) and runs without the wall-clock timer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from kafkalab.cli import main
from kafkalab.lessons import LESSONS_DIR, ProgressStore, load_lesson
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.screens.lessons import LessonBrowser
from kafkalab.ui.widgets.lesson_pane import LessonPane

from .helpers import console_lines, lesson_opened, run_command
from .screen_text import screen_text

BROKEN = """\
id: broken-one
title: A broken lesson
level: expert
concepts: [oops]
setup:
  brokers: 3
steps:
  - title: One
    text: nothing here
    goals:
      - no_such_goal: 1
    solution: [heal]
"""


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(d))
    return d


def lab(**kw: Any) -> KafkaLabApp:
    return create_app(autoplay=False, cursor_blink=False, **kw)


def pane_goals(app: KafkaLabApp) -> list[tuple[str, bool]]:
    """(goal, reached) as the lesson pane shows them now."""
    view = app.query_one(LessonPane).lesson
    assert view is not None
    return list(view.goals)


async def pick_in_browser(pilot: Pilot[Any], lesson_id: str) -> None:
    """With the browser open, move down to ``lesson_id`` and press enter, as a learner would."""
    browser = pilot.app.screen
    assert isinstance(browser, LessonBrowser)
    target = next(i for i, e in enumerate(browser.entries) if e.key == lesson_id)
    await pilot.press("home")
    for _ in range(target):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def test_browser_open_lesson_reach_goal_and_advance(data_dir: Path) -> None:
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:
        assert not app.query_one(LessonPane).display
        await pilot.press("f9")
        await pilot.pause()
        browser = app.screen
        assert isinstance(browser, LessonBrowser)
        text = screen_text(app)
        assert "Producers and acks 0, 1 and all" in text and "not started" in text
        assert "beginner" in text and "durability" in text
        await pick_in_browser(pilot, "acks-durability")

        assert not isinstance(app.screen, LessonBrowser)
        run = app.lesson_run
        assert run is not None and run.lesson.id == "acks-durability"
        assert app.session is run.session
        assert app.query_one(LessonPane).display
        text = screen_text(app)
        assert "step 1/4" in text and "○ you ran 'partition 3'" in text
        assert "payments-0" in text  # the lesson's own cluster, set up by the lesson

        for line in run.current_step.solution:  # the reference solution of step 1, typed in the console
            await run_command(pilot, line)
        text = screen_text(app)
        assert "✓ you ran 'partition 3'" in text and "Step complete" in text
        assert "progress saved" in text
        saved = json.loads((data_dir / "progress.json").read_text())["lessons"]["acks-durability"]
        assert saved["step"] == 1 and not saved["completed"]

        await pilot.press("f12")  # next step
        await pilot.pause()
        assert run.step_index == 1
        text = screen_text(app)
        assert "step 2/4" in text and "Write with acks=0 and acks=1" in text
        assert [reached for _text, reached in pane_goals(app)] == [False, False]


async def test_goal_is_noticed_as_time_passes() -> None:
    """A goal that only time reaches (a new leader after the session timeout) turns ✓ on the tick path."""
    lesson = load_lesson("acks-durability")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_lesson(lesson, at_step=2)  # steps 1-2 replayed: the leader is cut off
        await pilot.pause()
        run = app.lesson_run
        assert run.step_index == 2 and "resumed at step 3" in "\n".join(console_lines(app))
        assert not run.step_complete
        app.advance(15_000)  # what the sim-tick timer does, in virtual time
        await pilot.pause()
        assert run.step_complete
        assert pane_goals(app) == [(run.current_step.goals[0].text, True)]
        assert "Step complete" in screen_text(app)


async def test_console_words_and_hint_key() -> None:
    app = lab(lesson=load_lesson("acks-durability"), progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "hint")
        assert any(line.startswith("hint 1: kafka-topics --describe") for line in console_lines(app))
        await pilot.press("escape")  # out of the console: single-letter keys work
        await pilot.press("h")
        await pilot.pause()
        assert any(line.startswith("hint 2: partition 3") for line in console_lines(app))
        text = screen_text(app)
        assert "hint 1:" in text and "hint 2:" in text
        await run_command(pilot, "next")
        assert app.lesson_run.step_index == 0  # goals not reached: no next step
        assert any("not reached yet" in line for line in console_lines(app))


async def test_lesson_only_verbs_go_through_the_lesson() -> None:
    app = lab(lesson=load_lesson("delivery-semantics"), progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "start-copier amo --mode at_most_once --from orders --to copy-amo")
        lines = console_lines(app)
        assert not any(line.startswith("error:") for line in lines), lines
        for line in app.lesson_run.current_step.solution[1:]:
            await run_command(pilot, line)
        assert app.lesson_run.step_complete
        assert pane_goals(app) == [("some records of orders never reached copy-amo", True)]
        assert "✓ some records of orders never" in screen_text(app)


async def test_question_pick_then_reveal() -> None:
    app = lab(lesson=load_lesson("batching"), progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        text = screen_text(app)
        assert "Predict:" in text and "patient's batches" in text
        assert "1. 1" in text and "2. about 20" in text and "3. 16384" in text
        choices = app.query_one("#lesson-choices", OptionList)
        choices.focus()
        await pilot.press("home", "down", "down", "enter")  # 16384: the wrong one
        await pilot.pause()
        run = app.lesson_run
        assert run.revealed
        text = screen_text(app)
        assert "Not quite: about 20" in text
        view = app.query_one(LessonPane).lesson
        assert view.picked == 2 and "linger.ms closes each batch" in view.explanation
        assert "Not quite: about 20. In 100 ms" in text  # the explanation, scrolled into view
        assert "✓ about 20" in text and "✗ 16384" in text
        await pilot.press("enter")  # a second pick changes nothing
        await pilot.pause()
        assert "Not quite: about 20" in screen_text(app)


async def test_progress_resumes_and_completion_is_shown(data_dir: Path) -> None:
    lesson = load_lesson("topics-partitions-offsets")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        run = app.lesson_run
        for line in run.current_step.solution:
            await run_command(pilot, line)
        assert run.step_complete
    assert ProgressStore(data_dir).get(lesson.id)["step"] == 1

    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        run = app.lesson_run
        assert run.step_index == 1
        assert "step 2/3" in screen_text(app)
        assert any("resumed at step 2" in line for line in console_lines(app))
        while True:
            for line in run.current_step.solution:
                await run_command(pilot, line)
            assert run.step_complete, run.goal_status()
            if run.finished:
                break
            await pilot.press("f12")
            await pilot.pause()
        text = screen_text(app)
        assert "Lesson complete" in text
        assert ProgressStore(data_dir).get(lesson.id)["completed"]
        await pilot.press("f9")
        await pilot.pause()
        assert "completed" in screen_text(app)


async def test_broken_lesson_is_listed_not_fatal(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(LESSONS_DIR / "keys-partitioning.yaml", lessons)
    (lessons / "broken-one.yaml").write_text(BROKEN)
    app = lab(lessons_dir=lessons, open_browser=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LessonBrowser)
        text = screen_text(app)
        assert "broken-one.yaml" in text and "broken lesson file" in text
        assert "broken-one.yaml:3: level must be one of" in text.replace("\n", " ")
        assert "Keys and partitioning" in text
        await pick_in_browser(pilot, "broken-one")
        assert isinstance(app.screen, LessonBrowser)  # not opened, the app still runs
        assert app.lesson_run is None
        assert any("broken" in n.title for n in app._notifications)
        await pick_in_browser(pilot, "keys-partitioning")
        assert app.lesson_run is not None and app.lesson_run.lesson.id == "keys-partitioning"


async def test_pane_toggles_on_a_small_terminal() -> None:
    app = lab(lesson=load_lesson("acks-durability"), progress=ProgressStore())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.query_one(LessonPane)
        right = app.query_one("#right")
        assert pane.display and not right.display  # the pane takes the Log tabs' place
        assert "○ you ran 'partition 3'" in screen_text(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not pane.display and right.display
        assert "Log" in screen_text(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert pane.display


async def test_restart_starts_the_step_over() -> None:
    lesson = load_lesson("acks-durability")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        for line in app.lesson_run.current_step.solution:
            await run_command(pilot, line)
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("f8")
        await pilot.pause()
        run = app.lesson_run
        assert run.step_index == 1 and app.session is run.session
        assert "payments" in run.session.cluster.topics()


def test_cli_broken_lesson_prints_file_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken-one.yaml"
    path.write_text(BROKEN)
    assert main(["lesson", str(path)]) == 2
    err = capsys.readouterr().err
    assert "broken-one.yaml:3: level must be one of" in err
    assert main(["lessons", "check", str(path)]) == 1
    assert main(["lessons", "list"]) == 0


def test_lesson_snapshot(snap_compare: Any) -> None:
    async def solve_first_step(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KafkaLabApp)
        await lesson_opened(pilot)  # its opening lines come after a refresh: before "hint", always
        await run_command(pilot, "hint")
        for line in app.lesson_run.current_step.solution:
            await run_command(pilot, line)
        await pilot.pause()

    app = lab(lesson=load_lesson("acks-durability"), progress=ProgressStore())
    assert snap_compare(app, terminal_size=(120, 40), run_before=solve_first_step)


async def test_answer_typed_in_the_console() -> None:
    app = lab(lesson=load_lesson("batching"), progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "answer 9")
        assert app.query_one(LessonPane).lesson.picked is None
        assert any("answer 1 to 3" in line for line in console_lines(app))
        await run_command(pilot, "answer 2")
        view = app.query_one(LessonPane).lesson
        assert view.picked == 1 == view.answer_index
        assert "Right. In 100 ms" in screen_text(app)
        assert any(line == "right: about 20" for line in console_lines(app))
