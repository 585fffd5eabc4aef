"""A ``World``: several named Kafka clusters on one kernel (one virtual clock, one seeded RNG).

Each cluster keeps its own brokers, controller, network, history and timeline; they share time, so what
happens in one is ordered against what happens in the other exactly as in a run of one cluster. Each cluster
is a *site*: a client built on a cluster lives in that cluster's site unless :meth:`World.place` puts it
elsewhere (MirrorMaker 2 runs next to its target cluster and reaches the source cluster over the WAN link).
:meth:`World.cut` breaks the link between two sites, :meth:`World.heal` repairs it.

>>> from kafkalab.sim.world import World
>>> world = World({"east": 3, "west": 3}, seed=42)
>>> world["east"].create_topic("orders", partitions=3, replication_factor=3)
>>> world.now_ms == world["west"].now_ms
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mypy_extensions import mypyc_attr

from .cluster import Cluster
from .kernel import Kernel, Node, TraceEvent

__all__ = ["World", "parse_clusters"]

#: at most this many clusters and brokers per cluster in one world (memory and screen space)
MAX_CLUSTERS = 4
MAX_BROKERS = 9


def parse_clusters(spec: str) -> list[tuple[str, int]]:
    """``"east:3,west:3"`` -> ``[("east", 3), ("west", 3)]``; ValueError naming what is wrong."""
    out: list[tuple[str, int]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, count = part.partition(":")
        name = name.strip()
        if not name or not (name[0].isalpha() and all(c.isalnum() or c in "-_" for c in name)):
            raise ValueError(
                f"bad cluster name {name!r} in {spec!r}: use letters, digits, '-' and '_', starting with a letter"
            )
        if not sep:
            n = 3
        else:
            try:
                n = int(count)
            except ValueError:
                raise ValueError(
                    f"bad broker count {count!r} for cluster {name!r} (expected e.g. {name}:3)"
                ) from None
        if not 1 <= n <= MAX_BROKERS:
            raise ValueError(
                f"cluster {name!r}: the number of brokers must be between 1 and {MAX_BROKERS}, got {n}"
            )
        if any(name == other for other, _ in out):
            raise ValueError(f"cluster {name!r} is named twice in {spec!r}")
        out.append((name, n))
    if not out:
        raise ValueError(f"no cluster in {spec!r} (expected e.g. east:3,west:3)")
    if len(out) > MAX_CLUSTERS:
        raise ValueError(f"at most {MAX_CLUSTERS} clusters, got {len(out)}")
    return out


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class World:
    """Named clusters on one kernel; ``world["east"]`` is a :class:`Cluster` like any other."""

    def __init__(
        self,
        clusters: Mapping[str, int] | Iterable[tuple[str, int]] | str,
        seed: int = 0,
        *,
        keep_trace: bool = True,
        **cluster_kwargs: Any,
    ) -> None:
        if isinstance(clusters, str):
            spec = parse_clusters(clusters)
        elif isinstance(clusters, Mapping):
            spec = [(str(k), int(v)) for k, v in clusters.items()]
        else:
            spec = [(str(k), int(v)) for k, v in clusters]
        if not spec:
            raise ValueError("a world needs at least one cluster")
        self.seed = seed
        self.kernel = Kernel(seed, keep_trace=keep_trace)
        #: pairs of sites (cluster names) whose link is cut; shared by the networks of every cluster
        self.site_cuts: set[frozenset[str]] = set()
        self.clusters: dict[str, Cluster] = {}
        for name, n in spec:
            if name in self.clusters:
                raise ValueError(f"cluster {name!r} is named twice")
            c = Cluster(
                brokers=n, seed=seed, kernel=self.kernel, name=name, keep_trace=keep_trace, **cluster_kwargs
            )
            c.net.site_cuts = self.site_cuts
            c.world = self
            self.clusters[name] = c

    def __getitem__(self, name: str) -> Cluster:
        try:
            return self.clusters[name]
        except KeyError:
            raise KeyError(f"no cluster named {name!r} (clusters: {', '.join(self.clusters)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.clusters

    @property
    def names(self) -> list[str]:
        return list(self.clusters)

    # -- time ---------------------------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.kernel.now_ms

    def run_for(self, ms: int) -> None:
        self.kernel.run_for(ms)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: int) -> bool:
        return self.kernel.run_until(predicate, timeout_ms)

    def step(self) -> TraceEvent | None:
        return self.kernel.step()

    def trace_hash(self) -> str:
        return self.kernel.trace_hash()

    # -- sites and the links between them -------------------------------------------------------------------
    def place(self, node: Node, site: str) -> None:
        """Run ``node`` (a client of one of the clusters) in ``site``: it crosses the WAN link to its cluster."""
        self._check_site(site)
        net = getattr(node, "net", None)
        if net is None:
            raise ValueError(f"{node.name} is not a network node")
        net.site_of[node.name] = site

    def cut(self, a: str, b: str) -> None:
        """Cut the link between sites ``a`` and ``b``: nothing passes either way until :meth:`heal`."""
        self._check_site(a)
        self._check_site(b)
        if a == b:
            raise ValueError("a site cannot be cut from itself")
        self.site_cuts.add(frozenset((a, b)))
        for name in (a, b):
            self.clusters[name].note(f"network cut between {a} and {b}", "network")

    def heal(self, a: str | None = None, b: str | None = None) -> None:
        """Repair the link between ``a`` and ``b`` (every inter-site link when no site is named)."""
        if a is None or b is None:
            cuts = list(self.site_cuts)
            self.site_cuts.clear()
        else:
            cuts = [frozenset((a, b))] if frozenset((a, b)) in self.site_cuts else []
            self.site_cuts.discard(frozenset((a, b)))
        for pair in cuts:
            x, y = sorted(pair)
            for name in (x, y):
                self.clusters[name].note(f"network between {x} and {y} healed", "network")

    def cut_pairs(self) -> list[tuple[str, str]]:
        return sorted((min(p), max(p)) for p in self.site_cuts)

    def _check_site(self, site: str) -> None:
        if site not in self.clusters:
            raise ValueError(f"no cluster named {site!r} (clusters: {', '.join(self.clusters)})")

    def close(self) -> None:
        for c in self.clusters.values():
            c.close()
