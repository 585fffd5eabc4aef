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
    (
        "▶ playing  ⏸ paused",
        "status bar: virtual time runs / stands still; 2× is the speed, t the virtual clock",
    ),
    (
        "▶ Topics (heavy border)",
        "the panel the keys go to; the console says (typing here) or (Esc: type here)",
    ),
    ("●  ✖  ⏸", "broker or controller up / down (killed) / paused (long GC pause)"),
    ("◆", "the active KRaft controller"),
    ("fenced", "the controller fenced the broker (missed heartbeats): it leads nothing"),
    ("✂  cut off", "a network partition: the node cannot reach the listed nodes"),
    ("Partition", "topic-partition, e.g. events-0 (sorted by number: events-2 before events-10)"),
    ("Ldr", "the partition's leader (broker id); none: no leader, the partition is offline"),
    ("3✖", "the leader's broker died and the controller has not noticed yet"),
    ("Replicas", "every broker holding a replica, in assignment order, as kafka-topics --describe"),
    ("✗2", "replica 2 is out of the ISR (also missing from the Isr column)"),
    ("Isr", "the in-sync replicas, as kafka-topics --describe writes them: 1,3"),
    ("URP", "under-replicated: fewer in-sync replicas than replicas"),
    ("Ep", "leader epoch: goes up by one at every leader change"),
    ("HW/LEO", "high watermark (consumers read below it) / log end offset (next offset to write)"),
    ("■ green", "a committed record (below the HW)"),
    ("■ yellow", "a record on the leader not yet committed (between HW and LEO)"),
    ("·", "an offset not written yet on that replica"),
    ("-3", "a follower 3 records behind the leader's LEO"),
    ("▲start ▲LSO ▲HW ▲LEO", "log start offset, last stable offset, HW, LEO"),
    ("▲g1", "the offset consumer group g1 committed for this partition"),
    ("gen 3  (leader)", "Groups: the group's generation; the member that computes the assignment"),
    ("events 0-2,5", "Groups: a member's partitions events-0, -1, -2 and -5"),
    ("████▌ 12", "Groups: the partition's lag (records between the committed offset and the HW)"),
    (
        "▁▃▅▇",
        "Charts: produce and consume rates, each group's lag: one column per virtual second, zero at the bottom, newest on the right",
    ),
    ("[●b1─●b2─◆c3000]", "Diagram: nodes that reach each other (an island)"),
    ("╳━━", "Diagram: a cut link between two islands"),
    ("L  F  ✗  ·", "Diagram: the broker leads / follows in the ISR / is out of the ISR / holds no replica"),
    ("✓  ✗  ⧉", "Compare: none / a problem count; ⧉ a duplicated record"),
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
            " to leave or return to the console). Typing a letter that is no key in a panel goes to the "
            "console.\n",
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
