"""A partition's log as a strip of records by offset, with the markers that matter.

Each cell is one offset of the selected partition. Offsets below the high watermark are committed (green),
the ones between HW and the leader's LEO are not yet (yellow). One row per replica shows how far each
follower's log reaches, so replication lag is visible; the rows underneath point at the log start offset,
the last stable offset (when the simulation tracks it), the HW, the LEO and every group's committed offset.
Press ``v`` to list the keys and values of the newest records; Esc goes back to the partition table.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

from ..view import LabView, LogView

__all__ = ["LogStrip", "render_log"]

LABEL_W = 11
CELL_W = 2


def _place(labels: list[tuple[int, str, str]], width: int) -> list[Text]:
    """Put ``(column, label, style)`` on as few lines as possible without overlaps (``▲label``)."""
    merged: dict[int, tuple[str, str]] = {}
    for col, label, style in labels:  # markers on the same offset share one arrow: ▲HW/LEO
        if col in merged:
            merged[col] = (merged[col][0] + "/" + label, merged[col][1])
        else:
            merged[col] = (label, style)
    lines: list[list[tuple[int, str, str]]] = []
    for col, (label, style) in sorted(merged.items()):
        text = "▲" + label
        if col + len(text) > width:  # flip the label to the left of the arrow at the right edge
            text = label + "▲"
            col = max(0, col - len(label))
        for line in lines:
            if all(col >= c + len(t) + 1 or col + len(t) + 1 <= c for c, t, _ in line):
                line.append((col, text, style))
                break
        else:
            lines.append([(col, text, style)])
    out = []
    for line in lines:
        t = Text(no_wrap=True)
        pos = 0
        for col, text, style in sorted(line):
            t.append(" " * (col - pos))
            t.append(text, style=style)
            pos = col + len(text)
        out.append(t)
    return out


def _offset_ruler(offsets: range, width: int) -> str:
    """Offset numbers above their cells, as many as fit without touching each other."""
    buf = [" "] * width
    free_from = 0
    for i, o in enumerate(offsets):
        col, label = i * CELL_W, str(o)
        if col >= free_from and col + len(label) <= width and (o % 5 == 0 or i == 0 or len(label) < CELL_W):
            buf[col : col + len(label)] = label
            free_from = col + len(label) + 1
    return "".join(buf).rstrip()


def render_log(log: LogView, width: int, show_records: bool) -> Text:
    out = Text(no_wrap=True, overflow="crop")
    out.append(f"{log.topic}-{log.partition}", style="bold")
    if log.leader < 0:
        out.append(" no leader (offline)", style="bold red")
    else:
        out.append(" leader ", style="dim")
        out.append(str(log.leader), style="bold")
    out.append(" epoch ", style="dim")
    out.append(str(log.leader_epoch))
    out.append("\n")
    marks = [("start", log.log_start_offset, "blue")]
    if log.last_stable_offset is not None:
        marks.append(("LSO", log.last_stable_offset, "magenta"))
    marks += [("HW", log.high_watermark, "green"), ("LEO", log.log_end_offset, "yellow")]
    for i, (name, off, style) in enumerate(marks):
        if i:
            out.append("  ")
        out.append(f"{name} ", style=f"bold {style}")
        out.append(str(off))
    out.append("\n")

    ncells = max(3, (width - LABEL_W - 4) // CELL_W)  # 4: room for a follower's lag (-12)
    end = log.log_end_offset  # the LEO slot is the last cell: where the next record will go
    first = max(0, end - ncells + 1)
    offsets = range(first, end + 1)

    out.append(f"{'offset':<{LABEL_W}}", style="dim")
    out.append(_offset_ruler(offsets, width - LABEL_W), style="dim")
    out.append("\n")

    for r in log.replicas:
        label = f"{'leader' if r.is_leader else 'replica'} {r.broker_id}"
        isr_mark = "" if r.in_isr else "✗"
        out.append(
            f"{(isr_mark + label):<{LABEL_W - 1}} "[:LABEL_W],
            style="bold" if r.is_leader else ("red" if not r.in_isr else ""),
        )
        if r.log_end_offset is None:
            out.append("down", style="bold red")
            out.append("\n")
            continue
        for o in offsets:
            if o < log.log_start_offset:
                out.append("  ")
            elif o < r.log_end_offset:
                out.append("■ ", style="green" if o < log.high_watermark else "yellow")
            else:
                out.append("· ", style="dim")
        lag = log.log_end_offset - r.log_end_offset
        if not r.is_leader and lag > 0:
            out.append(f" -{lag}", style="red")
        out.append("\n")

    labels = []
    for name, off, style in marks:
        if first <= off <= end:
            labels.append(((off - first) * CELL_W, name, f"bold {style}"))
    for group, off in log.committed:
        if first <= off <= end:
            labels.append(((off - first) * CELL_W, group, "bold cyan"))
    for line in _place(labels, width - LABEL_W):
        out.append(" " * LABEL_W)
        out.append_text(line)
        out.append("\n")
    for group, off in log.committed:
        out.append(f"{group}", style="bold cyan")
        out.append(f" committed {off}, lag {max(0, log.high_watermark - off)}\n", style="cyan")

    if show_records:
        if not log.records:
            out.append("(no records)\n", style="dim")
        for rec in log.records[-20:][::-1]:
            style = "" if rec.offset < log.high_watermark else "yellow"
            out.append(f"{rec.offset:>6} ", style="dim")
            out.append(f"{rec.key if rec.key is not None else 'null'}", style="bold " + style)
            out.append(" → ", style="dim")
            out.append(f"{rec.value if rec.value is not None else 'null'}\n", style=style)
    else:
        out.append("v: show keys and values", style="dim italic")
    out.rstrip()
    return out


class LogStrip(Widget, can_focus=True):
    """The selected partition's log, records by offset with LSO/HW/LEO/committed markers."""

    DEFAULT_CSS = """
    LogStrip {
        height: auto;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back to the table",
            show=False,
            id="log.back",
            tooltip="Back to the partition table (where Enter opened this log)",
        ),
    ]

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    show_records: reactive[bool] = reactive(False, layout=True)
    """List the newest records' keys and values under the strip."""

    _log: LogView | None = None
    #: (log, width, show_records) -> the text drawn for them (the last one only)
    _drawn: tuple[tuple[LogView | None, int, bool], Text] | None = None

    def watch_view(self, view: LabView | None) -> None:
        log = view.log if view is not None else None
        if log != self._log or self._log is None:  # redraw only when the partition's log changed
            self._log = log
            # a layout pass (which repaints the whole screen) only when the strip's height changes
            old = self._drawn[1] if self._drawn is not None else None
            new = self._text()
            self.refresh(layout=old is None or len(old.plain.split("\n")) != len(new.plain.split("\n")))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc goes back to the table when there is one; else it is the app's (back to the console)
        if action == "back":
            table = self.screen.query("#topics")
            return bool(table) and table.first().display
        return True

    def action_back(self) -> None:
        self.screen.query_one("#topics").focus()

    def _text(self) -> Text:
        v = self.view
        log = v.log if v is not None else None
        key = (log, max(20, self.size.width), self.show_records)
        if self._drawn is not None and self._drawn[0] == key:
            return self._drawn[1]
        if log is None:
            text = Text(
                "No partition selected. Create a topic, then pick a partition in the table.", style="dim"
            )
        else:
            text = render_log(log, key[1], self.show_records)
        self._drawn = (key, text)
        return text

    def render(self) -> Text:
        return self._text()
