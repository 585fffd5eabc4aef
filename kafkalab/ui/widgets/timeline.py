"""The event timeline in plain language (``cluster.timeline``), newest at the bottom.

Entries about Kafka's internal topics (``__consumer_offsets`` elects 50 leaders at start) are folded away
by default: ``i`` shows them. ``/`` filters the entries by words. The texts go through
:func:`kafkalab.timeline_text.plain_entry` (no Python reprs; leader -1 is "no leader (offline)").
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import RichLog, Static

from ...timeline_text import plain_entry
from ..view import LabView
from .filter_bar import FilterBar, matches

__all__ = ["TimelineBox", "TimelinePanel", "TimelineInternal", "timeline_line"]

_HIGHLIGHT = (
    ("died", "bold red"),
    ("no leader", "bold red"),
    ("UNCLEAN", "bold red"),
    ("unfenced", "green"),
    ("fenced", "magenta"),
    ("partition:", ""),
    ("network partition", "bold red"),
    ("healed", "green"),
    ("leader", "cyan"),
    ("Isr", "yellow"),
    ("restarted", "green"),
    ("paused", "yellow"),
)


def timeline_line(time_ms: int, text: str) -> Text:
    line = Text(no_wrap=False)
    line.append(f"{time_ms / 1000:>8.3f} s ", style="dim")
    plain = plain_entry(text)
    style = next((s for word, s in _HIGHLIGHT if word in plain and s), "")
    line.append(plain, style=style)
    return line


@dataclass
class TimelineInternal(Message):
    """The learner asked to show (or fold away) the timeline entries about internal topics."""

    show: bool


class TimelinePanel(RichLog):
    """Appends the timeline entries that are new since the last snapshot; redraws after a rewind."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False, id="timeline.down", tooltip="Scroll down a line"),
        Binding("k", "scroll_up", "Up", show=False, id="timeline.up", tooltip="Scroll up a line"),
    ]

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    pattern: reactive[str] = reactive("", init=False)
    """Only entries with every word of this (case-insensitive) are shown; empty: all."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, wrap=True, markup=False, highlight=False, max_lines=1000, min_width=20
        )
        self._shown = 0
        self._key: tuple[int, bool] = (-1, False)  # (session id, internal entries shown) drawn
        self._width = 0

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        key = (view.session_id, view.timeline_internal)
        if key != self._key or view.timeline_len < self._shown:
            self._redraw(view)
            return
        for index, time_ms, text in view.timeline:
            if index >= self._shown:
                self._line(time_ms, text)
        self._shown = view.timeline_len

    def watch_pattern(self, _pattern: str) -> None:
        if self.view is not None:
            self._redraw(self.view)

    def _line(self, time_ms: int, text: str) -> None:
        if self.pattern and not matches(plain_entry(text), self.pattern):
            return
        width = self.scrollable_content_region.width
        self.write(timeline_line(time_ms, text), width=width if width > 0 else None)

    def _redraw(self, view: LabView) -> None:
        self.clear()
        for _index, time_ms, text in view.timeline:
            self._line(time_ms, text)
        self._shown = view.timeline_len
        self._key = (view.session_id, view.timeline_internal)

    def on_resize(self, event: events.Resize) -> None:
        # lines are wrapped when written: wrap them again for the new width
        if event.size.width != self._width and self.view is not None:
            self._width = event.size.width
            self._redraw(self.view)


class TimelineBox(Vertical):
    """A timeline with its filter bar (``/``) and a line saying what is folded away (``i``)."""

    DEFAULT_CSS = """
    TimelineBox {
        height: 1fr;
    }
    TimelineBox > .timeline-note {
        height: 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    TimelineBox > TimelinePanel {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding(
            "i",
            "toggle_internal",
            "Internal topics",
            show=False,
            id="timeline.internal",
            tooltip="Show or fold away the timeline entries about internal topics (__consumer_offsets…)",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            show=False,
            id="timeline.filter",
            tooltip="Filter the timeline by words (Enter keeps the filter, Esc clears it)",
        ),
    ]

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    def __init__(self, log_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._log_id = log_id
        self._note_text = ""

    def compose(self) -> ComposeResult:
        log = TimelinePanel(id=self._log_id).data_bind(TimelineBox.view)
        yield FilterBar("the timeline", log, id=f"{self._log_id}-filter")
        yield Static("", classes="timeline-note")
        yield log

    @property
    def log_panel(self) -> TimelinePanel:
        return self.query_one(TimelinePanel)

    def watch_view(self, view: LabView | None) -> None:
        if view is not None:
            self._note(view)

    def _note(self, view: LabView) -> None:
        pattern = self.log_panel.pattern
        parts = [
            "internal topics shown (i folds)"
            if view.timeline_internal
            else "internal topics folded (i shows)"
        ]
        parts.append(f"filter: {pattern}" if pattern else "/ filters")
        note = " · ".join(parts)
        if note != self._note_text:  # one fixed line: a repaint, never a layout pass
            self._note_text = note
            self.query_one(".timeline-note", Static).update(note, layout=False)

    def on_filter_bar_filtered(self, event: FilterBar.Filtered) -> None:
        event.stop()
        self.log_panel.pattern = event.text
        if self.view is not None:
            self._note(self.view)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_toggle_internal(self) -> None:
        shown = self.view.timeline_internal if self.view is not None else False
        self.post_message(TimelineInternal(not shown))
