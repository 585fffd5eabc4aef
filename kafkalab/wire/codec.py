"""Kafka's framing and message codecs: a 4-byte size, a request header, a body (``kio`` does the bodies).

A request on the wire is ``int32 size | header | body``. The header is v1 (api key, api version, correlation
id, nullable client id) or, for flexible versions, v2 (the same plus tagged fields). A response is ``int32 size
| correlation id [| tagged fields] | body``; ApiVersions answers always use header v0 (no tagged fields) so a
client that does not know the broker's versions yet can read them.

``kio`` (generated from Kafka's JSON message schemas) decodes and encodes the bodies. Handlers build their
answers as plain dicts that hold the fields of every version; :func:`build` keeps those the requested
version has (so one handler serves e.g. Metadata v0 to v13).
"""

from __future__ import annotations

import datetime
import io
import struct
import uuid
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from functools import cache
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial import entity_reader, entity_writer
from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    classify_field,
    get_schema_field_type,
    is_optional,
)

from ..sim.errors import KafkaError

__all__ = [
    "API_VERSIONS_KEY",
    "FrameError",
    "MAX_FRAME_BYTES",
    "ParsedRequest",
    "build",
    "encode_response",
    "error_code",
    "ms",
    "parse_header",
    "parse_request",
]

API_VERSIONS_KEY = 18
#: Kafka's ``socket.request.max.bytes`` default: larger size prefixes close the connection (KAFKA-14063)
MAX_FRAME_BYTES = 104_857_600
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")


class FrameError(Exception):
    """A frame that cannot be a Kafka request; the connection is closed with this reason."""


@dataclass(slots=True)
class ParsedRequest:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    #: the decoded body (a kio entity), or None for an ApiVersions request of an unsupported version
    body: Any
    #: answer with header v1 (flexible) instead of v0
    flexible: bool


def error_code(name: str) -> ErrorCode:
    """Kafka's protocol error for an error name of the simulation (``UNKNOWN_TOPIC_OR_PART`` ...)."""
    return _error_by_name(name)


#: the simulation's (librdkafka's) names that differ from Kafka's
_ALIASES = {
    "NO_ERROR": "none",
    "UNKNOWN_TOPIC_OR_PART": "unknown_topic_or_partition",
    "MSG_SIZE_TOO_LARGE": "message_too_large",
}


@cache
def _error_by_name(name: str) -> ErrorCode:
    try:
        return ErrorCode[_ALIASES.get(name, name.lower())]
    except KeyError:
        pass
    if name.startswith("_"):
        # a client-side transport error never reaches a broker's answer; say "unknown server error"
        return ErrorCode.unknown_server_error
    try:
        return ErrorCode(KafkaError(name).code())
    except ValueError:
        return ErrorCode.unknown_server_error


def ms(value: Any) -> int:
    """Milliseconds of a kio time field (a ``timedelta``) or of a plain int."""
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds() * 1000)
    return int(value)


# -- requests ----------------------------------------------------------------------------------------------


@cache
def _request_reader(api_key: int, version: int) -> Callable[[Any, int], Any]:
    return entity_reader(load_request_schema(api_key, version))  # type: ignore[no-any-return]


@cache
def _is_flexible_request(api_key: int, version: int) -> bool:
    return bool(load_request_schema(api_key, version).__flexible__)


_HEADER_V1 = entity_reader(RequestHeaderV1)
_HEADER_V2 = entity_reader(RequestHeaderV2)


def parse_header(frame: bytes) -> tuple[int, int, int]:
    """(api key, api version, correlation id) of a frame (without its size prefix)."""
    if len(frame) < 8:
        raise FrameError(f"a request of {len(frame)} bytes is shorter than a request header")
    key, version = struct.unpack_from(">hh", frame, 0)
    (corr,) = _I32.unpack_from(frame, 4)
    return key, version, corr


def parse_request(frame: bytes, supported: Mapping[int, tuple[int, int]]) -> ParsedRequest:
    """Decode a whole request (header and body). ``supported``: api key -> (min, max) version.

    Raises :class:`FrameError` for anything a broker would close the connection for: an unknown API key, an
    unsupported version (except ApiVersions, which gets its fallback answer), a truncated or garbled body.
    Bytes after the body are ignored, as Kafka does.
    """
    key, version, _corr = parse_header(frame)
    span = supported.get(key)
    if span is None:
        raise FrameError(f"unknown or unsupported API key {key}")
    if not span[0] <= version <= span[1]:
        if key == API_VERSIONS_KEY and version > span[1]:
            # KIP-511: a newer client gets a v0 answer naming the versions this broker speaks
            client_id = ""
            try:
                header, _pos = _HEADER_V1(frame, 0)
                client_id = header.client_id or ""
            except Exception:  # the correlation id is all the fallback answer needs
                pass
            return ParsedRequest(key, 0, _corr, client_id, None, False)
        raise FrameError(f"unsupported version {version} of API key {key} (supported: {span[0]}-{span[1]})")
    flexible = _is_flexible_request(key, version)
    header, pos = _decode_header(frame, key, version)
    try:
        body, _size = _request_reader(key, version)(frame, pos)
    except Exception as e:  # kio raises what the bytes make it raise (KeyError for an unknown tag, ...)
        raise FrameError(f"malformed body of API key {key} v{version}: {type(e).__name__}: {e}") from None
    problem = _null_where_not_nullable(body)
    if problem:
        raise FrameError(f"malformed body of API key {key} v{version}: {problem} is null")
    # ApiVersions answers use header v0 whatever the request's version
    return ParsedRequest(
        key,
        version,
        header.correlation_id,
        header.client_id or "",
        body,
        flexible and key != API_VERSIONS_KEY,
    )


@cache
def _null_plan(cls: type) -> tuple[tuple[str, bool, type | None], ...]:
    """Per field that matters for the check: (name, may be null, entity type of its items or None)."""
    out = []
    for f in fields(cls):
        kind = classify_field(f)
        sub = kind.type_ if isinstance(kind, EntityField | EntityTupleField) else None
        if kind.is_array or sub is not None:
            out.append((f.name, is_optional(f), sub))
    return tuple(out)


def _null_where_not_nullable(entity: Any) -> str | None:
    """The first field (dotted path) that is null where Kafka's schema does not allow it (kio lets some by)."""
    for name, nullable, sub in _null_plan(type(entity)):
        value = getattr(entity, name)
        if value is None:
            if not nullable:
                return name
            continue
        if sub is not None:
            for item in value if isinstance(value, tuple) else (value,):
                inner = _null_where_not_nullable(item)
                if inner:
                    return f"{name}.{inner}"
    return None


def _decode_header(frame: bytes, key: int, version: int) -> tuple[Any, int]:
    reader = _HEADER_V2 if _is_flexible_request(key, version) else _HEADER_V1
    try:
        header, size = reader(frame, 0)
    except Exception as e:
        raise FrameError(f"malformed request header: {type(e).__name__}: {e}") from None
    return header, size


# -- responses ---------------------------------------------------------------------------------------------


def encode_response(
    api_key: int, version: int, correlation_id: int, flexible: bool, data: Mapping[str, Any]
) -> bytes:
    """The whole response frame (size prefix included) for ``data`` as version ``version`` has it."""
    cls = load_response_schema(api_key, version)
    return encode_entity(cls, correlation_id, flexible, data)


def encode_entity(cls: type, correlation_id: int, flexible: bool, data: Mapping[str, Any]) -> bytes:
    buf = io.BytesIO()
    buf.write(b"\x00\x00\x00\x00")
    buf.write(_I32.pack(correlation_id))
    if flexible:
        buf.write(b"\x00")  # response header v1: no tagged fields
    _writer(cls)(buf, build(cls, data))
    out = buf.getbuffer()
    _I32.pack_into(out, 0, len(out) - 4)
    return bytes(out)


@cache
def _writer(cls: type) -> Callable[[Any, Any], None]:
    return entity_writer(cls)  # type: ignore[no-any-return]


# -- building kio entities from plain data ------------------------------------------------------------------

_Conv = Callable[[Any], Any]


def _to_error(v: Any) -> ErrorCode:
    if isinstance(v, ErrorCode):
        return v
    if isinstance(v, str):
        return error_code(v)
    return ErrorCode(int(v))


def _to_timedelta(v: Any) -> datetime.timedelta:
    if isinstance(v, datetime.timedelta):
        return v
    return datetime.timedelta(milliseconds=int(v))


def _to_datetime(v: Any) -> datetime.datetime | None:
    if v is None or isinstance(v, datetime.datetime):
        return v
    if int(v) < 0:
        return None
    return datetime.datetime.fromtimestamp(int(v) / 1000, tz=datetime.UTC)


def _to_uuid(v: Any) -> uuid.UUID | None:
    if v is None or isinstance(v, uuid.UUID):
        return v
    if isinstance(v, str):
        return uuid.UUID(hex=v) if v else None
    return uuid.UUID(bytes=bytes(v))


_PRIMITIVE_CONV: dict[str, _Conv] = {
    "error_code": _to_error,
    "timedelta_i32": _to_timedelta,
    "timedelta_i64": _to_timedelta,
    "datetime_i64": _to_datetime,
    "uuid": _to_uuid,
}


_NULL_AS: dict[str, Any] = {"string": "", "bytes": b"", "records": b""}


@cache
def _plan(cls: type) -> tuple[tuple[str, _Conv | None, bool, bool, Any], ...]:
    """Per field: (name, converter, is a tuple, required, what None becomes where it is not nullable)."""
    out = []
    for f in fields(cls):
        kind = classify_field(f)
        conv: _Conv | None
        null_as: Any = None
        if isinstance(kind, EntityField | EntityTupleField):
            sub = kind.type_

            def conv(v: Any, sub: type = sub) -> Any:
                return v if v is None or not isinstance(v, Mapping) else build(sub, v)

        else:
            kafka_type = get_schema_field_type(f)
            conv = _PRIMITIVE_CONV.get(kafka_type)
            if not kind.is_array and not is_optional(f):
                null_as = _NULL_AS.get(kafka_type)
        required = f.default is MISSING and f.default_factory is MISSING
        out.append((f.name, conv, kind.is_array, required, null_as))
    return tuple(out)


def build(cls: type, data: Mapping[str, Any]) -> Any:
    """An instance of the kio entity ``cls`` from ``data``: keys the version lacks are dropped, fields the
    data lacks take their schema defaults (a required field missing is a bug: ``KeyError``), None in a
    field the version cannot null becomes the empty string or bytes."""
    kwargs: dict[str, Any] = {}
    for name, conv, is_array, required, null_as in _plan(cls):
        if name not in data:
            if required:
                raise KeyError(f"{cls.__qualname__}.{name} is required")
            continue
        v = data[name]
        if v is None:
            v = null_as
        elif conv is not None:
            v = tuple(conv(x) for x in v) if is_array else conv(v)
        elif is_array and not isinstance(v, tuple):
            v = tuple(v)
        kwargs[name] = v
    return cls(**kwargs)
