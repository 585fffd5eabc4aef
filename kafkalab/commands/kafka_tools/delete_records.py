"""``kafka-delete-records`` (Kafka's DeleteRecordsCommand): move partitions' log start offsets up."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ...sim.errors import KafkaException
from ..base import Plan, require_a_running_broker
from ..parsing import CommandError, Opt, parse_options
from .common import java_hashmap_order_by, read_json_arg, tool_admin, topic_partition_hash

if TYPE_CHECKING:
    from ..session import LabSession

DELETE_RECORDS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt(
        "offset-json-file",
        "str",
        help='the offsets: a file, or in the lab the JSON itself: \'{"partitions": [{"topic": "t", '
        '"partition": 0, "offset": 5}], "version": 1}\'',
    ),
    Opt("command-config", "str", help="(accepted and ignored in the lab)"),
]

#: Kafka's exception class and message per error, as ExecutionException.getMessage() shows them
_EXCEPTIONS = {
    "OFFSET_OUT_OF_RANGE": (
        "OffsetOutOfRangeException",
        "The requested offset is not within the range of offsets maintained by the server.",
    ),
    "UNKNOWN_TOPIC_OR_PART": (
        "UnknownTopicOrPartitionException",
        "This server does not host this topic-partition.",
    ),
    "LEADER_NOT_AVAILABLE": (
        "LeaderNotAvailableException",
        "There is no leader for this topic-partition as we are in the middle of a leadership election.",
    ),
}


def exception_text(error: str) -> str:
    cls, msg = _EXCEPTIONS.get(error, ("KafkaException", error))
    return f"org.apache.kafka.common.errors.{cls}: {msg}"


def _parse(text: str) -> list[tuple[tuple[str, int], int]]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise CommandError("The input string is not a valid JSON") from None
    if not isinstance(data, dict):
        raise CommandError("The input string is not a valid JSON")
    version = data.get("version", 1)
    if version != 1:
        raise CommandError(f"Not supported version field value {version}")
    parts = data.get("partitions")
    if parts is None:
        raise CommandError("Missing partitions field")
    if not isinstance(parts, list):
        raise CommandError("Expected JSON array for partitions")
    out: list[tuple[tuple[str, int], int]] = []
    for item in parts:
        if not isinstance(item, dict):
            raise CommandError("Expected JSON object in partitions")
        for field, kind in (("topic", str), ("partition", int), ("offset", int)):
            if field not in item:
                raise CommandError(f"No such field exists: `{field}`")
            if not isinstance(item[field], kind) or isinstance(item[field], bool):
                raise CommandError(f"Expected {'string' if kind is str else 'number'} for `{field}`")
        out.append(((item["topic"], item["partition"]), item["offset"]))
    return out


def kafka_delete_records(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, DELETE_RECORDS_OPTS)
    raw = p.get_str("offset-json-file")
    if raw is None:
        raise CommandError('Missing required argument "[offset-json-file]"')
    entries = _parse(read_json_arg(session, raw, "offset-json-file"))
    seen: dict[tuple[str, int], int] = {}
    dups: list[tuple[str, int]] = []
    for tp, off in entries:
        if tp in seen and tp not in dups:
            dups.append(tp)
        seen.setdefault(tp, off)
    if dups:
        raise CommandError(
            "Offset json file contains duplicate topic partitions: " + ",".join(f"{t}-{p}" for t, p in dups)
        )
    require_a_running_broker(session.cluster, "Error occurred: ", "deleteRecords")

    def run() -> list[str]:
        admin = tool_admin(session, "adminclient-delete-records")
        try:
            futures = admin.delete_records(seen)
            lines = ["Executing records delete operation", "Records delete operation completed:"]
            for tp in java_hashmap_order_by(list(seen), topic_partition_hash):
                try:
                    low = futures[tp].result(30.0)
                    lines.append(f"partition: {tp[0]}-{tp[1]}\tlow_watermark: {low}")
                except KafkaException as e:
                    lines.append(f"partition: {tp[0]}-{tp[1]}\terror: {exception_text(e.error.name())}")
            return lines
        finally:
            admin.closed = True

    return Plan(run, records=True)
