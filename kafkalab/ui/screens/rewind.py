"""Ask for a point in virtual time to go back to (the future is kept as a branch: redo returns to it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from ...commands.parsing import CommandError
from ...commands.timetravel_verbs import format_s, parse_time

__all__ = ["RewindScreen", "parse_rewind_input"]


def parse_rewind_input(text: str, now_ms: int) -> int:
    """Milliseconds of ``12.5s`` / ``250ms`` / ``1m`` / ``12.5`` (a bare number is seconds, as the dialog
    and the timeline show). Raises ValueError with a one-line reason."""
    try:
        ms, _unit = parse_time(text, "the time", bare="s")
    except CommandError as e:
        raise ValueError(str(e)) from e
    if ms > now_ms:
        raise ValueError(f"{format_s(ms)} is in the future: now is t = {format_s(now_ms)}")
    return ms


class RewindScreen(ModalScreen[int | None]):
    """Returns the time in ms to go back to, or None when cancelled."""

    DEFAULT_CSS = """
    RewindScreen {
        align: center middle;
    }
    RewindScreen > Vertical {
        width: 64;
        max-width: 95%;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    RewindScreen Label {
        width: 100%;
    }
    RewindScreen #rewind-error {
        color: $error;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rewind.cancel", tooltip="Close without rewinding")]

    def __init__(self, now_ms: int) -> None:
        super().__init__()
        self.now_ms = now_ms

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Go back to which virtual time? (0 – {format_s(self.now_ms)})")
            yield Label(
                "Units: 12.5s, 250ms, 1m. A number without a unit is seconds.\n"
                "Where you are now is kept as a branch: redo (ctrl+y) returns to it.",
                classes="dim",
            )
            yield Input(placeholder="e.g. 12.5s", id="rewind-ms")
            yield Label("", id="rewind-error")

    def on_input_changed(self, event: Input.Changed) -> None:
        err = self.query_one("#rewind-error", Label)
        if not event.value.strip():
            err.update("")
            return
        try:
            ms = parse_rewind_input(event.value, self.now_ms)
        except ValueError as e:
            err.update(str(e))
            return
        err.update(f"→ t = {format_s(ms)}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            ms = parse_rewind_input(event.value, self.now_ms)
        except ValueError as e:
            self.query_one("#rewind-error", Label).update(str(e))
            return
        self.dismiss(ms)

    def action_cancel(self) -> None:
        self.dismiss(None)
