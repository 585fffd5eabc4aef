"""The lesson pane beside the lab: the current step, its goals (live), hints and the predict-then-reveal question.

It renders a :class:`~kafkalab.ui.lesson_view.LessonView` the app hands down and posts
:class:`~kafkalab.ui.messages.ChoicePicked` when the learner answers the question. Hints and "next step"
are app key bindings (they work while the console has the focus).
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..lesson_view import LessonView
from ..messages import ChoicePicked

__all__ = ["LessonPane", "reflow", "render_goals", "render_header", "render_next", "render_unmet"]

REACHED = "✓"
OPEN = "○"


def reflow(text: str) -> str:
    """Join a step text's hard-wrapped lines into paragraphs; indented lines (tables, commands) stay as they are."""
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(" ".join(para))
            para.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
            out.append("")
        elif line[:1].isspace():
            flush()
            out.append(line.rstrip())
        else:
            para.append(line.strip())
    flush()
    return "\n".join(out).strip("\n")


def render_header(v: LessonView) -> Text:
    t = Text()
    t.append(v.title, style="bold")
    t.append("\n")
    t.append(f"{v.level} · ", style="dim")
    t.append(f"step {v.step_index + 1}/{v.step_count}", style="bold cyan")
    t.append("  ")
    t.append(v.step_title, style="bold")
    return t


def render_goals(v: LessonView) -> Group:
    """A ✓ / ○ line per goal; a goal's text wraps under itself, not under the mark."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, width=2, justify="right")
    grid.add_column(ratio=1)
    if v.predicting:
        grid.add_row("", Text("(shown after your prediction)", style="dim"))
    elif not v.goals:
        grid.add_row("", Text("(none: read, then go on)", style="dim"))
    for text, reached in v.goals:
        if reached:
            grid.add_row(Text(REACHED, style="bold green"), Text(text, style="green"))
        else:
            grid.add_row(Text(OPEN, style="bold yellow"), Text(text))
    return Group(Text("Goals", style="bold"), grid)


def render_hints(v: LessonView) -> Text:
    t = Text()
    for i, h in enumerate(v.hints, 1):
        if i > 1:
            t.append("\n")
        t.append(f"hint {i}: ", style="bold magenta")
        t.append(" ".join(h.split()))
    if v.hints_total and len(v.hints) < v.hints_total and not v.step_complete and not v.predicting:
        if v.hints:
            t.append("\n")
        left = v.hints_total - len(v.hints)
        t.append(f"h / F11 or type 'hint': a hint ({left} left)", style="dim")
    return t


def render_next(v: LessonView) -> Text:
    t = Text()
    if v.finished:
        t.append("★ Lesson complete!", style="bold green")
        if v.after:  # the takeaway (the summary was shown before: it must not give predictions away)
            t.append("\n")
            t.append(" ".join(v.after.split()))
        t.append("\n")
        if v.next_lesson:
            t.append(f"next in the course: {v.next_lesson}", style="bold")
            t.append("\n")
        t.append("F9 or l: the lessons", style="dim")
    elif v.step_complete:
        t.append(f"{REACHED} Step complete. ", style="bold green")
        t.append("F12, n or 'next': next step", style="bold")
    if v.saved and v.step_complete:
        t.append("\n")
        style = "dim" if v.saved == "progress saved" else "bold red"
        t.append(v.saved, style=style)
    return t


def render_question(v: LessonView) -> Text:
    t = Text()
    if v.question is None:
        return t
    t.append("Predict first: " if v.predicting else "You predicted: ", style="bold magenta")
    t.append(" ".join(v.question.split()))
    if v.picked is None:
        t.append("\n")
        t.append("type 'answer N' or pick a choice; the step follows", style="dim")
    return t


def render_reveal(v: LessonView) -> Text:
    """Before the experiment: the pick, no verdict. After it: right or not, and the explanation."""
    t = Text()
    if v.picked is None or v.question is None:
        return t
    t.append("You predicted: ", style="bold magenta")
    t.append(" ".join(v.question.split()), style="italic")
    t.append("\n")
    if not v.revealed:
        t.append("Your pick: ", style="bold")
        t.append(v.choices[v.picked])
        t.append("\n")
        t.append("Now run the experiment: the answer shows once the goals are reached.", style="dim")
        return t
    for i, c in enumerate(v.choices):
        if i == v.answer_index:
            t.append(f"{REACHED} {c}\n", style="green")
        elif i == v.picked:
            t.append(f"✗ {c}\n", style="red")
    if v.picked == v.answer_index:
        t.append("Right. ", style="bold green")
    else:
        t.append("Not quite: ", style="bold red")
        t.append(v.choices[v.answer_index], style="bold")
        t.append(". ")
    t.append(v.explanation)
    return t


def render_unmet(v: LessonView) -> Text:
    """After a 'next' that failed: what is missing, and the way out."""
    t = Text()
    if not v.unmet:
        return t
    t.append("Not done yet:", style="bold yellow")
    for u in v.unmet:
        t.append("\n")
        t.append(f"{OPEN} {u}")
    t.append("\n")
    t.append("Stuck? 'restart-step' (F8) starts this step over.", style="bold")
    return t


class LessonPane(VerticalScroll):
    """Shows the open lesson's current step; ``lesson`` is set by the app."""

    DEFAULT_CSS = """
    LessonPane #lesson-unmet {
        margin-top: 1;
        padding: 0 1;
        background: $warning 15%;
    }
    """

    lesson: reactive[LessonView | None] = reactive(None, always_update=False)
    """The snapshot to show."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._choices_key: tuple[str, int, int | None, bool] | None = None
        #: whether the pane last showed a finished lesson (the headline is scrolled into view once, on finishing)
        self._shown_finished = False

    def compose(self) -> ComposeResult:
        yield Static(id="lesson-head")
        # the prediction comes before anything that could give its answer away (hidden once picked)
        yield Static(id="lesson-question")
        yield OptionList(id="lesson-choices")
        # goals next: on a small terminal they stay in view while the text scrolls
        yield Static(id="lesson-goals")
        yield Static(id="lesson-next")
        yield Static(id="lesson-unmet")
        # the pick, and once the experiment showed the answer, the verdict and the explanation
        yield Static(id="lesson-reveal")
        yield Static(id="lesson-text")
        yield Static(id="lesson-hints")

    def watch_lesson(self, v: LessonView | None) -> None:
        if v is None or not self.is_mounted:
            return
        self.border_title = "Lesson"
        self.query_one("#lesson-head", Static).update(render_header(v))
        text = self.query_one("#lesson-text", Static)
        text.update(Text(reflow(v.step_text)))
        text.display = bool(v.step_text)
        self.query_one("#lesson-goals", Static).update(render_goals(v))
        unmet = self.query_one("#lesson-unmet", Static)
        unmet.update(render_unmet(v))
        unmet.display = bool(v.unmet)
        nxt = self.query_one("#lesson-next", Static)
        nxt.update(render_next(v))
        nxt.display = v.step_complete and not v.predicting
        q = self.query_one("#lesson-question", Static)
        q.update(render_question(v))
        q.display = v.predicting
        choices = self.query_one("#lesson-choices", OptionList)
        choices.display = v.predicting
        key = (v.lesson_id, v.step_index, v.picked, v.revealed)
        shown = self._choices_key
        if key != self._choices_key:
            self._choices_key = key
            options = []
            for i, c in enumerate(v.choices):
                if v.picked is None:
                    mark = f"{i + 1}. "
                elif not v.revealed:
                    mark = "▸ " if i == v.picked else "  "
                elif i == v.answer_index:
                    mark = "✓ "
                elif i == v.picked:
                    mark = "✗ "
                else:
                    mark = "  "
                options.append(Option(Text(mark + c), id=f"choice-{i}", disabled=v.picked is not None))
            choices.set_options(options)
        reveal = self.query_one("#lesson-reveal", Static)
        reveal.update(render_reveal(v))
        reveal.display = v.picked is not None
        finishing = v.finished and not self._shown_finished
        self._shown_finished = v.finished
        # the verdict, under the "step complete" line that says what next; and on finishing, "Lesson complete"
        # at the top with the takeaway under it (not wherever the last step's text had been scrolled to)
        if (v.revealed and key != shown) or finishing:
            self.call_after_refresh(self.scroll_to_widget, nxt, animate=False, top=True)
            # the new text's height is laid out on a later refresh (a long takeaway moved the line down after
            # the first scroll): once more when the screen has settled
            self.set_timer(0.1, lambda: self.scroll_to_widget(nxt, animate=False, top=True))
        hints = self.query_one("#lesson-hints", Static)
        hints.update(render_hints(v))
        hints.display = bool(v.hints) or (v.hints_total > 0 and not v.step_complete and not v.predicting)

    def on_mount(self) -> None:
        self.watch_lesson(self.lesson)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        v = self.lesson
        if v is None or v.picked is not None or event.option.id is None:
            return
        self.post_message(ChoicePicked(int(event.option.id.removeprefix("choice-"))))
