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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Footer, Input, Label, TabbedContent, TabPane

from ..gc_tuning import tune_gc
from .actions import LabActions
from .bindings import LAB_BINDINGS
from .classroom_host import CLASSROOM_BINDINGS, ClassroomHost
from .clock import LARGE, SPEEDS, TICK_HZ, SimClock
from .clusters import CLUSTER_BINDINGS, ClusterSwitch, lab_shape
from .command_host import CommandHost, load_commands
from .focus import FocusHost
from .lesson_mode import LessonHost
from .metrics import Metrics
from .navigation import NavHost
from .timetravel_ui import TimeTravelActions
from .view import LabView
from .widgets import (
    BrokersPanel,
    ChartsPanel,
    ClusterDiagram,
    Console,
    FilterBar,
    GroupsPanel,
    LogStrip,
    ProducersPanel,
    StatusBar,
    TimelineBox,
    TopicsTable,
)
from .widgets.lesson_pane import LessonPane

__all__ = [
    "KafkaLabApp",
    "SPEEDS",
    "create_app",
    "run_app",
    "run_lesson_app",
    "run_lessons_app",
    "run_play_app",
    "run_record_app",
]


class KafkaLabApp(
    ClassroomHost,
    ClusterSwitch,
    TimeTravelActions,
    LabActions,
    NavHost,
    FocusHost,
    SimClock,
    CommandHost,
    LessonHost,
    App[None],
):
    """The kafkalab lab screen.

    The parts live in mixins: :class:`~kafkalab.ui.clock.SimClock` (virtual time, snapshots),
    :class:`~kafkalab.ui.command_host.CommandHost` (console lines), :class:`~kafkalab.ui.actions.LabActions`
    (keys, palette), :class:`~kafkalab.ui.navigation.NavHost` (drill-in, filters, screenshots),
    :class:`~kafkalab.ui.focus.FocusHost` (the focus marked, stray typing sent to the
    console), :class:`~kafkalab.ui.lesson_mode.LessonHost` (lessons) and
    :class:`~kafkalab.ui.classroom_host.ClassroomHost` (scenario player, presenter mode, record, export).
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "kafkalab"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    BINDINGS = LAB_BINDINGS + CLUSTER_BINDINGS + CLASSROOM_BINDINGS

    # (repaint=False: the panels bound to these repaint themselves; an app-level repaint redraws the whole
    # screen, 50 ms at 120x40 on a busy machine, at every snapshot)
    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The latest snapshot of the session; every panel is data-bound to it."""

    playing: reactive[bool] = reactive(False, repaint=False)
    """Whether virtual time advances with wall time."""

    selected: reactive[tuple[str, int] | None] = reactive(None, repaint=False)
    """The (topic, partition) the log strip shows."""

    timeline_internal: reactive[bool] = reactive(False, init=False, repaint=False)
    """Whether the timeline shows the entries about internal topics (folded away by default: ``i``)."""

    #: ``sandbox --listen``: where Schema Registry and Connect listen too (None: Kafka listeners only)
    platform_ports: tuple[int, int] | None = (8081, 8083)

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
        self._execute, self._commands, self._complete, session_cls = load_commands()
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
        self.metrics = Metrics()  # produce/consume rates and lag over virtual time, for the Charts tab
        # a lesson's time moves with the learner's commands, never with the wall clock
        self.set_reactive(KafkaLabApp.playing, autoplay and self.lesson_run is None)

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
                    table = TopicsTable(id="topics").data_bind(KafkaLabApp.view)
                    yield FilterBar("partitions", table, id="topics-filter")
                    yield Label(
                        "No topics yet. Create one in the console:\n"
                        "  kafka-topics --create --topic events\n"
                        "    --partitions 3 --replication-factor 3",
                        id="topics-empty",
                    )
                    yield table
            with Vertical(id="right"):
                with TabbedContent(id="tabs", initial="tab-log"):
                    with TabPane("Log", id="tab-log"), VerticalScroll(id="log-scroll"):
                        yield LogStrip(id="log").data_bind(KafkaLabApp.view)
                    with TabPane("Groups", id="tab-groups"):
                        groups = GroupsPanel(id="groups").data_bind(KafkaLabApp.view)
                        yield FilterBar("groups", groups, id="groups-filter")
                        with VerticalScroll():
                            yield groups
                    with TabPane("Charts", id="tab-charts"), VerticalScroll():
                        yield ChartsPanel(self.metrics, id="charts").data_bind(KafkaLabApp.view)
                    with TabPane("Diagram", id="tab-diagram"), VerticalScroll():
                        yield ClusterDiagram(id="diagram").data_bind(KafkaLabApp.view)
                    with TabPane("Producers", id="tab-producers"), VerticalScroll():
                        yield ProducersPanel(id="producers").data_bind(KafkaLabApp.view)
                    with TabPane("Timeline", id="tab-timeline"):
                        yield TimelineBox("timeline", id="timeline-box").data_bind(KafkaLabApp.view)
                # on large terminals the timeline gets its own panel under the tabs (see app.tcss)
                side = TimelineBox("timeline-side-log", id="timeline-side").data_bind(KafkaLabApp.view)
                side.border_title = "Timeline"
                yield side
            yield LessonPane(id="lesson-pane")  # shown while a lesson is open (see app.tcss)
            yield Console(self._complete_line if self._complete else None, id="console")
        yield Footer(compact=True, show_command_palette=True)

    def on_mount(self) -> None:
        if not self.cursor_blink:
            self.query_one("#console-input", Input).cursor_blink = False
        # (with a lesson open, the lesson's own lines follow: they name its keys)
        more = "" if self.lesson_run is not None else "; F9: lessons"
        mode = "lesson" if self.lesson_run is not None else "sandbox"
        self.lab_console.write_lines(
            [
                f"kafkalab {mode}: {lab_shape(self.session, self.brokers)}, seed {self.seed}. F1: help; 'help': commands{more}"
            ],
            "dim",
        )
        self.query_one("#console-input", Input).focus()
        self._arrange(self.size.width, self.size.height)
        self.refresh_view()
        if self.autoplay:
            self._last_wall = time.perf_counter()
            self.set_interval(1 / TICK_HZ, self._post_tick, name="sim-tick")
        self._mount_lessons()
        self.follow_trips()  # long trips through time show their progress on the status line
        if self.listen_port is not None:
            asyncio.get_running_loop().create_task(self._start_listening())

    async def _start_listening(self) -> None:
        from ..wire.applisten import AppListener

        listener = AppListener(
            self.session, int(self.listen_port or 0), self._sim_tick, platform_ports=self.platform_ports
        )
        line = await listener.start()
        if listener.server.ports:
            self.listener = listener
            listener.set_paused(not self.playing)
        self.lab_console.write_lines([line, *listener.platform_lines], "bold")

    async def on_unmount(self) -> None:
        self.unfollow_trips()
        if self.listener is not None:
            await self.listener.stop()

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size.width, event.size.height)

    def _arrange(self, width: int, height: int) -> None:
        """Large terminals show the timeline beside the tabs; small ones keep it as a tab."""
        large = width >= LARGE[0] and height >= LARGE[1]
        self.lab_console.default_rows(tall=height >= self.VERTICAL_BREAKPOINTS[1][0])
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
    scenario: Any = None,
    present: bool = False,
    record_to: Path | None = None,
    record_title: str | None = None,
) -> KafkaLabApp:
    """Build the lab app. Tests and snapshots use ``autoplay=False, cursor_blink=False``.

    ``lesson`` opens that lesson (its own cluster, the lesson pane); ``progress`` is the
    :class:`~kafkalab.lessons.ProgressStore` (default: the learner's); ``lessons_dir`` is where the browser
    looks (default: the shipped lessons); ``open_browser`` opens the lesson browser at start.
    ``scenario`` (a :class:`~kafkalab.classroom.scenario.Scenario`) is played on its own cluster;
    ``present`` opens presenter mode; ``record_to`` is where ``kafkalab record`` saves the session.
    Raises :class:`~kafkalab.lessons.LessonError` when the lesson's setup fails.
    """
    if scenario is not None:
        from ..classroom.player import new_session

        brokers, seed = scenario.brokers, scenario.seed
        session_factory = lambda _b, _s: new_session(scenario)  # noqa: E731
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
    app.setup_classroom(scenario=scenario, present=present, record_to=record_to, record_title=record_title)
    if not cursor_blink:
        app.animation_level = "none"
    return app


def run_app(args: Any = None) -> int:
    """Entry point of ``kafkalab`` / ``kafkalab sandbox --brokers N --seed S``."""
    brokers = getattr(args, "brokers", None) or 3
    seed = getattr(args, "seed", None)
    tune_gc()
    listen = getattr(args, "listen", None)
    clusters = getattr(args, "clusters", None)
    if clusters:  # several clusters on one clock (a World): kafkalab sandbox --clusters east:3,west:3
        from ..commands.session import LabSession
        from ..sim.world import parse_clusters

        spec = parse_clusters(clusters)
        factory = lambda b, s: LabSession(b, s, clusters=spec)  # noqa: E731
        create_app(brokers=brokers, seed=42 if seed is None else seed, session_factory=factory).run()
        return 0
    present = bool(getattr(args, "present", False))
    lessons_dir = getattr(args, "lessons_dir", None)
    app = create_app(
        brokers=brokers,
        seed=42 if seed is None else seed,
        listen=listen,
        present=present,
        lessons_dir=Path(lessons_dir) if lessons_dir else None,
    )
    if listen is not None:
        app.platform_ports = (
            None
            if getattr(args, "no_platform", False)
            else (getattr(args, "schema_registry_port", 8081), getattr(args, "connect_port", 8083))
        )
    app.run()
    return 0


def run_play_app(scenario: Any, present: bool = False) -> int:
    """Entry point of ``kafkalab play FILE``: the lab playing a scenario, stop by stop."""
    tune_gc()
    create_app(scenario=scenario, present=present).run()
    return 0


def run_record_app(
    path: Path, brokers: int, seed: int, *, title: str | None = None, present: bool = False
) -> int:
    """Entry point of ``kafkalab record FILE``: the sandbox; quitting saves the session as a scenario."""
    import sys

    tune_gc()
    app = create_app(brokers=brokers, seed=seed, record_to=path, record_title=title, present=present)
    app.run()
    for line in app.save_recording():
        print(line, file=sys.stderr if line.startswith("kafkalab:") else sys.stdout)
    return 0


def run_lesson_app(lesson: Any, progress_store: Any = None, lessons_dir: Path | None = None) -> int:
    """Entry point of ``kafkalab lesson ID``: the lab with ``lesson`` open beside it.

    A lesson whose setup fails prints its ``file:line`` problems and returns 2 instead of opening.
    """
    import sys

    from kafkalab.lessons import LessonError

    try:
        app = create_app(lesson=lesson, progress=progress_store, lessons_dir=lessons_dir)
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
