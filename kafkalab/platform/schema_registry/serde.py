"""Confluent's wire format and the serializers of ``confluent_kafka.schema_registry``, for the lab's clients.

A record value written by a Confluent serializer is ``magic byte 0 | 4-byte big-endian schema id | payload``
(Avro binary, or JSON text for JSON Schema). The serializer registers its schema under ``<topic>-value``
(TopicNameStrategy) and caches the id; the deserializer reads the id, fetches an unknown one from the
registry (then caches it) and decodes; a record whose first byte is not 0 is not Confluent-framed:
``SerializationError: Unknown magic byte!``.

The client talks HTTP to a registry node over the simulated network; its blocking methods run the
simulation until the answer (like the Kafka clients' blocking calls), its ``*_async`` ones call back.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastavro
import jsonschema
import jsonschema.exceptions

from ...sim.cluster import Cluster
from ..process import HttpClient, HttpError, json_body, parse_url

__all__ = [
    "MAGIC_BYTE",
    "AvroDeserializer",
    "AvroSerializer",
    "JSONDeserializer",
    "JSONSerializer",
    "MessageField",
    "RegisteredSchema",
    "Schema",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SerializationContext",
    "SerializationError",
    "frame",
    "unframe",
]

MAGIC_BYTE = 0


class SerializationError(Exception):
    """Like ``confluent_kafka.serialization.SerializationError``."""


class SchemaRegistryError(Exception):
    """An error answer of the registry: ``http_status_code``, ``error_code``, ``error_message``."""

    def __init__(self, http_status_code: int, error_code: int, error_message: str) -> None:
        super().__init__(f"{error_message} (HTTP status code {http_status_code}, SR code {error_code})")
        self.http_status_code = http_status_code
        self.error_code = error_code
        self.error_message = error_message


class MessageField:
    KEY = "key"
    VALUE = "value"


@dataclass(frozen=True)
class SerializationContext:
    topic: str
    field: str = MessageField.VALUE
    headers: Any = None


@dataclass(frozen=True)
class Schema:
    schema_str: str
    schema_type: str = "AVRO"
    references: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": self.schema_str}
        if self.schema_type != "AVRO":
            out["schemaType"] = self.schema_type
        return out


@dataclass(frozen=True)
class RegisteredSchema:
    schema_id: int
    schema: Schema
    subject: str
    version: int


def frame(schema_id: int, payload: bytes) -> bytes:
    return struct.pack(">bI", MAGIC_BYTE, schema_id) + payload


def unframe(data: bytes | None) -> tuple[int, bytes]:
    """(schema id, payload); raises :class:`SerializationError` for data not in Confluent's format."""
    if data is None or len(data) < 5:
        raise SerializationError(
            "Expecting data framing of length 6 bytes or more but total data size is "
            f"{0 if data is None else len(data)} bytes. This message was not produced with a Confluent "
            "Schema Registry serializer"
        )
    if data[0] != MAGIC_BYTE:
        raise SerializationError(
            f"Unknown magic byte! (got {data[0]}, expected 0: this record was not written by a Schema Registry "
            "serializer)"
        )
    (sid,) = struct.unpack(">I", data[1:5])
    return sid, data[5:]


class SchemaRegistryClient:
    """``confluent_kafka.schema_registry.SchemaRegistryClient`` for the simulation (``{"url": ...}``)."""

    def __init__(self, cluster: Cluster, conf: dict[str, Any] | None = None) -> None:
        conf = dict(conf or {})
        url = str(conf.get("url", "http://schema-registry-1:8081")).split(",")[0]
        self.host, self.port, base, _q = parse_url(url)
        self.base = base.rstrip("/")
        self.cluster = cluster
        self.http = HttpClient(cluster)
        self._by_id: dict[int, Schema] = {}
        self._ids: dict[tuple[str, str, str], int] = {}

    # -- transport -----------------------------------------------------------------------------------
    def _decode(self, status: int, data: bytes) -> Any:
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = data.decode("utf-8", "replace")
        if status >= 400:
            if isinstance(obj, dict):
                raise SchemaRegistryError(status, int(obj.get("error_code", status)), str(obj.get("message")))
            raise SchemaRegistryError(status, status, str(obj))
        return obj

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        try:
            status, data = self.http.request_blocking(
                self.host,
                self.port,
                method,
                self.base + path,
                query or {},
                json_body(body) if body is not None else b"",
            )
        except HttpError as e:
            raise SchemaRegistryError(-1, -1, str(e)) from None
        return self._decode(status, data)

    def _call_async(
        self,
        method: str,
        path: str,
        body: Any,
        on_ok: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        def got(status: int, data: bytes) -> None:
            try:
                obj = self._decode(status, data)
            except SchemaRegistryError as e:
                on_error(e)
                return
            on_ok(obj)

        self.http.request(
            self.host,
            self.port,
            method,
            self.base + path,
            {},
            json_body(body) if body is not None else b"",
            got,
            lambda e: on_error(SchemaRegistryError(-1, -1, str(e))),
        )

    # -- API ------------------------------------------------------------------------------------------
    def register_schema(self, subject_name: str, schema: Schema, normalize_schemas: bool = False) -> int:
        key = (subject_name, schema.schema_type, schema.schema_str)
        if key in self._ids:
            return self._ids[key]
        resp = self._call("POST", f"/subjects/{subject_name}/versions", schema.to_dict())
        sid = int(resp["id"])
        self._ids[key] = sid
        self._by_id.setdefault(sid, schema)
        return sid

    def get_schema(self, schema_id: int) -> Schema:
        if schema_id not in self._by_id:
            resp = self._call("GET", f"/schemas/ids/{schema_id}")
            self._by_id[schema_id] = Schema(resp["schema"], resp.get("schemaType", "AVRO"))
        return self._by_id[schema_id]

    def cached_schema(self, schema_id: int) -> Schema | None:
        return self._by_id.get(schema_id)

    def get_schema_async(
        self, schema_id: int, on_schema: Callable[[Schema], None], on_error: Callable[[Exception], None]
    ) -> None:
        """Fetch a schema from inside a simulation event (a background consumer meeting an unknown id)."""
        if schema_id in self._by_id:
            on_schema(self._by_id[schema_id])
            return

        def ok(resp: Any) -> None:
            s = Schema(resp["schema"], resp.get("schemaType", "AVRO"))
            self._by_id[schema_id] = s
            on_schema(s)

        self._call_async("GET", f"/schemas/ids/{schema_id}", None, ok, on_error)

    def register_schema_async(
        self,
        subject_name: str,
        schema: Schema,
        on_id: Callable[[int], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        key = (subject_name, schema.schema_type, schema.schema_str)
        if key in self._ids:
            on_id(self._ids[key])
            return

        def ok(resp: Any) -> None:
            sid = int(resp["id"])
            self._ids[key] = sid
            self._by_id.setdefault(sid, schema)
            on_id(sid)

        self._call_async("POST", f"/subjects/{subject_name}/versions", schema.to_dict(), ok, on_error)

    def get_latest_version(self, subject_name: str) -> RegisteredSchema:
        return self.get_version(subject_name, "latest")

    def get_version(self, subject_name: str, version: int | str) -> RegisteredSchema:
        r = self._call("GET", f"/subjects/{subject_name}/versions/{version}")
        return RegisteredSchema(
            int(r["id"]), Schema(r["schema"], r.get("schemaType", "AVRO")), r["subject"], int(r["version"])
        )

    def get_versions(self, subject_name: str) -> list[int]:
        return list(self._call("GET", f"/subjects/{subject_name}/versions"))

    def get_subjects(self) -> list[str]:
        return list(self._call("GET", "/subjects"))

    def delete_subject(self, subject_name: str, permanent: bool = False) -> list[int]:
        return list(
            self._call(
                "DELETE", f"/subjects/{subject_name}", query={"permanent": "true"} if permanent else None
            )
        )

    def set_compatibility(self, subject_name: str | None = None, level: str | None = None) -> str:
        path = f"/config/{subject_name}" if subject_name else "/config"
        return str(self._call("PUT", path, {"compatibility": (level or "").upper()})["compatibility"])

    def get_compatibility(self, subject_name: str | None = None) -> str:
        path = f"/config/{subject_name}" if subject_name else "/config"
        return str(self._call("GET", path)["compatibilityLevel"])

    def test_compatibility(self, subject_name: str, schema: Schema, version: int | str = "latest") -> bool:
        return bool(
            self._call(
                "POST", f"/compatibility/subjects/{subject_name}/versions/{version}", schema.to_dict()
            )["is_compatible"]
        )


def _subject(ctx: SerializationContext | None, record_name: str | None = None) -> str:
    if ctx is None:
        raise SerializationError("a SerializationContext (topic, field) is required to name the subject")
    return f"{ctx.topic}-{ctx.field}"


class AvroSerializer:
    """``AvroSerializer(client, schema_str)(obj, SerializationContext(topic, MessageField.VALUE))`` → bytes."""

    def __init__(
        self,
        schema_registry_client: SchemaRegistryClient,
        schema_str: str,
        to_dict: Callable[[Any, Any], dict[str, Any]] | None = None,
        conf: dict[str, Any] | None = None,
    ) -> None:
        self.client = schema_registry_client
        self.schema = Schema(schema_str, "AVRO")
        self.parsed = fastavro.parse_schema(
            json.loads(schema_str) if schema_str.strip()[:1] in "{[" else schema_str
        )
        self.to_dict = to_dict
        self.auto_register = bool((conf or {}).get("auto.register.schemas", True))
        self.schema_id: int | None = None

    def encode(self, obj: Any) -> bytes:
        if self.to_dict is not None:
            obj = self.to_dict(obj, None)
        buf = io.BytesIO()
        try:
            fastavro.schemaless_writer(buf, self.parsed, obj)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise SerializationError(f"Error serializing Avro message: {e}") from None
        return buf.getvalue()

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes | None:
        if obj is None:
            return None
        payload = self.encode(obj)
        if self.schema_id is None:
            subject = _subject(ctx)
            if self.auto_register:
                self.schema_id = self.client.register_schema(subject, self.schema)
            else:
                self.schema_id = self.client.get_latest_version(subject).schema_id
        return frame(self.schema_id, payload)


class AvroDeserializer:
    """Decodes Confluent-framed Avro; an unknown schema id is fetched from the registry (then cached)."""

    def __init__(
        self,
        schema_registry_client: SchemaRegistryClient,
        schema_str: str | None = None,
        from_dict: Callable[[dict[str, Any], Any], Any] | None = None,
    ) -> None:
        self.client = schema_registry_client
        self.reader = fastavro.parse_schema(json.loads(schema_str)) if schema_str else None
        self.from_dict = from_dict
        self._writers: dict[int, Any] = {}

    def decode(self, schema_id: int, schema: Schema, payload: bytes) -> Any:
        w = self._writers.get(schema_id)
        if w is None:
            text = schema.schema_str
            w = self._writers[schema_id] = fastavro.parse_schema(
                json.loads(text) if text.strip()[:1] in "{[" else text
            )
        try:
            obj = fastavro.schemaless_reader(io.BytesIO(payload), w, self.reader)
        except Exception as e:
            raise SerializationError(f"Error deserializing Avro message for id {schema_id}: {e}") from None
        return self.from_dict(obj, None) if self.from_dict else obj  # type: ignore[arg-type]

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> Any:
        if data is None:
            return None
        sid, payload = unframe(data)
        return self.decode(sid, self.client.get_schema(sid), payload)


class JSONSerializer:
    """JSON Schema: the payload is the JSON text, validated against the schema before it is sent."""

    def __init__(
        self,
        schema_str: str,
        schema_registry_client: SchemaRegistryClient,
        to_dict: Callable[[Any, Any], dict[str, Any]] | None = None,
        conf: dict[str, Any] | None = None,
    ) -> None:
        self.client = schema_registry_client
        self.schema = Schema(schema_str, "JSON")
        self.parsed = json.loads(schema_str)
        self.to_dict = to_dict
        self.schema_id: int | None = None

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes | None:
        if obj is None:
            return None
        if self.to_dict is not None:
            obj = self.to_dict(obj, None)
        try:
            jsonschema.validate(obj, self.parsed)
        except jsonschema.exceptions.ValidationError as e:
            raise SerializationError(e.message) from None
        if self.schema_id is None:
            self.schema_id = self.client.register_schema(_subject(ctx), self.schema)
        return frame(self.schema_id, json.dumps(obj, separators=(",", ":")).encode())


class JSONDeserializer:
    def __init__(
        self, schema_str: str | None, schema_registry_client: SchemaRegistryClient | None = None
    ) -> None:
        self.client = schema_registry_client
        self.parsed = json.loads(schema_str) if schema_str else None

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> Any:
        if data is None:
            return None
        sid, payload = unframe(data)
        schema = self.parsed
        if schema is None and self.client is not None:
            schema = json.loads(self.client.get_schema(sid).schema_str)
        obj = json.loads(payload)
        if schema is not None:
            try:
                jsonschema.validate(obj, schema)
            except jsonschema.exceptions.ValidationError as e:
                raise SerializationError(e.message) from None
        return obj
