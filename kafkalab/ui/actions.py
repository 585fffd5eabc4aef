"""What the lab's keys and command palette do: play, step, rewind, speed, restart, focus, tabs, Compare.

:class:`LabActions` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`; the bindings themselves are in
:mod:`kafkalab.ui.bindings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen
from textual.widgets import Input, TabbedContent

from .bindings import binding_rows
from .clock import SPEEDS
from .messages import PartitionSelected
from .navigation import TABS
from .screens import HelpScreen
from .screens.compare import CompareScreen
from .screens.confirm import ConfirmScreen
from .screens.help import describe_commands
from .widgets import Console, LogStrip
from .widgets.status import format_ms, format_speed

__all__ = ["LabActions"]


class LabActions:
    """Actions of the lab screen (a mixin of the app)."""

    session: Any
    playing: bool

    #: actions on the lab's session, off while the Compare screen covers the lab (it pauses the lab)
    _LAB_ACTIONS = frozenset(
        {
            "toggle_play",
            "step",
            "rewind_one",
            "rewind_to",
            "step_raw",
            "back_raw",
            "redo",
            "slower",
            "faster",
            "restart",
            "toggle_console",
            "cycle_tab",
            "help",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._LAB_ACTIONS and isinstance(self.screen, CompareScreen):
            return False
        return super().check_action(action, parameters)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.binding_descriptions(), describe_commands(self._commands)))

    def binding_descriptions(self) -> list[tuple[str, str, str]]:
        """(keys, description, tooltip) of every binding of the lab, for the help screen."""
        rows = binding_rows(self, [self.BINDINGS, LogStrip.BINDINGS, Console.BINDINGS])
        rows += [
            (
                "ctrl+p",
                "Command palette",
                "Search every lab action (play, step, rewind, select a partition…)",
            ),
            (
                "tab / shift+tab",
                "Focus",
                "Move between the console, the partition table, the log strip and the tabs",
            ),
            ("↑ ↓  j k (table)", "Pick partition", "Choose the partition whose log the Log tab shows"),
            ("enter (table)", "Open partition", "Its log in the Log tab, with the focus (escape: back)"),
            ("j k, enter (Groups)", "Pick a group", "Show only that group with its lag bars (escape: all)"),
            ("/ (a panel)", "Filter", "Topics, Groups, Timeline: type words; enter keeps, escape clears"),
            ("i (Timeline)", "Internal topics", "Show or fold the entries about __consumer_offsets…"),
            ("pgup pgdn (console)", "Scroll", "The console's replies (the mouse wheel scrolls too)"),
            ("ctrl+↑ ctrl+↓", "Console size", "More rows for the console or the lab (or drag its title)"),
            ("? (console line)", "Help", "Typing ? and enter in the console opens this help"),
            ("ctrl+q", "Quit", "Leave kafkalab"),
        ]
        return rows

    def action_toggle_play(self) -> None:
        if not self.playing and not self._lesson_may_play():  # a lesson moves time only where it asks
            return
        self.playing = not self.playing
        self._last_event = ""
        self.refresh_view()

    def action_slower(self) -> None:
        lower = [s for s in SPEEDS if s < self.speed - 1e-9]
        self.set_speed(lower[-1] if lower else SPEEDS[0])

    def action_faster(self) -> None:
        higher = [s for s in SPEEDS if s > self.speed + 1e-9]
        self.set_speed(higher[0] if higher else SPEEDS[-1])

    def action_restart(self) -> None:
        if self.lesson_run is not None:  # a lesson starts its current step over on its own cluster
            self.restart_lesson()
            return
        log = getattr(self.session, "actions", [])
        if log or getattr(self.session, "branches", None):
            from ..commands.timetravel import count_work  # (outside clients' inputs are counted apart)

            work = count_work(line for _t, line in log)

            def answer(yes: bool | None) -> None:
                if yes:
                    self._restart_now()

            self.push_screen(
                ConfirmScreen(
                    f"Start over on a fresh cluster (seed {self.seed})? This session's {work}, "
                    f"{format_ms(self.session.cluster.now_ms)} of virtual time and its branches are gone.",
                    yes="Yes, start over",
                    no="No, keep it",
                ),
                answer,
            )
            return
        self._restart_now()

    def _restart_now(self) -> None:
        speed = self.speed
        session = self.session.restart_same_seed()
        session.speed = speed
        self.replace_session(session, f"restarted: fresh cluster, seed {self.seed}")

    def action_toggle_console(self) -> None:
        inp = self.query_one("#console-input", Input)
        if self.focused is inp:
            target = (
                self.query_one("#topics") if self.view and self.view.partitions else self.query_one("#log")
            )
            target.focus()
        else:
            inp.focus()

    def action_compare(self) -> None:
        """Open the Compare screen; the lab pauses meanwhile and keeps its state (and the screen its results)."""
        if isinstance(self.screen, CompareScreen):
            return
        if not self.is_screen_installed("compare"):
            self.install_screen(CompareScreen(seed=self.seed), name="compare")
        was_playing = self.playing
        self.playing = False

        def back(_: None) -> None:
            if was_playing:
                self.playing = True

        self.push_screen("compare", back)

    def action_platform(self) -> None:
        """Open the Platform screen (Schema Registry, Connect workers, connectors, tasks); time keeps running."""
        from .screens.platform import PlatformScreen

        if not isinstance(self.screen, PlatformScreen):
            self.push_screen(PlatformScreen())

    def action_cycle_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        order = [pane for pane, _title in TABS if pane != "tab-timeline"]
        if not self.query_one("#timeline-side").display:
            order.append("tab-timeline")
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)] if tabs.active in order else order[0]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own "Screenshot" saves to ~/Downloads, which may not exist: ours says where it saved
        yield from (c for c in super().get_system_commands(screen) if c.title != "Screenshot")
        yield from self.nav_system_commands(screen)
        yield SystemCommand("Play / pause", "Start or stop virtual time (F2)", self.action_toggle_play)
        yield SystemCommand(
            "Next timeline event",
            "Pause and run to the next leader/ISR/group/commit… event (F3, .)",
            self.action_step,
        )
        yield SystemCommand(
            "Previous timeline event", "Back to the previous timeline event (F4, ,)", self.action_rewind_one
        )
        yield SystemCommand(
            "Step one raw event", "Run exactly one simulation event (>)", self.action_step_raw
        )
        yield SystemCommand(
            "Back one raw event", "Go back exactly one simulation event (<)", self.action_back_raw
        )
        yield SystemCommand(
            "Rewind to a time…",
            "Go back to a point in virtual time; the future stays a branch (F5)",
            self.action_rewind_to,
        )
        yield SystemCommand("Redo", "Return to where the last rewind left (ctrl+y)", self.action_redo)
        yield SystemCommand(
            "Restart with the same seed", "A fresh cluster, same seed (F8)", self.action_restart
        )
        for s in SPEEDS:
            yield SystemCommand(
                f"Speed {format_speed(s)}", "Set the simulation speed", lambda s=s: self.set_speed(s)
            )
        yield SystemCommand("Lab help", "Keys, commands and legend (F1)", self.action_help)
        for title, help_text, callback in self.lesson_system_commands():
            yield SystemCommand(title, help_text, callback)
        yield SystemCommand(
            "Compare delivery guarantees",
            "One fault schedule against at-most-once, at-least-once, exactly-once… with every record's fate (F10)",
            self.action_compare,
        )
        yield SystemCommand(
            "Platform: Schema Registry and Connect",
            "Registry instances, Connect workers, which worker runs which task, internal topics (ctrl+g)",
            self.action_platform,
        )
        for tab, title in TABS:
            yield SystemCommand(
                f"Show {title}",
                f"Switch the right-hand panel to {title}",
                lambda tab=tab: setattr(self.query_one(TabbedContent), "active", tab),
            )
        if self.view is not None:
            for p in self.view.partitions:
                yield SystemCommand(
                    f"Show log of {p.name}",
                    "Show this partition in the log strip",
                    lambda p=p: self.post_message(PartitionSelected(p.topic, p.partition)),
                )
