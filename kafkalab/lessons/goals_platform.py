"""Goal predicates about Schema Registry and Kafka Connect (the lessons schema-evolution, connect-pipeline).

Like every measure, these read the run without changing it. The registry's state is read where the registry
keeps it, the compacted ``_schemas`` topic; a source connector's position where Connect keeps it,
``connect-offsets``; records as they sit in their partitions' leader logs (Confluent's wire format: magic
byte 0, the schema id in 4 bytes, then the payload); files in the lab's files directory (FileStreamSource
reads, FileStreamSink writes there). What only a process knows (the registry refused a schema, a console
consumer decoded a record) comes from that process's own record of it in the platform's state, which a
rewind rebuilds with the run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from .measures import GoalContext, leader_log, visible_records

if TYPE_CHECKING:
    from .goals import Predicate

__all__ = ["platform_predicates"]


# -- reading the platform's topics and files ------------------------------------------------------------


def _compacted(ctx: GoalContext, topic: str) -> dict[bytes, bytes | None]:
    """The latest value of every key of a compacted topic, as its readers rebuild it (tombstones: None)."""
    c = ctx.cluster
    if topic not in c.topics():
        return {}
    latest: dict[bytes, bytes | None] = {}
    for p in c.describe_topic(topic):
        log = leader_log(c, topic, p.partition)
        if log is None:
            continue
        for _o, k, v in visible_records(log, upto=log.high_watermark):
            if k is not None:
                latest[k] = v
    return latest


def _schema_versions(ctx: GoalContext, subject: str) -> dict[int, dict[str, Any]]:
    """version -> the registry's value (id, schema, deleted) for a subject, from ``_schemas``."""
    out: dict[int, dict[str, Any]] = {}
    for k, v in _compacted(ctx, "_schemas").items():
        try:
            key = json.loads(k)
            value = json.loads(v) if v is not None else None
        except ValueError:
            continue
        if not isinstance(key, dict) or key.get("keytype") != "SCHEMA" or key.get("subject") != subject:
            continue
        if isinstance(value, dict) and isinstance(value.get("version"), int):
            out[value["version"]] = value
    return out


def _field_names(value: dict[str, Any]) -> set[str]:
    """The top-level fields of a registered schema (Avro record fields, JSON Schema properties)."""
    try:
        schema = json.loads(value.get("schema", ""))
    except ValueError:
        return set()
    if not isinstance(schema, dict):
        return set()
    if value.get("schemaType", "AVRO") == "AVRO":
        return {f.get("name") for f in schema.get("fields", []) if isinstance(f, dict)}
    props = schema.get("properties")
    return set(props) if isinstance(props, dict) else set()


def _schema_id(ctx: GoalContext, topic: str, version: int) -> int | None:
    value = _schema_versions(ctx, f"{topic}-value").get(version)
    return None if value is None else int(value["id"])


def _platform(ctx: GoalContext) -> Any:
    return ctx.session.extension_state.get("platform")


def _lab_file(ctx: GoalContext, name: str) -> list[str] | None:
    """The lines of a file of the lab's files directory (None: no such file)."""
    from ..platform.connect.plugins import ConfigError, resolve_file

    try:
        path = resolve_file(ctx.cluster.data_dir, name)
    except ConfigError:
        return None
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


# -- measures ---------------------------------------------------------------------------------------------


def _m_records_with_schema(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Records of the topic (below the high watermark) framed with the id of a version of TOPIC-value."""
    sid = _schema_id(ctx, a["topic"], a["version"])
    if sid is None or a["topic"] not in ctx.cluster.topics():
        return None
    prefix = b"\0" + sid.to_bytes(4, "big")
    n = 0
    for p in ctx.cluster.describe_topic(a["topic"]):
        log = leader_log(ctx.cluster, a["topic"], p.partition)
        if log is None:
            return None
        n += sum(1 for _o, _k, v in visible_records(log, upto=log.high_watermark) if v and v[:5] == prefix)
    return n


def _m_schema_registered(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A live version of the subject is in ``_schemas`` (with field F, without field W)."""
    for value in _schema_versions(ctx, a["subject"]).values():
        if value.get("deleted"):
            continue
        fields = _field_names(value)
        if "field" in a and a["field"] not in fields:
            continue
        if "without" in a and a["without"] in fields:
            continue
        return True
    return False


_INFO = re.compile(r"additionalInfo:'([^']*)'")


def _m_schema_refused(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A registry instance answered 409 to a new schema for the subject (naming the field in its details)."""
    plat = _platform(ctx)
    if plat is None:
        return False
    for reg in plat.registries.values():
        for _t, subject, _level, errors in reg.refusals:
            if subject != a["subject"]:
                continue
            if "field" not in a or any(a["field"] in _INFO.findall(e) for e in errors):
                return True
    return False


def _m_records_decoded(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Records of the topic written with a version of TOPIC-value that schema-aware consumers decoded."""
    plat = _platform(ctx)
    sid = _schema_id(ctx, a["topic"], a["version"])
    if plat is None or sid is None:
        return None
    return int(plat.decoded.get((a["topic"], sid), 0))


def _m_file_copy(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """Compare a sink file with its source file line by line (as multisets: the sink may reorder)."""
    source, sink = _lab_file(ctx, a["source"]), _lab_file(ctx, a["sink"])
    if not source or sink is None:
        return False
    want, got = Counter(source), Counter(sink)
    if a["outcome"] == "exact":
        return got == want
    # duplicated: nothing lost, nothing foreign, and some line written more often than the source has it
    return all(got[line] >= n for line, n in want.items()) and set(got) <= set(want) and got != want


def _m_source_offset(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Lines of a FileStreamSource connector's file before the position committed in ``connect-offsets``."""
    found: int | None = None
    for k, v in _compacted(ctx, "connect-offsets").items():
        try:
            key = json.loads(k)
            value = json.loads(v) if v is not None else None
        except ValueError:
            continue
        if not (isinstance(key, list) and len(key) == 2 and key[0] == a["connector"]):
            continue
        part = key[1]
        if not isinstance(part, dict) or "filename" not in part or not isinstance(value, dict):
            continue
        from ..platform.connect.plugins import ConfigError, resolve_file

        try:
            data = resolve_file(ctx.cluster.data_dir, str(part["filename"])).read_bytes()
        except (ConfigError, OSError):
            continue
        found = (found or 0) + data[: int(value.get("position", 0))].count(b"\n")
    return found


# -- the vocabulary ----------------------------------------------------------------------------------------


def platform_predicates() -> list[Predicate]:
    from .goals import Param as P
    from .goals import _count_text, _pred

    return [
        _pred(
            "records_with_schema",
            "records of a topic written with a version of subject TOPIC-value (Confluent's wire format)",
            [P("topic", "str", True), P("version", "int", True)],
            lambda a: (
                f"{_count_text(a)} records of {a['topic']} carry the schema id of version {a['version']} "
                f"of {a['topic']}-value"
            ),
            _m_records_with_schema,
            counting=True,
        ),
        _pred(
            "schema_registered",
            "a version of a subject is registered in _schemas (optionally: with a field, without a field)",
            [P("subject", "str", True), P("field", "str"), P("without", "str")],
            lambda a: (
                f"{a['subject']} has a registered version"
                + (f" with field {a['field']}" if "field" in a else "")
                + (" and" if "field" in a and "without" in a else "")
                + (f" without field {a['without']}" if "without" in a else "")
            ),
            _m_schema_registered,
            scalar="subject",
        ),
        _pred(
            "schema_refused",
            "the registry answered 409 (incompatible) to a new schema for a subject, optionally naming a "
            "field in its details",
            [P("subject", "str", True), P("field", "str")],
            lambda a: (
                f"the registry refused a new schema for {a['subject']} as incompatible (409)"
                + (f", because of field {a['field']}" if "field" in a else "")
            ),
            _m_schema_refused,
            scalar="subject",
        ),
        _pred(
            "records_decoded",
            "records of a topic written with a version of TOPIC-value that a Schema Registry-aware consumer "
            "decoded",
            [P("topic", "str", True), P("version", "int", True)],
            lambda a: (
                f"a consumer decoded {_count_text(a)} records of {a['topic']} written with version "
                f"{a['version']}"
            ),
            _m_records_decoded,
            counting=True,
        ),
        _pred(
            "file_copy",
            "compare a file of the lab with its source file: exact (every line once) or duplicated (every "
            "line, some more than once)",
            [
                P("source", "str", True),
                P("sink", "str", True),
                P("outcome", "choice", True, ("exact", "duplicated")),
            ],
            lambda a: {
                "exact": f"{a['sink']} holds every line of {a['source']}, each once",
                "duplicated": f"{a['sink']} holds every line of {a['source']}, and some of them twice",
            }[a["outcome"]],
            _m_file_copy,
        ),
        _pred(
            "source_offset",
            "lines of a FileStreamSource connector's file before the position it committed in connect-offsets",
            [P("connector", "str", True)],
            lambda a: (
                f"the offset {a['connector']} committed in connect-offsets is after {_count_text(a)} lines "
                "of its file"
            ),
            _m_source_offset,
            counting=True,
        ),
    ]
