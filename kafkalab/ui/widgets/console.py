"""The console: type Kafka CLI commands and lab verbs, see their output and errors.

The widget only edits text: a submitted line goes up as :class:`~kafkalab.ui.messages.CommandSubmitted`
and the app, which owns the session, runs it and hands the result back with :meth:`Console.show_result`.

What background clients print (consumers' records, producers' failures) goes to a pane of its own beside
the replies (:meth:`Console.write_client_lines`), so it never pushes a reply off the screen. The replies
keep a scrollback (PgUp/PgDn, the mouse wheel); the split between the lab and the console is resizable
(ctrl+↑/↓ or drag the console's title line).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, Label, RichLog

from ..messages import CommandSubmitted, ConsoleEOF

__all__ = ["CommandSuggester", "Console", "ConsoleHeader", "ConsoleInput", "WrappingLog", "clip_line"]

PLACEHOLDER = "type a command; 'help' lists them; F1: keys"
#: what the input shows while the focus is elsewhere (single letters are keys then, not text)
PLACEHOLDER_AWAY = "Esc or click here to type"
#: rows of replies shown by default: small terminals / from VERTICAL_BREAKPOINTS' "-tall" on
DEFAULT_ROWS = (6, 10)
MIN_ROWS = 2
#: a line longer than this is shown cut (a pasted megabyte would take Rich seconds to wrap)
MAX_SHOWN_CHARS = 2_000


def clip_line(line: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``line`` cut to ``limit`` characters, saying how long it was."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]}… ({len(line):,} characters, {len(line) - limit:,} not shown)"


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


class ConsoleInput(Input):
    """The command line. Enter, ctrl+d and ↑/↓ act here, in order with the characters typed before them.

    As bindings they would run only after the key went up through every container to the app, and keys
    typed fast (or while the app was busy) would already have reached the input: "start-consumer b" and
    the next command ended up on one line, submitted twice. Enter empties the input at once for the same
    reason.
    """

    async def _on_key(self, event: events.Key) -> None:
        console = next((a for a in self.ancestors if isinstance(a, Console)), None)
        key = event.key
        if console is not None and key in ("enter", "ctrl+d", "up", "down"):
            event.stop()
            event.prevent_default()
            if key == "enter":
                value, self.value = self.value, ""
                self.post_message(self.Submitted(self, value))
            elif key == "ctrl+d":
                console.action_eof()
            else:
                console.action_history(-1 if key == "up" else 1)
            return
        await super()._on_key(event)


class WrappingLog(RichLog):
    """A RichLog that wraps its lines again when its width changes (the client pane appearing beside it,
    a resized terminal): it keeps the texts it was given, at most ``max_lines`` of them."""

    def __init__(self, *, id: str | None = None, max_lines: int = 2000, min_width: int = 20) -> None:
        super().__init__(
            id=id, wrap=True, markup=False, highlight=False, max_lines=max_lines, min_width=min_width
        )
        self._texts: deque[Text] = deque(maxlen=max_lines)
        self._wrapped_at = 0
        self._follow = True  # the view is at the newest line (and stays there as lines come)
        self._rewrapping = False

    def add(self, text: Text) -> None:
        """Write ``text`` wrapped at the current width; follow it only while the view is at the bottom."""
        self._texts.append(text)
        width = self.scrollable_content_region.width
        follow = self._follow or self.max_scroll_y == 0
        if width > 0:
            self._wrapped_at = width
        # wrap at the log's real width (the terminal's, not the 80 columns Rich assumes before layout)
        self.write(text, width=width if width > 0 else None, scroll_end=follow)

    def clear(self) -> WrappingLog:
        self._texts.clear()
        super().clear()
        return self

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        width = self.scrollable_content_region.width
        if width > 0 and self._wrapped_at and width != self._wrapped_at and self._texts:
            self._wrapped_at = width
            at_end = self._follow
            texts = list(self._texts)
            self._rewrapping = True
            try:
                super().clear()
                for text in texts:
                    self.write(text, width=width, scroll_end=at_end)
            finally:
                self._rewrapping = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self._rewrapping:  # the learner scrolled (keys, wheel): follow only from the bottom
            self._follow = new >= self.max_scroll_y


class ConsoleHeader(Widget):
    """The console's title line: says whether typing goes to the console, and is the split's drag handle."""

    DEFAULT_CSS = """
    ConsoleHeader {
        height: 1;
        color: $text-muted;
        background: $background;
    }
    ConsoleHeader.-active {
        color: $text-accent;
    }
    ConsoleHeader.-dragging {
        background: $boost;
    }
    """

    active: reactive[bool] = reactive(True)
    """Whether the console's input has the focus (typing goes there)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drag_from: tuple[int, int] | None = None  # (screen y, rows) when the drag began

    def watch_active(self, active: bool) -> None:
        self.set_class(active, "-active")

    def render(self) -> Text:
        width = self.size.width
        t = Text(no_wrap=True, overflow="crop")
        if self.active:
            t.append("━▶ Console ", style="bold")
            t.append("(typing here)", style="")
        else:
            t.append("── Console ", style="bold")
            t.append("(Esc: type here)", style="bold reverse")
        hint = " PgUp/PgDn scroll · ctrl+↑↓ or drag: size "
        fill = "━" if self.active else "─"
        room = width - t.cell_len - len(hint)
        if room >= 2:
            t.append(fill * room)
            t.append(hint, style="dim")
        else:
            t.append(fill * max(0, width - t.cell_len))
        return t

    # -- dragging the split ---------------------------------------------------------------------------
    def on_mouse_down(self, event: events.MouseDown) -> None:
        console = self.parent
        if isinstance(console, Console):
            self._drag_from = (event.screen_y, console.rows)
            self.capture_mouse()
            self.add_class("-dragging")

    def on_mouse_move(self, event: events.MouseMove) -> None:
        console = self.parent
        if self._drag_from is not None and isinstance(console, Console):
            y0, rows0 = self._drag_from
            console.set_rows(rows0 + (y0 - event.screen_y))

    def on_mouse_up(self, _event: events.MouseUp) -> None:
        if self._drag_from is not None:
            self._drag_from = None
            self.release_mouse()
            self.remove_class("-dragging")


class Console(Vertical):
    """Replies (with scrollback) and a one-line command input with history (↑/↓) and completion; beside
    them, once a background client printed something, that output in a pane of its own."""

    DEFAULT_CSS = """
    Console {
        height: auto;
    }
    Console #console-body {
        height: auto;
    }
    Console #console-main {
        width: 3fr;
        height: auto;
    }
    Console #console-output, Console #client-output {
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    Console #client-box {
        display: none;
        width: 2fr;
        height: auto;
        border-left: vkey $primary 60%;
    }
    Console #client-box.-shown {
        display: block;
    }
    Console #client-title {
        width: 100%;
        height: 1;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        background: $surface;
    }
    Console #console-inputline {
        height: 1;
    }
    Console #console-prompt {
        width: auto;
        padding: 0 0 0 1;
        color: $text-muted;
        text-style: bold;
    }
    Console.-typing #console-prompt {
        color: $accent;
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
            "pageup",
            "scroll_output(-1)",
            "Scroll up",
            show=False,
            id="console.page-up",
            tooltip="Scroll the console's replies back a page (the mouse wheel scrolls too)",
        ),
        Binding(
            "pagedown",
            "scroll_output(1)",
            "Scroll down",
            show=False,
            id="console.page-down",
            tooltip="Scroll the console's replies forward a page",
        ),
        Binding(
            "ctrl+up",
            "resize(2)",
            "Taller console",
            show=False,
            id="console.taller",
            tooltip="Give the console more rows (or drag its title line)",
        ),
        Binding(
            "ctrl+down",
            "resize(-2)",
            "Shorter console",
            show=False,
            id="console.shorter",
            tooltip="Give the lab more rows (or drag the console's title line)",
        ),
        Binding(
            "ctrl+d",
            "eof",
            "End input",
            show=False,
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

    typing: reactive[bool] = reactive(True)
    """Whether the input has the focus; otherwise the header and the placeholder say how to get back."""

    rows: reactive[int] = reactive(DEFAULT_ROWS[0], init=False)
    """Rows of replies shown (the split between the lab and the console)."""

    def __init__(
        self, complete: Callable[[str], Iterable[str]] | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._complete = complete
        self._history: list[str] = []
        self._history_pos = 0
        self._rows_set = False  # the learner chose a size: keep it when the terminal is resized
        self._clients: list[str] = []
        self._client_title = ""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader(id="console-header")
        with Horizontal(id="console-body"):
            with Vertical(id="console-main"):
                yield WrappingLog(id="console-output")
                with Horizontal(id="console-inputline"):
                    yield Label(self.prompt, id="console-prompt")
                    yield ConsoleInput(
                        placeholder=PLACEHOLDER,
                        id="console-input",
                        suggester=CommandSuggester(self._complete) if self._complete else None,
                        select_on_focus=False,
                    )
            with Vertical(id="client-box"):
                yield Label("output of background clients", id="client-title")
                yield WrappingLog(id="client-output", min_width=16)

    @property
    def input(self) -> Input:
        return self.query_one("#console-input", Input)

    @property
    def output(self) -> WrappingLog:
        return self.query_one("#console-output", WrappingLog)

    @property
    def client_output(self) -> WrappingLog:
        return self.query_one("#client-output", WrappingLog)

    def watch_prompt(self, prompt: str) -> None:
        if self.is_mounted:
            self.query_one("#console-prompt", Label).update(prompt)

    def watch_input_hint(self, _hint: str | None) -> None:
        self._placeholder()

    def watch_typing(self, typing: bool) -> None:
        self.set_class(typing, "-typing")
        if self.is_mounted:
            self.query_one(ConsoleHeader).active = typing
            self._placeholder()

    def _placeholder(self) -> None:
        if self.is_mounted:
            self.input.placeholder = (self.input_hint or PLACEHOLDER) if self.typing else PLACEHOLDER_AWAY

    def watch_rows(self, rows: int) -> None:
        with contextlib.suppress(NoMatches):  # before compose: on_mount applies it
            self._apply_rows(rows)

    def _apply_rows(self, rows: int) -> None:
        self.output.styles.height = rows
        self.client_output.styles.height = rows  # the client pane: its title line + rows

    def on_mount(self) -> None:
        self.query_one("#console-prompt", Label).update(self.prompt)
        self.set_class(self.typing, "-typing")
        self._apply_rows(self.rows)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.typing = event.widget is self.input

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self.typing = False

    # -- size -----------------------------------------------------------------------------------------
    def max_rows(self) -> int:
        """The most rows of replies the screen leaves room for (the lab keeps at least 8 rows)."""
        return max(MIN_ROWS, self.app.size.height - 12)

    def set_rows(self, rows: int, *, chosen: bool = True) -> None:
        """Resize the replies to ``rows`` (clamped); ``chosen``: the learner asked, keep it."""
        self._rows_set = self._rows_set or chosen
        self.rows = max(MIN_ROWS, min(self.max_rows(), rows))

    def default_rows(self, tall: bool) -> None:
        """The size for the terminal's height class, unless the learner chose one (then only clamp it)."""
        self.set_rows(self.rows if self._rows_set else DEFAULT_ROWS[1 if tall else 0], chosen=False)

    def action_resize(self, delta: int) -> None:
        self.set_rows(self.rows + delta)

    # -- input ----------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value  # (the input emptied itself already: see ConsoleInput)
        if line.strip() and (not self._history or self._history[-1] != line):
            self._history.append(line)
        self._history_pos = len(self._history)
        self.output.scroll_end(animate=False)  # a new command: back to the newest replies
        self.post_message(CommandSubmitted(line))

    def action_history(self, delta: int) -> None:
        if not self._history:
            return
        self._history_pos = max(0, min(len(self._history), self._history_pos + delta))
        inp = self.input
        inp.value = self._history[self._history_pos] if self._history_pos < len(self._history) else ""
        inp.cursor_position = len(inp.value)

    def action_scroll_output(self, pages: int) -> None:
        log = self.output
        if pages < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def action_eof(self) -> None:
        self.post_message(ConsoleEOF())

    def action_clear(self) -> None:
        self.output.clear()

    # -- called by the app ---------------------------------------------------------------------------
    def _write(self, text: Text) -> None:
        self.output.add(text)

    def echo(self, prompt: str, line: str) -> None:
        t = Text()
        t.append(f"{prompt} ", style="bold")
        t.append(clip_line(line), style="bold")
        self._write(t)

    def write_lines(self, lines: Iterable[Any], style: str = "") -> None:
        for line in lines:
            self._write(Text(clip_line(str(line)), style=style))

    def write_client_lines(self, lines: Iterable[Any]) -> None:
        """Lines background clients printed (``[c1] events-0@3 key=… value=…``), into their own pane."""
        box = self.query_one("#client-box")
        if not box.has_class("-shown"):
            box.add_class("-shown")
        log = self.client_output
        names = self._clients
        for raw in lines:
            line = clip_line(str(raw))
            name = line[1 : line.index("]")] if line.startswith("[") and "]" in line else ""
            if name and name not in names:
                names.append(name)
            bad = " ERROR " in line or "delivery failed" in line
            log.add(Text(line, style="bold red" if bad else ""))
        shown = ", ".join(names[-4:]) + (" …" if len(names) > 4 else "")
        title = f"background clients: {shown or 'output'}"
        if title != self._client_title:  # one fixed line: a repaint, not a layout pass
            self._client_title = title
            self.query_one("#client-title", Label).update(title, layout=False)

    def show_result(self, result: Any) -> None:
        """Print a CommandResult: its lines, then its error (one line, in red) when it failed."""
        self.write_lines(getattr(result, "lines", None) or [])
        if not getattr(result, "ok", True):
            self._write(
                Text(
                    f"error: {clip_line(str(getattr(result, 'error', None) or 'command failed'))}",
                    style="bold red",
                )
            )
