"""``kafkalab lessons list|check [PATH]`` and ``kafkalab lesson ID [--headless --solve]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parsers", "run_lesson", "run_lessons"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lessons = sub.add_parser(
        "lessons",
        help="browse the lessons (on a terminal; 'list' prints them), or check lesson files for mistakes",
    )
    lsub = lessons.add_subparsers(dest="lessons_command", metavar="ACTION")
    lsub.add_parser("list", help="list the lessons with their level and your progress")
    check = lsub.add_parser("check", help="validate lesson files; prints file:line: problem for each")
    check.add_argument("path", nargs="?", help="a lesson file or a directory (default: the shipped lessons)")
    lesson = sub.add_parser("lesson", help="open a lesson")
    lesson.add_argument("id", help="lesson id (see 'kafkalab lessons list') or path to a lesson file")
    lesson.add_argument("--headless", action="store_true", help="no screen: print to the terminal")
    lesson.add_argument(
        "--solve", action="store_true", help="run the reference solution and check every goal"
    )


def run_lessons(args: argparse.Namespace) -> int:
    from .model import LESSONS_DIR, check_path, load_all
    from .progress import ProgressStore

    action = getattr(args, "lessons_command", None)
    if action is None and sys.stdin.isatty() and sys.stdout.isatty():
        try:
            from ..ui import app as ui_app
        except ImportError:
            ui_app = None  # type: ignore[assignment]
        browse = getattr(ui_app, "run_lessons_app", None)
        if callable(browse):  # the lesson browser, in the lab
            return int(browse(ProgressStore()) or 0)
    action = action or "list"
    if action == "check":
        target = Path(args.path) if args.path else LESSONS_DIR
        if not target.exists():
            print(f"kafkalab: {target}: no such file or directory", file=sys.stderr)
            return 2
        n, issues = check_path(target)
        for issue in issues:
            print(issue)
        bad = len({i.file for i in issues})
        print(f"{n} lesson file{'s' if n != 1 else ''} checked, {bad} with problems", file=sys.stderr)
        return 1 if issues else 0
    lessons, issues = load_all()
    done = ProgressStore().all()
    for lesson in lessons:
        p = done.get(lesson.id, {})
        mark = "done" if p.get("completed") else (f"step {p.get('step')}" if p.get("step") else "")
        print(f"{lesson.id:<34} {lesson.level:<13} {lesson.title}  {mark}".rstrip())
    for issue in issues:
        print(f"broken lesson: {issue}", file=sys.stderr)
    return 1 if issues else 0


def run_lesson(args: argparse.Namespace) -> int:
    from .model import LessonError, load_lesson
    from .runner import LessonRun

    try:
        lesson = load_lesson(args.id)
    except LessonError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return 2
    if args.headless:
        if not args.solve:
            print(
                "kafkalab: --headless needs --solve (a lesson without a screen can only run its solution)",
                file=sys.stderr,
            )
            return 2
        try:
            run = LessonRun(lesson)
        except LessonError as e:
            for issue in e.issues:
                print(issue, file=sys.stderr)
            return 2
        try:
            report = run.solve(echo=print)
        finally:
            run.close()
        return 0 if report.ok else 1
    try:
        from ..ui import app as ui_app
    except ImportError:
        ui_app = None  # type: ignore[assignment]
    open_lesson = getattr(ui_app, "run_lesson_app", None)
    if not callable(open_lesson):
        print(
            "kafkalab: the lesson screen is not built yet; try "
            f"'kafkalab lesson {lesson.id} --headless --solve'",
            file=sys.stderr,
        )
        return 1
    from .progress import ProgressStore

    return int(open_lesson(lesson, ProgressStore()) or 0)
