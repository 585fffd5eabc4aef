"""The lesson builder: ``export-lesson FILE`` turns a sandbox session into a lesson skeleton.

From the session's actions (as a :class:`~kafkalab.classroom.scenario.Scenario`):

- **setup**: the cluster (brokers, controllers, seed, broker configs) and the first commands: everything
  before the first ``note``, or, without notes, the leading ``kafka-topics --create`` commands;
- **steps**: one per ``note`` (its text becomes the step text; the commands after it, the solution), or,
  without notes, one per command (a console producer with the records typed into it is one command). The
  virtual time that passed after a step's commands becomes ``run`` lines at its end, so the step shows
  the consequences (the election after a kill);
- **goals**, proposed from what happened in each step, using the lesson goal predicates: a leader changed,
  records lost, a partition offline, a member removed from its group, a group rebalanced (a newer
  generation), a broker down, an ISR shrunk, a topic created, records acknowledged or consumed;
- a **wrong path** (the step's waits without its commands, or only looking when the step only waits) and an
  **alternative** (the same commands, waiting in two parts): real paths that pass, marked TODO for the
  author to replace with the mistakes and other ways a learner would really try.

Every proposed goal is checked by running the lesson, as ``kafkalab lessons check`` does: it must not hold
when its step begins, must hold after the solution and the alternative, and the wrong path must never reach
it. Goals that fail are dropped; a step left without goals is merged into the next one (a step without
goals cannot carry commands). The file written passes ``kafkalab lessons check``; its texts say TODO where
the author should write.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lessons.goals import PREDICATES, Goal, parse_goal
from ..lessons.model import Lesson, Path_, Setup, Step
from .scenario import Entry, Scenario, _q

__all__ = ["BuildReport", "ExportError", "build_lesson", "export_lesson"]

#: goals kept per step at most, and of one predicate
GOALS_PER_STEP = 4
SAME_PREDICATE = 2
#: rounds of checking and dropping before giving up
MAX_ROUNDS = 5
#: the longest ``run`` a lesson path may hold (limits.MAX_DURATION_MS)
RUN_CHUNK_MS = 3_600_000
#: goal predicates in the order they are preferred (what a failure story is about comes first)
PRIORITY = (
    "records_lost",
    "leader_changed",
    "partition_offline",
    "member_removed",
    "group_generation",
    "controller_changed",
    "broker_state",
    "isr_size",
    "duplicates",
    "records_failed",
    "topic_exists",
    "records_consumed",
    "records_acked",
)
_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TITLE_CHARS = 60


class ExportError(Exception):
    """The session cannot become a lesson (one sentence saying why)."""


@dataclass
class BuildReport:
    """What the builder did, for the console."""

    steps: int = 0
    goals: int = 0
    #: paths run by the final check, and how many passed
    paths: int = 0
    paths_ok: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    title: str
    text: str
    solution: list[str]
    hints: list[str]
    goals: list[Goal] = field(default_factory=list)
    from_note: bool = False
    #: the goals proposed from what happened by the end of the step (pass A)
    candidates: list[Goal] = field(default_factory=list)
    #: texts of candidates a path check ruled out (a wrong path reached them, an alternative missed them)
    rejected: set[str] = field(default_factory=set)


# -- grouping the actions --------------------------------------------------------------------------------


def _is_create(line: str) -> bool:
    words = line.split()
    return bool(words) and words[0].removesuffix(".sh").endswith("kafka-topics") and "--create" in words


def _groups(sc: Scenario) -> tuple[list[Entry], list[tuple[Entry | None, list[Entry]]]]:
    """(setup entries, [(the note that begins the step or None, the step's commands)])."""
    entries = list(sc.entries)
    groups: list[tuple[Entry | None, list[Entry]]] = []
    if any(e.is_note for e in entries):
        first = next(i for i, e in enumerate(entries) if e.is_note)
        for e in entries[first:]:
            if e.is_note:
                groups.append((e, []))
            else:
                groups[-1][1].append(e)
        return entries[:first], groups
    i = 0
    while i < len(entries) and _is_create(entries[i].line) and not entries[i].typing:
        i += 1
    for j, e in enumerate(entries[i:], start=i):
        if j > i and entries[j - 1].typing:
            groups[-1][1].append(e)  # records typed into a console producer belong to its command
        else:
            groups.append((None, [e]))
    return entries[:i], groups


def _runs(ms: int) -> list[str]:
    """``run`` lines for exactly ``ms`` (at most an hour each)."""
    out = []
    while ms > 0:
        chunk = min(ms, RUN_CHUNK_MS)
        out.append(f"run {chunk // 1000}s" if chunk % 1000 == 0 else f"run {chunk}ms")
        ms -= chunk
    return out


def _title(note: str | None, commands: list[str], number: int) -> str:
    if note:
        first = re.split(r"(?<=[.!?])\s", note, maxsplit=1)[0].rstrip(".")
        return first if len(first) <= _TITLE_CHARS else first[: _TITLE_CHARS - 1] + "…"
    cmd = next((c for c in commands if not c.startswith("run ")), "")
    shown = cmd if len(cmd) <= _TITLE_CHARS - 12 else cmd[: _TITLE_CHARS - 13] + "…"
    return f"TODO: step {number} ({shown})" if shown else f"TODO: step {number}"


# -- goals ------------------------------------------------------------------------------------------------


def _candidates(run: Any) -> list[Goal]:
    """Goals that describe the cluster as it is now, with counts measured now."""
    ctx = run.ctx
    cluster = run.session.cluster
    out: list[Goal] = []

    def add(name: str, args: dict[str, Any], count: str | None = None) -> None:
        if count is not None:
            try:
                value = PREDICATES[name].measure(ctx, args)
            except Exception:  # a measure that cannot judge this cluster proposes nothing
                return
            if value is None or int(value) <= 0:
                return
            args = {**args, count: int(value)}
        try:
            out.append(parse_goal({name: args}))
        except Exception:  # pragma: no cover - our own arguments are valid
            return

    for topic in cluster.topics():
        if topic.startswith("__") or topic.startswith("_"):
            continue
        parts = cluster.describe_topic(topic)
        add("topic_exists", {"topic": topic, "partitions": len(parts)})
        add("records_lost", {"topic": topic}, "at_least")
        add("duplicates", {"topic": topic}, "at_least")
        add("records_failed", {"topic": topic}, "at_least")
        add("records_consumed", {"topic": topic}, "at_least")
        add("records_acked", {"topic": topic}, "at_least")
        for p in parts:
            name = f"{topic}-{p.partition}"
            add("leader_changed", {"partition": name})
            add("partition_offline", {"partition": name})
            add("isr_size", {"partition": name, "equals": len(p.isr)})
    for b in cluster.describe_cluster().brokers:
        add("broker_state", {"broker": b.broker_id, "state": b.state})
    add("controller_changed", {"changed": True})
    try:
        groups = cluster.list_groups()
    except Exception:
        groups = []
    for g in groups:
        add("group_generation", {"group": g}, "at_least")
        add("member_removed", {"group": g, "reason": "session_timeout"})
        add("member_removed", {"group": g, "reason": "left_group"})
    return out


def _holds(goal: Goal, run: Any) -> bool:
    run.sync()
    return goal.evaluate(run.ctx)


def _rank(goals: list[Goal], limit: int = GOALS_PER_STEP) -> list[Goal]:
    order = {name: i for i, name in enumerate(PRIORITY)}
    picked: list[Goal] = []
    seen: dict[str, int] = {}
    for g in sorted(goals, key=lambda g: order.get(g.predicate, len(order))):
        if seen.get(g.predicate, 0) >= SAME_PREDICATE or any(g.text == p.text for p in picked):
            continue
        picked.append(g)
        seen[g.predicate] = seen.get(g.predicate, 0) + 1
        if len(picked) >= limit:
            break
    return picked


# -- the lesson -------------------------------------------------------------------------------------------


def _paths(d: _Draft) -> tuple[Path_, Path_]:
    """(an alternative that reaches the same goals, a wrong path) made from the step's solution."""
    waits = [c for c in d.solution if re.fullmatch(r"run \d+(ms|s)", c)]
    alt: list[str] = []
    split = False
    for c in d.solution:
        m = re.fullmatch(r"run (\d+)(ms|s)", c)
        ms = (int(m.group(1)) * (1000 if m.group(2) == "s" else 1)) if m else 0
        if m and ms >= 2 and not split:
            alt += _runs(ms // 2) + _runs(ms - ms // 2)
            split = True
        else:
            alt.append(c)
    why_alt = "TODO: another way a learner could reach these goals (this one waits in two parts)"
    if not split:
        alt = [*d.solution, "status"]
        why_alt = "TODO: another way a learner could reach these goals (this one also looks at the status)"
    if waits and len(waits) < len(d.solution):
        wrong, why_wrong = (
            waits,
            "TODO: a plausible mistake (this one only waits, without the step's commands)",
        )
    else:
        wrong, why_wrong = ["status"], "TODO: a plausible mistake (this one only looks: time does not move)"
    return Path_(why_alt, tuple(alt)), Path_(why_wrong, tuple(wrong))


def _lesson(lesson_id: str, sc: Scenario, setup: Setup, drafts: list[_Draft]) -> Lesson:
    steps = []
    for d in drafts:
        alt, wrong = _paths(d)
        steps.append(
            Step(
                d.title,
                d.text,
                tuple(d.goals),
                tuple(d.hints),
                None,
                tuple(d.solution),
                (alt,) if d.goals else (),
                (wrong,) if d.goals else (),
            )
        )
    return Lesson(lesson_id, sc.title, "beginner", ("TODO",), setup, tuple(steps), "TODO")


def _merge(drafts: list[_Draft]) -> bool:
    """Merge a step without goals into the next one (the last into the one before); True if one merged."""
    for i, d in enumerate(drafts):
        if d.goals:
            continue
        if len(drafts) == 1:
            return False
        j = i + 1 if i + 1 < len(drafts) else i - 1
        other = drafts[j]
        first, second = (d, other) if j > i else (other, d)
        texts = [t for t in (first.text, second.text) if t and not t.startswith("TODO")]
        merged = _Draft(
            first.title if first.from_note else second.title,
            " ".join(texts) if texts else second.text,
            first.solution + second.solution,
            (first.hints + second.hints)[:1],
            [],
            first.from_note or second.from_note,
            [
                *second.candidates,
                *(c for c in first.candidates if c.text not in {x.text for x in second.candidates}),
            ],
            first.rejected | second.rejected,
        )
        drafts[min(i, j)] = merged
        del drafts[max(i, j)]
        return True
    return False


def _pass_a(lesson_id: str, sc: Scenario, report: BuildReport) -> tuple[Setup, list[_Draft]]:
    """Run the actions as a lesson would (waits as ``run`` lines): the steps' solutions and candidate goals."""
    from ..lessons.loader import command_issue
    from ..lessons.runner import LessonRun

    setup_entries, groups = _groups(sc)
    if not groups:
        raise ExportError(
            "the session has no action after its set-up: make something happen (kill a broker, "
            "crash a consumer ...), with 'note TEXT' before each step"
        )
    empty = Setup(sc.brokers, sc.controllers, sc.seed, dict(sc.broker_config), (), (), 0, ())
    placeholder = Step("placeholder", "placeholder")
    run = LessonRun(Lesson(lesson_id, sc.title, "beginner", ("x",), empty, (placeholder,)))
    try:

        def wait_until(at_ms: int | None, lines: list[str]) -> None:
            """``run`` lines up to the virtual time an action ran at (the lesson replays the same run)."""
            if at_ms is not None and at_ms > run.session.now_ms:
                for w in _runs(at_ms - run.session.now_ms):
                    lines.append(w)
                    run.execute(w)

        def start_of(group: tuple[Entry | None, list[Entry]]) -> int | None:
            note, entries = group
            return note.at_ms if note is not None else next((e.at_ms for e in entries), None)

        # the set-up: its commands at the times they ran, then the time until the first step begins
        setup_lines: list[str] = []
        for e in setup_entries:
            wait_until(e.at_ms, setup_lines)
            r = run.execute(e.line)
            if not r.ok and run.session.input_mode is None:
                raise ExportError(f"the set-up command '{e.line}' fails when replayed as a lesson: {r.error}")
            setup_lines.append(e.line)
        wait_until(start_of(groups[0]), setup_lines)
        if len(setup_lines) > 200:
            raise ExportError("the set-up has more than 200 commands: start the lesson's notes earlier")
        setup = Setup(
            sc.brokers, sc.controllers, sc.seed, dict(sc.broker_config), (), tuple(setup_lines), 0, ()
        )

        drafts: list[_Draft] = []
        steps: list[tuple[Entry | None, list[str]]] = []

        def close(k: int) -> None:
            note, solution = steps[k]
            hints = [c for c in solution if not c.startswith("run ") and command_issue(c) is None][:1]
            hints = hints or solution[:1]  # a step that only waits: its run
            text = note.note if note is not None else None
            drafts.append(
                _Draft(
                    _title(text, solution, k + 1),
                    text or "TODO: what the learner does in this step, and what to watch on screen.",
                    solution,
                    hints,
                    from_note=text is not None,
                    candidates=_candidates(run),
                )
            )

        for k, group in enumerate(groups):
            if k:  # the time before a step begins shows the previous step's consequences: it is its end
                wait_until(start_of(group), steps[k - 1][1])
                close(k - 1)
            solution: list[str] = []
            steps.append((group[0], solution))
            for e in group[1]:
                wait_until(e.at_ms, solution)
                r = run.execute(e.line)
                if r.ok or run.session.input_mode is not None:
                    solution.append(e.line)
                else:
                    report.notes.append(
                        f"'{e.line}' failed when replayed as a lesson ({r.error}); it is left out "
                        "(a solution's commands must succeed)"
                    )
        wait_until(sc.end_ms, steps[-1][1])
        close(len(steps) - 1)
    finally:
        run.close()
    return setup, drafts


def _keep_changed(lesson_id: str, sc: Scenario, setup: Setup, drafts: list[_Draft]) -> None:
    """Keep the goals that do not hold when their step begins and hold after its solution."""
    from ..lessons.runner import LessonRun

    run = LessonRun(_lesson(lesson_id, sc, setup, drafts))
    try:
        for d in drafts:
            before = [_holds(g, run) for g in d.goals]
            for line in d.solution:
                run.execute(line)
            d.goals = [g for g, b in zip(d.goals, before, strict=True) if not b and _holds(g, run)]
            run.advance(force=True, save=False)
    finally:
        run.close()


def build_lesson(
    sc: Scenario, lesson_id: str, progress: Callable[[str], Any] | None = None
) -> tuple[str, BuildReport]:
    """A lesson skeleton (YAML text) from a scenario, with goals proposed and checked; raises ExportError."""
    from ..lessons.loader import parse_lesson
    from ..lessons.paths import check_lesson_paths

    report = BuildReport()
    say = progress or (lambda _text: None)
    if not _ID_RX.fullmatch(lesson_id):
        raise ExportError(
            f"'{lesson_id}' cannot be a lesson id (the file name without .yaml): use lowercase letters, "
            "digits and dashes, e.g. leader-failover.yaml"
        )
    if sc.clusters:
        raise ExportError("a lesson runs one cluster; this session has several (--clusters)")
    if sc.brokers > 9 or sc.controllers > 5:
        raise ExportError("a lesson has at most 9 brokers and 5 controllers")
    if sc.seed > 2**31 - 1:
        raise ExportError(f"a lesson's seed is at most {2**31 - 1}; this session's is {sc.seed}")
    if sc.outside_requests:
        report.notes.append(f"{sc.outside_requests} request(s) of outside clients are not in the lesson")
    say("replaying the session as a lesson…")
    setup, drafts = _pass_a(lesson_id, sc, report)
    if len(drafts) > 40:
        raise ExportError(
            f"the session makes {len(drafts)} steps; a lesson has at most 40 (group them with notes)"
        )
    results: list[Any] = []
    for round_ in range(MAX_ROUNDS * 4):
        say(f"checking the proposed goals (round {round_ + 1})…")
        for d in drafts:
            d.goals = [g for g in d.candidates if g.text not in d.rejected]
        _keep_changed(lesson_id, sc, setup, drafts)
        if _merge(drafts):
            continue  # the merged step begins elsewhere: its candidates are judged again
        if not any(d.goals for d in drafts):
            raise ExportError(
                "nothing happened that a goal could check (no leader changed, no record lost, no group "
                "rebalanced …): run the experiment in the session, then export again"
            )
        for d in drafts:
            d.goals = _rank(d.goals, 2 * GOALS_PER_STEP)
        results = check_lesson_paths(_lesson(lesson_id, sc, setup, drafts))
        dropped = False
        for r in results:
            d = drafts[r.step]
            lost = r.reached if r.kind == "wrong" else r.missed if r.kind == "alternative" else []
            if lost:
                d.rejected.update(lost)
                dropped = True
        if not dropped and all(r.ok for r in results):
            break
    else:
        raise ExportError("the proposed goals did not settle: try again with a note before each step")
    for d in drafts:
        d.goals = _rank(d.goals)
    text = _render(lesson_id, sc, setup, drafts)
    parse_lesson(text, f"{lesson_id}.yaml")  # what we write must load
    report.steps = len(drafts)
    report.goals = sum(len(d.goals) for d in drafts)
    report.paths = len(results)
    report.paths_ok = sum(1 for r in results if r.ok)
    return text, report


def _render(lesson_id: str, sc: Scenario, setup: Setup, drafts: list[_Draft]) -> str:
    out = [
        "# A lesson skeleton exported by kafkalab from a sandbox session (docs/writing-lessons.md).",
        "# Fill in every TODO: the title, concepts and summary, each step's text (ask a question first,",
        "# see 'Predict, then reveal'), and the alternative and wrong paths a learner would really take.",
        "# The goals were proposed from what happened and checked by running the paths.",
        f"# Check it again after editing: kafkalab lessons check {lesson_id}.yaml",
        f"id: {lesson_id}",
        f"title: {_q(sc.title)}",
        "level: beginner",
        'concepts: ["TODO: the Kafka ideas this lesson teaches"]',
        f"summary: {_q('TODO: one sentence on what the learner will see happen.')}",
        "setup:",
        f"  brokers: {setup.brokers}",
    ]
    if setup.controllers != 1:
        out.append(f"  controllers: {setup.controllers}")
    out.append(f"  seed: {setup.seed}")
    if setup.broker_config:
        out.append("  broker_config:")
        out += [f"    {_q(k)}: {_q(v)}" for k, v in setup.broker_config.items()]
    if setup.commands:
        out.append("  commands:")
        out += [f"    - {_q(c)}" for c in setup.commands]
    if setup.run_ms:
        out.append(f"  run: {setup.run_ms}")
    out.append("steps:")
    for d in drafts:
        alt, wrong = _paths(d)
        out += [f"  - title: {_q(d.title)}", f"    text: {_q(d.text)}"]
        if d.goals:
            out.append("    goals:")
            for g in d.goals:
                args = ", ".join(f"{k}: {_value(v)}" for k, v in g.args.items())
                out.append(f"      - {g.predicate}: {{{args}}}")
        if d.hints:
            out.append("    hints:")
            out += [f"      - {_q(h)}" for h in d.hints]
        out.append("    solution:")
        out += [f"      - {_q(c)}" for c in d.solution]
        for key, p in (("alternatives", alt), ("wrong", wrong)):
            out += [f"    {key}:", f"      - why: {_q(p.why)}", "        commands:"]
            out += [f"          - {_q(c)}" for c in p.commands]
    return "\n".join(out) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return _q(str(v))


def export_lesson(
    session_or_scenario: Any, path: str | Path, progress: Callable[[str], Any] | None = None
) -> tuple[Path, BuildReport]:
    """Write a lesson skeleton for a session (or a scenario) to ``path``; raises ExportError or OSError."""
    from .scenario import scenario_from_session

    p = Path(path)
    if p.suffix not in (".yaml", ".yml"):
        raise ExportError(f"a lesson file ends in .yaml: {p.name}")
    if isinstance(session_or_scenario, Scenario):
        sc = session_or_scenario
    else:
        sc, _notes = scenario_from_session(session_or_scenario, p.stem.replace("-", " "))
    text, report = build_lesson(sc, p.stem, progress)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=str(p.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p, report
