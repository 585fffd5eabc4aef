"""Read-only snapshots of a lesson for the lesson pane and the lesson browser.

Like :class:`~kafkalab.ui.view.LabView`, these are built by the app (which owns the :class:`LessonRun`) and
handed down; the widgets never touch the run. ``LessonEntry`` is one row of the lesson browser: a lesson
of the course with its number, part, level and progress, or a broken lesson file with its ``file:line``
problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkalab.lessons.course import progress_text

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
    #: the step's instructions ('' while a prediction must come first)
    step_text: str
    #: (goal text, reached now) of the current step (empty while a prediction must come first)
    goals: tuple[tuple[str, bool], ...]
    #: the hints shown so far for this step, oldest first
    hints: tuple[str, ...]
    hints_total: int
    #: the predict-then-reveal question of the step: its prompt and choices (None when the step has none)
    question: str | None
    choices: tuple[str, ...]
    #: the choice the learner picked (None before)
    picked: int | None
    answer_index: int
    #: the explanation, once the pick was made and the experiment showed the answer ('' before)
    explanation: str
    #: every goal of the step holds now
    step_complete: bool
    #: the last step is done (goals hold and its prediction was made)
    finished: bool
    summary: str
    #: a line about saving progress ("progress saved" or why it could not be saved)
    saved: str
    #: what keeps the step from being done, after a 'next' that failed (empty otherwise)
    unmet: tuple[str, ...] = ()
    #: the play key runs time in this step
    play: bool = False
    #: what the learner can do after the lesson (shown when it is complete)
    after: str = ""
    #: the next lesson of the course, as "id: title" ('' at the end of the course)
    next_lesson: str = ""

    @property
    def predicting(self) -> bool:
        """The step asks its question first: nothing else of the step is shown before the pick."""
        return self.question is not None and self.picked is None

    @property
    def revealed(self) -> bool:
        return bool(self.explanation)


def build_lesson_view(
    run: Any,
    hints: tuple[str, ...],
    picked: int | None,
    saved: str,
    unmet: tuple[str, ...] = (),
    next_lesson: str = "",
) -> LessonView:
    """A snapshot of ``run`` (a :class:`~kafkalab.lessons.LessonRun`) and the pane's own state."""
    lesson = run.lesson
    step = run.current_step
    q = step.question
    answer_index = 0
    explanation = ""
    predicting = q is not None and picked is None
    if q is not None:
        answer_index = q.choices.index(q.answer) if q.answer in q.choices else 0
        if picked is not None and run.explanation_visible:
            explanation = " ".join(q.explain.split())
    goals = () if predicting else tuple((g.description, g.reached) for g in run.goal_status())
    complete = bool(step.goals) and all(r for _t, r in goals) if not predicting else False
    return LessonView(
        lesson_id=lesson.id,
        title=lesson.title,
        level=lesson.level,
        step_index=run.step_index,
        step_count=len(lesson.steps),
        step_title=step.title,
        step_text="" if predicting else step.text.rstrip(),
        goals=goals,
        hints=hints,
        hints_total=len(step.hints),
        question=q.prompt if q is not None else None,
        choices=tuple(q.choices) if q is not None else (),
        picked=picked,
        answer_index=answer_index,
        explanation=explanation,
        step_complete=complete or (not step.goals and not predicting),
        finished=run.finished,
        summary=lesson.summary,
        saved=saved,
        unmet=unmet,
        play=step.play,
        after=getattr(lesson, "after", ""),
        next_lesson=next_lesson,
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
    #: the position in the course (1-based; 0 for a broken file) and the part of the course
    number: int = 0
    part: str = ""
    #: required lessons not completed yet
    missing: tuple[str, ...] = ()
    #: the lesson the course suggests next
    suggested: bool = False


def list_lessons(directory: Path | None, store: Any) -> list[LessonEntry]:
    """Every lesson of ``directory`` (default: the shipped lessons) in course order, broken files last."""
    from kafkalab.lessons import LessonError
    from kafkalab.lessons.course import course_entries, load_course, suggest_next
    from kafkalab.lessons.loader import lesson_files, load_lesson

    try:
        saved = store.all() if store is not None else {}
    except Exception:  # progress must never keep the browser from opening
        saved = {}
    lessons = []
    broken: list[LessonEntry] = []
    for f in lesson_files(directory):
        try:
            lessons.append(load_lesson(f))
        except LessonError as e:
            broken.append(
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
    course, _issues = load_course(directory)
    entries = course_entries(lessons, course, saved)
    nxt = suggest_next(entries)
    out = [
        LessonEntry(
            key=e.lesson.id,
            title=e.lesson.title,
            level=e.lesson.level,
            concepts=tuple(e.lesson.concepts),
            summary=e.lesson.summary,
            steps=len(e.lesson.steps),
            progress=e.progress,
            state=e.state,
            path=e.lesson.path,
            lesson=e.lesson,
            number=e.number,
            part=e.part,
            missing=e.missing,
            suggested=nxt is not None and e.lesson.id == nxt.lesson.id,
        )
        for e in entries
    ]
    return out + broken
