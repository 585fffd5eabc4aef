"""Focus you can see: which panel the keys go to is marked, and typing never lands where it was not meant.

:class:`FocusHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`.

* The panel holding the focus gets a heavy accent border and a ``▶`` before its title (two cues besides
  colour); inside the right-hand tabs the active tab's label gets the ``▶``. The console says
  "(typing here)" or "(Esc: type here)" in its title line (see :class:`~kafkalab.ui.widgets.Console`).
* While the console's input has the focus every printable character is text: the input consumes it before
  any binding sees it (Textual's ``check_consume_key``).
* While a panel has the focus, a printable key that is no binding there (a learner who started typing a
  command, ``kafka-topics`` after Esc) moves the focus to the console and types the character there,
  instead of being lost; keys bound to something keep working (``j``/``k``, ``/``, ``v``, ``c``…).
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual import events
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Input, TabbedContent

__all__ = ["FOCUS_REGIONS", "FocusHost", "focus_region"]

#: containers that are marked while the focus is inside them (by id)
FOCUS_REGIONS = ("topics-box", "tabs", "timeline-side", "lesson-pane", "console")


def focus_region(widget: Widget | None) -> Widget | None:
    """The marked container holding ``widget`` (None: no widget, or not inside one)."""
    node: Any = widget
    while node is not None:
        if getattr(node, "id", None) in FOCUS_REGIONS:
            return node
        node = node.parent
    return None


class FocusHost:
    """Marks the focused panel; sends stray typing to the console (a mixin of the app)."""

    _marked: Widget | None = None
    _tab_marked: str | None = None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_focus(event.widget)

    def on_tabbed_content_tab_activated(self, _event: TabbedContent.TabActivated) -> None:
        self._mark_focus(self.focused)  # type: ignore[attr-defined]

    def _mark_focus(self, widget: Widget | None) -> None:
        region = focus_region(widget)
        if region is not self._marked:
            if self._marked is not None:
                self._marked.remove_class("-focus")
                self._retitle(self._marked, False)
            if region is not None:
                region.add_class("-focus")
                self._retitle(region, True)
            self._marked = region
        self._mark_tab(region is not None and region.id == "tabs")

    @staticmethod
    def _retitle(region: Widget, focused: bool) -> None:
        title = region.border_title
        if not title:
            return
        plain = str(title).removeprefix("▶ ")
        region.border_title = f"▶ {plain}" if focused else plain

    def _mark_tab(self, inside: bool) -> None:
        """``▶ Log`` on the active tab while the focus is in the tabs; plain labels otherwise."""
        try:
            tabs = self.query_one("#tabs", TabbedContent)  # type: ignore[attr-defined]
        except NoMatches:
            return
        want = tabs.active if inside else None
        if want == self._tab_marked:
            return
        for pane_id in (self._tab_marked, want):
            if pane_id is None:
                continue
            with contextlib.suppress(NoMatches, ValueError):
                tab = tabs.get_tab(pane_id)
                plain = str(tab.label.plain).removeprefix("▶ ")
                tab.label = f"▶ {plain}" if pane_id == want else plain
        self._tab_marked = want

    # -- typing that started outside the console --------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        if not event.is_printable or event.character is None or len(self.screen_stack) > 1:  # type: ignore[attr-defined]
            return
        try:
            inp = self.query_one("#console-input", Input)  # type: ignore[attr-defined]
        except NoMatches:
            return
        focused = self.focused  # type: ignore[attr-defined]
        if focused is not inp:
            if isinstance(focused, Input):  # another input (a filter): it takes its own keys
                return
            if event.key in self.active_bindings:  # type: ignore[attr-defined]
                return  # a key of the panel or the app: let the binding run
            # at once (focus() would wait a turn), so the keys typed right after this one go there too
            self.screen.set_focus(inp)  # type: ignore[attr-defined]
        # else: typed fast, the key reached the old panel before the focus moved; it is text all the same
        event.stop()
        event.prevent_default()
        inp.insert_text_at_cursor(event.character)
