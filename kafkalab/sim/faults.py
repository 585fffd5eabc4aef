"""Seeded fault schedules: a reproducible list of faults to throw at a cluster while a workload runs.

A schedule is plain data (``Fault`` rows with a virtual time), made from a seed, so a failing run can be
printed, replayed and shrunk by hand. ``run_produce_workload`` drives a producer through a schedule and
returns what the checker needs.

Two generators: :func:`random_schedule` (kills, restarts, pauses, symmetric cuts: the original suite) and
:func:`random_faults`, which adds what real clusters also suffer: one-way network cuts (a broker's
messages to a peer, a controller or the clients are lost while the other direction works), isolating the
leader of a partition, killing and restarting KRaft controllers, latency changes up to 12 s and time jumps
(every process stalls at once, then sees the gap in one go). :func:`install_schedule` turns a schedule into
kernel events, so faults fire at their virtual time even while a blocking client call runs the simulation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = [
    "CLIENTS",
    "FAULT_KINDS",
    "Fault",
    "apply_fault",
    "heal_everything",
    "install_schedule",
    "random_faults",
    "random_schedule",
    "run_produce_workload",
]

FAULT_KINDS = (
    "kill",
    "restart",
    "pause",
    "resume",
    "partition",
    "heal",
    "isolate",
    "cut",
    "isolate-leader",
    "kill-controller",
    "restart-controller",
    "latency",
    "jump",
)

#: in a ``cut`` fault's ``peers``: every client process (producers, consumers, admin clients)
CLIENTS = 0
#: KRaft controller ids are 3000, 3001, ... (``Cluster(controllers=n)``)
CONTROLLER_BASE_ID = 3000


@dataclass(frozen=True)
class Fault:
    time_ms: int
    kind: str
    #: node ids the fault applies to (brokers 1.., controllers 3000..); for partition: one side (the
    #: other side is everyone else); for cut: the sending side
    brokers: tuple[int, ...] = ()
    #: cut: the receiving side (``CLIENTS`` = every client)
    peers: tuple[int, ...] = ()
    #: latency: the new one-way latency in ms; jump: how long every process stalls; isolate-leader: partition
    value: int = 0
    #: isolate-leader: the topic whose partition's leader is cut off
    topic: str = ""

    def describe(self) -> str:
        who = ",".join(str(b) for b in self.brokers)
        if self.kind == "cut":
            to = ",".join("clients" if p == CLIENTS else str(p) for p in self.peers)
            return f"{self.time_ms}ms cut {who}->{to}"
        if self.kind in ("latency", "jump"):
            return f"{self.time_ms}ms {self.kind} {self.value}ms"
        if self.kind == "isolate-leader":
            return f"{self.time_ms}ms isolate-leader {self.topic}-{self.value}"
        return f"{self.time_ms}ms {self.kind} {who}".strip()


def random_schedule(seed: int, brokers: int, duration_ms: int, mean_gap_ms: int = 2500) -> list[Fault]:
    """Kills, restarts, pauses and network partitions at random times, from ``seed`` alone."""
    rng = random.Random(seed)
    out: list[Fault] = []
    t = 0
    down: set[int] = set()
    paused: set[int] = set()
    cut = False
    ids = list(range(1, brokers + 1))
    while True:
        t += 1 + int(rng.expovariate(1 / mean_gap_ms))
        if t >= duration_ms:
            break
        roll = rng.random()
        if roll < 0.3:
            up = [b for b in ids if b not in down]
            if up:
                b = rng.choice(up)
                down.add(b)
                paused.discard(b)
                out.append(Fault(t, "kill", (b,)))
        elif roll < 0.55:
            if down:
                b = rng.choice(sorted(down))
                down.discard(b)
                out.append(Fault(t, "restart", (b,)))
        elif roll < 0.65:
            up = [b for b in ids if b not in down and b not in paused]
            if up:
                b = rng.choice(up)
                paused.add(b)
                out.append(Fault(t, "pause", (b,)))
        elif roll < 0.75:
            if paused:
                b = rng.choice(sorted(paused))
                paused.discard(b)
                out.append(Fault(t, "resume", (b,)))
        elif roll < 0.88:
            k = rng.randint(1, max(1, brokers // 2))
            side = tuple(sorted(rng.sample(ids, k)))
            out.append(Fault(t, "partition", side))
            cut = True
        elif cut:
            out.append(Fault(t, "heal"))
            cut = False
    return out


def random_faults(
    seed: int,
    brokers: int,
    duration_ms: int,
    *,
    controllers: int = 1,
    topic: str = "t",
    partitions: int = 1,
    mean_gap_ms: int = 2500,
) -> list[Fault]:
    """Every kind of fault in :data:`FAULT_KINDS`, at random times, from ``seed`` alone.

    Latency changes go up to 12 s and come back down; a time jump stalls every process for 1-40 s (no other
    fault starts meanwhile). Controllers are killed only while a majority of them would stay up, or, with a
    single controller, until the next restart.
    """
    rng = random.Random(seed)
    out: list[Fault] = []
    t = 0
    ids = list(range(1, brokers + 1))
    ctrl_ids = [CONTROLLER_BASE_ID + i for i in range(controllers)]
    down: set[int] = set()
    paused: set[int] = set()
    ctrl_down: set[int] = set()
    cut = False
    slow = False
    while True:
        t += 1 + int(rng.expovariate(1 / mean_gap_ms))
        if t >= duration_ms:
            break
        roll = rng.random()
        up = [b for b in ids if b not in down]
        if roll < 0.14:
            if up:
                b = rng.choice(up)
                down.add(b)
                paused.discard(b)
                out.append(Fault(t, "kill", (b,)))
        elif roll < 0.26:
            if down:
                b = rng.choice(sorted(down))
                down.discard(b)
                out.append(Fault(t, "restart", (b,)))
        elif roll < 0.31:
            live = [b for b in up if b not in paused]
            if live:
                b = rng.choice(live)
                paused.add(b)
                out.append(Fault(t, "pause", (b,)))
        elif roll < 0.36:
            if paused:
                b = rng.choice(sorted(paused))
                paused.discard(b)
                out.append(Fault(t, "resume", (b,)))
        elif roll < 0.44:
            k = rng.randint(1, max(1, brokers // 2))
            side = tuple(sorted(rng.sample(ids, k)))
            if rng.random() < 0.3 and controllers > 1:
                side += (rng.choice(ctrl_ids),)
            out.append(Fault(t, "partition", side))
            cut = True
        elif roll < 0.54:
            src = rng.choice(ids + ctrl_ids)
            choices = [n for n in ids + ctrl_ids if n != src]
            if src in ids:
                choices.append(CLIENTS)
            dst = rng.choice(choices)
            out.append(Fault(t, "cut", (src,), (dst,)))
            cut = True
        elif roll < 0.60:
            out.append(Fault(t, "isolate-leader", value=rng.randrange(partitions), topic=topic))
            cut = True
        elif roll < 0.66:
            if cut:
                out.append(Fault(t, "heal"))
                cut = False
        elif roll < 0.72:
            alive = [c for c in ctrl_ids if c not in ctrl_down]
            if alive and (controllers == 1 or (len(ctrl_down) + 1) * 2 < controllers):
                c = rng.choice(alive)
                ctrl_down.add(c)
                out.append(Fault(t, "kill-controller", (c,)))
        elif roll < 0.78:
            if ctrl_down:
                c = rng.choice(sorted(ctrl_down))
                ctrl_down.discard(c)
                out.append(Fault(t, "restart-controller", (c,)))
        elif roll < 0.92:
            if slow and rng.random() < 0.6:
                out.append(Fault(t, "latency", value=1))
                slow = False
            else:
                out.append(Fault(t, "latency", value=rng.choice((20, 200, 1000, 3000, 6000, 12000))))
                slow = True
        else:
            jump = rng.randint(1000, 40_000)
            out.append(Fault(t, "jump", value=jump))
            t += jump
    return out


def apply_fault(cluster: Cluster, f: Fault) -> None:
    if f.kind == "kill":
        for b in f.brokers:
            cluster.kill_broker(b)
    elif f.kind == "restart":
        for b in f.brokers:
            cluster.restart_broker(b)
    elif f.kind == "pause":
        for b in f.brokers:
            cluster.pause_broker(b)
    elif f.kind == "resume":
        for b in f.brokers:
            cluster.resume_broker(b)
    elif f.kind == "partition" or f.kind == "isolate":
        cluster.partition(list(f.brokers))
    elif f.kind == "heal":
        cluster.heal()
    elif f.kind == "cut":
        for src in f.brokers:
            for dst in f.peers:
                if dst == CLIENTS:
                    for c in cluster.clients:
                        if c.name in cluster.net.nodes:
                            cluster.drop_messages(src, c.name)
                else:
                    cluster.drop_messages(src, dst)
    elif f.kind == "isolate-leader":
        infos = cluster.describe_topic(f.topic) if f.topic in cluster.topics() else []
        leader = infos[f.value].leader if f.value < len(infos) else -1
        if leader >= 0:
            cluster.partition([leader])
    elif f.kind == "kill-controller":
        for c in f.brokers:
            cluster.kill_controller(c)
    elif f.kind == "restart-controller":
        for c in f.brokers:
            cluster.restart_controller(c)
    elif f.kind == "latency":
        cluster.net.latency_ms = f.value
        cluster.note(f"network latency is now {f.value} ms", "network")
    elif f.kind == "jump":
        _time_jump(cluster, f.value)
    else:
        raise ValueError(f"unknown fault kind {f.kind!r} (expected one of {', '.join(FAULT_KINDS)})")


def _time_jump(cluster: Cluster, stall_ms: int) -> None:
    """Every process stalls for ``stall_ms`` (a suspended VM, a stopped clock), then wakes up at once."""
    stalled = [n for n in cluster.net.nodes.values() if n.alive and not n.paused]
    for n in stalled:
        n.pause()
    cluster.note(f"time jump: every process stalls for {stall_ms} ms")

    def wake() -> None:
        for n in stalled:
            if n.alive and n.paused:
                n.resume()

    cluster.kernel.schedule(stall_ms, "fault", wake, "time jump ends")


def install_schedule(
    cluster: Cluster, schedule: list[Fault], on_fault: Callable[[Fault], None] | None = None
) -> None:
    """Apply every fault of ``schedule`` at ``now + time_ms``, as kernel events (they fire during blocking
    client calls too)."""
    for f in sorted(schedule, key=lambda f: f.time_ms):

        def fire(f: Fault = f) -> None:
            apply_fault(cluster, f)
            if on_fault is not None:
                on_fault(f)

        cluster.kernel.schedule(f.time_ms, "fault", fire, f.describe())


def heal_everything(cluster: Cluster, latency_ms: int = 1) -> None:
    """Undo every fault: network healed, latency back to ``latency_ms``, every broker and controller up."""
    cluster.heal()
    cluster.net.latency_ms = latency_ms
    for bid, b in cluster.brokers.items():
        if not b.alive:
            cluster.restart_broker(bid)
        elif b.paused:
            cluster.resume_broker(bid)
    for cid, c in cluster.quorum.voters.items():
        if not c.alive:
            cluster.restart_controller(cid)
        elif c.paused:
            c.resume()
    for node in list(cluster.net.nodes.values()):
        if node.alive and node.paused:  # a time jump still in progress
            node.resume()


def run_produce_workload(
    cluster: Cluster,
    topic: str,
    schedule: list[Fault],
    producer_config: dict[str, Any],
    *,
    records: int = 200,
    duration_ms: int = 40_000,
    settle_ms: int = 40_000,
) -> dict[str, int]:
    """Produce ``records`` unique values spread over ``duration_ms`` while applying ``schedule``.

    Afterwards every fault is healed, the producer flushes, and the topic is read in full (``read_all``),
    so the cluster's history holds everything the checker needs. Returns simple counters.
    """
    producer = cluster.producer(producer_config)
    gap = max(1, duration_ms // max(1, records))
    faults = sorted(schedule, key=lambda f: f.time_ms)
    fi = 0
    start = cluster.now_ms
    acked = 0
    failed = 0

    def report(err: Any, _msg: Any) -> None:
        nonlocal acked, failed
        if err is None:
            acked += 1
        else:
            failed += 1

    for i in range(records):
        t = start + i * gap
        while fi < len(faults) and start + faults[fi].time_ms <= t:
            cluster.kernel.advance_to(start + faults[fi].time_ms)
            apply_fault(cluster, faults[fi])
            fi += 1
        cluster.kernel.advance_to(t)
        producer.produce(topic, key=f"k{i % 10}".encode(), value=f"w-{i}".encode(), on_delivery=report)
        producer.poll(0)
    while fi < len(faults):
        cluster.kernel.advance_to(start + faults[fi].time_ms)
        apply_fault(cluster, faults[fi])
        fi += 1
    heal_everything(cluster)
    producer.flush(timeout=settle_ms / 1000 + 130)
    # let followers catch up and rejoin the ISR so the final read sees every committed record
    cluster.run_for(settle_ms)
    cluster.read_all(topic)
    return {"acked": acked, "failed": failed, "pending": len(producer)}
