"""Several clusters on one screen (``kafkalab sandbox --clusters east:3,west:3``): which one is shown, switching.

The screen always shows the session's current cluster (the one console commands act on). ``ctrl+n`` (or the
palette's "Switch to cluster ...") types ``use-cluster NAME`` into the console, so a switch is an action like
any other: it is echoed, recorded and replayed by a rewind. The Cluster panel's title names the cluster and
the links cut between clusters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .messages import CommandSubmitted

__all__ = ["CLUSTER_BINDINGS", "ClusterSwitch", "cluster_title", "lab_shape"]

CLUSTER_BINDINGS: list[Binding] = [
    Binding(
        "ctrl+n",
        "next_cluster",
        "Next cluster",
        show=False,
        id="lab.next-cluster",
        tooltip="Show and act on the next cluster (types use-cluster NAME; only with several clusters)",
    ),
]


def _world(session: Any) -> Any:
    w = getattr(session, "_w", None)
    return getattr(w, "world", None)


def lab_shape(session: Any, brokers: int) -> str:
    """``3 brokers``, or ``clusters east (3 brokers), west (3 brokers)`` for a lab with several clusters."""
    world = _world(session)
    if world is None:
        return f"{brokers} brokers"
    return "clusters " + ", ".join(f"{n} ({len(c.brokers)} brokers)" for n, c in world.clusters.items())


def cluster_title(session: Any) -> str:
    """``Cluster`` alone, or ``Cluster east (1 of 2) · link east-west cut`` with several clusters."""
    world = _world(session)
    if world is None:
        return "Cluster"
    names = list(world.clusters)
    current = getattr(session.cluster, "name", "") or names[0]
    title = f"Cluster {current} ({names.index(current) + 1} of {len(names)}, ctrl+n switches)"
    cuts = world.cut_pairs()
    if cuts:
        title += " · link " + ", ".join(f"{a}-{b}" for a, b in cuts) + " cut"
    return title


class ClusterSwitch:
    """Mixin of the app: keeps the Cluster panel's title current and switches clusters on ``ctrl+n``."""

    session: Any

    def refresh_view(self) -> None:
        super().refresh_view()  # type: ignore[misc]
        try:
            panel = self.query_one("#brokers")  # type: ignore[attr-defined]
        except Exception:
            return
        title = cluster_title(self.session)
        if panel.border_title != title:
            panel.border_title = title

    def action_next_cluster(self) -> None:
        world = _world(self.session)
        if world is None:
            self.notify(
                "This lab has one cluster. Start one with several: kafkalab sandbox --clusters east:3,west:3"
            )  # type: ignore[attr-defined]
            return
        names = list(world.clusters)
        current = getattr(self.session.cluster, "name", "") or names[0]
        nxt = names[(names.index(current) + 1) % len(names)]
        self.post_message(CommandSubmitted(f"use-cluster {nxt}"))  # type: ignore[attr-defined]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)  # type: ignore[misc]
        world = _world(self.session)
        if world is None:
            return
        for name in world.clusters:
            yield SystemCommand(
                f"Switch to cluster {name}",
                "Show and act on this cluster (types use-cluster in the console)",
                lambda name=name: self.post_message(CommandSubmitted(f"use-cluster {name}")),  # type: ignore[attr-defined]
            )
