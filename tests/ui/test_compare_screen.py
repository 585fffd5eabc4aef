"""The Compare screen: the numbers it shows are run_comparison's, and every record's fate is one key away."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from kafkalab.compare import run_comparison
from kafkalab.ui.app import KafkaLabApp, create_app
from kafkalab.ui.screens.compare import DEFAULT_CHOICE, SCOREBOARD_ROWS, CompareScreen

from .screen_text import renderable_text, screen_text

SCHEDULE = "consumer-crash"
RECORDS = 40


def lab() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


async def open_and_run(pilot: Pilot[Any], records: int = RECORDS, schedule: str = SCHEDULE) -> CompareScreen:
    """F10 from the lab, choose the schedule and the record count, run, wait for the worker thread."""
    app = pilot.app
    await pilot.press("f10")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    screen.query_one("#cmp-schedule", Select).value = schedule
    screen.query_one("#cmp-count", Input).value = str(records)
    await pilot.pause()
    await pilot.press("ctrl+r")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.result is not None
    return screen


def cell(table: DataTable[Any], row: str, column: str) -> str:
    """The number in a scoreboard cell (problem counts also carry ✗, or ✓ for none)."""
    return renderable_text(table.get_cell(row, column)).strip().removesuffix(" ✗").removesuffix(" ✓")


async def test_compare_screen_shows_run_comparison_numbers_and_fates() -> None:
    expected = run_comparison(42, SCHEDULE, list(DEFAULT_CHOICE), RECORDS)
    app = lab()
    async with app.run_test(size=(120, 40)) as pilot:
        app.playing = True  # the lab pauses while the compare screen is open, and plays again after
        screen = await open_and_run(pilot)
        assert not app.playing
        board = screen.query_one("#cmp-scoreboard", DataTable)
        assert [str(c.value) for c in board.columns] == list(DEFAULT_CHOICE)
        for sb in expected.scoreboards():
            for key, _label, attr, _problem in SCOREBOARD_ROWS:
                assert cell(board, key, sb.setup) == str(getattr(sb, attr)), (sb.setup, key)
        # ...and on screen, row by row
        text = screen_text(app)
        for key, label in (("lost", "lost"), ("duplicated", "duplicated"), ("delivered", "delivered")):
            line = next(ln for ln in text.splitlines() if ln.strip("│ ").startswith(label + " "))
            numbers = [int(w) for w in line.strip("│ ").split() if w.isdigit()]
            assert numbers == [getattr(expected.scoreboard(s), key) for s in DEFAULT_CHOICE], line
        assert expected.scoreboard("at-most-once").lost > 0  # the schedule does lose records there

        # the ledger of at-most-once lists only the problems; pick a lost record
        assert screen.setup == "at-most-once"
        records = screen.query_one("#cmp-records", DataTable)
        lost = [f for f in expected.ledger("at-most-once") if f.outcome == "lost"]
        assert [str(k.value) for k in records.rows] == [str(f.index) for f in lost]
        records.focus()
        await pilot.press("down")
        await pilot.pause()
        fate = lost[1]
        shown = renderable_text(screen.query_one("#cmp-fate", Static).content, width=120)
        assert fate.value in shown and "lost because" in shown
        assert fate.verdict.split(";")[0].split(" at ")[0] in " ".join(shown.split())
        assert fate.cause is not None and fate.cause.event in shown

        # all records, then the next setup's ledger
        await pilot.press("p")
        await pilot.pause()
        assert len(records.rows) == RECORDS
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.setup == "at-least-once"
        assert board.cursor_column == 1

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)
        assert app.playing


async def test_compare_screen_rejects_a_bad_form_and_opens_from_the_palette() -> None:
    app = lab()
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Compare delivery guarantees" in titles
        await pilot.press("escape", "c")  # out of the console, then c
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        screen.query_one("#cmp-count", Input).value = "0"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.result is None and not screen.running
        assert "between 1 and" in renderable_text(screen.query_one("#cmp-status", Static).content)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_compare_screen_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_and_pick(pilot: Pilot[Any]) -> None:
        await open_and_run(pilot)
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(lab(), terminal_size=size, run_before=run_and_pick)
