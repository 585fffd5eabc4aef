"""The simulation clock of the lab app: virtual time = speed x wall time, worked off in small slices.

:class:`SimClock` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`. A wall-clock timer posts
:class:`~kafkalab.ui.messages.SimTick` messages (at most one waits in the queue); each tick runs the
simulation for at most :data:`SLICE_BUDGET_S` of wall time, so keys and painting always get their turn, and
:meth:`SimClock.refresh_view` hands the panels a new snapshot a few times per second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import time
from typing import Any

from textual.css.query import NoMatches

from .messages import SimTick
from .metrics import Metrics
from .view import LabView, build_view

__all__ = [
    "LARGE",
    "MAX_DEBT_S",
    "REFRESH_HZ",
    "SLICE_BUDGET_S",
    "SLICE_WALL_MS",
    "SPEEDS",
    "SimClock",
    "TICK_HZ",
]

#: the speeds the learner can step through (virtual seconds per wall second)
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
#: (columns, rows) from which the timeline gets its own panel
LARGE = (110, 34)
#: timer frequency (ticks per wall second)
TICK_HZ = 60
#: how often the panels are redrawn while the simulation runs (per wall second)
REFRESH_HZ = 12
#: a redraw that took x seconds waits at least this many times x before the next one (big clusters: a
#: snapshot of 1,000 partitions takes tens of ms; the screen stays responsive by redrawing less often)
REFRESH_COST_FACTOR = 4
#: wall time one tick message may spend in the simulation before keys and painting get their turn
SLICE_BUDGET_S = 0.008
#: virtual time is advanced in slices of this many wall-equivalent ms (so the budget is checked often)
SLICE_WALL_MS = 2
#: the wall clock is read every this many simulation events while a slice runs
STEP_CHECK_EVERY = 16
#: owed virtual time beyond this much wall time is dropped (the sim falls behind rather than freezing)
MAX_DEBT_S = 0.25


class SimClock:
    """Advances the app's session with wall time and snapshots it for the panels (a mixin of the app)."""

    session: Any
    session_id: int
    view: LabView | None
    playing: bool
    selected: tuple[str, int] | None
    timeline_internal: bool
    metrics: Metrics

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
        listener = getattr(self, "listener", None)  # sandbox --listen (kafkalab.wire.applisten)
        if listener is not None:
            note = listener.change()
            if note:
                self.lab_console.write_lines([note], "dim")
            if listener.driving:  # outside clients connected: the live driver runs the clock (1x)
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
        while self._owed_ms >= 1 and self.playing and time.perf_counter() < deadline:
            n = min(slice_ms, int(self._owed_ms))
            self._owed_ms -= self._sim_slice(n, deadline)
        if dropped != self._behind:
            self._behind = dropped
        interval = max(1 / REFRESH_HZ, REFRESH_COST_FACTOR * getattr(self, "_refresh_cost", 0.0))
        if time.perf_counter() - self._last_refresh >= interval:
            self.refresh_view()

    def _sim_slice(self, ms: int, deadline: float) -> int:
        """Advance up to ``ms`` of virtual time, stopping early at ``deadline``; the virtual ms advanced.

        A big cluster (1,000 partitions) runs hundreds of events per virtual ms, so a whole ms can take
        longer than a tick's budget: the kernel runs a few events at a time (``run_until_time``) and the
        wall clock is read in between, so a key press waits at most a few ms. The events run are the same,
        in the same order, as one ``run_for``; time travel's checkpoints are taken when they fall due, as
        ``LabSession.tick`` takes them. With a lesson open, time goes through the lesson (its goals are
        checked as time passes).
        """
        kernel = getattr(getattr(self.session, "cluster", None), "kernel", None)
        if (
            getattr(self, "lesson_run", None) is not None
            or kernel is None
            or not hasattr(kernel, "run_until_time")
        ):
            self._sim_tick(ms)  # type: ignore[attr-defined]
            return ms
        travel = getattr(self.session, "travel", None)
        # time travel's own loop takes checkpoints when they fall due (and measures what running costs)
        run = getattr(travel, "run_until_time", None) or kernel.run_until_time
        start = kernel.now_ms
        target = start + ms
        while True:
            if run(target, kernel.stats.events + STEP_CHECK_EVERY):
                return ms
            if time.perf_counter() >= deadline:
                return kernel.now_ms - start

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
        started = self._last_refresh = time.perf_counter()
        generation = getattr(self.session, "generation", 0)
        if generation != self._generation:  # the session rebuilt itself (a rewind typed in the console)
            self._generation = generation
            self.session_id += 1
            self._output_seen = self._output_position()
            self._collect_garbage()
        view = build_view(
            self.session,
            session_id=self.session_id,
            playing=self.playing,
            behind=self._behind,
            selected=self.selected,
            last_event=self._last_event,
            clock=self.lesson_clock(),
            timeline_internal=self.timeline_internal,
        )
        # sampled before the panels see the snapshot, so the charts drawn from it include it
        cluster = self.session.cluster
        self.metrics.sample(view, getattr(cluster, "clients", ()), str(getattr(cluster, "name", "") or ""))
        self.view = view
        if self.view.selected != self.selected:
            self.set_reactive(type(self).selected, self.view.selected)
        lines, self._output_seen = self._read_output(self._output_seen)
        if lines:  # what background clients printed: into the console's side pane
            self.lab_console.write_client_lines(lines)
        self._refresh_cost = time.perf_counter() - started
        self._refresh_lesson()

    def _collect_garbage(self) -> None:
        if gc.get_threshold()[2] >= 1_000_000_000 and not getattr(self, "_gc_pending", False):
            # tune_gc() is on: the old world is garbage now. Collected once the screen shows where the trip
            # landed (a full collection of a 1M-event session takes ~0.15 s of CPU: not before the picture)
            self._gc_pending = True
            self.call_after_refresh(self._collect_now)  # type: ignore[attr-defined]

    def _collect_now(self) -> None:
        self._gc_pending = False
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
        listener = getattr(self, "listener", None)
        if listener is not None:
            listener.session_replaced(session)
        self.session_id += 1
        self._generation = getattr(session, "generation", 0)
        self._collect_garbage()
        self._output_seen = self._output_position()
        self._owed_ms = 0.0
        self._last_event = ""
        self.lab_console.write_lines([note], style="bold magenta")
        self._update_prompt()
        self.refresh_view()
