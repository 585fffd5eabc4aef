"""The classroom in the lab app: the scenario player's keys and clock, presenter mode, captions, and the
console words that write files (``record``, ``export-lesson``).

:class:`ClassroomHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp` (before the other mixins, so its
``_lesson_command``, ``check_action``, ``lesson_clock`` and ``_sim_slice`` run first and hand the rest on).

- **Playing a scenario** (``kafkalab play FILE``): F12 / ``n`` / ``next`` runs to the next stop at once;
  Space plays time at the lab's speed and pauses by itself after each stop; ``back`` (``p`` in presenter
  mode) returns to the previous stop. The status bar says "⏸ paused · stop 2 of 6 · next: heal at 30s".
- **Presenter mode** (``--present``, ctrl+f, ``present``): :class:`~kafkalab.ui.presenter.PresenterScreen`
  in the projector theme, with a caption of what just happened: the scenario's caption, or the last command
  with its reply and what the cluster did since.
- **Files**: ``record [FILE] [--title T] [--force]`` saves the session as a scenario, ``export-lesson
  FILE.yaml`` writes a lesson skeleton (in a child process: it replays the session several times). In a
  browser (``kafkalab serve``) the file is not written on the server: the browser downloads it.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .messages import CommandSubmitted
from .presenter import PROJECTOR_THEME, PresenterCommand, PresenterScreen
from .widgets.status import format_ms

__all__ = ["CLASSROOM_BINDINGS", "ClassroomHost"]

CLASSROOM_BINDINGS = [
    Binding(
        "ctrl+f",
        "toggle_presenter",
        "Presenter",
        key_display="^f",
        show=False,
        id="lab.presenter",
        tooltip="Presenter mode for a projector: high contrast, fewer and larger panels, captions (ctrl+f again "
        "leaves)",
    ),
]

#: lines a caption keeps (the command first, then the newest of what followed)
CAPTION_LINES = 9


class ClassroomHost:
    """Scenario player, presenter mode and file-writing console words (a mixin of the app)."""

    session: Any
    playing: bool
    lesson_run: Any
    #: the scenario being played (kafkalab.classroom.player.ScenarioPlayer), or None
    player: Any = None
    #: ``kafkalab record FILE``: where the session is saved on quit (and by a bare ``record``)
    record_to: Path | None = None
    record_title: str | None = None
    present_at_start = False
    _theme_before: str | None = None
    _caption_mark: tuple[int, int, int] | None = None
    _caption: tuple[str, tuple[str, ...]] = ("", ())
    _written: set[Path] | None = None

    def setup_classroom(
        self,
        *,
        scenario: Any = None,
        present: bool = False,
        record_to: Path | None = None,
        record_title: str | None = None,
    ) -> None:
        """Called by ``create_app``: play ``scenario`` on the app's session, open in presenter mode, record."""
        self.register_theme(PROJECTOR_THEME)  # type: ignore[attr-defined]
        if present:  # themed before the first paint: the styles are computed once, not twice
            self._theme_before = self.theme  # type: ignore[attr-defined]
            self.theme = PROJECTOR_THEME.name  # type: ignore[attr-defined]
        if scenario is not None:
            from ..classroom.player import ScenarioPlayer

            self.player = ScenarioPlayer(scenario, self.session)
            self.playing = False
        self.present_at_start = present
        self.record_to = record_to
        self.record_title = record_title

    def on_mount(self) -> None:
        console = self.lab_console  # type: ignore[attr-defined]
        if self.player is not None:
            sc = self.player.scenario
            self.playing = False
            lines = [
                f"scenario: {sc.title} ({len(sc.entries)} actions, {sc.stops} stops)",
                "F12, n (not typing) or 'next': the next stop; Space plays up to it; 'back': the stop before; "
                "ctrl+f: presenter mode",
            ]
            if sc.outside_requests:
                lines.append(
                    f"the recording had {sc.outside_requests} request(s) of outside clients: they are not "
                    "played, so the run differs from the recording after the first one"
                )
            console.write_lines(lines, "bold magenta")
            self._caption = (
                f"{sc.title}",
                (f"{sc.stops} stops: n for the first one", "Space plays the story"),
            )
        if self.record_to is not None:
            console.write_lines(
                [
                    f"recording: ctrl+q saves this session to {self.record_to} ('record' saves it now); "
                    "'note TEXT' marks a moment with a caption"
                ],
                "bold magenta",
            )
        self._caption_mark = self._story_key()
        if self.is_web:  # type: ignore[attr-defined]
            self.set_interval(1.0, self._web_watchdog)  # type: ignore[attr-defined]
        if self.present_at_start:
            self.call_after_refresh(self.action_toggle_presenter)

    def _web_watchdog(self) -> None:
        """In a browser: when the server is gone (its pipe closed), this lab process ends too, instead of
        running on with nobody to show it to."""
        reader = getattr(getattr(self, "_driver", None), "_key_thread", None)
        if reader is not None and not reader.is_alive():
            self.exit()  # type: ignore[attr-defined]

    # -- presenter mode -------------------------------------------------------------------------------
    @property
    def presenter(self) -> PresenterScreen | None:
        for s in self.screen_stack:  # type: ignore[attr-defined]
            if isinstance(s, PresenterScreen):
                return s
        return None

    def action_toggle_presenter(self) -> None:
        p = self.presenter
        if p is not None:
            if self.screen is p:  # type: ignore[attr-defined]
                self.pop_screen()  # type: ignore[attr-defined]
                self.theme = self._theme_before or "textual-dark"  # type: ignore[attr-defined]
            return
        if self.theme != PROJECTOR_THEME.name:  # type: ignore[attr-defined]
            self._theme_before = self.theme  # type: ignore[attr-defined]
            self.theme = PROJECTOR_THEME.name  # type: ignore[attr-defined]
        screen = PresenterScreen()
        self.push_screen(screen)  # type: ignore[attr-defined]
        screen.set_caption(*self._caption)

    def _set_caption(self, title: str, lines: Iterable[str]) -> None:
        kept = list(lines)
        if len(kept) > CAPTION_LINES:
            kept = kept[:1] + [f"  … {len(kept) - CAPTION_LINES + 1} more"] + kept[-(CAPTION_LINES - 2) :]
        self._caption = (title, tuple(kept))
        p = self.presenter
        if p is not None:
            p.set_caption(*self._caption)

    def _story_key(self) -> tuple[int, int, int]:
        s = self.session
        return (int(getattr(s, "generation", 0)), len(getattr(s, "actions", [])), len(s.cluster.timeline))

    def _follow_story(self) -> None:
        """After a refresh: caption what happened since the last caption (a command, time passing, a rewind)."""
        key = self._story_key()
        mark = self._caption_mark
        self._caption_mark = key
        if mark is None or key == mark:
            return
        s = self.session
        now = f"at t = {format_ms(s.now_ms)}"
        if key[0] != mark[0]:
            self._set_caption(
                "time travel", [f"the lab is back {now}; where it was stays a branch (ctrl+y returns)"]
            )
            return
        title, lines = self._caption
        if key[1] > mark[1]:  # commands ran (typed in the lab's console)
            new = [line for _t, line in s.actions[mark[1] : key[1]] if not line.startswith("\x1e")]
            lines = tuple(f"$ {line}" for line in new[-3:])
            title = now
        entries = self._timeline_lines(mark[2])
        if entries:
            self._set_caption(now if key[1] > mark[1] else title or now, [*lines, *entries])
        elif key[1] > mark[1]:
            self._set_caption(title, lines)

    def _timeline_lines(self, since: int) -> list[str]:
        from ..timeline_text import is_internal, plain_entry

        timeline = self.session.cluster.timeline
        internal = bool(getattr(self, "timeline_internal", False))
        picked = [e for e in timeline[since:] if internal or not is_internal(e.text)]
        return [f"  {e.time_ms / 1000:.3f} s  {plain_entry(e.text)}" for e in picked[-CAPTION_LINES:]]

    def _refresh_lesson(self) -> None:
        super()._refresh_lesson()  # type: ignore[misc]
        if self.player is not None:
            note = self.player.sync()
            if note is not None:
                self.lab_console.write_lines([note], "bold magenta")  # type: ignore[attr-defined]
        self._follow_story()

    def on_presenter_command(self, message: PresenterCommand) -> None:
        """A line typed in presenter mode: run it as the console would, caption the reply."""
        line = message.command
        console = self.lab_console  # type: ignore[attr-defined]
        replies: list[Any] = []
        real = console.show_result

        def spy(result: Any) -> None:
            replies.append(result)
            real(result)

        console.show_result = spy
        try:
            self.on_command_submitted(CommandSubmitted(line))  # type: ignore[attr-defined]
        finally:
            del console.show_result
        lines = [f"$ {line}"]
        for r in replies:
            lines += [f"  {x}" for x in (getattr(r, "lines", None) or [])[:4]]
            if not getattr(r, "ok", True):
                lines.append(f"  error: {getattr(r, 'error', '')}")
        mark = self._caption_mark
        self._caption_mark = self._story_key()
        entries = (
            self._timeline_lines(mark[2]) if mark is not None and mark[0] == self._caption_mark[0] else []
        )
        self._set_caption(f"at t = {format_ms(self.session.now_ms)}", [*lines, *entries])

    # -- the scenario player ----------------------------------------------------------------------------
    def lesson_clock(self) -> str:
        if self.player is not None and self.lesson_run is None:
            return str(self.player.indicator(self.playing))
        return str(super().lesson_clock())  # type: ignore[misc]

    def _show_report(self, report: Any) -> None:
        console = self.lab_console  # type: ignore[attr-defined]
        console.write_lines([report.title], "bold magenta")
        console.write_lines(report.lines, "magenta")
        if self.player is not None and self.player.divergence:
            console.write_lines([self.player.divergence], "yellow")
        self._set_caption(report.title, report.lines)
        self._caption_mark = self._story_key()

    def scenario_next(self) -> None:
        """The next stop (F12, n, 'next'); without a scenario, the next timeline event."""
        if self.player is None:
            self.action_step()  # type: ignore[attr-defined]
            return
        self.playing = False
        self._show_report(self.player.advance())
        self.refresh_view()  # type: ignore[attr-defined]

    def scenario_back(self) -> None:
        """Back to the previous stop ('back', p); without a scenario, the previous timeline event."""
        if self.player is None:
            self.action_rewind_one()  # type: ignore[attr-defined]
            return
        self.playing = False
        report = self.player.back()
        if report is None:
            self.lab_console.write_lines(["the scenario is at its start"], "dim")  # type: ignore[attr-defined]
            return
        self.refresh_view()  # type: ignore[attr-defined]
        self._show_report(report)

    def action_lesson_next(self) -> None:
        if self.player is not None and self.lesson_run is None:
            self.scenario_next()
            return
        if self.lesson_run is None and isinstance(self.screen, PresenterScreen):  # type: ignore[attr-defined]
            self.action_step()  # type: ignore[attr-defined]
            return
        super().action_lesson_next()  # type: ignore[misc]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (
            action == "lesson_next"
            and self.lesson_run is None
            and (self.player is not None or self.presenter)
        ):
            return True
        return super().check_action(action, parameters)  # type: ignore[misc]

    def _sim_slice(self, ms: int, deadline: float) -> int:
        """The clock plays the story: it stops at the next action, runs it there, pauses after a stop."""
        p = self.player
        if p is None or self.lesson_run is not None:
            return int(super()._sim_slice(ms, deadline))  # type: ignore[misc]
        limit = p.clock_limit()
        if limit is None:
            return int(super()._sim_slice(ms, deadline))  # type: ignore[misc]
        if limit <= 0:
            report = p.reached()
            self._show_report(report)
            if report.stopped:
                self.playing = False
            return ms
        return int(super()._sim_slice(min(ms, limit), deadline))  # type: ignore[misc]

    # -- console words ----------------------------------------------------------------------------------
    def _lesson_command(self, line: str) -> bool:
        if getattr(self.session, "input_mode", None) is not None:  # a console producer reads records
            return bool(super()._lesson_command(line))  # type: ignore[misc]
        words = line.split()
        head = words[0] if words else ""
        if head == "record":
            self._record(line)
            return True
        if head == "export-lesson":
            self._export(line)
            return True
        if line.strip() == "present":
            self.action_toggle_presenter()
            return True
        if self.player is not None and self.lesson_run is None and line.strip() in ("next", "back"):
            self.scenario_next() if line.strip() == "next" else self.scenario_back()
            return True
        return bool(super()._lesson_command(line))  # type: ignore[misc]

    def _say(self, lines: list[str], style: str = "") -> None:
        self.lab_console.write_lines(lines, style)  # type: ignore[attr-defined]

    def _args(self, line: str, usage: str) -> tuple[list[str], dict[str, str | bool]] | None:
        from ..commands.parsing import CommandError, split_line

        try:
            tokens = split_line(line)[1:]
        except CommandError as e:
            self._say([f"error: {e}"], "bold red")
            return None
        plain: list[str] = []
        opts: dict[str, str | bool] = {}
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "--force":
                opts["force"] = True
            elif tok == "--title" and i + 1 < len(tokens):
                opts["title"] = tokens[i + 1]
                i += 1
            elif tok.startswith("--"):
                self._say([f"error: unknown option {tok}; usage: {usage}"], "bold red")
                return None
            else:
                plain.append(tok)
            i += 1
        if len(plain) > 1:
            self._say([f"error: one file at most; usage: {usage}"], "bold red")
            return None
        return plain, opts

    def _record(self, line: str) -> None:
        from ..classroom.commands import RECORD_USAGE
        from ..classroom.scenario import ScenarioError, dump_scenario, scenario_from_session, write_scenario

        parsed = self._args(line, RECORD_USAGE)
        if parsed is None:
            return
        plain, opts = parsed
        target = Path(plain[0]) if plain else self.record_to
        if target is None:
            self._say([f"error: name the file: {RECORD_USAGE}"], "bold red")
            return
        title = str(opts.get("title") or self.record_title or target.stem.replace("-", " ").replace("_", " "))
        if self.is_web:  # type: ignore[attr-defined]  # in a browser: a download, nothing on the server
            sc, notes = scenario_from_session(self.session, title)
            self.deliver_text(io.StringIO(dump_scenario(sc)), save_filename=target.name)  # type: ignore[attr-defined]
            self._say([f"scenario {target.name}: your browser downloads it", *notes], "bold green")
            return
        written = self._written if self._written is not None else set()
        self._written = written
        if (
            target.exists()
            and target.resolve() not in written
            and not opts.get("force")
            and target != self.record_to
        ):
            self._say([f"error: {target} exists: 'record {target} --force' replaces it"], "bold red")
            return
        if target.suffix not in (".yaml", ".yml"):
            self._say([f"error: a scenario file ends in .yaml: {target.name}"], "bold red")
            return
        try:
            path, sc, notes = write_scenario(self.session, target, title)
        except ScenarioError as e:
            self._say([f"error: {e.issues[0].message}"], "bold red")
            return
        except OSError as e:
            self._say([f"error: cannot write {target}: {e.strerror or e}"], "bold red")
            return
        written.add(path.resolve())
        self._say(
            [
                f"saved scenario {path} ({len(sc.entries)} actions, {sc.stops} stops, t = {format_ms(sc.end_ms or 0)});"
                f" play it: kafkalab play {path}",
                *notes,
            ],
            "bold green",
        )

    def save_recording(self) -> list[str]:
        """``kafkalab record FILE``: write the session on quit; the lines to print."""
        from ..classroom.scenario import ScenarioError, write_scenario

        if self.record_to is None:
            return []
        try:
            path, sc, notes = write_scenario(self.session, self.record_to, self.record_title)
        except (ScenarioError, OSError) as e:
            return [f"kafkalab: could not save {self.record_to}: {e}"]
        return [
            f"saved scenario {path}: {len(sc.entries)} actions, {sc.stops} stops; play it: kafkalab play {path}",
            *notes,
        ]

    def _export(self, line: str) -> None:
        from ..classroom.commands import EXPORT_USAGE

        parsed = self._args(line, EXPORT_USAGE)
        if parsed is None:
            return
        plain, opts = parsed
        if not plain:
            self._say([f"error: name the lesson file: {EXPORT_USAGE}"], "bold red")
            return
        target = Path(plain[0])
        if target.suffix != ".yaml":
            self._say([f"error: a lesson file ends in .yaml: {target.name}"], "bold red")
            return
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", target.stem):
            self._say(
                [
                    f"error: '{target.stem}' cannot be a lesson id (the file name without .yaml): use lowercase "
                    "letters, digits and dashes, e.g. leader-failover.yaml"
                ],
                "bold red",
            )
            return
        if not self.is_web and target.exists() and not opts.get("force"):  # type: ignore[attr-defined]
            self._say([f"error: {target} exists: 'export-lesson {target} --force' replaces it"], "bold red")
            return
        self.run_worker(self._export_worker(target), group="export-lesson", exclusive=True)  # type: ignore[attr-defined]

    async def _export_worker(self, target: Path) -> None:
        """Build the lesson in a child process (it replays the session several times: the lab stays live)."""
        from ..classroom.scenario import dump_scenario, scenario_from_session

        sc, _notes = scenario_from_session(self.session, target.stem.replace("-", " "))
        self._say(
            [
                f"export-lesson: replaying the session as a lesson to propose goals ({len(sc.entries)} actions)…"
            ],
            "dim",
        )
        with tempfile.TemporaryDirectory(prefix="kafkalab-export-") as tmp:
            scenario = Path(tmp) / "session.yaml"
            scenario.write_text(dump_scenario(sc), encoding="utf-8")
            out = Path(tmp) / target.name if self.is_web else target  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "kafkalab.cli",
                "export-lesson",
                str(scenario),
                str(out),
                "--force",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await proc.communicate()
            lines = output.decode("utf-8", "replace").splitlines()
            ok = proc.returncode == 0
            if ok and self.is_web:  # type: ignore[attr-defined]
                self.deliver_text(io.StringIO(out.read_text(encoding="utf-8")), save_filename=target.name)  # type: ignore[attr-defined]
                lines.append(f"your browser downloads {target.name}")
        self._say(
            [f"export-lesson ({time.perf_counter() - t0:.1f} s):", *lines[-8:]],
            "bold green" if ok else "bold red",
        )

    # -- palette, screenshots ------------------------------------------------------------------------------
    def action_save_screenshot(self) -> None:
        if self.is_web:  # type: ignore[attr-defined]  # the browser downloads it; nothing on the server
            self.deliver_screenshot()  # type: ignore[attr-defined]
            return
        super().action_save_screenshot()  # type: ignore[misc]

    def _free_name(self, stem: str, suffix: str) -> str:
        n = 1
        while Path(f"{stem}-{n}{suffix}").exists():
            n += 1
        return f"{stem}-{n}{suffix}"

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)  # type: ignore[misc]
        yield SystemCommand(
            "Presenter mode",
            "High contrast, fewer and larger panels, captions; for a projector (ctrl+f)",
            self.action_toggle_presenter,
        )
        record = (
            f"record {self.record_to}" if self.record_to else f"record {self._free_name('scenario', '.yaml')}"
        )
        yield SystemCommand(
            "Save as a scenario",
            f"Write this session to a scenario file to play back ({record})",
            lambda: self._record(record),
        )
        export = f"export-lesson {self._free_name('my-lesson', '.yaml')}"
        yield SystemCommand(
            "Export a lesson skeleton",
            f"Steps from the commands, goals from what happened ({export})",
            lambda: self._export(export),
        )
        if self.player is not None:
            yield SystemCommand(
                "Scenario: next stop", "Run to the next stop (F12, n, 'next')", self.scenario_next
            )
            yield SystemCommand(
                "Scenario: previous stop", "Back to the stop before ('back')", self.scenario_back
            )
