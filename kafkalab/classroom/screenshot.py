"""``kafkalab screenshot FILE.svg``: a picture of the lab for course material, taken headless.

The app runs without a terminal (Textual's ``run_test``), opened on a lesson step (``--lesson ID --step N``,
optionally after the step's solution: ``--solved``), on a scenario stop (``--scenario FILE --stop N``) or
on a fresh sandbox, at a chosen size, in presenter mode if asked; then the screen is saved as SVG. The
learner's saved progress is not touched (the lesson runs with a throwaway progress store).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["take_screenshot"]


async def _settle(pilot: Any, rounds: int = 4) -> None:
    for _ in range(rounds):
        await pilot.pause()


async def _shoot(
    out: Path,
    size: tuple[int, int],
    *,
    lesson: Any = None,
    step: int = 1,
    solved: bool = False,
    scenario: Any = None,
    stop: int = 0,
    present: bool = False,
    seed: int = 42,
    brokers: int = 3,
) -> Path:
    from ..lessons import ProgressStore
    from ..ui.app import create_app
    from ..ui.messages import ChoicePicked, CommandSubmitted

    with tempfile.TemporaryDirectory(prefix="kafkalab-shot-") as tmp:
        app = create_app(
            brokers=brokers,
            seed=seed,
            autoplay=False,
            cursor_blink=False,
            lesson=lesson,
            progress=ProgressStore(tmp) if lesson is not None else None,
            scenario=scenario,
        )
        async with app.run_test(size=size) as pilot:
            await _settle(pilot)
            if lesson is not None and step > 1:
                app.open_lesson(lesson, at_step=step - 1)
                await _settle(pilot)
            if lesson is not None and solved:
                run = app.lesson_run
                q = run.current_step.question
                if q is not None:
                    app.on_choice_picked(ChoicePicked(q.answer_index))
                for line in run.current_step.solution:
                    app.post_message(CommandSubmitted(line))
                    await pilot.pause()
                await _settle(pilot)
            for _ in range(stop):
                app.scenario_next()
                await pilot.pause()
            if present:
                app.action_toggle_presenter()
            await _settle(pilot)
            return Path(app.save_screenshot(filename=out.name, path=str(out.parent)))


def take_screenshot(out: Path, size: tuple[int, int], **options: Any) -> Path:
    """Save the lab as SVG at ``out`` (see :func:`_shoot` for the options); returns the file written."""
    return asyncio.run(_shoot(out, size, **options))
