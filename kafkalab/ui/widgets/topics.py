"""Topics and partitions: leader, replicas, ISR, leader epoch, HW/LEO; under-replicated flagged.

The columns read as ``kafka-topics --describe`` writes a partition (``Leader: 1 Replicas: 1,2,3 Isr: 1,3``).
Colour is a second cue only: a replica out of the ISR is also marked ``✗`` in Replicas and missing from Isr.
``j``/``k`` (or the arrows) move, Enter opens the partition's log, ``/`` filters the rows.
"""

from __future__ import annotations

import contextlib
import time

from rich.text import Text
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import DataTable

from ..messages import PartitionOpened, PartitionSelected
from ..view import LabView, PartitionView
from .filter_bar import FilterBar, matches

__all__ = ["COLUMNS", "TopicsTable", "partition_cells"]

#: (key, header); the legend of the help screen explains every header
COLUMNS = (
    ("partition", "Partition"),
    ("leader", "Ldr"),
    ("replicas", "Replicas"),
    ("isr", "Isr"),
    ("epoch", "Ep"),
    ("offsets", "HW/LEO"),
)


def _replicas_cell(p: PartitionView) -> Text:
    """``1,2,✗3``: every assigned replica, the ones out of the ISR marked ✗ (and red)."""
    t = Text(no_wrap=True)
    for i, r in enumerate(p.replicas):
        if i:
            t.append(",")
        if r not in p.isr:
            t.append(f"✗{r}", style="bold red")
        elif r == p.leader:
            t.append(str(r), style="bold green")
        else:
            t.append(str(r), style="green")
    return t


def _isr_cell(p: PartitionView) -> Text:
    """``1,3`` as kafka-topics writes the ISR; ``URP`` after it when the partition is under-replicated."""
    t = Text(
        ",".join(str(r) for r in p.isr) or "none", style="yellow" if p.under_replicated else "", no_wrap=True
    )
    if p.under_replicated:
        t.append(" URP", style="bold black on yellow")
    return t


def partition_cells(p: PartitionView) -> tuple[Text, ...]:
    name = Text(p.name, style="bold" if not p.offline else "bold red", no_wrap=True)
    if p.offline:
        leader = Text("none", style="bold red")
    elif not p.leader_alive:  # killed, and the controller has not noticed yet
        leader = Text(f"{p.leader}✖", style="bold red")
    else:
        leader = Text(str(p.leader), style="bold")
    offsets = (
        Text("?", style="dim") if p.high_watermark < 0 else Text(f"{p.high_watermark}/{p.log_end_offset}")
    )
    cells = (name, leader, _replicas_cell(p), _isr_cell(p), Text(str(p.leader_epoch)), offsets)
    # one space before every cell (the table has no cell padding): 80 columns hold all six
    return tuple(Text(" ", no_wrap=True) + cell for cell in cells)


#: rows above and below the visible ones that are kept up to date too
VISIBLE_MARGIN = 5
#: while time plays, changed numbers are redrawn at most this often (per wall second): every cell update
#: re-renders the whole table, and HW/LEO counters moving faster than this cannot be read anyway
PLAYING_HZ = 5


class TopicsTable(DataTable[Text]):
    """One row per partition; moving the cursor selects the partition shown in the log strip."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="topics.down", tooltip="Next partition"),
        Binding("k", "cursor_up", "Up", show=False, id="topics.up", tooltip="Previous partition"),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            show=False,
            id="topics.filter",
            tooltip="Filter the partitions by topic or name (Enter keeps the filter, Esc clears it)",
        ),
    ]

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    pattern: reactive[str] = reactive("", init=False)
    """Only partitions whose name has every word of this are listed; empty: all."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=False, show_cursor=True, cell_padding=0
        )
        self._parts: dict[str, PartitionView] = {}  # what each row shows now
        self._shown: list[PartitionView] = []  # the rows, in order, as the latest snapshot has them
        self._keys: list[str] = []
        self._rebuilding = False
        self._updated_at = 0.0

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(f" {label}", key=key)

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        shown = [p for p in view.partitions if not self.pattern or matches(p.name, self.pattern)]
        keys = [p.name for p in shown]
        if keys != self._keys:
            self._rebuilding = True
            try:
                self.clear()
                self._parts = {p.name: p for p in shown}
                for p in shown:
                    self.add_row(*partition_cells(p), key=p.name)
                self._keys = keys
                if view.selected is not None:
                    name = f"{view.selected[0]}-{view.selected[1]}"
                    if name in keys:
                        self.move_cursor(row=keys.index(name), animate=False)
            finally:
                self._rebuilding = False
            self._shown = shown
            return
        self._shown = shown
        now = time.perf_counter()
        if view.playing and now - self._updated_at < 1 / PLAYING_HZ:
            return  # the next snapshot (time is playing: one comes soon) brings the latest numbers
        self._updated_at = now
        self._update_rows(self._visible_rows())

    def _visible_rows(self) -> range:
        """Rows on screen (and a few around): only those are redrawn; the others when scrolled to."""
        top = int(self.scroll_y)
        return range(max(0, top - VISIBLE_MARGIN), top + self.size.height + VISIBLE_MARGIN)

    def _update_rows(self, rows: range) -> None:
        shown = self._shown
        for index in range(max(0, rows.start), min(len(shown), rows.stop)):
            p = shown[index]
            old = self._parts.get(p.name)
            if old == p:  # frozen snapshots: equal means nothing to redraw (most rows, most of the time)
                continue
            old_cells = partition_cells(old) if old is not None else None
            for i, ((col, _), new_cell) in enumerate(zip(COLUMNS, partition_cells(p), strict=True)):
                if old_cells is None or old_cells[i] != new_cell:
                    # widen a column when a cell outgrows it, never narrow it: narrowing makes the table
                    # measure the whole column again, for every updated cell (seconds with 1,000 rows)
                    column = self.columns.get(col)  # type: ignore[call-overload]
                    grow = column is None or new_cell.cell_len > column.content_width
                    self.update_cell(p.name, col, new_cell, update_width=grow)
            self._parts[p.name] = p

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if int(old) != int(new) and not self._rebuilding:
            self._update_rows(self._visible_rows())  # rows scrolled into view show the latest numbers

    def watch_pattern(self, _pattern: str) -> None:
        self._keys = []  # rebuild the rows
        self.watch_view(self.view)

    def action_filter(self) -> None:
        with contextlib.suppress(NoMatches):
            self.screen.query_one("#topics-filter", FilterBar).open()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: open the partition (its log, focused)."""
        event.stop()
        p = self._partition(event.row_key.value)
        if p is not None:
            self.post_message(PartitionOpened(p.topic, p.partition))

    def _partition(self, name: str | None) -> PartitionView | None:
        if self.view is None or name is None:
            return None
        return next((p for p in self.view.partitions if p.name == name), None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self._rebuilding or self.view is None or event.row_key.value is None:
            return
        p = next((p for p in self.view.partitions if p.name == event.row_key.value), None)
        if p is not None and self.view.selected != (p.topic, p.partition):
            self.post_message(PartitionSelected(p.topic, p.partition))
