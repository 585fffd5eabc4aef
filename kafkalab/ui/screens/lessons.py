"""The lesson browser (``l`` / F9): the course in order, by part, with progress; enter opens a lesson.

The lesson the course suggests next is marked and highlighted when the browser opens. A lesson file that
does not load is listed with its ``file:line`` problems instead of stopping the app. The screen returns
the chosen :class:`~kafkalab.lessons.Lesson`, or None when closed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..lesson_view import LessonEntry

__all__ = ["LessonBrowser", "render_entry"]

_STATE_STYLE = {"new": "dim", "started": "bold yellow", "done": "bold green", "broken": "bold red"}
_STATE_MARK = {"new": "○", "started": "◐", "done": "✓", "broken": "✗"}
_LEVEL_STYLE = {"beginner": "green", "intermediate": "yellow", "advanced": "magenta"}


def render_entry(e: LessonEntry, part_header: bool = False) -> Text:
    """Two lines (more for a broken file, one more above the first lesson of a part): number, mark,
    title, level and steps / progress and concepts."""
    t = Text(no_wrap=False)
    if part_header and e.part:
        t.append(e.part, style="bold underline")
        t.append("\n")
    if e.number:
        t.append(f"{e.number:>2} ", style="dim")
    t.append(f"{_STATE_MARK.get(e.state, ' ')} ", style=_STATE_STYLE.get(e.state, ""))
    if e.state == "broken":
        t.append(e.title, style="bold")
        t.append("  broken lesson file", style="bold red")
        for err in e.errors:
            t.append("\n  ")
            t.append(err, style="red")
        return t
    t.append(e.title, style="bold")
    t.append(f"  {e.level}", style=_LEVEL_STYLE.get(e.level, ""))
    t.append(f"  {e.steps} steps", style="dim")
    t.append("\n     ")
    t.append(e.progress, style=_STATE_STYLE.get(e.state, ""))
    used = len(e.progress)
    if e.suggested:
        t.append("  ◀ next", style="bold magenta")
        used += 8
    elif e.missing:
        after = f"  after: {', '.join(e.missing)}"
        t.append(after, style="dim")
        used += len(after)
    concepts = " · ".join(e.concepts)
    room = max(0, 60 - used)  # one line at 80 columns (the concepts are in the detail below too)
    if room > 8:
        t.append("  ")
        t.append(concepts if len(concepts) <= room else concepts[: room - 1] + "…", style="cyan")
    return t


class LessonBrowser(ModalScreen[Any]):
    """Pick a lesson. ``entries`` come from :func:`~kafkalab.ui.lesson_view.list_lessons`."""

    BINDINGS = [
        Binding(
            "escape,q", "close", "Close", id="lessons.close", tooltip="Back to the lab without a new lesson"
        ),
    ]

    def __init__(self, entries: list[LessonEntry], current: str | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.current = current

    def compose(self) -> ComposeResult:
        box = Vertical(id="lessons-box")
        box.border_title = "The kafkalab course"
        box.border_subtitle = "↑↓ choose · enter open · escape close"
        with box:
            yield OptionList(
                *[
                    Option(
                        render_entry(e, i == 0 or e.part != self.entries[i - 1].part),
                        id=f"lesson-{i}",
                    )
                    for i, e in enumerate(self.entries)
                ],
                id="lessons-list",
            )
            yield Static(id="lessons-detail")

    def on_mount(self) -> None:
        lst = self.query_one("#lessons-list", OptionList)
        if not self.entries:
            self.query_one("#lessons-detail", Static).update(Text("No lesson files found.", style="dim"))
            return
        start = next((i for i, e in enumerate(self.entries) if e.key == self.current), None)
        if start is None:
            start = next((i for i, e in enumerate(self.entries) if e.suggested), 0)
        lst.highlighted = start
        lst.focus()
        self._show(start)

    def _entry(self, option_id: str | None) -> LessonEntry | None:
        if option_id is None:
            return None
        i = int(option_id.removeprefix("lesson-"))
        return self.entries[i] if 0 <= i < len(self.entries) else None

    def _show(self, index: int) -> None:
        e = self.entries[index]
        detail = Text()
        if e.state == "broken":
            detail.append("This lesson file does not load. Fix it, then check it with ", style="")
            detail.append(f"kafkalab lessons check {e.path}", style="bold")
        else:
            detail.append(e.summary or e.title, style="italic")
            detail.append("\n")
            detail.append(" · ".join(e.concepts), style="cyan")
            if e.missing:
                detail.append("\nThe course puts it after: ", style="dim")
                detail.append(", ".join(e.missing), style="bold")
            if e.suggested:
                detail.append("\nSuggested next in the course.", style="bold magenta")
        self.query_one("#lessons-detail", Static).update(detail)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        e = self._entry(event.option.id)
        if e is None:
            return
        if e.state == "broken" or e.lesson is None:
            self.notify(
                "\n".join(e.errors), title=f"{e.title} is broken", severity="error", timeout=8, markup=False
            )
            return
        self.dismiss(e.lesson)

    def action_close(self) -> None:
        self.dismiss(None)
