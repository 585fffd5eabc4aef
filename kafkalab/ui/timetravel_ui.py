"""The lab's time-travel keys: step by meaning, raw steps, rewind (F5), redo, and asking before resets.

A mixin of :class:`~kafkalab.ui.app.KafkaLabApp` (kept apart so the app module stays small):

- ``.`` / F3: run to the next timeline event of the kinds in the step filter (``step-filter`` in the
  console); ``,`` / F4: back to the previous one (the point left is kept as a branch).
- ``>``: exactly one raw kernel event; ``<``: back one raw event.
- F5 / ``r``: go back to a time (units; a bare number is seconds); ctrl+y: redo (back to where the last
  rewind left); F8 asks before starting over, and so does any console command that would throw work away.
- A trip that takes longer than :data:`PROGRESS_AFTER_S` (far back with checkpoints off, a long search
  back, a quiet stretch before the next event) shows its progress on the status bar line while it runs. The
  trip runs on the app's own thread (nothing else may touch the session meanwhile: the clock, the console,
  outside clients), so the line is written straight to the terminal through the driver, as Textual writes
  its own escape sequences; the next frame paints over it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from ..commands.timetravel import count_work
from ..commands.timetravel_meaning import step_back, step_next
from ..commands.timetravel_verbs import format_s, session_kinds
from .screens.confirm import ConfirmScreen
from .screens.rewind import RewindScreen

__all__ = ["PROGRESS_AFTER_S", "TIME_TRAVEL_BINDINGS", "TimeTravelActions"]

#: a trip shows its progress once it has taken this long (shorter ones just happen)
PROGRESS_AFTER_S = 0.25
#: and redraws it at most this often
PROGRESS_EVERY_S = 0.1

TIME_TRAVEL_BINDINGS = [
    Binding(
        "f3,full_stop",
        "step",
        "Step",
        key_display="F3",
        id="lab.step",
        tooltip="Pause and run to the next timeline event (leader, ISR, group, commit…; 'step-filter' picks "
        "the kinds; . when the console is not focused)",
    ),
    Binding(
        "f4,comma",
        "rewind_one",
        "Back",
        key_display="F4",
        id="lab.rewind-one",
        tooltip="Back to the previous timeline event; where you were stays as a branch (, when the console "
        "is not focused)",
    ),
    Binding(
        "greater_than_sign",
        "step_raw",
        "Step event",
        show=False,
        id="lab.step-raw",
        tooltip="Run exactly one raw simulation event (> when the console is not focused)",
    ),
    Binding(
        "less_than_sign",
        "back_raw",
        "Back event",
        show=False,
        id="lab.back-raw",
        tooltip="Go back exactly one raw simulation event (< when the console is not focused)",
    ),
    Binding(
        "f5,r",
        "rewind_to",
        "Rewind to",
        key_display="F5",
        show=False,
        id="lab.rewind-to",
        tooltip="Go back to a point in virtual time (12s, 250ms; a bare number is seconds); the future "
        "stays as a branch (r when not typing)",
    ),
    Binding(
        "ctrl+y",
        "redo",
        "Redo",
        key_display="^y",
        show=False,
        id="lab.redo",
        tooltip="Return to where the last rewind left (the newest branch; 'branches' lists them all)",
    ),
]


class TimeTravelActions:
    """Actions behind :data:`TIME_TRAVEL_BINDINGS` (mixed into the lab app)."""

    session: Any
    playing: bool
    _last_event: str

    if TYPE_CHECKING:  # provided by the app (never define them here: this mixin comes first in the MRO)

        def refresh_view(self) -> None: ...
        def replace_session(self, session: Any, note: str) -> None: ...

    # -- progress of long trips ------------------------------------------------------------------------
    def follow_trips(self) -> None:
        """Show the progress of this app's trips through time (call once mounted)."""
        from ..commands.timetravel import TimeMachine

        self._trip_drawn = 0.0
        #: the progress lines shown so far during the current or last trip (for tests and the screenshot)
        self.trip_progress: list[str] = []
        if self._on_trip not in TimeMachine.watchers:
            TimeMachine.watchers.append(self._on_trip)

    def unfollow_trips(self) -> None:
        from ..commands.timetravel import TimeMachine

        if self._on_trip in TimeMachine.watchers:
            TimeMachine.watchers.remove(self._on_trip)

    def _on_trip(self, travel: Any, done: int, total: int) -> None:
        if getattr(self.session, "travel", None) is not travel:
            return  # another session's trip (a scratch session of a lesson check, a benchmark)
        now = time.perf_counter()
        if done == 0 and total == 0:  # a trip starts
            self.trip_progress = []
            self._trip_drawn = 0.0
            return
        if done < 0:  # it ended: the next frame repaints the status line (it shows where the trip landed)
            if self._trip_drawn:
                self._trip_drawn = 0.0
                status = self._status_widget()
                if status is not None:
                    status.refresh()
            return
        if now - travel.trip_started < PROGRESS_AFTER_S or now - self._trip_drawn < PROGRESS_EVERY_S:
            return
        self._trip_drawn = now
        pct = min(99, int(done * 100 / total)) if total > 0 else 0
        text = f"⏳ {travel.label or 'travelling through time'}… {pct}%  ({now - travel.trip_started:.1f} s)"
        self.trip_progress.append(text)
        self._draw_status_line(text, pct)

    def _status_widget(self) -> Any:
        try:
            return self.query_one("#status")  # type: ignore[attr-defined]
        except Exception:
            return None

    def _draw_status_line(self, text: str, pct: int) -> None:
        """Write ``text`` over the status bar now, with a bar of ``pct`` percent (the event loop is busy)."""
        driver = getattr(self, "_driver", None)  # Textual writes its own escape sequences through it too
        status = self._status_widget()
        if driver is None or getattr(driver, "is_headless", True) or status is None:
            return
        region = status.region
        width = max(1, region.width)
        bar_cells = max(0, min(20, width - len(text) - 4))
        bar = ""
        if bar_cells >= 5:
            full = bar_cells * pct // 100
            bar = "  " + "█" * full + "░" * (bar_cells - full)
        line = (f" {text}{bar}")[:width].ljust(width)
        # save the cursor, go to the status line, reverse video, the line, restore
        driver.write(f"\x1b7\x1b[{region.y + 1};{region.x + 1}H\x1b[0;1;7m{line}\x1b[0m\x1b8")
        driver.flush()

    def _travel_ok(self) -> bool:
        if getattr(self.session, "travel", None) is None:
            self.notify("This session cannot travel in time", severity="warning")  # type: ignore[attr-defined]
            return False
        return True

    def _arrived(self, note: str, status: str = "") -> None:
        """A trip ended: redraw from the session, ``note`` in the console, ``status`` on the status line."""
        notes = self.session.time_travel_notes() if hasattr(self.session, "time_travel_notes") else []
        self.replace_session(self.session, note)  # (clears the status line's last event)
        self._mark_client_output()
        if status:
            self._last_event = status
            self.refresh_view()
        for n in notes:
            self.notify(n, severity="warning")  # type: ignore[attr-defined]

    def _mark_client_output(self) -> None:
        """What background clients printed so far belongs to another point in time: say where that ends."""
        try:
            console = self.lab_console  # type: ignore[attr-defined]
            shown = console.query_one("#client-box").has_class("-shown")
        except Exception:
            return
        if shown:
            console.write_client_lines([f"── time travel: now t = {format_s(self.session.now_ms)} ──"])

    def action_step(self) -> None:
        self.playing = False
        if not self._travel_ok():
            return
        out = step_next(self.session, session_kinds(self.session))
        more = f" (+{out.also} more)" if out.also else ""
        if out.found is not None:
            # the status line already shows the time: what happened comes first (80 columns are few)
            self._last_event = f"next {out.found.kind}: {out.found.text}{more}"
            self.lab_console.write_lines([f"next: {out.message}{more}"], "dim")  # type: ignore[attr-defined]
        else:
            self._last_event = f"next: none ({out.message.split(';')[0]})"
            # (the status line is cut at 80 columns, and the clock may have moved a long way: say it in full)
            self.lab_console.write_lines(  # type: ignore[attr-defined]
                [f"next: {out.message} (step-filter picks the kinds)"], "dim"
            )
        self.refresh_view()

    def action_step_raw(self) -> None:
        self.playing = False
        ev = self.session.step()
        if ev is None:
            self._last_event = "nothing left to run"
        else:
            detail = f" {ev.detail}" if getattr(ev, "detail", "") else ""
            self._last_event = f"event: {ev.node} {ev.kind}{detail}"
        self.refresh_view()

    def action_rewind_one(self) -> None:
        self.playing = False
        if not self._travel_ok():
            return
        out = step_back(self.session, session_kinds(self.session))
        more = f" (+{out.also} more)" if out.also else ""
        self._arrived(
            f"back to {out.message}{more}" if out.found else out.message,
            f"prev {out.found.kind}: {out.found.text}{more}" if out.found else out.message,
        )

    def action_back_raw(self) -> None:
        self.playing = False
        if self.session.events <= getattr(self.session, "start_events", 0):
            self._last_event = "at the start: nothing to go back to"
            self.refresh_view()
            return
        self.session.rewind_events(1)
        self._arrived(
            f"back one event: t = {format_s(self.session.now_ms)}, event {self.session.events}",
            "back one event (redo: ctrl+y)",
        )

    def action_rewind_to(self) -> None:
        def done(ms: int | None) -> None:
            if ms is not None:
                self.rewind_to(ms)

        self.push_screen(RewindScreen(self.session.cluster.now_ms), done)  # type: ignore[attr-defined]

    def rewind_to(self, time_ms: int) -> None:
        self.playing = False
        actions = getattr(self.session, "actions", [])
        if actions and time_ms <= actions[0][0]:

            def answer(yes: bool | None) -> None:
                if yes:
                    self._rewind_now(time_ms)

            self.push_screen(  # type: ignore[attr-defined]
                ConfirmScreen(
                    f"Going back to t = {format_s(time_ms)} undoes all "
                    f"{count_work(line for _t, line in actions)} of this session. They are kept in a "
                    "branch (redo, ctrl+y, brings them back). Go back?",
                    yes="Yes, go back",
                    no="No, stay",
                ),
                answer,
            )
            return
        self._rewind_now(time_ms)

    def _rewind_now(self, time_ms: int) -> None:
        self.session.rewind_to(time_ms)
        last = getattr(self.session.travel, "last", None)
        kept = f"; where you were is branch {last.branch} (redo: ctrl+y)" if last and last.branch else ""
        self._arrived(f"rewound to t = {format_s(self.session.now_ms)}{kept}", "rewound (redo: ctrl+y)")

    def action_redo(self) -> None:
        self.playing = False
        if not self._travel_ok():
            return
        if not self.session.branches:
            self._last_event = "nothing to redo (a rewind keeps where you were as a branch)"
            self.refresh_view()
            return
        branch = self.session.travel.redo()
        self._arrived(
            f"redo: back on branch {branch.number}, t = {format_s(self.session.now_ms)}",
            f"redo: back on branch {branch.number}",
        )

    def confirm_command(self, question: str, line: str) -> None:
        """A console command that would throw work away: ask, and run it with --yes on yes."""

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_confirmed(line + " --yes")  # type: ignore[attr-defined]

        self.push_screen(ConfirmScreen(question[:1].upper() + question[1:] + ". Go ahead?"), answer)  # type: ignore[attr-defined]
