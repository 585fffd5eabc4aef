"""The lesson model: what a lesson file describes, as frozen dataclasses (see docs/writing-lessons.md).

The loader (:mod:`kafkalab.lessons.loader`) builds these from YAML and checks every limit and type, so
code that receives a :class:`Lesson` can trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .goals import Goal

__all__ = [
    "LESSONS_DIR",
    "LEVELS",
    "Fault",
    "Issue",
    "Lesson",
    "LessonError",
    "Path_",
    "Question",
    "Setup",
    "Step",
    "TopicSpec",
]

#: the lessons shipped with kafkalab
LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
LEVELS = ("beginner", "intermediate", "advanced")


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
    #: the cluster to create it on, in a lesson with several clusters (None: the first)
    cluster: str | None = None

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
    """A console command the lesson runs by itself once virtual time reaches ``at_ms`` after the setup."""

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
    #: several named clusters on one clock, ((name, brokers), ...); empty: one cluster of ``brokers``
    clusters: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Question:
    """Predict-then-reveal: asked before the step text, explained once the step's goals are reached."""

    prompt: str
    choices: tuple[str, ...]
    answer: str
    explain: str

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)


@dataclass(frozen=True)
class Path_:
    """A sequence of console lines a learner could type in a step: an alternative or a wrong path."""

    why: str
    commands: tuple[str, ...]
    #: the line of the path in its file (for ``lessons check`` messages)
    line: int = 0


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    goals: tuple[Goal, ...] = ()
    hints: tuple[str, ...] = ()
    question: Question | None = None
    solution: tuple[str, ...] = ()
    #: other ways to reach every goal of the step (``lessons check`` runs them)
    alternatives: tuple[Path_, ...] = ()
    #: plausible mistakes that must reach none of the step's goals (``lessons check`` runs them)
    wrong: tuple[Path_, ...] = ()
    #: the play key runs virtual time in this step (pausing by itself once the goals are reached)
    play: bool = False
    line: int = 0


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
    #: ids of the lessons to do before this one
    requires: tuple[str, ...] = ()
    #: what the learner can do now (shown when the lesson is complete)
    after: str = ""

    @property
    def goals(self) -> list[Goal]:
        return [g for s in self.steps for g in s.goals]

    @property
    def solution(self) -> list[str]:
        return [c for s in self.steps for c in s.solution]
