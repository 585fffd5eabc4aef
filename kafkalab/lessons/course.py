"""The course: the order in which lessons are suggested, in parts, with each learner's progress.

``lessons/course.yaml`` lists the parts of the course and their lessons in order; a lesson's own
``requires`` names the lessons it builds on, and the course must put those earlier. Lessons that are not
listed come after the course under "More lessons". ``kafkalab lessons list`` and the lesson browser show
the course with the learner's progress and suggest the next lesson: the first one not completed whose
required lessons are all completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import LESSONS_DIR, Issue, Lesson
from .yamlpos import YamlError, load_located

__all__ = [
    "COURSE_FILE",
    "Course",
    "CourseEntry",
    "CoursePart",
    "check_course",
    "course_entries",
    "load_course",
    "progress_text",
    "suggest_next",
]

COURSE_FILE = "course.yaml"
MORE = "More lessons"


@dataclass(frozen=True)
class CoursePart:
    title: str
    lessons: tuple[str, ...]


@dataclass(frozen=True)
class Course:
    parts: tuple[CoursePart, ...] = ()

    @property
    def order(self) -> list[str]:
        return [lid for p in self.parts for lid in p.lessons]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_course(directory: Path | None = None) -> tuple[Course, list[Issue]]:
    """The course of a lessons directory (an empty course if it has no course.yaml) and its problems."""
    path = (directory or LESSONS_DIR) / COURSE_FILE
    name = _display(path)
    if not path.exists():
        return Course(), []
    try:
        doc = load_located(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return Course(), [Issue(name, 1, f"cannot read the file: {e}")]
    except YamlError as e:
        return Course(), [Issue(name, e.line, e.message)]
    issues: list[Issue] = []
    raw = doc.value.get("parts") if isinstance(doc.value, dict) else None
    if not isinstance(raw, list) or not raw:
        return Course(), [Issue(name, 1, "the course needs 'parts:', a list of {title, lessons}")]
    parts: list[CoursePart] = []
    seen: set[str] = set()
    for i, p in enumerate(raw):
        line = doc.line(("parts", i))
        if not isinstance(p, dict) or set(p) != {"title", "lessons"}:
            issues.append(Issue(name, line, "a part of the course has exactly 'title' and 'lessons'"))
            continue
        title, ids = p["title"], p["lessons"]
        if not isinstance(title, str) or not title.strip():
            issues.append(Issue(name, line, "'title' must be non-empty text"))
            continue
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            issues.append(Issue(name, line, "'lessons' must be a list of lesson ids"))
            continue
        for j, lid in enumerate(ids):
            if lid in seen:
                issues.append(
                    Issue(name, doc.line(("parts", i, "lessons", j)), f"'{lid}' is in the course twice")
                )
            seen.add(lid)
        parts.append(CoursePart(title.strip(), tuple(ids)))
    return Course(tuple(parts)), issues


def check_course(directory: Path | None = None, lessons: list[Lesson] | None = None) -> list[Issue]:
    """Problems of the course: unknown ids, and lessons listed before a lesson they require."""
    from .loader import load_all

    d = directory or LESSONS_DIR
    course, issues = load_course(d)
    name = _display(d / COURSE_FILE)
    if lessons is None:
        lessons, _broken = load_all(d)
    by_id = {lesson.id: lesson for lesson in lessons}
    position = {lid: i for i, lid in enumerate(course.order)}
    for lid in course.order:
        if lid not in by_id and not (d / f"{lid}.yaml").exists():
            issues.append(Issue(name, 1, f"the course lists '{lid}', but there is no lesson {lid}.yaml"))
    for lesson in lessons:
        src = _display(lesson.path) if lesson.path is not None else lesson.id
        for req in lesson.requires:
            if req not in by_id and not (d / f"{req}.yaml").exists():
                issues.append(Issue(src, 1, f"requires '{req}', but there is no lesson {req}.yaml"))
            elif lesson.id in position and (req not in position or position[req] > position[lesson.id]):
                issues.append(
                    Issue(src, 1, f"requires '{req}', which the course must list before {lesson.id}")
                )
    return issues


def progress_text(entry: dict[str, Any] | None, steps: int) -> tuple[str, str]:
    """(text, state) of a lesson's progress from its ProgressStore entry; state: new, started or done."""
    if not entry:
        return "not started", "new"
    if entry.get("completed"):
        return "completed", "done"
    done = entry.get("step", 0)
    done = done if isinstance(done, int) and not isinstance(done, bool) else 0
    if done <= 0:
        return "not started", "new"
    return f"step {min(done + 1, steps)} of {steps}", "started"


@dataclass(frozen=True)
class CourseEntry:
    """One lesson in course order, with the learner's progress."""

    number: int
    part: str
    lesson: Lesson
    progress: str
    #: new, started or done
    state: str
    #: required lessons not completed yet
    missing: tuple[str, ...] = ()


def course_entries(
    lessons: list[Lesson], course: Course, saved: dict[str, dict[str, Any]]
) -> list[CourseEntry]:
    """Every lesson in course order (unlisted ones last, by level then id), numbered from 1."""
    by_id = {lesson.id: lesson for lesson in lessons}
    ordered: list[tuple[str, Lesson]] = []
    for part in course.parts:
        ordered += [(part.title, by_id[lid]) for lid in part.lessons if lid in by_id]
    listed = {lid for lid in course.order}
    levels = {"beginner": 0, "intermediate": 1, "advanced": 2}
    rest = sorted(
        (lesson for lesson in lessons if lesson.id not in listed),
        key=lambda x: (levels.get(x.level, 3), x.id),
    )
    ordered += [(MORE, lesson) for lesson in rest]
    done = {lid for lid, e in saved.items() if isinstance(e, dict) and e.get("completed")}
    out = []
    for n, (part, lesson) in enumerate(ordered, 1):
        text, state = progress_text(saved.get(lesson.id), len(lesson.steps))
        missing = tuple(r for r in lesson.requires if r not in done)
        out.append(CourseEntry(n, part, lesson, text, state, missing))
    return out


def suggest_next(entries: list[CourseEntry]) -> CourseEntry | None:
    """A lesson in progress, else the first one not completed whose requirements are done (else any)."""
    for e in entries:
        if e.state == "started":
            return e
    for e in entries:
        if e.state != "done" and not e.missing:
            return e
    return next((e for e in entries if e.state != "done"), None)
