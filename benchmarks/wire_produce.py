"""confluent-kafka producing to the lab over the wire vs to librdkafka's mock cluster (run by hand).

The same producer (confluent-kafka, acks=all, 100-byte values, librdkafka's defaults otherwise) writes the
same number of records to:

* librdkafka's in-process mock cluster (``test.mock.num.brokers: 3``), the reference;
* a ``kafkalab cluster`` of 3 brokers started as a subprocess (its own core, as a user runs it), into a
  topic with 3 partitions, replication factor 3 and min.insync.replicas=2.

It prints records per second of wall time (first ``produce()`` to the end of ``flush()``) for each, medians
over ``--repeat`` runs, and the ratio lab / mock. The target is a ratio of at least 0.5.

    python benchmarks/wire_produce.py [--records N] [--repeat R] [--idempotence]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

VALUE = b"x" * 100


def produce(conf: dict[str, object], topic: str, records: int) -> float:
    """Records per second for ``records`` records with acks=all; every one must be acknowledged."""
    p = Producer({"acks": "all", "log_level": 3, **conf})
    failed: list[object] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failed.append(err)

    # warm up: metadata, connections, producer id
    p.produce(topic, VALUE, on_delivery=report)
    p.flush(60)
    start = time.perf_counter()
    for _ in range(records):
        while True:
            try:
                p.produce(topic, VALUE, on_delivery=report)
                break
            except BufferError:
                p.poll(0.001)
        p.poll(0)
    left = p.flush(120)
    elapsed = time.perf_counter() - start
    if left or failed:
        raise SystemExit(f"{left} records not delivered, {len(failed)} failed (first: {failed[:1]})")
    return records / elapsed


def start_lab() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafkalab.cli", "cluster", "--brokers", "3", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("bootstrap.servers="):
        proc.kill()
        raise SystemExit(f"the lab did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--idempotence", action="store_true", help="enable.idempotence=true for both")
    args = ap.parse_args()
    extra = {"enable.idempotence": True} if args.idempotence else {}
    print(
        f"{args.records} records of {len(VALUE)} bytes, acks=all{', idempotent' if extra else ''}, "
        f"median of {args.repeat}; {os.cpu_count()} cores"
    )

    mock, lab = [], []
    for i in range(args.repeat):
        mock.append(produce({"test.mock.num.brokers": 3, **extra}, f"bench-{i}", args.records))
        proc, bootstrap = start_lab()
        try:
            admin = AdminClient({"bootstrap.servers": bootstrap})
            topic = f"bench-{i}"
            admin.create_topics([NewTopic(topic, 3, 3, config={"min.insync.replicas": "2"})])[topic].result(
                60
            )
            lab.append(produce({"bootstrap.servers": bootstrap, **extra}, topic, args.records))
        finally:
            proc.terminate()
            proc.wait(30)
        print(f"  run {i + 1}: mock {mock[-1]:>10,.0f} records/s   lab {lab[-1]:>10,.0f} records/s")
    m, lb = statistics.median(mock), statistics.median(lab)
    print(f"librdkafka mock cluster (3 brokers): {m:>10,.0f} records/s")
    print(f"kafkalab cluster (3 brokers, RF=3):   {lb:>10,.0f} records/s")
    print(f"lab / mock: {lb / m:.2f}  (target >= 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
