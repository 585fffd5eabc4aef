"""Time travel for a :class:`~kafkalab.commands.session.LabSession`: checkpoints, branches, redo.

- **Checkpoints**: while time runs, the session captures the whole world every :data:`CHECKPOINT_EVENTS`
  events (:mod:`.timetravel_store`). Going back restores the nearest checkpoint at or before the target and
  replays at most one interval, so every point of a long session is near (see ``benchmarks/rewind_latency.py``
  for the figures). A world that cannot be captured turns checkpoints off and rewinds replay from the seed,
  as before.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .timetravel_store import Checkpoint, CheckpointStore, SnapshotError

if TYPE_CHECKING:
    from .session import LabSession, _World

__all__ = [
    "CHECKPOINT_EVENTS",
    "LINE_MAX_CHECKPOINTS",
    "MAX_BRANCHES",
    "Branch",
    "TimeMachine",
    "TravelReport",
]

#: a checkpoint every this many events (~0.25 s of replay at ~40k events/s)
CHECKPOINT_EVENTS = 10_000
#: checkpoints one line keeps before thinning its older half (128 x 10k events: 1.28M events at full density)
LINE_MAX_CHECKPOINTS = 128
#: abandoned futures kept for redo
MAX_BRANCHES = 8

#: one action of a plan: (time ms, line, events before, events after, time after)
PlanItem = tuple[int, str, int, int, int]
Progress = Callable[[int, int], None]


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

    def added_actions(self) -> list[str]:
        """The commands of this branch that the line it was left for does not have."""
        return [line for (_t, line, _start, _e, _et) in self.plan[self.shared :]]

    def describe(self) -> str:
        added = self.added_actions()
        what = (
            f"{len(added)} command(s) after t = {self.left_at[1] / 1000:.3f} s: " + "; ".join(added[-3:])
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

    def __init__(self, session: LabSession) -> None:
        self.session = session
        self.enabled = True
        self.interval = CHECKPOINT_EVENTS
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

    # -- checkpoints ---------------------------------------------------------------------------------------
    @property
    def store(self) -> CheckpointStore:
        if self._store is None:
            self._store = CheckpointStore()
        return self._store

    def next_due(self) -> int:
        if not self.enabled:
            return sys.maxsize
        if not self.line:
            return self.session.start_events  # one right after the boot: no trip has to replay from the seed
        return self.line[-1].events + self.interval

    def maybe_checkpoint(self) -> None:
        if self.enabled and self.session.events >= self.next_due():
            self.checkpoint()

    def capture(self) -> Checkpoint | None:
        """A checkpoint of the world as it is now (not added to the line), or None if it cannot be taken."""
        if not self.enabled:
            return None
        w = self.session._w
        c = w.cluster
        self._data_dirs.add(Path(c.data_dir))
        c.kernel.sweep()  # cancelled timers: nothing to keep (events pop in the same order without them)
        try:
            ck = self.store.capture(
                w,
                Path(c.data_dir),
                self.session.events,
                c.now_ms,
                len(w.actions),
                flush=lambda: _flush_files(w),
            )
        except SnapshotError as e:
            self.enabled = False
            self.disabled_reason = str(e)
            self.notes.append(f"time travel: checkpoints are off ({e}); rewinds replay from the seed")
            return None
        ck.meta["data_dir"] = Path(c.data_dir)
        ck.meta["plan"] = self.session._plan()
        return ck

    def checkpoint(self) -> Checkpoint | None:
        s = self.session
        if self.line and self.line[-1].position == s.position() and self.line[-1].actions == len(s.actions):
            return self.line[-1]
        ck = self.capture()
        if ck is not None:
            self.line.append(ck)
            self._known.append(ck)
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
        while not k.run_until_time(deadline, self.next_due()):
            if self.checkpoint() is None:
                k.run_for(max(0, deadline - k.now_ms))
                return

    # -- trips -------------------------------------------------------------------------------------------
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
        shared = 0
        while shared < min(len(here), len(plan)) and here[shared] == plan[shared]:
            shared += 1
        cks = self.line if tip is last else [*self.line, tip]
        b = Branch(self._numbers, list(cks), here, (target_events, s.now_ms), shared)
        self.branches.append(b)
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
    ) -> tuple[LabSession, str | None, TravelReport]:
        """A new session (not yet swapped in) at ``final`` after running ``plan``: from the nearest
        checkpoint, or from the seed. ``on_event`` runs after every replayed event (for searches)."""
        import time

        from .session import LabSession

        t0 = time.perf_counter()
        s = self.session
        ck = self._best(plan, final) if use_checkpoints and self.enabled else None
        if ck is not None:
            world = self.store.restore(ck, ck.meta["data_dir"])
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
        total = max(1, (fe if fe is not None else (plan[-1][3] if plan else start_events)) - start_events)

        def advance(events: int, time_ms: int | None, every_due: bool = False) -> None:
            k = tmp._w.cluster.kernel
            stats = k.stats
            while stats.events < events:
                if k.step() is None:
                    break
                if on_event is not None:
                    on_event(tmp)
                if progress is not None and stats.events % 2000 == 0:
                    progress(stats.events - start_events, total)
            if time_ms is not None and (time_ms > k.now_ms or every_due):
                if on_event is None:
                    k.run_for(time_ms - k.now_ms)
                else:
                    deadline = time_ms
                    while True:
                        nxt = k.next_time_ms()
                        if nxt is None or nxt > deadline:
                            break
                        k.step()
                        on_event(tmp)
                    k.now_ms = max(k.now_ms, deadline)

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
            ck.position if ck is not None else None, tmp.events - start_events, time.perf_counter() - t0
        )
        return tmp, divergence, report

    def go(
        self,
        plan: list[PlanItem],
        final: tuple[int | None, int | None],
        *,
        progress: Progress | None = None,
        keep_future: bool = True,
    ) -> TravelReport:
        """Travel the current line to ``final`` after ``plan`` (a prefix of its actions), keeping the future."""
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
        if self._store is not None:
            self._collect()
        self.last = report
        return report

    def redo(self, number: int | None = None, *, progress: Progress | None = None) -> Branch:
        """Go to the tip of a branch (default: the newest); the line being left becomes a branch."""
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
        import time

        t0 = time.perf_counter()
        s = self.session
        here = s._plan()
        if not self._on_line(here, s.events, target):
            self._keep_future(target.plan, s.events)
        self.branches = [b for b in self.branches if b is not target]
        _close_files(s._w)
        tip = target.tip
        world = self.store.restore(tip, tip.meta["data_dir"])
        s._install(world, None)
        self.line = list(target.checkpoints)
        self._collect()
        self.last = TravelReport(tip.position, 0, time.perf_counter() - t0, target.number)
        return target

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
