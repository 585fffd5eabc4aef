"""Messages the lab's widgets post up to the app (small dataclasses; the app owns the session)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = [
    "ChoicePicked",
    "CommandSubmitted",
    "ConsoleEOF",
    "LessonAction",
    "PartitionOpened",
    "PartitionSelected",
    "SimTick",
]


@dataclass
class SimTick(Message):
    """The wall-clock timer fired: advance the simulation by speed x the wall time since the last tick.

    Ticks carry no payload (the app measures elapsed wall time itself), so a queued tick may replace an
    older one: when the app falls behind, ticks merge instead of piling up.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SimTick)


@dataclass
class CommandSubmitted(Message):
    """The learner entered a line in the console."""

    command: str


@dataclass
class ConsoleEOF(Message):
    """The learner pressed ctrl+d in the console (ends an interactive command such as a console producer)."""


@dataclass
class PartitionSelected(Message):
    """The learner picked a partition whose log the log strip should show."""

    topic: str
    partition: int


@dataclass
class PartitionOpened(Message):
    """The learner drilled into a partition (Enter in the table): show its log and put the focus there."""

    topic: str
    partition: int


@dataclass
class ChoicePicked(Message):
    """The learner picked an answer to the lesson step's question (0-based index into its choices)."""

    index: int


@dataclass
class LessonAction(Message):
    """The learner pressed a button of the lesson pane: ``hint``, ``next`` or ``lessons``."""

    action: str
