"""Lessons: YAML files with a cluster setup, steps, goals checked live, hints, questions and a solution.

>>> from kafkalab.lessons import LessonRun, load_lesson
>>> run = LessonRun(load_lesson("topics-partitions-offsets"))
>>> [g.reached for g in run.goal_status()]
[False, False]

A UI drives a :class:`LessonRun`: ``run.execute(line)`` for console lines, ``run.tick(ms)`` (or
``run.session.tick`` then ``run.check()``) as time passes, ``run.goal_status()``, ``run.hint()``,
``run.question`` / ``run.reveal()``, ``run.advance()``.
"""

from __future__ import annotations

from .goals import PREDICATES, Goal, GoalContext
from .model import (
    LESSONS_DIR,
    Issue,
    Lesson,
    LessonError,
    Question,
    Step,
    check_path,
    load_all,
    load_lesson,
    parse_lesson,
)
from .progress import ProgressStore, data_dir
from .runner import GoalStatus, LessonRun, SolveReport

__all__ = [
    "LESSONS_DIR",
    "PREDICATES",
    "Goal",
    "GoalContext",
    "GoalStatus",
    "Issue",
    "Lesson",
    "LessonError",
    "LessonRun",
    "ProgressStore",
    "Question",
    "SolveReport",
    "Step",
    "check_path",
    "data_dir",
    "load_all",
    "load_lesson",
    "parse_lesson",
]
