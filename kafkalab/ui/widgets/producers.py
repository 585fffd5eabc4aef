"""Producers: acks, idempotence, linger, in-flight batches, delivered/failed counts, last errors."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..view import LabView
from .shape import needs_layout

__all__ = ["ProducersPanel", "render_producers"]


def render_producers(v: LabView) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    if not v.producers:
        t.append("No producers yet. Try kafka-console-producer --topic T", style="dim")
        return t
    for p in v.producers:
        t.append(p.name, style="bold")
        t.append(f"  acks={p.acks}", style="cyan")
        t.append(
            "  idempotent" if p.idempotent else "  not idempotent",
            style="green" if p.idempotent else "yellow",
        )
        t.append("  outside client\n" if p.outside else f"  linger {p.linger_ms} ms\n", style="dim")
        t.append("  in flight ", style="dim")
        t.append(str(p.in_flight), style="bold yellow" if p.in_flight else "")
        t.append("  acked ", style="dim")
        t.append(str(p.acked), style="green")
        t.append("  failed ", style="dim")
        t.append(str(p.failed), style="bold red" if p.failed else "")
        t.append("\n")
        for time_ms, tp, err in p.errors[-3:]:
            t.append(f"  {time_ms / 1000:.3f} s ", style="dim")
            t.append(err, style="bold red")
            t.append(f" on {tp}\n", style="red")
    t.rstrip()
    return t


class ProducersPanel(Static):
    """Every producer client of the session."""

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    _shown: Text | None = None

    def watch_view(self, view: LabView | None) -> None:
        text = render_producers(view) if view is not None else Text("")
        if text != self._shown:  # repaint only when what it shows changed, re-layout only when its shape did
            layout = needs_layout(self._shown, text)
            self._shown = text
            self.update(text, layout=layout)
