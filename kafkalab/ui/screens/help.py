"""The help screen (``?`` / F1): every key binding, the console commands and how to read the screen."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "describe_commands"]

LEGEND = [
    ("●  ✖  ⏸", "broker up / down (killed) / paused (long GC pause)"),
    ("◆", "the active KRaft controller"),
    ("✂", "a network partition: the node cannot reach the listed nodes"),
    ("✗2  URP", "replica 2 is out of the ISR; the partition is under-replicated"),
    ("HW/LEO", "high watermark (consumers read below it) / log end offset (next offset to write)"),
    ("■ green", "a committed record (below the HW)"),
    ("■ yellow", "a record on the leader not yet committed (between HW and LEO)"),
    ("-3", "a follower 3 records behind the leader's LEO"),
    ("▲start ▲LSO ▲HW ▲LEO", "log start offset, last stable offset, HW, LEO"),
    ("▲g1", "the offset consumer group g1 committed for this partition"),
]


def describe_commands(commands: Any) -> list[tuple[str, str]]:
    """(name, help) pairs from the command layer's COMMANDS, whatever its shape (dict or objects)."""
    out: list[tuple[str, str]] = []
    if isinstance(commands, dict):
        items: list[tuple[str, Any]] = list(commands.items())
    else:
        items = [(str(getattr(c, "name", c)), c) for c in commands or ()]
    for name, spec in items:
        if isinstance(spec, str):
            text = spec
        else:
            text = next(
                (
                    str(v)
                    for v in (getattr(spec, a, None) for a in ("summary", "help", "usage", "description"))
                    if v
                ),
                "",
            )
        out.append((str(name), text.splitlines()[0] if text else ""))
    return out


class HelpScreen(ModalScreen[None]):
    """Everything the learner can press or type, and a legend of the symbols."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 100;
        max-width: 96%;
        height: 90%;
        border: thick $accent;
        border-title-align: center;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding(
            "escape,q,f1,question_mark", "close", "Close help", id="help.close", tooltip="Back to the lab"
        ),
    ]

    def __init__(self, bindings: list[tuple[str, str, str]], commands: list[tuple[str, str]]) -> None:
        super().__init__()
        self._binding_rows = bindings
        self._commands = commands

    def compose(self) -> ComposeResult:
        keys = Table(
            title="Keys", title_justify="left", show_header=False, box=None, expand=True, padding=(0, 1)
        )
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column(ratio=1)
        for key, desc, tip in self._binding_rows:
            keys.add_row(key, desc, tip)
        cmds = Table(
            title="Console commands",
            title_justify="left",
            show_header=False,
            box=None,
            expand=True,
            padding=(0, 1),
        )
        cmds.add_column(style="bold green", no_wrap=True)
        cmds.add_column(ratio=1)
        for name, text in self._commands:
            cmds.add_row(name, text)
        if not self._commands:
            cmds.add_row("", Text("(the command layer is not available)", style="dim"))
        legend = Table(
            title="Reading the screen",
            title_justify="left",
            show_header=False,
            box=None,
            expand=True,
            padding=(0, 1),
        )
        legend.add_column(style="bold", no_wrap=True)
        legend.add_column(ratio=1)
        for sym, text in LEGEND:
            legend.add_row(sym, text)
        intro = Text.assemble(
            ("kafkalab", "bold"),
            " runs a whole Kafka cluster in virtual time. Type commands in the console at the bottom; "
            "F-keys work everywhere, single-letter keys work when the console is not focused (press ",
            ("escape", "bold cyan"),
            " to leave or return to the console).\n",
        )
        scroll = VerticalScroll()
        scroll.border_title = "Help — escape to close"
        with scroll:
            yield Static(intro)
            yield Static(keys)
            yield Static(Text(""))
            yield Static(cmds)
            yield Static(Text(""))
            yield Static(legend)

    def action_close(self) -> None:
        self.dismiss(None)
