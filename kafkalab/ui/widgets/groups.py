"""Consumer groups: state, generation, assignor, members with their partitions, committed offsets and lag.

Each partition's lag is drawn as a bar (scaled to the group's largest lag, the number beside it), so the
partition that falls behind stands out. ``j``/``k`` pick a group, Enter shows that group alone (Esc goes
back to all of them), ``/`` filters the groups by id, member or partition.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widget import Widget

from ..view import GroupView, LabView
from .filter_bar import FilterBar, matches

__all__ = ["GroupsPanel", "compact_partitions", "lag_bar", "render_groups"]

_STATE_STYLE = {
    "Stable": "green",
    "PreparingRebalance": "yellow",
    "CompletingRebalance": "yellow",
    "Dead": "red",
    "Empty": "dim",
}

#: eighths of a cell, for bars with sub-cell resolution
_EIGHTHS = " ▏▎▍▌▋▊▉"


def lag_bar(lag: int, largest: int, width: int) -> str:
    """A horizontal bar ``width`` cells long at most, ``lag / largest`` of it filled (eighths of a cell)."""
    if width <= 0 or largest <= 0 or lag <= 0:
        return " " * max(0, width)
    eighths = max(1, round(lag / largest * width * 8))  # any lag at all shows at least a sliver
    full, part = divmod(min(eighths, width * 8), 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    return bar.ljust(width)


def compact_partitions(names: tuple[str, ...]) -> str:
    """``events-0, events-1, events-2, events-5`` → ``events 0-2,5`` (one topic after another)."""
    by_topic: dict[str, list[int]] = {}
    other: list[str] = []
    for name in names:
        topic, _, num = name.rpartition("-")
        if topic and num.isdigit():
            by_topic.setdefault(topic, []).append(int(num))
        else:
            other.append(name)
    parts = []
    for topic, nums in by_topic.items():
        nums.sort()
        runs: list[str] = []
        start = prev = nums[0]
        for n in [*nums[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        parts.append(f"{topic} {','.join(runs)}")
    return "; ".join(parts + other)


def _group_text(t: Text, g: GroupView, width: int, *, cursor: bool) -> None:
    t.append("▶ " if cursor else "  ", style="bold reverse" if cursor else "")
    t.append(g.group_id, style="bold cyan")
    t.append("  ")
    t.append(g.state, style=_STATE_STYLE.get(g.state, ""))
    lag = g.total_lag  # before the details: a narrow panel cuts the end of the line
    if lag is not None:
        t.append("  lag ", style="dim")
        t.append(str(lag), style="bold red" if lag else "green")
    if g.generation is not None:
        t.append(f"  gen {g.generation}")
    if g.assignor:
        t.append(f"  {g.assignor}", style="dim")
    t.append("\n")
    for m in g.members:
        t.append(f"    {m.client_id or m.member_id}", style="bold")
        if g.leader and m.member_id == g.leader:
            t.append(" (leader)", style="dim")
        t.append(": ")
        t.append(
            compact_partitions(m.partitions) if m.partitions else "(no partitions)",
            style="" if m.partitions else "dim",
        )
        t.append("\n")
    if not g.members:
        t.append("    (no members)\n", style="dim")
    if not g.offsets:
        return
    name_w = max([9, *(len(name) for name, _c, _l in g.offsets)])
    num_w = max([3, *(len(str(c)) for _n, c, _l in g.offsets if c is not None)])
    lag_w = max([3, *(len(str(lg)) for _n, _c, lg in g.offsets if lg is not None)])
    bar_w = max(4, min(30, width - 4 - name_w - 1 - num_w - 2 - lag_w - 3))
    largest = max((lg for _n, _c, lg in g.offsets if lg is not None), default=0)
    t.append(
        f"    {'partition':<{name_w}} {'committed':>{num_w}}  {'lag':<{bar_w + lag_w + 1}}\n", style="dim"
    )
    for name, committed, plag in g.offsets:
        t.append(f"    {name:<{name_w}} ")
        t.append(f"{committed if committed is not None else '-':>{num_w}}  ")
        if plag is None:
            t.append("?", style="dim")
        else:
            t.append(lag_bar(plag, largest, bar_w), style="red" if plag else "green")
            t.append(f" {plag:>{lag_w}}", style="bold red" if plag else "green")
        t.append("\n")


def render_groups(
    v: LabView, width: int = 60, *, cursor: str | None = None, only: str | None = None, pattern: str = ""
) -> Text:
    """The groups of ``v``: all of them, or ``only`` that one; ``cursor`` marks the picked group."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if v.groups is None:
        t.append("Consumer groups are not available in this build of the simulation yet.", style="dim")
        return t
    if not v.groups:
        t.append("No consumer groups yet. Start a consumer\nwith a group, e.g.\n", style="dim")
        t.append("  start-consumer c1 --topic T --group g1", style="dim")
        return t
    groups = [g for g in v.groups if only is None or g.group_id == only]
    if pattern:
        groups = [g for g in groups if matches(_searchable(g), pattern)]
    if only is not None:
        t.append("one group (Esc: all groups)\n", style="dim")
    elif len(v.groups) > 1 or pattern:
        t.append("j/k pick · Enter: only it · / filter\n", style="dim")
    if not groups:
        t.append(f"no group matches '{pattern}'" if pattern else f"group {only} is gone", style="dim")
        return t
    for g in groups:
        _group_text(t, g, width, cursor=g.group_id == cursor and only is None and len(groups) > 1)
    t.rstrip()
    return t


def _searchable(g: GroupView) -> str:
    parts = [g.group_id, g.state, *(m.client_id for m in g.members), *(n for n, _c, _l in g.offsets)]
    return " ".join(parts)


class GroupsPanel(Widget, can_focus=True):
    """Every consumer group the coordinator knows about, with per-partition lag bars."""

    DEFAULT_CSS = """
    GroupsPanel {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS = [
        Binding(
            "j,down", "move(1)", "Next group", show=False, id="groups.down", tooltip="Pick the next group"
        ),
        Binding(
            "k,up",
            "move(-1)",
            "Previous group",
            show=False,
            id="groups.up",
            tooltip="Pick the previous group",
        ),
        Binding(
            "enter",
            "open",
            "Open group",
            show=False,
            id="groups.open",
            tooltip="Show only the picked group (Esc: all groups again)",
        ),
        Binding("escape", "back", "All groups", show=False, id="groups.back", tooltip="Back to every group"),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            show=False,
            id="groups.filter",
            tooltip="Filter the groups by id, member or partition (Enter keeps the filter, Esc clears it)",
        ),
    ]

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    cursor: reactive[str | None] = reactive(None, init=False)
    """The picked group (j/k)."""

    opened: reactive[str | None] = reactive(None, init=False)
    """The group shown alone (Enter), None: every group."""

    pattern: reactive[str] = reactive("", init=False)
    """Only groups matching every word of this are shown."""

    _shown: Text | None = None

    def _visible_ids(self) -> list[str]:
        v = self.view
        if v is None or not v.groups:
            return []
        return [g.group_id for g in v.groups if not self.pattern or matches(_searchable(g), self.pattern)]

    def watch_view(self, _view: LabView | None) -> None:
        self._update()

    def watch_cursor(self, _cursor: str | None) -> None:
        self._update()

    def watch_opened(self, _opened: str | None) -> None:
        self._update()

    def watch_pattern(self, _pattern: str) -> None:
        self._update()

    def on_resize(self) -> None:
        self._update()

    def on_show(self) -> None:
        self._update(force=True)

    def _update(self, force: bool = False) -> None:
        if not force and not self.is_on_screen and self._shown is not None:
            return  # in a tab nobody looks at: drawn when it is shown (on_show)
        view = self.view
        ids = self._visible_ids()
        if ids and self.cursor not in ids:
            self.set_reactive(GroupsPanel.cursor, ids[0])
        if view is None:
            text = Text("")
        else:
            text = render_groups(
                view, max(20, self.size.width - 2), cursor=self.cursor, only=self.opened, pattern=self.pattern
            )
        if text != self._shown:  # repaint only when what it shows changed, re-layout only when its shape did
            layout = self._shown is None or text.plain.count("\n") != self._shown.plain.count("\n")
            self._shown = text
            self.refresh(layout=layout)

    def render(self) -> Text:
        return self._shown or Text("")

    def action_move(self, delta: int) -> None:
        ids = self._visible_ids()
        if not ids:
            return
        i = ids.index(self.cursor) if self.cursor in ids else 0
        self.cursor = ids[max(0, min(len(ids) - 1, i + delta))]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Esc goes back to every group; with every group shown it is the app's (back to the console)
        return not (action == "back" and self.opened is None)

    def action_open(self) -> None:
        if self.cursor is not None:
            self.opened = self.cursor

    def action_back(self) -> None:
        self.opened = None

    def action_filter(self) -> None:
        with contextlib.suppress(NoMatches):
            self.screen.query_one("#groups-filter", FilterBar).open()
