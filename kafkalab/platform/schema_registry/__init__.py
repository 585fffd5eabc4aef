"""Schema Registry on the lab's cluster: subjects, versions, ids and compatibility, stored in ``_schemas``."""

from .registry import SCHEMAS_TOPIC, SchemaRegistry
from .schemas import COMPATIBILITY_LEVELS, InvalidSchema, ParsedSchema, check, parse_schema
from .serde import (
    AvroDeserializer,
    AvroSerializer,
    JSONDeserializer,
    JSONSerializer,
    MessageField,
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
    SerializationContext,
    SerializationError,
)

__all__ = [
    "COMPATIBILITY_LEVELS",
    "SCHEMAS_TOPIC",
    "AvroDeserializer",
    "AvroSerializer",
    "InvalidSchema",
    "JSONDeserializer",
    "JSONSerializer",
    "MessageField",
    "ParsedSchema",
    "Schema",
    "SchemaRegistry",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SerializationContext",
    "SerializationError",
    "check",
    "parse_schema",
]
