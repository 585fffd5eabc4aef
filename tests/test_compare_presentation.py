"""How a comparison reads: one vocabulary and one set of defaults for ``kafkalab compare`` and the Compare
screen, layouts that fit 80 and 60 columns, lost and duplicated told apart without colour, fault times that
agree with the ledger."""

from __future__ import annotations

import argparse
import io
import re
from contextlib import redirect_stdout

import pytest
from rich.console import Console

from kafkalab.compare import (
    BUILTIN_SCHEDULES,
    DEFAULT_CHOICE,
    DEFAULT_RECORDS,
    DEFAULT_SCHEDULE,
    DEFAULT_SEED,
    MEASURES,
    add_arguments,
    fits_as_table,
    render_table,
    run_comparison,
)
from kafkalab.timeline_text import plain_entry
from kafkalab.ui.screens.compare import SCOREBOARD_ROWS, CompareScreen


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return run_comparison(DEFAULT_SEED, "leader-kill", ["at-least-once", "acks=1", "no-idem"], 30)


def _render(result, width: int) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(render_table(result, width=width))
    return console.export_text()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_cli_output_fits_its_width_and_names_every_measure(result, width: int) -> None:  # type: ignore[no-untyped-def]
    text = _render(result, width)
    assert max(len(line) for line in text.splitlines()) <= width
    for m in MEASURES:
        assert m.label in text, (width, m.label)
    # a lost or duplicated record is a word and a ✗, not only a colour
    acks1 = result.scoreboard("acks=1")
    assert acks1.lost > 0
    assert any(
        re.search(rf"(^|\s)lost\s+(\d+ [✗✓]\s+)*{acks1.lost} ✗", line) for line in text.splitlines()
    ), text
    assert "0 ✓" in text
    # the stacked layout below the table's width, the table above
    assert ("acks=1  producer acks=1" in text) == (not fits_as_table(result, width))


def test_fault_times_agree_with_the_ledger(result) -> None:  # type: ignore[no-untyped-def]
    kill = next(s for s in BUILTIN_SCHEDULES["leader-kill"].steps if s.kind == "kill-leader")
    text = " ".join(_render(result, 120).split())
    assert f"at {kill.at_ms} ms kill -9 the broker leading in-0" in text
    died = [f.verdict for f in result.ledger("acks=1") if "died at" in f.verdict]
    assert died and all(f"died at {kill.at_ms} ms" in v for v in died)
    assert all(f"at {kill.at_ms} ms" in kill.describe() for _ in (0,))
    # the causes are shown in plain language (no Python lists)
    for f in result.ledger("acks=1"):
        if f.cause is not None:
            assert "['" not in plain_entry(f.cause.event)


def test_cli_and_screen_share_defaults_and_words() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    screen = CompareScreen()
    assert (args.seed, args.faults, args.records) == (DEFAULT_SEED, DEFAULT_SCHEDULE, DEFAULT_RECORDS)
    assert (screen.seed, screen._schedule, screen._records) == (
        DEFAULT_SEED,
        DEFAULT_SCHEDULE,
        DEFAULT_RECORDS,
    )
    assert [label for _k, label, _a, _p in SCOREBOARD_ROWS] == [m.label for m in MEASURES]
    # "in" is the topic's name only: the sink is never called "in"
    assert not any(m.label.startswith("in ") for m in MEASURES)
    # without --setups the CLI compares what the screen ticks
    from kafkalab.compare import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(parser.parse_args(["--records", "5", "--json"])) == 0
    import json

    assert [s["name"] for s in json.loads(buf.getvalue())["setups"]] == list(DEFAULT_CHOICE)
