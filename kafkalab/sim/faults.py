"""Seeded fault schedules: a reproducible list of faults to throw at a cluster while a workload runs.

A schedule is plain data (``Fault`` rows with a virtual time), made from a seed, so a failing run can be
printed, replayed and shrunk by hand. ``run_produce_workload`` drives a producer through a schedule and
returns what the checker needs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = ["Fault", "apply_fault", "random_schedule", "run_produce_workload"]

FAULT_KINDS = ("kill", "restart", "pause", "resume", "partition", "heal", "isolate")


@dataclass(frozen=True)
class Fault:
    time_ms: int
    kind: str
    #: broker ids the fault applies to (for partition: one side; the other side is everyone else)
    brokers: tuple[int, ...] = ()

    def describe(self) -> str:
        who = ",".join(str(b) for b in self.brokers)
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
    else:
        raise ValueError(f"unknown fault kind {f.kind!r} (expected one of {', '.join(FAULT_KINDS)})")


def heal_everything(cluster: Cluster) -> None:
    cluster.heal()
    for bid, b in cluster.brokers.items():
        if not b.alive:
            cluster.restart_broker(bid)
        elif b.paused:
            cluster.resume_broker(bid)


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
