"""Presenter mode and the scenario player in the lab: snapshots at 100x30 (a projector's terminal), keys.

Snapshots are built from the app factory (``create_app``); regenerate with ``--snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kafkalab.classroom.scenario import Scenario, load_scenario, scenario_from_session
from kafkalab.commands import LabSession, execute
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.presenter import PROJECTOR_THEME, PresenterScreen

from .helpers import console_lines, run_command

PRESENTER = (100, 30)

STORY = [
    "kafka-topics --create --topic payments --partitions 2 --replication-factor 3",
    "run 1s",
    'note "Broker 3 leads payments-0: we cut it off and write with acks=1"',
    "partition 3 1,2,controller-3000",
    "produce payments card --acks 1 --count 3 --partition 0",
    "note The controller fences broker 3 and elects a new leader",
    "run 15s",
    "note Heal: broker 3 truncates its log, the acks=1 records are gone",
    "heal",
    "run 10s",
]


def story() -> Scenario:
    s = LabSession(brokers=3, seed=42)
    for line in STORY:
        assert execute(s, line).ok, line
    sc, _notes = scenario_from_session(s, "acks=1 loses records")
    s.close()
    return sc


def player_app(present: bool = True) -> KafkaLabApp:
    return create_app(autoplay=False, cursor_blink=False, scenario=story(), present=present)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()


async def type_presenting(pilot: Pilot[Any], line: str) -> None:
    """Esc moves to the presenter's command line; the line goes in as pasted, Enter runs it."""
    screen = pilot.app.screen
    assert isinstance(screen, PresenterScreen)
    inp = screen.query_one("#presenter-input", Input)
    if screen.focused is not inp:
        await pilot.press("escape")
    inp.value = line
    await pilot.press("enter")
    await pilot.pause()


def test_presenter_sandbox_snapshot(snap_compare: Any) -> None:
    """The projector theme, the cluster and one partition, the timeline, and the caption of a typed command."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KafkaLabApp)
        await settle(pilot)
        await type_presenting(
            pilot, "kafka-topics --create --topic events --partitions 3 --replication-factor 3"
        )
        await type_presenting(pilot, "kill-broker 1")
        await pilot.press("escape")  # back to the keys
        app.advance(12_000)
        await settle(pilot)

    app = create_app(autoplay=False, cursor_blink=False, present=True)
    assert snap_compare(app, terminal_size=PRESENTER, run_before=run_before)


def test_presenter_playing_a_scenario_snapshot(snap_compare: Any) -> None:
    """Stop 4 of the story: paused, what comes next, and the caption of what just happened."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n", "n", "right", "pagedown")
        await settle(pilot)

    assert snap_compare(player_app(), terminal_size=PRESENTER, run_before=run_before)


async def test_the_player_steps_plays_and_goes_back() -> None:
    app = player_app(present=False)
    recorded = LabSession(brokers=3, seed=42)
    for line in STORY:
        execute(recorded, line)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        p = app.player
        assert app.view is not None and app.view.clock.startswith("⏸ paused · stop 0 of 7")
        await pilot.press("f12")
        await settle(pilot)
        assert p.stops_done() == 1 and "stop 1 of 7" in app.view.clock
        await run_command(pilot, "next")
        assert p.stops_done() == 2
        # Space: time runs at the lab's speed and stops by itself after the next action
        app.playing = True
        while app.playing:
            app._sim_slice(50, float("inf"))
        assert p.stops_done() == 3 and "next: produce payments card" in app.view.clock
        await run_command(pilot, "back")
        await settle(pilot)
        assert p.stops_done() == 2
        assert any("back at stop 2 of 7" in line for line in console_lines(app))
        for _ in range(7):
            await run_command(pilot, "next")
        assert p.ended and app.view.clock.startswith("■ end of the scenario")
        assert app.session.cluster.trace_hash() == recorded.cluster.trace_hash()
    recorded.close()


async def test_record_export_and_presenter_from_the_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record and export-lesson in the console; ctrl+f in and out of presenter mode, with its theme; a
    command typed there is captioned with its reply, a typo with its error."""
    monkeypatch.chdir(tmp_path)
    app = create_app(autoplay=False, cursor_blink=False)
    async with app.run_test(size=PRESENTER) as pilot:
        await settle(pilot)
        for line in STORY[:5]:
            await run_command(pilot, line)
        await run_command(pilot, "record")
        assert "error: name the file: record [FILE.yaml]" in " ".join(console_lines(app)[-2:])
        await run_command(pilot, 'record story.yaml --title "A short story"')
        assert "saved scenario story.yaml (4 actions, 4 stops" in " ".join(console_lines(app)[-3:])
        sc = load_scenario(tmp_path / "story.yaml")
        assert sc.title == "A short story" and sc.entries[1].note == STORY[2][6:-1]
        (tmp_path / "other.yaml").write_text("keep me")
        await run_command(pilot, "record other.yaml")
        assert "exists: 'record other.yaml --force' replaces it" in " ".join(console_lines(app)[-2:])
        assert (tmp_path / "other.yaml").read_text() == "keep me"
        await run_command(pilot, "export-lesson Not-An-Id.yaml")
        assert "'Not-An-Id' cannot be a lesson id" in " ".join(console_lines(app)[-2:])

        before = app.theme
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, PresenterScreen) and app.theme == PROJECTOR_THEME.name
        await type_presenting(pilot, "kill-broker 2")
        await settle(pilot)
        _title, lines = app.screen.caption
        assert lines[0] == "$ kill-broker 2" and lines[1].startswith("  broker 2 killed (kill -9)")
        await type_presenting(pilot, "kill-brokr 3")  # a typo: the caption says what is wrong
        assert any(line.startswith("  error: unknown command 'kill-brokr'") for line in app.screen.caption[1])
        await pilot.press("escape", "n")  # back to the keys; n: the next timeline event (no scenario here)
        await settle(pilot)
        assert app.session.now_ms >= 9000  # broker 2 fenced after broker.session.timeout.ms
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert not isinstance(app.screen, PresenterScreen) and app.theme == before
