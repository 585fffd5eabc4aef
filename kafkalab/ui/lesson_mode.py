"""Lessons inside the lab app: the browser, the lesson pane, routing console lines through the lesson.

:class:`LessonHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`. While a lesson is open the app's
session is the :class:`~kafkalab.lessons.LessonRun`'s session and console lines go through ``run.execute``
(so lesson-only verbs work).

The lesson time model: the wall clock never moves a lesson's cluster. Virtual time passes only through
the learner's commands (``run 15s``, ``wait-for ...``, a ``produce`` waiting for its acknowledgement), or
through the play key in a step that asks for it; then :meth:`LessonRun.play` pauses by itself once the
step's goals hold. So however long the learner reads, the same commands give the same run.

Goals are facts of the run: after every command, rewind and tick the pane gets a new
:class:`~kafkalab.ui.lesson_view.LessonView` evaluated from the run as it is now.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.css.query import NoMatches

from ..commands.timetravel import count_work
from .lesson_view import LessonView, build_lesson_view, list_lessons
from .messages import ChoicePicked
from .screens.confirm import ConfirmScreen
from .screens.lessons import LessonBrowser
from .widgets.lesson_pane import LessonPane, reflow

__all__ = ["LESSON_BINDINGS", "LessonHost"]

LESSON_BINDINGS = [
    Binding(
        "f9,l",
        "lessons",
        "Lessons",
        key_display="F9",
        show=False,  # the 80-column footer is full; the console's first line and F1 mention it
        id="lab.lessons",
        tooltip="Browse the course and open a lesson (l when the console is not focused)",
    ),
    Binding(
        "f11,h",
        "lesson_hint",
        "Hint",
        key_display="F11",
        show=False,  # the pane names these keys where they matter; the footer is full at 80 columns
        id="lesson.hint",
        tooltip="Show the next hint of the lesson step (h when not typing; or type 'hint')",
    ),
    Binding(
        "f12,n",
        "lesson_next",
        "Next step",
        key_display="F12",
        show=False,  # the pane names these keys where they matter; the footer is full at 80 columns
        id="lesson.next",
        tooltip="Go on to the next lesson step once its goals are reached (n when not typing; or 'next')",
    ),
    Binding(
        "ctrl+o",
        "toggle_lesson_pane",
        "Lesson pane",
        key_display="^o",
        show=False,
        id="lesson.toggle-pane",
        tooltip="Show or hide the lesson pane (on small terminals it takes the place of the Log tabs)",
    ),
]

#: actions that only make sense while a lesson is open
_LESSON_ONLY = {"lesson_hint", "lesson_next", "toggle_lesson_pane"}
#: console words the app answers itself while a lesson is open (F-keys can be taken by the terminal)
_CONSOLE_WORDS = {
    "hint": "lesson_hint",
    "next": "lesson_next",
    "lessons": "lessons",
    "restart-step": "restart_step",
    "play": "toggle_play",
}
#: console commands that only look (allowed before the step's prediction is made)
_LOOKING = {"help", "status", "hint", "lessons"}


def _only_looks(line: str) -> bool:
    """Whether a console line only reads the cluster (describe, list, status, help)."""
    words = line.split()
    if not words:
        return True
    tool = words[0].rsplit("/", 1)[-1].removesuffix(".sh")
    if tool in _LOOKING:
        return True
    if tool in ("kafka-topics", "kafka-consumer-groups", "kafka-configs"):
        return ("--describe" in words or "--list" in words) and not (
            {"--alter", "--create", "--delete", "--reset-offsets"} & set(words)
        )
    if tool in ("connect", "schema-registry"):  # the platform's status lines
        return words[1:] == ["status"]
    if tool in ("cat", "wc"):  # files of the lab
        return True
    if (
        tool == "curl"
    ):  # a GET to Schema Registry or Connect reads; anything with a body or a method may write
        return not {"-X", "--request", "-d", "--data", "--data-raw", "--data-binary"} & set(words)
    return False


class LessonHost:
    """Lesson support of the lab app (a mixin: it uses the app's session, console and refresh)."""

    lesson_run: Any = None
    progress_store: Any = None
    lessons_dir: Path | None = None

    # -- set-up (called from the app) -------------------------------------------------------------------
    def _init_lessons(
        self,
        lesson: Any = None,
        progress: Any = None,
        lessons_dir: Path | None = None,
        open_browser: bool = False,
    ) -> None:
        """Build the lesson's run (raises LessonError if its setup fails) and make its session the app's."""
        self.progress_store = progress
        self.lessons_dir = lessons_dir
        self.open_browser = open_browser
        self.lesson_run = None
        self._lesson_hints: list[str] = []
        self._lesson_saved: str = ""
        self._lesson_saved_key: tuple[str, int, bool] | None = None
        self._lesson_replayed = 0
        self._lesson_view: LessonView | None = None
        self._lesson_unmet: tuple[str, ...] = ()
        self._lesson_nudged = False
        if lesson is not None:
            run = self._build_run(lesson, None)
            old = self.session  # type: ignore[has-type]
            self.session = run.session
            self.brokers, self.seed = lesson.setup.brokers, lesson.setup.seed
            if old is not None and old is not run.session and callable(getattr(old, "close", None)):
                old.close()

    def _store(self) -> Any:
        if self.progress_store is None:
            from kafkalab.lessons import ProgressStore

            self.progress_store = ProgressStore()
        return self.progress_store

    def _build_run(self, lesson: Any, at_step: int | None) -> Any:
        """A fresh LessonRun at ``at_step`` (default: where the saved progress says); earlier steps replayed."""
        from kafkalab.lessons import LessonRun

        store = self._store()
        if at_step is None:
            run = LessonRun(lesson, progress=store)
            if run.resume_step:  # where the saved progress says: the earlier steps replayed
                target = run.resume_step
                run.close()
                run = LessonRun.at_step(lesson, target, progress=store)
        else:
            run = LessonRun.at_step(lesson, at_step, progress=store)
        self.lesson_run = run
        self._lesson_replayed = run.step_index
        self._reset_step_state()
        self._lesson_saved_key = None
        self._lesson_view = None
        return run

    def _reset_step_state(self) -> None:
        self._lesson_hints = []
        self._lesson_saved = ""
        self._lesson_unmet = ()
        self._lesson_nudged = False

    def _mount_lessons(self) -> None:
        """After the app mounted: show the pane if a lesson is open, open the browser if asked."""
        if self.lesson_run is not None:
            self._lesson_opened()
        if getattr(self, "open_browser", False):
            self.action_lessons()

    # -- the lesson clock -------------------------------------------------------------------------------
    def _lesson_may_play(self) -> bool:
        """Whether the play key may run time: always in the sandbox, in a lesson only where a step asks."""
        run = self.lesson_run
        if run is None:
            return True
        if run.current_step.play and not (run.question is not None and run.picked is None):
            return True
        self.lab_console.write_lines(  # type: ignore[attr-defined]
            [
                "in a lesson, time moves only with your commands (run 5s, wait-for ...); "
                "this step does not use the play key"
                if not run.current_step.play
                else "make your prediction first (answer N); then the play key runs this step"
            ],
            "yellow",
        )
        return False

    def lesson_clock(self) -> str:
        """What the status bar says about time while a lesson is open ('' in the sandbox)."""
        run = self.lesson_run
        if run is None or run.session is not self.session:  # type: ignore[has-type]
            return ""
        if run.current_step.play:
            return "" if self.playing else "⏸ F2 plays this step"  # type: ignore[attr-defined]
        return "⏸ lesson: time moves with your commands"

    def _sim_tick(self, ms: int) -> None:
        """Advance virtual time for the clock: in a lesson only while a step that asks for it plays."""
        run = self.lesson_run
        if run is None:
            self.session.tick(ms)  # type: ignore[has-type]
            return
        if not run.current_step.play:
            self.playing = False  # type: ignore[attr-defined]
            return
        if run.play(ms):
            self.playing = False  # type: ignore[attr-defined]
            self.lab_console.write_lines(  # type: ignore[attr-defined]
                ["⏸ paused by itself: the goals of this step are reached"], "bold green"
            )

    # -- the open lesson --------------------------------------------------------------------------------
    def _small_screen(self) -> bool:
        """Below the large layout the pane is short: the step is printed in the console as well."""
        size = self.size  # type: ignore[attr-defined]
        return bool(size.width < 110 or size.height < 34)

    def _announce_step(self) -> None:
        """On a small terminal, print what the pane shows in too little room: the prediction, else the text."""
        run = self.lesson_run
        if run is None or not self._small_screen():
            return
        console = self.lab_console  # type: ignore[attr-defined]
        q = run.question
        if q is not None and run.picked is None:
            console.write_lines([f"predict first: {' '.join(q.prompt.split())}"], "bold magenta")
            console.write_lines([f"  {i + 1}. {c}" for i, c in enumerate(q.choices)], "magenta")
            console.write_lines(["type 'answer N' (the step follows your pick)"], "dim")
            return
        console.write_lines([p for p in reflow(run.current_step.text).split("\n") if p.strip()], "italic")

    def _lesson_opened(self) -> None:
        run = self.lesson_run
        self.playing = False  # type: ignore[attr-defined]
        lab = self.query_one("#lab")  # type: ignore[attr-defined]
        lab.add_class("-lesson")
        lab.remove_class("-pane-hidden")
        lesson = run.lesson
        lines = [f"lesson: {lesson.title} ({lesson.level}, {len(lesson.steps)} steps)"]
        if self._lesson_replayed:
            lines.append(
                f"resumed at step {run.step_index + 1}: the earlier steps' solutions were replayed for you"
            )
        lines.append(
            "time moves only with your commands (run 5s, wait-for ...). "
            "F11/'hint': a hint; F12/'next': next step; 'restart-step'; F9: lessons"
        )
        # after the layout changed (the pane took its room), so the lines wrap at the console's new width
        self.call_after_refresh(self.lab_console.write_lines, lines, "bold magenta")  # type: ignore[attr-defined]
        self.call_after_refresh(self._announce_step)  # type: ignore[attr-defined]
        self._refresh_lesson()

    def open_lesson(self, lesson: Any, at_step: int | None = None) -> bool:
        """Open ``lesson`` in place of what the lab runs now; False (and a notification) if it fails."""
        from kafkalab.lessons import LessonError

        previous = self.lesson_run
        try:
            run = self._build_run(lesson, at_step)
        except LessonError as e:
            self.lesson_run = previous
            self.notify(  # type: ignore[attr-defined]
                "\n".join(str(i) for i in e.issues),
                title=f"cannot open {lesson.id}",
                severity="error",
                markup=False,
            )
            return False
        old = self.session  # type: ignore[has-type]
        self.brokers, self.seed = lesson.setup.brokers, lesson.setup.seed
        self.playing = False  # type: ignore[attr-defined]
        self.replace_session(run.session, f"opened lesson '{lesson.id}'")  # type: ignore[attr-defined]
        if old is not run.session and callable(getattr(old, "close", None)):
            old.close()
        self._lesson_opened()
        return True

    def restart_lesson(self) -> None:
        """Start the open lesson's current step over: a fresh cluster, earlier steps' solutions replayed."""
        self.action_restart_step()

    def action_restart_step(self) -> None:
        run = self.lesson_run
        if run is None:
            return
        step = run.step_index
        if self.open_lesson(run.lesson, at_step=step):
            self.lab_console.write_lines(  # type: ignore[attr-defined]
                [
                    f"step {step + 1} restarted: a fresh cluster where the earlier steps' solutions were replayed"
                ],
                "bold magenta",
            )

    def _refresh_lesson(self) -> None:
        """Re-evaluate the goals from the run, save progress when a step is done, hand the pane a view."""
        run = self.lesson_run
        if run is None:
            return
        if run.session is not self.session:  # type: ignore[has-type]
            return
        note = run.sync()  # a rewind may have taken the run back before this step began
        if note is not None:
            self._reset_step_state()
            self.lab_console.write_lines([note], "bold magenta")  # type: ignore[attr-defined]
            self._announce_step()
        run.check()
        done = not run.unmet()
        if done:
            key = (run.lesson.id, run.step_index, run.finished)
            if key != self._lesson_saved_key:
                self._lesson_saved_key = key
                self._lesson_unmet = ()
                self._save_progress(run)
                console = self.lab_console  # type: ignore[attr-defined]
                if run.finished:
                    console.write_lines([f"★ lesson complete: {run.lesson.title}"], style="bold green")
                else:
                    console.write_lines(
                        [f"✓ step {run.step_index + 1} complete: F12, n or 'next' for the next step"],
                        style="bold green",
                    )
        elif self._lesson_saved_key is not None and self._lesson_saved_key[:2] == (
            run.lesson.id,
            run.step_index,
        ):
            self._lesson_saved_key = None  # done before, not any more (a rewind, or later events)
        if self._lesson_unmet:
            self._lesson_unmet = tuple(run.unmet())
        view = build_lesson_view(
            run,
            tuple(self._lesson_hints),
            run.picked,
            self._lesson_saved,
            self._lesson_unmet,
            self._next_in_course(run) if run.finished else "",
        )
        if view != self._lesson_view:
            self._lesson_view = view
            with contextlib.suppress(NoMatches):
                self.query_one(LessonPane).lesson = view  # type: ignore[attr-defined]

    def _next_in_course(self, run: Any) -> str:
        """The lesson the course suggests after this one (read once per finished lesson)."""
        cached = getattr(self, "_lesson_next_cache", None)
        if cached is not None and cached[0] == run.lesson.id:
            return str(cached[1])
        text = ""
        try:
            entries = list_lessons(self.lessons_dir, self._store())
        except Exception:  # the course is a suggestion: never a reason to fail
            entries = []
        for e in entries:
            if e.suggested and e.key != run.lesson.id:
                text = f"{e.key}: {e.title}"
                break
        self._lesson_next_cache = (run.lesson.id, text)
        return text

    def _save_progress(self, run: Any) -> None:
        store = run.progress
        if store is None:
            return
        if store.record(run.lesson.id, run.step_index + 1, run.finished):
            self._lesson_saved = "progress saved"
        else:
            self._lesson_saved = store.last_error or "could not save progress"

    def _lesson_command(self, line: str) -> bool:
        """Answer lesson words typed in the console ('hint', 'next', 'answer N' ...); True if handled."""
        run = self.lesson_run
        if run is None or getattr(self.session, "input_mode", None) is not None:  # type: ignore[has-type]
            return False
        console = self.lab_console  # type: ignore[attr-defined]
        words = line.split()
        if words[:1] == ["answer"]:
            q = run.question
            if q is None:
                console.write_lines(["this step has no question to answer"], "dim")
            elif len(words) != 2 or not words[1].isdigit() or not 1 <= int(words[1]) <= len(q.choices):
                console.write_lines([f"answer 1 to {len(q.choices)}: the number of a choice"], "yellow")
            elif run.picked is not None:
                console.write_lines(["you already answered this question"], "dim")
            else:
                self.on_choice_picked(ChoicePicked(int(words[1]) - 1))
            return True
        action = _CONSOLE_WORDS.get(line.strip())
        if action is not None:
            getattr(self, f"action_{action}")()
            return True
        if run.question is not None and run.picked is None and not _only_looks(line):
            console.write_lines(
                [
                    "predict first: the question is in the lesson pane "
                    f"(answer 1 to {len(run.question.choices)}); then run the experiment"
                ],
                "yellow",
            )
            self._show_pane_on_small()
            return True
        return False

    # -- actions ----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LESSON_ONLY and self.lesson_run is None:
            return False
        # not over the help, compare or browser screens
        return not (action in _LESSON_ONLY | {"lessons"} and len(self.screen_stack) > 1)  # type: ignore[attr-defined]

    def action_lessons(self) -> None:
        if isinstance(self.screen, LessonBrowser):  # type: ignore[attr-defined]
            return
        entries = list_lessons(self.lessons_dir, self._store())
        current = self.lesson_run.lesson.id if self.lesson_run is not None else None

        def chosen(lesson: Any) -> None:
            if lesson is None:
                return
            work = self._sandbox_work()
            if not work:
                self.open_lesson(lesson)
                return

            def answer(yes: bool | None) -> None:
                if yes:
                    self.open_lesson(lesson)

            # (a learner who typed a command while a panel had the focus reaches this with 'l' and Enter)
            self.push_screen(  # type: ignore[attr-defined]
                ConfirmScreen(
                    f"Opening the lesson '{lesson.id}' ends this sandbox session: its {work} are not kept. "
                    "Open the lesson?",
                    yes="Yes, open it",
                    no="No, stay here",
                ),
                answer,
            )

        self.push_screen(LessonBrowser(entries, current), chosen)  # type: ignore[attr-defined]

    def _sandbox_work(self) -> str:
        """What opening a lesson would throw away: the sandbox's commands and branches ('' if none)."""
        if self.lesson_run is not None:
            return ""  # a lesson's own progress is saved
        session = self.session  # type: ignore[has-type]
        actions = getattr(session, "actions", [])
        branches = len(getattr(session, "branches", []))
        if not actions and not branches:
            return ""
        return count_work(line for _t, line in actions) + (f" and {branches} branch(es)" if branches else "")

    def action_lesson_hint(self) -> None:
        run = self.lesson_run
        if run is None:
            return
        console = self.lab_console  # type: ignore[attr-defined]
        total = len(run.current_step.hints)
        if run.question is not None and run.picked is None:
            console.write_lines(["predict first (answer N): the hints come with the step"], "yellow")
            return
        if not total:
            console.write_lines(["this step has no hints: read the step text in the lesson pane"], "dim")
            return
        if len(self._lesson_hints) >= total:
            console.write_lines(["no more hints for this step"], "dim")
            self._show_pane_on_small()
            return
        hint = run.hint()
        if hint:
            self._lesson_hints.append(hint)
            console.write_lines([f"hint {len(self._lesson_hints)}: {' '.join(hint.split())}"], "magenta")
        self._refresh_lesson()

    def action_lesson_next(self) -> None:
        run = self.lesson_run
        if run is None:
            return
        console = self.lab_console  # type: ignore[attr-defined]
        run.check()
        if run.finished:
            console.write_lines(["this was the last step: F9 shows the course"], "dim")
            return
        unmet = run.unmet()
        if unmet:
            self._lesson_unmet = tuple(unmet)
            console.write_lines(["not done yet:", *[f"  ○ {u}" for u in unmet]], "yellow")
            console.write_lines(
                ["stuck? 'restart-step' (or F8) starts this step over on a fresh cluster"], "bold"
            )
            self._show_pane_on_small()
            self._refresh_lesson()
            return
        if not run.advance():
            return
        self._reset_step_state()
        self.playing = False  # type: ignore[attr-defined]
        step = run.current_step
        console.write_lines([f"step {run.step_index + 1}/{len(run.steps)}: {step.title}"], "bold magenta")
        if step.question is not None and not self._small_screen():
            console.write_lines(["predict first: the question is in the lesson pane (answer N)"], "magenta")
        self._announce_step()
        self._show_pane_on_small()
        self.query_one(LessonPane).scroll_home(animate=False)  # type: ignore[attr-defined]
        self._refresh_lesson()

    def _show_pane_on_small(self) -> None:
        self.query_one("#lab").remove_class("-pane-hidden")  # type: ignore[attr-defined]

    def action_toggle_lesson_pane(self) -> None:
        if self.lesson_run is None:
            return
        self.query_one("#lab").toggle_class("-pane-hidden")  # type: ignore[attr-defined]

    def on_choice_picked(self, message: ChoicePicked) -> None:
        run = self.lesson_run
        if run is None or run.picked is not None or run.question is None:
            return
        q = run.question
        if not run.answer(message.index):
            return
        self.lab_console.write_lines(  # type: ignore[attr-defined]
            [f"your prediction: {q.choices[message.index]}; now run the experiment"], "magenta"
        )
        self._announce_step()
        self._refresh_lesson()

    def lesson_system_commands(self) -> list[tuple[str, str, Any]]:
        """(title, help, callback) for the command palette."""
        out: list[tuple[str, str, Any]] = [
            ("Lessons…", "Browse the course and open a lesson (F9)", self.action_lessons)
        ]
        if self.lesson_run is not None:
            out += [
                ("Lesson: hint", "Show the next hint of this step (F11)", self.action_lesson_hint),
                ("Lesson: next step", "Go on once the goals are reached (F12)", self.action_lesson_next),
                (
                    "Lesson: show / hide the pane",
                    "Toggle the lesson pane (ctrl+o)",
                    self.action_toggle_lesson_pane,
                ),
                (
                    "Lesson: restart this step",
                    "A fresh cluster, the earlier steps' solutions replayed (F8, 'restart-step')",
                    self.action_restart_step,
                ),
            ]
        return out
