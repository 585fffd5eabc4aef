"""Rates and lag over virtual time, sampled from the lab's snapshots, for the sparklines of the Charts tab.

Every snapshot the app builds (:class:`~kafkalab.ui.view.LabView`) is one sample at its virtual time:
records appended to the user topics (the sum of their log end offsets), records the consumers read (their
``consumed_records`` counters) and each group's total lag. Counts become rates per virtual second in
buckets of :data:`BUCKET_MS`; a sample that covers several buckets (high speed, few snapshots) spreads its
count evenly over them, so a fast run draws the same curve as a slow one, and a jump forward (a redo) fills
the time it skipped. After a rewind the buckets past the new time are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUCKET_MS", "MAX_BUCKETS", "Metrics", "Series"]

#: virtual milliseconds per bucket (one bar of a sparkline)
BUCKET_MS = 1000
#: buckets kept per series (the oldest are dropped)
MAX_BUCKETS = 600


@dataclass
class Series:
    """Values per bucket (index = time // BUCKET_MS), from ``first`` on."""

    #: counts per bucket (rates) or the last value seen in a bucket (gauges)
    values: list[float] = field(default_factory=list)
    first: int = 0
    gauge: bool = False

    def _slot(self, bucket: int) -> int | None:
        if not self.values:
            self.first = bucket
            self.values.append(0.0)
        if bucket < self.first:
            return None
        while self.first + len(self.values) <= bucket:
            self.values.append(self.values[-1] if self.gauge else 0.0)
        if len(self.values) > MAX_BUCKETS:
            drop = len(self.values) - MAX_BUCKETS
            del self.values[:drop]
            self.first += drop
        return bucket - self.first

    def add(self, bucket: int, amount: float) -> None:
        i = self._slot(bucket)
        if i is not None:
            self.values[i] += amount

    def set(self, bucket: int, value: float) -> None:
        i = self._slot(bucket)
        if i is not None:
            self.values[i] = value

    def spread(self, t0_ms: int, t1_ms: int, amount: float) -> None:
        """Add ``amount`` spread evenly over the virtual time (t0, t1]."""
        if amount <= 0:
            return
        if t1_ms <= t0_ms:
            self.add(t1_ms // BUCKET_MS, amount)
            return
        b0, b1 = t0_ms // BUCKET_MS, (t1_ms - 1) // BUCKET_MS
        if b0 == b1:
            self.add(b0, amount)
            return
        span = t1_ms - t0_ms
        for b in range(b0, b1 + 1):
            lo, hi = max(t0_ms, b * BUCKET_MS), min(t1_ms, (b + 1) * BUCKET_MS)
            self.add(b, amount * (hi - lo) / span)

    def truncate(self, bucket: int) -> None:
        """Drop ``bucket`` and the buckets after it (a rewind into ``bucket``: what it held came partly
        from the abandoned future, and the new run fills it again)."""
        keep = bucket - self.first
        if keep <= 0:
            self.values.clear()
        elif keep < len(self.values):
            del self.values[keep:]

    def tail(self, n: int, *, upto_bucket: int | None = None) -> list[float]:
        """The last ``n`` buckets (up to ``upto_bucket``; missing ones as 0 / the last gauge value)."""
        if not self.values:
            return []
        last = self.first + len(self.values) - 1 if upto_bucket is None else upto_bucket
        out = []
        for b in range(last - n + 1, last + 1):
            i = b - self.first
            if i < 0:
                continue
            out.append(self.values[i] if i < len(self.values) else (self.values[-1] if self.gauge else 0.0))
        return out


class _History:
    """The series of one cluster and the counters of its last sample."""

    def __init__(self) -> None:
        self.produced = Series()
        self.consumed = Series()
        self.lag: dict[str, Series] = {}
        self.t_ms = 0
        self.appended = 0
        self.consumers: dict[str, int] = {}


class Metrics:
    """Produce rate, consume rate and lag per group over virtual time (one per app; with several clusters
    on the screen, one history per cluster, and the charts show the cluster on the screen)."""

    def __init__(self) -> None:
        self._histories: dict[str, _History] = {}
        self._current = self._history("")

    def _history(self, source: str) -> _History:
        h = self._histories.get(source)
        if h is None:
            h = self._histories[source] = _History()
        return h

    @property
    def produced(self) -> Series:
        return self._current.produced

    @property
    def consumed(self) -> Series:
        return self._current.consumed

    @property
    def lag(self) -> dict[str, Series]:
        return self._current.lag

    def sample(self, view: Any, clients: Iterable[Any], source: str = "") -> None:
        """One snapshot of cluster ``source``: ``view`` (a LabView), ``clients`` the cluster's clients."""
        h = self._current = self._history(source)
        now = int(view.now_ms)
        appended = sum(max(0, p.log_end_offset) for p in view.partitions)
        consumers = {
            str(getattr(c, "name", id(c))): int(c.consumed_records)
            for c in clients
            if isinstance(getattr(c, "consumed_records", None), int)
        }
        if now < h.t_ms:
            # a rewind or a restart: forget what lies after the new time; counters start over from here
            bucket = now // BUCKET_MS
            for s in (h.produced, h.consumed, *h.lag.values()):
                s.truncate(bucket)
        else:
            # time went on (also by a jump forward: a redo, a long run): the counts since the last sample
            # are spread over the time between them, as a fast-running sample is
            h.produced.spread(h.t_ms, now, appended - h.appended)
            read = sum(max(0, n - h.consumers.get(name, 0)) for name, n in consumers.items())
            h.consumed.spread(h.t_ms, now, read)
        h.t_ms, h.appended, h.consumers = now, appended, consumers
        for g in view.groups or ():
            lag = g.total_lag
            series = h.lag.setdefault(g.group_id, Series(gauge=True))
            series.set(now // BUCKET_MS, float(lag or 0))

    @property
    def now_bucket(self) -> int:
        return self._current.t_ms // BUCKET_MS

    def rate_tail(self, series: Series, n: int) -> list[float]:
        """Records per virtual second in the last ``n`` buckets (the current, partial one left out)."""
        return [v * 1000 / BUCKET_MS for v in series.tail(n, upto_bucket=self.now_bucket - 1)]
