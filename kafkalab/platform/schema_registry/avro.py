"""Avro schemas for the registry: parsing (``fastavro``), Java's canonical string, and Avro's resolution rules.

``check_reader_writer(reader, writer)`` follows Avro's ``SchemaCompatibility.checkReaderWriterCompatibility``:
a reader schema is compatible with a writer schema when every datum the writer can write decodes with the
reader (the resolution rules of the Avro specification: promotions int→long→float→double, string↔bytes,
record fields matched by name or reader alias, a reader field missing in the writer needs a default, enum
symbols the reader lacks need a reader default, each writer union branch must resolve, names must match).
Incompatibilities carry Avro's type, JSON-pointer location and message; ``describe`` renders them the way
Confluent Schema Registry's ``avro.Difference`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import fastavro
from fastavro.schema import SchemaParseException, UnknownType

__all__ = [
    "AvroNode",
    "AvroSchemaError",
    "Incompatibility",
    "canonical_string",
    "check_reader_writer",
    "describe",
    "parse_avro",
]

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
_PROMOTIONS = {
    "long": ("int",),
    "float": ("int", "long"),
    "double": ("int", "long", "float"),
    "bytes": ("string",),
    "string": ("bytes",),
}


class AvroSchemaError(ValueError):
    """The text is not a valid Avro schema (the registry answers 42201)."""


@dataclass(eq=False)
class AvroNode:
    """One node of a parsed Avro schema; named types are shared objects (recursion works by identity)."""

    type: str
    name: str = ""  # full name of a record / enum / fixed
    aliases: tuple[str, ...] = ()
    fields: list[AvroField] = field(default_factory=list)
    symbols: tuple[str, ...] = ()
    enum_default: str | None = None
    size: int = 0
    items: AvroNode | None = None
    values: AvroNode | None = None
    branches: list[AvroNode] = field(default_factory=list)


@dataclass(eq=False)
class AvroField:
    name: str
    type: AvroNode
    has_default: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incompatibility:
    type: str
    location: str
    message: str


# -- parsing -------------------------------------------------------------------------------------------


def _full(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


class _Parser:
    def __init__(self) -> None:
        self.names: dict[str, AvroNode] = {}

    def node(self, s: Any, ns: str | None) -> AvroNode:
        if isinstance(s, str):
            if s in PRIMITIVES:
                return AvroNode(s)
            found = self.names.get(_full(s, ns)) or self.names.get(s)
            if found is None:
                raise AvroSchemaError(f"Unknown type: {s}")
            return found
        if isinstance(s, list):
            return AvroNode("union", branches=[self.node(b, ns) for b in s])
        if not isinstance(s, dict) or "type" not in s:
            raise AvroSchemaError(f"No type: {json.dumps(s)}")
        t = s["type"]
        if t in ("record", "error", "enum", "fixed"):
            name = s.get("name")
            if not isinstance(name, str) or not name:
                raise AvroSchemaError(f"No name in schema: {json.dumps(s)}")
            space = s.get("namespace", ns) if "." not in name else name.rsplit(".", 1)[0]
            full = _full(name, space)
            aliases = tuple(_full(a, space) for a in s.get("aliases", []) if isinstance(a, str))
            if t == "enum":
                symbols = s.get("symbols")
                if not isinstance(symbols, list):
                    raise AvroSchemaError(f"Enum has no symbols: {json.dumps(s)}")
                n = AvroNode("enum", full, aliases, symbols=tuple(symbols), enum_default=s.get("default"))
                self.names[full] = n
                return n
            if t == "fixed":
                size = s.get("size")
                if not isinstance(size, int):
                    raise AvroSchemaError(f"Invalid or no size: {json.dumps(s)}")
                n = AvroNode("fixed", full, aliases, size=size)
                self.names[full] = n
                return n
            fields = s.get("fields")
            if not isinstance(fields, list):
                raise AvroSchemaError(f"Record has no fields: {json.dumps(s)}")
            n = AvroNode("record", full, aliases)
            self.names[full] = n  # before the fields: a record may refer to itself
            for f in fields:
                if not isinstance(f, dict) or "name" not in f or "type" not in f:
                    raise AvroSchemaError(f"Field has no name or no type: {json.dumps(f)}")
                n.fields.append(
                    AvroField(
                        str(f["name"]),
                        self.node(f["type"], space),
                        "default" in f,
                        tuple(str(a) for a in f.get("aliases", [])),
                    )
                )
            return n
        if t == "array":
            if "items" not in s:
                raise AvroSchemaError(f"Array has no items type: {json.dumps(s)}")
            return AvroNode("array", items=self.node(s["items"], ns))
        if t == "map":
            if "values" not in s:
                raise AvroSchemaError(f"Map has no values type: {json.dumps(s)}")
            return AvroNode("map", values=self.node(s["values"], ns))
        if isinstance(t, (dict, list)) or (isinstance(t, str) and t not in PRIMITIVES):
            return self.node(t, ns)
        return AvroNode(t)


def parse_avro(text: str) -> tuple[Any, AvroNode]:
    """(the schema as JSON, its node tree); raises :class:`AvroSchemaError` naming what is wrong."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = text if text.strip() in PRIMITIVES else None
        if obj is None:
            raise AvroSchemaError(f"Invalid JSON: {text[:80]}") from None
    try:
        fastavro.parse_schema(obj)
    except (SchemaParseException, UnknownType) as e:
        raise AvroSchemaError(str(e)) from None
    except Exception as e:  # fastavro raises plain errors for some malformed shapes
        raise AvroSchemaError(f"{type(e).__name__}: {e}") from None
    return obj, _Parser().node(obj, None)


# -- Java's Schema.toString(): the string the registry stores and returns ------------------------------

_FIELD_KEYS = ("name", "type", "doc", "default", "order", "aliases")


def canonical_string(obj: Any) -> str:
    """What Java's ``Schema.toString()`` prints: compact JSON, Avro's key order, primitives as strings."""
    return json.dumps(_java(obj, None, set()), separators=(",", ":"), ensure_ascii=False)


def _java(s: Any, ns: str | None, seen: set[str]) -> Any:
    if isinstance(s, list):
        return [_java(b, ns, seen) for b in s]
    if isinstance(s, str):
        return s
    if not isinstance(s, dict):
        return s
    t = s.get("type")
    if isinstance(t, str) and t in PRIMITIVES:
        extra = {k: v for k, v in s.items() if k != "type"}
        return t if not extra else {"type": t, **extra}
    if t in ("record", "error", "enum", "fixed"):
        name = str(s["name"])
        space = s.get("namespace", ns) if "." not in name else name.rsplit(".", 1)[0]
        full = _full(name, space)
        if full in seen:
            return full if space != ns else name.rsplit(".", 1)[-1]
        seen.add(full)
        out: dict[str, Any] = {"type": t, "name": name.rsplit(".", 1)[-1]}
        if space and space != ns:
            out["namespace"] = space
        for k in ("doc",):
            if k in s:
                out[k] = s[k]
        if t in ("record", "error"):
            fields = []
            for f in s.get("fields", []):
                fo: dict[str, Any] = {}
                for k in _FIELD_KEYS:
                    if k in f:
                        fo[k] = _java(f[k], space, seen) if k == "type" else f[k]
                fo.update({k: v for k, v in f.items() if k not in fo})
                fields.append(fo)
            out["fields"] = fields
        elif t == "enum":
            out["symbols"] = s.get("symbols", [])
            if "default" in s:
                out["default"] = s["default"]
        else:
            out["size"] = s.get("size")
        rest = {k: v for k, v in s.items() if k not in out and k not in ("namespace", "fields", "name")}
        out.update(rest)
        return out
    if t == "array":
        return {"type": "array", "items": _java(s.get("items"), ns, seen), **_rest(s, ("type", "items"))}
    if t == "map":
        return {"type": "map", "values": _java(s.get("values"), ns, seen), **_rest(s, ("type", "values"))}
    return _java(t, ns, seen)


def _rest(s: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if k not in keys}


# -- Avro's reader/writer compatibility ---------------------------------------------------------------


def check_reader_writer(reader: AvroNode, writer: AvroNode) -> list[Incompatibility]:
    """Every way data written with ``writer`` may fail to decode with ``reader`` (empty: compatible)."""
    return _Checker().check("", reader, writer, [])


class _Checker:
    def __init__(self) -> None:
        self.memo: dict[tuple[int, int], list[Incompatibility] | None] = {}

    def check(self, token: str, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Incompatibility]:
        loc.append(token)
        key = (id(reader), id(writer))
        if key in self.memo:
            found = self.memo[key]
            result = [] if found is None else found  # recursion in progress: compatible unless proven not
        else:
            self.memo[key] = None
            result = self.calculate(reader, writer, loc)
            self.memo[key] = result
        loc.pop()
        return result

    def incompatible(self, kind: str, message: str, loc: list[str]) -> list[Incompatibility]:
        path = "/" + "/".join(c.replace("~", "~0").replace("/", "~1") for c in loc[1:])
        return [Incompatibility(kind, path, message)]

    def mismatch(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Incompatibility]:
        return self.incompatible(
            "TYPE_MISMATCH",
            f"reader type: {reader.type.upper()} not compatible with writer type: {writer.type.upper()}",
            loc,
        )

    def names(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Incompatibility]:
        if reader.name == writer.name or writer.name in reader.aliases:
            return []
        loc.append("name")
        out = self.incompatible("NAME_MISMATCH", f"expected: {writer.name}", loc)
        loc.pop()
        return out

    def calculate(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Incompatibility]:
        if reader.type == writer.type:
            t = reader.type
            if t in PRIMITIVES:
                return []
            if t == "array":
                assert reader.items is not None and writer.items is not None
                return self.check("items", reader.items, writer.items, loc)
            if t == "map":
                assert reader.values is not None and writer.values is not None
                return self.check("values", reader.values, writer.values, loc)
            if t == "fixed":
                out = self.names(reader, writer, loc)
                if reader.size != writer.size:
                    loc.append("size")
                    out += self.incompatible(
                        "FIXED_SIZE_MISMATCH", f"expected: {writer.size}, found: {reader.size}", loc
                    )
                    loc.pop()
                return out
            if t == "enum":
                out = self.names(reader, writer, loc)
                missing = sorted(set(writer.symbols) - set(reader.symbols))
                if missing and not (
                    reader.enum_default is not None and reader.enum_default in reader.symbols
                ):
                    loc.append("symbols")
                    out += self.incompatible("MISSING_ENUM_SYMBOLS", "[" + ", ".join(missing) + "]", loc)
                    loc.pop()
                return out
            if t == "record":
                return self.names(reader, writer, loc) + self.fields(reader, writer, loc)
            # union / union: every writer branch must decode with the reader union
            out = []
            for i, wb in enumerate(writer.branches):
                loc.append(str(i))
                if self._branch(reader, wb):
                    out += self.incompatible(
                        "MISSING_UNION_BRANCH", f"reader union lacking writer type: {wb.type.upper()}", loc
                    )
                loc.pop()
            return out
        if writer.type == "union":
            out = []
            for wb in writer.branches:
                out += self._branch(reader, wb)
            return out
        if reader.type == "union":
            for rb in reader.branches:
                if not self._branch(rb, writer):
                    return []
            return self.incompatible(
                "MISSING_UNION_BRANCH", f"reader union lacking writer type: {writer.type.upper()}", loc
            )
        if writer.type in _PROMOTIONS.get(reader.type, ()):
            return []
        return self.mismatch(reader, writer, loc)

    def _branch(self, reader: AvroNode, writer: AvroNode) -> list[Incompatibility]:
        # Avro checks a branch pair with a fresh location stack (getCompatibility(reader, writer))
        return self.check("", reader, writer, [])

    def fields(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Incompatibility]:
        out: list[Incompatibility] = []
        loc.append("fields")
        by_name = {f.name: f for f in writer.fields}
        for pos, rf in enumerate(reader.fields):
            loc.append(str(pos))
            wf = by_name.get(rf.name)
            if wf is None:
                for alias in rf.aliases:
                    if alias in by_name:
                        wf = by_name[alias]
                        break
            if wf is None:
                if not rf.has_default:
                    out += self.incompatible("READER_FIELD_MISSING_DEFAULT_VALUE", rf.name, loc)
            else:
                out += self.check("type", rf.type, wf.type, loc)
            loc.pop()
        loc.pop()
        return out


def describe(inc: Incompatibility) -> str:
    """Confluent's rendering of one incompatibility; ``%s`` stand for (reader label, writer label)."""
    t, path, msg = inc.type, inc.location, inc.message
    if t == "FIXED_SIZE_MISMATCH":
        text = f"The size of FIXED type field at path '{path}' in the %s schema does not match with the %s schema"
    elif t == "TYPE_MISMATCH":
        text = f"The type (path '{path}') of a field in the %s schema does not match with the %s schema"
    elif t == "NAME_MISMATCH":
        text = f"The name of the schema has changed (path '{path}')"
    elif t == "MISSING_ENUM_SYMBOLS":
        text = f"The %s schema is missing enum symbols '{msg}' at path '{path}' in the %s schema"
    elif t == "MISSING_UNION_BRANCH":
        text = f"The %s schema is missing a type inside a union field at path '{path}' in the %s schema"
    elif t == "READER_FIELD_MISSING_DEFAULT_VALUE":
        text = f"The field '{msg}' at path '{path}' in the %s schema has no default value and is missing in the %s schema"
    else:
        text = ""
    return "{errorType:'" + t + "', description:'" + text + "', additionalInfo:'" + msg + "'}"
