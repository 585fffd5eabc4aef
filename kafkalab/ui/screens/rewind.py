"""Ask for a point in virtual time to rewind to (the run is replayed from the seed up to there)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

__all__ = ["RewindScreen"]


class RewindScreen(ModalScreen[int | None]):
    """Returns the time in ms to rewind to, or None when cancelled."""

    DEFAULT_CSS = """
    RewindScreen {
        align: center middle;
    }
    RewindScreen > Vertical {
        width: 60;
        max-width: 90%;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    RewindScreen Label {
        width: 100%;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rewind.cancel", tooltip="Close without rewinding")]

    def __init__(self, now_ms: int) -> None:
        super().__init__()
        self.now_ms = now_ms

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Rewind to which virtual time? (0 – {self.now_ms} ms)")
            yield Label("The run is replayed from the seed up to that point.", classes="dim")
            yield Input(placeholder="time in ms, e.g. 5000", type="integer", id="rewind-ms")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            ms = int(event.value)
        except ValueError:
            self.notify("Enter a whole number of milliseconds", severity="error")
            return
        self.dismiss(max(0, min(ms, self.now_ms)))

    def action_cancel(self) -> None:
        self.dismiss(None)
