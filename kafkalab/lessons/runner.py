"""Running a lesson: build its cluster, execute console lines, drive time, check goals, solve it headless."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..commands import CommandResult, LabSession, execute
from ..commands.parsing import CommandError, split_line
from .goals import GoalContext
from .model import Lesson, LessonError, Step
from .progress import ProgressStore
from .verbs import VERB_USAGE, run_verb

__all__ = ["CHUNK_MS", "GoalStatus", "LessonRun", "SolveReport"]

#: goals are checked (and scheduled faults fired) at least this often while time runs
CHUNK_MS = 100


def _lesson_verb(session: LabSession, line: str) -> CommandResult:
    return run_verb(session, session.extension_state, line)


@dataclass(frozen=True)
class GoalStatus:
    description: str
    reached: bool


@dataclass
class SolveReport:
    lines: list[str]
    statuses: list[tuple[int, GoalStatus]]

    @property
    def ok(self) -> bool:
        return all(s.reached for _i, s in self.statuses)


class LessonRun:
    """One learner going through one lesson.

    Call :meth:`execute` for each console line (it runs lesson verbs too), :meth:`tick` (or the session's
    own ``tick`` followed by :meth:`check`) as time passes. Goals of the current step are *latched*: once
    reached they stay reached. :meth:`advance` moves on when the step is complete.
    """

    def __init__(self, lesson: Lesson, *, progress: ProgressStore | None = None) -> None:
        self.lesson = lesson
        self.progress = progress
        s = lesson.setup
        self.session = LabSession(
            brokers=s.brokers,
            seed=s.seed,
            controllers=s.controllers,
            broker_config=dict(s.broker_config) or None,
        )
        for verb in VERB_USAGE:  # lesson verbs run (and replay after a rewind) as session actions
            self.session.verbs[verb] = _lesson_verb
        self.ctx = GoalContext(self.session)
        self.step_index = 0
        self._reached: list[list[bool]] = [[False] * len(st.goals) for st in lesson.steps]
        self._hint_index = 0
        self.revealed = False
        self._fault_fired = [False] * len(s.faults)
        self._generation = self.session.generation
        self.setup_errors: list[str] = []
        for t in s.topics:
            self._setup_line(t.command())
        for line in s.commands:
            self._setup_line(line)
        if s.run_ms:
            self.session.tick(s.run_ms)
        self.start_ms = self.session.now_ms
        self._capture_baseline()
        if progress is not None:
            saved = progress.get(lesson.id)
            if saved is not None and not saved.get("completed"):
                self.resume_step = int(saved.get("step", 0))
            else:
                self.resume_step = 0
        else:
            self.resume_step = 0

    def _setup_line(self, line: str) -> None:
        r = self._run_line(line)
        if not r.ok:
            self.setup_errors.append(f"setup command '{line}' failed: {r.error}")
            from .model import Issue

            raise LessonError([Issue(str(self.lesson.path or self.lesson.id), 0, self.setup_errors[-1])])

    def _capture_baseline(self) -> None:
        c = self.session.cluster
        leaders = {}
        epochs = {}
        for t in c.topics():
            for p in c.describe_topic(t):
                leaders[(t, p.partition)] = p.leader
                epochs[(t, p.partition)] = p.leader_epoch
        self.ctx.baseline = {
            "leaders": leaders,
            "epochs": epochs,
            "controller": c.describe_cluster().controller_id,
        }

    # -- the current step ------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[Step, ...]:
        return self.lesson.steps

    @property
    def current_step(self) -> Step:
        return self.lesson.steps[self.step_index]

    @property
    def finished(self) -> bool:
        return self.step_index == len(self.lesson.steps) - 1 and self.step_complete

    @property
    def step_complete(self) -> bool:
        return all(self._reached[self.step_index])

    def goal_status(self, step: int | None = None) -> list[GoalStatus]:
        i = self.step_index if step is None else step
        return [
            GoalStatus(g.text, r) for g, r in zip(self.lesson.steps[i].goals, self._reached[i], strict=True)
        ]

    def check(self) -> list[GoalStatus]:
        """Fire due faults, evaluate the current step's unreached goals, return their status."""
        self._fire_faults()
        i = self.step_index
        for j, g in enumerate(self.lesson.steps[i].goals):
            if not self._reached[i][j] and g.evaluate(self.ctx):
                self._reached[i][j] = True
        return self.goal_status()

    def hint(self) -> str | None:
        hints = self.current_step.hints
        if not hints:
            return None
        h = hints[min(self._hint_index, len(hints) - 1)]
        self._hint_index += 1
        return h

    @property
    def question(self) -> object | None:
        return self.current_step.question

    def reveal(self) -> str:
        q = self.current_step.question
        if q is None:
            return ""
        self.revealed = True
        return f"{q.answer}. {q.explain}"

    def advance(self, force: bool = False) -> bool:
        """Go to the next step if this one is complete (or ``force``); False at the end or if incomplete."""
        if not (force or self.step_complete):
            return False
        if self.progress is not None:
            self.progress.record(self.lesson.id, self.step_index + 1, self.finished)
        if self.step_index + 1 >= len(self.lesson.steps):
            return False
        self.step_index += 1
        self._hint_index = 0
        self.revealed = False
        self.check()
        return True

    # -- time and commands -----------------------------------------------------------------------------
    def _fire_faults(self) -> None:
        s = self.session
        if s.generation != self._generation:  # rewound: faults before now were replayed as actions
            self._generation = s.generation
            self._fault_fired = [self.start_ms + f.at_ms < s.now_ms for f in self.lesson.setup.faults]
        for k, f in enumerate(self.lesson.setup.faults):
            if not self._fault_fired[k] and s.now_ms >= self.start_ms + f.at_ms:
                self._fault_fired[k] = True
                r = execute(s, f.command)
                s._w.emit(
                    f"[lesson] scheduled fault at t={s.now_ms} ms: {f.command}"
                    + ("" if r.ok else f" ({r.error})")
                )

    def tick(self, ms: int) -> None:
        """Let ``ms`` of virtual time pass, checking goals and firing faults every ``CHUNK_MS``."""
        left = int(ms)
        while left > 0:
            step = min(CHUNK_MS, left)
            nxt = self._next_fault_ms()
            if nxt is not None and nxt > self.session.now_ms:
                step = min(step, nxt - self.session.now_ms)
            self.session.tick(step)
            left -= step
            self.check()

    def _next_fault_ms(self) -> int | None:
        times = [
            self.start_ms + f.at_ms
            for k, f in enumerate(self.lesson.setup.faults)
            if not self._fault_fired[k]
        ]
        return min(times) if times else None

    def _run_line(self, line: str) -> CommandResult:
        text = line.strip()
        if self.session.input_mode is None and text and not text.startswith("#"):
            try:
                tokens = split_line(text)
            except CommandError:
                tokens = []
            if tokens and tokens[0] == "run" and len(tokens) == 2:
                from ..commands.lab import parse_duration

                try:
                    ms = parse_duration(tokens[1], "run")
                except CommandError:
                    ms = -1
                if 0 < ms <= 24 * 3_600_000:
                    self.tick(ms)
                    return CommandResult(
                        True, [f"ran {ms} ms of virtual time; now t={self.session.now_ms} ms"]
                    )
        return execute(self.session, line)

    def execute(self, line: str) -> CommandResult:
        """Run one console line (Kafka tools, lab verbs, lesson verbs), then check the goals."""
        r = self._run_line(line)
        if r.ok:
            self.ctx.commands.append(line.strip())
        self.check()
        return r

    # -- headless ----------------------------------------------------------------------------------------
    def solve(self, echo: Callable[[str], None] | None = None) -> SolveReport:
        """Run every step's reference solution, checking goals as time passes; report every goal."""
        out: list[str] = []

        def say(text: str) -> None:
            out.append(text)
            if echo is not None:
                echo(text)

        statuses: list[tuple[int, GoalStatus]] = []
        say(f"lesson {self.lesson.id}: {self.lesson.title}")
        while True:
            i = self.step_index
            step = self.current_step
            say(f"step {i + 1}/{len(self.steps)}: {step.title}")
            for line in step.solution:
                prompt = ">" if self.session.input_mode else "$"
                say(f"  {prompt} {line}")
                _out, mark = self.session.read_output(0)
                r = self.execute(line)
                for x in r.lines[-8:]:
                    say(f"      {x}")
                printed, _n = self.session.read_output(mark)
                for x in printed[-6:]:
                    say(f"      | {x}")
                if not r.ok:
                    say(f"      ERROR: {r.error}")
            self.check()
            for st in self.goal_status():
                say(f"  [{'x' if st.reached else ' '}] {st.description}")
                statuses.append((i, st))
            if not self.advance(force=True):
                break
        n = sum(1 for _i, s in statuses if s.reached)
        say(f"{n} of {len(statuses)} goals reached")
        return SolveReport(out, statuses)

    def close(self) -> None:
        self.session.close()
