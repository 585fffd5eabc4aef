"""Rewind latency of the lab's time travel (run by hand; prints numbers).

Builds a lab session (3 brokers, a 3x3 topic, a background producer and a consumer group) until it has run
N events, with checkpoints as the lab takes them, then goes back to random points of it (``rewind_events``)
and returns (``redo``), timing each trip. The reference measured in the same run is a straight replay from
the seed of the first 50,000 events (what every rewind cost before checkpoints).

    .venv/bin/python benchmarks/rewind_latency.py [--events 100000 1000000] [--trips 10]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time

from kafkalab.commands import LabSession, execute
from kafkalab.gc_tuning import tune_gc


def build(events: int, rate: int) -> tuple[LabSession, float]:
    s = LabSession(brokers=3, seed=42)
    for line in (
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3",
        f"start-producer p1 --topic events --rate {rate}",
        "start-consumer c1 --topic events --group g1",
    ):
        assert execute(s, line).ok
    t0 = time.perf_counter()
    while s.events < events:
        s.tick(1000)
    return s, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--trips", type=int, default=10)
    ap.add_argument("--rate", type=int, default=1000, help="records/s of the background producer")
    args = ap.parse_args()
    tune_gc()
    ref = LabSession(brokers=3, seed=42)
    for line in (
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3",
        f"start-producer p1 --topic events --rate {args.rate}",
        "start-consumer c1 --topic events --group g1",
    ):
        execute(ref, line)
    ref.travel.enabled = False
    while ref.events < 50_000:
        ref.tick(1000)
    t0 = time.perf_counter()
    ref.replay()
    replay_s = time.perf_counter() - t0
    print(
        f"reference: replay from the seed of {ref.events:,} events: {replay_s:.2f} s "
        f"({replay_s / ref.events * 1e6:.1f} µs/event)"
    )
    ref.close()
    rng = random.Random(1)
    for n in args.events:
        s, build_s = build(n, args.rate)
        st = s.travel.stats()
        print(
            f"\nsession of {s.events:,} events (t = {s.now_ms / 1000:.1f} s virtual), built in {build_s:.1f} s: "
            f"{st['checkpoints']} checkpoints, capture {st['capture_s'] / max(1, st['taken']) * 1000:.0f} ms each "
            f"({st['capture_s'] / build_s * 100:.0f}% of the run)"
        )
        tip = s.cluster.trace_hash()
        back, fwd = [], []
        for _ in range(args.trips):
            target = rng.randrange(s.start_events + 1, s.events)
            t0 = time.perf_counter()
            s.rewind_events(s.events - target)
            back.append(time.perf_counter() - t0)
            assert s.events == target
            t0 = time.perf_counter()
            s.redo()
            fwd.append(time.perf_counter() - t0)
            assert s.cluster.trace_hash() == tip
        print(
            f"  rewind to a random point: median {statistics.median(back) * 1000:.0f} ms, "
            f"max {max(back) * 1000:.0f} ms  ({max(back) / replay_s * 100:.0f}% of the reference)"
        )
        print(
            f"  redo (back to the tip):   median {statistics.median(fwd) * 1000:.0f} ms, max {max(fwd) * 1000:.0f} ms"
        )
        print(f"  straight replay from the seed would take ~{replay_s / 50_000 * s.events:.1f} s")
        print(
            f"  checkpoint disk (not shared with live files): {s.travel.store.disk_bytes() / 1e6:.0f} MB; "
            f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        s.close()


if __name__ == "__main__":
    main()
