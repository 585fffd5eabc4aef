"""``kafka-console-producer`` (Kafka's ConsoleProducer) and the lab's ``produce`` shortcut."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...sim.clients.common import Message
from ...sim.clients.producer import PRODUCER_DEFAULTS
from ...sim.errors import KafkaError
from ..base import Plan, auto_create_enabled, require_topic, topic_name_error
from ..parsing import CommandError, Opt, Parsed, parse_kv, parse_options
from ..session import ConsoleProducer
from .common import _check_producer_cfg, _client_props, _n, _unique_node_name

if TYPE_CHECKING:
    from ...sim.clients.producer import Producer
    from ..session import LabSession

#: the line that ends a console producer's input (what ctrl+d sends in the lab's console)
END_OF_INPUT = ".exit"


_PRODUCER_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("topic", "str", help="the topic to produce to"),
    Opt("producer-property", "str", multi=True, help="a producer config: key=value (e.g. acks=all)"),
    Opt(
        "property",
        "str",
        multi=True,
        help="a reader property: parse.key=true, key.separator=:, ignore.error=true, null.marker=X",
    ),
    Opt("request-required-acks", "str", help="acks of the producer requests (default -1)"),
    Opt("timeout", "int", help="linger.ms: how long a record may wait for a batch (default 1000)"),
    Opt("batch-size", "int", help="batch.size in bytes (default 16384)"),
    Opt("request-timeout-ms", "int", help="request.timeout.ms (default 1500)"),
    Opt("message-send-max-retries", "int", help="retries (default 3)"),
    Opt("retry-backoff-ms", "int", help="retry.backoff.ms (default 100)"),
    Opt("max-block-ms", "int", help="max.block.ms: how long a send waits for the topic's metadata (60000)"),
    Opt("sync", help="send records synchronously (in the lab: linger.ms=0)"),
]

#: ConsoleProducer's option -> (producer config, default): CommandLineUtils.maybeMergeOptions puts the
#: option's value unless --producer-property set the config and the option was not given
_MERGED: list[tuple[str, str, Any]] = [
    ("timeout", "linger.ms", 1000),
    ("request-required-acks", "acks", "-1"),
    ("request-timeout-ms", "request.timeout.ms", 1500),
    ("message-send-max-retries", "retries", 3),
    ("retry-backoff-ms", "retry.backoff.ms", 100),
    ("batch-size", "batch.size", 16384),
    ("max-block-ms", "max.block.ms", 60000),
]


def _producer_config(p: Parsed) -> tuple[dict[str, Any], list[str]]:
    cfg, warnings = _client_props(
        p.get_list("producer-property"),
        PRODUCER_DEFAULTS,
        "producer property",
        ("client.id", "compression.type", "max.block.ms"),
    )
    for opt, key, default in _MERGED:
        if p.has(opt) or key not in cfg:
            value = p.values.get(opt, default)
            if isinstance(value, int) and value < (1 if opt == "request-timeout-ms" else 0):
                raise CommandError(f"Invalid value {value} for configuration {key}: Value must be at least 0")
            cfg[key] = value
    if p.has("sync"):
        cfg["linger.ms"] = 0
    acks = str(cfg["acks"]).lower()
    cfg["acks"] = "all" if acks == "-1" else acks
    _check_producer_cfg(cfg)
    try:
        block_ms = int(cfg.pop("max.block.ms"))
    except ValueError:
        raise CommandError(
            f"Invalid value {cfg.get('max.block.ms')} for configuration max.block.ms"
        ) from None
    # the Java producer waits up to max.block.ms for an unknown topic's metadata (the lab's producer
    # calls that topic.metadata.propagation.max.ms, as librdkafka does)
    cfg["topic.metadata.propagation.max.ms"] = block_ms
    return cfg, warnings


def kafka_console_producer(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _PRODUCER_OPTS)
    topic = p.get_str("topic")
    if topic is None:
        raise CommandError('Missing required argument "[topic]"')
    err = topic_name_error(topic)
    if err:
        raise CommandError(f"kafka-console-producer: {err}")
    if not auto_create_enabled(session.cluster):
        require_topic(session.cluster, topic, "kafka-console-producer")
    cfg, warnings = _producer_config(p)
    props = dict(parse_kv(x, "property") for x in p.get_list("property"))
    for k in ("parse.key", "ignore.error"):
        if k in props and props[k].lower() not in ("true", "false"):
            raise CommandError(f"Invalid value {props[k]} for property {k}: expected true or false")
    parse_key = props.get("parse.key", "false").lower() == "true"
    ignore_error = props.get("ignore.error", "false").lower() == "true"
    sep = props.get("key.separator", "\t")
    if sep == "":
        raise CommandError("key.separator must not be empty")
    null_marker = props.get("null.marker")
    if null_marker == "":
        raise CommandError("null.marker should not be set to empty string")
    command = "kafka-console-producer --topic " + topic

    def start() -> list[str]:
        name = _unique_node_name(session, "console-producer")
        producer = session.cluster.producer(dict(cfg), name=name)
        w = session._w
        cp = ConsoleProducer(w, name, topic, producer, parse_key, sep, ignore_error, command)
        cp.null_marker = null_marker  # type: ignore[attr-defined]
        w.clients[name] = cp
        w.console_producer = cp
        hint = f" as key{'<TAB>' if sep == chr(9) else sep}value" if parse_key else ""
        return [
            *warnings,
            f"{name}: type records for topic {topic}{hint}, one per line (an empty line is an empty record); "
            "ctrl+d or '.exit' ends input.",
        ]

    return Plan(start, records=True)


def console_producer_line(session: LabSession, line: str) -> tuple[Plan | None, str | None]:
    """Route a line typed while a console producer is reading; returns (plan, error).

    Every line is a record, an empty line an empty one (LineMessageReader); end of input (ctrl+d in the
    lab's console, sent as the line ``.exit``) closes the producer after it has delivered what it holds.
    """
    cp = session._w.console_producer
    assert cp is not None
    if line.strip() == END_OF_INPUT or (cp.empty_line_ends and not line.strip()):

        def finish() -> list[str]:
            session._w.console_producer = None
            cp.finish()
            return [f"{cp.name}: end of input ({_n(cp.sent, 'record')} sent, {cp.acked} acknowledged so far)"]

        return Plan(finish, records=True), None
    key: str | None = None
    value: str | None = line
    if cp.parse_key:
        if cp.key_separator not in line:
            if not cp.ignore_error:
                return None, (
                    f"kafka-console-producer: No key separator found on line number {cp.line_number + 1}: "
                    f"'{line}'"
                )
        else:
            key, value = line.split(cp.key_separator, 1)
    marker = getattr(cp, "null_marker", None)
    if marker is not None:
        key = None if key == marker else key
        value = None if value == marker else value

    def send() -> list[str]:
        cp.line_number += 1
        out: list[str] = []
        producer = cp.producer
        if cp.topic not in producer.topics and cp.topic not in session.cluster.topics():
            # what NetworkClient logs when the metadata answer lacks the topic (it may be auto-created)
            out.append(
                f"[{cp.name}] WARN [Producer clientId={cp.name}] The metadata response from the cluster reported "
                f"a recoverable issue with correlation id {producer._md_rr + 1} : "
                f"{{{cp.topic}=UNKNOWN_TOPIC_OR_PARTITION}} (org.apache.kafka.clients.NetworkClient)"
            )
        producer.produce(cp.topic, value=value, key=key, on_delivery=cp._report)
        cp.sent += 1
        cp._ensure_pump()
        return out

    return Plan(send, records=True), None


_PRODUCE_OPTS = [
    Opt("key", "str", help="the record key"),
    Opt("acks", "str", help="0, 1 or all (default all)"),
    Opt("count", "int", help="send N records (values VALUE-1 .. VALUE-N)"),
    Opt("partition", "int", help="send to this partition instead of the partitioner's choice"),
]


def produce(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _PRODUCE_OPTS, max_positionals=2)
    if len(p.positionals) < 2:
        raise CommandError(
            "usage: produce TOPIC VALUE [--key K] [--acks 0|1|all] [--count N] [--partition P]"
        )
    topic, value = p.positionals
    err = topic_name_error(topic)
    if err:
        raise CommandError(f"produce: {err}")
    if topic in session.cluster.topics() or not auto_create_enabled(session.cluster) or p.has("partition"):
        parts = require_topic(session.cluster, topic, "produce")
    else:
        parts = []  # the producer's metadata request lets a broker auto-create it
    acks = (p.get_str("acks") or "all").lower()
    if acks == "-1":
        acks = "all"
    if acks not in ("0", "1", "all"):
        raise CommandError(f"--acks must be 0, 1 or all, not '{acks}'")
    count = p.get_int("count") if p.has("count") else 1
    assert count is not None
    if not 1 <= count <= 100_000:
        raise CommandError("--count must be between 1 and 100000")
    part = p.get_int("partition") if p.has("partition") else -1
    assert part is not None
    if p.has("partition") and not 0 <= part < len(parts):
        raise CommandError(f"topic {topic} has no partition {part} (it has {len(parts)})")
    key = p.get_str("key")

    def run() -> list[str]:
        w = session._w
        producer: Producer | None = w.shortcut_producers.get(acks)
        if producer is None:
            name = _unique_node_name(session, "lab-producer")
            producer = session.cluster.producer({"acks": acks, "linger.ms": 0}, name=name)
            w.shortcut_producers[acks] = producer
        results: list[tuple[KafkaError | None, Message]] = []
        for i in range(count):
            v = value if count == 1 else f"{value}-{i + 1}"
            producer.produce(
                topic,
                value=v,
                key=key,
                partition=part,
                on_delivery=lambda err, msg: results.append((err, msg)),
            )
        producer.flush()
        return _delivery_lines(topic, acks, results)

    return Plan(run, records=True)


def _delivery_lines(topic: str, acks: str, results: list[tuple[KafkaError | None, Message]]) -> list[str]:
    lines: list[str] = []
    if len(results) <= 10:
        for err, msg in results:
            if err is not None:
                lines.append(f"failed: {msg.topic()}-{msg.partition()}: {err.name()}: {err.str()}")
            elif msg.offset() < 0:
                lines.append(
                    f"sent to {msg.topic()}-{msg.partition()} (acks=0: no acknowledgement, offset unknown)"
                )
            else:
                lines.append(f"acknowledged: {msg.topic()}-{msg.partition()}@{msg.offset()} (acks={acks})")
        return lines
    ok = [m for e, m in results if e is None]
    bad = [(e, m) for e, m in results if e is not None]
    per: dict[int, int] = {}
    for m in ok:
        per[m.partition()] = per.get(m.partition(), 0) + 1
    spread = ", ".join(f"{topic}-{k}: {v}" for k, v in sorted(per.items()))
    lines.append(
        f"{len(ok)} of {len(results)} records {'sent' if acks == '0' else 'acknowledged'} (acks={acks})"
        + (f": {spread}" if spread else "")
    )
    if bad:
        names = sorted({e.name() for e, _m in bad if e is not None})
        lines.append(f"{len(bad)} failed: {', '.join(names)}")
    return lines
