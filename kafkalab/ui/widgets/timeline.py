"""The event timeline in plain language (``cluster.timeline``), newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widgets import RichLog

from ..view import LabView

__all__ = ["TimelinePanel", "timeline_line"]

_HIGHLIGHT = (
    ("died", "bold red"),
    ("unfenced", "green"),
    ("fenced", "magenta"),
    ("partition:", ""),
    ("network partition", "bold red"),
    ("healed", "green"),
    ("leader", "cyan"),
    ("ISR", "yellow"),
    ("restarted", "green"),
    ("paused", "yellow"),
)


def timeline_line(time_ms: int, text: str) -> Text:
    line = Text(no_wrap=False)
    line.append(f"{time_ms / 1000:>8.3f} s ", style="dim")
    style = next((s for word, s in _HIGHLIGHT if word in text and s), "")
    line.append(text, style=style)
    return line


class TimelinePanel(RichLog):
    """Appends the timeline entries that are new since the last snapshot; redraws after a rewind."""

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, wrap=True, markup=False, highlight=False, max_lines=1000, min_width=20
        )
        self._shown = 0
        self._session = -1
        self._width = 0

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        if view.session_id != self._session or view.timeline_len < self._shown:
            self._redraw(view)
            return
        for index, time_ms, text in view.timeline:
            if index >= self._shown:
                self._line(time_ms, text)
        self._shown = view.timeline_len

    def _line(self, time_ms: int, text: str) -> None:
        width = self.scrollable_content_region.width
        self.write(timeline_line(time_ms, text), width=width if width > 0 else None)

    def _redraw(self, view: LabView) -> None:
        self.clear()
        for _index, time_ms, text in view.timeline:
            self._line(time_ms, text)
        self._shown = view.timeline_len
        self._session = view.session_id

    def on_resize(self, event: events.Resize) -> None:
        # lines are wrapped when written: wrap them again for the new width
        if event.size.width != self._width and self.view is not None:
            self._width = event.size.width
            self._redraw(self.view)
