"""Brokers, the active controller and network partitions."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..view import LabView
from .shape import needs_layout

__all__ = ["BrokersPanel", "render_brokers", "summarize_cuts"]

_STATE = {
    "up": ("●", "green"),
    "down": ("✖", "bold red"),
    "paused": ("⏸", "yellow"),
}


def cut_hubs(cuts: tuple[tuple[str, str], ...]) -> list[tuple[str, list[str]]]:
    """Group cut links by the node on most of them: ``[("broker-2", ["broker-1", "broker-3", ...])]``."""
    pairs = {tuple(sorted(p)) for p in cuts}
    out: list[tuple[str, list[str]]] = []
    while pairs:
        degree: dict[str, int] = {}
        for a, b in pairs:
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
        hub = max(sorted(degree), key=lambda n: degree[n])
        others = sorted(b if a == hub else a for a, b in pairs if hub in (a, b))
        pairs = {p for p in pairs if hub not in p}
        out.append((hub, others))
    return out


def summarize_cuts(cuts: tuple[tuple[str, str], ...], limit: int = 3) -> list[str]:
    """One line per isolated node: ``broker-2 ✕ broker-1, broker-3, controller-3000 +2``."""
    lines = []
    for hub, others in cut_hubs(cuts):
        shown = ", ".join(others[:limit]) + (f" +{len(others) - limit}" if len(others) > limit else "")
        lines.append(f"{hub} ✕ {shown}")
    return lines


def render_brokers(v: LabView) -> Text:
    cut_nodes = {hub for hub, _ in cut_hubs(v.network_cuts)}
    t = Text(no_wrap=True, overflow="ellipsis")
    for b in v.brokers:
        icon, style = _STATE.get(b.state, ("?", ""))
        t.append(f"{icon} ", style=style)
        t.append(f"broker {b.broker_id}", style="bold")
        t.append(f" {b.state:<6}", style=style)
        if b.partitions_led:
            t.append(f" leads {b.partitions_led}", style="cyan")
        if b.fenced:
            t.append(" fenced", style="magenta")
        if f"broker-{b.broker_id}" in cut_nodes:
            t.append(" cut off", style="bold red")
        t.append("\n")
    active = v.controller_id
    for cid, state in v.controllers:
        if cid == active:
            t.append("◆ ", style="bold cyan")
            t.append(f"controller {cid}", style="bold")
            t.append(" active", style="cyan")
        else:
            icon, style = _STATE.get(state, ("?", ""))
            t.append(f"{icon} ", style=style)
            t.append(f"controller {cid}")
            t.append(f" {state}", style=style)
        t.append("\n")
    if active is None:
        t.append("✖ no active controller\n", style="bold red")
    for line in summarize_cuts(v.network_cuts):
        t.append("✂ ", style="bold red")
        t.append(line + "\n", style="red")
    t.rstrip()
    return t


class BrokersPanel(Static):
    """One line per broker (up/down/paused, fenced, leaderships), the controllers, the network cuts."""

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    _shown: Text | None = None

    def watch_view(self, view: LabView | None) -> None:
        text = render_brokers(view) if view is not None else Text("")
        if text != self._shown:  # repaint only when what it shows changed, re-layout only when its shape did
            layout = needs_layout(self._shown, text)
            self._shown = text
            self.update(text, layout=layout)
