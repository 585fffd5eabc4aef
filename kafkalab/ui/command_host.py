"""The console's link to the command layer: run a line on the session, show the result, complete lines.

:class:`CommandHost` is mixed into :class:`~kafkalab.ui.app.KafkaLabApp`. The command layer
(:mod:`kafkalab.commands`) is headless; this is the only place the app calls into it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .messages import CommandSubmitted, ConsoleEOF, PartitionSelected
from .widgets.status import format_ms

__all__ = ["CommandHost", "call_flex", "load_commands"]


def load_commands() -> tuple[Callable[..., Any] | None, Any, Callable[..., Any] | None, type | None]:
    """(execute, COMMANDS, complete, LabSession) from the command layer, or Nones if it is not there."""
    try:
        cmd_mod = importlib.import_module("kafkalab.commands")
        LabSession = importlib.import_module("kafkalab.commands.session").LabSession
    except (ImportError, AttributeError):
        return None, None, None, None
    return (
        getattr(cmd_mod, "execute", None),
        getattr(cmd_mod, "COMMANDS", None),
        getattr(cmd_mod, "complete", None),
        LabSession,
    )


def call_flex(fn: Callable[..., Any], session: Any, text: str) -> Any:
    """Call a command-layer function with the session and a line, whatever the parameter order.

    A parameter named ``session`` gets the session; the first other parameter gets the text. Without such
    names: ``fn(session, text)`` when it takes two required arguments, else ``fn(text)``.
    """
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params]
    if "session" in names:
        others = [p for p in params if p.name != "session" and p.kind != p.KEYWORD_ONLY]
        if others:
            return fn(**{"session": session, others[0].name: text})
    required = [p for p in params if p.default is p.empty and p.kind != p.KEYWORD_ONLY]
    if len(required) >= 2:
        return fn(session, text)
    return fn(text)


class CommandHost:
    """Runs what the learner typed (a mixin of the app; the app owns the session)."""

    session: Any
    selected: tuple[str, int] | None
    _execute: Callable[..., Any] | None
    _complete: Callable[..., Any] | None

    def on_command_submitted(self, message: CommandSubmitted) -> None:
        line = message.command
        console = self.lab_console
        console.echo(console.prompt, line)
        typing_commands = getattr(self.session, "input_mode", None) is None
        if not line.strip() and typing_commands:
            return
        if line.strip() == "?" and typing_commands:  # the learner's shorthand for help: open the help screen
            self.action_help()  # type: ignore[attr-defined]
            return
        if self._execute is None:
            console.write_lines(
                ["error: the command layer (kafkalab.commands) is not available"], style="bold red"
            )
            return
        if self._lesson_command(line):  # 'hint', 'next', 'lessons' while a lesson is open
            return
        try:
            if self.lesson_run is not None:  # lesson verbs, and goals checked after every line
                result = self.lesson_run.execute(line)
            else:
                result = call_flex(self._execute, self.session, line)
        except Exception as e:  # the console must survive any bug below it
            console.write_lines([f"error: internal error: {type(e).__name__}: {e}"], style="bold red")
            self.refresh_view()
            return
        console.show_result(result)
        question = getattr(result, "confirm", None)
        if question:
            self.confirm_command(question, line)  # type: ignore[attr-defined]
        new_session = getattr(result, "session", None)
        if new_session is not None and new_session is not self.session:
            self.replace_session(new_session, f"now at t = {format_ms(new_session.cluster.now_ms)}")
        self._update_prompt()
        self.refresh_view()

    def run_confirmed(self, line: str) -> None:
        """Run a console line the learner confirmed (it carries ``--yes``)."""
        self.post_message(CommandSubmitted(line))  # type: ignore[attr-defined]

    def on_console_eof(self, _message: ConsoleEOF) -> None:
        if getattr(self.session, "input_mode", None) is None:
            return
        end = getattr(self.session, "end_input", None)
        try:
            # kafka-console-producer ends at EOF or an empty line: send the empty line
            result = (
                end()
                if callable(end)
                else call_flex(self._execute, self.session, "")
                if self._execute
                else None
            )
        except Exception as e:
            self.lab_console.write_lines(
                [f"error: internal error: {type(e).__name__}: {e}"], style="bold red"
            )
            result = None
        if result is not None and hasattr(result, "ok"):
            self.lab_console.show_result(result)
        self._update_prompt()
        self.refresh_view()

    def on_partition_selected(self, message: PartitionSelected) -> None:
        self.selected = (message.topic, message.partition)
        self.refresh_view()

    def _update_prompt(self) -> None:
        mode = getattr(self.session, "input_mode", None)
        prompt = getattr(self.session, "prompt", None)
        self.lab_console.prompt = prompt if isinstance(prompt, str) else (">" if mode else "$")
        self.lab_console.input_hint = mode

    def _complete_line(self, text: str) -> Iterable[str]:
        if self._complete is None:
            return []
        return call_flex(self._complete, self.session, text) or []
