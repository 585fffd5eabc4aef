"""Rewind latency of the lab's time travel (run by hand; prints numbers).

Builds a lab session (3 brokers, a 3x3 topic, a background producer and a consumer group) until it has run
N events, with checkpoints as the lab takes them, then goes back to random points of it (``rewind_events``)
and returns (``redo``), timing each trip, and steps back to the previous timeline event (``,``) from random
points. Every figure is given as wall time and as CPU time of this process: on a shared machine the wall
time grows with the load average (printed first), the CPU time much less. The reference measured in the
same run is a straight replay from the seed of the first 50,000 events (what every rewind cost before
checkpoints). The lab screen also collects garbage after a trip (the old world): that is timed too.

    .venv/bin/python benchmarks/rewind_latency.py [--events 100000 1000000] [--trips 20]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import time

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel_meaning import step_back
from kafkalab.gc_tuning import tune_gc


def setup(s: LabSession, rate: int) -> None:
    for line in (
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3",
        f"start-producer p1 --topic events --rate {rate}",
        "start-consumer c1 --topic events --group g1",
    ):
        assert execute(s, line).ok, line


def build(events: int, rate: int) -> tuple[LabSession, float, float]:
    s = LabSession(brokers=3, seed=42)
    setup(s, rate)
    t0, c0 = time.perf_counter(), time.process_time()
    while s.events < events:
        s.tick(1000)
    return s, time.perf_counter() - t0, time.process_time() - c0


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def timed(fn: object) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--trips", type=int, default=20)
    ap.add_argument("--rate", type=int, default=1000, help="records/s of the background producer")
    args = ap.parse_args()
    tune_gc()  # as the lab app runs
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    ref = LabSession(brokers=3, seed=42)
    setup(ref, args.rate)
    ref.travel.enabled = False
    while ref.events < 50_000:
        ref.tick(1000)
    wall, cpu = timed(ref.replay)
    per_event = cpu / ref.events
    print(
        f"reference: replay from the seed of {ref.events:,} events: {wall:.2f} s wall, {cpu:.2f} s CPU "
        f"({per_event * 1e6:.1f} µs CPU/event)"
    )
    ref.close()
    rng = random.Random(1)
    for n in args.events:
        s, build_wall, build_cpu = build(n, args.rate)
        st = s.travel.stats()
        store = s.travel.store
        print(
            f"\nsession of {s.events:,} events (t = {s.now_ms / 1000:.1f} s virtual), built in {build_wall:.1f} s "
            f"wall / {build_cpu:.1f} s CPU: {st['checkpoints']} checkpoints on the line ({st['taken']} taken), "
            f"a capture {store.total_cost_s / max(1, st['taken']) * 1000:.0f} ms wall / "
            f"{store.total_cpu_s / max(1, st['taken']) * 1000:.0f} ms CPU, "
            f"{store.total_cpu_s / build_cpu * 100:.1f}% of the run's CPU"
        )
        tip = s.cluster.trace_hash()
        back, back_cpu, fwd, fwd_cpu, collect = [], [], [], [], []
        for _ in range(args.trips):
            target = rng.randrange(s.start_events + 1, s.events)
            w, c = timed(lambda s=s, t=target: s.rewind_events(s.events - t))
            back.append(w)
            back_cpu.append(c)
            assert s.events == target
            collect.append(timed(gc.collect)[0])
            w, c = timed(s.redo)
            fwd.append(w)
            fwd_cpu.append(c)
            assert s.cluster.trace_hash() == tip
        print(f"  rewind to a random point: {ms(back)} wall; {ms(back_cpu)} CPU")
        print(f"  redo (back to the tip):   {ms(fwd)} wall; {ms(fwd_cpu)} CPU")
        print(f"  the screen's collection of the old world after a trip: {ms(collect)} wall")
        steps, steps_cpu = [], []
        for _ in range(max(3, args.trips // 4)):
            target = rng.randrange(s.start_events + 1, s.events)
            s.rewind_events(s.events - target)
            w, c = timed(lambda s=s: step_back(s))
            steps.append(w)
            steps_cpu.append(c)
            s.redo(s.branches[-1].number)  # (the tip: every trip starts from the end of the session)
        print(
            f"  ',' (back to the previous timeline event) from a random point: {ms(steps)} wall; {ms(steps_cpu)} CPU"
        )
        print(
            f"  a replay from the seed would take ~{per_event * s.events:.1f} s CPU; checkpoint disk (not shared "
            f"with live files): {store.disk_bytes() / 1e6:.0f} MB; max RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        s.close()
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
