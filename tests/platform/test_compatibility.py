"""Every compatibility level on schema pairs whose answer Avro's and Confluent's documentation give.

Avro (Confluent's "Schema Evolution and Compatibility" table, Avro's resolution rules):
- add a field with a default: BACKWARD, FORWARD, FULL all pass;
- add a field without a default: new readers cannot fill it from old data: BACKWARD fails, FORWARD passes;
- delete a required field (no default): old readers miss it in new data: FORWARD fails, BACKWARD passes;
- int -> long is a promotion for a reader, long -> int is not; a reader enum must know the writer's symbols.
JSON Schema (Confluent's content models): adding a property to an *open* object is not backward compatible
(old data may carry that name with any value), to a *closed* one (``additionalProperties: false``) it is.
"""

from __future__ import annotations

import json

import pytest

from kafkalab.platform.schema_registry.schemas import COMPATIBILITY_LEVELS, check, parse_schema


def avro(*fields: dict, name: str = "User") -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields)})


NAME = {"name": "name", "type": "string"}
AGE_DEFAULT = {"name": "age", "type": "int", "default": 0}
EMAIL = {"name": "email", "type": "string"}
EMAIL_DEFAULT = {"name": "email", "type": "string", "default": ""}

# (description, old, new, {level: compatible?}) for the non-transitive levels (one previous version)
AVRO_PAIRS = [
    (
        "add field with default",
        avro(NAME),
        avro(NAME, AGE_DEFAULT),
        dict(BACKWARD=True, FORWARD=True, FULL=True),
    ),
    (
        "add field without default",
        avro(NAME),
        avro(NAME, EMAIL),
        dict(BACKWARD=False, FORWARD=True, FULL=False),
    ),
    (
        "delete field with default",
        avro(NAME, AGE_DEFAULT),
        avro(NAME),
        dict(BACKWARD=True, FORWARD=True, FULL=True),
    ),
    ("delete required field", avro(NAME, EMAIL), avro(NAME), dict(BACKWARD=True, FORWARD=False, FULL=False)),
    (
        "int to long",
        avro({"name": "n", "type": "int"}),
        avro({"name": "n", "type": "long"}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "string to int",
        avro({"name": "n", "type": "string"}),
        avro({"name": "n", "type": "int"}),
        dict(BACKWARD=False, FORWARD=False, FULL=False),
    ),
    (
        "enum gains a symbol",
        avro({"name": "c", "type": {"type": "enum", "name": "C", "symbols": ["RED"]}}),
        avro({"name": "c", "type": {"type": "enum", "name": "C", "symbols": ["RED", "BLUE"]}}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "field becomes nullable union",
        avro({"name": "n", "type": "string"}),
        avro({"name": "n", "type": ["null", "string"], "default": None}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "record renamed",
        avro(NAME, name="User"),
        avro(NAME, name="Person"),
        dict(BACKWARD=False, FORWARD=False, FULL=False),
    ),
]


def jsch(props: dict, closed: bool = False, required: list[str] | None = None) -> str:
    s: dict = {"type": "object", "properties": props}
    if closed:
        s["additionalProperties"] = False
    if required:
        s["required"] = required
    return json.dumps(s)


S = {"type": "string"}
JSON_PAIRS = [
    (
        "open: add optional property",
        jsch({"a": S}),
        jsch({"a": S, "b": S}),
        dict(BACKWARD=False, FORWARD=True, FULL=False),
    ),
    (
        "open: remove property",
        jsch({"a": S, "b": S}),
        jsch({"a": S}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "closed: add optional property",
        jsch({"a": S}, True),
        jsch({"a": S, "b": S}, True),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "closed: remove property",
        jsch({"a": S, "b": S}, True),
        jsch({"a": S}, True),
        dict(BACKWARD=False, FORWARD=True, FULL=False),
    ),
    (
        "closed: add required property",
        jsch({"a": S}, True),
        jsch({"a": S, "b": S}, True, ["b"]),
        dict(BACKWARD=False, FORWARD=False, FULL=False),
    ),
    (
        "string to integer",
        jsch({"a": S}),
        jsch({"a": {"type": "integer"}}),
        dict(BACKWARD=False, FORWARD=False, FULL=False),
    ),
    (
        "integer to number",
        jsch({"a": {"type": "integer"}}),
        jsch({"a": {"type": "number"}}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "maxLength increased",
        jsch({"a": {"type": "string", "maxLength": 5}}),
        jsch({"a": {"type": "string", "maxLength": 9}}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "enum extended",
        jsch({"a": {"enum": ["x"]}}),
        jsch({"a": {"enum": ["x", "y"]}}),
        dict(BACKWARD=True, FORWARD=False, FULL=False),
    ),
    (
        "description changed",
        jsch({"a": S}),
        jsch({"a": {"type": "string", "description": "A"}}),
        dict(BACKWARD=True, FORWARD=True, FULL=True),
    ),
]


@pytest.mark.parametrize(
    "schema_type,desc,old,new,expected",
    [("AVRO", *p) for p in AVRO_PAIRS] + [("JSON", *p) for p in JSON_PAIRS],
    ids=[f"avro:{p[0]}" for p in AVRO_PAIRS] + [f"json:{p[0]}" for p in JSON_PAIRS],
)
def test_every_level_on_a_pair(
    schema_type: str, desc: str, old: str, new: str, expected: dict[str, bool]
) -> None:
    prev = parse_schema(old, schema_type)
    prev.version = 1
    cand = parse_schema(new, schema_type)
    for level in COMPATIBILITY_LEVELS:
        base = level.replace("_TRANSITIVE", "")
        want = True if base == "NONE" else expected[base]
        errors = check(level, cand, [prev])
        assert (not errors) == want, f"{desc} under {level}: {errors}"
        if errors:  # Confluent's message shape: the difference, the old version, the level
            assert errors[-1] == f"{{validateFields: 'false', compatibility: '{level}'}}"
            if not level.startswith("FULL"):  # FULL appends it only after the new-reads-old half
                assert "{oldSchemaVersion: 1}" in errors


def test_transitive_levels_check_every_earlier_version() -> None:
    """v3 is compatible with v2 but not with v1: only the _TRANSITIVE levels see it."""
    # BACKWARD: v3 adds email without default; v2 data has email (default ""), v1 data has none
    v1, v2, v3 = (parse_schema(s) for s in (avro(NAME), avro(NAME, EMAIL_DEFAULT), avro(NAME, EMAIL)))
    v1.version, v2.version = 1, 2
    assert check("BACKWARD", v3, [v1, v2]) == []
    errs = check("BACKWARD_TRANSITIVE", v3, [v1, v2])
    assert errs and "{oldSchemaVersion: 1}" in errs and "READER_FIELD_MISSING_DEFAULT_VALUE" in errs[0]
    # FORWARD: v1 readers need email; v2 gave it a default, v3 drops it
    f1, f2, f3 = (parse_schema(s) for s in (avro(NAME, EMAIL), avro(NAME, EMAIL_DEFAULT), avro(NAME)))
    f1.version, f2.version = 1, 2
    assert check("FORWARD", f3, [f1, f2]) == []
    assert check("FORWARD_TRANSITIVE", f3, [f1, f2])
    assert check("FULL", f3, [f1, f2]) == []
    assert check("FULL_TRANSITIVE", f3, [f1, f2])
    assert check("NONE", f3, [f1, f2]) == []


def test_messages_are_confluents() -> None:
    prev = parse_schema(avro(NAME))
    prev.version = 1
    errs = check("BACKWARD", parse_schema(avro(NAME, EMAIL)), [prev])
    assert errs[0] == (
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'email' at path '/fields/1' in the "
        "new schema has no default value and is missing in the old schema', additionalInfo:'email'}"
    )
    jprev = parse_schema(jsch({"a": S}), "JSON")
    jerrs = check("BACKWARD", parse_schema(jsch({"a": S, "b": S}), "JSON"), [jprev])
    assert jerrs[0].startswith('{errorType:"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"')
    assert "#/properties/b" in jerrs[0]


def test_different_types_and_invalid_schemas() -> None:
    from kafkalab.platform.schema_registry.schemas import InvalidSchema

    a = parse_schema('"string"')
    a.version = 1
    assert (
        check("BACKWARD", parse_schema(jsch({"a": S}), "JSON"), [a])[0]
        == "Incompatible because of different schema type"
    )
    for bad, t in (
        ('{"type": "record", "name": "X"}', "AVRO"),
        ('{"type": "strin"}', "AVRO"),
        ("{bad", "AVRO"),
        ('{"type": 12}', "JSON"),
        ("[", "JSON"),
    ):
        with pytest.raises(InvalidSchema):
            parse_schema(bad, t)


def test_canonical_string_is_javas() -> None:
    assert parse_schema('{"type": "string"}').canonical == '"string"'
    s = parse_schema(
        '{"namespace": "a.b", "name": "R", "type": "record", "fields": [{"type": "int", "name": "x"}]}'
    )
    assert (
        s.canonical == '{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"x","type":"int"}]}'
    )
