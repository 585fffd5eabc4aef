"""Lessons inside the lab app: the browser, the lesson pane, routing console lines through the lesson.

:class:`LessonHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`. While a lesson is open the app's
session is the :class:`~kafkalab.lessons.LessonRun`'s session: console lines go through ``run.execute``
(so lesson-only verbs work), virtual time through ``run.tick`` (which checks the goals and fires the
lesson's scheduled faults every 100 virtual ms), and every refresh hands the pane a new
:class:`~kafkalab.ui.lesson_view.LessonView`. When a step's goals are reached the progress is saved.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.css.query import NoMatches

from .lesson_view import LessonView, build_lesson_view, list_lessons
from .messages import ChoicePicked
from .screens.lessons import LessonBrowser
from .widgets.lesson_pane import LessonPane

__all__ = ["LESSON_BINDINGS", "LessonHost"]

LESSON_BINDINGS = [
    Binding(
        "f9,l",
        "lessons",
        "Lessons",
        key_display="F9",
        show=False,  # the 80-column footer is full; the console's first line and F1 mention it
        id="lab.lessons",
        tooltip="Browse the lessons and open one (l when the console is not focused)",
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
_CONSOLE_WORDS = {"hint": "lesson_hint", "next": "lesson_next", "lessons": "lessons"}


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
        self._lesson_picked: int | None = None
        self._lesson_saved: str = ""
        self._lesson_saved_key: tuple[str, int, bool] | None = None
        self._lesson_replayed = 0
        self._lesson_view: LessonView | None = None
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

        run = LessonRun(lesson, progress=self._store())
        target = run.resume_step if at_step is None else at_step
        target = max(0, min(int(target), len(lesson.steps) - 1))
        while run.step_index < target:
            # bring the cluster to where the step starts: run the earlier steps' reference solutions
            for line in run.current_step.solution:
                run.execute(line)
            if not run.advance(force=True):
                break
        self.lesson_run = run
        self._lesson_replayed = run.step_index
        self._lesson_hints = []
        self._lesson_picked = None
        self._lesson_saved = ""
        self._lesson_saved_key = None
        self._lesson_view = None
        return run

    def _mount_lessons(self) -> None:
        """After the app mounted: show the pane if a lesson is open, open the browser if asked."""
        if self.lesson_run is not None:
            self._lesson_opened()
        if getattr(self, "open_browser", False):
            self.action_lessons()

    # -- the open lesson --------------------------------------------------------------------------------
    def _lesson_opened(self) -> None:
        run = self.lesson_run
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
            "the lesson pane shows the step and its goals (ctrl+o hides it); "
            "F11 or 'hint': a hint; F12 or 'next': next step; F9: lessons"
        )
        # after the layout changed (the pane took its room), so the lines wrap at the console's new width
        self.call_after_refresh(self.lab_console.write_lines, lines, "bold magenta")  # type: ignore[attr-defined]
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
        self.replace_session(run.session, f"opened lesson '{lesson.id}'")  # type: ignore[attr-defined]
        if old is not run.session and callable(getattr(old, "close", None)):
            old.close()
        self._lesson_opened()
        return True

    def restart_lesson(self) -> None:
        """Start the open lesson's current step over: a fresh cluster, earlier steps replayed."""
        run = self.lesson_run
        if run is not None:
            self.open_lesson(run.lesson, at_step=run.step_index)

    def _sim_tick(self, ms: int) -> None:
        """Advance virtual time: through the lesson (goals checked, faults fired) when one is open."""
        if self.lesson_run is not None:
            self.lesson_run.tick(ms)
        else:
            self.session.tick(ms)  # type: ignore[has-type]

    def _refresh_lesson(self) -> None:
        """Check the goals (cheap), save progress when a step completes, hand the pane a new snapshot."""
        run = self.lesson_run
        if run is None:
            return
        if run.session is not self.session:  # type: ignore[has-type]
            return
        run.check()
        if run.step_complete:
            key = (run.lesson.id, run.step_index, run.finished)
            if key != self._lesson_saved_key:
                self._lesson_saved_key = key
                self._save_progress(run)
                console = self.lab_console  # type: ignore[attr-defined]
                if run.finished:
                    console.write_lines([f"★ lesson complete: {run.lesson.title}"], style="bold green")
                else:
                    console.write_lines(
                        [f"✓ step {run.step_index + 1} complete: F12, n or 'next' for the next step"],
                        style="bold green",
                    )
        view = build_lesson_view(run, tuple(self._lesson_hints), self._lesson_picked, self._lesson_saved)
        if view != self._lesson_view:
            self._lesson_view = view
            with contextlib.suppress(NoMatches):
                self.query_one(LessonPane).lesson = view  # type: ignore[attr-defined]

    def _save_progress(self, run: Any) -> None:
        store = run.progress
        if store is None:
            return
        if store.record(run.lesson.id, run.step_index + 1, run.finished):
            self._lesson_saved = "progress saved"
        else:
            self._lesson_saved = store.last_error or "could not save progress"

    def _lesson_command(self, line: str) -> bool:
        """Answer 'hint', 'next' and 'lessons' typed in the console while a lesson is open."""
        if self.lesson_run is None or getattr(self.session, "input_mode", None) is not None:  # type: ignore[has-type]
            return False
        words = line.split()
        if words[:1] == ["answer"] and self.lesson_run.question is None:
            self.lab_console.write_lines(["this step has no question to answer"], "dim")  # type: ignore[attr-defined]
            return True
        if len(words) == 2 and words[0] == "answer":
            if not words[1].isdigit() or not 1 <= int(words[1]) <= len(self.lesson_run.question.choices):
                self.lab_console.write_lines(  # type: ignore[attr-defined]
                    [f"answer 1 to {len(self.lesson_run.question.choices)}: the number of a choice"], "yellow"
                )
            elif self._lesson_picked is not None:
                self.lab_console.write_lines(["you already answered this question"], "dim")  # type: ignore[attr-defined]
            else:
                self.on_choice_picked(ChoicePicked(int(words[1]) - 1))
            return True
        action = _CONSOLE_WORDS.get(line.strip())
        if action is None:
            return False
        getattr(self, f"action_{action}")()
        return True

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
            if lesson is not None:
                self.open_lesson(lesson)

        self.push_screen(LessonBrowser(entries, current), chosen)  # type: ignore[attr-defined]

    def action_lesson_hint(self) -> None:
        run = self.lesson_run
        if run is None:
            return
        console = self.lab_console  # type: ignore[attr-defined]
        total = len(run.current_step.hints)
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
            console.write_lines(["this was the last step: F9 picks another lesson"], "dim")
            return
        if not run.step_complete:
            console.write_lines(
                ["the goals of this step are not reached yet (○ in the lesson pane)"], "yellow"
            )
            return
        if not run.advance():
            return
        self._lesson_hints = []
        self._lesson_picked = None
        self._lesson_saved = ""
        step = run.current_step
        console.write_lines([f"step {run.step_index + 1}/{len(run.steps)}: {step.title}"], "bold magenta")
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
        if run is None or self._lesson_picked is not None or run.question is None:
            return
        self._lesson_picked = message.index
        q = run.current_step.question
        run.reveal()
        right = q.choices[message.index] == q.answer
        self.lab_console.write_lines(  # type: ignore[attr-defined]
            [("right: " if right else "not quite: the answer is ") + q.answer],
            "bold green" if right else "bold red",
        )
        self._refresh_lesson()

    def lesson_system_commands(self) -> list[tuple[str, str, Any]]:
        """(title, help, callback) for the command palette."""
        out: list[tuple[str, str, Any]] = [
            ("Lessons…", "Browse the lessons and open one (F9)", self.action_lessons)
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
                    "Lesson: start this step over",
                    "A fresh cluster, earlier steps replayed",
                    self.restart_lesson,
                ),
            ]
        return out
