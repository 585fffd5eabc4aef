"""Connect plugins: the connectors (FileStreamSource/Sink, a Datagen-like generator), converters and SMTs.

Connect data is ``(schema, value)``: ``schema`` is a dict in JsonConverter's schema format (``{"type":
"string", "optional": false}``, ``{"type": "struct", "fields": [...]}``) or None for schemaless data; a struct
value is a dict. Converters turn it into bytes for Kafka and back (``JsonConverter`` with or without the
``{"schema", "payload"}`` envelope, ``StringConverter``, ``ByteArrayConverter``); transforms (SMTs) rewrite
records one at a time. Errors raise :class:`DataException` with Kafka's texts, so ``errors.tolerance`` and
the dead letter queue have real failures to handle.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "CONNECTOR_CLASSES",
    "ConnectRecord",
    "ConfigError",
    "DataException",
    "connector_plugin",
    "make_converter",
    "make_transforms",
]

VERSION = "4.0.0"


class DataException(Exception):
    """org.apache.kafka.connect.errors.DataException: a record cannot be converted or transformed."""


class ConfigError(ValueError):
    """A connector configuration that Connect rejects (HTTP 400)."""


@dataclass
class ConnectRecord:
    topic: str
    key: Any
    value: Any
    key_schema: dict[str, Any] | None = None
    value_schema: dict[str, Any] | None = None
    timestamp: int | None = None
    partition: int | None = None
    kafka_offset: int | None = None  # sink records
    source_partition: dict[str, Any] | None = None  # source records
    source_offset: dict[str, Any] | None = None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


# -- converters --------------------------------------------------------------------------------------


def _java_text(value: Any) -> str:
    """What ``println(record.value())`` prints in Java for Connect data."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def java_text(value: Any, schema: dict[str, Any] | None = None) -> str:
    if schema is not None and schema.get("type") == "struct" and isinstance(value, dict):
        return "Struct{" + ",".join(f"{k}={_java_text(v)}" for k, v in value.items() if v is not None) + "}"
    return _java_text(value)


def _infer_schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean", "optional": False}
    if isinstance(value, int):
        return {"type": "int64", "optional": False}
    if isinstance(value, float):
        return {"type": "double", "optional": False}
    if isinstance(value, (bytes, bytearray)):
        return {"type": "bytes", "optional": False}
    return {"type": "string", "optional": False}


class Converter:
    name = ""

    def from_connect(self, topic: str, schema: dict[str, Any] | None, value: Any) -> bytes | None:
        raise NotImplementedError

    def to_connect(self, topic: str, data: bytes | None) -> tuple[dict[str, Any] | None, Any]:
        raise NotImplementedError


class StringConverter(Converter):
    name = "org.apache.kafka.connect.storage.StringConverter"

    def from_connect(self, topic: str, schema: dict[str, Any] | None, value: Any) -> bytes | None:
        return None if value is None else java_text(value, schema).encode()

    def to_connect(self, topic: str, data: bytes | None) -> tuple[dict[str, Any] | None, Any]:
        return {"type": "string", "optional": True}, None if data is None else data.decode("utf-8", "replace")


class ByteArrayConverter(Converter):
    name = "org.apache.kafka.connect.converters.ByteArrayConverter"

    def from_connect(self, topic: str, schema: dict[str, Any] | None, value: Any) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        raise DataException(
            f"ByteArrayConverter is not compatible with objects of type {type(value).__name__}"
        )

    def to_connect(self, topic: str, data: bytes | None) -> tuple[dict[str, Any] | None, Any]:
        return {"type": "bytes", "optional": True}, data


class JsonConverter(Converter):
    name = "org.apache.kafka.connect.json.JsonConverter"

    def __init__(self, schemas_enable: bool) -> None:
        self.schemas_enable = schemas_enable

    def from_connect(self, topic: str, schema: dict[str, Any] | None, value: Any) -> bytes | None:
        if value is None and not self.schemas_enable:
            return None
        payload = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if self.schemas_enable:
            obj: Any = {"schema": schema if schema is not None else None, "payload": payload}
        else:
            obj = payload
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def to_connect(self, topic: str, data: bytes | None) -> tuple[dict[str, Any] | None, Any]:
        if data is None:
            return None, None
        try:
            obj = json.loads(data)
        except ValueError as e:
            raise DataException(
                f"Converting byte[] to Kafka Connect data failed due to serialization error of topic {topic}: "
                f"com.fasterxml.jackson.core.JsonParseException: {e}"
            ) from None
        if not self.schemas_enable:
            return None, obj
        if not isinstance(obj, dict) or set(obj) != {"schema", "payload"}:
            raise DataException(
                'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain '
                "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false "
                "in your converter configuration."
            )
        return obj["schema"], obj["payload"]


def make_converter(config: dict[str, str], prefix: str) -> Converter:
    cls = config.get(prefix, JsonConverter.name)
    short = cls.rsplit(".", 1)[-1]
    if short == "JsonConverter":
        enable = config.get(f"{prefix}.schemas.enable", "true").lower() == "true"
        return JsonConverter(enable)
    if short == "StringConverter":
        return StringConverter()
    if short == "ByteArrayConverter":
        return ByteArrayConverter()
    raise ConfigError(
        f"Invalid value {cls} for configuration {prefix}: Class {cls} could not be found "
        "(this lab has JsonConverter, StringConverter and ByteArrayConverter)"
    )


# -- single message transforms ------------------------------------------------------------------------

_TIMESTAMP_SCHEMA = {
    "type": "int64",
    "optional": True,
    "name": "org.apache.kafka.connect.data.Timestamp",
    "version": 1,
}


class Transform:
    def __init__(self, alias: str, cls: str, cfg: dict[str, str]) -> None:
        self.alias, self.cls, self.cfg = alias, cls, cfg
        self.on_value = not cls.endswith("$Key")

    def apply(self, r: ConnectRecord) -> ConnectRecord | None:
        raise NotImplementedError

    def _get(self, r: ConnectRecord) -> tuple[dict[str, Any] | None, Any]:
        return (r.value_schema, r.value) if self.on_value else (r.key_schema, r.key)

    def _set(self, r: ConnectRecord, schema: dict[str, Any] | None, value: Any) -> ConnectRecord:
        if self.on_value:
            return replace(r, value_schema=schema, value=value)
        return replace(r, key_schema=schema, key=value)

    def _struct_or_map(self, schema: dict[str, Any] | None, value: Any, purpose: str) -> None:
        if schema is None:
            if not isinstance(value, dict):
                raise DataException(
                    f"Only Map objects supported in absence of schema for [{purpose}], found: "
                    f"{_java_class(value)}"
                )
        elif schema.get("type") != "struct" or not isinstance(value, dict):
            raise DataException(f"Only Struct objects supported for [{purpose}], found: {_java_class(value)}")


def _java_class(value: Any) -> str:
    return {
        str: "java.lang.String",
        int: "java.lang.Long",
        float: "java.lang.Double",
        bool: "java.lang.Boolean",
        list: "java.util.ArrayList",
        bytes: "[B",
    }.get(type(value), "null" if value is None else type(value).__name__)


class InsertField(Transform):
    """InsertField$Value / $Key: topic.field, partition.field, offset.field, timestamp.field, static.field."""

    def apply(self, r: ConnectRecord) -> ConnectRecord | None:
        schema, value = self._get(r)
        if value is None:
            return r
        self._struct_or_map(schema, value, "field insertion")
        adds: list[tuple[str, Any, dict[str, Any]]] = []

        def spec(key: str) -> str | None:
            v = self.cfg.get(key)
            return v.rstrip("!?") if v else None

        if (f := spec("topic.field")) is not None:
            adds.append((f, r.topic, {"type": "string", "optional": True}))
        if (f := spec("partition.field")) is not None:
            adds.append((f, r.partition, {"type": "int32", "optional": True}))
        if (f := spec("offset.field")) is not None:
            if r.kafka_offset is None:
                raise DataException(
                    "Offset insertion is only supported for sink connectors, record is of type: class org.apache.kafka.connect.source.SourceRecord"
                )
            adds.append((f, r.kafka_offset, {"type": "int64", "optional": True}))
        if (f := spec("timestamp.field")) is not None:
            adds.append((f, r.timestamp, dict(_TIMESTAMP_SCHEMA)))
        if (f := spec("static.field")) is not None:
            adds.append((f, self.cfg.get("static.value"), {"type": "string", "optional": True}))
        new_value = dict(value)
        new_schema = schema
        for name, v, _s in adds:
            new_value[name] = v
        if schema is not None:
            new_schema = dict(schema)
            new_schema["fields"] = list(schema.get("fields", [])) + [dict(s, field=n) for n, _v, s in adds]
        return self._set(r, new_schema, new_value)


class ReplaceField(Transform):
    """ReplaceField$Value / $Key: exclude (or blacklist), include (or whitelist), renames."""

    def apply(self, r: ConnectRecord) -> ConnectRecord | None:
        schema, value = self._get(r)
        if value is None:
            return r
        self._struct_or_map(schema, value, "field replacement")
        exclude = _list(self.cfg.get("exclude") or self.cfg.get("blacklist"))
        include = _list(self.cfg.get("include") or self.cfg.get("whitelist"))
        renames = {}
        for pair in _list(self.cfg.get("renames")):
            if ":" not in pair:
                raise DataException(f"Invalid rename mapping: {pair}")
            old, new = pair.split(":", 1)
            renames[old] = new

        def keep(name: str) -> bool:
            return name not in exclude and (not include or name in include)

        new_value = {renames.get(k, k): v for k, v in value.items() if keep(k)}
        new_schema = schema
        if schema is not None:
            new_schema = dict(schema)
            new_schema["fields"] = [
                dict(f, field=renames.get(f["field"], f["field"]))
                for f in schema.get("fields", [])
                if keep(f["field"])
            ]
        return self._set(r, new_schema, new_value)


class TimestampRouter(Transform):
    """Renames the topic to ``topic.format`` (``${topic}-${timestamp}``) with the record's timestamp."""

    def apply(self, r: ConnectRecord) -> ConnectRecord | None:
        if r.timestamp is None:
            raise DataException(f"Timestamp missing on record: {r}")
        fmt = self.cfg.get("timestamp.format", "yyyyMMdd")
        py = fmt
        for java, pyf in (
            ("yyyy", "%Y"),
            ("MM", "%m"),
            ("dd", "%d"),
            ("HH", "%H"),
            ("mm", "%M"),
            ("ss", "%S"),
        ):
            py = py.replace(java, pyf)
        stamp = time.strftime(py, time.gmtime(r.timestamp / 1000))
        topic = (
            self.cfg.get("topic.format", "${topic}-${timestamp}")
            .replace("${topic}", r.topic)
            .replace("${timestamp}", stamp)
        )
        return replace(r, topic=topic)


class RegexRouter(Transform):
    def apply(self, r: ConnectRecord) -> ConnectRecord | None:
        rx = self.cfg.get("regex", "")
        m = re.fullmatch(rx, r.topic)
        if m is None:
            return r
        java = self.cfg.get("replacement", "")
        return replace(r, topic=m.expand(re.sub(r"\$(\d)", r"\\\1", java)))


def _list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


_TRANSFORMS: dict[str, type[Transform]] = {
    "InsertField": InsertField,
    "ReplaceField": ReplaceField,
    "TimestampRouter": TimestampRouter,
    "RegexRouter": RegexRouter,
}


def make_transforms(config: dict[str, str]) -> list[Transform]:
    out: list[Transform] = []
    for alias in _list(config.get("transforms")):
        cls = config.get(f"transforms.{alias}.type")
        if not cls:
            raise ConfigError(
                f'Missing required configuration "transforms.{alias}.type" which has no default value.'
            )
        base = cls.rsplit(".", 1)[-1].split("$")[0]
        impl = _TRANSFORMS.get(base)
        if impl is None:
            raise ConfigError(
                f"Invalid value {cls} for configuration transforms.{alias}.type: Class {cls} could not be found "
                f"(this lab has {', '.join(sorted(_TRANSFORMS))})"
            )
        prefix = f"transforms.{alias}."
        out.append(impl(alias, cls, {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}))
    return out


# -- connectors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectorPlugin:
    cls: str
    type: str  # source | sink
    required: tuple[str, ...]

    def validate(self, config: dict[str, str]) -> None:
        errors = [
            f'Missing required configuration "{k}" which has no default value.'
            for k in self.required
            if not config.get(k)
        ]
        if self.type == "sink" and not config.get("topics") and not config.get("topics.regex"):
            errors.append("Must configure one of topics or topics.regex")
        try:
            n = int(config.get("tasks.max", "1"))
            if n < 1:
                errors.append(f"Invalid value {n} for configuration tasks.max: Value must be at least 1")
        except ValueError:
            errors.append(
                f"Invalid value {config.get('tasks.max')} for configuration tasks.max: Not a number of type INT"
            )
        if errors:
            raise ConfigError(
                f"Connector configuration is invalid and contains the following {len(errors)} error(s):\n"
                + "\n".join(errors)
                + "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
            )
        make_transforms(config)
        for prefix in ("key.converter", "value.converter"):
            if prefix in config:
                make_converter(config, prefix)

    def task_configs(self, config: dict[str, str]) -> list[dict[str, str]]:
        n = max(1, int(config.get("tasks.max", "1")))
        if self.type == "sink":
            return [dict(config) for _ in range(n)]
        if self.cls.endswith("FileStreamSourceConnector"):
            return [dict(config)]  # only one input stream makes sense
        return [dict(config, **{"task.id": str(i)}) for i in range(n)]


CONNECTOR_CLASSES: dict[str, ConnectorPlugin] = {
    "org.apache.kafka.connect.file.FileStreamSourceConnector": ConnectorPlugin(
        "org.apache.kafka.connect.file.FileStreamSourceConnector", "source", ("topic",)
    ),
    "org.apache.kafka.connect.file.FileStreamSinkConnector": ConnectorPlugin(
        "org.apache.kafka.connect.file.FileStreamSinkConnector", "sink", ()
    ),
    "io.confluent.kafka.connect.datagen.DatagenConnector": ConnectorPlugin(
        "io.confluent.kafka.connect.datagen.DatagenConnector", "source", ("kafka.topic",)
    ),
}


def connector_plugin(cls: str | None) -> ConnectorPlugin:
    if not cls:
        raise ConfigError("Connector config contains no connector type")
    for full, plugin in CONNECTOR_CLASSES.items():
        short = full.rsplit(".", 1)[-1]
        if cls in (full, short, short.removesuffix("Connector")):
            return plugin
    raise ConfigError(
        f"Failed to find any class that implements Connector and which name matches {cls}, available connectors are: "
        + ", ".join(CONNECTOR_CLASSES)
    )


# -- the tasks' connector-side logic ----------------------------------------------------------------


def resolve_file(data_dir: Path, name: str) -> Path:
    """A connector's ``file`` inside the lab's data directory (relative paths start there)."""
    root = (data_dir / "files").resolve()
    p = Path(name)
    path = (p if p.is_absolute() else root / p).resolve()
    if root not in path.parents and path != root:
        raise ConfigError(f"file '{name}' is outside the lab's files directory {root}")
    return path


class FileSourceReader:
    """FileStreamSourceTask.poll(): the complete lines after the stored byte position, ``batch.size`` at most."""

    def __init__(self, path: Path, filename: str, topic: str, batch_size: int, position: int) -> None:
        self.path, self.filename, self.topic = path, filename, topic
        self.batch_size = batch_size
        self.position = position

    def poll(self, now_ms: int) -> list[ConnectRecord]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.position)
                data = f.read(1 << 20)
        except FileNotFoundError:
            return []  # "Couldn't find file ... sleeping to wait for it to be created"
        out: list[ConnectRecord] = []
        consumed = 0
        while len(out) < self.batch_size:
            nl = data.find(b"\n", consumed)
            if nl < 0:
                break  # an incomplete last line waits for its newline
            line = data[consumed:nl].rstrip(b"\r").decode("utf-8", "replace")
            consumed = nl + 1
            out.append(
                ConnectRecord(
                    self.topic,
                    None,
                    line,
                    None,
                    {"type": "string", "optional": False},
                    now_ms,
                    source_partition={"filename": self.filename},
                    source_offset={"position": self.position + consumed},
                )
            )
        self.position += consumed
        return out


def _datagen_users(rng: random.Random, n: int, now_ms: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    uid = f"User_{rng.randint(1, 9)}"
    value = {
        "registertime": now_ms - rng.randint(0, 10**9),
        "userid": uid,
        "regionid": f"Region_{rng.randint(1, 9)}",
        "gender": rng.choice(["MALE", "FEMALE", "OTHER"]),
    }
    schema = {
        "type": "struct",
        "name": "ksql.users",
        "optional": False,
        "fields": [
            {"field": "registertime", "type": "int64", "optional": False},
            {"field": "userid", "type": "string", "optional": False},
            {"field": "regionid", "type": "string", "optional": False},
            {"field": "gender", "type": "string", "optional": False},
        ],
    }
    return uid, schema, value


def _datagen_pageviews(rng: random.Random, n: int, now_ms: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    value = {
        "viewtime": now_ms,
        "userid": f"User_{rng.randint(1, 9)}",
        "pageid": f"Page_{rng.randint(1, 99)}",
    }
    schema = {
        "type": "struct",
        "name": "ksql.pageviews",
        "optional": False,
        "fields": [
            {"field": "viewtime", "type": "int64", "optional": False},
            {"field": "userid", "type": "string", "optional": False},
            {"field": "pageid", "type": "string", "optional": False},
        ],
    }
    return str(now_ms), schema, value


def _datagen_orders(rng: random.Random, n: int, now_ms: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    value = {
        "ordertime": now_ms,
        "orderid": n,
        "itemid": f"Item_{rng.randint(1, 999)}",
        "orderunits": round(rng.uniform(0.1, 10.0), 2),
        "address": {
            "city": f"City_{rng.randint(1, 99)}",
            "state": f"State_{rng.randint(1, 99)}",
            "zipcode": rng.randint(10000, 99999),
        },
    }
    schema = {
        "type": "struct",
        "name": "ksql.orders",
        "optional": False,
        "fields": [
            {"field": "ordertime", "type": "int64", "optional": False},
            {"field": "orderid", "type": "int32", "optional": False},
            {"field": "itemid", "type": "string", "optional": False},
            {"field": "orderunits", "type": "double", "optional": False},
            {
                "field": "address",
                "type": "struct",
                "optional": False,
                "fields": [
                    {"field": "city", "type": "string", "optional": False},
                    {"field": "state", "type": "string", "optional": False},
                    {"field": "zipcode", "type": "int64", "optional": False},
                ],
            },
        ],
    }
    return str(n), schema, value


QUICKSTARTS = {"users": _datagen_users, "pageviews": _datagen_pageviews, "orders": _datagen_orders}


class DatagenReader:
    """A generator source like Confluent's Datagen: one record every ``max.interval`` ms at most."""

    def __init__(self, config: dict[str, str], task_id: int, seed: int, iteration: int) -> None:
        q = config.get("quickstart", "users").lower()
        if q not in QUICKSTARTS:
            raise ConfigError(f"quickstart must be one of {', '.join(QUICKSTARTS)}, not '{q}'")
        self.gen = QUICKSTARTS[q]
        self.topic = config["kafka.topic"]
        self.interval_ms = max(1, int(config.get("max.interval", "500")))
        self.iterations = int(config.get("iterations", "-1"))
        self.task_id = task_id
        self.rng = random.Random(seed)
        self.iteration = iteration
        self.next_ms = 0

    def poll(self, now_ms: int) -> list[ConnectRecord]:
        out: list[ConnectRecord] = []
        if self.next_ms == 0:
            self.next_ms = now_ms
        while (
            now_ms >= self.next_ms
            and (self.iterations < 0 or self.iteration < self.iterations)
            and len(out) < 100
        ):
            key, schema, value = self.gen(self.rng, self.iteration, self.next_ms)
            self.iteration += 1
            out.append(
                ConnectRecord(
                    self.topic,
                    key,
                    value,
                    {"type": "string", "optional": False},
                    schema,
                    self.next_ms,
                    source_partition={"task.id": self.task_id},
                    source_offset={"current.iteration": self.iteration},
                )
            )
            self.next_ms += self.rng.randint(1, self.interval_ms)
        return out
