"""The Streams DSL, shaped like Java's: ``StreamsBuilder``, ``KStream``, ``KTable``, ``KGroupedStream``.

Names follow Kafka's rules (``InternalStreamsBuilder.newProcessorName``/``newStoreName``): one counter
numbers every generated processor and store name in the order the DSL methods run, e.g. the word count
``stream -> flat_map_values -> group_by -> count`` gives ``KSTREAM-SOURCE-0000000000``,
``KSTREAM-FLATMAPVALUES-0000000001``, ``KSTREAM-KEY-SELECT-0000000002``, the store
``KSTREAM-AGGREGATE-STATE-STORE-0000000003``, ``KSTREAM-AGGREGATE-0000000004`` and the repartition topic
``KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition`` (``<application.id>-`` in front at run time).

Functions are plain Python callables. Where Java has two interfaces (``ValueMapper`` and
``ValueMapperWithKey``, ``ValueJoiner`` and ``ValueJoinerWithKey``), a callable taking one more argument
gets the key first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import processors as P
from .serdes import Serde, Serdes, WindowedSerde
from .topology import REPARTITION_SUFFIX, StoreSpec, Topology, TopologyException

__all__ = [
    "Consumed",
    "Grouped",
    "Joined",
    "KGroupedStream",
    "KStream",
    "KTable",
    "KeyValue",
    "Materialized",
    "Named",
    "Produced",
    "StreamsBuilder",
    "TimeWindowedKStream",
    "TimeWindows",
]

DEFAULT_24H_GRACE_MS = 86_400_000


@dataclass(frozen=True)
class KeyValue:
    key: Any
    value: Any

    @staticmethod
    def pair(key: Any, value: Any) -> KeyValue:
        return KeyValue(key, value)


# -- the small option objects ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Named:
    name: str | None = None

    @staticmethod
    def as_(name: str) -> Named:
        return Named(name)


@dataclass(frozen=True)
class Consumed:
    key_serde: Serde | None = None
    value_serde: Serde | None = None
    name: str | None = None

    @staticmethod
    def with_(key_serde: Serde | None, value_serde: Serde | None) -> Consumed:
        return Consumed(key_serde, value_serde)

    @staticmethod
    def as_(name: str) -> Consumed:
        return Consumed(name=name)


@dataclass(frozen=True)
class Produced:
    key_serde: Any = None
    value_serde: Any = None
    name: str | None = None

    @staticmethod
    def with_(key_serde: Any, value_serde: Any) -> Produced:
        return Produced(key_serde, value_serde)

    @staticmethod
    def as_(name: str) -> Produced:
        return Produced(name=name)


@dataclass(frozen=True)
class Grouped:
    key_serde: Serde | None = None
    value_serde: Serde | None = None
    name: str | None = None

    @staticmethod
    def with_(key_serde: Serde | None, value_serde: Serde | None) -> Grouped:
        return Grouped(key_serde, value_serde)

    @staticmethod
    def as_(name: str) -> Grouped:
        return Grouped(name=name)


@dataclass(frozen=True)
class Joined:
    key_serde: Serde | None = None
    value_serde: Serde | None = None
    other_value_serde: Serde | None = None
    name: str | None = None

    @staticmethod
    def as_(name: str) -> Joined:
        return Joined(name=name)


@dataclass(frozen=True)
class Materialized:
    """Where an aggregation or table keeps its state: a store name, serdes, changelog on/off, retention."""

    store_name: str | None = None
    key_serde: Any = None
    value_serde: Any = None
    logging: bool = True
    retention_ms: int | None = None

    @staticmethod
    def as_(store_name: str) -> Materialized:
        return Materialized(store_name)

    @staticmethod
    def with_(key_serde: Any, value_serde: Any) -> Materialized:
        return Materialized(None, key_serde, value_serde)

    def with_key_serde(self, serde: Any) -> Materialized:
        return Materialized(self.store_name, serde, self.value_serde, self.logging, self.retention_ms)

    def with_value_serde(self, serde: Any) -> Materialized:
        return Materialized(self.store_name, self.key_serde, serde, self.logging, self.retention_ms)

    def with_logging_disabled(self) -> Materialized:
        return Materialized(self.store_name, self.key_serde, self.value_serde, False, self.retention_ms)

    def with_retention(self, retention_ms: int) -> Materialized:
        return Materialized(
            self.store_name, self.key_serde, self.value_serde, self.logging, int(retention_ms)
        )


@dataclass(frozen=True)
class TimeWindows:
    """Tumbling (``advance == size``) or hopping windows of ``size_ms``, closing ``grace_ms`` after their end."""

    size_ms: int
    advance_ms: int
    grace_ms: int

    @staticmethod
    def of_size_with_no_grace(size_ms: int) -> TimeWindows:
        return TimeWindows._make(size_ms, 0)

    @staticmethod
    def of_size_and_grace(size_ms: int, grace_ms: int) -> TimeWindows:
        return TimeWindows._make(size_ms, grace_ms)

    @staticmethod
    def of(size_ms: int) -> TimeWindows:
        """Deprecated in Kafka: the grace period is 24 h minus the size (at least 0)."""
        return TimeWindows._make(size_ms, max(0, DEFAULT_24H_GRACE_MS - int(size_ms)))

    @staticmethod
    def _make(size_ms: int, grace_ms: int) -> TimeWindows:
        size, grace = int(size_ms), int(grace_ms)
        if size <= 0:
            raise ValueError("Window size (sizeMs) must be larger than zero.")
        if grace < 0:
            raise ValueError("Grace period must not be negative.")
        return TimeWindows(size, size, grace)

    def advance_by(self, advance_ms: int) -> TimeWindows:
        a = int(advance_ms)
        if a <= 0 or a > self.size_ms:
            raise ValueError(
                f"Window advancement interval should be more than zero and less than window duration which is "
                f"{self.size_ms} ms, but given advancement interval is: {a} ms"
            )
        return TimeWindows(self.size_ms, a, self.grace_ms)

    def windows_for(self, timestamp: int) -> list[int]:
        """Start times of the windows a record at ``timestamp`` falls into (``TimeWindows.windowsFor``)."""
        start = (max(0, timestamp - self.size_ms + self.advance_ms) // self.advance_ms) * self.advance_ms
        out = []
        while start <= timestamp:
            out.append(start)
            start += self.advance_ms
        return out


def _arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    n = 0
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
        elif p.kind == p.VAR_POSITIONAL:
            return 99
    return n


def _with_key(fn: Callable[..., Any], plain: int) -> Callable[[Any, Any], Any]:
    """``fn(value)`` or ``fn(key, value)`` (one argument more than ``plain`` means the key comes first)."""
    if _arity(fn) > plain:
        return fn
    return lambda _k, *rest: fn(*rest)


# -- the builder ----------------------------------------------------------------------------------------------
class StreamsBuilder:
    """Builds a :class:`Topology` with the DSL; ``build()`` returns it."""

    def __init__(
        self, default_key_serde: Serde | None = None, default_value_serde: Serde | None = None
    ) -> None:
        self.topology = Topology()
        self._index = 0
        #: what ``default.key.serde`` / ``default.value.serde`` would be (the lab's default: strings)
        self.default_key_serde = default_key_serde or Serdes.String()
        self.default_value_serde = default_value_serde or Serdes.String()

    def new_processor_name(self, prefix: str) -> str:
        name = f"{prefix}{self._index:010d}"
        self._index += 1
        return name

    def new_store_name(self, prefix: str) -> str:
        name = f"{prefix}STATE-STORE-{self._index:010d}"
        self._index += 1
        return name

    def _named(self, named: Named | str | None, prefix: str) -> str:
        n = named.name if isinstance(named, Named) else named
        return n if n else self.new_processor_name(prefix)

    def stream(self, topics: str | Iterable[str], consumed: Consumed | None = None) -> KStream:
        ts = [topics] if isinstance(topics, str) else list(topics)
        c = consumed or Consumed()
        name = c.name or self.new_processor_name("KSTREAM-SOURCE-")
        ks = c.key_serde or self.default_key_serde
        vs = c.value_serde or self.default_value_serde
        self.topology.add_source(name, ts, ks, vs)
        return KStream(self, name, ks, vs, False)

    def table(
        self, topic: str, consumed: Consumed | None = None, materialized: Materialized | None = None
    ) -> KTable:
        c = consumed or Consumed()
        m = materialized or Materialized()
        ks = m.key_serde or c.key_serde or self.default_key_serde
        vs = m.value_serde or c.value_serde or self.default_value_serde
        store = m.store_name or self.new_store_name(topic + "-")
        source = f"{c.name}-table-source" if c.name else self.new_processor_name("KSTREAM-SOURCE-")
        table_source = c.name or self.new_processor_name("KTABLE-SOURCE-")
        t = self.topology
        t.add_source(source, [topic], ks, vs)
        t.add_processor(table_source, lambda: P.KTableSource(store), source)
        t.add_state_store(StoreSpec(store, "kv", ks, vs, m.logging), table_source)
        if m.store_name:
            t.queryable_stores.add(store)
        return KTable(self, table_source, ks, vs, store, windowed=False)

    def build(self) -> Topology:
        self.topology.validate()
        return self.topology

    # -- helpers used by the streams below ---------------------------------------------------------------------
    def _repartition(self, parent: str, prefix: str, key_serde: Any, value_serde: Any) -> str:
        """Sink -> ``<prefix>-repartition`` -> source, like ``KStreamImpl.createRepartitionedSource``."""
        topic = prefix if prefix.endswith(REPARTITION_SUFFIX) else prefix + REPARTITION_SUFFIX
        gen_sink = self.new_processor_name("KSTREAM-SINK-")
        gen_filter = self.new_processor_name("KSTREAM-FILTER-")
        gen_source = self.new_processor_name("KSTREAM-SOURCE-")
        import re

        if re.fullmatch(r"KSTREAM.*-[0-9]{10}", prefix):
            sink, filt, source = gen_sink, gen_filter, gen_source
        else:
            sink, filt, source = topic + "-sink", topic + "-filter", topic + "-source"
        t = self.topology
        t.add_processor(filt, lambda: P.KStreamFilter(lambda _k, _v: True, False), parent)
        t.add_sink(sink, topic, filt, key_serde=key_serde, value_serde=value_serde, internal=True)
        t.add_source(source, [topic], key_serde, value_serde, internal=True)
        return source


class KStream:
    """A record stream. Every method adds processors to the builder's topology and returns the result."""

    def __init__(
        self, builder: StreamsBuilder, name: str, key_serde: Any, value_serde: Any, repartition_required: bool
    ) -> None:
        self._b = builder
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.repartition_required = repartition_required

    def _child(
        self,
        prefix: str,
        named: Named | str | None,
        factory: Callable[[], Any],
        *,
        key_serde: Any = None,
        value_serde: Any = None,
        repartition: bool | None = None,
        same_value: bool = False,
    ) -> KStream:
        name = self._b._named(named, prefix)
        self._b.topology.add_processor(name, factory, self.name)
        return KStream(
            self._b,
            name,
            key_serde if key_serde is not None else self.key_serde,
            value_serde if value_serde is not None else (self.value_serde if same_value else None),
            self.repartition_required if repartition is None else repartition,
        )

    # stateless ---------------------------------------------------------------------------------------------
    def filter(self, predicate: Callable[[Any, Any], bool], named: Named | str | None = None) -> KStream:
        return self._child(
            "KSTREAM-FILTER-", named, lambda: P.KStreamFilter(predicate, False), same_value=True
        )

    def filter_not(self, predicate: Callable[[Any, Any], bool], named: Named | str | None = None) -> KStream:
        return self._child(
            "KSTREAM-FILTER-", named, lambda: P.KStreamFilter(predicate, True), same_value=True
        )

    def map_values(self, mapper: Callable[..., Any], named: Named | str | None = None) -> KStream:
        fn = _with_key(mapper, 1)
        return self._child("KSTREAM-MAPVALUES-", named, lambda: P.KStreamMapValues(fn))

    def flat_map_values(
        self, mapper: Callable[..., Iterable[Any]], named: Named | str | None = None
    ) -> KStream:
        fn = _with_key(mapper, 1)
        return self._child("KSTREAM-FLATMAPVALUES-", named, lambda: P.KStreamFlatMapValues(fn))

    def select_key(self, mapper: Callable[[Any, Any], Any], named: Named | str | None = None) -> KStream:
        s = self._child("KSTREAM-KEY-SELECT-", named, lambda: P.KStreamSelectKey(mapper), repartition=True)
        s.key_serde = None
        s.value_serde = self.value_serde
        return s

    def map(self, mapper: Callable[[Any, Any], Any], named: Named | str | None = None) -> KStream:
        s = self._child("KSTREAM-MAP-", named, lambda: P.KStreamMap(mapper), repartition=True)
        s.key_serde = None
        return s

    def process_values(self, factory: Callable[[], Any], named: Named | str | None = None) -> KStream:
        """A custom processor that may change values but not keys (Java's ``processValues``)."""
        return self._child("KSTREAM-PROCESSVALUES-", named, factory)

    def peek(self, action: Callable[[Any, Any], None], named: Named | str | None = None) -> KStream:
        return self._child("KSTREAM-PEEK-", named, lambda: P.KStreamPeek(action, True), same_value=True)

    def foreach(self, action: Callable[[Any, Any], None], named: Named | str | None = None) -> None:
        self._child("KSTREAM-FOREACH-", named, lambda: P.KStreamPeek(action, False))

    def to(self, topic: str, produced: Produced | None = None) -> None:
        p = produced or Produced()
        name = p.name or self._b.new_processor_name("KSTREAM-SINK-")
        ks = p.key_serde or self.key_serde or self._b.default_key_serde
        vs = p.value_serde or self.value_serde or self._b.default_value_serde
        self._b.topology.add_sink(
            name, topic, self.name, key_serde=ks, value_serde=vs, windowed_key=isinstance(ks, WindowedSerde)
        )

    # grouping ----------------------------------------------------------------------------------------------
    def group_by_key(self, grouped: Grouped | None = None) -> KGroupedStream:
        g = grouped or Grouped()
        return KGroupedStream(
            self._b,
            self.name,
            g.key_serde or self.key_serde or self._b.default_key_serde,
            g.value_serde or self.value_serde or self._b.default_value_serde,
            self.repartition_required,
            g.name,
        )

    def group_by(self, selector: Callable[[Any, Any], Any], grouped: Grouped | None = None) -> KGroupedStream:
        g = grouped or Grouped()
        name = g.name or self._b.new_processor_name("KSTREAM-KEY-SELECT-")
        self._b.topology.add_processor(name, lambda: P.KStreamSelectKey(selector), self.name)
        return KGroupedStream(
            self._b,
            name,
            g.key_serde or self._b.default_key_serde,
            g.value_serde or self.value_serde or self._b.default_value_serde,
            True,
            g.name,
        )

    # joins -------------------------------------------------------------------------------------------------
    def join(self, table: KTable, joiner: Callable[..., Any], joined: Joined | None = None) -> KStream:
        return self._join(table, joiner, joined, left=False)

    def left_join(self, table: KTable, joiner: Callable[..., Any], joined: Joined | None = None) -> KStream:
        return self._join(table, joiner, joined, left=True)

    def _join(self, table: KTable, joiner: Callable[..., Any], joined: Joined | None, left: bool) -> KStream:
        if table.windowed:
            raise TopologyException("a stream can only be joined with a non-windowed KTable")
        j = joined or Joined()
        stream: KStream = self
        if self.repartition_required:
            ks = j.key_serde or self.key_serde or self._b.default_key_serde
            vs = j.value_serde or self.value_serde or self._b.default_value_serde
            src = self._b._repartition(self.name, j.name or self.name, ks, vs)
            stream = KStream(self._b, src, ks, vs, False)
        fn = _with_key(joiner, 2)
        name = j.name or self._b.new_processor_name("KSTREAM-LEFTJOIN-" if left else "KSTREAM-JOIN-")
        store = table.store_name
        self._b.topology.add_processor(
            name, lambda: P.KStreamKTableJoin(store, fn, left), stream.name, stores=[store]
        )
        return KStream(self._b, name, stream.key_serde, None, False)


class KGroupedStream:
    """A stream grouped by key, ready to be aggregated (``count``, ``reduce``, ``aggregate``, windows)."""

    def __init__(
        self,
        builder: StreamsBuilder,
        name: str,
        key_serde: Any,
        value_serde: Any,
        repartition_required: bool,
        repartition_name: str | None,
    ) -> None:
        self._b = builder
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.repartition_required = repartition_required
        self.repartition_name = repartition_name

    def _source(self, store_name: str) -> str:
        """The node the aggregation reads from: a repartition topic when the key changed upstream."""
        if not self.repartition_required:
            return self.name
        return self._b._repartition(
            self.name, self.repartition_name or store_name, self.key_serde, self.value_serde
        )

    def _store(self, m: Materialized | None, prefix: str, burn: bool) -> tuple[Materialized, str]:
        mm = m or Materialized()
        if burn and mm.store_name is None:
            self._b.new_store_name(prefix)  # Kafka burns a name here for topology compatibility
        store = mm.store_name or self._b.new_store_name(prefix)
        return mm, store

    def _aggregate(
        self,
        prefix: str,
        named: Named | str | None,
        m: Materialized,
        store: str,
        value_serde: Any,
        factory: Callable[[], Any],
    ) -> KTable:
        name = self._b._named(named, prefix)
        source = self._source(store)
        ks = m.key_serde or self.key_serde
        self._b.topology.add_processor(name, factory, source)
        self._b.topology.add_state_store(StoreSpec(store, "kv", ks, value_serde, m.logging), name)
        if m.store_name:
            self._b.topology.queryable_stores.add(store)
        return KTable(self._b, name, ks, value_serde, store, windowed=False)

    def count(self, named: Named | str | None = None, materialized: Materialized | None = None) -> KTable:
        m, store = self._store(materialized, "KSTREAM-AGGREGATE-", burn=materialized is not None)
        vs = m.value_serde or Serdes.Long()
        return self._aggregate(
            "KSTREAM-AGGREGATE-",
            named,
            m,
            store,
            vs,
            lambda: P.KStreamAggregate(store, lambda: 0, lambda _k, _v, agg: agg + 1),
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | None = None,
        named: Named | str | None = None,
    ) -> KTable:
        m, store = self._store(materialized, "KSTREAM-REDUCE-", burn=False)
        vs = m.value_serde or self.value_serde
        return self._aggregate(
            "KSTREAM-REDUCE-", named, m, store, vs, lambda: P.KStreamReduce(store, reducer)
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        materialized: Materialized | None = None,
        named: Named | str | None = None,
    ) -> KTable:
        m, store = self._store(materialized, "KSTREAM-AGGREGATE-", burn=False)
        vs = m.value_serde or Serdes.Json()
        return self._aggregate(
            "KSTREAM-AGGREGATE-",
            named,
            m,
            store,
            vs,
            lambda: P.KStreamAggregate(store, initializer, aggregator),
        )

    def windowed_by(self, windows: TimeWindows) -> TimeWindowedKStream:
        return TimeWindowedKStream(self, windows)


class TimeWindowedKStream:
    """A grouped stream cut into time windows; aggregations give a ``KTable<Windowed<K>, V>``."""

    def __init__(self, grouped: KGroupedStream, windows: TimeWindows) -> None:
        self._g = grouped
        self._b = grouped._b
        self.windows = windows

    def _aggregate(
        self,
        prefix: str,
        named: Named | str | None,
        materialized: Materialized | None,
        burn: bool,
        value_serde: Any,
        initializer: Callable[[], Any] | None,
        aggregator: Callable[[Any, Any, Any], Any],
    ) -> KTable:
        m, store = self._g._store(materialized, prefix, burn)
        name = self._b._named(named, prefix)
        source = self._g._source(store)
        ks = m.key_serde or self._g.key_serde
        vs = m.value_serde or value_serde
        w = self.windows
        retention = m.retention_ms if m.retention_ms is not None else w.size_ms + w.grace_ms
        if retention < w.size_ms + w.grace_ms:
            raise ValueError(
                f"The retention period of the window store {store} must be no smaller than its window size plus "
                f"the grace period. Got size=[{w.size_ms}], grace=[{w.grace_ms}], retention=[{retention}]"
            )
        self._b.topology.add_processor(
            name, lambda: P.KStreamWindowAggregate(store, w, initializer, aggregator), source
        )
        spec = StoreSpec(store, "window", ks, vs, m.logging, w.size_ms, retention)
        self._b.topology.add_state_store(spec, name)
        if m.store_name:
            self._b.topology.queryable_stores.add(store)
        return KTable(self._b, name, WindowedSerde(ks, w.size_ms), vs, store, windowed=True)

    def count(self, named: Named | str | None = None, materialized: Materialized | None = None) -> KTable:
        return self._aggregate(
            "KSTREAM-AGGREGATE-",
            named,
            materialized,
            materialized is not None,
            Serdes.Long(),
            lambda: 0,
            lambda _k, _v, agg: agg + 1,
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        materialized: Materialized | None = None,
        named: Named | str | None = None,
    ) -> KTable:
        return self._aggregate(
            "KSTREAM-REDUCE-",
            named,
            materialized,
            False,
            self._g.value_serde,
            None,
            lambda _k, v, agg: reducer(agg, v),
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        materialized: Materialized | None = None,
        named: Named | str | None = None,
    ) -> KTable:
        return self._aggregate(
            "KSTREAM-AGGREGATE-", named, materialized, False, Serdes.Json(), initializer, aggregator
        )


class KTable:
    """A changelog stream read as a table: the latest value per key (kept in ``store_name``)."""

    def __init__(
        self,
        builder: StreamsBuilder,
        name: str,
        key_serde: Any,
        value_serde: Any,
        store_name: str,
        *,
        windowed: bool,
    ) -> None:
        self._b = builder
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.store_name = store_name
        self.windowed = windowed

    def queryable_store_name(self) -> str | None:
        return self.store_name if self.store_name in self._b.topology.queryable_stores else None

    def to_stream(self, named: Named | str | None = None) -> KStream:
        name = self._b._named(named, "KTABLE-TOSTREAM-")
        self._b.topology.add_processor(name, P.KTableToStream, self.name)
        return KStream(self._b, name, self.key_serde, self.value_serde, False)

    def filter(self, predicate: Callable[[Any, Any], bool], named: Named | str | None = None) -> KTable:
        name = self._b._named(named, "KTABLE-FILTER-")
        self._b.topology.add_processor(name, lambda: P.KTableFilter(predicate), self.name)
        return KTable(
            self._b, name, self.key_serde, self.value_serde, self.store_name, windowed=self.windowed
        )

    def map_values(self, mapper: Callable[..., Any], named: Named | str | None = None) -> KTable:
        fn = _with_key(mapper, 1)
        name = self._b._named(named, "KTABLE-MAPVALUES-")
        self._b.topology.add_processor(name, lambda: P.KTableMapValues(fn), self.name)
        return KTable(self._b, name, self.key_serde, None, self.store_name, windowed=self.windowed)
