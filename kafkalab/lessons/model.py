"""The lesson model and the loader that validates lesson files with ``file:line`` messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .goals import Goal, GoalError, parse_goal
from .yamlpos import Located, YamlError, load_located

__all__ = [
    "LESSONS_DIR",
    "Fault",
    "Issue",
    "Lesson",
    "LessonError",
    "Question",
    "Setup",
    "Step",
    "TopicSpec",
    "check_path",
    "lesson_files",
    "load_all",
    "load_lesson",
    "parse_lesson",
]

#: the lessons shipped with kafkalab
LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
LEVELS = ("beginner", "intermediate", "advanced")
_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Issue:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class LessonError(Exception):
    """A lesson file is broken; ``issues`` says where and what, one ``file:line: message`` each."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 1
    replication_factor: int = 1
    config: dict[str, str] = field(default_factory=dict)

    def command(self) -> str:
        cmd = (
            f"kafka-topics --create --topic {self.name} --partitions {self.partitions} "
            f"--replication-factor {self.replication_factor}"
        )
        for k, v in self.config.items():
            cmd += f" --config {k}={v}"
        return cmd


@dataclass(frozen=True)
class Fault:
    at_ms: int
    command: str


@dataclass(frozen=True)
class Setup:
    brokers: int = 3
    controllers: int = 1
    seed: int = 42
    broker_config: dict[str, str] = field(default_factory=dict)
    topics: tuple[TopicSpec, ...] = ()
    commands: tuple[str, ...] = ()
    run_ms: int = 0
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Question:
    prompt: str
    choices: tuple[str, ...]
    answer: str
    explain: str

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    goals: tuple[Goal, ...] = ()
    hints: tuple[str, ...] = ()
    question: Question | None = None
    solution: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    level: str
    concepts: tuple[str, ...]
    setup: Setup
    steps: tuple[Step, ...]
    summary: str = ""
    path: Path | None = None

    @property
    def goals(self) -> list[Goal]:
        return [g for s in self.steps for g in s.goals]

    @property
    def solution(self) -> list[str]:
        return [c for s in self.steps for c in s.solution]


# -- validation -----------------------------------------------------------------------------------------


class _V:
    """Collects issues while walking a located document."""

    def __init__(self, file: str, doc: Located) -> None:
        self.file = file
        self.doc = doc
        self.issues: list[Issue] = []

    def err(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        line = self.doc.lines.get(("key", *path)) if key else None
        self.issues.append(Issue(self.file, line or self.doc.line(path), message))

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
            self.err((*path, key), f"'{key}' must be a whole number from {lo} to {hi}, not {v!r}")
            return default
        return v

    def strings(
        self, m: dict[str, Any], path: tuple[str | int, ...], key: str, required: bool = False
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
        return [x.strip() if "\n" not in x.strip() else x for x in v]

    def config(self, m: dict[str, Any], path: tuple[str | int, ...], key: str) -> dict[str, str]:
        v = m.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict) or any(isinstance(x, dict | list) or x is None for x in v.values()):
            self.err((*path, key), f"'{key}' must map config names to values")
            return {}
        from ..sim.configdefs import ConfigError, validate_config

        kind = "broker" if key == "broker_config" else "topic"
        out: dict[str, str] = {}
        for k, x in v.items():
            try:  # Kafka's types and ranges, the same check the cluster and the console make
                out[str(k)] = validate_config(kind, str(k), x)
            except ConfigError as e:
                self.err((*path, key, str(k)), str(e))
        return out

    def duration(self, value: Any, path: tuple[str | int, ...], what: str) -> int:
        from ..commands.lab import parse_duration
        from ..commands.parsing import CommandError

        if isinstance(value, bool):
            self.err(path, f"{what} must be a duration like 500, 2s or 1m")
            return 0
        if isinstance(value, int):
            if value < 0:
                self.err(path, f"{what} must not be negative")
            return max(0, value)
        try:
            return parse_duration(str(value), what)
        except CommandError as e:
            self.err(path, str(e))
            return 0


def _command_issue(line: str) -> str | None:
    """What is wrong with a console command, judged without a cluster (None if it looks right)."""
    from ..commands import command_names
    from ..commands.kafka_tools import TOOL_OPTIONS
    from ..commands.lab import LAB_OPTIONS, parse_duration
    from ..commands.parsing import CommandError, split_line
    from .verbs import VERB_OPTIONS, is_verb

    try:
        tokens = split_line(line)
    except CommandError as e:
        return str(e)
    if not tokens:
        return "empty command"
    first = tokens[0].rsplit("/", 1)[-1]
    first = first[:-3] if first.endswith(".sh") else first
    rest = tokens[1:]
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
    if first == "run":
        if len(rest) != 1:
            return "usage: run DURATION"
        try:
            parse_duration(rest[0], "run")
        except CommandError as e:
            return str(e)
    return None


def _check_commands(v: _V, lines: list[str], path: tuple[str | int, ...], reading: bool = False) -> bool:
    """Validate console lines; lines after kafka-console-producer are records until '' or '.exit'.

    Returns whether a console producer is still reading at the end.
    """
    for i, line in enumerate(lines):
        if reading:
            if line.strip() in ("", ".exit"):
                reading = False
            continue
        issue = _command_issue(line)
        if issue is not None:
            v.err((*path, i), f"bad command '{line}': {issue}")
            continue
        if line.split()[0].rsplit("/", 1)[-1].removesuffix(".sh") == "kafka-console-producer":
            reading = True
    return reading


def _parse_setup(v: _V, raw: Any) -> Setup:
    path: tuple[str | int, ...] = ("setup",)
    m = v.mapping(raw, path, "setup")
    if m is None:
        return Setup()
    v.unknown_keys(
        m,
        path,
        ("brokers", "controllers", "seed", "broker_config", "topics", "commands", "run", "faults"),
        "setup",
    )
    brokers = v.integer(m, path, "brokers", 3, 1, 9)
    controllers = v.integer(m, path, "controllers", 1, 1, 5)
    seed = v.integer(m, path, "seed", 42, 0, 2**31 - 1)
    topics: list[TopicSpec] = []
    raw_topics = m.get("topics", [])
    if not isinstance(raw_topics, list):
        v.err((*path, "topics"), "'topics' must be a list")
        raw_topics = []
    for i, t in enumerate(raw_topics):
        tp = (*path, "topics", i)
        tm = v.mapping(t, tp, "a topic")
        if tm is None:
            continue
        v.unknown_keys(tm, tp, ("name", "partitions", "replication_factor", "config"), "a topic")
        name = v.text(tm, tp, "name", "a topic")
        parts = v.integer(tm, tp, "partitions", 1, 1, 64)
        rf = v.integer(tm, tp, "replication_factor", 1, 1, 9)
        if rf > brokers:
            v.err((*tp, "replication_factor"), f"replication factor {rf} is more than the {brokers} brokers")
        topics.append(TopicSpec(name, parts, rf, v.config(tm, tp, "config")))
    commands = v.strings(m, path, "commands")
    if _check_commands(v, commands, (*path, "commands")):
        v.err((*path, "commands"), "a kafka-console-producer in setup must end with '.exit'")
    run_ms = v.duration(m["run"], (*path, "run"), "run") if "run" in m else 0
    faults: list[Fault] = []
    raw_faults = m.get("faults", [])
    if not isinstance(raw_faults, list):
        v.err((*path, "faults"), "'faults' must be a list")
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
            issue = _command_issue(cmd)
            if issue is not None:
                v.err((*fp, "command"), f"bad command '{cmd}': {issue}")
        faults.append(Fault(at, cmd))
    return Setup(
        brokers,
        controllers,
        seed,
        v.config(m, path, "broker_config"),
        tuple(topics),
        tuple(commands),
        run_ms,
        tuple(sorted(faults, key=lambda f: f.at_ms)),
    )


def _parse_question(v: _V, raw: Any, path: tuple[str | int, ...]) -> Question | None:
    m = v.mapping(raw, path, "a question")
    if m is None:
        return None
    v.unknown_keys(m, path, ("prompt", "choices", "answer", "explain"), "a question")
    prompt = v.text(m, path, "prompt", "a question")
    choices = v.strings(m, path, "choices", required=True)
    answer = v.text(m, path, "answer", "a question")
    explain = v.text(m, path, "explain", "a question")
    if choices and len(choices) < 2:
        v.err((*path, "choices"), "a question needs at least two choices")
    if answer and choices and answer not in choices:
        v.err((*path, "answer"), f"the answer '{answer}' is not one of the choices")
    return Question(prompt, tuple(choices), answer, explain)


def _parse_step(v: _V, raw: Any, i: int) -> Step | None:
    path: tuple[str | int, ...] = ("steps", i)
    m = v.mapping(raw, path, f"step {i + 1}")
    if m is None:
        return None
    v.unknown_keys(m, path, ("title", "text", "goals", "hints", "question", "solution"), "a step")
    title = v.text(m, path, "title", f"step {i + 1}")
    text = v.text(m, path, "text", f"step {i + 1}")
    goals: list[Goal] = []
    raw_goals = m.get("goals", [])
    if not isinstance(raw_goals, list):
        v.err((*path, "goals"), "'goals' must be a list")
        raw_goals = []
    for j, g in enumerate(raw_goals):
        try:
            goals.append(parse_goal(g))
        except GoalError as e:
            v.err((*path, "goals", j, *e.path), e.message)
    hints = v.strings(m, path, "hints")
    question = _parse_question(v, m["question"], (*path, "question")) if "question" in m else None
    solution = v.strings(m, path, "solution")
    if raw_goals and "solution" not in m:
        v.err(path, f"step {i + 1} has goals but no 'solution' (the commands that reach them)")
    _check_commands(v, solution, (*path, "solution"))
    return Step(title, text, tuple(goals), tuple(hints), question, tuple(solution))


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
    v.unknown_keys(m, (), ("id", "title", "level", "concepts", "summary", "setup", "steps"), "a lesson")
    lid = v.text(m, (), "id", "the lesson")
    if lid and not _ID_RX.fullmatch(lid):
        v.err(("id",), f"id '{lid}' must be lowercase letters, digits and dashes")
    title = v.text(m, (), "title", "the lesson")
    level = v.text(m, (), "level", "the lesson")
    if level and level not in LEVELS:
        v.err(("level",), f"level must be one of {', '.join(LEVELS)}, not '{level}'")
    concepts = v.strings(m, (), "concepts", required=True)
    summary = v.text(m, (), "summary", "the lesson", required=False)
    if "setup" not in m:
        v.err((), "the lesson is missing the field 'setup'")
    setup = _parse_setup(v, m.get("setup", {}))
    steps: list[Step] = []
    raw_steps = m.get("steps")
    if raw_steps is None:
        v.err((), "the lesson is missing the field 'steps'")
    elif not isinstance(raw_steps, list) or not raw_steps:
        v.err(("steps",), "'steps' must be a non-empty list")
    else:
        for i, s in enumerate(raw_steps):
            step = _parse_step(v, s, i)
            if step is not None:
                steps.append(step)
    if raw_steps and isinstance(raw_steps, list) and not any(s.goals for s in steps) and not v.issues:
        v.err(("steps",), "the lesson has no goal to check")
    if v.issues:
        raise LessonError(v.issues)
    return Lesson(lid, title, level, tuple(concepts), setup, tuple(steps), summary)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def lesson_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or LESSONS_DIR).glob("*.yaml"))


def _read(path: Path) -> Lesson:
    name = _display(path)
    try:
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
    )


def load_lesson(id_or_path: str | Path, directory: Path | None = None) -> Lesson:
    """A lesson by id (from the lessons directory) or by path to its YAML file."""
    p = Path(id_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return _read(p)
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
    """Validate a lesson file or every lesson in a directory: (files checked, issues)."""
    target = path or LESSONS_DIR
    files = [target] if target.is_file() else lesson_files(target)
    issues: list[Issue] = []
    for f in files:
        try:
            _read(f)
        except LessonError as e:
            issues.extend(e.issues)
    return len(files), issues
