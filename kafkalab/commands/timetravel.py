"""Time travel for a :class:`~kafkalab.commands.session.LabSession`: checkpoints, branches, redo.

- **Checkpoints**: while time runs, the session captures the whole world (:mod:`.timetravel_store`) each
  time running on from the last checkpoint has cost :data:`REPLAY_BUDGET_S` of CPU time, which is about what
  replaying that stretch costs again (and at least every :data:`CHECKPOINT_EVENTS` events). Going back
  restores the nearest checkpoint at or before the target and replays at most one such stretch, so every
  point of a long session is near (see ``benchmarks/rewind_latency.py`` for the figures). When captures get
  dearer the stretches grow, so that checkpoints never take more than :data:`OVERHEAD_MAX` of the run's CPU
  time. A world that cannot be captured turns checkpoints off and rewinds replay from the seed, as before.
- **Branches**: a rewind never throws the future away. Where the learner was becomes a :class:`Branch` (the
  checkpoints of that line plus its tip); ``redo`` returns to the newest branch, ``redo N`` to any of them, and
  the line being left becomes a branch in turn. Going back again along the same line (``,`` ten times) does not
  make a new branch each time: the branch already holds that future.
- **Caps** (memory and disk stay bounded): a line keeps at most :data:`LINE_MAX_CHECKPOINTS` checkpoints
  (beyond that, the older half is thinned to every other one: points far back take longer to reach), and at
  most :data:`MAX_BRANCHES` branches are kept (the oldest is forgotten, and the session says so).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .timetravel_store import Checkpoint, CheckpointStore, SnapshotError

if TYPE_CHECKING:
    from .session import LabSession, _World

__all__ = [
    "CHECKPOINT_EVENTS",
    "LINE_MAX_CHECKPOINTS",
    "MAX_BRANCHES",
    "OVERHEAD_MAX",
    "REPLAY_BUDGET_S",
    "Branch",
    "TimeMachine",
    "TravelReport",
]

#: a checkpoint at least every this many events, however cheap the run
CHECKPOINT_EVENTS = 20_000
#: and at most every this many (a burst of costly events still makes one checkpoint, not many)
MIN_CHECKPOINT_EVENTS = 500
#: CPU seconds of running between two checkpoints: what a trip replays at most (the target is 0.5 s a trip)
REPLAY_BUDGET_S = 0.1
#: the largest share of the run's CPU time checkpoints may take (stretches grow when captures cost more)
OVERHEAD_MAX = 0.1
#: checkpoints one line keeps before thinning its older half (at ~0.1 s of run each: ~25 s of CPU, ~1.5M
#: events, at full density; beyond that points far back take up to twice as long to reach)
LINE_MAX_CHECKPOINTS = 256
#: abandoned futures kept for redo
MAX_BRANCHES = 8
#: a first guess of the CPU cost of one event (measured as the session runs)
_EVENT_COST_S = 20e-6

#: first character of an outside input in the action log (see ``LabSession.inputs``); no console line has it
INPUT_MARK = "\x1e"
#: how the lab names each kind of outside input when it shows actions
_INPUT_NAMES = {"wire": "request(s) of outside Kafka clients", "http": "HTTP call(s) from outside"}


def summarize_actions(lines: Iterable[str], *, keep: int = 3, width: int = 60) -> str:
    """The commands among ``lines`` (the last ``keep``, each cut to ``width``) and a count of the outside
    inputs recorded between them (a real client's requests: never shown as they are)."""
    commands: list[str] = []
    inputs: Counter[str] = Counter()
    for line in lines:
        if line.startswith(INPUT_MARK):
            inputs[line[1:].partition(" ")[0]] += 1
        else:
            commands.append(line if len(line) <= width else line[: width - 1] + "…")
    parts = []
    if commands:
        more = f"… {len(commands) - keep} more; " if len(commands) > keep else ""
        parts.append(f"{len(commands)} command(s): {more}" + "; ".join(commands[-keep:]))
    for kind, n in sorted(inputs.items()):
        parts.append(f"{n} {_INPUT_NAMES.get(kind, f'outside input(s) ({kind})')}")
    return ", ".join(parts)


def count_work(lines: Iterable[str]) -> str:
    """``3 command(s)``, or ``3 command(s) and 120 outside input(s)``: what an action log holds."""
    commands = inputs = 0
    for line in lines:
        if line.startswith(INPUT_MARK):
            inputs += 1
        else:
            commands += 1
    return f"{commands} command(s)" + (f" and {inputs} recorded outside input(s)" if inputs else "")


#: one action of a plan: (time ms, line, events before, events after, time after)
PlanItem = tuple[int, str, int, int, int]


def _common(a: list[PlanItem], b: list[PlanItem]) -> int:
    """How many actions two plans share from their start."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


#: progress of a trip: (events replayed so far, events to replay)
Progress = Callable[[int, int], None]
#: told how every trip goes: (time machine, done, total); (tm, 0, 0) when one starts, (tm, -1, -1) when it ends
TripWatcher = Callable[["TimeMachine", int, int], None]


@dataclass(eq=False)
class Branch:
    """A line of the session the learner left by rewinding: its checkpoints (tip last) and its actions."""

    number: int
    checkpoints: list[Checkpoint]
    plan: list[PlanItem]
    #: where the learner left it from: the point they went back to
    left_at: tuple[int, int]

    @property
    def tip(self) -> Checkpoint:
        return self.checkpoints[-1]

    @property
    def events(self) -> int:
        return self.tip.events

    @property
    def time_ms(self) -> int:
        return self.tip.time_ms

    #: how many of its commands it shares with the line it was left for
    shared: int = 0

    def added_actions(self, line: list[PlanItem] | None = None) -> list[str]:
        """The commands of this branch that ``line`` (default: the line it was left for) does not have."""
        shared = self.shared if line is None else _common(self.plan, line)
        return [text for (_t, text, _start, _e, _et) in self.plan[shared:]]

    def describe(self, line: list[PlanItem] | None = None) -> str:
        """One line about the branch; what it has of its own is counted against ``line`` (where you are)."""
        added = self.added_actions(line)
        what = (
            f"after t = {self.left_at[1] / 1000:.3f} s: {summarize_actions(added)}"
            if added
            else "no commands of its own (time ran on)"
        )
        return f"branch {self.number}: t = {self.time_ms / 1000:.3f} s, event {self.events}, {what}"


@dataclass
class TravelReport:
    """How the last trip went (for the status line and the benchmark)."""

    from_checkpoint: tuple[int, int] | None
    replayed_events: int
    wall_s: float
    branch: int | None = None
    notes: list[str] = field(default_factory=list)
    #: CPU seconds the trip took (the same on a busy machine, unlike ``wall_s``)
    cpu_s: float = 0.0


def _flush_files(world: _World) -> None:
    for b in world.cluster.brokers.values():
        for part in list(getattr(b, "partitions", {}).values()):
            with contextlib.suppress(Exception):
                part.log.flush()


def _close_files(world: _World) -> None:
    for b in world.cluster.brokers.values():
        for part in list(getattr(b, "partitions", {}).values()):
            with contextlib.suppress(Exception):
                for seg in getattr(part.log, "_segments", ()):
                    seg.close_files()


class TimeMachine:
    """Checkpoints, branches and trips of one :class:`LabSession`."""

    #: whoever shows trips (the lab screen's progress line): called for the trips of every session
    watchers: ClassVar[list[TripWatcher]] = []

    def __init__(self, session: LabSession) -> None:
        self.session = session
        self.enabled = True
        #: the most events between two checkpoints
        self.interval = CHECKPOINT_EVENTS
        #: CPU seconds of running between two checkpoints (None: every ``interval`` events, whatever they cost)
        self.budget_s: float | None = REPLAY_BUDGET_S
        #: called as trips replay (the lab screen shows it); ``label`` says what the current trip is
        self.progress: Progress | None = None
        self.label = ""
        #: wall clock (perf_counter) when the current trip started; how deep trips are nested
        self.trip_started = 0.0
        self._trip_depth = 0
        #: CPU seconds spent running since the last checkpoint of the line, and the costs measured so far
        self._spent_s = 0.0
        self._event_s = _EVENT_COST_S
        self._capture_s = 0.0
        self.disabled_reason: str | None = None
        self._store: CheckpointStore | None = None
        #: checkpoints of the current line, oldest first
        self.line: list[Checkpoint] = []
        self.branches: list[Branch] = []
        self._numbers = 0
        self.last: TravelReport | None = None
        self._data_dirs: set[Path] = set()
        #: every checkpoint not yet dropped (on the line, in a branch, or about to be collected)
        self._known: list[Checkpoint] = []
        self.notes: list[str] = []
        self._pending: int | None = None
        #: the branch the current trip made (its "left at" is where the trip lands)
        self._fresh: Branch | None = None

    # -- checkpoints ---------------------------------------------------------------------------------------
    @property
    def store(self) -> CheckpointStore:
        if self._store is None:
            self._store = CheckpointStore()
        return self._store

    def next_due(self) -> int:
        """The event count at which the next checkpoint is due (from what running has cost so far)."""
        if not self.enabled:
            return sys.maxsize
        if not self.line:
            return self.session.start_events  # one right after the boot: no trip has to replay from the seed
        last = self.line[-1].events
        due = last + self.interval
        if self.budget_s is not None:
            # due once the run since the last checkpoint cost the budget, or 1/OVERHEAD_MAX captures
            enough = max(self.budget_s, self._capture_s / OVERHEAD_MAX)
            left = int((enough - self._spent_s) / self._event_s) if self._spent_s < enough else 0
            due = min(due, max(last + MIN_CHECKPOINT_EVENTS, self.session.events + left))
        return due

    def account(self, cpu_s: float, events: int = 0) -> None:
        """``cpu_s`` of CPU time went into running ``events`` events (or a command) on this line."""
        self._spent_s += cpu_s
        if events >= 200:  # enough to tell what an event costs now
            self._event_s = 0.7 * self._event_s + 0.3 * max(1e-7, cpu_s / events)

    def maybe_checkpoint(self) -> None:
        if self.enabled and self.session.events >= self.next_due():
            self.checkpoint()

    def capture(self, of: LabSession | None = None) -> Checkpoint | None:
        """A checkpoint of the world as it is now (not added to the line), or None if it cannot be taken.

        ``of``: a scratch session :meth:`rebuild` made (a search back keeps a point it found on the way)."""
        if not self.enabled:
            return None
        source = of if of is not None else self.session
        w = source._w
        c = w.cluster
        self._data_dirs.add(Path(c.data_dir))
        c.kernel.sweep()  # cancelled timers: nothing to keep (events pop in the same order without them)
        try:
            ck = self.store.capture(
                w,
                Path(c.data_dir),
                source.events,
                c.now_ms,
                len(w.actions),
                flush=lambda: _flush_files(w),
            )
        except SnapshotError as e:
            self._turn_off(e)
            return None
        ck.meta["data_dir"] = Path(c.data_dir)
        ck.meta["history"] = c.history.mark()  # where the history stood (stepping back reads what came after)
        self._capture_s = ck.cpu_s if not self._capture_s else 0.7 * self._capture_s + 0.3 * ck.cpu_s
        return ck

    def _turn_off(self, e: SnapshotError) -> None:
        """A checkpoint could not be taken or restored: replay from the seed from now on, and say so."""
        self.enabled = False
        self.disabled_reason = str(e)
        self.notes.append(f"time travel: checkpoints are off ({e}); rewinds replay from the seed")

    def checkpoint(self) -> Checkpoint | None:
        s = self.session
        if self.line and self.line[-1].position == s.position() and self.line[-1].actions == len(s.actions):
            return self.line[-1]
        ck = self.capture()
        if ck is not None:
            self.line.append(ck)
            self._known.append(ck)
            self._spent_s = 0.0
            self._thin()
        return ck

    def _thin(self) -> None:
        if len(self.line) <= LINE_MAX_CHECKPOINTS:
            return
        half = len(self.line) // 2
        self.line = self.line[:half:2] + self.line[half:]
        self._collect()

    def _collect(self) -> None:
        """Drop the checkpoints no line and no branch refers to any more."""
        keep = {id(ck) for ck in self.line}
        for b in self.branches:
            keep.update(id(ck) for ck in b.checkpoints)
        for ck in self._known:
            if id(ck) not in keep:
                self.store.drop(ck)
        self._known = [ck for ck in self._known if not ck.dropped]

    # -- running with checkpoints ----------------------------------------------------------------------
    def run_for(self, ms: int) -> None:
        """Let ``ms`` of virtual time pass, taking checkpoints on the way (same run as ``run_for``)."""
        k = self.session._w.cluster.kernel
        deadline = k.now_ms + ms
        while not self.run_until_time(deadline, sys.maxsize):
            pass

    def run_until_time(self, deadline_ms: int, stop_events: int) -> bool:
        """``kernel.run_until_time`` that takes checkpoints when they fall due and measures what running costs.

        Returns True once the deadline is reached (the clock then ends exactly there), False when it stopped
        at ``stop_events``. The events run are the same, in the same order, as without checkpoints.
        """
        k = self.session._w.cluster.kernel
        stats = k.stats
        while True:
            due = self.next_due()
            start = stats.events
            # in slices: what running costs is measured as it goes, so a costly stretch gets its checkpoint
            stop = min(stop_events, due, start + 2000)
            c0 = time.process_time()
            reached = k.run_until_time(deadline_ms, stop)
            self.account(time.process_time() - c0, stats.events - start)
            if reached:
                return True
            if stats.events >= due:
                self.checkpoint()  # (if the world cannot be captured, checkpoints turn off: no more are due)
            if stats.events >= stop_events:
                return False

    # -- trips -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def trip(self, label: str) -> Iterator[None]:
        """A trip through time (a rewind, a redo, a search back): its progress goes to :attr:`watchers`."""
        self._trip_depth += 1
        if self._trip_depth == 1:
            self.label = label
            self.trip_started = time.perf_counter()
            self.report(0, 0)
        try:
            yield
        finally:
            self._trip_depth -= 1
            if self._trip_depth == 0:
                self.report(-1, -1)
                self.label = ""

    def report(self, done: int, total: int) -> None:
        """Tell how the current trip goes (``done`` of ``total`` events; -1: it ended)."""
        if self.progress is not None and done >= 0:
            self.progress(done, total)
        for watch in list(TimeMachine.watchers):
            watch(self, done, total)

    def _best(self, plan: list[PlanItem], final: tuple[int | None, int | None]) -> Checkpoint | None:
        fe, ft = final
        best = None
        for ck in self.line:
            if ck.dropped or ck.actions > len(plan):
                continue
            if fe is not None and ck.events > fe:
                continue
            if ft is not None and ck.time_ms > ft:
                continue
            if ck.actions < len(plan) and plan[ck.actions][2] < ck.events:
                continue
            if best is None or ck.events >= best.events:
                best = ck
        return best

    def _on_line(self, plan: list[PlanItem], events: int, branch: Branch) -> bool:
        """Whether the run of ``plan`` up to ``events`` is the start of ``branch`` (so it holds its future)."""
        if events > branch.events or len(plan) > len(branch.plan):
            return False
        if branch.plan[: len(plan)] != plan:
            return False
        nxt = branch.plan[len(plan)] if len(branch.plan) > len(plan) else None
        return nxt is None or nxt[2] >= events

    def _keep_future(self, plan: list[PlanItem], final_events: int | None) -> int | None:
        """Before leaving the current point for an earlier one: save it as a branch unless one holds it."""
        s = self.session
        here = s._plan()
        for b in self.branches:
            if self._on_line(here, s.events, b):
                self._fresh = b  # going further back along its line: it was left from further back
                return b.number
        if not self.enabled:
            return None
        last = self.line[-1] if self.line else None
        if last is not None and last.position == s.position() and last.actions == len(s.actions):
            tip = last  # just restored (a redo): the checkpoint there is the tip
        else:
            tip = self.capture()
            if tip is None:
                return None
            self._known.append(tip)
        self._numbers += 1
        target_events = final_events if final_events is not None else s.events
        shared = _common(here, plan)
        cks = self.line if tip is last else [*self.line, tip]
        b = Branch(self._numbers, list(cks), here, (target_events, s.now_ms), shared)
        self.branches.append(b)
        self._fresh = b
        if len(self.branches) > MAX_BRANCHES:
            gone = self.branches.pop(0)
            self.notes.append(f"time travel: forgot branch {gone.number} (at most {MAX_BRANCHES} are kept)")
        return b.number

    def rebuild(
        self,
        plan: list[PlanItem],
        final: tuple[int | None, int | None],
        *,
        progress: Progress | None = None,
        on_event: Callable[[LabSession], None] | None = None,
        use_checkpoints: bool = True,
        start: Checkpoint | None = None,
    ) -> tuple[LabSession, str | None, TravelReport]:
        """A new session (not yet swapped in) at ``final`` after running ``plan``: from the nearest
        checkpoint (``start``: from that one), or from the seed. ``on_event`` runs after every replayed
        event (for searches)."""
        from .session import LabSession

        t0 = time.perf_counter()
        c0 = time.process_time()
        s = self.session
        if progress is None and (self.progress is not None or TimeMachine.watchers):
            progress = self.report
        ck = None
        if use_checkpoints and self.enabled:
            ck = start if start is not None and not start.dropped else self._best(plan, final)
        world = None
        if ck is not None:
            try:
                world = self.store.restore(ck, ck.meta["data_dir"])
            except SnapshotError as e:
                self._turn_off(e)
        if ck is not None and world is not None:
            tmp = LabSession._shell(s, world)
            done = ck.actions
        else:
            tmp = LabSession(s.n_brokers, s.seed, s.n_controllers, s.broker_config, s.clusters_spec)
            tmp.travel.enabled = False
            done = 0
        tmp._speed = s.speed
        tmp.verbs = s.verbs
        tmp.inputs = s.inputs
        start_events = tmp.events
        if on_event is not None:
            on_event(tmp)  # before anything runs (a search starts watching here)
        fe, ft = final
        total = max(1, (fe if fe is not None else self._events_at(ft, plan)) - start_events)
        if progress is not None:
            progress(0, total)

        def advance(events: int, time_ms: int | None, every_due: bool = False) -> None:
            k = tmp._w.cluster.kernel
            stats = k.stats
            report_at = stats.events + 1000
            while stats.events < events:
                if k.step() is None:
                    break
                if on_event is not None:
                    on_event(tmp)
                if progress is not None and stats.events >= report_at:
                    report_at += 1000
                    progress(stats.events - start_events, total)
            if time_ms is not None and (time_ms > k.now_ms or every_due):
                # every event due by then, as ``run_for`` runs them (one by one: progress, searches)
                while True:
                    nxt = k.next_time_ms()
                    if nxt is None or nxt > time_ms:
                        break
                    k.step()
                    if on_event is not None:
                        on_event(tmp)
                    if progress is not None and stats.events >= report_at:
                        report_at += 1000
                        progress(stats.events - start_events, total)
                k.now_ms = max(k.now_ms, time_ms)

        divergence: str | None = None
        for t, line, start, _end, _end_t in plan[done:]:
            advance(start, t)
            if divergence is None and tmp.position() != (start, t):
                divergence = f"replay reached '{line}' at {tmp.position()} instead of {(start, t)}"
            tmp._replay_line(line)  # a console command, or a recorded outside input (wire, HTTP)
            if on_event is not None:
                on_event(tmp)
        if fe is not None:
            advance(fe, ft)
        elif ft is not None and ft >= tmp.now_ms:
            # a time: every event due by then runs (as ``tick`` would), also those at the very ms of a checkpoint
            advance(tmp.events, ft, every_due=True)
        report = TravelReport(
            ck.position if ck is not None else None,
            tmp.events - start_events,
            time.perf_counter() - t0,
            cpu_s=time.process_time() - c0,
        )
        return tmp, divergence, report

    def _events_at(self, time_ms: int | None, plan: list[PlanItem]) -> int:
        """About how many events the current line had run by ``time_ms`` (for a trip's progress)."""
        s = self.session
        if time_ms is None:
            return plan[-1][3] if plan else s.events
        for ck in self.line:
            if ck.time_ms >= time_ms:
                return ck.events
        return s.events

    def go(
        self,
        plan: list[PlanItem],
        final: tuple[int | None, int | None],
        *,
        progress: Progress | None = None,
        keep_future: bool = True,
    ) -> TravelReport:
        """Travel the current line to ``final`` after ``plan`` (a prefix of its actions), keeping the future."""
        with self.trip("going back"):
            return self._go(plan, final, progress, keep_future)

    def _go(
        self,
        plan: list[PlanItem],
        final: tuple[int | None, int | None],
        progress: Progress | None,
        keep_future: bool,
    ) -> TravelReport:
        t0 = time.perf_counter()
        c0 = time.process_time()
        s = self.session
        branch = self._keep_future(plan, final[0]) if keep_future else None
        old = s._w
        _close_files(old)
        tmp, divergence, report = self.rebuild(plan, final, progress=progress)
        report.branch = branch
        s._install(tmp._w, divergence)
        # the checkpoints still on the new line: those of the shared past
        n = len(plan)
        here = s.events
        self.line = [ck for ck in self.line if not ck.dropped and ck.actions <= n and ck.events <= here]
        self._spent_s = (here - self.line[-1].events) * self._event_s if self.line else 0.0
        self._settle()
        if self._store is not None:
            self._collect()
        report.wall_s = time.perf_counter() - t0
        report.cpu_s = time.process_time() - c0
        self.last = report
        return report

    def redo(self, number: int | None = None) -> Branch:
        """Go to the tip of a branch (default: the newest); the line being left becomes a branch."""
        with self.trip("redo: back to a branch"):
            return self._redo(number)

    def _redo(self, number: int | None) -> Branch:
        if not self.branches:
            raise LookupError("there is nothing to redo: no rewind has left a future behind")
        if number is None:
            target = self.branches[-1]
        else:
            found = [b for b in self.branches if b.number == number]
            if not found:
                have = ", ".join(str(b.number) for b in self.branches)
                raise LookupError(f"there is no branch {number} (branches: {have})")
            target = found[0]
        t0 = time.perf_counter()
        c0 = time.process_time()
        s = self.session
        here = s._plan()
        if not self._on_line(here, s.events, target):
            self._keep_future(target.plan, s.events)
        self.branches = [b for b in self.branches if b is not target]
        _close_files(s._w)
        tip = target.tip
        try:
            world = self.store.restore(tip, tip.meta["data_dir"])
        except SnapshotError as e:  # the branch's tip cannot be rebuilt from its checkpoint: replay it
            self._turn_off(e)
            tmp, divergence, report = self.rebuild(target.plan, tip.position, use_checkpoints=False)
            s._install(tmp._w, divergence)
            self.line = []
            self._collect()
            report.branch = target.number
            report.wall_s = time.perf_counter() - t0
            report.cpu_s = time.process_time() - c0
            self.last = report
            return target
        s._install(world, None)
        self.line = list(target.checkpoints)
        self._spent_s = 0.0
        self._fresh = None
        self._collect()
        self.last = TravelReport(
            tip.position, 0, time.perf_counter() - t0, target.number, cpu_s=time.process_time() - c0
        )
        return target

    def adopt(self, ck: Checkpoint) -> None:
        """Put a checkpoint of this line's past (taken on a scratch rebuild of it) on the line."""
        self._known.append(ck)
        self.line.append(ck)
        self.line.sort(key=lambda c: (c.events, c.actions))

    def _settle(self) -> None:
        """The trip arrived: the branch it made was left here, and shares this line's commands so far."""
        b, self._fresh = self._fresh, None
        if b is None:
            return
        s = self.session
        b.shared = _common(b.plan, s._plan())
        b.left_at = s.position()

    def keep_future_now(self) -> int | None:
        """Save the current point (as a branch, unless one holds it) and free the data directory for a search;
        :meth:`return_to_tip` comes back to it, :meth:`go` moves on."""
        s = self.session
        self._pending = self._keep_future([], s.events)
        _close_files(s._w)
        return self._pending

    def return_to_tip(self) -> None:
        """Back to the point :meth:`keep_future_now` saved."""
        if self._pending is None:
            raise SnapshotError("no saved point to return to")
        self.redo(self._pending)

    def discard_world(self, tmp: LabSession) -> None:
        """Done with a scratch session from :meth:`rebuild` (a search): close its files."""
        _close_files(tmp._w)
        if Path(tmp._w.cluster.data_dir) not in self._data_dirs:
            tmp._w.cluster.close()

    def reset(self) -> None:
        """Forget every checkpoint and branch (a new cluster: restart, another seed)."""
        self.line = []
        self.branches = []
        self._known = []
        self.last = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self.enabled = True
        self.disabled_reason = None

    def close(self) -> None:
        self.reset()
        current = Path(self.session._w.cluster.data_dir)
        for d in self._data_dirs:
            if d != current:
                shutil.rmtree(d, ignore_errors=True)
        self._data_dirs.clear()

    def stats(self) -> dict[str, Any]:
        store = self._store
        return {
            "checkpoints": len(self.line),
            "branches": len(self.branches),
            "taken": store.taken if store else 0,
            "capture_s": store.total_cost_s if store else 0.0,
            "enabled": self.enabled,
        }
