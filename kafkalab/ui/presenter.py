"""Presenter mode: the lab for a projector (``--present``, ctrl+f).

A high-contrast theme (:data:`PROJECTOR_THEME`, registered with Textual's theme API: pure black and white,
bright accents, no dimmed text) and a screen with fewer, larger panels: a bar saying whether time runs and
what comes next ("⏸ paused · stop 2 of 6 · next: heal at 30s"), the cluster diagram, the selected
partition's log, the timeline, and a caption of what just happened. A one-line console takes commands
(Esc moves between it and the keys).

Keys: ``n`` / → / PgDn the next stop of a scenario (without one, the next timeline event), ``p`` / ← / PgUp
back, Space plays, ``[`` ``]`` pick the partition, ctrl+f back to the lab. The app owns the session; this
screen only shows the app's ``view`` and the caption the app hands it, and posts what the presenter asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Footer, Input

from .messages import PartitionSelected
from .view import LabView
from .widgets import ClusterDiagram, LogStrip, TimelineBox
from .widgets.status import format_ms, format_speed

__all__ = [
    "PRESENTER_BINDINGS",
    "PROJECTOR_THEME",
    "CaptionPanel",
    "PresenterBar",
    "PresenterCommand",
    "PresenterScreen",
]


@dataclass
class PresenterCommand(Message):
    """A console line typed in presenter mode (the app runs it and captions the reply)."""

    command: str


#: black and white with saturated accents: readable from the back of a room, washed out or not
PROJECTOR_THEME = Theme(
    name="kafkalab-projector",
    primary="#FFD700",
    secondary="#00D7FF",
    accent="#FFFF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#262626",
    boost="#1A1A1A",
    success="#5FFF5F",
    warning="#FFAF00",
    error="#FF5F5F",
    dark=True,
    variables={
        "text-muted": "#E0E0E0",
        "footer-key-foreground": "#FFFF00",
        "footer-description-foreground": "#FFFFFF",
        "border": "#FFD700",
        "border-blurred": "#FFFFFF",
        "input-cursor-background": "#FFFF00",
        "input-selection-background": "#005F87",
        "scrollbar": "#808080",
    },
)

PRESENTER_BINDINGS = [
    Binding(
        "n,right,pagedown",
        "app.lesson_next",
        "Next",
        key_display="n",
        id="presenter.next",
        tooltip="The next stop of the scenario (without a scenario: the next timeline event)",
    ),
    Binding(
        "p,left,pageup",
        "presenter_back",
        "Back",
        key_display="p",
        id="presenter.back",
        tooltip="Back to the previous stop (without a scenario: the previous timeline event)",
    ),
    Binding(
        "left_square_bracket",
        "pick_partition(-1)",
        "Partition",
        key_display="[",
        show=False,
        id="presenter.previous-partition",
        tooltip="Show the previous partition's log",
    ),
    Binding(
        "right_square_bracket",
        "pick_partition(1)",
        "Partition",
        key_display="]",
        show=False,
        id="presenter.next-partition",
        tooltip="Show the next partition's log",
    ),
    Binding(
        "escape",
        "toggle_input",
        "Type",
        key_display="Esc",
        id="presenter.type",
        tooltip="Type a console command (Esc again: back to the keys)",
    ),
    Binding(
        "ctrl+f",
        "app.toggle_presenter",
        "Lab",
        key_display="^f",
        id="presenter.leave",
        tooltip="Leave presenter mode: the whole lab again (its theme comes back)",
    ),
]


class PresenterBar(Widget):
    """The line that says whether time runs and what comes next, with the keys that move on."""

    view: reactive[LabView | None] = reactive(None)
    """The lab's snapshot (its ``clock`` is the scenario player's indicator)."""

    def render(self) -> Text:
        v = self.view
        t = Text(no_wrap=True, overflow="ellipsis")
        if v is None:
            return t
        state, _, rest = (v.clock or ("▶ playing" if v.playing else "⏸ paused")).partition(" · ")
        paused = not v.playing
        t.append(f" {state.upper()} ", style="bold black on #FFFF00" if paused else "bold black on #5FFF5F")
        t.append(f"  t = {format_ms(v.now_ms)}  {format_speed(v.speed)}  ", style="bold #00D7FF")
        if rest:
            t.append(rest, style="bold")
        elif not v.clock:
            t.append("n: next event · space: play", style="bold")
        t.truncate(max(1, self.size.width), overflow="ellipsis")
        return t


class CaptionPanel(Widget):
    """What just happened: the scenario's caption, or the last command and what the cluster did."""

    caption: reactive[tuple[str, tuple[str, ...]]] = reactive(("", ()), layout=True)
    """(title, lines): the title goes in the border, the lines in the panel."""

    def watch_caption(self, caption: tuple[str, tuple[str, ...]]) -> None:
        self.border_subtitle = caption[0] or None

    def render(self) -> Text:
        title, lines = self.caption
        t = Text()
        if not lines:
            t.append(
                "Nothing yet: Esc, then type a command (kill-broker 2 …); n: the next event.", style="italic"
            )
            return t
        for i, line in enumerate(lines):
            if i:
                t.append("\n")
            style = "bold" if i == 0 or not line.startswith(" ") else ""
            if line.startswith("$ "):
                style = "bold #00D7FF"
            elif line.startswith("  error:"):
                style = "bold #FF5F5F"
            t.append(line, style=style)
        return t


class PresenterScreen(Screen[None]):
    """Fewer, larger panels for a projector: the cluster, one partition, the timeline, a caption."""

    BINDINGS = PRESENTER_BINDINGS

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The lab's snapshot (the app's ``view``), handed down to the panels."""

    caption: reactive[tuple[str, tuple[str, ...]]] = reactive(("", ()))
    """What just happened, as the app last described it: (title, lines)."""

    def compose(self) -> ComposeResult:
        yield PresenterBar(id="presenter-bar").data_bind(PresenterScreen.view)
        with Horizontal(id="presenter-main"):
            with VerticalScroll(id="presenter-cluster") as box:
                box.border_title = "Cluster"
                yield ClusterDiagram(id="presenter-diagram").data_bind(PresenterScreen.view)
            with VerticalScroll(id="presenter-partition") as box:
                box.border_title = "Partition"
                yield LogStrip(id="presenter-log").data_bind(PresenterScreen.view)
        with Horizontal(id="presenter-bottom"):
            timeline = TimelineBox("presenter-timeline-log", id="presenter-timeline")
            timeline.border_title = "Timeline"
            yield timeline.data_bind(PresenterScreen.view)
            panel = CaptionPanel(id="presenter-caption").data_bind(caption=PresenterScreen.caption)
            panel.border_title = "What just happened"
            yield panel
        yield Input(
            placeholder="Esc, then type a command (kill-broker 2, heal, run 10s …)", id="presenter-input"
        )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.watch(self.app, "view", self._follow_view, init=True)
        self.query_one("#presenter-input", Input).can_focus = False
        self.set_focus(None)

    def on_resize(self, event: events.Resize) -> None:
        # the timeline and the caption get about half of what the bar, input and footer leave
        self.query_one("#presenter-bottom").styles.height = max(8, min(16, (event.size.height - 3) // 2))

    def _follow_view(self, view: LabView | None) -> None:
        self.view = view

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        box = self.query_one("#presenter-partition")
        log = view.log
        title = (
            f"Partition {log.topic}-{log.partition} · leader {log.leader}" if log is not None else "Partition"
        )
        if log is not None and log.leader < 0:
            title = f"Partition {log.topic}-{log.partition} · no leader (offline)"
        if box.border_title != title:
            box.border_title = title

    # -- keys ----------------------------------------------------------------------------------------
    def action_presenter_back(self) -> None:
        back = getattr(self.app, "scenario_back", None)
        if callable(back):
            back()

    def action_pick_partition(self, delta: int) -> None:
        v = self.view
        if v is None or not v.partitions:
            return
        names = [(p.topic, p.partition) for p in v.partitions]
        here = names.index(v.selected) if v.selected in names else -1
        topic, partition = names[(here + delta) % len(names)]
        self.post_message(PartitionSelected(topic, partition))

    def action_toggle_input(self) -> None:
        inp = self.query_one("#presenter-input", Input)
        if self.focused is inp:
            inp.can_focus = False
            self.set_focus(None)
        else:
            inp.can_focus = True
            inp.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        event.input.value = ""
        if line.strip():
            self.post_message(PresenterCommand(line))

    def set_caption(self, title: str, lines: list[str] | tuple[str, ...]) -> None:
        self.caption = (title, tuple(lines))
