"""Pilot tests of lessons in the lab: the time model, goals as facts, predictions, stuck learners, the course.

Every test keeps its progress in ``tmp_path`` (``KAFKALAB_DATA_DIR``) and runs without the wall-clock timer:
wall-clock gaps are simulated through the app's own tick path (``_last_wall`` moved back, ``_run_tick``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from kafkalab.cli import main
from kafkalab.lessons import LESSONS_DIR, LessonRun, ProgressStore, load_lesson
from kafkalab.lessons.loader import lesson_files, load_all
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.messages import CommandSubmitted
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
    if Path("/dev/shm").is_dir():  # the lessons' clusters write their segment files there
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
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


def read_slowly(app: KafkaLabApp, seconds: float) -> None:
    """The learner reads for ``seconds`` of wall time: the app's timer ticks, and they try the play key."""
    before = (app.session.now_ms, app.session.events)
    app._last_wall -= seconds  # as if that much wall time passed since the last tick
    app._run_tick()
    if not app.lesson_run.current_step.play:
        app.action_toggle_play()  # F2: refused, this step moves time only with commands
        assert not app.playing
        app._last_wall -= seconds
        app._run_tick()
    assert (app.session.now_ms, app.session.events) == before  # reading moved nothing


def play_out(app: KafkaLabApp) -> None:
    """The play key was pressed in a step that asks for it: tick (15 s of wall time each) until it pauses."""
    for _ in range(10_000):
        if not app.playing:
            return
        app._last_wall -= 15
        app._run_tick()
    raise AssertionError("play never paused by itself")


async def complete_in_the_app(pilot: Pilot[Any], gap_s: float, typed: bool = True) -> None:
    """Type every step's solution with ``gap_s`` of reading (and a press of the play key) before each
    command and prediction, and go on with 'next'. ``typed=False`` hands the lines to the app's console
    handler directly (the same path, without redrawing the screen after every line)."""
    app = pilot.app
    assert isinstance(app, KafkaLabApp)
    run = app.lesson_run

    async def enter(line: str) -> None:
        if typed:
            await run_command(pilot, line)
        else:
            app.on_command_submitted(CommandSubmitted(line))

    while True:
        step = run.current_step
        read_slowly(app, gap_s)
        if step.question is not None:
            await enter(f"answer {len(step.question.choices)}")  # not always the right one
        for line in step.solution:
            read_slowly(app, gap_s)
            await enter(line)
            if line == "play":
                play_out(app)
        await pilot.pause()
        assert run.step_complete, (run.lesson.id, step.title, run.unmet())
        assert not run.unmet()
        if run.finished:
            return
        await enter("next")


@pytest.mark.parametrize("lesson_file", lesson_files(), ids=lambda f: f.stem)
async def test_every_lesson_completes_however_long_the_learner_reads(lesson_file: Path) -> None:
    """Each shipped lesson, opened in the lab and typed with 15 s of reading before every command, ends
    complete: the app's clock moves nothing in a lesson (a play step plays until its goals hold)."""
    app = lab(progress=ProgressStore())
    async with app.run_test(size=(80, 24)) as pilot:
        lesson = load_lesson(lesson_file)
        assert app.open_lesson(lesson)
        await pilot.pause()
        assert not app.playing and app.session is app.lesson_run.session
        await complete_in_the_app(pilot, gap_s=15, typed=False)
        assert app.lesson_run.finished
        # the pane scrolls to the takeaway after its next refresh; a loaded machine is slow
        for _ in range(40):
            await pilot.pause()
            if "Lesson complete" in screen_text(app):
                break
            await pilot.pause(0.05)
        assert "Lesson complete" in screen_text(app), lesson.id


async def test_the_same_commands_give_the_same_trace_at_any_speed() -> None:
    """At 0.1x and at 100x, reading or not, the lesson's run is the headless run: same trace hash (a lesson
    with a play step, which the wall clock drives)."""
    lesson = load_lesson("replication-failover")
    headless = LessonRun(lesson)
    try:
        headless.solve()
        expected = (headless.session.now_ms, headless.session.cluster.trace_hash())
    finally:
        headless.close()
    for speed, gap in ((0.1, 0.5), (100.0, 15.0)):
        app = lab(lesson=lesson, progress=ProgressStore())
        async with app.run_test(size=(120, 40)) as pilot:
            app.set_speed(speed)
            await complete_in_the_app(pilot, gap_s=gap, typed=speed < 1)
            assert (app.session.now_ms, app.session.cluster.trace_hash()) == expected
            assert app.view is not None and app.view.clock != ""  # the status bar names the lesson clock


async def test_a_goal_that_becomes_false_again_shows_as_unmet() -> None:
    """The issue's case: a rewind after the goals were reached must not leave them ticked."""
    lesson = load_lesson("acks-durability")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_lesson(lesson, at_step=2)
        await pilot.pause()
        run = app.lesson_run
        start_ms = run.session.now_ms
        for line in run.current_step.solution:
            await run_command(pilot, line)
        assert [r for _t, r in pane_goals(app)] == [True, True]
        assert "Step complete" in screen_text(app)
        app.rewind_to(start_ms + 9_300)  # F5: before the new leader, after the step began
        await pilot.pause()
        assert run.step_index == 2
        assert [r for _t, r in pane_goals(app)] == [False, False]
        text = screen_text(app)
        assert "Step complete" not in text, text
        assert "○ partition payments-0 has a new" in text
        await run_command(pilot, "next")  # and the lesson says what is missing
        assert run.step_index == 2
        assert "Not done yet" in screen_text(app)


async def test_predict_before_the_step_and_reveal_after_the_experiment(data_dir: Path) -> None:
    app = lab(lesson=load_lesson("batching"), progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        run = app.lesson_run
        text = screen_text(app)
        assert "Predict first:" in text and "1. 1" in text and "2. about 20" in text and "3. 16384" in text
        assert "Start two producers" not in text  # the step text (the experiment) waits for the pick
        assert "(shown after your prediction)" in text
        await run_command(pilot, "start-producer eager --topic metrics --rate 200 --linger-ms 0")
        assert "eager" not in run.session.clients  # the experiment waits for the prediction
        assert any("predict first" in line for line in console_lines(app))
        await run_command(pilot, "status")  # looking is allowed
        choices = app.query_one("#lesson-choices", OptionList)
        choices.focus()
        await pilot.press("home", "down", "down", "enter")  # 16384: the wrong one
        await pilot.pause()
        text = screen_text(app)
        assert "Your pick: 16384" in text and "Start two producers" in text
        assert "Not quite" not in text and "Right." not in text  # no verdict before the experiment
        saved = json.loads((data_dir / "progress.json").read_text())["lessons"]["batching"]
        assert saved["predictions"] == {"0": {"picked": "16384", "right": False}}
        for line in run.current_step.solution:
            await run_command(pilot, line)
        view = app.query_one(LessonPane).lesson
        assert view.revealed and "linger.ms closes each batch" in view.explanation
        text = screen_text(app)
        assert "Not quite: about 20" in text and "✓ about 20" in text and "✗ 16384" in text


async def test_a_stuck_learner_is_told_what_is_missing_and_can_restart_the_step() -> None:
    lesson = load_lesson("acks-durability")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        run = app.lesson_run
        for line in run.current_step.solution:
            await run_command(pilot, line)
        await run_command(pilot, "next")
        await run_command(pilot, "run 15s")  # the mistake of the issue: the controller elects a new leader
        await run_command(pilot, "produce payments card --acks 1 --count 3")
        await run_command(pilot, "next")
        assert run.step_index == 1
        lines = console_lines(app)
        assert "not done yet:" in lines
        assert any("stuck? 'restart-step'" in x for x in lines)
        text = screen_text(app)
        assert "Not done yet" in text and "'restart-step' (F8)" in text
        await run_command(pilot, "restart-step")
        new = app.lesson_run
        assert new is not run and new.step_index == 1 and app.session is new.session
        assert new.session.now_ms < 1_000  # step 2 begins again right after the partition
        assert any("step 2 restarted" in x for x in console_lines(app))
        for line in new.current_step.solution:
            await run_command(pilot, line)
        assert new.step_complete


async def test_the_browser_shows_the_course_and_suggests_the_next_lesson(data_dir: Path) -> None:
    ProgressStore(data_dir).record("topics-partitions-offsets", 3, True)
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        browser = app.screen
        assert isinstance(browser, LessonBrowser)
        assert [e.key for e in browser.entries][:2] == ["topics-partitions-offsets", "cli-tour"]
        assert [e.number for e in browser.entries] == list(range(1, len(load_all()[0]) + 1))
        text = screen_text(app)
        assert "First steps" in text and "Replication and durability" in text
        assert "completed" in text and "◀ next" in text
        highlighted = browser.entries[browser.query_one(OptionList).highlighted or 0]
        assert highlighted.key == "cli-tour" and highlighted.suggested
        await pick_in_browser(pilot, "acks-durability")
        run = app.lesson_run
        assert run is not None and run.lesson.id == "acks-durability" and app.session is run.session
        assert not app.playing
        text = screen_text(app)
        assert "step 1/4" in text and "time moves with your commands" in text


async def test_progress_resumes_and_completion_suggests_the_next_lesson(data_dir: Path) -> None:
    lesson = load_lesson("topics-partitions-offsets")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        for line in app.lesson_run.current_step.solution:
            await run_command(pilot, line)
        assert app.lesson_run.step_complete
    assert ProgressStore(data_dir).get(lesson.id)["step"] == 1  # type: ignore[index]

    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.lesson_run.step_index == 1
        assert any("resumed at step 2" in line for line in console_lines(app))
        await complete_in_the_app(pilot, gap_s=1, typed=False)
        text = screen_text(app)
        assert "Lesson complete" in text and "next in the course: cli-tour" in text
        assert ProgressStore(data_dir).get(lesson.id)["completed"]  # type: ignore[index]


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
        assert "○ broker 3 is cut off" in screen_text(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not pane.display and right.display
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert pane.display


async def test_console_words_hint_key_and_f8_restart() -> None:
    lesson = load_lesson("acks-durability")
    app = lab(lesson=lesson, progress=ProgressStore())
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "hint")
        assert any(line.startswith("hint 1: kafka-topics --describe") for line in console_lines(app))
        await pilot.press("escape")  # out of the console: single-letter keys work
        await pilot.press("h")
        await pilot.pause()
        assert any(line.startswith("hint 2: partition 3") for line in console_lines(app))
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
    assert main(["lessons", "check", "--no-run", str(path)]) == 1


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
