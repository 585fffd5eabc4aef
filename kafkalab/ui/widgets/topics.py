"""Topics and partitions: leader, replicas with the ISR, leader epoch, HW/LEO; under-replicated flagged."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from ..messages import PartitionSelected
from ..view import LabView, PartitionView

__all__ = ["TopicsTable", "partition_cells"]

COLUMNS = (
    ("partition", "Partition"),
    ("leader", "Ldr"),
    ("isr", "Replicas"),
    ("epoch", "Ep"),
    ("offsets", "HW/LEO"),
)


def _isr_cell(p: PartitionView) -> Text:
    t = Text(no_wrap=True)
    for i, r in enumerate(p.replicas):
        if i:
            t.append(" ")
        if r not in p.isr:
            t.append(f"✗{r}", style="bold red")
        elif r == p.leader:
            t.append(str(r), style="bold green")
        else:
            t.append(str(r), style="green")
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
    return name, leader, _isr_cell(p), Text(str(p.leader_epoch)), offsets


#: while time plays, changed numbers are redrawn at most this often (per wall second): every cell update
#: re-renders the whole table, and HW/LEO counters moving faster than this cannot be read anyway
PLAYING_HZ = 5


class TopicsTable(DataTable[Text]):
    """One row per partition; moving the cursor selects the partition shown in the log strip."""

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False, show_cursor=True)
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._keys: list[str] = []
        self._rebuilding = False
        self._updated_at = 0.0

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def watch_view(self, view: LabView | None) -> None:
        if view is None:
            return
        rows = {p.name: partition_cells(p) for p in view.partitions}
        keys = [p.name for p in view.partitions]
        if keys != self._keys:
            self._rebuilding = True
            try:
                self.clear()
                for k in keys:
                    self.add_row(*rows[k], key=k)
                self._keys = keys
                if view.selected is not None:
                    name = f"{view.selected[0]}-{view.selected[1]}"
                    if name in keys:
                        self.move_cursor(row=keys.index(name), animate=False)
            finally:
                self._rebuilding = False
        else:
            now = time.perf_counter()
            if view.playing and now - self._updated_at < 1 / PLAYING_HZ:
                return  # the next snapshot (time is playing: one comes soon) brings the latest numbers
            self._updated_at = now
            for k in keys:
                old = self._cells.get(k)
                for (col, _), new_cell, i in zip(COLUMNS, rows[k], range(len(COLUMNS)), strict=True):
                    if old is None or old[i] != new_cell:
                        self.update_cell(k, col, new_cell, update_width=True)
        self._cells = rows

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self._rebuilding or self.view is None or event.row_key.value is None:
            return
        p = next((p for p in self.view.partitions if p.name == event.row_key.value), None)
        if p is not None and self.view.selected != (p.topic, p.partition):
            self.post_message(PartitionSelected(p.topic, p.partition))
