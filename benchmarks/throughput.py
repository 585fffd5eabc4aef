"""Throughput of produce -> replicate -> consume, in process (run by hand; prints numbers).

3 brokers, a topic with RF=3 and min.insync.replicas=2, a producer with acks=all (idempotent) writing
100-byte values, and a consumer reading every record back. Reports records per second of wall time for the
whole pipeline (the simulation's virtual time is irrelevant here).

Two configurations, each run ``--repeat`` times (the median is the number to quote; this machine is shared
and single runs vary by a third):

* ``pipeline``: the cluster alone, as ``Cluster(...)`` with ``history.enabled = False``: what the issue's
  target (>= 500k records/s) is about;
* ``+history``: also recording the client history the checker and the compare screen read (the default of
  a ``Cluster``; three ops per record).

Both run with the garbage-collector settings of the lab app (:func:`kafkalab.gc_tuning.tune_gc`);
``--default-gc`` runs them with Python's defaults instead.

    python benchmarks/throughput.py [--records N] [--repeat R] [--default-gc] [--tmpfs] [--batch-size B]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time

from kafkalab import OFFSET_BEGINNING, Cluster, TopicPartition, build
from kafkalab.gc_tuning import tune_gc, untune_gc


def run(
    records: int,
    partitions: int,
    history: bool,
    batch_size: int,
    tuned_gc: bool = True,
    data_dir: str | None = None,
) -> tuple[float, float]:
    """One run; returns (records per wall-clock second, records per CPU second)."""
    cluster = Cluster(brokers=3, seed=1, keep_trace=False, data_dir=data_dir)
    cluster.history.enabled = history
    cluster.create_topic("bench", partitions, 3, {"min.insync.replicas": "2"})
    producer = cluster.producer(
        {"acks": "all", "enable.idempotence": True, "linger.ms": 5, "batch.size": batch_size}
    )
    consumer = cluster.consumer({"auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("bench", p, OFFSET_BEGINNING) for p in range(partitions)])
    value = b"x" * 100
    keys = [f"key-{i}".encode() for i in range(1000)]
    gc.collect()
    if tuned_gc:
        tune_gc()
    start = time.perf_counter()
    cpu_start = time.process_time()
    consumed = 0
    chunk = 20_000
    produce = producer.produce
    for base in range(0, records, chunk):
        for i in range(base, min(records, base + chunk)):
            produce("bench", value, keys[i % 1000])
        producer.poll(0.05)  # lets virtual time run: batches go out, replicate, get acknowledged
        consumed += len(consumer.consume(1_000_000, timeout=0))
    producer.flush()
    while consumed < records:
        consumed += len(consumer.consume(1_000_000, timeout=1.0))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    if tuned_gc:
        untune_gc()
    cluster.close()
    del cluster, producer, consumer
    gc.collect()
    return records / elapsed, records / cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (default 3)")
    ap.add_argument(
        "--batch-size", type=int, default=16384, help="producer batch.size (default Kafka's 16384)"
    )
    ap.add_argument("--default-gc", action="store_true", help="Python's GC defaults, not the lab app's")
    ap.add_argument("--only", choices=("pipeline", "+history"), help="run one configuration")
    ap.add_argument(
        "--tmpfs", action="store_true", help="put the segment files in /dev/shm (page cache only)"
    )
    args = ap.parse_args()
    print(
        f"kafkalab ({build.describe()}): {args.records} records of 100 bytes, {args.partitions} partitions, "
        f"RF=3, acks=all, idempotent, batch.size={args.batch_size}, "
        f"gc={'Python defaults' if args.default_gc else 'as the lab app'}, "
        f"segment files on {'tmpfs' if args.tmpfs else 'the temp dir'}"
    )
    configs = [("pipeline", False), ("+history", True)]
    for name, history in configs:
        if args.only and name != args.only:
            continue
        rates: list[float] = []
        for _ in range(args.repeat):
            data_dir = tempfile.mkdtemp(prefix="kafkalab-bench-", dir="/dev/shm") if args.tmpfs else None
            try:
                rate, _cpu_rate = run(
                    args.records, args.partitions, history, args.batch_size, not args.default_gc, data_dir
                )
            finally:
                if data_dir is not None:  # a cluster leaves a data dir it was given; tmpfs is memory
                    shutil.rmtree(data_dir, ignore_errors=True)
            rates.append(rate)
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(
            f"{name:>9}: median {statistics.median(rates):,.0f} records/s "
            f"(runs: {runs}; produce -> replicate -> consume, wall clock)"
        )


if __name__ == "__main__":
    main()
