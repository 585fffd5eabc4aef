"""Loading lesson files: YAML to :class:`~kafkalab.lessons.model.Lesson`, every problem as ``file:line``.

The validator and the loader are the same code: :func:`parse_lesson` checks every type and every limit of
:mod:`kafkalab.lessons.limits` (``kafkalab lessons check`` and opening a lesson both call it), so a file
that passes the check can be opened without crashing or hanging the lab.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import limits as L
from .goals import Goal, GoalError, parse_goal
from .model import (
    LESSONS_DIR,
    LEVELS,
    Fault,
    Issue,
    Lesson,
    LessonError,
    Path_,
    Question,
    Setup,
    Step,
    TopicSpec,
)
from .yamlpos import Located, YamlError, load_located

__all__ = [
    "PSEUDO_COMMANDS",
    "check_path",
    "command_issue",
    "lesson_files",
    "load_all",
    "load_lesson",
    "parse_lesson",
]

_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TOPIC_RX = re.compile(r"[a-zA-Z0-9._-]{1,249}")
#: words a path may contain besides console commands: ``play`` presses the play key (in a step whose
#: ``play`` is true it runs virtual time until the step's goals are reached)
PSEUDO_COMMANDS = ("play",)
#: files in a lessons directory that are not lessons
NOT_LESSONS = ("course.yaml",)


class _V:
    """Collects issues while walking a located document."""

    def __init__(self, file: str, doc: Located) -> None:
        self.file = file
        self.doc = doc
        self.issues: list[Issue] = []

    def err(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        line = self.doc.lines.get(("key", *path)) if key else None
        self.issues.append(Issue(self.file, line or self.doc.line(path), message))

    def line(self, path: tuple[str | int, ...]) -> int:
        return self.doc.line(path)

    def mapping(self, value: Any, path: tuple[str | int, ...], what: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.err(path, f"{what} must be a mapping (key: value lines)")
            return None
        return value

    def unknown_keys(
        self, m: dict[str, Any], path: tuple[str | int, ...], allowed: tuple[str, ...], what: str
    ) -> None:
        for k in m:
            if k not in allowed:
                self.err(
                    (*path, k), f"unknown field '{k}' in {what} (allowed: {', '.join(allowed)})", key=True
                )

    def text(
        self, m: dict[str, Any], path: tuple[str | int, ...], key: str, what: str, required: bool = True
    ) -> str:
        v = m.get(key)
        if v is None:
            if required:
                self.err(path, f"{what} is missing the field '{key}'")
            return ""
        if not isinstance(v, str) or not v.strip():
            self.err((*path, key), f"'{key}' must be non-empty text")
            return ""
        return v.strip()

    def integer(
        self, m: dict[str, Any], path: tuple[str | int, ...], key: str, default: int, lo: int, hi: int
    ) -> int:
        v = m.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
            self.err((*path, key), f"'{key}' must be a whole number from {lo} to {hi}, not {shown}")
            return default
        return v

    def boolean(self, m: dict[str, Any], path: tuple[str | int, ...], key: str) -> bool:
        v = m.get(key, False)
        if not isinstance(v, bool):
            self.err((*path, key), f"'{key}' must be true or false")
            return False
        return v

    def strings(
        self,
        m: dict[str, Any],
        path: tuple[str | int, ...],
        key: str,
        required: bool = False,
        limit: int = L.MAX_COMMANDS_PER_PATH,
    ) -> list[str]:
        v = m.get(key)
        if v is None:
            if required:
                self.err(path, f"missing the field '{key}'")
            return []
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            self.err((*path, key), f"'{key}' must be a list of texts")
            return []
        if required and not v:
            self.err((*path, key), f"'{key}' must not be empty")
        if len(v) > limit:
            self.err((*path, key), f"'{key}' has more than {limit} entries")
            return []
        return [x.strip() if "\n" not in x.strip() else x for x in v]

    def config(self, m: dict[str, Any], path: tuple[str | int, ...], key: str, kind: str) -> dict[str, str]:
        v = m.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict) or any(isinstance(x, dict | list) or x is None for x in v.values()):
            self.err((*path, key), f"'{key}' must map config names to values")
            return {}
        out: dict[str, str] = {}
        for name, x in v.items():
            text = str(x).lower() if isinstance(x, bool) else str(x)
            issue = (
                L.broker_config_issue(name, text) if kind == "broker" else L.topic_config_issue(name, text)
            )
            if issue is not None:
                self.err((*path, key, name), issue)
                continue
            out[name] = text
        return out

    def duration(self, value: Any, path: tuple[str | int, ...], what: str) -> int:
        try:
            return L.duration_ms(value, what)
        except ValueError as e:
            self.err(path, str(e))
            return 0


def _tool_name(word: str) -> str:
    w = word.rsplit("/", 1)[-1]
    return w[:-3] if w.endswith(".sh") else w


def command_issue(line: str, *, pseudo: bool = False) -> str | None:
    """What is wrong with a console line, judged without a cluster (None if it looks right).

    ``pseudo`` allows the path-only words of :data:`PSEUDO_COMMANDS`.
    """
    from ..commands import command_names
    from ..commands.kafka_tools import TOOL_OPTIONS
    from ..commands.ksql_cmd import is_ksql_line
    from ..commands.lab import LAB_OPTIONS
    from ..commands.parsing import CommandError, split_line
    from .verbs import VERB_OPTIONS, is_verb

    if len(line) > 2000:
        return "a command is longer than 2000 characters"
    try:
        tokens = split_line(line)
    except CommandError as e:
        return str(e)
    if not tokens:
        return "empty command"
    first = _tool_name(tokens[0])
    rest = tokens[1:]
    if pseudo and first in PSEUDO_COMMANDS and not rest:
        return None
    if is_ksql_line(tokens):  # a ksqlDB statement typed as it is: checked with ksqlDB's grammar
        return _ksql_issue(line)
    if rest and f"{first}-{rest[0]}" in command_names():
        first, rest = f"{first}-{rest[0]}", rest[1:]
    if first not in command_names() and not is_verb(first):
        return f"unknown command '{tokens[0]}'"
    opts = TOOL_OPTIONS.get(first) or LAB_OPTIONS.get(first) or VERB_OPTIONS.get(first)
    if opts is not None:
        names = {o.name for o in opts}
        for tok in rest:
            if tok.startswith("--") and len(tok) > 2:
                name = tok[2:].split("=", 1)[0]
                if name not in names:
                    return f"{first} has no option --{name}"
    if first in ("run", "seed", "speed", "rewind"):
        if first != "run":
            return f"'{first}' is for the sandbox: a lesson path must not depend on it"
        if len(rest) != 1:
            return "usage: run DURATION"
        try:
            L.duration_ms(rest[0], "run")
        except ValueError as e:
            return str(e)
    if first == "wait-for":
        from ..commands.waitfor import check_wait_args

        problem = check_wait_args(rest)
        if problem is not None:
            return problem
    return None


def _ksql_issue(line: str) -> str | None:
    from ..platform.ksql_parser import KsqlSyntaxError, parse

    try:
        parse(line.strip())
    except KsqlSyntaxError as e:
        return str(e).split("\n", 1)[0]
    return None


#: tools whose following console lines are records typed (until '.exit', the end of input; the Schema
#: Registry console producers also end on an empty line)
RECORD_INPUT_TOOLS = (
    "kafka-console-producer",
    "kafka-avro-console-producer",
    "kafka-json-schema-console-producer",
)


def _check_commands(
    v: _V, lines: list[str], path: tuple[str | int, ...], reading: bool = False, pseudo: bool = False
) -> bool:
    """Validate console lines; lines after a console producer are records until '.exit' (end of input) or,
    after a Schema Registry console producer, an empty line (kafka-console-producer sends it as an empty record).

    Returns whether a console producer is still reading at the end.
    """
    reader = "kafka-console-producer"
    for i, line in enumerate(lines):
        if reading:
            typed = line.strip()
            if typed == ".exit" or (typed == "" and reader != "kafka-console-producer"):
                reading = False
            continue
        issue = command_issue(line, pseudo=pseudo)
        if issue is not None:
            v.err((*path, i), f"bad command '{line}': {issue}")
            continue
        tool = _tool_name(line.split()[0])
        if tool in RECORD_INPUT_TOOLS:
            reading, reader = True, tool
    return reading


def _parse_setup(v: _V, raw: Any) -> Setup:
    path: tuple[str | int, ...] = ("setup",)
    m = v.mapping(raw, path, "setup")
    if m is None:
        return Setup()
    v.unknown_keys(
        m,
        path,
        (
            "brokers",
            "clusters",
            "controllers",
            "seed",
            "broker_config",
            "topics",
            "commands",
            "run",
            "faults",
        ),
        "setup",
    )
    brokers = v.integer(m, path, "brokers", 3, 1, L.MAX_BROKERS)
    clusters = _parse_clusters(v, m, path)
    if clusters and "brokers" in m:
        v.err(
            (*path, "brokers"),
            "a lesson with 'clusters' sets the brokers of each cluster there, not 'brokers'",
        )
    sizes = dict(clusters)
    controllers = v.integer(m, path, "controllers", 1, 1, L.MAX_CONTROLLERS)
    seed = v.integer(m, path, "seed", 42, 0, 2**31 - 1)
    topics: list[TopicSpec] = []
    raw_topics = m.get("topics", [])
    if not isinstance(raw_topics, list):
        v.err((*path, "topics"), "'topics' must be a list")
        raw_topics = []
    if len(raw_topics) > 20:
        v.err((*path, "topics"), "a lesson sets up at most 20 topics")
        raw_topics = []
    names: set[tuple[str, str]] = set()
    for i, t in enumerate(raw_topics):
        tp = (*path, "topics", i)
        tm = v.mapping(t, tp, "a topic")
        if tm is None:
            continue
        v.unknown_keys(tm, tp, ("name", "partitions", "replication_factor", "config", "cluster"), "a topic")
        name = v.text(tm, tp, "name", "a topic")
        cluster = None
        if "cluster" in tm:
            cluster = v.text(tm, tp, "cluster", "a topic")
            if not clusters:
                v.err(
                    (*tp, "cluster"),
                    "'cluster' needs several clusters in the setup ('clusters: {east: 3, west: 3}')",
                )
            elif cluster and cluster not in sizes:
                v.err((*tp, "cluster"), f"there is no cluster '{cluster}' (clusters: {', '.join(sizes)})")
                cluster = None
        home = cluster or (clusters[0][0] if clusters else "")
        if name and (not _TOPIC_RX.fullmatch(name) or name in (".", "..")):
            v.err((*tp, "name"), f"'{name}' is not a legal topic name (letters, digits, '.', '_', '-')")
        elif (home, name) in names:
            v.err((*tp, "name"), f"topic '{name}' is set up twice")
        names.add((home, name))
        parts = v.integer(tm, tp, "partitions", 1, 1, L.MAX_PARTITIONS)
        rf = v.integer(tm, tp, "replication_factor", 1, 1, L.MAX_BROKERS)
        have = sizes.get(home, brokers)
        if rf > have:
            where = f" of cluster {home}" if clusters else ""
            v.err(
                (*tp, "replication_factor"), f"replication factor {rf} is more than the {have} brokers{where}"
            )
        topics.append(TopicSpec(name, parts, rf, v.config(tm, tp, "config", "topic"), cluster))
    commands = v.strings(m, path, "commands")
    if _check_commands(v, commands, (*path, "commands")):
        v.err((*path, "commands"), "a kafka-console-producer in setup must end with '.exit'")
    run_ms = v.duration(m["run"], (*path, "run"), "run") if "run" in m else 0
    faults: list[Fault] = []
    raw_faults = m.get("faults", [])
    if not isinstance(raw_faults, list):
        v.err((*path, "faults"), "'faults' must be a list")
        raw_faults = []
    if len(raw_faults) > 50:
        v.err((*path, "faults"), "a lesson schedules at most 50 faults")
        raw_faults = []
    for i, f in enumerate(raw_faults):
        fp = (*path, "faults", i)
        fm = v.mapping(f, fp, "a fault")
        if fm is None:
            continue
        v.unknown_keys(fm, fp, ("at", "command"), "a fault")
        if "at" not in fm:
            v.err(fp, "a fault is missing the field 'at'")
        at = v.duration(fm.get("at", 0), (*fp, "at"), "at")
        cmd = v.text(fm, fp, "command", "a fault")
        if cmd:
            issue = command_issue(cmd)
            if issue is not None:
                v.err((*fp, "command"), f"bad command '{cmd}': {issue}")
            elif _tool_name(cmd.split()[0]) in (*RECORD_INPUT_TOOLS, "run", "wait-for"):
                v.err((*fp, "command"), f"'{cmd}' cannot be a scheduled fault")
        faults.append(Fault(at, cmd))
    return Setup(
        brokers,
        controllers,
        seed,
        v.config(m, path, "broker_config", "broker"),
        tuple(topics),
        tuple(commands),
        run_ms,
        tuple(sorted(faults, key=lambda f: f.at_ms)),
        tuple(clusters),
    )


_CLUSTER_RX = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,31}")


def _parse_clusters(v: _V, m: dict[str, Any], path: tuple[str | int, ...]) -> list[tuple[str, int]]:
    """``clusters: {east: 3, west: 3}``: several named clusters on one clock (the first is used first)."""
    raw = m.get("clusters")
    if raw is None:
        return []
    cp = (*path, "clusters")
    if not isinstance(raw, dict) or not raw:
        v.err(cp, "'clusters' maps cluster names to their number of brokers, e.g. {east: 3, west: 3}")
        return []
    if not 2 <= len(raw) <= L.MAX_CLUSTERS:
        v.err(cp, f"'clusters' names 2 to {L.MAX_CLUSTERS} clusters (one cluster: use 'brokers')")
        return []
    out: list[tuple[str, int]] = []
    for name in raw:
        if not isinstance(name, str) or not _CLUSTER_RX.fullmatch(name):
            v.err(
                cp,
                f"bad cluster name {str(name)[:40]!r}: letters, digits, '-' and '_', starting with a letter",
            )
            continue
        out.append((name, v.integer(raw, cp, name, 3, 1, L.MAX_BROKERS)))
    return out


def _parse_question(v: _V, raw: Any, path: tuple[str | int, ...]) -> Question | None:
    m = v.mapping(raw, path, "a question")
    if m is None:
        return None
    v.unknown_keys(m, path, ("prompt", "choices", "answer", "explain"), "a question")
    prompt = v.text(m, path, "prompt", "a question")
    choices = v.strings(m, path, "choices", required=True, limit=L.MAX_CHOICES)
    answer = v.text(m, path, "answer", "a question")
    explain = v.text(m, path, "explain", "a question")
    if choices and len(choices) < 2:
        v.err((*path, "choices"), "a question needs at least two choices")
    if len(set(choices)) != len(choices):
        v.err((*path, "choices"), "two choices are the same")
    if answer and choices and answer not in choices:
        v.err((*path, "answer"), f"the answer '{answer}' is not one of the choices")
    return Question(prompt, tuple(choices), answer, explain)


def _parse_paths(v: _V, m: dict[str, Any], path: tuple[str | int, ...], key: str, play: bool) -> list[Path_]:
    raw = m.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        v.err((*path, key), f"'{key}' must be a list of paths (each with 'why' and 'commands')")
        return []
    if len(raw) > L.MAX_PATHS_PER_KIND:
        v.err((*path, key), f"'{key}' has more than {L.MAX_PATHS_PER_KIND} paths")
        return []
    out: list[Path_] = []
    for i, p in enumerate(raw):
        pp = (*path, key, i)
        pm = v.mapping(p, pp, "a path")
        if pm is None:
            continue
        v.unknown_keys(pm, pp, ("why", "commands"), "a path")
        why = v.text(pm, pp, "why", "a path")
        commands = v.strings(pm, pp, "commands", required=True)
        _check_commands(v, commands, (*pp, "commands"), pseudo=True)
        if "play" in commands and not play:
            v.err((*pp, "commands"), "'play' in a path needs 'play: true' on its step")
        out.append(Path_(why, tuple(commands), v.line(pp)))
    return out


_STEP_KEYS = (
    "title",
    "question",
    "text",
    "goals",
    "hints",
    "play",
    "solution",
    "alternatives",
    "wrong",
)


def _parse_step(v: _V, raw: Any, i: int) -> Step | None:
    path: tuple[str | int, ...] = ("steps", i)
    m = v.mapping(raw, path, f"step {i + 1}")
    if m is None:
        return None
    v.unknown_keys(m, path, _STEP_KEYS, "a step")
    title = v.text(m, path, "title", f"step {i + 1}")
    text = v.text(m, path, "text", f"step {i + 1}")
    goals: list[Goal] = []
    raw_goals = m.get("goals", [])
    if not isinstance(raw_goals, list):
        v.err((*path, "goals"), "'goals' must be a list")
        raw_goals = []
    if len(raw_goals) > L.MAX_GOALS_PER_STEP:
        v.err((*path, "goals"), f"a step has at most {L.MAX_GOALS_PER_STEP} goals")
        raw_goals = []
    for j, g in enumerate(raw_goals):
        try:
            goals.append(parse_goal(g))
        except GoalError as e:
            v.err((*path, "goals", j, *e.path), e.message)
    hints = v.strings(m, path, "hints", limit=10)
    for j, h in enumerate(hints):
        if len(h) > L.MAX_HINT_CHARS and command_issue(h) is not None:
            v.err(
                (*path, "hints", j),
                f"a hint has at most {L.MAX_HINT_CHARS} characters (this one has {len(h)}), "
                "unless it is exactly one command",
            )
    play = v.boolean(m, path, "play")
    question = _parse_question(v, m["question"], (*path, "question")) if "question" in m else None
    solution = v.strings(m, path, "solution")
    _check_commands(v, solution, (*path, "solution"), pseudo=True)
    if "play" in solution and not play:
        v.err((*path, "solution"), "'play' in a path needs 'play: true' on its step")
    alternatives = _parse_paths(v, m, path, "alternatives", play)
    wrong = _parse_paths(v, m, path, "wrong", play)
    if raw_goals:
        for key, have in (("solution", "solution" in m), ("alternatives", alternatives), ("wrong", wrong)):
            if not have:
                what = {
                    "solution": "'solution' (the commands that reach them)",
                    "alternatives": "'alternatives' (at least one other path that reaches them)",
                    "wrong": "'wrong' (at least one mistake that must not reach them)",
                }[key]
                v.err(path, f"step {i + 1} has goals but no {what}")
    else:
        if question is not None:
            v.err((*path, "question"), "a step with a question needs goals: the experiment that answers it")
        for key in ("solution", "alternatives", "wrong", "play"):
            if key in m:
                v.err((*path, key), f"'{key}' needs goals on the step")
    return Step(
        title,
        text,
        tuple(goals),
        tuple(hints),
        question,
        tuple(solution),
        tuple(alternatives),
        tuple(wrong),
        play,
        v.line(path),
    )


_LESSON_KEYS = ("id", "title", "level", "requires", "concepts", "summary", "after", "setup", "steps")


def parse_lesson(text: str, file: str = "<lesson>") -> Lesson:
    """Parse and validate a lesson; raises :class:`LessonError` listing every problem found."""
    try:
        doc = load_located(text)
    except YamlError as e:
        raise LessonError([Issue(file, e.line, e.message)]) from None
    v = _V(file, doc)
    m = v.mapping(doc.value, (), "a lesson")
    if m is None:
        raise LessonError(v.issues)
    v.unknown_keys(m, (), _LESSON_KEYS, "a lesson")
    lid = v.text(m, (), "id", "the lesson")
    if lid and not _ID_RX.fullmatch(lid):
        v.err(("id",), f"id '{lid}' must be lowercase letters, digits and dashes")
    title = v.text(m, (), "title", "the lesson")
    level = v.text(m, (), "level", "the lesson")
    if level and level not in LEVELS:
        v.err(("level",), f"level must be one of {', '.join(LEVELS)}, not '{level}'")
    requires = v.strings(m, (), "requires", limit=20)
    for j, r in enumerate(requires):
        if not _ID_RX.fullmatch(r):
            v.err(("requires", j), f"'{r}' is not a lesson id")
        elif r == lid:
            v.err(("requires", j), "a lesson cannot require itself")
    concepts = v.strings(m, (), "concepts", required=True, limit=20)
    summary = v.text(m, (), "summary", "the lesson", required=False)
    after = v.text(m, (), "after", "the lesson", required=False)
    if "setup" not in m:
        v.err((), "the lesson is missing the field 'setup'")
    setup = _parse_setup(v, m.get("setup", {}))
    steps: list[Step] = []
    raw_steps = m.get("steps")
    if raw_steps is None:
        v.err((), "the lesson is missing the field 'steps'")
    elif not isinstance(raw_steps, list) or not raw_steps:
        v.err(("steps",), "'steps' must be a non-empty list")
    elif len(raw_steps) > L.MAX_STEPS:
        v.err(("steps",), f"a lesson has at most {L.MAX_STEPS} steps")
    else:
        for i, s in enumerate(raw_steps):
            step = _parse_step(v, s, i)
            if step is not None:
                steps.append(step)
    if raw_steps and isinstance(raw_steps, list) and not any(s.goals for s in steps) and not v.issues:
        v.err(("steps",), "the lesson has no goal to check")
    known_clusters = [c for c, _n in setup.clusters]
    for i, step in enumerate(steps):
        for j, g in enumerate(step.goals):
            c = g.args.get("cluster")
            if c is not None and c not in known_clusters:
                have = ", ".join(known_clusters) or "this lesson has one cluster"
                v.err(
                    ("steps", i, "goals", j),
                    f"a goal looks at cluster '{c}', which the setup does not have ({have})",
                )
    if v.issues:
        raise LessonError(v.issues)
    return Lesson(
        lid,
        title,
        level,
        tuple(concepts),
        setup,
        tuple(steps),
        summary,
        requires=tuple(requires),
        after=after,
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def lesson_files(directory: Path | None = None) -> list[Path]:
    d = directory or LESSONS_DIR
    return sorted(p for p in d.glob("*.yaml") if p.name not in NOT_LESSONS)


def _read(path: Path) -> Lesson:
    name = _display(path)
    try:
        if path.stat().st_size > L.MAX_FILE_BYTES:
            raise LessonError([Issue(name, 1, f"the file is larger than {L.MAX_FILE_BYTES // 1024} KiB")])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LessonError([Issue(name, 1, f"cannot read the file: {e}")]) from None
    lesson = parse_lesson(text, name)
    if lesson.id != path.stem:
        raise LessonError([Issue(name, 1, f"id '{lesson.id}' must match the file name '{path.stem}'")])
    return Lesson(
        lesson.id,
        lesson.title,
        lesson.level,
        lesson.concepts,
        lesson.setup,
        lesson.steps,
        lesson.summary,
        path,
        lesson.requires,
        lesson.after,
    )


def load_lesson(id_or_path: str | Path, directory: Path | None = None) -> Lesson:
    """A lesson by id (from the lessons directory) or by path to its YAML file."""
    p = Path(id_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return _read(p)
    if not _ID_RX.fullmatch(str(id_or_path)):
        raise LessonError([Issue(str(id_or_path), 0, f"'{id_or_path}' is not a lesson id")])
    candidate = (directory or LESSONS_DIR) / f"{id_or_path}.yaml"
    if not candidate.exists():
        known = ", ".join(f.stem for f in lesson_files(directory)) or "none"
        raise LessonError([Issue(str(id_or_path), 0, f"no lesson '{id_or_path}' (lessons: {known})")])
    return _read(candidate)


def load_all(directory: Path | None = None) -> tuple[list[Lesson], list[Issue]]:
    lessons: list[Lesson] = []
    issues: list[Issue] = []
    for f in lesson_files(directory):
        try:
            lessons.append(_read(f))
        except LessonError as e:
            issues.extend(e.issues)
    return lessons, issues


def check_path(path: Path | None = None) -> tuple[int, list[Issue]]:
    """Validate a lesson file or every lesson in a directory (and its course): (files checked, issues).

    This only reads the files; :func:`kafkalab.lessons.paths.check_lesson_paths` also runs them.
    """
    target = path or LESSONS_DIR
    files = [target] if target.is_file() else lesson_files(target)
    issues: list[Issue] = []
    for f in files:
        try:
            _read(f)
        except LessonError as e:
            issues.extend(e.issues)
    if target.is_dir():
        from .course import check_course

        issues.extend(check_course(target))
    return len(files), issues
