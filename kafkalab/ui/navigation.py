"""Moving around the lab as in kaskade and k9s: drill into a partition or group and back, filter with ``/``,
keys that answer outside a lesson, screenshots that say where they went.

:class:`NavHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import TabbedContent

from .messages import PartitionOpened
from .widgets import FilterBar, LogStrip, TopicsTable
from .widgets.timeline import TimelineInternal

__all__ = ["LESSON_ONLY_HINT", "NavHost", "TABS", "screenshot_dir"]

#: the right-hand tabs, in order: (pane id, title)
TABS = (
    ("tab-log", "Log"),
    ("tab-groups", "Groups"),
    ("tab-charts", "Charts"),
    ("tab-diagram", "Diagram"),
    ("tab-producers", "Producers"),
    ("tab-timeline", "Timeline"),
)

#: what F11, F12 and ctrl+o say while no lesson is open
LESSON_ONLY_HINT = "no lesson is open: F9 (or l, or 'lessons' in the console) opens the lesson browser"

#: actions of lesson keys (F11, F12, ctrl+o) that answer outside a lesson too
_LESSON_KEYS = frozenset({"lesson_hint", "lesson_next", "toggle_lesson_pane"})

#: environment variable naming the directory for screenshots (default: the current directory)
SCREENSHOT_ENV = "KAFKALAB_SCREENSHOT_DIR"


def screenshot_dir() -> Path:
    """Where screenshots go: $KAFKALAB_SCREENSHOT_DIR, else the directory the lab was started in."""
    return Path(os.environ.get(SCREENSHOT_ENV) or os.getcwd())


class NavHost:
    """Drill-in, filters, the timeline's internal topics, lesson keys outside a lesson, screenshots."""

    lesson_run: Any

    # -- drilling in and back -------------------------------------------------------------------------
    def on_partition_opened(self, message: PartitionOpened) -> None:
        """Enter on a partition: its log in the Log tab, with the focus (Esc goes back to the table)."""
        self.selected = (message.topic, message.partition)  # type: ignore[attr-defined]
        self.refresh_view()  # type: ignore[attr-defined]
        self.query_one(TabbedContent).active = "tab-log"  # type: ignore[attr-defined]
        self.query_one(LogStrip).focus()  # type: ignore[attr-defined]

    def action_toggle_records(self) -> None:
        """``v``: the keys and values of the newest records of the selected partition, wherever the focus is."""
        strip = self.query_one(LogStrip)  # type: ignore[attr-defined]
        strip.show_records = not strip.show_records
        tabs = self.query_one(TabbedContent)  # type: ignore[attr-defined]
        if tabs.active != "tab-log":
            tabs.active = "tab-log"

    def action_filter(self) -> None:
        """``/`` outside a panel with its own filter: filter the partitions of the Topics table."""
        with contextlib.suppress(NoMatches):
            if self.query_one(TopicsTable).display:  # type: ignore[attr-defined]
                self.query_one("#topics-filter", FilterBar).open()  # type: ignore[attr-defined]
                return
        self.notify("no topics to filter yet", severity="information")  # type: ignore[attr-defined]

    def on_filter_bar_filtered(self, message: FilterBar.Filtered) -> None:
        """A panel's filter changed: the panel it belongs to (Topics, Groups) shows only what matches."""
        target = message.bar.target
        if target is not None and hasattr(target, "pattern"):
            target.pattern = message.text

    def on_timeline_internal(self, message: TimelineInternal) -> None:
        self.timeline_internal = message.show  # type: ignore[attr-defined]
        self.refresh_view()  # type: ignore[attr-defined]

    # -- lesson keys outside a lesson -------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LESSON_KEYS and self.lesson_run is None:
            return len(self.screen_stack) == 1  # type: ignore[attr-defined]  # on the lab they say why not
        return super().check_action(action, parameters)  # type: ignore[misc]

    def _no_lesson(self) -> bool:
        if self.lesson_run is None:
            self.notify(LESSON_ONLY_HINT, severity="information")  # type: ignore[attr-defined]
            return True
        return False

    def action_lesson_hint(self) -> None:
        if not self._no_lesson():
            super().action_lesson_hint()  # type: ignore[misc]

    def action_lesson_next(self) -> None:
        if not self._no_lesson():
            super().action_lesson_next()  # type: ignore[misc]

    def action_toggle_lesson_pane(self) -> None:
        if not self._no_lesson():
            super().action_toggle_lesson_pane()  # type: ignore[misc]

    # -- screenshots ------------------------------------------------------------------------------------
    def action_save_screenshot(self) -> None:
        """Save the screen as SVG in :func:`screenshot_dir` and say where (or why not)."""
        folder = screenshot_dir()
        try:
            if not folder.is_dir():
                raise OSError(f"{folder} is not a directory")
            path = self.save_screenshot(path=str(folder))  # type: ignore[attr-defined]
        except OSError as e:
            self.notify(  # type: ignore[attr-defined]
                f"could not save the screenshot in {folder}: {e.strerror or e} "
                f"(set {SCREENSHOT_ENV} to a writable directory)",
                severity="error",
                markup=False,
            )
            return
        self.notify(f"screenshot saved: {path}", title="Screenshot", markup=False)  # type: ignore[attr-defined]

    def nav_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Screenshot (SVG)",
            f"Save this screen as an SVG file in {screenshot_dir()} (${SCREENSHOT_ENV} changes it)",
            self.action_save_screenshot,
        )
        yield SystemCommand(
            "Show or hide keys and values",
            "The newest records of the selected partition, in the Log tab (v)",
            self.action_toggle_records,
        )
        yield SystemCommand(
            "Filter partitions", "Narrow the Topics table to matching partitions (/)", self.action_filter
        )
        internal = getattr(self, "timeline_internal", False)
        yield SystemCommand(
            "Timeline: fold internal topics" if internal else "Timeline: show internal topics",
            "Entries about __consumer_offsets and other internal topics (i in the timeline)",
            lambda: self.on_timeline_internal(TimelineInternal(not internal)),
        )
        yield SystemCommand(
            "Console: taller", "Give the console more rows (ctrl+↑)", lambda: self._resize_console(2)
        )
        yield SystemCommand(
            "Console: shorter", "Give the lab more rows (ctrl+↓)", lambda: self._resize_console(-2)
        )

    def _resize_console(self, delta: int) -> None:
        self.lab_console.action_resize(delta)  # type: ignore[attr-defined]
