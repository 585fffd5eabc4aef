"""A processor topology (Java's ``Topology``): sources, processors, sinks, state stores, sub-topologies.

The DSL (:mod:`.kstream`) adds nodes here as its methods are called; the Processor API is the same methods
(``add_source``, ``add_processor``, ``add_sink``, ``add_state_store``). :meth:`Topology.describe` prints the
topology exactly as Kafka's ``TopologyDescription.toString()`` does: sub-topologies in id order, nodes in
each ordered by the size of the sub-graph below them (largest first), then by name.

Sub-topologies are the connected parts of the graph, where processors that share a state store count as
connected (Kafka's ``nodeGroups``); they are numbered in the order their first node was added. Each becomes
one *task per partition* of its source topics at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .serdes import Serde

__all__ = [
    "REPARTITION_SUFFIX",
    "CHANGELOG_SUFFIX",
    "StoreSpec",
    "Subtopology",
    "Topology",
    "TopologyException",
]

REPARTITION_SUFFIX = "-repartition"
CHANGELOG_SUFFIX = "-changelog"


class TopologyException(Exception):
    """Invalid topology: Kafka's ``TopologyException`` texts start with ``Invalid topology: ``."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Invalid topology: {message}")


@dataclass
class StoreSpec:
    """A state store: ``kind`` is ``"kv"`` (key-value) or ``"window"``; ``logging``: backed by a changelog."""

    name: str
    kind: str
    key_serde: Any
    value_serde: Any
    logging: bool = True
    window_size_ms: int = 0
    retention_ms: int = 0

    @property
    def changelog_suffix(self) -> str:
        return self.name + CHANGELOG_SUFFIX

    def changelog_config(self) -> dict[str, str]:
        """Topic configs Kafka Streams gives a changelog (``InternalTopicManager`` defaults)."""
        if self.kind == "window":
            # windowstore.changelog.additional.retention.ms defaults to one day
            return {"cleanup.policy": "compact,delete", "retention.ms": str(self.retention_ms + 86_400_000)}
        return {"cleanup.policy": "compact"}


@dataclass
class _Node:
    name: str
    kind: str  # "source" | "processor" | "sink"
    order: int
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    #: source: topic names as the topology knows them (internal ones without the application id)
    topics: list[str] = field(default_factory=list)
    #: sink: the topic
    topic: str = ""
    internal: bool = False
    stores: list[str] = field(default_factory=list)
    factory: Callable[[], Any] | None = None
    key_serde: Any = None
    value_serde: Any = None
    #: sink: Windowed keys are partitioned by their inner key (WindowedStreamPartitioner)
    windowed_key: bool = False


@dataclass
class Subtopology:
    """One connected part of the topology; at run time one task per partition of its source topics."""

    id: int
    nodes: list[str]
    source_topics: list[str]
    repartition_sources: list[str]
    sink_topics: list[str]
    stores: list[str]


class Topology:
    """Nodes and stores of a stream processing application; ``describe()`` prints it like Kafka."""

    def __init__(self) -> None:
        self._nodes: dict[str, _Node] = {}
        self._stores: dict[str, StoreSpec] = {}
        #: store name -> processors using it
        self._store_users: dict[str, list[str]] = {}
        #: internal (repartition) topics, as named inside the topology
        self._internal_topics: list[str] = []
        #: state stores the DSL made queryable by name (Materialized.as_ / ksqlDB tables)
        self.queryable_stores: set[str] = set()

    # -- building (the Processor API) ----------------------------------------------------------------------
    def _add(self, node: _Node, parents: Iterable[str]) -> None:
        if node.name in self._nodes:
            raise TopologyException(f"Processor {node.name} is already added.")
        for p in parents:
            parent = self._nodes.get(p)
            if parent is None:
                raise TopologyException(f"Parent processor {p} is not added yet for {node.name}")
            if parent.kind == "sink":
                raise TopologyException(f"Sink {p} cannot be used a parent.")
            node.parents.append(p)
            parent.children.append(node.name)
        self._nodes[node.name] = node

    def add_source(
        self,
        name: str,
        topics: list[str],
        key_serde: Serde | None = None,
        value_serde: Serde | None = None,
        *,
        internal: bool = False,
    ) -> Topology:
        if not topics:
            raise TopologyException("You must provide at least one topic")
        for t in topics:
            for n in self._nodes.values():
                if n.kind == "source" and t in n.topics:
                    raise TopologyException(f"Topic {t} has already been registered by another source.")
        node = _Node(name, "source", len(self._nodes), topics=list(topics), internal=internal)
        node.key_serde, node.value_serde = key_serde, value_serde
        self._add(node, [])
        if internal:
            for t in topics:
                if t not in self._internal_topics:
                    self._internal_topics.append(t)
        return self

    def add_processor(
        self, name: str, factory: Callable[[], Any], *parents: str, stores: Iterable[str] = ()
    ) -> Topology:
        if not parents:
            raise TopologyException(f"Processor {name} must have at least one parent")
        node = _Node(name, "processor", len(self._nodes), factory=factory)
        self._add(node, parents)
        for s in stores:
            self.connect_processor_and_state_stores(name, s)
        return self

    def add_sink(
        self,
        name: str,
        topic: str,
        *parents: str,
        key_serde: Any = None,
        value_serde: Any = None,
        internal: bool = False,
        windowed_key: bool = False,
    ) -> Topology:
        if not parents:
            raise TopologyException(f"Sink {name} must have at least one parent")
        node = _Node(
            name, "sink", len(self._nodes), topic=topic, internal=internal, windowed_key=windowed_key
        )
        node.key_serde, node.value_serde = key_serde, value_serde
        self._add(node, parents)
        return self

    def add_state_store(self, spec: StoreSpec, *processor_names: str) -> Topology:
        if spec.name in self._stores:
            raise TopologyException(
                f"A different StateStore has already been added with the name {spec.name}"
            )
        self._stores[spec.name] = spec
        self._store_users.setdefault(spec.name, [])
        for p in processor_names:
            self.connect_processor_and_state_stores(p, spec.name)
        return self

    def connect_processor_and_state_stores(self, processor: str, store: str) -> None:
        node = self._nodes.get(processor)
        if node is None:
            raise TopologyException(f"Processor {processor} is not added yet.")
        if store not in self._stores:
            raise TopologyException(f"StateStore {store} is not added yet.")
        if store not in node.stores:
            node.stores.append(store)
            self._store_users[store].append(processor)

    # -- reading -------------------------------------------------------------------------------------------
    def node(self, name: str) -> _Node:
        return self._nodes[name]

    @property
    def nodes(self) -> dict[str, _Node]:
        return self._nodes

    @property
    def stores(self) -> dict[str, StoreSpec]:
        return self._stores

    @property
    def internal_topics(self) -> list[str]:
        return list(self._internal_topics)

    def subtopologies(self) -> list[Subtopology]:
        """The connected parts, numbered in the order their first node was added (Kafka's node groups)."""
        parent: dict[str, str] = {n: n for n in self._nodes}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                # keep the earlier node as root so ids follow insertion order
                if self._nodes[ra].order <= self._nodes[rb].order:
                    parent[rb] = ra
                else:
                    parent[ra] = rb

        for n in self._nodes.values():
            for c in n.children:
                union(n.name, c)
        for users in self._store_users.values():
            for u in users[1:]:
                union(users[0], u)
        groups: dict[str, list[str]] = {}
        for name in self._nodes:  # insertion order
            groups.setdefault(find(name), []).append(name)
        out = []
        for i, members in enumerate(groups.values()):
            sources = [t for m in members for t in self._nodes[m].topics]
            rep = [t for m in members for t in self._nodes[m].topics if t in self._internal_topics]
            sinks = [self._nodes[m].topic for m in members if self._nodes[m].kind == "sink"]
            stores = [s for m in members for s in self._nodes[m].stores]
            out.append(Subtopology(i, members, sources, rep, sinks, list(dict.fromkeys(stores))))
        return out

    def validate(self) -> None:
        """What Kafka checks when the application starts: every sub-topology reads from a topic."""
        for st in self.subtopologies():
            if not st.source_topics:
                raise TopologyException(f"Sub-topology {st.id} has no source topic")

    # -- describe ------------------------------------------------------------------------------------------
    def _size(self, name: str, memo: dict[str, int]) -> int:
        if name not in memo:
            memo[name] = 1 + sum(self._size(c, memo) for c in self._nodes[name].children)
        return memo[name]

    def describe(self) -> TopologyDescription:
        return TopologyDescription(self)

    def __str__(self) -> str:
        return str(self.describe())


class TopologyDescription:
    """``Topology.describe()``: ``str()`` of it is Kafka's text, ``subtopologies`` the parts."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.subtopologies = topology.subtopologies()

    def _names(self, names: Iterable[str], key: Callable[[str], tuple[int, str]]) -> str:
        ordered = sorted(names, key=key)
        return ", ".join(ordered) if ordered else "none"

    def __str__(self) -> str:
        topo = self.topology
        memo: dict[str, int] = {}

        def key(n: str) -> tuple[int, str]:
            return (-topo._size(n, memo), n)

        lines = ["Topologies:"]
        first = True
        for st in self.subtopologies:
            lines.append(("   " if first else "  ") + f"Sub-topology: {st.id}")
            first = False
            for name in sorted(st.nodes, key=key):
                n = topo.nodes[name]
                if n.kind == "source":
                    lines.append(f"    Source: {name} (topics: [{', '.join(n.topics)}])")
                    lines.append(f"      --> {self._names(n.children, key)}")
                elif n.kind == "processor":
                    lines.append(f"    Processor: {name} (stores: [{', '.join(n.stores)}])")
                    lines.append(f"      --> {self._names(n.children, key)}")
                    lines.append(f"      <-- {self._names(n.parents, key)}")
                else:
                    lines.append(f"    Sink: {name} (topic: {n.topic})")
                    lines.append(f"      <-- {self._names(n.parents, key)}")
            lines.append("")
        return "\n".join(lines) + "\n"
