"""Running a lesson: build its cluster, execute console lines, check goals, follow rewinds, solve headless.

The lesson time model: virtual time moves only because of what the learner does. A console command runs
the cluster until its effect is visible (``produce`` waits for the acknowledgement), ``run 15s`` for a
stated time, ``wait-for leader-change payments-0`` until something happened, and the play key only in a
step whose ``play`` is true (then :meth:`LessonRun.play` stops by itself once the step's goals hold, at
a 100 ms boundary of virtual time, so how fast the wall clock runs never changes the result). Reading
slowly therefore never changes the cluster: the same commands give the same run.

Goals are facts about the run, evaluated again after every action and every rewind (never latched). A
rewind that goes back before the start of the current step takes the lesson back to the step that was
running then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..commands import CommandResult, LabSession, execute
from ..commands.parsing import CommandError, split_line
from .goals import GoalContext
from .model import Issue, Lesson, LessonError, Question, Step
from .progress import ProgressStore
from .verbs import VERB_HELP, VERB_USAGE, run_verb

__all__ = ["PLAY_GRAIN_MS", "PLAY_LIMIT_MS", "GoalStatus", "LessonRun", "SolveReport"]

#: while the play key runs time, goals are checked at every multiple of this many virtual ms
PLAY_GRAIN_MS = 100
#: ``play`` in a headless path stops after this much virtual time if the goals never hold
PLAY_LIMIT_MS = 600_000


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

    Call :meth:`execute` for each console line (it runs lesson verbs too). Goals are re-evaluated from the
    run whenever they are asked for (:meth:`goal_status`); :meth:`advance` moves on when the current step's
    goals hold now and its question (if any) was answered.
    """

    def __init__(
        self, lesson: Lesson, *, progress: ProgressStore | None = None, time_travel: bool = True
    ) -> None:
        """``time_travel=False``: no checkpoints (a rewind would replay from the seed); for headless runs
        that never rewind, such as ``lessons check``, where checkpoints would cost a fifth of the time."""
        self.lesson = lesson
        self.progress = progress
        s = lesson.setup
        self.session = LabSession(
            brokers=s.brokers,
            seed=s.seed,
            controllers=s.controllers,
            broker_config=dict(s.broker_config) or None,
            clusters=list(s.clusters) or None,
        )
        if not time_travel:
            self.session.travel.enabled = False
            self.session.travel.disabled_reason = "a headless lesson check"
        for verb in VERB_USAGE:  # lesson verbs run (and replay after a rewind) as session actions
            self.session.verbs[verb] = _lesson_verb
            self.session.verb_help[verb] = list(VERB_HELP[verb])
        #: goals without a 'cluster' look at the first cluster, whichever one the console is on
        self.ctx = GoalContext(self.session, cluster_name=s.clusters[0][0] if s.clusters else None)
        self.step_index = 0
        #: the learner's pick per step that has a question (index into its choices)
        self.picks: dict[int, int] = {}
        #: steps whose explanation was shown (the pick was made and the goals held at the same time)
        self.explained: set[int] = set()
        self._hint_index = 0
        self._fault_fired = [False] * len(s.faults)
        #: (events after, line) of every accepted console line, for ran_command goals and rewinds
        self._commands: list[tuple[int, str]] = []
        self._cache_key: tuple[Any, ...] | None = None
        self._cache: list[GoalStatus] = []
        self.setup_errors: list[str] = []
        home = s.clusters[0][0] if s.clusters else None
        on = home
        for t in s.topics:
            where = t.cluster or home
            if where != on:
                self._setup_line(f"use-cluster {where}")
                on = where
            self._setup_line(t.command())
        if on != home:
            self._setup_line(f"use-cluster {home}")
        for line in s.commands:
            self._setup_line(line)
        if s.run_ms:
            self.session.tick(s.run_ms)
        self.start_ms = self.session.now_ms
        #: session.events when each step reached so far began (the lesson follows rewinds with it)
        self.step_starts: list[int] = [self.session.events]
        self._generation = self.session.generation
        self._capture_baseline()
        self.resume_step = 0
        if progress is not None:
            saved = progress.get(lesson.id)
            if saved is not None and not saved.get("completed"):
                self.resume_step = max(0, min(int(saved.get("step", 0)), len(lesson.steps) - 1))

    @classmethod
    def at_step(
        cls, lesson: Lesson, step: int, *, progress: ProgressStore | None = None, time_travel: bool = True
    ) -> LessonRun:
        """A fresh run at ``step``: the earlier steps' reference solutions replayed (deterministically)."""
        run = cls(lesson, progress=progress, time_travel=time_travel)
        target = max(0, min(int(step), len(lesson.steps) - 1))
        while run.step_index < target:
            for line in run.current_step.solution:
                run.execute(line)
            q = run.current_step.question
            if q is not None and run.step_index not in run.picks:
                run.picks[run.step_index] = q.answer_index  # replayed, not the learner's: not saved
            if not run.advance(force=True, save=False):
                break
        return run

    def _setup_line(self, line: str) -> None:
        r = execute(self.session, line)
        if not r.ok:
            self.setup_errors.append(f"setup command '{line}' failed: {r.error}")
            raise LessonError([Issue(str(self.lesson.path or self.lesson.id), 0, self.setup_errors[-1])])

    def _capture_baseline(self) -> None:
        def of(c: Any) -> dict[str, Any]:
            leaders = {}
            epochs = {}
            for t in c.topics():
                for p in c.describe_topic(t):
                    leaders[(t, p.partition)] = p.leader
                    epochs[(t, p.partition)] = p.leader_epoch
            return {"leaders": leaders, "epochs": epochs, "controller": c.describe_cluster().controller_id}

        self.ctx.baseline = of(self.ctx.cluster)
        world = self.ctx.world
        if world is not None:  # several clusters: goals with 'cluster' compare with that cluster's start
            self.ctx.baseline["clusters"] = {name: of(c) for name, c in world.clusters.items()}

    # -- the current step ------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[Step, ...]:
        return self.lesson.steps

    @property
    def current_step(self) -> Step:
        return self.lesson.steps[self.step_index]

    @property
    def step_complete(self) -> bool:
        """Every goal of the current step holds now."""
        return all(g.reached for g in self.goal_status())

    @property
    def finished(self) -> bool:
        """The last step is done now: its goals hold and its question was answered."""
        return self.step_index == len(self.lesson.steps) - 1 and not self.unmet()

    def unmet(self) -> list[str]:
        """What keeps the current step from being done, as sentences (empty when it is done)."""
        out = [f"goal not reached: {g.description}" for g in self.goal_status() if not g.reached]
        if self.question is not None and self.picked is None:
            out.insert(0, "the prediction is not answered yet ('answer N')")
        return out

    def _key(self) -> tuple[Any, ...]:
        s = self.session
        k = s.cluster.kernel
        return (
            self.step_index,
            s.generation,
            s.events,
            s.now_ms,
            getattr(k, "_seq", 0),
            len(s.actions),
            len(self._commands),
        )

    def goal_status(self, step: int | None = None) -> list[GoalStatus]:
        """Each goal of a step (default: the current one) as it stands now."""
        self.sync()
        if step is not None and step != self.step_index:
            return [GoalStatus(g.text, g.evaluate(self.ctx)) for g in self.lesson.steps[step].goals]
        key = self._key()
        if key != self._cache_key:
            self._cache = [GoalStatus(g.text, g.evaluate(self.ctx)) for g in self.current_step.goals]
            self._cache_key = key
            if self.picked is not None and all(g.reached for g in self._cache):
                self.explained.add(self.step_index)
        return list(self._cache)

    def check(self) -> list[GoalStatus]:
        """Follow a rewind, fire due scheduled faults, and return the current step's goals as they are now."""
        self.sync()
        self._fire_faults()
        return self.goal_status()

    def hint(self) -> str | None:
        hints = self.current_step.hints
        if not hints:
            return None
        h = hints[min(self._hint_index, len(hints) - 1)]
        self._hint_index += 1
        return h

    # -- predict, then reveal ------------------------------------------------------------------------------
    @property
    def question(self) -> Question | None:
        return self.current_step.question

    @property
    def picked(self) -> int | None:
        return self.picks.get(self.step_index)

    def answer(self, index: int) -> bool:
        """Record the learner's prediction for the current step (once); True if it was recorded."""
        q = self.question
        if q is None or self.picked is not None or not 0 <= index < len(q.choices):
            return False
        self.picks[self.step_index] = index
        if self.progress is not None:
            self.progress.record_prediction(
                self.lesson.id, self.step_index, q.choices[index], index == q.answer_index
            )
        self._cache_key = None
        return True

    @property
    def explanation_visible(self) -> bool:
        """The explanation is shown once the learner predicted and the experiment made the answer visible."""
        self.goal_status()
        return self.step_index in self.explained

    def reveal(self) -> str:
        """The answer and its explanation ('' while it must stay hidden)."""
        q = self.question
        if q is None or not self.explanation_visible:
            return ""
        return f"{q.answer}. {q.explain}"

    @property
    def revealed(self) -> bool:
        return self.explanation_visible

    # -- moving between steps ----------------------------------------------------------------------------
    def advance(self, force: bool = False, *, save: bool = True) -> bool:
        """Go to the next step if this one is done (or ``force``); False at the end or if not done."""
        if not force and self.unmet():
            return False
        if self.progress is not None and save:
            last = self.step_index + 1 >= len(self.lesson.steps)
            self.progress.record(self.lesson.id, self.step_index + 1, last and not self.unmet())
        if self.step_index + 1 >= len(self.lesson.steps):
            return False
        self.step_index += 1
        del self.step_starts[self.step_index :]
        self.step_starts.append(self.session.events)
        self._hint_index = 0
        self._cache_key = None
        return True

    def sync(self) -> str | None:
        """Follow a rewind of the session; returns a sentence when the lesson went back to an earlier step.

        Commands typed after the new position are forgotten, scheduled faults after it will fire again, and
        if the position lies before the current step began, the lesson goes back to the step running then.
        """
        s = self.session
        if s.generation == self._generation:
            return None
        self._generation = s.generation
        self._cache_key = None
        events = s.events
        self._commands = [c for c in self._commands if c[0] <= events]
        self.ctx.commands = [line for _e, line in self._commands]
        self._fault_fired = [self.start_ms + f.at_ms < s.now_ms for f in self.lesson.setup.faults]
        before = self.step_index
        while self.step_index > 0 and self.step_starts[self.step_index] > events:
            self.step_index -= 1
        del self.step_starts[self.step_index + 1 :]
        if events < self.step_starts[0]:
            self._hint_index = 0
            return (
                "the rewind went back before the lesson's own set-up was complete: "
                "'restart-step' (F8) builds the lesson's cluster again"
            )
        if self.step_index != before:
            self._hint_index = 0
            return (
                f"the rewind went back before step {before + 1} began: the lesson is back at step "
                f"{self.step_index + 1}, {self.current_step.title}"
            )
        return None

    # -- time and commands -----------------------------------------------------------------------------
    def _fire_faults(self) -> None:
        s = self.session
        for k, f in enumerate(self.lesson.setup.faults):
            if not self._fault_fired[k] and s.now_ms >= self.start_ms + f.at_ms:
                self._fault_fired[k] = True
                r = execute(s, f.command)
                s._w.emit(
                    f"[lesson] scheduled fault at t={s.now_ms} ms: {f.command}"
                    + ("" if r.ok else f" ({r.error})")
                )

    def _next_fault_ms(self) -> int | None:
        times = [
            self.start_ms + f.at_ms
            for k, f in enumerate(self.lesson.setup.faults)
            if not self._fault_fired[k]
        ]
        return min(times) if times else None

    def tick(self, ms: int) -> None:
        """Let ``ms`` of virtual time pass, firing the lesson's scheduled faults when their time comes."""
        self.sync()
        end = self.session.now_ms + max(0, int(ms))
        while True:
            self._fire_faults()
            nxt = self._next_fault_ms()
            stop = end if nxt is None or nxt > end else nxt
            if stop > self.session.now_ms:
                self.session.tick(stop - self.session.now_ms)
            if stop >= end:
                break
        self._fire_faults()

    def play(self, ms: int) -> bool:
        """The play key in a step that asks for it: run up to ``ms`` of virtual time, stopping at the first
        multiple of :data:`PLAY_GRAIN_MS` where every goal of the step holds. True if it stopped there.

        Goals are judged only at those fixed points of virtual time, so the point where play stops does not
        depend on how the wall clock sliced the time into ticks.
        """
        self.sync()
        if not self.current_step.play:
            return False
        end = self.session.now_ms + max(0, int(ms))
        if self.session.now_ms % PLAY_GRAIN_MS == 0 and self.step_complete:
            return True
        while self.session.now_ms < end:
            boundary = (self.session.now_ms // PLAY_GRAIN_MS + 1) * PLAY_GRAIN_MS
            self.tick(min(boundary, end) - self.session.now_ms)
            if self.session.now_ms == boundary and self.step_complete:
                return True
        return False

    def _time_command(self, text: str) -> CommandResult | None:
        """``run``, ``wait-for`` and ``play`` go through the lesson (faults fire on time); None: not one."""
        try:
            tokens = split_line(text)
        except CommandError:
            return None
        if not tokens:
            return None
        if tokens == ["play"]:
            if not self.current_step.play:
                return CommandResult(
                    False,
                    [],
                    "play: in this step time moves only with your commands (run 5s, wait-for ...)",
                )
            t0 = self.session.now_ms
            held = self.play(PLAY_LIMIT_MS)
            waited = self.session.now_ms - t0
            if held:
                return CommandResult(True, [f"played {waited} ms until the step's goals were reached"])
            return CommandResult(False, [], f"play: after {waited} ms the step's goals are still not reached")
        if tokens[0] == "run" and len(tokens) == 2:
            from .limits import duration_ms

            try:
                ms = duration_ms(tokens[1], "run")
            except ValueError:
                return None  # the command layer explains what is wrong
            if ms <= 0:
                return None
            self.tick(ms)
            return CommandResult(True, [f"ran {ms} ms of virtual time; now t={self.session.now_ms} ms"])
        if tokens[0] == "wait-for" and self._next_fault_ms() is not None:
            return self._wait_with_faults(tokens[1:])
        return None

    def _wait_with_faults(self, argv: list[str]) -> CommandResult:
        from ..commands.waitfor import finish_lines, parse_wait, run_wait

        try:
            wait = parse_wait(self.session, argv)
        except CommandError as e:
            return CommandResult(False, [], f"wait-for: {e}")
        t0 = self.session.now_ms
        end = t0 + wait.timeout_ms
        held = False
        while True:
            self._fire_faults()
            nxt = self._next_fault_ms()
            stop = end if nxt is None or nxt > end else nxt
            held, _w = run_wait(self.session, wait, max(0, stop - self.session.now_ms))
            if held or self.session.now_ms >= end:
                break
        try:
            return CommandResult(True, finish_lines(self.session, wait, held, self.session.now_ms - t0))
        except CommandError as e:
            return CommandResult(False, [], f"wait-for: {e}")

    def execute(self, line: str) -> CommandResult:
        """Run one console line (Kafka tools, lab verbs, lesson verbs, run/wait-for/play), as the learner."""
        self.sync()
        text = line.strip()
        r = None
        if self.session.input_mode is None and text and not text.startswith("#"):
            r = self._time_command(text)
        if r is None:
            r = execute(self.session, line)
        self.sync()
        if r.ok and text:
            self._commands.append((self.session.events, text))
            self.ctx.commands.append(text)
        self._fire_faults()
        self._cache_key = None
        return r

    # -- headless ----------------------------------------------------------------------------------------
    def solve(self, echo: Callable[[str], None] | None = None) -> SolveReport:
        """Run every step's reference solution; report every goal as it stands at the end of its step."""
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
            if step.question is not None:
                say(f"  predict: {step.question.prompt}")
                say(f"    -> {step.question.answer}")
                self.answer(step.question.answer_index)
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
