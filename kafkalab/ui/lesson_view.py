"""Read-only snapshots of a lesson for the lesson pane and the lesson browser.

Like :class:`~kafkalab.ui.view.LabView`, these are built by the app (which owns the :class:`LessonRun`) and
handed down; the widgets never touch the run. ``LessonEntry`` is one row of the lesson browser: a lesson
with its level, concepts and progress, or a broken lesson file with its ``file:line`` problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LessonEntry", "LessonView", "build_lesson_view", "list_lessons", "progress_text"]


@dataclass(frozen=True)
class LessonView:
    lesson_id: str
    title: str
    level: str
    #: 0-based index of the current step
    step_index: int
    step_count: int
    step_title: str
    step_text: str
    #: (goal text, reached) of the current step
    goals: tuple[tuple[str, bool], ...]
    #: the hints shown so far for this step, oldest first
    hints: tuple[str, ...]
    hints_total: int
    #: the predict-then-reveal question of the step: its prompt and choices (None when the step has none)
    question: str | None
    choices: tuple[str, ...]
    #: the choice the learner picked (None before), the right one, and the explanation once revealed
    picked: int | None
    answer_index: int
    explanation: str
    step_complete: bool
    finished: bool
    summary: str
    #: a line about saving progress ("progress saved" or why it could not be saved)
    saved: str


def build_lesson_view(run: Any, hints: tuple[str, ...], picked: int | None, saved: str) -> LessonView:
    """A snapshot of ``run`` (a :class:`~kafkalab.lessons.LessonRun`) and the pane's own state."""
    lesson = run.lesson
    step = run.current_step
    q = step.question
    answer_index = 0
    explanation = ""
    if q is not None:
        answer_index = q.choices.index(q.answer) if q.answer in q.choices else 0
        if picked is not None:
            explanation = " ".join(q.explain.split())
    return LessonView(
        lesson_id=lesson.id,
        title=lesson.title,
        level=lesson.level,
        step_index=run.step_index,
        step_count=len(lesson.steps),
        step_title=step.title,
        step_text=step.text.rstrip(),
        goals=tuple((g.description, g.reached) for g in run.goal_status()),
        hints=hints,
        hints_total=len(step.hints),
        question=q.prompt if q is not None else None,
        choices=tuple(q.choices) if q is not None else (),
        picked=picked,
        answer_index=answer_index,
        explanation=explanation,
        step_complete=run.step_complete,
        finished=run.finished,
        summary=lesson.summary,
        saved=saved,
    )


@dataclass(frozen=True)
class LessonEntry:
    """One row of the lesson browser."""

    #: the lesson id, or the file's stem for a broken file
    key: str
    title: str
    level: str
    concepts: tuple[str, ...]
    summary: str
    steps: int
    progress: str
    #: "new", "started" or "done" (for colouring), "broken" for a file that does not load
    state: str
    path: Path | None
    #: the file:line problems of a broken lesson file
    errors: tuple[str, ...] = ()
    lesson: Any = None


def progress_text(entry: dict[str, Any] | None, steps: int) -> tuple[str, str]:
    """(text, state) of a lesson's progress from its ProgressStore entry."""
    if not entry:
        return "not started", "new"
    if entry.get("completed"):
        return "completed", "done"
    done = int(entry.get("step", 0) or 0)
    if done <= 0:
        return "not started", "new"
    return f"in progress: step {min(done + 1, steps)} of {steps}", "started"


def list_lessons(directory: Path | None, store: Any) -> list[LessonEntry]:
    """Every lesson file of ``directory`` (default: the shipped lessons), broken ones included."""
    from kafkalab.lessons import LessonError
    from kafkalab.lessons.model import lesson_files, load_lesson

    try:
        saved = store.all() if store is not None else {}
    except Exception:  # progress must never keep the browser from opening
        saved = {}
    out: list[LessonEntry] = []
    for f in lesson_files(directory):
        try:
            lesson = load_lesson(f)
        except LessonError as e:
            out.append(
                LessonEntry(
                    key=f.stem,
                    title=f.name,
                    level="",
                    concepts=(),
                    summary="",
                    steps=0,
                    progress="broken",
                    state="broken",
                    path=f,
                    errors=tuple(str(i) for i in e.issues) or ("the file does not load",),
                )
            )
            continue
        text, state = progress_text(saved.get(lesson.id), len(lesson.steps))
        out.append(
            LessonEntry(
                key=lesson.id,
                title=lesson.title,
                level=lesson.level,
                concepts=tuple(lesson.concepts),
                summary=lesson.summary,
                steps=len(lesson.steps),
                progress=text,
                state=state,
                path=f,
                lesson=lesson,
            )
        )
    order = {"beginner": 0, "intermediate": 1, "advanced": 2}
    out.sort(key=lambda e: (e.state == "broken", order.get(e.level, 3), e.key))
    return out
