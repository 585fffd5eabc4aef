"""Pilot tests of time travel in the lab app: `.` lands on the next timeline event, rewind then redo comes
back to the very same run (trace hash), a long trip shows its progress, the branch list hides outside inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel_meaning import step_next
from kafkalab.lessons import ProgressStore, load_lesson
from kafkalab.ui import timetravel_ui
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.screens import RewindScreen
from kafkalab.ui.screens.confirm import ConfirmScreen
from kafkalab.ui.widgets import StatusBar
from kafkalab.ui.widgets.lesson_pane import LessonPane

from .helpers import console_lines, run_command
from .screen_text import screen_text

SETUP = [
    "kafka-topics --create --topic events --partitions 3 --replication-factor 3 --config min.insync.replicas=2",
    "start-producer p1 --topic events --rate 20",
    "start-consumer c1 --topic events --group g1",
]


def make_app() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


def status_text(app: KafkaLabApp) -> str:
    return app.query_one(StatusBar).render().plain


async def test_full_stop_lands_on_the_next_timeline_event_as_the_session_does() -> None:
    # the same commands, at the same points, on a session of its own: where '.' must land
    twin = LabSession(brokers=3, seed=42)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for line in SETUP:
            await run_command(pilot, line)
            assert execute(twin, line).ok
        app.advance(1_500)
        twin.tick(1_500)
        await run_command(pilot, "kill-broker 2")
        assert execute(twin, "kill-broker 2").ok
        assert app.session.cluster.trace_hash() == twin.cluster.trace_hash()
        await pilot.press("escape")  # out of the console: '.' is a key now, not text
        await pilot.pause()
        for _ in range(2):
            expected = step_next(twin)
            assert expected.found is not None
            entries = len(app.session.cluster.timeline)
            await pilot.press("full_stop")
            await pilot.pause()
            # right after the event that made the entry, and nothing more: the twin's very run
            assert (app.session.events, app.session.cluster.trace_hash()) == (
                twin.events,
                twin.cluster.trace_hash(),
            )
            assert expected.found.text in [e.text for e in app.session.cluster.timeline[entries:]]
            assert f"next {expected.found.kind}: " in status_text(app)
        assert not app.playing
    twin.close()


async def test_rewind_then_redo_returns_to_the_same_trace_hash() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for line in SETUP:
            await run_command(pilot, line)
        app.advance(4_500)
        await pilot.pause()
        tip = (app.session.events, app.session.now_ms, app.session.cluster.trace_hash())
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, RewindScreen)
        await pilot.press(*"3s", "enter")  # the point in time to go to, with its unit
        await pilot.pause()
        assert app.view.now_ms == 3_000 and app.view.events < tip[0]
        assert "branch 1" in " ".join(console_lines(app))
        await pilot.press("ctrl+y")  # redo
        await pilot.pause()
        assert (app.session.events, app.session.now_ms, app.session.cluster.trace_hash()) == tip
        assert app.view.events == tip[0] and "redo" in status_text(app)
        # the branch list shows commands, never the bytes of outside inputs
        await run_command(pilot, "branches")
        assert "now: t = " in " ".join(console_lines(app))


async def test_a_long_trip_shows_its_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timetravel_ui, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(timetravel_ui, "PROGRESS_EVERY_S", 0.0)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.session.travel.enabled = False  # no checkpoints: a rewind replays from the seed (a long trip)
        for line in SETUP[:2]:
            await run_command(pilot, line)
        app.advance(4_000)
        await run_command(pilot, "rewind --to 2s")
        shown = list(app.trip_progress)
        assert shown and all(line.startswith("⏳ rewinding to t = 2.000 s") for line in shown)
        assert app.view.now_ms == 2_000 and "rewound to t = 2.000 s" in " ".join(console_lines(app))
        # another session's trips (a lesson's scratch run, a benchmark) are not this screen's
        other = LabSession(brokers=1, seed=1)
        other.travel.enabled = False
        execute(other, "kafka-topics --create --topic t --partitions 1 --replication-factor 1")
        other.tick(500)
        other.rewind_to(100)
        assert app.trip_progress == shown
        other.close()


async def test_goals_shown_after_a_rewind_and_a_redo_match_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5 to before the failover unticks the step's goals on the pane; ctrl+y (redo) ticks them again."""
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path))
    lesson = load_lesson("acks-durability")
    app = create_app(autoplay=False, cursor_blink=False, lesson=lesson, progress=ProgressStore())

    def goals() -> list[bool]:
        view = app.query_one(LessonPane).lesson
        assert view is not None
        return [reached for _text, reached in view.goals]

    async with app.run_test(size=(120, 40)) as pilot:
        app.open_lesson(lesson, at_step=2)
        await pilot.pause()
        run = app.lesson_run
        assert run is not None
        start_ms = run.session.now_ms
        for line in run.current_step.solution:
            await run_command(pilot, line)
        tip = (run.session.events, run.session.cluster.trace_hash())
        assert goals() == [True, True] and "Step complete" in screen_text(app)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, RewindScreen)
        await pilot.press(*f"{(start_ms + 9_300) / 1000}s", "enter")  # before the new leader
        await pilot.pause()
        assert run.session.now_ms == start_ms + 9_300 and run.step_index == 2
        assert goals() == [False, False] and "Step complete" not in screen_text(app)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert (run.session.events, run.session.cluster.trace_hash()) == tip
        assert goals() == [True, True] and "Step complete" in screen_text(app)


async def test_a_command_typed_after_stepping_does_not_silently_replace_the_sandbox() -> None:
    """After '.' the table has the focus; 'list-groups' typed there is 'l' (lessons) and then Enter opens the
    highlighted lesson: that would end the sandbox, its commands and branches, so it asks (No by default)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for line in SETUP[:2]:
            await run_command(pilot, line)
        app.advance(1_000)
        await pilot.press("escape", "full_stop")
        await pilot.pause()
        session, events = app.session, app.session.events
        await pilot.press(*"list-groups", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "ends this sandbox session: its 2 command(s)" in app.screen.question
        await pilot.press("enter")  # the focused answer: no
        await pilot.pause()
        assert app.lesson_run is None and app.session is session and session.events == events
        assert len(session.actions) == 2
        # nothing of the default kinds happens without a producer or a failure: '.' says so in full
        await run_command(pilot, "stop p1")
        await pilot.press("escape", "full_stop")
        await pilot.pause()
        assert any(x.startswith("next: nothing of those kinds in 60 s; ran ") for x in console_lines(app)), (
            console_lines(app)[-3:]
        )
