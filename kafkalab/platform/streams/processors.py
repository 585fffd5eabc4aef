"""The processors behind the DSL (Java's ``KStreamFilter``, ``KStreamAggregate``, ``KTableSource`` ...).

A processor gets ``init(ctx)`` once per task and then ``process(key, value, timestamp)`` per record; it
passes results on with ``ctx.forward``. KTable processors forward :class:`Change` values (new and old);
``KTableToStream`` turns them back into plain values. Records a processor cannot use (a null key for an
aggregation, a record for a window that already closed) are dropped and counted, as Kafka does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .serdes import Window, Windowed

if TYPE_CHECKING:
    from .kstream import TimeWindows

__all__ = [
    "Change",
    "KStreamAggregate",
    "KStreamFilter",
    "KStreamFlatMapValues",
    "KStreamKTableJoin",
    "KStreamMap",
    "KStreamMapValues",
    "KStreamPeek",
    "KStreamReduce",
    "KStreamSelectKey",
    "KStreamWindowAggregate",
    "KTableFilter",
    "KTableMapValues",
    "KTableSource",
    "KTableToStream",
    "Processor",
    "ProcessorContext",
]


@dataclass(frozen=True)
class Change:
    """A KTable update: the new value and the one it replaced (None = no value / deleted)."""

    new: Any
    old: Any


class ProcessorContext(Protocol):
    """What a processor can reach: forward downstream, its state stores, the current record's origin."""

    task_id: str
    partition: int
    topic: str
    offset: int

    def forward(self, key: Any, value: Any, timestamp: int) -> None: ...

    def store(self, name: str) -> Any: ...

    def dropped(self, reason: str) -> None: ...


class Processor:
    """Base class: keeps the context; subclasses implement ``process``."""

    ctx: ProcessorContext

    def init(self, ctx: ProcessorContext) -> None:
        self.ctx = ctx

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


# -- stateless stream processors ------------------------------------------------------------------------------
class KStreamFilter(Processor):
    def __init__(self, predicate: Callable[[Any, Any], bool], negate: bool) -> None:
        self.predicate = predicate
        self.negate = negate

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if bool(self.predicate(key, value)) != self.negate:
            self.ctx.forward(key, value, timestamp)


class KStreamMapValues(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        self.ctx.forward(key, self.mapper(key, value), timestamp)


class KStreamFlatMapValues(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Iterable[Any]]) -> None:
        self.mapper = mapper

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        for v in self.mapper(key, value):
            self.ctx.forward(key, v, timestamp)


class KStreamSelectKey(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        self.ctx.forward(self.mapper(key, value), value, timestamp)


class KStreamMap(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        kv = self.mapper(key, value)
        k, v = (kv.key, kv.value) if hasattr(kv, "key") else kv
        self.ctx.forward(k, v, timestamp)


class KStreamPeek(Processor):
    def __init__(self, action: Callable[[Any, Any], None], forward: bool) -> None:
        self.action = action
        self.pass_on = forward

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        self.action(key, value)
        if self.pass_on:
            self.ctx.forward(key, value, timestamp)


# -- aggregations ---------------------------------------------------------------------------------------------
class KStreamAggregate(Processor):
    """``count`` and ``aggregate``: read the old aggregate, apply, write back (and to the changelog)."""

    def __init__(
        self, store: str, initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any]
    ) -> None:
        self.store_name = store
        self.initializer = initializer
        self.aggregator = aggregator

    def init(self, ctx: ProcessorContext) -> None:
        super().init(ctx)
        self.store = ctx.store(self.store_name)

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if key is None or value is None:
            self.ctx.dropped("Skipping record due to null key or value.")
            return
        old, old_ts = self.store.get_with_timestamp(key)
        agg = self.initializer() if old is None else old
        new = self.aggregator(key, value, agg)
        ts = max(timestamp, old_ts) if old is not None else timestamp
        self.store.put(key, new, ts)
        self.ctx.forward(key, Change(new, old), ts)


class KStreamReduce(Processor):
    def __init__(self, store: str, reducer: Callable[[Any, Any], Any]) -> None:
        self.store_name = store
        self.reducer = reducer

    def init(self, ctx: ProcessorContext) -> None:
        super().init(ctx)
        self.store = ctx.store(self.store_name)

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if key is None or value is None:
            self.ctx.dropped("Skipping record due to null key or value.")
            return
        old, old_ts = self.store.get_with_timestamp(key)
        new = value if old is None else self.reducer(old, value)
        ts = max(timestamp, old_ts) if old is not None else timestamp
        self.store.put(key, new, ts)
        self.ctx.forward(key, Change(new, old), ts)


class KStreamWindowAggregate(Processor):
    """Windowed ``count``/``reduce``/``aggregate`` (Java's ``KStreamWindowAggregate``, EMIT CHANGES).

    A record updates every window it falls into unless the window has closed: stream time (the largest
    timestamp seen by this task) minus the grace period is at or past the window's end.
    """

    def __init__(
        self,
        store: str,
        windows: TimeWindows,
        initializer: Callable[[], Any] | None,
        aggregator: Callable[[Any, Any, Any], Any],
    ) -> None:
        self.store_name = store
        self.windows = windows
        self.initializer = initializer
        self.aggregator = aggregator
        self.observed_stream_time = -1

    def init(self, ctx: ProcessorContext) -> None:
        super().init(ctx)
        self.store = ctx.store(self.store_name)
        self.observed_stream_time = self.store.observed_stream_time

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if key is None or value is None:
            self.ctx.dropped("Skipping record due to null key or value.")
            return
        w = self.windows
        self.observed_stream_time = max(self.observed_stream_time, timestamp)
        self.store.observed_stream_time = self.observed_stream_time
        close_time = self.observed_stream_time - w.grace_ms
        for start in w.windows_for(timestamp):
            end = start + w.size_ms
            if end <= close_time:
                self.ctx.dropped(
                    f"Skipping record for expired window. window=[{start},{end}) expiration=[{close_time}] "
                    f"streamTime=[{self.observed_stream_time}]"
                )
                continue
            old, old_ts = self.store.fetch_with_timestamp(key, start)
            if old is None:
                new = value if self.initializer is None else self.aggregator(key, value, self.initializer())
            else:
                new = self.aggregator(key, value, old)
            ts = max(timestamp, old_ts) if old is not None else timestamp
            self.store.put(key, start, new, ts)
            self.ctx.forward(Windowed(key, Window(start, end)), Change(new, old), ts)


# -- tables ---------------------------------------------------------------------------------------------------
class KTableSource(Processor):
    """``builder.table()``: every record is an upsert (a null value deletes the key)."""

    def __init__(self, store: str) -> None:
        self.store_name = store

    def init(self, ctx: ProcessorContext) -> None:
        super().init(ctx)
        self.store = ctx.store(self.store_name)

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if key is None:
            self.ctx.dropped("Skipping record due to null key.")
            return
        old = self.store.get(key)
        if value is None:
            self.store.delete(key, timestamp)
        else:
            self.store.put(key, value, timestamp)
        self.ctx.forward(key, Change(value, old), timestamp)


class KTableToStream(Processor):
    def process(self, key: Any, value: Any, timestamp: int) -> None:
        self.ctx.forward(key, value.new if isinstance(value, Change) else value, timestamp)


class KTableFilter(Processor):
    def __init__(self, predicate: Callable[[Any, Any], bool]) -> None:
        self.predicate = predicate

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        ch = value if isinstance(value, Change) else Change(value, None)
        new = ch.new if ch.new is not None and self.predicate(key, ch.new) else None
        old = ch.old if ch.old is not None and self.predicate(key, ch.old) else None
        if new is None and old is None:
            return
        self.ctx.forward(key, Change(new, old), timestamp)


class KTableMapValues(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        ch = value if isinstance(value, Change) else Change(value, None)
        new = self.mapper(key, ch.new) if ch.new is not None else None
        old = self.mapper(key, ch.old) if ch.old is not None else None
        self.ctx.forward(key, Change(new, old), timestamp)


# -- joins ----------------------------------------------------------------------------------------------------
class KStreamKTableJoin(Processor):
    """Stream-table join: each stream record looks up the table's current value for its key."""

    def __init__(self, store: str, joiner: Callable[[Any, Any, Any], Any], left: bool) -> None:
        self.store_name = store
        self.joiner = joiner
        self.left = left

    def init(self, ctx: ProcessorContext) -> None:
        super().init(ctx)
        self.store = ctx.store(self.store_name)

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if (key is None or value is None) and (not self.left or value is None):
            self.ctx.dropped("Skipping record due to null join key or value.")
            return
        other = self.store.get(key) if key is not None else None
        if other is None and not self.left:
            return
        self.ctx.forward(key, self.joiner(key, value, other), timestamp)
