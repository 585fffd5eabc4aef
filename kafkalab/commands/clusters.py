"""Several clusters in one lab (``kafkalab sandbox --clusters east:3,west:3``): list, switch, cut, heal.

``use-cluster west`` makes every later command (Kafka's tools, lab verbs, the screen) act on ``west``; it is an
action, so a rewind replays it where it happened. ``cut-link east west`` breaks the network between the two
clusters' sites (clients that run in one site and talk to the other, like MirrorMaker's, lose it too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Plan
from .parsing import CommandError, Opt, parse_options

if TYPE_CHECKING:
    from .session import LabSession

__all__ = ["CLUSTER_HANDLERS", "CLUSTER_OPTIONS", "CLUSTER_SPECS", "cluster_names"]


def _world(session: LabSession, cmd: str) -> Any:
    world = getattr(session._w, "world", None)
    if world is None:
        raise CommandError(
            f"{cmd}: this lab has one cluster; start it with several, e.g. "
            "'kafkalab sandbox --clusters east:3,west:3'"
        )
    return world


def cluster_names(session: LabSession) -> list[str]:
    world = getattr(session._w, "world", None)
    return list(world.clusters) if world is not None else []


def _name(world: Any, text: str) -> str:
    if text not in world.clusters:
        raise CommandError(f"there is no cluster '{text}' (clusters: {', '.join(world.clusters)})")
    return text


def clusters(session: LabSession, argv: list[str]) -> Plan:
    parse_options(argv, [])
    world = getattr(session._w, "world", None)

    def run() -> list[str]:
        if world is None:
            c = session.cluster
            return [f"one cluster: {len(c.brokers)} brokers (cluster id {c.cluster_id})"]
        lines = []
        for name, c in world.clusters.items():
            mark = "*" if c is session.cluster else " "
            up = sum(1 for b in c.describe_cluster().brokers if b.state == "up")
            lines.append(f"{mark} {name}: {len(c.brokers)} brokers ({up} up), {len(c.topics())} topics")
        cuts = world.cut_pairs()
        lines.append("links cut: " + (", ".join(f"{a}<->{b}" for a, b in cuts) if cuts else "none"))
        lines.append("(* = the cluster commands and the screen act on; 'use-cluster NAME' switches)")
        return lines

    return Plan(run)


def use_cluster(session: LabSession, argv: list[str]) -> Plan:
    world = _world(session, "use-cluster")
    p = parse_options(argv, [], max_positionals=1)
    if not p.positionals:
        raise CommandError(f"usage: use-cluster NAME (clusters: {', '.join(world.clusters)})")
    name = _name(world, p.positionals[0])

    def run() -> list[str]:
        w = session._w
        # the produce shortcut keeps one producer per acks setting: they belong to the cluster they were made on
        kept = session.extension_state.setdefault("shortcut_producers", {})
        kept[w.cluster.name] = w.shortcut_producers
        w.cluster = world[name]
        w.shortcut_producers = kept.get(name, {})
        return [f"now on cluster {name}: commands and the screen act on it"]

    return Plan(run, records=True)


def cut_link(session: LabSession, argv: list[str]) -> Plan:
    world = _world(session, "cut-link")
    p = parse_options(argv, [], max_positionals=2)
    if len(p.positionals) != 2:
        raise CommandError("usage: cut-link CLUSTER CLUSTER (e.g. cut-link east west)")
    a, b = (_name(world, x) for x in p.positionals)
    if a == b:
        raise CommandError("cut-link needs two different clusters")
    if (min(a, b), max(a, b)) in world.cut_pairs():
        return Plan(lambda: [f"the link between {a} and {b} is already cut"])

    def run() -> list[str]:
        world.cut(a, b)
        return [f"network cut between {a} and {b}: nothing passes between the two sites until heal-link"]

    return Plan(run, records=True)


def heal_link(session: LabSession, argv: list[str]) -> Plan:
    world = _world(session, "heal-link")
    p = parse_options(argv, [], max_positionals=2)
    if len(p.positionals) not in (0, 2):
        raise CommandError("usage: heal-link [CLUSTER CLUSTER]")
    if not world.cut_pairs():
        return Plan(lambda: ["no link between clusters is cut"])
    pair = tuple(_name(world, x) for x in p.positionals) if p.positionals else None

    def run() -> list[str]:
        if pair is None:
            world.heal()
            return ["every link between clusters healed"]
        world.heal(pair[0], pair[1])
        return [f"link between {pair[0]} and {pair[1]} healed"]

    return Plan(run, records=True)


CLUSTER_HANDLERS = {
    "clusters": clusters,
    "use-cluster": use_cluster,
    "cut-link": cut_link,
    "heal-link": heal_link,
}

#: name -> (summary, usage)
CLUSTER_SPECS = {
    "clusters": ("list the lab's clusters and the links cut between them", "clusters"),
    "use-cluster": ("act on another cluster (commands and the screen)", "use-cluster NAME"),
    "cut-link": ("cut the network between two clusters", "cut-link CLUSTER CLUSTER"),
    "heal-link": ("repair the network between clusters", "heal-link [CLUSTER CLUSTER]"),
}

CLUSTER_OPTIONS: dict[str, list[Opt]] = {name: [] for name in CLUSTER_SPECS}
