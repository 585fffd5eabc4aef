"""Parsed schemas and the compatibility levels of Confluent Schema Registry.

``check(level, new, previous)`` is Confluent's ``CompatibilityChecker``: BACKWARD means the new schema can
read data written with the previous one (``new`` is the reader), FORWARD that data written with the new
schema can be read with the previous one, FULL both; the ``_TRANSITIVE`` variants check every earlier
version (newest first, stopping at the first failure), the others only the latest; NONE checks nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import avro, jsonschema_compat

__all__ = [
    "COMPATIBILITY_LEVELS",
    "InvalidSchema",
    "ParsedSchema",
    "check",
    "parse_schema",
]

COMPATIBILITY_LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
SCHEMA_TYPES = ("AVRO", "JSON")


class InvalidSchema(ValueError):
    """The schema does not parse (42201)."""


@dataclass(eq=False)
class ParsedSchema:
    schema_type: str  # AVRO or JSON
    obj: Any  # the schema as JSON
    tree: Any  # avro.AvroNode or jsonschema_compat.JNode
    canonical: str  # the string the registry stores and compares
    version: int | None = None

    def is_backward_compatible(self, previous: ParsedSchema) -> list[str]:
        """Can ``self`` read what ``previous`` wrote? Messages with ``%s`` = (this label, previous label)."""
        if self.schema_type != previous.schema_type:
            return ["Incompatible because of different schema type"]
        if self.schema_type == "AVRO":
            return [avro.describe(i) for i in avro.check_reader_writer(self.tree, previous.tree)]
        diffs = jsonschema_compat.compare(previous.tree, self.tree)
        return [jsonschema_compat.describe(d) for d in diffs if not jsonschema_compat.is_compatible_change(d)]


def parse_schema(text: str, schema_type: str = "AVRO") -> ParsedSchema:
    st = (schema_type or "AVRO").upper()
    if st == "AVRO":
        try:
            obj, tree = avro.parse_avro(text)
        except avro.AvroSchemaError as e:
            raise InvalidSchema(str(e)) from None
        return ParsedSchema("AVRO", obj, tree, avro.canonical_string(obj))
    if st == "JSON":
        try:
            obj, tree = jsonschema_compat.load(text)
        except jsonschema_compat.JsonSchemaError as e:
            raise InvalidSchema(str(e)) from None
        return ParsedSchema("JSON", obj, tree, json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    raise InvalidSchema(f"Unknown schema type {schema_type}; this registry knows AVRO and JSON")


def _format(messages: list[str], existing: ParsedSchema, reader: str, writer: str, append: bool) -> list[str]:
    if not messages:
        return messages
    out = [m.replace("%s", reader, 1).replace("%s", writer, 1) for m in messages]
    if append:
        if existing.version is not None:
            out.append(f"{{oldSchemaVersion: {existing.version}}}")
        out.append(f"{{oldSchema: '{existing.canonical}'}}")
    return out


def _one(level: str, new: ParsedSchema, existing: ParsedSchema) -> list[str]:
    if new.schema_type != existing.schema_type:
        return ["Incompatible because of different schema type"]
    if level.startswith("BACKWARD"):
        return _format(new.is_backward_compatible(existing), existing, "new", "old", True)
    if level.startswith("FORWARD"):
        return _format(existing.is_backward_compatible(new), existing, "old", "new", True)
    out = _format(existing.is_backward_compatible(new), existing, "old", "new", False)
    return out + _format(new.is_backward_compatible(existing), existing, "new", "old", True)


def check(level: str, new: ParsedSchema, previous: list[ParsedSchema]) -> list[str]:
    """Why ``new`` is incompatible with ``previous`` (oldest first) under ``level``; empty if compatible."""
    level = level.upper()
    if level not in COMPATIBILITY_LEVELS:
        raise ValueError(f"unknown compatibility level {level}")
    if level == "NONE" or not previous:
        return []
    newest_first = list(reversed(previous))
    if not level.endswith("_TRANSITIVE"):
        newest_first = newest_first[:1]
    for existing in newest_first:
        errors = _one(level, new, existing)
        if errors:
            errors.append(f"{{validateFields: 'false', compatibility: '{level}'}}")
            return errors
    return []
