"""Charts over virtual time: produce rate, consume rate and each consumer group's lag, as sparklines.

The bars are drawn here rather than with Textual's ``Sparkline``: that one scales between the data's
minimum and maximum, so a steady 1,000 records/s would draw as an empty line, and a rate or a lag must
be read against zero. Each chart is several rows tall (eighths of a row per step) with its current and
largest value beside the title; the newest virtual second is on the right.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..metrics import BUCKET_MS, Metrics
from ..view import LabView

__all__ = ["ChartsPanel", "render_charts", "spark_rows"]

_LEVELS = " ▁▂▃▄▅▆▇█"
#: rows per chart
CHART_ROWS = 3


def spark_rows(
    values: list[float], width: int, rows: int = CHART_ROWS, top: float | None = None
) -> list[str]:
    """Bars for ``values`` (the newest on the right, zero at the bottom), ``rows`` lines of ``width``."""
    values = values[-width:]
    pad = width - len(values)
    top = max(values, default=0.0) if top is None else top
    lines = []
    for r in reversed(range(rows)):
        line = [" "] * pad
        for v in values:
            eighths = 0 if top <= 0 or v <= 0 else max(1, round(v / top * rows * 8))
            line.append(_LEVELS[max(0, min(8, eighths - r * 8))])
        lines.append("".join(line))
    return lines


def _number(x: float) -> str:
    return f"{x:,.0f}"


def _chart(t: Text, title: str, unit: str, values: list[float], width: int, style: str) -> None:
    now = values[-1] if values else 0.0
    top = max(values, default=0.0)
    t.append(title, style="bold")
    t.append(f"  {_number(now)}{unit}", style="")
    t.append(f"  (max {_number(top)}{unit})\n", style="dim")
    for line in spark_rows(values, width):
        t.append(line, style=style)
        t.append("\n")


def render_charts(view: LabView, metrics: Metrics, width: int) -> Text:
    """Every chart, ``width`` columns wide."""
    t = Text(no_wrap=True, overflow="crop")
    bars = max(8, width)
    _chart(t, "Produce", "/s", metrics.rate_tail(metrics.produced, bars), bars, "green")
    t.append("records appended / virtual s\n", style="dim")
    _chart(t, "Consume", "/s", metrics.rate_tail(metrics.consumed, bars), bars, "cyan")
    t.append("records read / virtual s\n", style="dim")
    groups = [g.group_id for g in view.groups or ()]
    if not groups:
        t.append("Lag per group: no groups yet\n", style="dim")
    for gid in groups:
        series = metrics.lag.get(gid)
        values = series.tail(bars, upto_bucket=metrics.now_bucket) if series is not None else []
        _chart(
            t,
            f"Lag {gid}",
            "",
            values,
            bars,
            "bold red" if values and values[-1] else "yellow",
        )
    span_s = bars * BUCKET_MS // 1000
    t.append(f"← {span_s} virtual s, {BUCKET_MS // 1000} s per column", style="dim")
    return t


class ChartsPanel(Widget):
    """The Charts tab (the app samples :class:`~kafkalab.ui.metrics.Metrics` at every snapshot)."""

    DEFAULT_CSS = """
    ChartsPanel {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    view: reactive[LabView | None] = reactive(None, repaint=False)
    """The snapshot to show (bound to the app's ``view``)."""

    def __init__(self, metrics: Metrics, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metrics = metrics
        self._shown: Text | None = None

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
        text = render_charts(self.view, self.metrics, max(8, self.size.width - 2))
        if text != self._shown:
            layout = self._shown is None or text.plain.count("\n") != self._shown.plain.count("\n")
            self._shown = text
            self.refresh(layout=layout)

    def render(self) -> Text:
        return self._shown or Text("")
