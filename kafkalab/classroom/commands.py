"""Console commands of the classroom: ``note``, and the help entries of ``record`` and ``export-lesson``.

``note TEXT`` marks a moment of the run with a caption: it changes nothing in the cluster, but it is an
action (kept in the action log with its position, replayed by a rewind, written into a scenario), so a
teacher's notes stay where they were made and become the player's captions and a lesson's step texts.

``record`` and ``export-lesson`` write files. Lesson files and scenarios are untrusted input and run console
commands, so these two are not commands of the command layer: the lab screen's console answers them
(:mod:`kafkalab.ui.classroom_host`); typed anywhere else (a lesson path, a scenario, a script) they are
refused with a sentence saying where they work.
"""

from __future__ import annotations

from ..commands.base import Plan
from ..commands.parsing import CommandError
from ..commands.session import LabSession

__all__ = ["CLASSROOM_COMMANDS", "MAX_NOTE_CHARS", "RECORD_USAGE", "EXPORT_USAGE"]

#: characters in one note
MAX_NOTE_CHARS = 500
NOTE_USAGE = 'note TEXT   (quote text with an apostrophe: note "the leader\'s gone")'
RECORD_USAGE = "record [FILE.yaml] [--title TEXT]"
EXPORT_USAGE = "export-lesson FILE.yaml"


def note(session: LabSession, argv: list[str]) -> Plan:
    text = " ".join(argv).strip()
    if not text:
        raise CommandError(f"usage: {NOTE_USAGE}")
    if len(text) > MAX_NOTE_CHARS:
        raise CommandError(f"a note holds at most {MAX_NOTE_CHARS} characters (this one has {len(text)})")

    def run() -> list[str]:
        t = session.now_ms
        return [f"note at t = {t // 1000}.{t % 1000:03d} s: {text}"]

    return Plan(run, records=True)


def _screen_only(name: str) -> object:
    def handler(session: LabSession, argv: list[str]) -> Plan:
        raise CommandError(
            f"{name} writes a file, so it works only in the lab screen's console "
            "(not in lesson paths, scenarios or scripts)"
        )

    return handler


#: name -> (summary, usage, handler), registered by kafkalab.commands
CLASSROOM_COMMANDS = {
    "note": ("mark this moment with a caption (scenarios, exported lessons)", NOTE_USAGE, note),
    "record": (
        "save this session as a scenario file to play back (kafkalab play)",
        RECORD_USAGE,
        _screen_only("record"),
    ),
    "export-lesson": (
        "write a lesson skeleton from this session (steps, proposed goals)",
        EXPORT_USAGE,
        _screen_only("export-lesson"),
    ),
}
