"""The console: type Kafka CLI commands and lab verbs, see their output and errors.

The widget only edits text: a submitted line goes up as :class:`~kafkalab.ui.messages.CommandSubmitted`
and the app, which owns the session, runs it and hands the result back with :meth:`Console.show_result`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.suggester import Suggester
from textual.widgets import Input, Label, RichLog

from ..messages import CommandSubmitted, ConsoleEOF

__all__ = ["CommandSuggester", "Console"]

PLACEHOLDER = "type a command ('help' lists them), F1 for keys"


class CommandSuggester(Suggester):
    """Inline completion (accept with → or tab) from the command layer's ``complete`` function."""

    def __init__(self, complete: Callable[[str], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._complete = complete

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        try:
            candidates = list(self._complete(value))
        except Exception:
            return None
        for c in candidates:
            c = str(c)
            if c.startswith(value) and c != value:
                return c
            head, _, last = value.rpartition(" ")
            full = f"{head} {c}" if head else c
            if c.startswith(last) and full.startswith(value) and full != value:
                return full
        return None


class Console(Vertical):
    """Output log plus a one-line command input with history (↑/↓) and completion."""

    DEFAULT_CSS = """
    Console {
        height: auto;
    }
    Console > RichLog {
        height: 6;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    Console > Horizontal {
        height: 1;
    }
    Console #console-prompt {
        width: auto;
        padding: 0 0 0 1;
        color: $accent;
        text-style: bold;
    }
    Console Input {
        border: none;
        height: 1;
        padding: 0 1;
        background: $surface;
    }
    Console Input:focus {
        border: none;
        background: $boost;
    }
    """

    BINDINGS = [
        Binding(
            "up",
            "history(-1)",
            "Previous command",
            show=False,
            id="console.history-back",
            tooltip="Recall the previous command",
        ),
        Binding(
            "down",
            "history(1)",
            "Next command",
            show=False,
            id="console.history-forward",
            tooltip="Recall the next command",
        ),
        Binding(
            "ctrl+d",
            "eof",
            "End input",
            show=False,
            priority=True,
            id="console.eof",
            tooltip="End an interactive command (like ctrl+d ends kafka-console-producer)",
        ),
        Binding(
            "ctrl+l",
            "clear",
            "Clear console",
            show=False,
            id="console.clear",
            tooltip="Clear the console output",
        ),
    ]

    prompt: reactive[str] = reactive("$")
    """Prompt shown before the input: ``$`` for commands, the command's own prompt in input mode."""

    input_hint: reactive[str | None] = reactive(None)
    """What an interactive command is reading lines for (shown as the placeholder), None otherwise."""

    def __init__(
        self, complete: Callable[[str], Iterable[str]] | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._complete = complete
        self._history: list[str] = []
        self._history_pos = 0

    def compose(self) -> ComposeResult:
        yield RichLog(
            id="console-output", wrap=True, markup=False, highlight=False, max_lines=2000, min_width=20
        )
        with Horizontal():
            yield Label(self.prompt, id="console-prompt")
            yield Input(
                placeholder=PLACEHOLDER,
                id="console-input",
                suggester=CommandSuggester(self._complete) if self._complete else None,
                select_on_focus=False,
            )

    @property
    def input(self) -> Input:
        return self.query_one("#console-input", Input)

    @property
    def output(self) -> RichLog:
        return self.query_one("#console-output", RichLog)

    def watch_prompt(self, prompt: str) -> None:
        if self.is_mounted:
            self.query_one("#console-prompt", Label).update(prompt)

    def watch_input_hint(self, hint: str | None) -> None:
        if self.is_mounted:
            self.input.placeholder = hint or PLACEHOLDER

    def on_mount(self) -> None:
        self.query_one("#console-prompt", Label).update(self.prompt)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        event.input.value = ""
        if line.strip() and (not self._history or self._history[-1] != line):
            self._history.append(line)
        self._history_pos = len(self._history)
        self.post_message(CommandSubmitted(line))

    def action_history(self, delta: int) -> None:
        if not self._history:
            return
        self._history_pos = max(0, min(len(self._history), self._history_pos + delta))
        inp = self.input
        inp.value = self._history[self._history_pos] if self._history_pos < len(self._history) else ""
        inp.cursor_position = len(inp.value)

    def action_eof(self) -> None:
        self.post_message(ConsoleEOF())

    def action_clear(self) -> None:
        self.output.clear()

    # -- called by the app ---------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        log = self.output
        width = log.scrollable_content_region.width
        # wrap at the log's real width (the terminal's, not the 80 columns Rich assumes before layout)
        log.write(text, width=width if width > 0 else None)

    def echo(self, prompt: str, line: str) -> None:
        t = Text()
        t.append(f"{prompt} ", style="bold")
        t.append(line, style="bold")
        self._write(t)

    def write_lines(self, lines: Iterable[Any], style: str = "") -> None:
        for line in lines:
            self._write(Text(str(line), style=style))

    def show_result(self, result: Any) -> None:
        """Print a CommandResult: its lines, then its error (one line, in red) when it failed."""
        self.write_lines(getattr(result, "lines", None) or [])
        if not getattr(result, "ok", True):
            self._write(
                Text(f"error: {getattr(result, 'error', None) or 'command failed'}", style="bold red")
            )
