"""Stepping by meaning: to the next or previous *thing that happened*, not the next low-level event.

A consumer makes thousands of kernel events per simulated second (fetches, heartbeats); a learner wants the
next leader change, ISR change, rebalance phase, acknowledgement or commit. :func:`step_next` runs events
until one of them adds a timeline entry (or, for ``ack`` and ``commit``, a history op) of a kind the filter
lets through; :func:`step_back` finds the last such event before the current point and travels there (the
point being left is kept as a branch, like every rewind).

Kinds (:data:`KINDS`): leader, isr, broker, controller, network, group, topic, client, ack, commit, other,
internal. By default every kind but ``ack`` (a producer at 1,000 records/s acknowledges every few events)
and ``internal`` (entries about ``__consumer_offsets`` and ``__transaction_state``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import LabSession

__all__ = [
    "DEFAULT_KINDS",
    "KINDS",
    "Meaning",
    "classify",
    "parse_kinds",
    "step_back",
    "step_next",
]

KINDS: dict[str, str] = {
    "leader": "a partition got a new leader, or a replica became a follower",
    "isr": "an in-sync replica set shrank or grew",
    "broker": "a broker died, restarted, paused, resumed, registered or was fenced",
    "controller": "the active controller changed",
    "network": "a network cut or a heal",
    "group": "a consumer group changed: rebalance phases, members joining or leaving",
    "topic": "a topic was created, deleted or reconfigured",
    "client": "a client crashed, or a producer or copier reported something",
    "ack": "a producer got delivery reports (records acknowledged or failed)",
    "commit": "a consumer committed offsets",
    "other": "any other timeline entry",
    "internal": "entries about the internal topics __consumer_offsets and __transaction_state",
}
DEFAULT_KINDS: frozenset[str] = frozenset(KINDS) - {"ack", "internal"}
_INTERNAL = ("__consumer_offsets", "__transaction_state")
#: how far ``.`` looks ahead before giving up (virtual time)
NEXT_LIMIT_MS = 60_000
#: how far ``,`` looks back before giving up (events)
BACK_LIMIT_EVENTS = 200_000


@dataclass(frozen=True)
class Meaning:
    """A meaningful event: the session is right after event number ``events``."""

    events: int
    time_ms: int
    kind: str
    text: str

    def describe(self) -> str:
        return f"t = {self.time_ms / 1000:.3f} s  {self.kind}: {self.text}"


def classify(text: str) -> str:
    """The kind of a timeline entry (see :data:`KINDS`), from its words."""
    t = text.lower()
    if "isr" in t:
        return "isr"
    if "leader of" in t or "follower of" in t or "no leader" in t or ("leader" in t and "partition" in t):
        return "leader"
    if t.startswith("group ") or " group" in t or "rebalanc" in t:
        return "group"
    if "controller" in t:
        return "controller"
    if "network" in t or "cannot reach" in t or "heal" in t:
        return "network"
    if t.startswith("broker "):
        return "broker"
    if "topic" in t:
        return "topic"
    if "crash" in t or "producer" in t or "consumer" in t or "copier" in t or "transaction" in t:
        return "client"
    return "other"


def _is_internal(text: str) -> bool:
    return any(name in text for name in _INTERNAL)


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
                text = str(getattr(entry, "text", entry))
                if _is_internal(text) and "internal" not in self.kinds:
                    continue
                kind = classify(text)
                if kind in self.kinds:
                    out.append(Meaning(events, time_ms, kind, text))
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
    watcher = _Watcher(session, kinds)
    k = session.cluster.kernel
    start = session.events
    deadline = k.now_ms + limit_ms
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
        found = watcher.found(session.events, k.now_ms)
        if found:
            first = found[0]
            return StepOutcome(first, session.events - start, first.describe(), len(found) - 1)


def _scan_plan(session: LabSession, target: int) -> tuple[list[Any], tuple[int | None, int | None]]:
    """The actions a run to right after event ``target`` replays, and where it stops (as rewind_events)."""
    plan: list[Any] = []
    final: tuple[int | None, int | None] = (target, None)
    for item in session._plan():
        _t, _line, start, end, _end_t = item
        if start < target and end <= target:
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

    Searches backwards one checkpoint interval at a time (restore, replay watching, keep the last hit), at
    most ``limit_events`` back. The point left is kept as a branch (``redo`` returns to it).
    """
    travel = session.travel
    here_events = session.events
    # leave the current point first: its world is saved (a branch), the files are free for the search
    saved = travel.keep_future_now() if travel.enabled else None
    hits: list[Meaning] = []
    window_end = here_events - 1
    floor = max(0, here_events - limit_events)
    while window_end > floor and not hits:
        plan, final = _scan_plan(session, window_end)
        watcher: _Watcher | None = None
        window_hits: list[Meaning] = []

        def on_event(tmp: LabSession, window_hits: list[Meaning] = window_hits) -> None:
            nonlocal watcher
            if watcher is None or watcher.cluster is not tmp.cluster:
                watcher = _Watcher(tmp, kinds)
                return
            window_hits.extend(watcher.found(tmp.events, tmp.now_ms))

        tmp, _div, report = travel.rebuild(plan, final, on_event=on_event)
        start_events = report.from_checkpoint[0] if report.from_checkpoint is not None else 0
        hits = [m for m in window_hits if start_events < m.events < here_events]
        travel.discard_world(tmp)
        if hits:
            break
        if start_events <= floor or report.from_checkpoint is None:
            break
        window_end = start_events - 1  # the checkpoint's own event lies in the window before
    if not hits:
        if saved is not None:
            travel.return_to_tip()
        return StepOutcome(
            None, 0, f"no earlier event of those kinds in the last {here_events - floor} events: stayed here"
        )
    target = hits[-1]
    same = [m for m in hits if m.events == target.events]
    plan, final = _scan_plan(session, target.events)
    travel.go(plan, final, keep_future=False)
    if session.events != target.events:
        msg = f"{target.describe()} (inside a command: stopped just before it, at event {session.events})"
    else:
        msg = target.describe()
    return StepOutcome(same[0], here_events - session.events, msg, len(same) - 1)
