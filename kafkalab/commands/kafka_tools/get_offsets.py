"""``kafka-get-offsets`` (Kafka's GetOffsetShell): offsets of partitions by time, through ListOffsets."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...sim.errors import KafkaException
from ..base import Plan, require_a_running_broker
from ..parsing import CommandError, Opt, parse_options
from .common import tool_admin

if TYPE_CHECKING:
    from ..session import LabSession

GET_OFFSETS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("topic-partitions", "str", help="patterns: topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3"),
    Opt("topic", "str", help="the topic (a regular expression); default: every topic"),
    Opt("partitions", "str", help="comma separated partition ids"),
    Opt(
        "time",
        "str",
        help="-1/latest (default), -2/earliest, -3/max-timestamp, -4/earliest-local, "
        "-5/latest-tiered, or a timestamp in ms",
    ),
    Opt("exclude-internal-topics", help="leave out internal topics"),
    Opt("command-config", "str", help="(accepted and ignored in the lab)"),
]

_PATTERN = re.compile(r"([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?")
_SPECS = {"earliest": -2, "latest": -1, "max-timestamp": -3, "earliest-local": -4, "latest-tiered": -5}


def _terse(message: str) -> CommandError:
    return CommandError(f"Error occurred: {message}")


def _parse_time(text: str) -> int:
    if text in _SPECS:
        return _SPECS[text]
    try:
        return int(text)
    except ValueError:
        raise _terse(
            f"Malformed time argument {text}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / "
            "-4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp"
        ) from None


def _full(rx: str, name: str) -> bool:
    try:
        return re.fullmatch(rx, name) is not None
    except re.error:
        raise _terse(f"Invalid regular expression: {rx}") from None


def kafka_get_offsets(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, GET_OFFSETS_OPTS)
    if p.has("topic-partitions") and (p.has("topic") or p.has("partitions")):
        raise _terse("--topic-partitions cannot be used with --topic or --partitions")
    ts = _parse_time(p.get_str("time") or "latest")
    cluster = session.cluster
    require_a_running_broker(cluster, "Error occurred: ", "listOffsets")
    topics = [t for t in cluster.topics() if not (p.has("exclude-internal-topics") and t.startswith("__"))]
    rules: list[tuple[str, int, int]] = []  # (topic regex, lowest partition, highest partition + 1)
    if p.has("topic-partitions"):
        for spec in (p.get_str("topic-partitions") or "").split(","):
            m = _PATTERN.fullmatch(spec)
            if m is None:
                raise _terse(f"Invalid rule specification: {spec}")
            rx = m.group(1) or ".*"
            if m.group(2):
                lo = int(m.group(2))
                rules.append((rx, lo, lo + 1))
            else:
                rules.append((rx, int(m.group(3) or 0), int(m.group(4) or 2**31 - 1)))
    else:
        wanted: set[int] | None = None
        if p.get_str("partitions"):
            try:
                wanted = {int(x) for x in (p.get_str("partitions") or "").split(",")}
            except ValueError:
                raise _terse(
                    "--partitions expects a comma separated list of numeric partition ids, but received: "
                    f"{p.get_str('partitions')}"
                ) from None
        rx = p.get_str("topic") or ".*"
        rules = [(rx, n, n + 1) for n in sorted(wanted)] if wanted else [(rx, 0, 2**31 - 1)]
    targets: list[tuple[str, int]] = []
    for t in topics:
        for part in range(len(cluster.describe_topic(t))):
            if any(_full(rx, t) and lo <= part < hi for rx, lo, hi in rules):
                targets.append((t, part))
    if not targets:
        raise _terse("Could not match any topic-partitions with the specified filters")
    if ts in (-4,):
        ts = -2  # no tiered storage: the local log starts where the log starts
    tiered = ts == -5

    def run() -> list[str]:
        if tiered:  # no tiered storage: no partition has a tiered offset
            return []
        admin = tool_admin(session, "GetOffsetShell")
        try:
            futures = admin.list_offsets({tp: ts for tp in targets})
            lines: list[tuple[str, str]] = []
            skipped: list[str] = []
            for tp in targets:
                try:
                    off = futures[tp].result(30.0)
                except KafkaException as e:
                    skipped.append(
                        f"Skip getting offsets for topic-partition {tp[0]}-{tp[1]} due to error: "
                        f"{e.error.name()}: {e.error.str()}"
                    )
                    continue
                if off >= 0:  # ListOffsetsResponse.UNKNOWN_OFFSET is not printed
                    lines.append((f"{tp[0]}-{tp[1]}", f"{tp[0]}:{tp[1]}:{off}"))
            # a TreeMap ordered by TopicPartition.toString ("t-10" before "t-2")
            return [*skipped, *(text for _key, text in sorted(lines))]
        finally:
            admin.closed = True

    return Plan(run)
