"""Running a lesson's paths headless: every step's solution, alternatives and wrong paths.

For each step, a fresh run replays the earlier steps' solutions, then types the path. A solution or an
alternative must end with every goal of the step reached (and none of its commands may fail); a wrong path
must reach none of the step's goals at any moment (goals are checked after each of its commands). This
is what ``kafkalab lessons check`` and the test suite run for every lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .model import Issue, Lesson, LessonError, Path_
from .runner import LessonRun

__all__ = ["PathResult", "check_lesson_paths", "path_issues"]


@dataclass
class PathResult:
    step: int
    #: solution, alternative or wrong
    kind: str
    why: str
    line: int
    ok: bool
    #: the goals reached at the end (solution, alternative) or at any moment (wrong path)
    reached: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    def describe(self) -> str:
        what = "the solution" if self.kind == "solution" else f"{self.kind} path '{self.why}'"
        if self.ok:
            return f"step {self.step + 1}: {what} passes"
        parts = []
        if self.errors:
            parts.append(self.errors[0])
        if self.kind == "wrong" and self.reached:
            parts.append("it reached a goal: " + self.reached[0])
        if self.kind != "wrong" and self.missed:
            parts.append("goal not reached: " + "; ".join(self.missed))
        return f"step {self.step + 1}: {what} fails: " + "; ".join(parts)


def _type_path(run: LessonRun, res: PathResult, commands: tuple[str, ...]) -> None:
    """Type ``commands`` into ``run`` (at the step of ``res``) and judge them into ``res``."""
    goals = run.current_step.goals
    ever = [False] * len(goals)
    kind = res.kind
    if kind == "solution":  # a goal that already holds when the step begins proves nothing
        early = [st.description for st in run.goal_status() if st.reached]
        if early:
            res.errors.append(f"a goal already holds when the step begins: {early[0]}")
    for cmd in commands:
        r = run.execute(cmd)
        res.transcript.append(f"$ {cmd}")
        res.transcript += [f"  {x}" for x in r.lines[-4:]]
        if not r.ok:
            res.transcript.append(f"  ERROR: {r.error}")
            if kind != "wrong":
                res.errors.append(f"'{cmd}' failed: {r.error}")
        if kind == "wrong":
            for j, st in enumerate(run.goal_status()):
                ever[j] = ever[j] or st.reached
    final = run.goal_status()
    if kind == "wrong":
        for j, st in enumerate(final):
            ever[j] = ever[j] or st.reached
        res.reached = [g.text for g, hit in zip(goals, ever, strict=True) if hit]
        res.ok = not res.reached
    else:
        res.reached = [st.description for st in final if st.reached]
        res.missed = [st.description for st in final if not st.reached]
        res.ok = not res.missed and not res.errors


def _run_path(lesson: Lesson, step: int, kind: str, path: Path_) -> PathResult:
    """One alternative or wrong path: a fresh run, the earlier steps' solutions, then the path."""
    res = PathResult(step, kind, path.why, path.line, False)
    try:
        run = LessonRun.at_step(lesson, step, time_travel=False)  # paths never rewind
    except LessonError as e:
        res.errors.append(str(e))
        return res
    try:
        if run.step_index != step:
            res.errors.append(f"the earlier steps' solutions did not lead to step {step + 1}")
            return res
        _type_path(run, res, path.commands)
        return res
    finally:
        run.close()


def _run_solutions(lesson: Lesson) -> list[PathResult]:
    """Every step's solution in one run, step after step (what LessonRun.at_step replays)."""
    out: list[PathResult] = []
    try:
        run = LessonRun(lesson, time_travel=False)
    except LessonError as e:
        res = PathResult(0, "solution", "the reference solution", lesson.steps[0].line, False)
        res.errors.append(str(e))
        return [res]
    try:
        while True:
            step = run.current_step
            if step.goals:
                res = PathResult(run.step_index, "solution", "the reference solution", step.line, False)
                _type_path(run, res, step.solution)
                out.append(res)
            else:
                for line in step.solution:
                    run.execute(line)
            if step.question is not None:
                run.picks[run.step_index] = step.question.answer_index
            if not run.advance(force=True, save=False):
                return out
    finally:
        run.close()


def check_lesson_paths(lesson: Lesson, echo: Callable[[PathResult], None] | None = None) -> list[PathResult]:
    """Run every path of every step with goals; one result per path.

    The solutions run once, step after step; each alternative and wrong path gets a fresh run that
    replays the earlier steps' solutions first.
    """
    out: list[PathResult] = []
    solutions = {r.step: r for r in _run_solutions(lesson)}
    for i, step in enumerate(lesson.steps):
        if not step.goals:
            continue
        paths: list[tuple[str, Path_]] = [("alternative", p) for p in step.alternatives]
        paths += [("wrong", p) for p in step.wrong]
        results = [solutions[i]] if i in solutions else []
        results += [_run_path(lesson, i, kind, p) for kind, p in paths]
        for res in results:
            out.append(res)
            if echo is not None:
                echo(res)
    return out


def path_issues(lesson: Lesson, results: list[PathResult]) -> list[Issue]:
    """The failed paths as ``file:line: message`` issues."""
    name = str(lesson.path) if lesson.path is not None else lesson.id
    try:
        from pathlib import Path

        name = str(Path(name).resolve().relative_to(Path.cwd()))
    except ValueError:
        pass
    return [Issue(name, r.line, r.describe()) for r in results if not r.ok]
