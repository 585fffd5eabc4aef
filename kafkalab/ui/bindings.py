"""The lab's key bindings, in one place (each with an ``id`` and a ``tooltip``), and their help rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding

from .lesson_mode import LESSON_BINDINGS
from .timetravel_ui import TIME_TRAVEL_BINDINGS

__all__ = ["LAB_BINDINGS", "key_name"]

LAB_BINDINGS: list[Binding] = [
    Binding(
        "f1,question_mark",
        "help",
        "Help",
        key_display="F1",
        id="lab.help",
        tooltip="Show every key binding, the console commands and a legend of the symbols",
    ),
    Binding(
        "f2,space",
        "toggle_play",
        "Play",
        key_display="F2",
        id="lab.toggle-play",
        tooltip="Start or stop virtual time (space works when the console is not focused)",
    ),
    *TIME_TRAVEL_BINDINGS,  # . , > < F3 F4 F5 ctrl+y (kafkalab/ui/timetravel_ui.py)
    Binding(
        "f6,minus",
        "slower",
        "Slower",
        key_display="F6",
        id="lab.slower",
        tooltip="Halve the speed, down to 0.1× (- when the console is not focused)",
    ),
    Binding(
        "f7,plus,equals_sign",
        "faster",
        "Faster",
        key_display="F7",
        id="lab.faster",
        tooltip="Double the speed, up to 100× (+ when the console is not focused)",
    ),
    Binding(
        "f8",
        "restart",
        "Restart",
        key_display="F8",
        id="lab.restart",
        tooltip="Start over: a fresh cluster with the same seed and broker count",
    ),
    Binding(
        "escape",
        "toggle_console",
        "Console",
        show=False,
        id="lab.toggle-console",
        tooltip="Move the focus into the console, or out of it to the panels",
    ),
    Binding(
        "ctrl+t",
        "cycle_tab",
        "Next tab",
        show=False,
        id="lab.next-tab",
        tooltip="Cycle the right-hand tabs: Log, Groups, Producers, Timeline",
    ),
    Binding(
        "f10,c",
        "compare",
        "Compare",
        key_display="F10",
        show=False,
        id="lab.compare",
        tooltip="Compare delivery guarantees: one fault schedule, several setups, every record's fate "
        "(c when the console is not focused)",
    ),
    Binding(
        "v",
        "toggle_records",
        "Keys/values",
        show=False,
        id="lab.toggle-records",
        tooltip="Show or hide the keys and values of the selected partition's newest records (Log tab)",
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        key_display="/",
        show=False,
        id="lab.filter",
        tooltip="Filter the partitions of the Topics table (in Groups and Timeline: filter those)",
    ),
    Binding(
        "ctrl+g",
        "platform",
        "Platform",
        key_display="^g",
        show=False,
        id="lab.platform",
        tooltip="Schema Registry and Kafka Connect: workers, connectors, tasks, internal topics",
    ),
    *LESSON_BINDINGS,
]


def key_name(display: str) -> str:
    """``f1`` -> ``F1``; other key displays unchanged."""
    return display.upper() if display[:1] == "f" and display[1:].isdigit() else display


def binding_rows(app: Any, sources: Iterable[Iterable[Any]]) -> list[tuple[str, str, str]]:
    """(keys, description, tooltip) of every binding in ``sources``, keys as ``app`` displays them."""
    rows: list[tuple[str, str, str]] = []
    for source in sources:
        for b in source:
            if isinstance(b, Binding):
                keys = ", ".join(key_name(app.get_key_display(Binding(k, ""))) for k in b.key.split(","))
                rows.append((keys, b.description, b.tooltip))
    return rows
