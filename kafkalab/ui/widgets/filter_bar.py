"""A one-line filter for a panel (``/`` opens it, as in k9s and less): typing narrows what the panel shows.

Enter goes back to the panel and keeps the filter (the bar stays visible while it filters); Esc clears it
and goes back. The panel listens for :class:`FilterBar.Filtered` and owns what "matches" means.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

__all__ = ["FilterBar", "matches"]


def matches(text: str, pattern: str) -> bool:
    """Case-insensitive: every word of ``pattern`` occurs in ``text``."""
    low = text.lower()
    return all(word in low for word in pattern.lower().split())


class FilterBar(Input):
    """The filter input of one panel; hidden until ``/`` and while empty."""

    DEFAULT_CSS = """
    FilterBar {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    FilterBar:focus {
        border: none;
        background: $accent 30%;
    }
    FilterBar.-shown {
        display: block;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "clear",
            "Clear filter",
            show=False,
            id="filter.clear",
            tooltip="Clear the filter and go back to the panel",
        ),
    ]

    @dataclass
    class Filtered(Message):
        """The filter text changed (``""``: no filter). (Not ``Changed``: that is Input's own message.)"""

        bar: FilterBar
        text: str

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, what: str, target: Widget | None = None, *, id: str | None = None) -> None:
        super().__init__(placeholder=f"filter {what}: type words, Enter keeps, Esc clears", id=id)
        self.target = target  # the panel to give the focus back to

    def open(self) -> None:
        """Show the bar and put the cursor in it."""
        self.add_class("-shown")
        self.focus()
        self.cursor_position = len(self.value)

    def _back(self) -> None:
        if self.target is not None and self.target.focusable:
            self.target.focus()
        else:
            self.screen.focus_next()

    def action_clear(self) -> None:
        self.value = ""
        self.remove_class("-shown")
        self._back()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Filtered(self, event.value.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.value.strip():
            self.remove_class("-shown")
        self._back()
