"""JSON Schemas for the registry: validation (``jsonschema``) and Confluent's compatibility diff.

Confluent Schema Registry decides JSON Schema compatibility by diffing the previous schema (``original``)
against the new one (``update``) and calling a change compatible when the update accepts every document the
original accepted. Objects follow the *content model*: an object whose ``additionalProperties`` is absent or
``true`` is *open* (any property may appear, with any value), ``false`` makes it *closed*, a schema makes it
*partially open*. So, under the default (strict) policy, adding an optional property to an open object is
incompatible (old data may hold that property with another type) while removing one is compatible; with a
closed object it is the other way round. The difference types and messages are Confluent's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators

__all__ = ["JsonSchemaError", "JsonDifference", "compare", "describe", "is_compatible_change", "load"]

# changes that keep every old document valid (Confluent's COMPATIBLE_CHANGES_STRICT)
COMPATIBLE = frozenset(
    [
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    ]
)

_KEYWORD_ADDED_OR_REMOVED = frozenset(
    [
        "MAXIMUM_ADDED",
        "MINIMUM_ADDED",
        "EXCLUSIVE_MAXIMUM_ADDED",
        "EXCLUSIVE_MINIMUM_ADDED",
        "MULTIPLE_OF_ADDED",
        "MAX_LENGTH_ADDED",
        "MIN_LENGTH_ADDED",
        "PATTERN_ADDED",
        "REQUIRED_ATTRIBUTE_ADDED",
        "MAX_PROPERTIES_ADDED",
        "MIN_PROPERTIES_ADDED",
        "DEPENDENCY_ARRAY_ADDED",
        "DEPENDENCY_SCHEMA_ADDED",
        "MAX_ITEMS_ADDED",
        "MIN_ITEMS_ADDED",
        "UNIQUE_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_REMOVED",
        "ADDITIONAL_PROPERTIES_REMOVED",
    ]
)
_VALUE_INCREASED = frozenset(
    [
        "MIN_LENGTH_INCREASED",
        "MINIMUM_INCREASED",
        "EXCLUSIVE_MINIMUM_INCREASED",
        "MIN_PROPERTIES_INCREASED",
        "MULTIPLE_OF_EXPANDED",
        "MIN_ITEMS_INCREASED",
    ]
)
_VALUE_DECREASED = frozenset(
    [
        "MAX_LENGTH_DECREASED",
        "MAXIMUM_DECREASED",
        "MAX_ITEMS_DECREASED",
        "EXCLUSIVE_MAXIMUM_DECREASED",
        "MAX_PROPERTIES_DECREASED",
    ]
)
_TYPE_NARROWED = frozenset(
    [
        "ADDITIONAL_ITEMS_NARROWED",
        "ENUM_ARRAY_NARROWED",
        "SUM_TYPE_NARROWED",
        "ADDITIONAL_PROPERTIES_NARROWED",
    ]
)
_VALUE_CHANGED = frozenset(["PATTERN_CHANGED", "MULTIPLE_OF_CHANGED", "DEPENDENCY_ARRAY_CHANGED"])
_TYPE_CHANGED = frozenset(
    [
        "TYPE_CHANGED",
        "TYPE_NARROWED",
        "COMBINED_TYPE_CHANGED",
        "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
        "ENUM_ARRAY_CHANGED",
    ]
)
_TYPE_EXTENDED = frozenset(
    ["DEPENDENCY_ARRAY_EXTENDED", "PRODUCT_TYPE_EXTENDED", "SUM_TYPE_EXTENDED", "NOT_TYPE_EXTENDED"]
)
_ADDED_TO_OPEN = frozenset(
    [
        "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
    ]
)


class JsonSchemaError(ValueError):
    """The text is not a valid JSON Schema (the registry answers 42201)."""


@dataclass(frozen=True)
class JsonDifference:
    type: str
    path: str


def is_compatible_change(d: JsonDifference) -> bool:
    return d.type in COMPATIBLE


def describe(d: JsonDifference) -> str:
    """Confluent's ``Difference.toString()``; ``%s`` stand for (update label, original label)."""
    t, p = d.type, d.path
    if t in _KEYWORD_ADDED_OR_REMOVED:
        text = f"The keyword at path '{p}' in the %s schema is not present in the %s schema"
    elif t in _VALUE_INCREASED:
        text = f"The value at path '{p}' in the %s schema is more than its value in the %s schema"
    elif t in _VALUE_DECREASED:
        text = f"The value at path '{p}' in the %s schema is less than its value in the %s schema"
    elif t in _VALUE_CHANGED:
        text = f"The value at path '{p}' is different between the %s and %s schema"
    elif t in _TYPE_NARROWED:
        text = (
            f"An array or combined type at path '{p}' has fewer elements in the %s schema than the %s schema"
        )
    elif t in _TYPE_EXTENDED:
        text = (
            f"An array or combined type at path '{p}' has more elements in the %s schema than the %s schema"
        )
    elif t in _TYPE_CHANGED:
        text = f"A type at path '{p}' is different between the %s schema and the %s schema"
    elif t in _ADDED_TO_OPEN:
        text = f"The %s schema has an open content model and has a property or item at path '{p}' which is missing in the %s schema"
    elif t == "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL":
        text = f"The %s schema has an unopen content model and has a required property at path '{p}' which is missing in the %s schema"
    elif t in ("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"):
        text = f"The %s has a closed content model and is missing a property or item present at path '{p}' in the %s schema"
    elif t.endswith("_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"):
        text = f"A property or item is missing in the %s schema but present at path '{p}' in the %s schema and is not covered by its partially open content model"
    elif t.endswith("_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"):
        text = f"The %s schema has a property or item at path '{p}' which is missing in the %s schema and is not covered by its partially open content model"
    else:
        text = ""
    return '{errorType:"' + t + '", description:"' + text + "'}"


# -- the schema model (what everit's loader builds) ---------------------------------------------------


@dataclass(eq=False)
class JNode:
    kind: str  # false empty combined not enum const object array string number boolean null
    raw: Any = None
    has_default: bool = False
    default: Any = None
    id: Any = None
    title: Any = None
    description: Any = None
    criterion: str = ""  # allOf / anyOf / oneOf
    subs: list[JNode] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    integer: bool = False
    props: dict[str, JNode] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    additional: bool = True
    additional_schema: JNode | None = None
    pattern_props: list[tuple[str, JNode]] = field(default_factory=list)
    deps_array: dict[str, set[str]] = field(default_factory=dict)
    deps_schema: dict[str, JNode] = field(default_factory=dict)
    items: JNode | None = None
    item_list: list[JNode] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


_STRING_KEYS = ("minLength", "maxLength", "pattern")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_OBJECT_KEYS = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
)
_ARRAY_KEYS = ("items", "additionalItems", "minItems", "maxItems", "uniqueItems")


class _Loader:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: dict[str, JNode] = {}

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise JsonSchemaError(f"$ref '{ref}' is not a local reference (references are not supported)")
        node = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise JsonSchemaError(f"$ref '{ref}' cannot be resolved")
        return node

    def load(self, s: Any) -> JNode:
        if s is True:
            return JNode("empty", s)
        if s is False:
            return JNode("false", s)
        if not isinstance(s, dict):
            raise JsonSchemaError(f"a schema must be an object or a boolean, not {json.dumps(s)}")
        if "$ref" in s and isinstance(s["$ref"], str):
            ref = s["$ref"]
            if ref not in self.refs:
                placeholder = JNode("empty")
                self.refs[ref] = placeholder
                target = self.load(self.resolve(ref))
                placeholder.__dict__.update(target.__dict__)
            return self.refs[ref]
        n = self._load(s)
        n.raw = s
        n.has_default = "default" in s
        n.default = s.get("default")
        n.id = s.get("$id", s.get("id"))
        n.title = s.get("title")
        n.description = s.get("description")
        return n

    def _load(self, s: dict[str, Any]) -> JNode:
        for crit in ("allOf", "anyOf", "oneOf"):
            if crit in s and isinstance(s[crit], list):
                return JNode("combined", criterion=crit, subs=[self.load(x) for x in s[crit]])
        if "not" in s:
            return JNode("not", subs=[self.load(s["not"])])
        if "enum" in s and isinstance(s["enum"], list):
            return JNode("enum", values=list(s["enum"]))
        if "const" in s:
            return JNode("const", values=[s["const"]])
        t = s.get("type")
        if isinstance(t, list):
            if len(t) == 1:
                t = t[0]
            else:
                return JNode("combined", criterion="anyOf", subs=[self._typed(s, str(x)) for x in t])
        if isinstance(t, str):
            return self._typed(s, t)
        for kind, keys in (
            ("object", _OBJECT_KEYS),
            ("array", _ARRAY_KEYS),
            ("string", _STRING_KEYS),
            ("number", _NUMBER_KEYS),
        ):
            if any(k in s for k in keys):
                return self._typed(s, kind)
        return JNode("empty")

    def _typed(self, s: dict[str, Any], t: str) -> JNode:
        if t in ("number", "integer"):
            return JNode("number", integer=t == "integer", attrs={k: s[k] for k in _NUMBER_KEYS if k in s})
        if t == "string":
            return JNode("string", attrs={k: s[k] for k in _STRING_KEYS if k in s})
        if t in ("boolean", "null"):
            return JNode(t)
        if t == "array":
            n = JNode("array", attrs={k: s[k] for k in ("minItems", "maxItems", "uniqueItems") if k in s})
            items = s.get("items")
            if isinstance(items, list):
                n.item_list = [self.load(x) for x in items]
            elif items is not None:
                n.items = self.load(items)
            ai = s.get("additionalItems")
            if ai is False:
                n.additional = False
            elif isinstance(ai, dict):
                n.additional_schema = self.load(ai)
            return n
        if t == "object":
            n = JNode("object", attrs={k: s[k] for k in ("minProperties", "maxProperties") if k in s})
            for name, sub in (s.get("properties") or {}).items():
                n.props[str(name)] = self.load(sub)
            n.required = {str(r) for r in s.get("required") or []}
            ap = s.get("additionalProperties")
            if ap is False:
                n.additional = False
            elif isinstance(ap, dict):
                n.additional_schema = self.load(ap)
            for pat, sub in (s.get("patternProperties") or {}).items():
                n.pattern_props.append((str(pat), self.load(sub)))
            for name, dep in (s.get("dependencies") or {}).items():
                if isinstance(dep, list):
                    n.deps_array[str(name)] = {str(x) for x in dep}
                else:
                    n.deps_schema[str(name)] = self.load(dep)
            return n
        raise JsonSchemaError(f"unknown type '{t}'")


def load(text: str) -> tuple[Any, JNode]:
    """(the schema as JSON, its model); raises :class:`JsonSchemaError` naming what is wrong."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise JsonSchemaError(f"Invalid JSON: {e}") from None
    try:
        cls = jsonschema.validators.validator_for(obj, default=jsonschema.Draft7Validator)
        cls.check_schema(obj)
    except jsonschema.exceptions.SchemaError as e:
        raise JsonSchemaError(f"{e.message} at {'/'.join(str(p) for p in e.path) or 'the root'}") from None
    return obj, _Loader(obj).load(obj)


# -- the diff (Confluent's SchemaDiff) -----------------------------------------------------------------


class _Ctx:
    def __init__(self, path: list[str] | None = None) -> None:
        self.path: list[str] = list(path or [])
        self.diffs: list[JsonDifference] = []
        self.stack: set[tuple[int, int]] = set()

    def sub(self) -> _Ctx:
        c = _Ctx(self.path)
        c.stack = self.stack
        return c

    def add(self, t: str, attr: str | None = None) -> None:
        parts = self.path + ([attr] if attr else [])
        self.diffs.append(JsonDifference(t, "#/" + "/".join(parts)))

    @property
    def compatible(self) -> bool:
        return all(d.type in COMPATIBLE for d in self.diffs)

    @contextmanager
    def enter(self, part: str) -> Iterator[None]:
        self.path.append(part)
        try:
            yield
        finally:
            self.path.pop()


def compare(original: JNode, update: JNode) -> list[JsonDifference]:
    """Every difference from ``original`` (the previous schema) to ``update`` (the new one)."""
    ctx = _Ctx()
    _compare(ctx, original, update)
    return ctx.diffs


def _compare(ctx: _Ctx, o: JNode | None, u: JNode | None) -> None:
    if o is None and u is None:
        return
    if o is None:
        ctx.add("SCHEMA_ADDED")
        return
    if u is None:
        ctx.add("SCHEMA_REMOVED")
        return
    key = (id(o), id(u))
    if key in ctx.stack:  # a recursive pair already being compared: compatible unless proven otherwise
        return
    ctx.stack.add(key)
    try:
        _compare_types(ctx, o, u)
    finally:
        ctx.stack.discard(key)


def _compare_types(ctx: _Ctx, o: JNode, u: JNode) -> None:
    if o.kind != "combined" and u.kind == "combined":
        if len(u.subs) == 1:
            sub = ctx.sub()
            _compare(sub, o, u.subs[0])
            if sub.compatible:
                ctx.diffs += sub.diffs
                return
        elif u.criterion in ("anyOf", "oneOf"):
            for s in u.subs:
                sub = ctx.sub()
                _compare(sub, o, s)
                if sub.compatible:
                    ctx.diffs += sub.diffs
                    ctx.add("SUM_TYPE_EXTENDED")
                    return
    elif o.kind == "combined" and u.kind != "combined":
        if len(o.subs) == 1:
            sub = ctx.sub()
            _compare(sub, o.subs[0], u)
            if sub.compatible:
                ctx.diffs += sub.diffs
                return
        elif o.criterion == "allOf":
            for s in o.subs:
                sub = ctx.sub()
                _compare(sub, s, u)
                if sub.compatible:
                    ctx.diffs += sub.diffs
                    ctx.add("PRODUCT_TYPE_NARROWED")
                    return
    if o.kind != u.kind:
        if o.kind == "false" or u.kind == "empty":
            return
        ctx.add("TYPE_CHANGED")
        return
    if o.id != u.id:
        ctx.add("ID_CHANGED")
    if o.title != u.title:
        ctx.add("TITLE_CHANGED")
    if o.description != u.description:
        ctx.add("DESCRIPTION_CHANGED")
    if o.default != u.default or o.has_default != u.has_default:
        ctx.add("DEFAULT_CHANGED")
    k = o.kind
    if k == "string":
        _bounds(ctx, o.attrs, u.attrs, "maxLength", "MAX_LENGTH")
        _bounds(ctx, o.attrs, u.attrs, "minLength", "MIN_LENGTH")
        op, up = o.attrs.get("pattern"), u.attrs.get("pattern")
        if op is None and up is not None:
            ctx.add("PATTERN_ADDED", "pattern")
        elif op is not None and up is None:
            ctx.add("PATTERN_REMOVED", "pattern")
        elif op != up:
            ctx.add("PATTERN_CHANGED", "pattern")
    elif k == "number":
        for key, name in (
            ("maximum", "MAXIMUM"),
            ("minimum", "MINIMUM"),
            ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM"),
            ("exclusiveMinimum", "EXCLUSIVE_MINIMUM"),
        ):
            _bounds(ctx, o.attrs, u.attrs, key, name)
        _multiple_of(ctx, o.attrs.get("multipleOf"), u.attrs.get("multipleOf"))
        if o.integer != u.integer:
            ctx.add("TYPE_EXTENDED" if o.integer else "TYPE_NARROWED")
    elif k in ("enum", "const"):
        if o.values != u.values:
            if k == "const":
                ctx.add("ENUM_ARRAY_CHANGED", "const")
            elif all(v in u.values for v in o.values):
                ctx.add("ENUM_ARRAY_EXTENDED", "enum")
            elif all(v in o.values for v in u.values):
                ctx.add("ENUM_ARRAY_NARROWED", "enum")
            else:
                ctx.add("ENUM_ARRAY_CHANGED", "enum")
    elif k == "combined":
        _combined(ctx, o, u)
    elif k == "not":
        with ctx.enter("not"):
            sub = ctx.sub()
            _compare(sub, u.subs[0], o.subs[0])
            ctx.add("NOT_TYPE_NARROWED" if sub.compatible else "NOT_TYPE_EXTENDED")
    elif k == "object":
        _object(ctx, o, u)
    elif k == "array":
        _array(ctx, o, u)


def _bounds(ctx: _Ctx, oa: dict[str, Any], ua: dict[str, Any], key: str, name: str) -> None:
    ov, uv = oa.get(key), ua.get(key)
    if ov == uv or isinstance(ov, bool) or isinstance(uv, bool):
        return
    if ov is None:
        ctx.add(f"{name}_ADDED", key)
    elif uv is None:
        ctx.add(f"{name}_REMOVED", key)
    elif ov < uv:
        ctx.add(f"{name}_INCREASED", key)
    elif ov > uv:
        ctx.add(f"{name}_DECREASED", key)


def _multiple_of(ctx: _Ctx, ov: Any, uv: Any) -> None:
    if ov == uv:
        return
    if ov is None:
        ctx.add("MULTIPLE_OF_ADDED", "multipleOf")
    elif uv is None:
        ctx.add("MULTIPLE_OF_REMOVED", "multipleOf")
    elif ov != 0 and (uv / ov).is_integer():
        ctx.add("MULTIPLE_OF_EXPANDED", "multipleOf")
    elif uv != 0 and (ov / uv).is_integer():
        ctx.add("MULTIPLE_OF_REDUCED", "multipleOf")
    else:
        ctx.add("MULTIPLE_OF_CHANGED", "multipleOf")


def _combined(ctx: _Ctx, o: JNode, u: JNode) -> None:
    if o.criterion != u.criterion:
        if (
            u.criterion == "anyOf"
            or (len(o.subs) == 1 and len(u.subs) == 1)
            or (len(o.subs) == 1 and u.criterion == "oneOf")
            or (len(u.subs) == 1 and o.criterion == "allOf")
        ):
            ctx.add("COMBINED_TYPE_EXTENDED")
        else:
            ctx.add("COMBINED_TYPE_CHANGED")
            return
    if len(o.subs) < len(u.subs):
        ctx.add("PRODUCT_TYPE_EXTENDED" if u.criterion == "allOf" else "SUM_TYPE_EXTENDED")
    elif len(o.subs) > len(u.subs):
        ctx.add("SUM_TYPE_NARROWED" if o.criterion in ("anyOf", "oneOf") else "PRODUCT_TYPE_NARROWED")
    # a maximum matching of original subschemas to compatible update subschemas (augmenting paths)
    edges: dict[int, dict[int, list[JsonDifference]]] = {}
    for i, os_ in enumerate(o.subs):
        with ctx.enter(f"{o.criterion}/{i}"):
            for j, us in enumerate(u.subs):
                sub = ctx.sub()
                _compare(sub, os_, us)
                if sub.compatible:
                    edges.setdefault(i, {})[j] = sub.diffs
    match: dict[int, int] = {}  # update index -> original index

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges.get(i, {}):
            if j in seen:
                continue
            seen.add(j)
            if j not in match or augment(match[j], seen):
                match[j] = i
                return True
        return False

    for i in range(len(o.subs)):
        augment(i, set())
    for j, i in match.items():
        ctx.diffs += edges[i][j]
    if len(match) < min(len(o.subs), len(u.subs)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")


def _open(n: JNode) -> bool:
    return n.additional and n.additional_schema is None and not n.pattern_props


def _partial(n: JNode, prop: str | None) -> JNode | None:
    if prop is not None:
        for pat, sub in n.pattern_props:
            if re.search(pat, prop):
                return sub
    return n.additional_schema


def _object(ctx: _Ctx, o: JNode, u: JNode) -> None:
    with ctx.enter("required"):
        for name in o.props:
            if name in u.props:
                with ctx.enter(name):
                    was, now = name in o.required, name in u.required
                    if was and not now:
                        ctx.add("REQUIRED_ATTRIBUTE_REMOVED")
                    elif now and not was:
                        ctx.add(
                            "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                            if u.props[name].has_default
                            else "REQUIRED_ATTRIBUTE_ADDED"
                        )
    with ctx.enter("properties"):
        for name in sorted(set(o.props) | set(u.props)):
            with ctx.enter(name):
                os_, us = o.props.get(name), u.props.get(name)
                if us is None:
                    assert os_ is not None
                    if _open(u):
                        ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
                        continue
                    partial = _partial(u, name)
                    if partial is not None:
                        sub = ctx.sub()
                        _compare(sub, os_, partial)
                        ctx.diffs += sub.diffs
                        ctx.add(
                            "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                            if sub.compatible
                            else "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                        )
                    elif os_.kind == "false":
                        ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
                    else:
                        ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")
                elif os_ is None:
                    if _open(o):
                        if us.kind == "empty":
                            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
                        elif name in u.required:
                            ctx.add(
                                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
                                if us.has_default
                                else "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
                            )
                        else:
                            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
                        continue
                    partial = _partial(o, name)
                    if partial is not None:
                        sub = ctx.sub()
                        _compare(sub, partial, us)
                        ctx.diffs += sub.diffs
                        ctx.add(
                            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                            if sub.compatible
                            else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                        )
                    if name in u.required:
                        ctx.add(
                            "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
                            if us.has_default
                            else "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
                        )
                    else:
                        ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
                else:
                    _compare(ctx, os_, us)
    with ctx.enter("dependencies"):
        for name in sorted(set(o.deps_array) | set(u.deps_array)):
            with ctx.enter(name):
                od, ud = o.deps_array.get(name), u.deps_array.get(name)
                if ud is None:
                    ctx.add("DEPENDENCY_ARRAY_REMOVED")
                elif od is None:
                    ctx.add("DEPENDENCY_ARRAY_ADDED")
                elif od != ud:
                    ctx.add(
                        "DEPENDENCY_ARRAY_EXTENDED"
                        if ud >= od
                        else "DEPENDENCY_ARRAY_NARROWED"
                        if od >= ud
                        else "DEPENDENCY_ARRAY_CHANGED"
                    )
        for name in sorted(set(o.deps_schema) | set(u.deps_schema)):
            with ctx.enter(name):
                ods, uds = o.deps_schema.get(name), u.deps_schema.get(name)
                if uds is None:
                    ctx.add("DEPENDENCY_SCHEMA_REMOVED")
                elif ods is None:
                    ctx.add("DEPENDENCY_SCHEMA_ADDED")
                else:
                    _compare(ctx, ods, uds)
    with ctx.enter("additionalProperties"):
        if o.additional != u.additional:
            ctx.add("ADDITIONAL_PROPERTIES_ADDED" if u.additional else "ADDITIONAL_PROPERTIES_REMOVED")
        elif o.additional_schema is None and u.additional_schema is not None:
            ctx.add("ADDITIONAL_PROPERTIES_NARROWED")
        elif u.additional_schema is None and o.additional_schema is not None:
            ctx.add("ADDITIONAL_PROPERTIES_EXTENDED")
        else:
            _compare(ctx, o.additional_schema, u.additional_schema)
    _bounds(ctx, o.attrs, u.attrs, "maxProperties", "MAX_PROPERTIES")
    _bounds(ctx, o.attrs, u.attrs, "minProperties", "MIN_PROPERTIES")


def _array(ctx: _Ctx, o: JNode, u: JNode) -> None:
    with ctx.enter("items"):
        _compare(ctx, o.items, u.items)
    ol, ul = o.item_list or [], u.item_list or []
    for i in range(min(len(ol), len(ul))):
        with ctx.enter(f"items/{i}"):
            _compare(ctx, ol[i], ul[i])
    for i in range(len(ul), len(ol)):
        with ctx.enter(f"items/{i}"):
            if u.additional and u.additional_schema is None:
                ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
            elif u.additional_schema is not None:
                sub = ctx.sub()
                _compare(sub, ol[i], u.additional_schema)
                ctx.diffs += sub.diffs
                ctx.add(
                    "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    if sub.compatible
                    else "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                )
            elif ol[i].kind == "false":
                ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
            else:
                ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    for i in range(len(ol), len(ul)):
        with ctx.enter(f"items/{i}"):
            if o.additional and o.additional_schema is None:
                ctx.add(
                    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                    if ul[i].kind == "empty"
                    else "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
                )
            elif o.additional_schema is not None:
                sub = ctx.sub()
                _compare(sub, o.additional_schema, ul[i])
                ctx.diffs += sub.diffs
                ctx.add(
                    "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                    if sub.compatible
                    else "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
                )
            else:
                ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
    with ctx.enter("additionalItems"):
        if o.additional != u.additional:
            ctx.add("ADDITIONAL_ITEMS_REMOVED" if o.additional else "ADDITIONAL_ITEMS_ADDED")
        elif o.additional_schema is None and u.additional_schema is not None:
            ctx.add("ADDITIONAL_ITEMS_NARROWED")
        elif u.additional_schema is None and o.additional_schema is not None:
            ctx.add("ADDITIONAL_ITEMS_EXTENDED")
        else:
            _compare(ctx, o.additional_schema, u.additional_schema)
    _bounds(ctx, o.attrs, u.attrs, "maxItems", "MAX_ITEMS")
    _bounds(ctx, o.attrs, u.attrs, "minItems", "MIN_ITEMS")
    ou, uu = bool(o.attrs.get("uniqueItems")), bool(u.attrs.get("uniqueItems"))
    if ou != uu:
        ctx.add("UNIQUE_ITEMS_REMOVED" if ou else "UNIQUE_ITEMS_ADDED", "uniqueItems")
