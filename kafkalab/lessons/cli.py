"""``kafkalab lessons list|check [PATH]`` and ``kafkalab lesson ID [--headless --solve]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parsers", "format_course", "run_lesson", "run_lessons"]

_MARK = {"done": "✓", "started": "◐", "new": "○"}


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lessons = sub.add_parser(
        "lessons",
        help="browse the course (on a terminal; 'list' prints it), or check lesson files for mistakes",
    )
    lessons.add_argument(
        "--dir",
        metavar="PATH",
        help="a folder of lesson files (and its course.yaml) instead of the shipped ones",
    )
    lsub = lessons.add_subparsers(dest="lessons_command", metavar="ACTION")
    listing = lsub.add_parser(
        "list", help="the course in order, with your progress and the lesson to do next"
    )
    listing.add_argument("--dir", metavar="PATH", default=argparse.SUPPRESS, help="a folder of lesson files")
    check = lsub.add_parser(
        "check",
        help="validate lesson files and run every step's solution, alternative and wrong paths; "
        "prints file:line: problem for each",
    )
    check.add_argument("path", nargs="?", help="a lesson file or a directory (default: the shipped lessons)")
    check.add_argument(
        "--no-run", action="store_true", help="only read the files; do not run their paths (fast)"
    )
    check.add_argument("-v", "--verbose", action="store_true", help="print every path as it runs")
    check.add_argument("--dir", metavar="PATH", default=argparse.SUPPRESS, help="a folder of lesson files")
    lesson = sub.add_parser("lesson", help="open a lesson")
    lesson.add_argument("id", help="lesson id (see 'kafkalab lessons list') or path to a lesson file")
    lesson.add_argument("--dir", metavar="PATH", help="the folder the lesson id is in (and F9 shows)")
    lesson.add_argument("--headless", action="store_true", help="no screen: print to the terminal")
    lesson.add_argument(
        "--solve", action="store_true", help="run the reference solution and check every goal"
    )


def format_course(entries: list[Any], width: int = 80) -> list[str]:
    """The course as lines of at most ``width`` columns: parts, numbered lessons, marks, progress."""
    from .course import suggest_next

    done = sum(1 for e in entries if e.state == "done")
    lines = [f"The kafkalab course: {done} of {len(entries)} lessons completed"]
    part = None
    idw = max((len(e.lesson.id) for e in entries), default=10)
    for e in entries:
        if e.part != part:
            part = e.part
            lines += ["", part]
        row = f"{e.number:>3} {_MARK.get(e.state, ' ')} {e.lesson.id:<{idw}}  {e.lesson.title}"
        suffix = f"  {e.progress.removeprefix('step ').replace(' of ', '/')}" if e.state == "started" else ""
        if len(row) + len(suffix) > width:
            row = row[: width - len(suffix) - 1] + "…"
        lines.append(row + suffix)
    lines += ["", "✓ completed  ◐ started (step N/steps)  ○ not started"]
    nxt = suggest_next(entries)
    if nxt is None:
        lines.append("Every lesson is completed. The sandbox is yours: kafkalab sandbox")
    else:
        verb = "continue" if nxt.state == "started" else "next"
        lines.append(f"{verb}: kafkalab lesson {nxt.lesson.id}")
    return lines


def _check_one(lesson: Any, verbose: bool) -> tuple[int, list[Any]]:
    """Run every path of one lesson: (paths run, the failed ones as issues)."""
    from .paths import check_lesson_paths, path_issues

    def echo(r: Any) -> None:
        if verbose:
            print(f"{lesson.id}: {r.describe()}", file=sys.stderr, flush=True)

    results = check_lesson_paths(lesson, echo)
    return len(results), path_issues(lesson, results)


def _check_file(path: str, verbose: bool) -> tuple[int, list[Any]]:
    """:func:`_check_one` for the lesson in ``path`` (what a worker process runs)."""
    from .loader import load_lesson

    return _check_one(load_lesson(Path(path)), verbose)


def _check(target: Path, run_paths: bool, verbose: bool) -> int:
    from ..scratch import use_fast_scratch
    from .loader import check_path, load_all, load_lesson
    from .model import LessonError

    use_fast_scratch()  # the paths' sessions are thrown away: their files go to tmpfs when there is room
    n, issues = check_path(target)
    for issue in issues:
        print(issue)
    bad_files = {i.file for i in issues}
    if run_paths:
        if target.is_file():
            try:
                lessons = [load_lesson(target)]
            except LessonError:
                lessons = []
        else:
            lessons, _broken = load_all(target)
        total = 0
        for runs, found in _run_checks(lessons, verbose):
            total += runs
            for issue in found:
                print(issue)
                bad_files.add(issue.file)
            issues += found
        print(f"{total} paths run", file=sys.stderr)
    print(f"{n} lesson file{'s' if n != 1 else ''} checked, {len(bad_files)} with problems", file=sys.stderr)
    return 1 if issues else 0


def _run_checks(lessons: list[Any], verbose: bool) -> list[tuple[int, list[Any]]]:
    """Each lesson's paths, in the lessons' order; on several cores the lessons run in worker processes
    (each lesson's runs are independent simulations, so the results are the same either way)."""
    import os

    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, len(lessons))
    files = [lesson.path for lesson in lessons]
    if workers < 2 or any(f is None for f in files):
        return [_check_one(lesson, verbose) for lesson in lessons]
    import multiprocessing

    # forked workers start at once with everything imported; elsewhere the platform's default start method.
    # Leaving the pool terminates its workers, also when SIGTERM or Ctrl-C ends the check (main() turns
    # SIGTERM into SystemExit): no worker outlives the command.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with context.Pool(processes=workers, initializer=_quiet_worker) as pool:
        return pool.starmap(_check_file, [(str(f), verbose) for f in files])


def _quiet_worker() -> None:
    """A check worker dies at once on SIGTERM (the pool's terminate) and leaves Ctrl-C to the parent."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_lessons(args: argparse.Namespace) -> int:
    from .course import course_entries, load_course
    from .loader import load_all
    from .model import LESSONS_DIR
    from .progress import ProgressStore

    action = getattr(args, "lessons_command", None)
    directory = Path(args.dir) if getattr(args, "dir", None) else None
    if directory is not None and not directory.is_dir():
        print(f"kafkalab: --dir {directory}: not a directory", file=sys.stderr)
        return 2
    if action is None and sys.stdin.isatty() and sys.stdout.isatty():
        try:
            from ..ui import app as ui_app
        except ImportError:
            ui_app = None  # type: ignore[assignment]
        browse = getattr(ui_app, "run_lessons_app", None)
        if callable(browse):  # the lesson browser, in the lab
            return int(browse(ProgressStore(), lessons_dir=directory) or 0)
    action = action or "list"
    if action == "check":
        target = Path(args.path) if args.path else directory or LESSONS_DIR
        if not target.exists():
            print(f"kafkalab: {target}: no such file or directory", file=sys.stderr)
            return 2
        return _check(target, not args.no_run, args.verbose)
    lessons, issues = load_all(directory)
    course, course_issues = load_course(directory)
    entries = course_entries(lessons, course, ProgressStore().all())
    for line in format_course(entries):
        print(line)
    for issue in issues + course_issues:
        print(f"broken lesson: {issue}", file=sys.stderr)
    return 1 if issues or course_issues else 0


def run_lesson(args: argparse.Namespace) -> int:
    from .loader import load_lesson
    from .model import LessonError
    from .runner import LessonRun

    directory = Path(args.dir) if getattr(args, "dir", None) else None
    try:
        lesson = load_lesson(args.id, directory)
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

    if directory is not None:
        return int(open_lesson(lesson, ProgressStore(), lessons_dir=directory) or 0)
    return int(open_lesson(lesson, ProgressStore()) or 0)
