"""Scenario files: a lab session as YAML, to play back step by step (``kafkalab play FILE``).

A session is a pure function of (seed, actions): the file holds the seed, the cluster's shape and every
console action with its virtual time (``at``) and its exact position in the run (``events``: how many
simulation events ran before it), the teacher's notes (``note TEXT`` in the console) and where the session
ended. Played back, the same actions at the same positions give the same run, event for event.

The format is described in docs/scenarios.md. A scenario file is untrusted input, like a lesson: it is read
with :func:`kafkalab.lessons.yamlpos.load_located` under the limits of :mod:`kafkalab.lessons.limits` (no
anchors, aliases or tags; size, depth and value counts bounded), every field is checked and every problem is
reported as ``file:line: problem``, one line each. A scenario cannot run commands that write files
(``record``, ``export-lesson``) or that rebuild the run (``seed``, ``rewind``, ``redo``).

Outside inputs (requests of real Kafka clients through ``sandbox --listen``, HTTP calls to Schema Registry or
Connect) are in a session's action log as lines starting with ``\\x1e``. They are left out of a scenario:
their request frames live only in the running lab, and when played back there is no client to answer. The
writer counts them (``outside_requests``) and says so; a session with outside requests plays back as the
console commands alone, so its run differs from the recording from the first such request on.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..lessons.loader import _V as _LessonChecker
from ..lessons.model import Issue
from ..lessons.yamlpos import YamlError, load_located

__all__ = [
    "FORMAT_VERSION",
    "MAX_ENTRIES",
    "MAX_SCENARIO_MS",
    "Entry",
    "Scenario",
    "ScenarioError",
    "dump_scenario",
    "format_ms",
    "load_scenario",
    "note_line",
    "note_text",
    "parse_scenario",
    "scenario_from_session",
    "write_scenario",
]

FORMAT_VERSION = 1
#: actions (commands and notes) in one scenario
MAX_ENTRIES = 2000
#: the latest virtual time a scenario may name (24 hours)
MAX_SCENARIO_MS = 24 * 3_600_000
#: characters of one command, note or caption
MAX_TEXT_CHARS = 2000
MAX_BROKERS = 64
MAX_CONTROLLERS = 5
MAX_SEED = 2**63 - 1
MAX_EVENTS = 10**15
PAUSES = ("every-action", "marked")
#: console commands a scenario may not contain, and why
FORBIDDEN = {
    "seed": "'seed' starts a new cluster: the scenario's seed is its 'seed' field",
    "rewind": "'rewind' goes back in time: a scenario only moves forward (the player's back key rewinds)",
    "redo": "'redo' jumps between branches: a scenario holds one line of time",
    "speed": "'speed' is the lab's pace, not part of the run: use the scenario's 'speed' field",
    "record": "'record' writes a file: a scenario cannot write files",
    "export-lesson": "'export-lesson' writes a file: a scenario cannot write files",
}
#: the first character of an outside input in a session's action log (see LabSession.inputs)
INPUT_MARK = "\x1e"

_TOP_KEYS = ("scenario", "title", "seed", "cluster", "speed", "pauses", "outside_requests", "actions", "end")
_CLUSTER_KEYS = ("brokers", "controllers", "broker_config", "clusters")
_ENTRY_KEYS = ("at", "events", "command", "note", "caption", "pause")
_END_KEYS = ("at", "events")
_DURATION_RX = re.compile(r"(\d{1,12}(?:\.\d{1,3})?)\s*(ms|s|m|h)?")
_CONTROL_RX = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u0085\u2028\u2029]")


class ScenarioError(Exception):
    """A scenario file is broken; ``issues`` says where and what, one ``file:line: message`` each."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Entry:
    """One action of a scenario: a console line, or a note (a caption for that moment)."""

    #: the console line the player runs (a note is the line ``note "TEXT"``)
    line: str
    #: virtual time (ms) it runs at; None: right after the previous action
    at_ms: int | None = None
    #: simulation events run before it (its exact place in the run); None: whatever ran by ``at_ms``
    events: int | None = None
    #: the note's text (None for a command)
    note: str | None = None
    #: what the player shows after it ran ('' : the command, its reply and what happened)
    caption: str = ""
    #: whether the player stops after it (None: the scenario's ``pauses`` decides)
    pause: bool | None = None
    #: where it is in its file (0 when built in memory)
    file_line: int = 0
    #: a console producer goes on reading lines after this one (its command, the records typed): the
    #: player runs through to the line that ends the input
    typing: bool = False

    @property
    def is_note(self) -> bool:
        return self.note is not None


@dataclass(frozen=True)
class Scenario:
    """A recorded (or hand-written) session: its cluster, its actions in order, where it ended."""

    title: str
    seed: int = 42
    brokers: int = 3
    controllers: int = 1
    broker_config: dict[str, str] = field(default_factory=dict)
    #: several clusters on one clock (``[("east", 3), ("west", 3)]``), or None
    clusters: tuple[tuple[str, int], ...] | None = None
    speed: float = 1.0
    #: ``every-action``: the player stops after each action; ``marked``: only after notes and ``pause: true``
    pauses: str = "every-action"
    entries: tuple[Entry, ...] = ()
    end_ms: int | None = None
    end_events: int | None = None
    #: requests of outside clients the recorded session had (left out of the file)
    outside_requests: int = 0
    path: Path | None = None

    def is_stop(self, entry: Entry) -> bool:
        """Whether the player stops after ``entry``."""
        if entry.pause is not None:
            return entry.pause
        if entry.typing:
            return False
        return self.pauses == "every-action" or entry.is_note

    @property
    def stops(self) -> int:
        return sum(1 for e in self.entries if self.is_stop(e))


# -- times and notes --------------------------------------------------------------------------------------


def format_ms(ms: int) -> str:
    """``12345`` -> ``12.345s``; whole seconds without decimals (``12s``). Exact: read back to the same ms."""
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms // 1000}.{ms % 1000:03d}s"


def parse_duration_ms(value: Any, what: str) -> int:
    """Virtual ms from ``12.345s``, ``500ms``, ``2m``, ``1h`` or a whole number of ms (exact, no float)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"'{what}' must be a time like 12.5s, 500ms or 2m")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, float):
        raise ValueError(f"'{what}' must be a time with a unit, like {value}s (a bare number is ms)")
    else:
        m = _DURATION_RX.fullmatch(str(value).strip().lower())
        if not m:
            shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
            raise ValueError(f"'{what}' must be a time like 12.5s, 500ms or 2m, not '{shown}'")
        factor = {"ms": 1, None: 1, "s": 1000, "m": 60_000, "h": 3_600_000}[m.group(2)]
        try:
            exact = Decimal(m.group(1)) * factor
        except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
            raise ValueError(f"'{what}' is not a number") from None
        if exact != exact.to_integral_value():
            raise ValueError(f"'{what}' must be a whole number of milliseconds, not {exact} ms")
        ms = int(exact)
    if ms < 0:
        raise ValueError(f"'{what}' must not be negative")
    if ms > MAX_SCENARIO_MS:
        raise ValueError(f"'{what}' must be at most {MAX_SCENARIO_MS // 3_600_000} hours")
    return ms


def note_line(text: str) -> str:
    """The console line of a note: ``note "TEXT"`` (quotes and backslashes escaped)."""
    return 'note "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def note_text(line: str) -> str | None:
    """The text of a ``note`` console line (None if the line is not a note)."""
    from ..commands.parsing import CommandError, split_line

    try:
        tokens = split_line(line)
    except CommandError:
        return None
    if len(tokens) < 2 or tokens[0] != "note":
        return None
    return " ".join(tokens[1:])


# -- reading ----------------------------------------------------------------------------------------------


class _Checker(_LessonChecker):
    """Collects ``file:line`` issues while walking a located document (the lesson loader's issue collector,
    with a scenario file's own value checks)."""

    def keys(
        self, m: dict[str, Any], path: tuple[str | int, ...], allowed: tuple[str, ...], what: str
    ) -> None:
        for k in m:
            if k not in allowed:
                shown = k if len(k) <= 40 else k[:37] + "..."
                self.err(
                    (*path, k), f"unknown field '{shown}' in {what} (allowed: {', '.join(allowed)})", key=True
                )

    def integer(
        self, m: dict[str, Any], path: tuple[str | int, ...], key: str, default: int, lo: int, hi: int
    ) -> int:
        v = m.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
            self.err((*path, key), f"'{key}' must be a whole number from {lo} to {hi}, not {shown}")
            return default
        return v

    def text(
        self, value: Any, path: tuple[str | int, ...], key: str, *, empty_ok: bool = False
    ) -> str | None:
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            self.err(path, f"'{key}' must be text")
            return None
        s = str(value)
        if not s.strip() and not empty_ok:
            self.err(path, f"'{key}' must not be empty")
            return None
        if len(s) > MAX_TEXT_CHARS:
            self.err(path, f"'{key}' is longer than {MAX_TEXT_CHARS} characters")
            return None
        if _CONTROL_RX.search(s):
            self.err(path, f"'{key}' holds a control character (a console line cannot)")
            return None
        return s

    def time(self, value: Any, path: tuple[str | int, ...], what: str) -> int | None:
        try:
            return parse_duration_ms(value, what)
        except ValueError as e:
            self.err(path, str(e))
            return None


def _producer_starts(line: str) -> bool:
    from ..commands.parsing import CommandError, split_line

    try:
        tokens = split_line(line)
    except CommandError:
        return False
    return bool(tokens) and tokens[0].rsplit("/", 1)[-1].removesuffix(".sh") == "kafka-console-producer"


def mark_typing(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """The entries with :attr:`Entry.typing` set where a console producer reads on after them."""
    out: list[Entry] = []
    reading = False
    for e in entries:
        if e.note is not None:
            out.append(replace(e, typing=False))
            continue
        reading = e.line.strip() != ".exit" if reading else _producer_starts(e.line)
        out.append(replace(e, typing=reading))
    return tuple(out)


def _command_problem(line: str, reading: bool) -> tuple[str | None, bool]:
    """(what is wrong with a scenario command, whether a console producer reads the next line)."""
    from ..commands.parsing import CommandError, split_line
    from ..lessons.loader import command_issue

    if reading:  # a record typed into kafka-console-producer (an empty line too): '.exit' ends its input
        return None, line.strip() != ".exit"
    if line.startswith(INPUT_MARK):
        return "a request of an outside client cannot be played from a file", False
    try:
        tokens = split_line(line)
    except CommandError as e:
        return str(e), False
    if not tokens:
        return "empty command (only a console producer reads empty lines)", False
    first = tokens[0].rsplit("/", 1)[-1].removesuffix(".sh")
    if first in FORBIDDEN:
        return FORBIDDEN[first], False
    issue = command_issue(line)
    if issue is not None:
        return issue, False
    return None, first == "kafka-console-producer"


def _parse_cluster(
    c: _Checker, raw: Any
) -> tuple[int, int, dict[str, str], tuple[tuple[str, int], ...] | None]:
    from ..lessons.limits import broker_config_issue

    path: tuple[str | int, ...] = ("cluster",)
    m = c.mapping(raw, path, "cluster")
    if m is None:
        return 3, 1, {}, None
    c.keys(m, path, _CLUSTER_KEYS, "cluster")
    brokers = c.integer(m, path, "brokers", 3, 1, MAX_BROKERS)
    controllers = c.integer(m, path, "controllers", 1, 1, MAX_CONTROLLERS)
    config: dict[str, str] = {}
    raw_config = m.get("broker_config")
    if raw_config is not None:
        if not isinstance(raw_config, dict) or any(
            isinstance(x, dict | list) or x is None for x in raw_config.values()
        ):
            c.err((*path, "broker_config"), "'broker_config' must map config names to values")
        else:
            for name, x in raw_config.items():
                value = str(x).lower() if isinstance(x, bool) else str(x)
                issue = broker_config_issue(name, value)
                if issue is not None:
                    c.err((*path, "broker_config", name), issue)
                else:
                    config[name] = value
    clusters = None
    if "clusters" in m:
        from ..sim.world import parse_clusters

        spec = m["clusters"]
        if not isinstance(spec, str):
            c.err((*path, "clusters"), "'clusters' must be text like east:3,west:3")
        else:
            try:
                clusters = tuple(parse_clusters(spec))
            except ValueError as e:
                c.err((*path, "clusters"), str(e))
    return brokers, controllers, config, clusters


def _parse_entry(c: _Checker, raw: Any, i: int, reading: bool) -> tuple[Entry | None, bool]:
    path: tuple[str | int, ...] = ("actions", i)
    m = c.mapping(raw, path, f"action {i + 1}")
    if m is None:
        return None, reading
    c.keys(m, path, _ENTRY_KEYS, "an action")
    at = c.time(m["at"], (*path, "at"), "at") if "at" in m else None
    events = c.integer(m, path, "events", 0, 0, MAX_EVENTS) if "events" in m else None
    caption = ""
    if "caption" in m:
        caption = c.text(m["caption"], (*path, "caption"), "caption") or ""
    pause: bool | None = None
    if "pause" in m:
        if not isinstance(m["pause"], bool):
            c.err((*path, "pause"), "'pause' must be true or false")
        else:
            pause = m["pause"]
    has_cmd, has_note = "command" in m, "note" in m
    if has_cmd == has_note:
        c.err(path, f"action {i + 1} needs exactly one of 'command' or 'note'")
        return None, reading
    line = c.doc.line(path)
    if has_note:
        if reading:
            c.err(
                (*path, "note"),
                "a note cannot come while kafka-console-producer reads records (end it with .exit)",
            )
        text = c.text(m["note"], (*path, "note"), "note")
        if text is None:
            return None, reading
        text = " ".join(text.split())
        return Entry(note_line(text), at, events, text, caption, pause, line), reading
    raw_cmd = m["command"]
    if isinstance(raw_cmd, int | float) and not isinstance(raw_cmd, bool):
        raw_cmd = str(raw_cmd)  # a record typed into a console producer may be a number
    cmd = c.text(raw_cmd, (*path, "command"), "command", empty_ok=True)
    if cmd is None:
        return None, reading
    problem, reading_next = _command_problem(cmd, reading)
    if problem is not None:
        shown = cmd if len(cmd) <= 60 else cmd[:57] + "..."
        c.err((*path, "command"), f"bad command '{shown}': {problem}")
        return None, reading
    return Entry(cmd, at, events, None, caption, pause, line), reading_next


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Parse and validate a scenario; raises :class:`ScenarioError` listing every problem found."""
    try:
        doc = load_located(text)
    except YamlError as e:
        raise ScenarioError([Issue(file, e.line, e.message)]) from None
    c = _Checker(file, doc)
    m = c.mapping(doc.value, (), "a scenario")
    if m is None:
        raise ScenarioError(c.issues)
    c.keys(m, (), _TOP_KEYS, "a scenario")
    if "scenario" not in m:
        c.err(
            (),
            f"not a kafkalab scenario: the field 'scenario: {FORMAT_VERSION}' (the format version) is missing",
        )
    elif m["scenario"] != FORMAT_VERSION:
        c.err(
            ("scenario",), f"unknown scenario format {m['scenario']!r} (this kafkalab reads {FORMAT_VERSION})"
        )
    title = c.text(m["title"], ("title",), "title") if "title" in m else None
    if "title" not in m:
        c.err((), "the scenario is missing the field 'title'")
    seed = c.integer(m, (), "seed", 42, 0, MAX_SEED)
    brokers, controllers, config, clusters = _parse_cluster(c, m.get("cluster", {}))
    speed = 1.0
    if "speed" in m:
        v = m["speed"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.1 <= v <= 100:
            c.err(("speed",), "'speed' must be a number from 0.1 to 100 (virtual seconds per second)")
        else:
            speed = float(v)
    pauses = "every-action"
    if "pauses" in m:
        if m["pauses"] not in PAUSES:
            c.err(("pauses",), f"'pauses' must be one of {', '.join(PAUSES)}")
        else:
            pauses = str(m["pauses"])
    outside = c.integer(m, (), "outside_requests", 0, 0, MAX_EVENTS)
    entries: list[Entry] = []
    paths: list[tuple[str | int, ...]] = []
    raw = m.get("actions")
    if raw is None:
        c.err((), "the scenario is missing the field 'actions'")
    elif not isinstance(raw, list):
        c.err(("actions",), "'actions' must be a list")
    elif len(raw) > MAX_ENTRIES:
        c.err(("actions",), f"a scenario has at most {MAX_ENTRIES} actions, this one has {len(raw)}")
    else:
        reading = False
        for i, item in enumerate(raw):
            entry, reading = _parse_entry(c, item, i, reading)
            if entry is not None:
                entries.append(entry)
                paths.append(("actions", i))
    _check_order(c, entries, paths)
    end_ms = end_events = None
    if "end" in m:
        em = c.mapping(m["end"], ("end",), "end")
        if em is not None:
            c.keys(em, ("end",), _END_KEYS, "end")
            end_ms = c.time(em["at"], ("end", "at"), "at") if "at" in em else None
            end_events = c.integer(em, ("end",), "events", 0, 0, MAX_EVENTS) if "events" in em else None
            last = _last_time(entries)
            if end_ms is not None and last is not None and end_ms < last:
                c.err(
                    ("end", "at"),
                    f"the end ({format_ms(end_ms)}) is before the last action ({format_ms(last)})",
                )
            last_events = max((e.events for e in entries if e.events is not None), default=None)
            if end_events is not None and last_events is not None and end_events < last_events:
                c.err(
                    ("end", "events"),
                    f"the end (event {end_events}) is before the last action (event {last_events})",
                )
    if c.issues:
        raise ScenarioError(c.issues)
    return Scenario(
        title or "",
        seed,
        brokers,
        controllers,
        config,
        clusters,
        speed,
        pauses,
        mark_typing(entries),
        end_ms,
        end_events,
        outside,
    )


def _last_time(entries: Sequence[Entry]) -> int | None:
    return max((e.at_ms for e in entries if e.at_ms is not None), default=None)


def _check_order(c: _Checker, entries: list[Entry], paths: list[tuple[str | int, ...]]) -> None:
    """Times and positions never go back."""
    prev_ms: int | None = None
    prev_events: int | None = None
    for e, where in zip(entries, paths, strict=True):
        if e.at_ms is not None:
            if prev_ms is not None and e.at_ms < prev_ms:
                c.err(
                    (*where, "at"),
                    f"'at' {format_ms(e.at_ms)} is before the previous action's {format_ms(prev_ms)}",
                )
            prev_ms = e.at_ms
        if e.events is not None:
            if prev_events is not None and e.events < prev_events:
                c.err(
                    (*where, "events"),
                    f"'events' {e.events} is less than the previous action's {prev_events}",
                )
            prev_events = e.events


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    from ..lessons.limits import MAX_FILE_BYTES

    p = Path(path)
    name = str(p)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError([Issue(name, 1, f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")])
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ScenarioError([Issue(name, 1, f"cannot read the file: {reason}")]) from None
    sc = parse_scenario(text, name)
    return Scenario(**{**sc.__dict__, "path": p})


# -- writing ----------------------------------------------------------------------------------------------


def scenario_from_session(session: Any, title: str) -> tuple[Scenario, list[str]]:
    """The current line of ``session`` as a scenario, and what the file leaves out (one sentence each)."""
    notes: list[str] = []
    entries: list[Entry] = []
    outside = 0
    for (t, line), (start, _end, _end_t) in zip(session.actions, session.action_positions, strict=True):
        if line.startswith(INPUT_MARK):
            outside += 1
            continue
        text = note_text(line)
        if text is not None:
            entries.append(Entry(note_line(text), t, start, text))
        else:
            entries.append(Entry(line, t, start))
    if outside:
        notes.append(
            f"{outside} request(s) of outside clients (Kafka clients, HTTP calls) are not in the file: "
            "played back, the run follows the console commands alone"
        )
    branches = len(getattr(session, "branches", []) or [])
    if branches:
        notes.append(
            f"the file holds the line on screen; {branches} branch(es) left by rewinds are not in it"
        )
    spec = getattr(session, "clusters_spec", None)
    sc = Scenario(
        title=title,
        seed=int(session.seed),
        brokers=int(session.n_brokers),
        controllers=int(getattr(session, "n_controllers", 1)),
        broker_config={k: str(v) for k, v in (getattr(session, "broker_config", None) or {}).items()},
        clusters=tuple((str(n), int(b)) for n, b in spec) if spec else None,
        speed=float(getattr(session, "speed", 1.0)),
        entries=mark_typing(entries),
        end_ms=int(session.now_ms),
        end_events=int(session.events),
        outside_requests=outside,
    )
    return sc, notes


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's; YAML's own line breaks escaped too)."""
    s = json.dumps(text, ensure_ascii=False)
    return s.replace("\u0085", "\\N").replace("\u2028", "\\L").replace("\u2029", "\\P")


def dump_scenario(sc: Scenario) -> str:
    """The scenario as YAML text (the format of docs/scenarios.md)."""
    out = [
        "# A kafkalab scenario: play it with `kafkalab play FILE` (add --present for a projector).",
        "# Format: docs/scenarios.md. Add a `caption:` to an action, `pause: false` to run through it,",
        "# or a `- note: ...` of your own; `at` is virtual time, `events` the exact place in the run.",
        f"scenario: {FORMAT_VERSION}",
        f"title: {_q(sc.title)}",
        f"seed: {sc.seed}",
        "cluster:",
        f"  brokers: {sc.brokers}",
    ]
    if sc.controllers != 1:
        out.append(f"  controllers: {sc.controllers}")
    if sc.broker_config:
        out.append("  broker_config:")
        out += [f"    {_q(k)}: {_q(v)}" for k, v in sc.broker_config.items()]
    if sc.clusters:
        out.append(f"  clusters: {_q(','.join(f'{n}:{b}' for n, b in sc.clusters))}")
    out.append(f"speed: {sc.speed:g}")
    if sc.pauses != "every-action":
        out.append(f"pauses: {sc.pauses}")
    if sc.outside_requests:
        out.append(f"outside_requests: {sc.outside_requests}  # left out: see docs/scenarios.md")
    out.append("actions:" if sc.entries else "actions: []")
    for e in sc.entries:
        head = "  - "
        if e.at_ms is not None:
            out.append(f"{head}at: {format_ms(e.at_ms)}")
            head = "    "
        if e.events is not None:
            out.append(f"{head}events: {e.events}")
            head = "    "
        out.append(f"{head}note: {_q(e.note)}" if e.note is not None else f"{head}command: {_q(e.line)}")
        if e.caption:
            out.append(f"    caption: {_q(e.caption)}")
        if e.pause is not None:
            out.append(f"    pause: {'true' if e.pause else 'false'}")
    if sc.end_ms is not None or sc.end_events is not None:
        out.append("end:")
        if sc.end_ms is not None:
            out.append(f"  at: {format_ms(sc.end_ms)}")
        if sc.end_events is not None:
            out.append(f"  events: {sc.end_events}")
    return "\n".join(out) + "\n"


def write_scenario(
    session: Any, path: str | Path, title: str | None = None
) -> tuple[Path, Scenario, list[str]]:
    """Write the session as a scenario file (atomically); returns (path, scenario, notes).

    The text is read back before it is written, so a file written here always plays. Raises
    :class:`ScenarioError` when the session does not fit a scenario (too many actions) and OSError when the
    file cannot be written.
    """
    p = Path(path)
    sc, notes = scenario_from_session(session, title or p.stem.replace("-", " ").replace("_", " "))
    if len(sc.entries) > MAX_ENTRIES:
        raise ScenarioError(
            [
                Issue(
                    str(p),
                    0,
                    f"the session has {len(sc.entries)} actions; a scenario holds at most {MAX_ENTRIES}",
                )
            ]
        )
    text = dump_scenario(sc)
    parse_scenario(text, str(p))  # what we write must play
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=str(p.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p, sc, notes
