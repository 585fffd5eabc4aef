"""Playing a scenario back: a fresh session, the scenario's actions run at their recorded places, one stop
at a time, with a caption for what just happened.

A *stop* is an action after which the player waits (every action, or with ``pauses: marked`` only notes and
actions marked ``pause: true``). Two ways to move on:

- :meth:`ScenarioPlayer.advance` (the lab's ``n`` / F12): run every action up to and including the next stop
  at once; the virtual time in between passes instantly (the caption says what happened meanwhile);
- the lab's clock (Space): time runs at the lab's speed, :meth:`ScenarioPlayer.clock_limit` says how far it
  may go before the next action, and :meth:`ScenarioPlayer.reached` runs that action when the clock gets
  there; after a stop the clock pauses.

Either way each action runs at exactly its recorded place (the events run before it and its virtual time),
so once the end is reached the run is the recorded one, event for event (the same trace hash). After the end,
time runs freely. :meth:`ScenarioPlayer.back` goes back to the previous stop with the lab's time travel (the
future stays a branch: ctrl+y returns to it). If the teacher types commands of their own, the player says
the session left the script and goes on from where it is.

Headless: no Textual here. ``kafkalab play FILE --headless`` prints every stop's caption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..commands import LabSession, execute
from .scenario import Entry, Scenario, format_ms

__all__ = ["ScenarioPlayer", "StopReport", "new_session"]

#: timeline entries a caption lists at most ("meanwhile: …")
CAPTION_EVENTS = 3


def new_session(sc: Scenario) -> LabSession:
    """A fresh session shaped like the scenario's, with the lesson verbs a lesson's recording may use."""
    from ..lessons.runner import _lesson_verb
    from ..lessons.verbs import VERB_HELP, VERB_USAGE

    s = LabSession(
        brokers=sc.brokers,
        seed=sc.seed,
        controllers=sc.controllers,
        broker_config=dict(sc.broker_config) or None,
        clusters=list(sc.clusters) if sc.clusters else None,
    )
    s.speed = sc.speed
    for verb in VERB_USAGE:  # a scenario recorded in a lesson may use its verbs (start-copier ...)
        s.verbs[verb] = _lesson_verb
        s.verb_help[verb] = list(VERB_HELP[verb])
    return s


@dataclass
class StopReport:
    """What one move of the player did, for the caption."""

    #: the caption's first line: where the story is (``stop 3 of 7 · t = 12.345 s``)
    title: str
    #: what just happened: the notes and commands run, their replies, what the cluster did meanwhile
    lines: list[str] = field(default_factory=list)
    #: the actions run by this move
    ran: list[Entry] = field(default_factory=list)
    #: whether the move reached the end of the scenario
    ended: bool = False
    #: whether the player stopped (False: an action the clock ran on its way, not a stop)
    stopped: bool = True


class ScenarioPlayer:
    """Plays ``scenario`` on ``session`` (default: a fresh one shaped like the recorded one)."""

    def __init__(self, scenario: Scenario, session: LabSession | None = None) -> None:
        self.scenario = scenario
        self.session = session if session is not None else new_session(scenario)
        self.entries = scenario.entries
        #: actions of the scenario run so far
        self.done = 0
        #: per action run: the session's (events, time ms, number of actions) right after it
        self._marks: list[tuple[int, int, int]] = []
        self._start = (self.session.events, self.session.now_ms, len(self.session.actions))
        self._generation = self.session.generation
        self._timeline_seen = len(self.session.cluster.timeline)
        #: the end of the scenario was reached (time now runs freely)
        self.ended = not self.entries and scenario.end_ms is None
        #: set when an action could not run at its recorded place (the run differs from the recording)
        self.divergence: str | None = None
        #: the last caption (for a screen that opens later)
        self.last: StopReport | None = None

    # -- where the story is -----------------------------------------------------------------------------
    @property
    def stops_total(self) -> int:
        return self.scenario.stops

    def stops_done(self) -> int:
        return sum(1 for e in self.entries[: self.done] if self.scenario.is_stop(e))

    @property
    def next_entry(self) -> Entry | None:
        return self.entries[self.done] if self.done < len(self.entries) else None

    def next_stop(self) -> Entry | None:
        """The action the next stop is after (None: the end comes next, or was reached)."""
        for e in self.entries[self.done :]:
            if self.scenario.is_stop(e):
                return e
        return None

    @property
    def off_script(self) -> bool:
        """The session has commands the scenario does not (the teacher typed their own), or another seed."""
        s = self.session
        if s.seed != self.scenario.seed:
            return True
        expected = self._marks[self.done - 1][2] if self.done else self._start[2]
        return len(s.actions) > expected

    def describe_next(self) -> str:
        """What comes next, in a few words: ``kill-broker 2 at 12.345 s``, ``a note``, ``the end``."""
        e = self.next_entry
        if e is None:
            return "nothing: the end of the scenario" if self.ended else "the end of the scenario"
        what = f"“{e.note}”" if e.note is not None else e.line or "(an empty line: ends the records)"
        if len(what) > 60:
            what = what[:59] + "…"
        when = f" at {format_ms(e.at_ms)}" if e.at_ms is not None and e.at_ms > self.session.now_ms else ""
        return what + when

    def indicator(self, playing: bool) -> str:
        """The "paused / next" line: ``⏸ paused · stop 2 of 6 · next: heal at 30 s (n)``."""
        if self.ended:
            return "■ end of the scenario · time runs freely now"
        state = "▶ playing" if playing else "⏸ paused"
        where = f"stop {self.stops_done()} of {self.stops_total}"
        script = " · off script" if self.off_script else ""
        return f"{state} · {where}{script} · next: {self.describe_next()}"

    # -- following the session ---------------------------------------------------------------------------
    def sync(self) -> str | None:
        """Follow a rewind, redo or restart of the session; a sentence when the story moved."""
        s = self.session
        if s.generation == self._generation:
            return None
        self._generation = s.generation
        before = self.done
        here = (s.events, s.now_ms, len(s.actions))
        done = 0
        for events, time_ms, actions in self._marks:
            if events <= here[0] and time_ms <= here[1] and actions <= here[2]:
                done += 1
            else:
                break
        self.done = done
        del self._marks[done:]
        self.ended = False
        if done == len(self.entries) and self.scenario.end_ms is not None:
            self.ended = s.now_ms >= self.scenario.end_ms
        self._timeline_seen = min(self._timeline_seen, len(s.cluster.timeline))
        if done != before:
            return f"the scenario is back at stop {self.stops_done()} of {self.stops_total}"
        return None

    # -- running ---------------------------------------------------------------------------------------------
    def _goto(self, at_ms: int | None, events: int | None, what: str) -> None:
        """Run the session to ``(events, at_ms)``: the place where an action ran when it was recorded."""
        s = self.session
        if at_ms is not None and events is not None and at_ms - 1 > s.now_ms:
            s.tick(at_ms - 1 - s.now_ms)  # every event before that ms (all of them ran before the action)
        if events is not None:
            while s.events < events:
                if s.step() is None:
                    break
        if at_ms is not None and at_ms > s.now_ms:
            s.tick(at_ms - s.now_ms)
        if (
            self.divergence is None
            and events is not None
            and (s.events, s.now_ms) != (events, at_ms or s.now_ms)
        ):
            self.divergence = (
                f"{what} ran at event {s.events}, t = {format_ms(s.now_ms)} instead of event {events}"
                + (f", t = {format_ms(at_ms)}" if at_ms is not None else "")
                + ": from here the run differs from the recording"
            )

    def _run(self, e: Entry, lines: list[str]) -> None:
        self._goto(e.at_ms, e.events, f"'{e.line}'")
        r = execute(self.session, e.line)
        s = self.session
        self.done += 1
        self._marks.append((s.events, s.now_ms, len(s.actions)))
        self._generation = s.generation
        if e.caption:
            lines.append(e.caption)
        if e.note is not None:
            if not e.caption:
                lines.append(e.note)
            return
        lines.append(f"$ {e.line}" if e.line else "$ (empty line: the console producer's input ends)")
        if r.ok:
            lines += [f"  {x}" for x in r.lines[:2]]
            if len(r.lines) > 2:
                more = len(r.lines) - 2
                lines.append(f"  … ({more} more line{'s' if more > 1 else ''})")
        else:
            lines.append(f"  error: {r.error}")

    def _meanwhile(self) -> list[str]:
        """The cluster's own timeline entries since the last caption (internal topics left out)."""
        from ..timeline_text import is_internal, plain_entry

        timeline = self.session.cluster.timeline
        start = min(self._timeline_seen, len(timeline))
        self._timeline_seen = len(timeline)
        picked = [e for e in timeline[start:] if not is_internal(e.text)]
        out = [f"  {e.time_ms / 1000:.3f} s  {plain_entry(e.text)}" for e in picked[-CAPTION_EVENTS:]]
        if len(picked) > CAPTION_EVENTS:
            out.insert(0, f"  ({len(picked) - CAPTION_EVENTS} more in the timeline)")
        return out

    def _report(self, lines: list[str], ran: list[Entry], *, stopped: bool = True) -> StopReport:
        s = self.session
        meanwhile = self._meanwhile()
        if meanwhile:
            lines = [*lines, "the cluster, since the last stop:", *meanwhile]
        if self.ended:
            title = f"the end · t = {s.now_ms / 1000:,.3f} s"
        else:
            title = f"stop {self.stops_done()} of {self.stops_total} · t = {s.now_ms / 1000:,.3f} s"
        report = StopReport(title, lines, ran, self.ended, stopped)
        if stopped:
            self.last = report
        return report

    def _finish(self, lines: list[str]) -> None:
        sc = self.scenario
        self._goto(sc.end_ms, sc.end_events, "the end")
        self.ended = True
        lines.append(f"the end of '{sc.title}': {len(self.entries)} actions played")
        if sc.outside_requests:
            lines.append(
                f"(the recording also had {sc.outside_requests} request(s) of outside clients, not replayed)"
            )

    def advance(self) -> StopReport:
        """``n``: run every action up to and including the next stop (then the end, if nothing is left)."""
        self.sync()
        lines: list[str] = []
        ran: list[Entry] = []
        if self.ended:
            return self._report(["the scenario is over: time runs freely (F8 starts over)"], ran)
        while self.done < len(self.entries):
            e = self.entries[self.done]
            self._run(e, lines)
            ran.append(e)
            if self.scenario.is_stop(e):
                break
        if self.done == len(self.entries) and (not ran or not self.scenario.is_stop(ran[-1])):
            self._finish(lines)
        return self._report(lines, ran)

    def clock_limit(self) -> int | None:
        """Virtual ms the lab's clock may run before the player must act (None: no limit, the end is past)."""
        self.sync()
        if self.ended:
            return None
        s = self.session
        e = self.next_entry
        if e is None:
            end = self.scenario.end_ms
            if end is None:
                return 0
            return max(0, end - (1 if self.scenario.end_events is not None else 0) - s.now_ms)
        if e.at_ms is None:
            return 0
        return max(0, e.at_ms - (1 if e.events is not None else 0) - s.now_ms)

    def reached(self) -> StopReport:
        """The clock got to the next action (or the end): run it there. ``stopped``: the clock should pause."""
        self.sync()
        lines: list[str] = []
        e = self.next_entry
        if e is None:
            if not self.ended:
                self._finish(lines)
            return self._report(lines, [])
        self._run(e, lines)
        return self._report(lines, [e], stopped=self.scenario.is_stop(e))

    def back(self) -> StopReport | None:
        """Go back to the previous stop (the future stays a branch); None when at the start already."""
        self.sync()
        if self.done == 0:
            return None
        s = self.session
        stops = [i + 1 for i in range(self.done) if self.scenario.is_stop(self.entries[i])]
        if stops and stops[-1] == self.done and not self.ended:  # right after a stop: to the one before it
            stops.pop()
        target = stops[-1] if stops else 0
        if target == 0:
            events, time_ms, actions = self._start
        else:
            events, time_ms, actions = self._marks[target - 1]
        plan = s._plan()[:actions]
        s._replay(plan, (events, time_ms))
        self._generation = s.generation
        self.done = target
        del self._marks[target:]
        self.ended = False
        self._timeline_seen = len(s.cluster.timeline)
        where = f"back at stop {self.stops_done()} of {self.stops_total}" if target else "back at the start"
        lines = [f"{where}: t = {s.now_ms / 1000:,.3f} s (ctrl+y returns to where you were)"]
        if target:
            e = self.entries[target - 1]
            lines.append(e.caption or e.note or f"$ {e.line}")
        return self._report(lines, [])

    def play_to_end(self, echo: Callable[[StopReport], Any] | None = None) -> list[StopReport]:
        """Every stop, then the end (headless: ``kafkalab play --headless`` and the tests)."""
        out: list[StopReport] = []
        while not self.ended:
            r = self.advance()
            out.append(r)
            if echo is not None:
                echo(r)
        return out

    def close(self) -> None:
        self.session.close()
