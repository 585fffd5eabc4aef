"""Console verbs of time travel: ``rewind``, ``redo``, ``branches``, ``step`` (raw or by meaning), ``seed``.

Durations take units (``250ms``, ``3s``, ``1.5m``, ``1h``). A bare number is milliseconds for ``rewind --to``
(as for ``run``) and the reply says what it was taken as; ``rewind N`` without a unit counts events. Going
back before every command of the session and starting over (``seed``) ask first: the command answers with
a question and runs when repeated with ``--yes`` (the lab screen asks in a dialog).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .base import Plan
from .lab import MAX_STEP_EVENTS
from .parsing import CommandError, Opt, parse_int, parse_options
from .timetravel import count_work
from .timetravel_meaning import DEFAULT_KINDS, KINDS, parse_kinds, step_back, step_next

if TYPE_CHECKING:
    from .session import LabSession

__all__ = ["TIME_TRAVEL_HANDLERS", "TIME_TRAVEL_OPTIONS", "TIME_TRAVEL_SPECS", "format_s", "parse_time"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?")
_FACTOR = {"ms": 1, "s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000}
#: the largest time accepted (beyond any session; larger numbers are refused, not overflowed)
_MAX_MS = 10**13


def format_s(ms: int) -> str:
    """Virtual time as the timeline writes it: seconds with milliseconds."""
    return f"{ms / 1000:.3f} s"


def parse_time(text: str, what: str, *, bare: str = "ms") -> tuple[int, bool]:
    """(milliseconds, had a unit) of ``250ms`` / ``3s`` / ``1.5m`` / ``1h``; a bare number counts as ``bare``."""
    t = text.strip().lower()
    m = _DURATION.fullmatch(t)
    if not m or len(m.group(1)) > 12:
        raise CommandError(f"{what} must be a time like 250ms, 3s, 1.5m or 1h, not '{text}'")
    unit = m.group(2)
    ms = int(round(float(m.group(1)) * _FACTOR[unit or bare]))
    if ms > _MAX_MS:
        raise CommandError(f"{what} is too large: '{text}'")
    return ms, unit is not None


def _confirm(message: str) -> CommandError:
    e = CommandError(f"{message}; repeat with --yes to go ahead")
    e.confirm = message  # type: ignore[attr-defined]
    return e


_REWIND_OPTS = [
    Opt("to", "str", help="virtual time to go back to: 12s, 250ms, 1m (a bare number is ms, as for run)"),
    Opt("yes", help="go back before every command without asking (they stay in a branch: redo)"),
]


def rewind(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _REWIND_OPTS, max_positionals=1)
    if p.has("to") and p.positionals:
        raise CommandError("usage: rewind [N | DURATION]  or  rewind --to TIME")
    now = session.now_ms
    note = ""
    if session.events <= session.start_events and not session.actions:
        raise CommandError(f"nothing to rewind: the session is at its start (t = {format_s(now)})")
    if p.has("to"):
        target, unit = parse_time(p.get_str("to") or "", "rewind --to")
        if target > now:
            raise CommandError(
                f"cannot rewind forward: now is t = {format_s(now)} (asked for {format_s(target)})"
            )
        if not unit:
            note = f" ('{p.get_str('to')}' without a unit is milliseconds)"
        back_ms: int | None = now - target
        events = None
    else:
        text = p.positionals[0] if p.positionals else "1"
        if re.fullmatch(r"\d+", text.strip()):
            events = parse_int(text, "rewind")
            if events < 1:
                raise CommandError("rewind takes a number of events (at least 1) or a duration like 3s")
            back_ms = None
        else:
            back_ms, _unit = parse_time(text, "rewind")
            events = None
            if back_ms < 1:
                raise CommandError("rewind takes a number of events (at least 1) or a duration like 3s")
    if not p.has("yes") and session.actions:
        first = session.action_positions[0]
        before_all = (events is not None and session.events - events <= first[0]) or (
            back_ms is not None and now - back_ms <= session.actions[0][0]
        )
        if before_all:
            raise _confirm(
                f"this goes back before all {count_work(line for _t, line in session.actions)} of this session "
                "(they are kept in a branch: redo brings them back)"
            )

    def run() -> list[str]:
        if events is not None:
            session.rewind_events(events)
        else:
            assert back_ms is not None
            session.rewind_to(max(0, now - back_ms))
        report = session.travel.last
        how = ""
        if report is not None:
            src = (
                f"from the checkpoint at {format_s(report.from_checkpoint[1])}"
                if report.from_checkpoint is not None
                else "from the seed"
            )
            how = f", {src}, {report.replayed_events} events replayed in {report.wall_s * 1000:.0f} ms"
        lines = [f"rewound to t = {format_s(session.now_ms)}, event {session.events}{note}{how}"]
        if report is not None and report.branch is not None:
            lines.append(f"where you were is kept as branch {report.branch}: 'redo' goes back there")
        lines += session.time_travel_notes()
        return lines

    return Plan(run, kind="time")


def redo(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [], max_positionals=1)
    number = parse_int(p.positionals[0], "redo") if p.positionals else None
    if not session.branches:
        raise CommandError("there is nothing to redo: no rewind has left a future behind")
    if number is not None and number not in [b.number for b in session.branches]:
        have = ", ".join(str(b.number) for b in session.branches)
        raise CommandError(f"there is no branch {number} (branches: {have}; see 'branches')")

    def run() -> list[str]:
        branch = session.travel.redo(number)
        lines = [f"back on branch {branch.number}: t = {format_s(session.now_ms)}, event {session.events}"]
        last = session.travel.last
        if last is not None:
            lines[0] += f" ({last.wall_s * 1000:.0f} ms)"
        if session.branches:
            lines.append(f"the line you left is kept too ({len(session.branches)} branch(es): 'branches')")
        return lines + session.time_travel_notes()

    return Plan(run, kind="time")


def branches(session: LabSession, argv: list[str]) -> Plan:
    parse_options(argv, [])

    def run() -> list[str]:
        t = session.travel
        lines = [
            f"now: t = {format_s(session.now_ms)}, event {session.events}, "
            f"{count_work(line for _t, line in session.actions)}; "
            f"{len(t.line)} checkpoint(s) on this line"
        ]
        if not t.enabled:
            lines.append(f"checkpoints are off: {t.disabled_reason}")
        if not session.branches:
            lines.append("no branches: a rewind keeps where you were as one ('redo' returns to it)")
        for b in reversed(session.branches):
            lines.append("  " + b.describe(session._plan()))
        if session.branches:
            lines.append("'redo' returns to the newest, 'redo N' to branch N")
        return lines

    return Plan(run)


_STEP_OPTS = [
    Opt("next", help="run to the next timeline event (of the kinds in the filter)"),
    Opt("back", help="go back to the previous timeline event (the point left stays as a branch)"),
    Opt("kinds", "str", help=f"kinds to stop at, e.g. leader,isr (all: {', '.join(KINDS)})"),
]


def step(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _STEP_OPTS, max_positionals=1)
    kinds = session_kinds(session)
    if p.has("kinds"):
        try:
            kinds = parse_kinds(p.get_str("kinds") or "")
        except ValueError as e:
            raise CommandError(str(e)) from e
    if p.has("next") or p.has("back"):
        if p.positionals or (p.has("next") and p.has("back")):
            raise CommandError("usage: step --next|--back [--kinds K,..]")
        back = p.has("back")

        def by_meaning() -> list[str]:
            out = step_back(session, kinds) if back else step_next(session, kinds)
            more = f" (+{out.also} more at the same event)" if out.also else ""
            verb = "back to" if back else "stepped to"
            if out.found is None:
                return [out.message]
            return [f"{verb} {out.message}{more}; {out.events_run} events", *session.time_travel_notes()]

        return Plan(by_meaning, kind="time")
    text = p.positionals[0] if p.positionals else None
    n = parse_int(text, "step") if text is not None else 1
    if not 1 <= n <= MAX_STEP_EVENTS:  # each is run and listed: a million took ~50 s
        raise CommandError(
            f"step takes a number of events between 1 and {MAX_STEP_EVENTS} (use run for longer)"
        )

    def run() -> list[str]:
        events = []
        for _ in range(n):
            ev = session.step()
            if ev is None:
                break
            events.append(ev)
        lines = [f"{ev.time_ms:>9} ms  {ev.node:<16} {ev.kind} {ev.detail}".rstrip() for ev in events[-50:]]
        if len(events) > 50:
            lines.insert(0, f"... {len(events) - 50} earlier events not shown")
        if not events:
            lines.append("nothing is scheduled: the simulation is idle")
        return lines

    return Plan(run, kind="time")


def session_kinds(session: LabSession) -> frozenset[str]:
    kinds = getattr(session, "step_kinds", None)
    return kinds if isinstance(kinds, frozenset) else DEFAULT_KINDS


def step_filter(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [], max_positionals=1)
    if not p.positionals:

        def show() -> list[str]:
            kinds = session_kinds(session)
            lines = [f"'.' and ',' stop at: {', '.join(k for k in KINDS if k in kinds)}"]
            lines += [f"  {'*' if k in kinds else ' '} {k:<10} {KINDS[k]}" for k in KINDS]
            lines.append(
                "change with e.g. 'step-filter leader,isr' or 'step-filter all,-ack' or 'step-filter default'"
            )
            return lines

        return Plan(show)
    try:
        kinds = parse_kinds(p.positionals[0])
    except ValueError as e:
        raise CommandError(str(e)) from e

    def run() -> list[str]:
        session.step_kinds = kinds
        return [f"'.' and ',' now stop at: {', '.join(k for k in KINDS if k in kinds)}"]

    return Plan(run)


def seed(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [Opt("yes", help="start over without asking")], max_positionals=1)
    if not p.positionals:
        raise CommandError("usage: seed S [--yes]")
    s = parse_int(p.positionals[0], "seed")
    if not 0 <= s < 2**63:
        raise CommandError("seed must be between 0 and 2^63-1")
    if not p.has("yes") and (session.actions or session.branches):
        raise _confirm(
            f"seed {s} starts over on a new cluster: this session's "
            f"{count_work(line for _t, line in session.actions)}, "
            f"{format_s(session.now_ms)} of virtual time and its {len(session.branches)} branch(es) are gone"
        )

    def run() -> list[str]:
        session.reseed(s)
        return [f"new cluster from seed {s} (everything before is gone)"]

    return Plan(run, kind="time")


TIME_TRAVEL_HANDLERS = {
    "rewind": rewind,
    "redo": redo,
    "branches": branches,
    "step": step,
    "step-filter": step_filter,
    "seed": seed,
}

TIME_TRAVEL_OPTIONS: dict[str, list[Opt]] = {
    "rewind": _REWIND_OPTS,
    "step": _STEP_OPTS,
    "seed": [Opt("yes", help="start over without asking")],
}

#: name -> (summary, usage)
TIME_TRAVEL_SPECS: dict[str, tuple[str, str]] = {
    "rewind": (
        "go back N events, a duration (3s) or to a time; the future stays as a branch",
        "rewind [N | 3s | 250ms]   |   rewind --to TIME   (TIME: 12s, 1.5m; bare = ms)",
    ),
    "redo": ("return to where a rewind left (a branch)", "redo [BRANCH]"),
    "branches": ("list the futures rewinds left behind", "branches"),
    "step": (
        "run the next N events, or step to the next/previous timeline event",
        "step [N]   |   step --next|--back [--kinds leader,isr,...]",
    ),
    "step-filter": ("show or set the kinds of events '.' and ',' stop at", "step-filter [KINDS]"),
    "seed": ("start over on a new cluster from another seed (asks first)", "seed S [--yes]"),
}
