"""``kafka-producer-perf-test`` and ``kafka-consumer-perf-test`` on virtual time.

Both run real simulated clients against the cluster and measure in virtual time, so their numbers follow
from the clients' settings and the simulated network, nothing else: a producer sends a Produce request per
broker with up to one ``batch.size`` batch per partition, holds at most
``max.in.flight.requests.per.connection`` of them unanswered, waits ``linger.ms`` for a batch to fill, and
with ``acks=all`` waits until the followers have fetched the data; every link carries 125,000 bytes per ms
(1 Gbit/s) plus the latency, and each request and partition in it costs protocol overhead bytes.

The perf test's own loop (Java's ``ProducerPerformance``) costs CPU per ``send()``; here it sends at most
``APP_SENDS_PER_MS`` records per millisecond of virtual time (about a million a second, a fast Java thread),
throttled to ``--throughput`` when that is given, and blocks while ``buffer.memory`` is full.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...sim.clients.producer import PRODUCER_DEFAULTS
from ..base import Plan, auto_create_enabled, require_a_running_broker, require_topic, topic_name_error
from ..parsing import CommandError, Opt, parse_float, parse_options
from .common import _check_producer_cfg, _client_props, _unique_node_name

if TYPE_CHECKING:
    from ...sim.clients.common import Message
    from ...sim.errors import KafkaError
    from ..session import LabSession

#: records the perf test's send loop can hand to the producer per ms of virtual time
APP_SENDS_PER_MS = 1000
#: the lab's cap on one run (each record is simulated)
MAX_RECORDS = 1_000_000
REPORTING_INTERVAL_MS = 5000

PRODUCER_PERF_OPTS = [
    Opt("topic", "str", help="produce messages to this topic"),
    Opt("num-records", "long", help="number of messages to produce"),
    Opt("record-size", "int", help="message size in bytes"),
    Opt("payload-monotonic", help="payload is a monotonically increasing integer"),
    Opt("payload-file", "str", help="(the lab has no files: use --record-size)"),
    Opt("throughput", "str", help="approximate records/sec to send; -1 for as fast as possible"),
    Opt(
        "producer-props",
        "str",
        multi=True,
        help="producer configs: acks=all linger.ms=10 batch.size=65536 ...",
    ),
    Opt("producer.config", "str", help="(the lab has no files: use --producer-props)"),
    Opt("print-metrics", help="print producer metrics at the end"),
    Opt("transactional-id", "str", help="produce in transactions with this id"),
    Opt("transaction-duration-ms", "long", help="commit a transaction every this many ms"),
]


def _argparse_error(tool: str, message: str) -> CommandError:
    return CommandError(f"{tool}: error: {message}")


def _gather_props(argv: list[str], option: str) -> list[str]:
    """argparse4j ``nargs("+")``: ``--producer-props a=1 b=2`` takes every word up to the next option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == f"--{option}":
            j = i + 1
            while j < len(argv) and not argv[j].startswith("--"):
                out.append(f"--{option}")
                out.append(argv[j])
                j += 1
            if j == i + 1:
                out.append(argv[i])  # no value: the parser reports it
            i = j
            continue
        out.append(argv[i])
        i += 1
    return out


class _Stats:
    """ProducerPerformance.Stats on virtual time."""

    def __init__(self, now: int, lines: list[str]) -> None:
        self.start = self.window_start = now
        self.lines = lines
        self.count = self.bytes = self.total_latency = self.max_latency = 0
        self.window_count = self.window_bytes = self.window_total = self.window_max = 0
        self.latencies: list[int] = []

    def record(self, latency: int, size: int, now: int) -> None:
        self.count += 1
        self.bytes += size
        self.total_latency += latency
        self.max_latency = max(self.max_latency, latency)
        self.window_count += 1
        self.window_bytes += size
        self.window_total += latency
        self.window_max = max(self.window_max, latency)
        self.latencies.append(latency)
        if now - self.window_start >= REPORTING_INTERVAL_MS:
            elapsed = max(1, now - self.window_start)
            self.lines.append(
                f"{self.window_count} records sent, {1000.0 * self.window_count / elapsed:.1f} records/sec "
                f"({1000.0 * self.window_bytes / elapsed / (1024 * 1024):.2f} MB/sec), "
                f"{self.window_total / self.window_count:.1f} ms avg latency, {float(self.window_max):.1f} ms max latency."
            )
            self.window_start = now
            self.window_count = self.window_bytes = self.window_total = self.window_max = 0

    def total(self, now: int) -> str:
        elapsed = max(1, now - self.start)
        lat = sorted(self.latencies)

        def pct(p: float) -> int:
            return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0

        avg = self.total_latency / self.count if self.count else 0.0
        return (
            f"{self.count} records sent, {1000.0 * self.count / elapsed:.1f} records/sec "
            f"({1000.0 * self.bytes / elapsed / (1024 * 1024):.2f} MB/sec), {avg:.2f} ms avg latency, "
            f"{float(self.max_latency):.2f} ms max latency, {pct(0.5)} ms 50th, {pct(0.95)} ms 95th, "
            f"{pct(0.99)} ms 99th, {pct(0.999)} ms 99.9th."
        )


def kafka_producer_perf_test(session: LabSession, argv: list[str]) -> Plan:
    tool = "producer-performance"
    p = parse_options(_gather_props(argv, "producer-props"), PRODUCER_PERF_OPTS)
    for req in ("topic", "num-records", "throughput"):
        if not p.has(req):
            raise _argparse_error(tool, f"argument --{req} is required")
    payloads = [o for o in ("record-size", "payload-file", "payload-monotonic") if p.has(o)]
    if not payloads:
        raise _argparse_error(
            tool, "one of the arguments --record-size --payload-file --payload-monotonic is required"
        )
    if len(payloads) > 1:
        raise _argparse_error(tool, f"argument --{payloads[1]}: not allowed with argument --{payloads[0]}")
    if p.has("payload-file") or p.has("producer.config"):
        raise CommandError("the lab's console has no files: use --record-size and --producer-props")
    n = int(p.get_int("num-records") or 0)
    if n <= 0:
        raise _argparse_error(tool, "--num-records should be greater than zero")
    if n > MAX_RECORDS:
        raise CommandError(f"--num-records {n} is above this lab's limit of {MAX_RECORDS} records per run")
    size = p.get_int("record-size")
    if size is not None and size <= 0:
        raise _argparse_error(tool, "--record-size should be greater than zero")
    if size is not None and size > 1_000_000:
        raise CommandError(f"--record-size {size} is above this lab's limit of 1000000 bytes")
    throughput = parse_float(p.get_str("throughput") or "", "throughput")
    if not p.has("producer-props"):
        raise _argparse_error(tool, "Either --producer-props or --producer.config must be specified.")
    for prop in p.get_list("producer-props"):
        if "=" not in prop:
            raise CommandError(f"Invalid property: {prop}")
    duration = p.get_int("transaction-duration-ms")
    if duration is not None and duration <= 0:
        raise _argparse_error(tool, "--transaction-duration-ms should be greater than zero")
    topic = str(p.get_str("topic"))
    err = topic_name_error(topic)
    if err:
        raise CommandError(f"producer-performance: {err}")
    cluster = session.cluster
    if topic not in cluster.topics() and not auto_create_enabled(cluster):
        require_topic(cluster, topic, "kafka-producer-perf-test")
    require_a_running_broker(cluster, "", "send")
    cfg, warnings = _client_props(
        [x for x in p.get_list("producer-props") if not x.startswith("bootstrap.servers=")],
        PRODUCER_DEFAULTS,
        "producer property",
        ("client.id", "compression.type", "transactional.id", "buffer.memory"),
    )
    cfg["acks"] = str(cfg.get("acks", "all")).lower()
    if cfg["acks"] == "-1":
        cfg["acks"] = "all"
    _check_producer_cfg(cfg)
    txn_id = p.get_str("transactional-id") or cfg.get("transactional.id")
    if duration is not None and txn_id is None:
        txn_id = "performance-producer-default-transactional-id"
    if txn_id is not None:
        cfg["transactional.id"] = str(txn_id)
        duration = duration or 3000
    try:
        buffer_memory = int(cfg.pop("buffer.memory", 33554432))
    except ValueError:
        raise CommandError(
            "Invalid value for configuration buffer.memory: Not a number of type LONG"
        ) from None
    metrics = p.has("print-metrics")

    def run() -> list[str]:
        c = session.cluster
        name = _unique_node_name(session, "perf-producer")
        producer = c.producer(dict(cfg), name=name)
        lines = list(warnings)
        if txn_id is not None:
            producer.init_transactions()
        rng = random.Random(0)  # ProducerPerformance's SplittableRandom(0): the same payloads every run
        pool = (
            [bytes(rng.randrange(65, 91) for _ in range(size)) for _ in range(64)] if size is not None else []
        )
        stats = _Stats(c.now_ms, lines)
        sent = 0
        in_txn = False
        txn_start = 0
        start = c.now_ms

        def callback(send_ms: int, nbytes: int) -> Any:
            def done(e: KafkaError | None, _m: Message) -> None:
                if e is None:  # only successful sends count, as in Kafka
                    stats.record(session.cluster.now_ms - send_ms, nbytes, session.cluster.now_ms)

            return done

        while sent < n:
            now = c.now_ms
            room = APP_SENDS_PER_MS
            if throughput > 0:
                room = min(room, int(throughput * (now - start + 1) / 1000.0) - sent)
            if size is not None:
                room = min(room, max(0, (buffer_memory - len(producer) * size) // max(size, 1)))
            for _ in range(max(0, min(room, n - sent))):
                if txn_id is not None and not in_txn:
                    producer.begin_transaction()
                    in_txn, txn_start = True, c.now_ms
                value = pool[sent % len(pool)] if pool else str(sent).encode()
                producer.produce(topic, value=value, callback=callback(c.now_ms, len(value)))
                sent += 1
                if in_txn and duration is not None and c.now_ms - txn_start >= duration:
                    producer.commit_transaction()
                    in_txn = False
            producer.poll(0)
            if sent < n:
                c.run_for(1)
        if in_txn:
            producer.commit_transaction()
        # Java's callbacks run as the responses arrive (the I/O thread): serve them every virtual ms, so each
        # record's latency is its own, not the time of a final flush
        deadline = c.now_ms + 600_000
        while len(producer) > 0 and c.now_ms < deadline:
            c.run_for(1)
            producer.poll(0)
        producer.flush(600.0)
        producer.close()
        lines.append(stats.total(c.now_ms))
        if metrics:
            lines += _producer_metrics(producer, name)
        return lines

    return Plan(run, records=True)


def _producer_metrics(producer: Any, client_id: str) -> list[str]:
    from ...sim.broker import PARTITION_OVERHEAD_BYTES, REQUEST_OVERHEAD_BYTES

    requests = max(1, producer.sent_requests)
    batches = max(1, producer.sent_batches)
    batch_bytes = producer.sent_bytes - requests * REQUEST_OVERHEAD_BYTES - batches * PARTITION_OVERHEAD_BYTES
    tags = f"{{client-id={client_id}}}"
    values = {
        f"producer-metrics:batch-size-avg:{tags}": batch_bytes / batches,
        f"producer-metrics:outgoing-byte-total:{tags}": float(producer.sent_bytes),
        f"producer-metrics:record-send-total:{tags}": float(producer.sent_records),
        f"producer-metrics:records-per-request-avg:{tags}": producer.sent_records / requests,
        f"producer-metrics:request-total:{tags}": float(producer.sent_requests),
    }
    width = max(len(k) for k in values)
    return [
        "",
        f"{'Metric Name':<{width}}   Value",
        *(f"{k:<{width}} : {v:.3f}" for k, v in sorted(values.items())),
    ]


CONSUMER_PERF_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("topic", "str", help="the topic to consume from"),
    Opt("messages", "long", help="the number of messages to consume"),
    Opt("group", "str", help="the group id (default perf-consumer-N)"),
    Opt("fetch-size", "int", help="max.partition.fetch.bytes (default 1048576)"),
    Opt("from-latest", help="start from the end when the group has no committed offset"),
    Opt("socket-buffer-size", "int", help="(accepted and ignored in the lab)"),
    Opt("consumer.config", "str", help="(the lab has no files)"),
    Opt("command-property", "str", multi=True, help="a consumer config: key=value"),
    Opt("print-metrics", help="print consumer metrics at the end"),
    Opt("show-detailed-stats", help="print a line per reporting interval"),
    Opt("timeout", "long", help="stop when no record arrived for this many ms (default 10000)"),
    Opt("reporting-interval", "long", help="ms between detailed stats lines (default 5000)"),
    Opt(
        "date-format",
        "str",
        help="(the lab prints yyyy-MM-dd HH:mm:ss:SSS on its clock, which starts at 1970)",
    ),
    Opt("hide-header", help="do not print the header"),
]


def _when(ms: int) -> str:
    """SimpleDateFormat("yyyy-MM-dd HH:mm:ss:SSS") of virtual time (epoch = the lab's time zero, UTC)."""
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return d.strftime("%Y-%m-%d %H:%M:%S:") + f"{ms % 1000:03d}"


def kafka_consumer_perf_test(session: LabSession, argv: list[str]) -> Plan:
    from ...sim.clients.consumer import CONSUMER_DEFAULTS

    p = parse_options(argv, CONSUMER_PERF_OPTS)
    for req in ("topic", "messages"):
        if not p.has(req):
            raise CommandError(f'Missing required argument "[{req}]"')
    if p.has("consumer.config"):
        raise CommandError("the lab's console has no files: use --command-property key=value")
    n = int(p.get_int("messages") or 0)
    if n > MAX_RECORDS:
        raise CommandError(f"--messages {n} is above this lab's limit of {MAX_RECORDS} records per run")
    interval = p.get_int("reporting-interval")
    if interval is not None and interval <= 0:
        raise CommandError("Reporting interval must be greater than 0.")
    interval = interval or 5000
    timeout_ms = p.get_int("timeout") if p.has("timeout") else 10_000
    assert timeout_ms is not None
    topic = str(p.get_str("topic"))
    cluster = session.cluster
    require_topic(cluster, topic, "kafka-consumer-perf-test")
    cfg, warnings = _client_props(
        p.get_list("command-property"), CONSUMER_DEFAULTS, "consumer property", ("client.id",)
    )
    cfg["auto.offset.reset"] = "latest" if p.has("from-latest") else "earliest"
    cfg["max.partition.fetch.bytes"] = int(p.get_int("fetch-size") or 1048576)
    cfg["enable.auto.commit"] = cfg.get("enable.auto.commit", True)
    detailed = p.has("show-detailed-stats")
    group = p.get_str("group")

    def run() -> list[str]:
        c = session.cluster
        gid = group or f"perf-consumer-{c.next_client_name('perf-consumer').rsplit('-', 1)[1]}"
        name = _unique_node_name(session, "perf-consumer")
        consumer = c.consumer({**cfg, "group.id": gid}, name=name)
        lines = list(warnings)
        if not p.has("hide-header"):
            extra = ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
            lines.append(
                "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec" + extra
                if detailed
                else "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"
                + extra
            )
        start = c.now_ms
        # ConsumerPerfRebListener: a rebalance's time runs from the revocation (or the start) to the assignment;
        # "round" is the listener's counter until the first detailed line replaces it with a fresh one the
        # listener never sees (ConsumerPerformance.consume), so later lines show 0
        join = {"start": start, "total": 0, "round": 0}
        round_replaced = False

        def revoked(_c: Any, _parts: Any) -> None:
            join["start"] = session.cluster.now_ms

        def assigned(_c: Any, _parts: Any) -> None:
            elapsed = session.cluster.now_ms - join["start"]
            join["total"] += elapsed
            join["round"] += elapsed

        consumer.subscribe([topic], on_assign=assigned, on_revoke=revoked)
        read = nbytes = 0
        last_read = last_bytes = 0
        last_report = last_consumed = c.now_ms
        while read < n and c.now_ms - last_consumed <= timeout_ms:
            msgs = consumer.consume(500, timeout=0.1)
            now = c.now_ms
            if msgs:
                last_consumed = now
            for m in msgs:
                if m.error() is not None:
                    continue
                read += 1
                nbytes += len(m.key() or b"") + len(m.value() or b"")
                if now - last_report >= interval:
                    round_ms = 0 if round_replaced else join["round"]
                    if detailed:
                        lines.append(
                            _progress(now, last_report, nbytes, last_bytes, read, last_read, round_ms)
                        )
                    round_replaced = True
                    last_report, last_read, last_bytes = now, read, nbytes
                if read >= n:
                    break
        if read < n:
            lines.append(
                f"WARNING: Exiting before consuming the expected number of messages: timeout ({timeout_ms} ms) "
                "exceeded. You can use the --timeout option to increase the timeout."
            )
        end = c.now_ms
        consumer.close()
        if not detailed:
            elapsed = max(1, end - start) / 1000.0
            join_ms = join["total"]
            fetch_ms = max(1, end - start - join_ms)
            mb = nbytes / (1024 * 1024)
            lines.append(
                f"{_when(start)}, {_when(end)}, {mb:.4f}, {mb / elapsed:.4f}, {read}, {read / elapsed:.4f}, "
                f"{join_ms}, {fetch_ms}, {mb / (fetch_ms / 1000.0):.4f}, {read / (fetch_ms / 1000.0):.4f}"
            )
        return lines

    return Plan(run, records=True)


def _progress(
    now: int, since: int, nbytes: int, last_bytes: int, read: int, last_read: int, join_ms: int
) -> str:
    """printBasicProgress + printExtendedProgress."""
    elapsed = max(1, now - since)
    mb = nbytes / (1024 * 1024)
    interval_mb = (nbytes - last_bytes) / (1024 * 1024)
    fetch_ms = now - since - join_ms
    fetch_mb_s = 0.0 if fetch_ms <= 0 else 1000.0 * interval_mb / fetch_ms
    fetch_n_s = 0.0 if fetch_ms <= 0 else 1000.0 * (read - last_read) / fetch_ms
    return (
        f"{_when(now)}, 0, {mb:.4f}, {1000.0 * interval_mb / elapsed:.4f}, {read}, "
        f"{1000.0 * (read - last_read) / elapsed:.4f}, {join_ms}, {fetch_ms}, {fetch_mb_s:.4f}, {fetch_n_s:.4f}"
    )
