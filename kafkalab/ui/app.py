"""The lab app: owns the :class:`LabSession`, advances it on a timer, hands snapshots down to the panels.

Data flows one way. The app advances the simulation (virtual time = speed x wall time, in small slices, with
a cap on the work done per tick so the screen never freezes), builds a :class:`~kafkalab.ui.view.LabView`
and sets it on its ``view`` reactive; every panel is data-bound to it. Panels post small messages
(:mod:`kafkalab.ui.messages`) for what the learner asks, and the app acts on the session.

``create_app()`` is the factory used by ``run_app``, the tests and the snapshots; ``autoplay=False`` keeps the
timer off so nothing moves unless a test says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import importlib
import inspect
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, TabbedContent, TabPane

from ..gc_tuning import tune_gc
from .lesson_mode import LESSON_BINDINGS, LessonHost
from .messages import CommandSubmitted, ConsoleEOF, PartitionSelected, SimTick
from .screens import HelpScreen, RewindScreen
from .screens.compare import CompareScreen
from .screens.help import describe_commands
from .view import LabView, build_view
from .widgets import (
    BrokersPanel,
    Console,
    GroupsPanel,
    LogStrip,
    ProducersPanel,
    StatusBar,
    TimelinePanel,
    TopicsTable,
)
from .widgets.lesson_pane import LessonPane
from .widgets.status import format_ms, format_speed

__all__ = ["KafkaLabApp", "SPEEDS", "create_app", "run_app", "run_lesson_app", "run_lessons_app"]

#: the speeds the learner can step through (virtual seconds per wall second)
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
#: (columns, rows) from which the timeline gets its own panel
LARGE = (110, 34)
#: timer frequency (ticks per wall second)
TICK_HZ = 60
#: how often the panels are redrawn while the simulation runs (per wall second)
REFRESH_HZ = 12
#: wall time one tick message may spend in the simulation before keys and painting get their turn
SLICE_BUDGET_S = 0.008
#: virtual time is advanced in slices of this many wall-equivalent ms (so the budget is checked often)
SLICE_WALL_MS = 2
#: owed virtual time beyond this much wall time is dropped (the sim falls behind rather than freezing)
MAX_DEBT_S = 0.25


def _load_commands() -> tuple[Callable[..., Any] | None, Any, Callable[..., Any] | None, type | None]:
    """(execute, COMMANDS, complete, LabSession) from the command layer, or Nones if it is not there."""
    try:
        cmd_mod = importlib.import_module("kafkalab.commands")
        LabSession = importlib.import_module("kafkalab.commands.session").LabSession
    except (ImportError, AttributeError):
        return None, None, None, None
    return (
        getattr(cmd_mod, "execute", None),
        getattr(cmd_mod, "COMMANDS", None),
        getattr(cmd_mod, "complete", None),
        LabSession,
    )


def _call_flex(fn: Callable[..., Any], session: Any, text: str) -> Any:
    """Call a command-layer function with the session and a line, whatever the parameter order.

    A parameter named ``session`` gets the session; the first other parameter gets the text. Without such
    names: ``fn(session, text)`` when it takes two required arguments, else ``fn(text)``.
    """
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params]
    if "session" in names:
        others = [p for p in params if p.name != "session" and p.kind != p.KEYWORD_ONLY]
        if others:
            return fn(**{"session": session, others[0].name: text})
    required = [p for p in params if p.default is p.empty and p.kind != p.KEYWORD_ONLY]
    if len(required) >= 2:
        return fn(session, text)
    return fn(text)


def _key_name(display: str) -> str:
    return display.upper() if display[:1] == "f" and display[1:].isdigit() else display


class KafkaLabApp(LessonHost, App[None]):
    """The kafkalab lab screen."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "kafkalab"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    BINDINGS = [
        Binding(
            "f1,question_mark",
            "help",
            "Help",
            key_display="F1",
            id="lab.help",
            tooltip="Show every key binding, the console commands and a legend of the symbols",
        ),
        Binding(
            "f2,space",
            "toggle_play",
            "Play",
            key_display="F2",
            id="lab.toggle-play",
            tooltip="Start or stop virtual time (space works when the console is not focused)",
        ),
        Binding(
            "f3,full_stop",
            "step",
            "Step",
            key_display="F3",
            id="lab.step",
            tooltip="Pause and run exactly one simulation event (. when the console is not focused)",
        ),
        Binding(
            "f4,comma",
            "rewind_one",
            "Back",
            key_display="F4",
            id="lab.rewind-one",
            tooltip="Rewind one event: the run is replayed from the seed (, when the console is not focused)",
        ),
        Binding(
            "f5,r",
            "rewind_to",
            "Rewind to",
            key_display="F5",
            show=False,
            id="lab.rewind-to",
            tooltip="Rewind to a point in virtual time, replaying from the seed (r when not typing)",
        ),
        Binding(
            "f6,minus",
            "slower",
            "Slower",
            key_display="F6",
            id="lab.slower",
            tooltip="Halve the speed, down to 0.1× (- when the console is not focused)",
        ),
        Binding(
            "f7,plus,equals_sign",
            "faster",
            "Faster",
            key_display="F7",
            id="lab.faster",
            tooltip="Double the speed, up to 100× (+ when the console is not focused)",
        ),
        Binding(
            "f8",
            "restart",
            "Restart",
            key_display="F8",
            id="lab.restart",
            tooltip="Start over: a fresh cluster with the same seed and broker count",
        ),
        Binding(
            "escape",
            "toggle_console",
            "Console",
            show=False,
            id="lab.toggle-console",
            tooltip="Move the focus into the console, or out of it to the panels",
        ),
        Binding(
            "ctrl+t",
            "cycle_tab",
            "Next tab",
            show=False,
            id="lab.next-tab",
            tooltip="Cycle the right-hand tabs: Log, Groups, Producers, Timeline",
        ),
        Binding(
            "f10,c",
            "compare",
            "Compare",
            key_display="F10",
            show=False,
            id="lab.compare",
            tooltip="Compare delivery guarantees: one fault schedule, several setups, every record's fate "
            "(c when the console is not focused)",
        ),
        *LESSON_BINDINGS,
    ]

    view: reactive[LabView | None] = reactive(None)
    """The latest snapshot of the session; every panel is data-bound to it."""

    playing: reactive[bool] = reactive(False)
    """Whether virtual time advances with wall time."""

    selected: reactive[tuple[str, int] | None] = reactive(None)
    """The (topic, partition) the log strip shows."""

    def __init__(
        self,
        brokers: int = 3,
        seed: int = 42,
        *,
        autoplay: bool = True,
        cursor_blink: bool = True,
        session_factory: Callable[[int, int], Any] | None = None,
        lesson: Any = None,
        progress: Any = None,
        lessons_dir: Path | None = None,
        open_browser: bool = False,
        listen: int | None = None,
    ) -> None:
        super().__init__()
        #: ``sandbox --listen PORT``: Kafka listeners for real clients (kafkalab.wire.applisten)
        self.listen_port = listen
        self.listener: Any = None
        self.brokers = brokers
        self.seed = seed
        self.autoplay = autoplay
        self.cursor_blink = cursor_blink
        self._execute, self._commands, self._complete, session_cls = _load_commands()
        factory = session_factory or session_cls
        if factory is None:
            raise RuntimeError("kafkalab.commands is not available: the lab needs its LabSession")
        self.session: Any = factory(brokers, seed) if session_factory else factory(brokers=brokers, seed=seed)
        # a lesson brings its own cluster: its run's session replaces the sandbox one
        self._init_lessons(lesson, progress, lessons_dir, open_browser)
        self.session_id = 0
        self._last_wall = time.perf_counter()
        self._owed_ms = 0.0
        self._last_refresh = 0.0
        self._behind = False
        self._tick_pending = False
        self._last_event = ""
        self._generation = getattr(self.session, "generation", 0)
        self._output_seen = self._output_position()
        self.set_reactive(KafkaLabApp.playing, autoplay)

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Container(id="lab"):
            yield StatusBar(id="status").data_bind(KafkaLabApp.view)
            with Vertical(id="left"):
                brokers = BrokersPanel(id="brokers").data_bind(KafkaLabApp.view)
                brokers.border_title = "Cluster"
                yield brokers
                with Vertical(id="topics-box") as box:
                    box.border_title = "Topics"
                    yield Label(
                        "No topics yet. Create one in the console:\nkafka-topics --create --topic events "
                        "--partitions 3 --replication-factor 3",
                        id="topics-empty",
                    )
                    yield TopicsTable(id="topics").data_bind(KafkaLabApp.view)
            with Vertical(id="right"):
                with TabbedContent(id="tabs", initial="tab-log"):
                    with TabPane("Log", id="tab-log"), VerticalScroll(id="log-scroll"):
                        yield LogStrip(id="log").data_bind(KafkaLabApp.view)
                    with TabPane("Groups", id="tab-groups"), VerticalScroll():
                        yield GroupsPanel(id="groups").data_bind(KafkaLabApp.view)
                    with TabPane("Producers", id="tab-producers"), VerticalScroll():
                        yield ProducersPanel(id="producers").data_bind(KafkaLabApp.view)
                    with TabPane("Timeline", id="tab-timeline"):
                        yield TimelinePanel(id="timeline").data_bind(KafkaLabApp.view)
                # on large terminals the timeline gets its own panel under the tabs (see app.tcss)
                side = TimelinePanel(id="timeline-side").data_bind(KafkaLabApp.view)
                side.border_title = "Timeline"
                yield side
            yield LessonPane(id="lesson-pane")  # shown while a lesson is open (see app.tcss)
            console = Console(self._complete_line if self._complete else None, id="console")
            console.border_title = "Console"
            yield console
        yield Footer(compact=True, show_command_palette=True)

    def on_mount(self) -> None:
        if not self.cursor_blink:
            self.query_one("#console-input", Input).cursor_blink = False
        # (with a lesson open, the lesson's own lines follow: they name its keys)
        more = "" if self.lesson_run is not None else "; F9: lessons"
        mode = "lesson" if self.lesson_run is not None else "sandbox"
        self.lab_console.write_lines(
            [f"kafkalab {mode}: {self.brokers} brokers, seed {self.seed}. F1: help; 'help': commands{more}"],
            "dim",
        )
        self.query_one("#console-input", Input).focus()
        self._arrange(self.size.width, self.size.height)
        self.refresh_view()
        if self.autoplay:
            self._last_wall = time.perf_counter()
            self.set_interval(1 / TICK_HZ, self._post_tick, name="sim-tick")
        self._mount_lessons()
        if self.listen_port is not None:
            asyncio.get_running_loop().create_task(self._start_listening())

    async def _start_listening(self) -> None:
        from ..wire.applisten import AppListener

        listener = AppListener(self.session, int(self.listen_port or 0), self._sim_tick)
        line = await listener.start()
        if listener.server.ports:
            self.listener = listener
            listener.set_paused(not self.playing)
        self.lab_console.write_lines([line], "bold")

    async def on_unmount(self) -> None:
        if self.listener is not None:
            await self.listener.stop()

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size.width, event.size.height)

    def _arrange(self, width: int, height: int) -> None:
        """Large terminals show the timeline beside the tabs; small ones keep it as a tab."""
        large = width >= LARGE[0] and height >= LARGE[1]
        tabs = self.query_one(TabbedContent)
        side = self.query_one("#timeline-side")
        side.display = large
        if large:
            if tabs.active == "tab-timeline":
                tabs.active = "tab-log"
            tabs.hide_tab("tab-timeline")
        else:
            tabs.show_tab("tab-timeline")

    @property
    def lab_console(self) -> Console:
        return self.query_one(Console)

    # -- the simulation clock -------------------------------------------------------------------------
    def _post_tick(self) -> None:
        # at most one tick waits in the queue: keys and commands never queue behind a backlog of ticks
        if not self._tick_pending:
            self._tick_pending = True
            self.post_message(SimTick())

    def on_sim_tick(self, message: SimTick) -> None:
        with contextlib.suppress(NoMatches):  # a tick that arrived while the app was shutting down
            self._run_tick()

    def _run_tick(self) -> None:
        """Run the simulation for a few ms of wall time, then let keys and painting in.

        Virtual time owed (speed x wall time) is worked off in slices within SLICE_BUDGET_S; what is left
        waits for the next tick, so keys and painting always get the rest of each 1/TICK_HZ s. Debt beyond
        MAX_DEBT_S of wall time is dropped: the simulation then runs slower than asked (the status bar says
        so) instead of the screen freezing.
        """
        self._tick_pending = False
        now = time.perf_counter()
        wall_ms = (now - self._last_wall) * 1000
        self._last_wall = now
        if self.listener is not None:
            note = self.listener.change()
            if note:
                self.lab_console.write_lines([note], "dim")
            if self.listener.driving:  # outside clients connected: the live driver runs the clock (1x)
                self._owed_ms = 0.0
                if now - self._last_refresh >= 1 / REFRESH_HZ:
                    self.refresh_view()
                return
        if not self.playing:
            self._owed_ms = 0.0
            return
        speed = self.speed
        self._owed_ms += wall_ms * speed
        cap = MAX_DEBT_S * 1000 * speed
        dropped = self._owed_ms > cap
        if dropped:
            self._owed_ms = cap
        slice_ms = max(1, int(SLICE_WALL_MS * speed))
        deadline = now + SLICE_BUDGET_S
        while self._owed_ms >= 1 and time.perf_counter() < deadline:
            n = min(slice_ms, int(self._owed_ms))
            self._sim_tick(n)  # through the lesson when one is open: its goals are checked as time passes
            self._owed_ms -= n
        if dropped != self._behind:
            self._behind = dropped
        if time.perf_counter() - self._last_refresh >= 1 / REFRESH_HZ:
            self.refresh_view()

    @property
    def speed(self) -> float:
        return float(getattr(self.session, "speed", 1.0))

    def set_speed(self, speed: float) -> None:
        self.session.speed = max(SPEEDS[0], min(SPEEDS[-1], speed))
        if self.view is not None and self.view.session_id == self.session_id:
            # only the speed changed: a new snapshot with it repaints the status bar alone, at once (the
            # panels see equal data and skip their redraws); the next periodic refresh brings the rest
            self.view = dataclasses.replace(self.view, speed=self.speed)
        else:
            self.refresh_view()

    def advance(self, virtual_ms: int) -> None:
        """Advance virtual time by ``virtual_ms`` right now, whatever the play state (tests, scripts)."""
        self._sim_tick(int(virtual_ms))
        self.refresh_view()

    def refresh_view(self) -> None:
        """Rebuild the snapshot the panels show, and print what background clients wrote."""
        self._last_refresh = time.perf_counter()
        generation = getattr(self.session, "generation", 0)
        if generation != self._generation:  # the session rebuilt itself (a rewind typed in the console)
            self._generation = generation
            self.session_id += 1
            self._output_seen = self._output_position()
            self._collect_garbage()
        self.view = build_view(
            self.session,
            session_id=self.session_id,
            playing=self.playing,
            behind=self._behind,
            selected=self.selected,
            last_event=self._last_event,
        )
        if self.view.selected != self.selected:
            self.set_reactive(KafkaLabApp.selected, self.view.selected)
        lines, self._output_seen = self._read_output(self._output_seen)
        if lines:
            self.lab_console.write_lines(lines)
        self._refresh_lesson()

    def _collect_garbage(self) -> None:
        if gc.get_threshold()[2] >= 1_000_000_000:  # tune_gc() is on: the old world is garbage now
            gc.collect()

    def _read_output(self, since: int) -> tuple[list[str], int]:
        read = getattr(self.session, "read_output", None)
        if callable(read):
            lines, nxt = read(since)
            return list(lines), int(nxt)
        out = list(getattr(self.session, "output", None) or [])
        return out[since:], len(out)

    def _output_position(self) -> int:
        return self._read_output(0)[1]

    def replace_session(self, session: Any, note: str) -> None:
        """Swap in a rebuilt session (rewind, restart) and redraw everything from it."""
        self.session = session
        if self.listener is not None:
            self.listener.session_replaced(session)
        self.session_id += 1
        self._generation = getattr(session, "generation", 0)
        self._collect_garbage()
        self._output_seen = self._output_position()
        self._owed_ms = 0.0
        self._last_event = ""
        self.lab_console.write_lines([note], style="bold magenta")
        self._update_prompt()
        self.refresh_view()

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        empty = not view.partitions
        self.query_one("#topics-empty").display = empty
        self.query_one("#topics").display = not empty
        box = self.query_one("#topics-box")
        box.border_subtitle = "  ".join(f"+{name} ({n})" for name, n in view.internal_topics) or None

    def watch_playing(self, _playing: bool) -> None:
        if self.listener is not None:
            self.listener.set_paused(not _playing)
        self._last_wall = time.perf_counter()
        self._owed_ms = 0.0
        if self.is_mounted and self.view is not None:
            self.refresh_view()

    # -- messages from the panels ---------------------------------------------------------------------
    @on(CommandSubmitted)
    def run_command(self, message: CommandSubmitted) -> None:
        line = message.command
        console = self.lab_console
        console.echo(console.prompt, line)
        if not line.strip() and getattr(self.session, "input_mode", None) is None:
            return
        if self._execute is None:
            console.write_lines(
                ["error: the command layer (kafkalab.commands) is not available"], style="bold red"
            )
            return
        if self._lesson_command(line):  # 'hint', 'next', 'lessons' while a lesson is open
            return
        try:
            if self.lesson_run is not None:  # lesson verbs, and goals checked after every line
                result = self.lesson_run.execute(line)
            else:
                result = _call_flex(self._execute, self.session, line)
        except Exception as e:  # the console must survive any bug below it
            console.write_lines([f"error: internal error: {type(e).__name__}: {e}"], style="bold red")
            self.refresh_view()
            return
        console.show_result(result)
        new_session = getattr(result, "session", None)
        if new_session is not None and new_session is not self.session:
            self.replace_session(new_session, f"now at t = {format_ms(new_session.cluster.now_ms)}")
        self._update_prompt()
        self.refresh_view()

    @on(ConsoleEOF)
    def end_input(self, _message: ConsoleEOF) -> None:
        if getattr(self.session, "input_mode", None) is None:
            return
        end = getattr(self.session, "end_input", None)
        try:
            # kafka-console-producer ends at EOF or an empty line: send the empty line
            result = (
                end()
                if callable(end)
                else _call_flex(self._execute, self.session, "")
                if self._execute
                else None
            )
        except Exception as e:
            self.lab_console.write_lines(
                [f"error: internal error: {type(e).__name__}: {e}"], style="bold red"
            )
            result = None
        if result is not None and hasattr(result, "ok"):
            self.lab_console.show_result(result)
        self._update_prompt()
        self.refresh_view()

    @on(PartitionSelected)
    def select_partition(self, message: PartitionSelected) -> None:
        self.selected = (message.topic, message.partition)
        self.refresh_view()

    def _update_prompt(self) -> None:
        mode = getattr(self.session, "input_mode", None)
        prompt = getattr(self.session, "prompt", None)
        self.lab_console.prompt = prompt if isinstance(prompt, str) else (">" if mode else "$")
        self.lab_console.input_hint = mode

    def _complete_line(self, text: str) -> Iterable[str]:
        if self._complete is None:
            return []
        return _call_flex(self._complete, self.session, text) or []

    # -- actions (key bindings, command palette) -----------------------------------------------------
    #: actions on the lab's session, off while the Compare screen covers the lab (it pauses the lab)
    _LAB_ACTIONS = frozenset(
        {
            "toggle_play",
            "step",
            "rewind_one",
            "rewind_to",
            "slower",
            "faster",
            "restart",
            "toggle_console",
            "cycle_tab",
            "help",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._LAB_ACTIONS and isinstance(self.screen, CompareScreen):
            return False
        return super().check_action(action, parameters)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.binding_descriptions(), describe_commands(self._commands)))

    def binding_descriptions(self) -> list[tuple[str, str, str]]:
        """(keys, description, tooltip) of every binding of the lab, for the help screen."""
        rows: list[tuple[str, str, str]] = []
        sources: list[Iterable[Any]] = [self.BINDINGS, LogStrip.BINDINGS, Console.BINDINGS]
        for source in sources:
            for b in source:
                if isinstance(b, Binding):
                    keys = ", ".join(
                        _key_name(self.get_key_display(Binding(k, ""))) for k in b.key.split(",")
                    )
                    rows.append((keys, b.description, b.tooltip))
        rows += [
            (
                "ctrl+p",
                "Command palette",
                "Search every lab action (play, step, rewind, select a partition…)",
            ),
            (
                "tab / shift+tab",
                "Focus",
                "Move between the console, the partition table, the log strip and the tabs",
            ),
            ("↑ ↓ (table)", "Pick partition", "Choose the partition whose log the Log tab shows"),
            ("ctrl+q", "Quit", "Leave kafkalab"),
        ]
        return rows

    def action_toggle_play(self) -> None:
        self.playing = not self.playing
        self._last_event = ""
        self.refresh_view()

    def action_step(self) -> None:
        self.playing = False
        ev = self.session.step()
        if ev is None:
            self._last_event = "nothing left to run"
        else:
            detail = f" {ev.detail}" if getattr(ev, "detail", "") else ""
            self._last_event = f"stepped: {ev.node} {ev.kind}{detail}"
        self.refresh_view()

    def action_rewind_one(self) -> None:
        self.playing = False
        rewind = getattr(self.session, "rewind_events", None)
        if rewind is None:
            self.notify("This session cannot rewind", severity="warning")
            return
        self.replace_session(rewind(1), "rewound one event (replayed from the seed)")

    def action_rewind_to(self) -> None:
        def done(ms: int | None) -> None:
            if ms is None:
                return
            self.rewind_to(ms)

        self.push_screen(RewindScreen(self.session.cluster.now_ms), done)

    def rewind_to(self, time_ms: int) -> None:
        self.playing = False
        self.replace_session(
            self.session.rewind_to(time_ms), f"rewound to t = {format_ms(time_ms)} (replayed from the seed)"
        )

    def action_slower(self) -> None:
        lower = [s for s in SPEEDS if s < self.speed - 1e-9]
        self.set_speed(lower[-1] if lower else SPEEDS[0])

    def action_faster(self) -> None:
        higher = [s for s in SPEEDS if s > self.speed + 1e-9]
        self.set_speed(higher[0] if higher else SPEEDS[-1])

    def action_restart(self) -> None:
        if self.lesson_run is not None:  # a lesson starts its current step over on its own cluster
            self.restart_lesson()
            return
        speed = self.speed
        session = self.session.restart_same_seed()
        session.speed = speed
        self.replace_session(session, f"restarted: fresh cluster, seed {self.seed}")

    def action_toggle_console(self) -> None:
        inp = self.query_one("#console-input", Input)
        if self.focused is inp:
            target = (
                self.query_one("#topics") if self.view and self.view.partitions else self.query_one("#log")
            )
            target.focus()
        else:
            inp.focus()

    def action_compare(self) -> None:
        """Open the Compare screen; the lab pauses meanwhile and keeps its state (and the screen its results)."""
        if isinstance(self.screen, CompareScreen):
            return
        if not self.is_screen_installed("compare"):
            self.install_screen(CompareScreen(seed=self.seed), name="compare")
        was_playing = self.playing
        self.playing = False

        def back(_: None) -> None:
            if was_playing:
                self.playing = True

        self.push_screen("compare", back)

    def action_cycle_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        order = ["tab-log", "tab-groups", "tab-producers"]
        if not self.query_one("#timeline-side").display:
            order.append("tab-timeline")
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)] if tabs.active in order else order[0]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Play / pause", "Start or stop virtual time (F2)", self.action_toggle_play)
        yield SystemCommand(
            "Step one event", "Pause and run exactly one simulation event (F3)", self.action_step
        )
        yield SystemCommand(
            "Rewind one event", "Replay from the seed up to the previous event (F4)", self.action_rewind_one
        )
        yield SystemCommand(
            "Rewind to a time…",
            "Replay from the seed up to a point in virtual time (F5)",
            self.action_rewind_to,
        )
        yield SystemCommand(
            "Restart with the same seed", "A fresh cluster, same seed (F8)", self.action_restart
        )
        for s in SPEEDS:
            yield SystemCommand(
                f"Speed {format_speed(s)}", "Set the simulation speed", lambda s=s: self.set_speed(s)
            )
        yield SystemCommand("Lab help", "Keys, commands and legend (F1)", self.action_help)
        for title, help_text, callback in self.lesson_system_commands():
            yield SystemCommand(title, help_text, callback)
        yield SystemCommand(
            "Compare delivery guarantees",
            "One fault schedule against at-most-once, at-least-once, exactly-once… with every record's fate (F10)",
            self.action_compare,
        )
        for tab, title in (
            ("tab-log", "Log"),
            ("tab-groups", "Groups"),
            ("tab-producers", "Producers"),
            ("tab-timeline", "Timeline"),
        ):
            yield SystemCommand(
                f"Show {title}",
                f"Switch the right-hand panel to {title}",
                lambda tab=tab: setattr(self.query_one(TabbedContent), "active", tab),
            )
        if self.view is not None:
            for p in self.view.partitions:
                yield SystemCommand(
                    f"Show log of {p.name}",
                    "Show this partition in the log strip",
                    lambda p=p: self.post_message(PartitionSelected(p.topic, p.partition)),
                )


def create_app(
    brokers: int = 3,
    seed: int = 42,
    *,
    autoplay: bool = True,
    cursor_blink: bool = True,
    session_factory: Callable[[int, int], Any] | None = None,
    lesson: Any = None,
    progress: Any = None,
    lessons_dir: Path | None = None,
    open_browser: bool = False,
    listen: int | None = None,
) -> KafkaLabApp:
    """Build the lab app. Tests and snapshots use ``autoplay=False, cursor_blink=False``.

    ``lesson`` opens that lesson (its own cluster, the lesson pane); ``progress`` is the
    :class:`~kafkalab.lessons.ProgressStore` (default: the learner's); ``lessons_dir`` is where the browser
    looks (default: the shipped lessons); ``open_browser`` opens the lesson browser at start.
    Raises :class:`~kafkalab.lessons.LessonError` when the lesson's setup fails.
    """
    app = KafkaLabApp(
        brokers,
        seed,
        autoplay=autoplay,
        cursor_blink=cursor_blink,
        session_factory=session_factory,
        lesson=lesson,
        progress=progress,
        lessons_dir=lessons_dir,
        open_browser=open_browser,
        listen=listen,
    )
    if not cursor_blink:
        app.animation_level = "none"
    return app


def run_app(args: Any = None) -> int:
    """Entry point of ``kafkalab`` / ``kafkalab sandbox --brokers N --seed S``."""
    brokers = getattr(args, "brokers", None) or 3
    seed = getattr(args, "seed", None)
    tune_gc()
    listen = getattr(args, "listen", None)
    create_app(brokers=brokers, seed=42 if seed is None else seed, listen=listen).run()
    return 0


def run_lesson_app(lesson: Any, progress_store: Any = None) -> int:
    """Entry point of ``kafkalab lesson ID``: the lab with ``lesson`` open beside it.

    A lesson whose setup fails prints its ``file:line`` problems and returns 2 instead of opening.
    """
    import sys

    from kafkalab.lessons import LessonError

    try:
        app = create_app(lesson=lesson, progress=progress_store)
    except LessonError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return 2
    tune_gc()
    app.run()
    return 0


def run_lessons_app(progress_store: Any = None, lessons_dir: Path | None = None) -> int:
    """Entry point of ``kafkalab lessons`` on a terminal: the lab with the lesson browser open."""
    tune_gc()
    create_app(progress=progress_store, lessons_dir=lessons_dir, open_browser=True).run()
    return 0
