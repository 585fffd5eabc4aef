"""The lab's time-travel keys: step by meaning, raw steps, rewind (F5), redo, and asking before resets.

A mixin of :class:`~kafkalab.ui.app.KafkaLabApp` (kept apart so the app module stays small):

- ``.`` / F3: run to the next timeline event of the kinds in the step filter (``step-filter`` in the
  console); ``,`` / F4: back to the previous one (the point left is kept as a branch).
- ``>``: exactly one raw kernel event; ``<``: back one raw event.
- F5 / ``r``: go back to a time (units; a bare number is seconds); ctrl+y: redo (back to where the last
  rewind left); F8 asks before starting over, and so does any console command that would throw work away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from ..commands.timetravel_meaning import step_back, step_next
from ..commands.timetravel_verbs import format_s, session_kinds
from .screens.confirm import ConfirmScreen
from .screens.rewind import RewindScreen

__all__ = ["TIME_TRAVEL_BINDINGS", "TimeTravelActions"]

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

    def _travel_ok(self) -> bool:
        if getattr(self.session, "travel", None) is None:
            self.notify("This session cannot travel in time", severity="warning")  # type: ignore[attr-defined]
            return False
        return True

    def _arrived(self, note: str) -> None:
        notes = self.session.time_travel_notes() if hasattr(self.session, "time_travel_notes") else []
        self.replace_session(self.session, note)
        for n in notes:
            self.notify(n, severity="warning")  # type: ignore[attr-defined]

    def action_step(self) -> None:
        self.playing = False
        if not self._travel_ok():
            return
        out = step_next(self.session, session_kinds(self.session))
        more = f" (+{out.also})" if out.also else ""
        self._last_event = (
            f"next: {out.message}{more}" if out.found else f"next: none ({out.message.split(';')[0]})"
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
        self._arrived(f"back to {out.message}" if out.found else out.message)
        self._last_event = f"prev: {out.message}" if out.found else out.message

    def action_back_raw(self) -> None:
        self.playing = False
        if self.session.events <= getattr(self.session, "start_events", 0):
            self._last_event = "at the start: nothing to go back to"
            self.refresh_view()
            return
        self.session.rewind_events(1)
        self._arrived(f"back one event: t = {format_s(self.session.now_ms)}, event {self.session.events}")
        self._last_event = "back one event (redo: ctrl+y)"

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
                    f"Going back to t = {format_s(time_ms)} undoes all {len(actions)} command(s) of this "
                    "session. They are kept in a branch (redo, ctrl+y, brings them back). Go back?",
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
        self._arrived(f"rewound to t = {format_s(self.session.now_ms)}{kept}")

    def action_redo(self) -> None:
        self.playing = False
        if not self._travel_ok():
            return
        if not self.session.branches:
            self._last_event = "nothing to redo (a rewind keeps where you were as a branch)"
            self.refresh_view()
            return
        branch = self.session.travel.redo()
        self._arrived(f"redo: back on branch {branch.number}, t = {format_s(self.session.now_ms)}")
        self._last_event = f"redo: branch {branch.number}"

    def confirm_command(self, question: str, line: str) -> None:
        """A console command that would throw work away: ask, and run it with --yes on yes."""

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_confirmed(line + " --yes")  # type: ignore[attr-defined]

        self.push_screen(ConfirmScreen(question[:1].upper() + question[1:] + ". Go ahead?"), answer)  # type: ignore[attr-defined]
