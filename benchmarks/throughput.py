"""Throughput of produce -> replicate -> consume, in process (run by hand; prints numbers).

3 brokers, a topic with RF=3 and min.insync.replicas=2, a producer with acks=all (idempotent) writing
100-byte values, and a consumer reading every record back. Reports records per second of wall time for the
whole pipeline (the simulation's virtual time is irrelevant here).

    python benchmarks/throughput.py [--records N] [--partitions P] [--no-history]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time

from kafkalab import OFFSET_BEGINNING, Cluster, TopicPartition


def run(
    records: int,
    partitions: int,
    history: bool,
    batch_size: int,
    tune_gc: bool = False,
    data_dir: str | None = None,
) -> tuple[float, float]:
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
    if tune_gc:
        # what the lab app does (kafkalab.ui.app.tune_gc): no full collections of the long-lived sim heap
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1_000_000)
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
    if tune_gc:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)
    cluster.close()
    return records / elapsed, records / cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument(
        "--batch-size", type=int, default=16384, help="producer batch.size (default Kafka's 16384)"
    )
    ap.add_argument("--no-history", action="store_true", help="do not record the checker history")
    ap.add_argument("--tune-gc", action="store_true", help="tune the garbage collector as the lab app does")
    ap.add_argument(
        "--tmpfs", action="store_true", help="put the segment files in /dev/shm (page cache only)"
    )
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="kafkalab-bench-", dir="/dev/shm") if args.tmpfs else None
    try:
        rate, cpu_rate = run(
            args.records, args.partitions, not args.no_history, args.batch_size, args.tune_gc, data_dir
        )
    finally:
        if data_dir is not None:  # a cluster leaves a data dir it was given; tmpfs is memory
            shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"produce->replicate(RF=3, acks=all)->consume: {args.records} records of 100 bytes, "
        f"{args.partitions} partitions, batch.size={args.batch_size}, history={'off' if args.no_history else 'on'}, "
        f"gc={'tuned' if args.tune_gc else 'default'}, data dir={'tmpfs' if args.tmpfs else 'tmp'}: "
        f"{rate:,.0f} records/s (wall clock), {cpu_rate:,.0f} records per CPU-second"
    )


if __name__ == "__main__":
    main()
