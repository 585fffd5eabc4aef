"""The one-line status bar: play state, speed, virtual time, events, seed."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..view import LabView

__all__ = ["StatusBar", "format_ms", "format_speed"]


def format_ms(ms: int) -> str:
    """Virtual time as seconds with millisecond precision: ``12.345 s``."""
    return f"{ms / 1000:,.3f} s"


def format_speed(speed: float) -> str:
    return f"{speed:g}×"


class StatusBar(Widget):
    """Play/pause, speed and virtual clock of the simulation."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    view: reactive[LabView | None] = reactive(None)
    """The snapshot to show (bound to the app's ``view``)."""

    def render(self) -> Text:
        v = self.view
        if v is None:
            return Text("starting…")
        t = Text()
        if v.clock:  # a lesson: time moves with the learner's commands, not with the wall clock
            t.append(v.clock, style="bold yellow")
        elif v.playing:
            t.append("▶ playing", style="bold green")
        else:
            t.append("⏸ paused", style="bold yellow")
        if not v.clock:
            t.append(f"  {format_speed(v.speed)}", style="bold")
        t.append("  │  t = ", style="dim")
        t.append(format_ms(v.now_ms), style="bold cyan")
        t.append("  │  ", style="dim")
        t.append(f"{v.events:,} events", style="")
        t.append("  │  ", style="dim")
        t.append(f"seed {v.seed}")
        if v.behind:
            t.append("  │  ", style="dim")
            t.append("sim behind wall clock", style="bold red")
        if v.last_event:
            t.append("  │  ", style="dim")
            t.append(v.last_event, style="italic")
        t.truncate(max(1, self.size.width), overflow="ellipsis")
        return t
