"""Snapshots of the lab screen: a fixed seed and a fixed sequence of actions, no wall-clock timer.

Regenerate after an intended change of the screen with ``pytest tests/ui --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kafkalab.lessons import ProgressStore, load_lesson
from kafkalab.ui.app import KafkaLabApp, create_app

from .helpers import lesson_opened, produce, run_command

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def lab() -> KafkaLabApp:
    return create_app(brokers=3, seed=42, autoplay=False, cursor_blink=False)


async def scenario(pilot: Pilot[Any]) -> None:
    """Topic, records, a consumer group, then the leader of events-0 dies and time passes."""
    app = pilot.app
    assert isinstance(app, KafkaLabApp)
    await run_command(
        pilot,
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3 "
        "--config min.insync.replicas=2",
    )
    await produce(pilot, "events", [(f"user-{i % 4}", f"click-{i}") for i in range(16)])
    await run_command(pilot, "start-consumer c1 --topic events --group g1 --from-beginning")
    app.advance(5_000)
    await pilot.pause()
    leader = next(p.leader for p in app.view.partitions if p.partition == 0)
    await run_command(pilot, f"kill-broker {leader}")
    app.advance(12_000)
    await pilot.pause()
    await pilot.press("escape", "down", "down")  # into the table, select events-2 (it has records)
    await pilot.pause()


@SIZES
def test_lab_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(lab(), terminal_size=size, run_before=scenario)


@SIZES
def test_lesson_screen(
    snap_compare: Any, size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lesson open beside the lab, its first step solved (progress kept in tmp_path)."""
    monkeypatch.setenv("KAFKALAB_DATA_DIR", str(tmp_path))

    async def solve_first_step(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KafkaLabApp)
        await lesson_opened(pilot)
        for line in app.lesson_run.current_step.solution:
            await run_command(pilot, line)
        await pilot.pause()

    app = create_app(
        autoplay=False, cursor_blink=False, lesson=load_lesson("acks-durability"), progress=ProgressStore()
    )
    assert snap_compare(app, terminal_size=size, run_before=solve_first_step)


def test_lab_screen_empty(snap_compare: Any) -> None:
    assert snap_compare(lab(), terminal_size=(80, 24))


def test_help_screen(snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[Any]) -> None:
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(lab(), terminal_size=(80, 24), run_before=open_help)
