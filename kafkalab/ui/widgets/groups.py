"""Consumer groups: state, generation, assignor, members with their partitions, committed offsets and lag."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..view import LabView
from .shape import needs_layout

__all__ = ["GroupsPanel", "render_groups"]

_STATE_STYLE = {
    "Stable": "green",
    "PreparingRebalance": "yellow",
    "CompletingRebalance": "yellow",
    "Dead": "red",
    "Empty": "dim",
}


def render_groups(v: LabView) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    if v.groups is None:
        t.append("Consumer groups are not available in this build of the simulation yet.", style="dim")
        return t
    if not v.groups:
        t.append("No consumer groups yet.\n", style="dim")
        t.append(
            "Start a consumer with a group, e.g. kafka-console-consumer --topic T --group g1", style="dim"
        )
        return t
    for g in v.groups:
        t.append(g.group_id, style="bold cyan")
        t.append("  ")
        t.append(g.state, style=_STATE_STYLE.get(g.state, ""))
        if g.generation is not None:
            t.append(f"  gen {g.generation}")
        if g.assignor:
            t.append(f"  {g.assignor}", style="dim")
        lag = g.total_lag
        if lag is not None:
            t.append("  lag ", style="dim")
            t.append(str(lag), style="bold red" if lag else "green")
        t.append("\n")
        for m in g.members:
            t.append(f"  {m.client_id or m.member_id}", style="bold")
            if g.leader and m.member_id == g.leader:
                t.append(" (leader)", style="dim")
            t.append(": ")
            t.append(
                ", ".join(m.partitions) if m.partitions else "(no partitions)",
                style="" if m.partitions else "dim",
            )
            t.append("\n")
        if not g.members:
            t.append("  (no members)\n", style="dim")
        for name, committed, plag in g.offsets:
            t.append(f"  {name}", style="dim")
            t.append(f" committed {committed if committed is not None else '-'}")
            if plag is not None:
                t.append(f" lag {plag}", style="red" if plag else "green")
            t.append("\n")
    t.rstrip()
    return t


class GroupsPanel(Static):
    """Every consumer group the coordinator knows about (when the simulation offers them)."""

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    _shown: Text | None = None

    def watch_view(self, view: LabView | None) -> None:
        text = render_groups(view) if view is not None else Text("")
        if text != self._shown:  # repaint only when what it shows changed, re-layout only when its shape did
            layout = needs_layout(self._shown, text)
            self._shown = text
            self.update(text, layout=layout)
