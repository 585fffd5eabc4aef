"""Lessons: YAML files with a cluster setup, steps, goals checked against the run, hints and predictions.

>>> from kafkalab.lessons import LessonRun, load_lesson
>>> run = LessonRun(load_lesson("topics-partitions-offsets"))
>>> [g.reached for g in run.goal_status()]
[False, False]

A UI drives a :class:`LessonRun`: ``run.execute(line)`` for console lines (time moves only through them,
and through ``run.play(ms)`` in a step that asks for the play key), ``run.goal_status()`` and
``run.unmet()`` (re-evaluated from the run every time), ``run.hint()``, ``run.answer(i)`` /
``run.reveal()``, ``run.advance()``, and ``LessonRun.at_step`` to restart a step. The file format is
described in docs/writing-lessons.md.
"""

from __future__ import annotations

from .course import Course, CourseEntry, course_entries, load_course, suggest_next
from .goals import PREDICATES, Goal, GoalContext
from .loader import check_path, load_all, load_lesson, parse_lesson
from .model import LESSONS_DIR, Issue, Lesson, LessonError, Path_, Question, Step
from .paths import PathResult, check_lesson_paths, path_issues
from .progress import ProgressStore, data_dir
from .runner import GoalStatus, LessonRun, SolveReport

__all__ = [
    "LESSONS_DIR",
    "PREDICATES",
    "Course",
    "CourseEntry",
    "Goal",
    "GoalContext",
    "GoalStatus",
    "Issue",
    "Lesson",
    "LessonError",
    "LessonRun",
    "PathResult",
    "Path_",
    "ProgressStore",
    "Question",
    "SolveReport",
    "Step",
    "check_lesson_paths",
    "check_path",
    "course_entries",
    "data_dir",
    "load_all",
    "load_course",
    "load_lesson",
    "parse_lesson",
    "path_issues",
    "suggest_next",
]
