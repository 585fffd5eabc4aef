"""A picture of the cluster: who can reach whom, which broker leads or follows each partition.

Top: the network. Nodes that reach each other are drawn on one line (an island); a network partition
splits them into islands joined by a broken link ``━━╳━━``. Each node shows its state: ``●`` up, ``✖``
dead, ``⏸`` paused, ``◆`` the active controller; cuts to clients are listed under it.

Below: the replica placement, one row per partition and one column per broker: ``L`` leads, ``F``
follows in the ISR, ``✗`` holds a replica that fell out of the ISR, ``·`` holds none. A leader whose broker
died (and the controller has not noticed yet) is ``L✖``; a partition without a leader says "offline".
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..view import LabView, PartitionView

__all__ = ["ClusterDiagram", "islands", "render_diagram"]

#: partitions drawn at most (the rest are counted; the Topics table filters with /)
MAX_ROWS = 200

_STATE = {"up": ("●", "green"), "down": ("✖", "bold red"), "paused": ("⏸", "yellow")}


def _node_names(v: LabView) -> list[str]:
    return [f"broker-{b.broker_id}" for b in v.brokers] + [f"controller-{cid}" for cid, _s in v.controllers]


def islands(v: LabView) -> list[list[str]]:
    """The brokers and controllers grouped by who reaches whom (any cut link separates two nodes)."""
    nodes = _node_names(v)
    cut = {frozenset(p) for p in v.network_cuts}
    parent = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            if frozenset((a, b)) not in cut:
                parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    return sorted(groups.values(), key=lambda g: -len(g))


def _chip(v: LabView, node: str) -> Text:
    kind, _, num = node.partition("-")
    t = Text(no_wrap=True)
    if kind == "broker":
        b = next(b for b in v.brokers if b.broker_id == int(num))
        icon, style = _STATE.get(b.state, ("?", ""))
        t.append(icon, style=style)
        t.append(f"b{num}", style="bold")
        if b.fenced and b.state != "down":
            t.append("(fenced)", style="magenta")
    else:
        state = next(s for cid, s in v.controllers if str(cid) == num)
        if v.controller_id is not None and str(v.controller_id) == num:
            t.append("◆", style="bold cyan")
        else:
            icon, style = _STATE.get(state, ("?", ""))
            t.append(icon, style=style)
        t.append(f"c{num}", style="cyan")
    return t


def _network(v: LabView, width: int) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("Network", style="bold")
    groups = islands(v)
    t.append(
        "  one island: all reach each other\n" if len(groups) == 1 else "  ╳━━ a cut link\n", style="dim"
    )
    for gi, group in enumerate(groups):
        if gi:
            t.append("╳━━ ", style="bold red")
        t.append("[", style="dim")
        for ni, node in enumerate(group):
            if ni:
                t.append("─", style="dim")
            t.append_text(_chip(v, node))
        t.append("]\n", style="dim")
    # cuts between a broker or controller and clients: one line per cluster node
    cluster = set(_node_names(v))
    clients: dict[str, list[str]] = {}
    for a, b in v.network_cuts:
        if (a in cluster) == (b in cluster):
            continue
        node, other = (a, b) if a in cluster else (b, a)
        clients.setdefault(node, []).append(other)
    for node in sorted(clients):
        names = sorted(clients[node])
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        t.append(f"{node} ╳ clients {shown}\n", style="red")
    return t


def _cell(p: PartitionView, broker: int) -> tuple[str, str]:
    if broker not in p.replicas:
        return "·", "dim"
    if broker == p.leader and not p.offline:
        return ("L", "bold green") if p.leader_alive else ("L✖", "bold red")
    if broker in p.isr:
        return "F", "green"
    return "✗", "bold red"


def _placement(v: LabView, width: int) -> Text:
    t = Text(no_wrap=True, overflow="crop")
    t.append("Replicas\n", style="bold")
    t.append("L lead · F follow · ✗ not in ISR\n", style="dim")
    if not v.partitions:
        t.append("no topics yet\n", style="dim")
        return t
    ids = [b.broker_id for b in v.brokers]
    name_w = min(18, max([9, *(len(p.name) for p in v.partitions[:MAX_ROWS])]))
    col = max([4, *(len(f"b{i}") + 1 for i in ids)])
    t.append(" " * (name_w + 1))
    for b in v.brokers:
        t.append(f"b{b.broker_id}".ljust(col), style="bold")
    t.append("\n")
    t.append(" " * (name_w + 1))
    for b in v.brokers:
        icon, style = _STATE.get(b.state, ("?", ""))
        t.append(icon.ljust(col), style=style)
    t.append("\n")
    for p in v.partitions[:MAX_ROWS]:
        name = p.name if len(p.name) <= name_w else p.name[: name_w - 1] + "…"
        t.append(f"{name:<{name_w}} ", style="bold red" if p.offline else "")
        if p.offline:
            t.append("offline: no leader", style="bold red")
        else:
            for b in ids:
                mark, style = _cell(p, b)
                t.append(mark, style=style)
                t.append(" " * (col - len(mark)))
        t.append("\n")
    if len(v.partitions) > MAX_ROWS:
        t.append(f"… {len(v.partitions) - MAX_ROWS} more partitions\n", style="dim")
    return t


def render_diagram(v: LabView, width: int = 40) -> Text:
    t = _network(v, width)
    t.append("\n")
    t.append_text(_placement(v, width))
    t.rstrip()
    return t


class ClusterDiagram(Widget):
    """The Diagram tab: the network's islands and the replica placement."""

    DEFAULT_CSS = """
    ClusterDiagram {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    _shown: Text | None = None

    def watch_view(self, _view: LabView | None) -> None:
        self._update()

    def on_resize(self) -> None:
        self._update()

    def on_show(self) -> None:
        self._update(force=True)

    def _update(self, force: bool = False) -> None:
        if not force and not self.is_on_screen and self._shown is not None:
            return  # in a tab nobody looks at: drawn when it is shown (on_show)
        if self.view is None:
            return
        text = render_diagram(self.view, max(20, self.size.width - 2))
        if text != self._shown:
            layout = self._shown is None or text.plain.count("\n") != self._shown.plain.count("\n")
            self._shown = text
            self.refresh(layout=layout)

    def render(self) -> Text:
        return self._shown or Text("")
