"""Shared steps of the UI tests: typing commands, reading the panels."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, RichLog

from kafkalab.ui.app import KafkaLabApp

from .screen_text import renderable_text

CREATE = "kafka-topics --bootstrap-server localhost:9092 --create --topic events --partitions 3 --replication-factor 3"


async def run_command(pilot: Pilot[Any], line: str) -> None:
    """Put ``line`` in the console input and press enter, as a learner would."""
    app = pilot.app
    inp = app.query_one("#console-input", Input)
    inp.focus()
    inp.value = line
    inp.cursor_position = len(line)
    await pilot.press("enter")
    await pilot.pause()


def console_lines(app: KafkaLabApp) -> list[str]:
    log = app.query_one("#console-output", RichLog)
    return [strip.text.rstrip() for strip in log.lines]


def table_rows(app: KafkaLabApp) -> dict[str, list[str]]:
    """Partition name -> the plain text of its cells in the topics table."""
    from kafkalab.ui.widgets import TopicsTable

    table = app.query_one(TopicsTable)
    out = {}
    for row_key in table.rows:
        cells = table.get_row(row_key)
        out[str(row_key.value)] = [renderable_text(c).strip() for c in cells]
    return out


async def produce(pilot: Pilot[Any], topic: str, records: list[tuple[str, str]]) -> None:
    """Produce key:value records through kafka-console-producer, then end its input (ctrl+d)."""
    await run_command(
        pilot,
        f"kafka-console-producer --bootstrap-server localhost:9092 --topic {topic} "
        "--property parse.key=true --property key.separator=:",
    )
    for key, value in records:
        await run_command(pilot, f"{key}:{value}")
    await pilot.press("ctrl+d")
    await pilot.pause()


async def lesson_opened(pilot: Pilot[Any]) -> None:
    """Wait until the lesson's opening lines are in the console (they are written after a screen refresh,
    so a command typed at once could land before them and a snapshot would vary)."""
    for _ in range(50):
        if any("time moves only with your commands" in line for line in console_lines(pilot.app)):  # type: ignore[arg-type]
            return
        await pilot.pause(0.02)
    raise AssertionError("the lesson's opening lines never appeared")
