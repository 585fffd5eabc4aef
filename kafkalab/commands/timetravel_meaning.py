"""Stepping by meaning: to the next or previous *thing that happened*, not the next low-level event.

A consumer makes thousands of kernel events per simulated second (fetches, heartbeats); a learner wants the
next leader change, ISR change, rebalance phase, acknowledgement or commit. :func:`step_next` runs events
until one of them adds a timeline entry (or, for ``ack`` and ``commit``, a history op) of a kind the filter
lets through; :func:`step_back` finds the last such event before the current point and travels there (the
point being left is kept as a branch, like every rewind).

Kinds (:data:`KINDS`): those the simulation gives each timeline entry where it makes it
(:data:`kafkalab.sim.cluster.TIMELINE_KINDS`: leader, isr, broker, controller, network, group, topic, log,
txn, client, platform, other), plus ``ack`` and ``commit`` (from the history) and ``internal`` (entries about
``__consumer_offsets`` and ``__transaction_state``, also said by the simulation). By default every kind but
``ack`` (a producer at 1,000 records/s acknowledges every few events) and ``internal``.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..sim.cluster import TIMELINE_KINDS

if TYPE_CHECKING:
    from .session import LabSession
    from .timetravel_store import Checkpoint

__all__ = [
    "DEFAULT_KINDS",
    "KINDS",
    "Meaning",
    "parse_kinds",
    "step_back",
    "step_next",
]

KINDS: dict[str, str] = {
    **TIMELINE_KINDS,
    "ack": "a producer got delivery reports (records acknowledged or failed)",
    "commit": "a consumer committed offsets",
    "internal": "entries about the internal topics __consumer_offsets and __transaction_state",
}
DEFAULT_KINDS: frozenset[str] = frozenset(KINDS) - {"ack", "internal"}
#: how far ``.`` looks ahead before giving up (virtual time)
NEXT_LIMIT_MS = 60_000
#: how far ``,`` looks back before giving up (events)
BACK_LIMIT_EVENTS = 200_000


@dataclass(frozen=True)
class Meaning:
    """A meaningful event: the session is right after event number ``events`` (and, ``by_command``, after
    the command that ran right there and made it)."""

    events: int
    time_ms: int
    kind: str
    text: str
    by_command: bool = False

    def describe(self) -> str:
        return f"t = {self.time_ms / 1000:.3f} s  {self.kind}: {self.text}"


def parse_kinds(text: str) -> frozenset[str]:
    """``leader,isr`` / ``all`` / ``default`` / ``all,-ack``. Raises ValueError naming an unknown kind."""
    words = [w.strip().lower() for w in text.replace(" ", ",").split(",") if w.strip()]
    if not words:
        raise ValueError("name at least one kind")
    out: set[str] = set()
    for w in words:
        if w == "all":
            out |= set(KINDS)
        elif w == "default":
            out |= DEFAULT_KINDS
        elif w.startswith("-") and w[1:] in KINDS:
            out.discard(w[1:])
        elif w in KINDS:
            out.add(w)
        else:
            raise ValueError(f"unknown kind '{w}' (kinds: {', '.join(KINDS)}, all, default)")
    if not out:
        raise ValueError("the filter lets no kind through")
    return frozenset(out)


class _Watcher:
    """Notices what an event added to a cluster's timeline and history."""

    def __init__(self, session: LabSession, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.want_history = bool(kinds & {"ack", "commit"})
        self.rebind(session)

    def rebind(self, session: LabSession) -> None:
        c = session.cluster
        self.cluster = c
        self.timeline = c.timeline
        self.seen_timeline = len(c.timeline)
        self.history = c.history
        self.history_len = len(c.history)
        self.mark = c.history.mark()

    def found(self, events: int, time_ms: int) -> list[Meaning]:
        out: list[Meaning] = []
        tl = self.timeline
        if len(tl) > self.seen_timeline:
            for entry in itertools.islice(tl, self.seen_timeline, None):
                if entry.internal and "internal" not in self.kinds:
                    continue
                if entry.kind in self.kinds:
                    out.append(Meaning(events, time_ms, entry.kind, entry.text))
            self.seen_timeline = len(tl)
        if self.want_history and len(self.history) != self.history_len:
            out.extend(self._ops(events, time_ms))
            self.history_len = len(self.history)
            self.mark = self.history.mark()
        return out

    def _ops(self, events: int, time_ms: int) -> Iterable[Meaning]:
        acked: Counter[tuple[str, str]] = Counter()
        failed: Counter[tuple[str, str]] = Counter()
        commits: dict[tuple[str, str], list[str]] = {}
        for op in self.history.entries_since(self.mark):
            type_, client, topic, partition, offset = op[1], op[2], op[3], op[4], op[5]
            where = f"{topic}-{partition}" if partition is not None else topic
            if type_ == "ack" and "ack" in self.kinds:
                acked[(client, where)] += 1
            elif type_ == "fail" and "ack" in self.kinds:
                failed[(client, f"{where}: {op[8]}")] += 1
            elif type_ == "commit" and "commit" in self.kinds:
                commits.setdefault((client, str(op[9] or "")), []).append(f"{where} at {offset}")
        for (client, where), n in acked.items():
            yield Meaning(events, time_ms, "ack", f"{client}: {n} record(s) acknowledged by {where}")
        for (client, where), n in failed.items():
            yield Meaning(events, time_ms, "ack", f"{client}: {n} record(s) failed ({where})")
        for (client, group), parts in commits.items():
            grp = f" (group {group})" if group else ""
            yield Meaning(events, time_ms, "commit", f"{client}{grp} committed {', '.join(parts[:4])}")


@dataclass
class StepOutcome:
    """What a step by meaning did: where it landed (``found``) or why it stopped."""

    found: Meaning | None
    events_run: int
    message: str
    also: int = 0  # further meaningful entries of the same event


def step_next(
    session: LabSession, kinds: frozenset[str] = DEFAULT_KINDS, limit_ms: int = NEXT_LIMIT_MS
) -> StepOutcome:
    """Run events until one makes an entry of ``kinds``; at most ``limit_ms`` of virtual time."""
    with session.travel.trip("running to the next timeline event"):
        return _step_next(session, kinds, limit_ms)


def _step_next(session: LabSession, kinds: frozenset[str], limit_ms: int) -> StepOutcome:
    watcher = _Watcher(session, kinds)
    k = session.cluster.kernel
    start = session.events
    deadline = k.now_ms + limit_ms
    cpu = time.process_time()
    while True:
        nxt = k.next_time_ms()
        if nxt is None or nxt > deadline:
            what = (
                "nothing is scheduled" if nxt is None else f"nothing of those kinds in {limit_ms // 1000} s"
            )
            return StepOutcome(
                None,
                session.events - start,
                f"{what}; ran {session.events - start} events, now t = {k.now_ms / 1000:.3f} s",
            )
        ev = session.step()
        if ev is None:
            continue
        if (session.events - start) % 500 == 0:
            # what running costs (checkpoints fall due by it), and how far a long quiet stretch got
            now_cpu = time.process_time()
            session.travel.account(now_cpu - cpu, 500)
            cpu = now_cpu
            session.travel.report(limit_ms - (deadline - k.now_ms), limit_ms)
        found = watcher.found(session.events, k.now_ms)
        if found:
            first = found[0]
            return StepOutcome(first, session.events - start, first.describe(), len(found) - 1)


def _scan_plan(
    session: LabSession, target: int, with_commands_there: bool = False
) -> tuple[list[Any], tuple[int | None, int | None]]:
    """The actions a run to right after event ``target`` replays, and where it stops (as rewind_events);
    ``with_commands_there``: also the commands run right there (between that event and the next)."""
    plan: list[Any] = []
    final: tuple[int | None, int | None] = (target, None)
    for item in session._plan():
        _t, _line, start, end, _end_t = item
        if (start < target or (with_commands_there and start == target)) and end <= target:
            plan.append(item)
            continue
        if start < target:
            final = (start, item[0])
        break
    return plan, final


def step_back(
    session: LabSession, kinds: frozenset[str] = DEFAULT_KINDS, limit_events: int = BACK_LIMIT_EVENTS
) -> StepOutcome:
    """Travel back to right after the last event before now that made an entry of ``kinds``.

    Timeline entries say which event made them, so those are found without replaying anything. Acks and
    commits are in the history, which has their times but not their events: the checkpoint stretches that
    hold one (newest first, none older than the timeline's hit) are replayed, watching, to find the event.
    At most ``limit_events`` back. The point left is kept as a branch (``redo`` returns to it).
    """
    with session.travel.trip("searching back for the previous timeline event"):
        return _step_back(session, kinds, limit_events)


def _wanted(entry: Any, kinds: frozenset[str]) -> bool:
    return entry.kind in kinds and (not entry.internal or "internal" in kinds)


def _timeline_hits(session: LabSession, kinds: frozenset[str], floor: int, here: int) -> list[Meaning]:
    """The entries of ``kinds`` made by the newest event in ``(floor, here)`` that made any."""
    hits: list[Meaning] = []
    for entry in reversed(session.cluster.timeline):
        ev = entry.event
        if ev >= here:
            continue
        if ev <= floor or (hits and ev < hits[0].events):
            break
        if _wanted(entry, kinds):
            hits.insert(0, Meaning(ev, entry.time_ms, entry.kind, entry.text, entry.between_events))
    return hits


def _history_segments(
    session: LabSession, kinds: frozenset[str], lower: int
) -> Iterable[tuple[Any, list[int]]]:
    """Newest first: (the checkpoint a stretch of the run starts at (None: the seed), the times of the
    ack/commit ops of ``kinds`` made in it), for the stretches after event ``lower`` holding one.

    Read from the history between the marks the checkpoints kept, without replaying anything."""
    types = frozenset(
        ({"ack", "fail"} if "ack" in kinds else set()) | ({"commit"} if "commit" in kinds else set())
    )
    if not types:
        return
    history = session.cluster.history
    here = session.events
    line = [ck for ck in session.travel.line if ck.events < here and "history" in ck.meta]
    if not session.travel.enabled:
        line = []
    end: Any = None  # now
    for i in range(len(line), -1, -1):
        ck = line[i - 1] if i > 0 else None
        start_mark = ck.meta["history"] if ck is not None else (0, 0, 0)
        times = history.op_times(types, start_mark, end)
        if times:
            yield ck, times
        if ck is None or ck.events <= lower:
            return
        end = start_mark


def _step_back(session: LabSession, kinds: frozenset[str], limit_events: int) -> StepOutcome:
    travel = session.travel
    here_events = session.events
    floor = max(0, here_events - limit_events)
    hits = _timeline_hits(session, kinds, floor, here_events)
    lower = hits[0].events if hits else floor
    saved: int | None = None
    searched = False
    for start_ck, times in _history_segments(session, kinds, lower):
        when = times[-1]
        if hits and when < hits[0].time_ms:
            break  # older than the timeline's hit
        # ops in the current millisecond may be the current event's own: watch from the one before too
        earlier = [t for t in times if t < session.now_ms]
        watch_from = earlier[-1] if earlier and when >= session.now_ms else when
        if not searched:
            # leave the current point first: its world is saved (a branch), the files are free for the search
            saved = travel.keep_future_now() if travel.enabled else None
            searched = True
        seen, kept = _replay_watching(session, kinds, start_ck, watch_from, when, lower, here_events)
        found = [m for m in seen if m.kind in ("ack", "commit") and lower <= m.events < here_events]
        best = found[-1].events if found else None
        if kept is not None:
            if kept.events == best:
                travel.adopt(kept)  # the point found, as it was captured on the way: no replay to get there
            else:
                travel.store.drop(kept)
        if best is None:
            continue  # (the op was the current event's, or before ``lower``): the stretch before
        at_best = [m for m in found if m.events == best]
        hits = [*hits, *at_best] if hits and hits[0].events == best else at_best
        break
    if not hits:
        if saved is not None:
            travel.return_to_tip()
        return StepOutcome(
            None, 0, f"no earlier event of those kinds in the last {here_events - floor} events: stayed here"
        )
    target = hits[0]
    plan, final = _scan_plan(session, target.events, any(m.by_command for m in hits))
    travel.go(plan, final, keep_future=not searched)
    if session.events != target.events:
        msg = f"{target.describe()} (inside a command: stopped just before it, at event {session.events})"
    else:
        msg = target.describe()
    return StepOutcome(target, here_events - session.events, msg, len(hits) - 1)


def _replay_watching(
    session: LabSession,
    kinds: frozenset[str],
    start: Checkpoint | None,
    from_ms: int,
    until_ms: int,
    lower: int,
    here: int,
) -> tuple[list[Meaning], Checkpoint | None]:
    """Rebuild the run from ``start`` (None: the seed) to the end of ``until_ms`` (never past now), watching
    the events from ``from_ms`` on: what they made, and a checkpoint taken right after the last ack or
    commit among them (in ``[lower, here)``), so going there needs no replay."""
    travel = session.travel
    if until_ms < session.now_ms:
        plan, final = _scan_plan_time(session, until_ms, here - 1)
    else:
        plan, final = _scan_plan(session, here - 1)
    watcher: _Watcher | None = None
    seen: list[Meaning] = []
    kept: list[Checkpoint] = []

    def on_event(tmp: LabSession) -> None:
        nonlocal watcher
        if watcher is None:
            # nothing to watch before the op's millisecond (timeline entries are known without replaying):
            # the watching starts right before its first event
            nxt = tmp.cluster.kernel.next_time_ms()
            if tmp.now_ms >= from_ms or (nxt is not None and nxt >= from_ms):
                watcher = _Watcher(tmp, kinds)
            return
        found = watcher.found(tmp.events, tmp.now_ms)
        if found:
            seen.extend(found)
            # (only in the op's own millisecond: acks come every few events, a capture costs ~20 ms)
            if (
                tmp.now_ms >= from_ms
                and lower <= tmp.events < here
                and any(m.kind in ("ack", "commit") for m in found)
            ):
                ck = travel.capture(tmp)
                if ck is not None:
                    if kept:
                        travel.store.drop(kept.pop())
                    kept.append(ck)

    def progress(done: int, total: int) -> None:
        travel.report(done, total)

    tmp, _div, report = travel.rebuild(
        plan, final, on_event=on_event, progress=progress, start=start, use_checkpoints=start is not None
    )
    begin = report.from_checkpoint[0] if report.from_checkpoint is not None else 0
    travel.discard_world(tmp)
    return [m for m in seen if m.events > begin], (kept[-1] if kept else None)


def _scan_plan_time(
    session: LabSession, until_ms: int, max_events: int
) -> tuple[list[Any], tuple[int | None, int | None]]:
    """The actions a run to the end of ``until_ms`` replays (never past event ``max_events``)."""
    plan: list[Any] = []
    final: tuple[int | None, int | None] = (None, until_ms)
    for item in session._plan():
        t, _line, start, end, end_t = item
        if t > until_ms or start >= max_events:
            break
        if end_t > until_ms or end > max_events:
            final = (start, t)
            break
        plan.append(item)
    return plan, final
