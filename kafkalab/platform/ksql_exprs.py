"""ksqlDB expressions: SQL types, row (de)serialization, and expressions compiled to Python functions.

Rows are dicts from upper-case column name to value. JSON values are objects whose field names match the
columns case-insensitively (as ksqlDB's JSON format does); KAFKA-format keys use Kafka's serializers
(``STRING`` = UTF-8, ``INTEGER`` = 4 bytes, ``BIGINT``/``DOUBLE`` = 8 bytes, big-endian).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .ksql_parser import BinOp, Column, Func, Literal, UnaryOp
from .streams.serdes import Serde, Serdes, SerializationError

__all__ = [
    "AGGREGATES",
    "KsqlError",
    "RowSerde",
    "compile_expr",
    "expr_text",
    "is_aggregate",
    "key_serde",
    "normalize_type",
    "type_text",
]

AGGREGATES = ("COUNT", "SUM", "MIN", "MAX", "AVG", "LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET")
_TYPE_ALIASES = {"VARCHAR": "STRING", "INT": "INTEGER"}
PSEUDO_COLUMNS = {"ROWTIME": "BIGINT"}
WINDOW_COLUMNS = {"WINDOWSTART": "BIGINT", "WINDOWEND": "BIGINT"}


class KsqlError(Exception):
    """A statement ksqlDB would refuse; ``str()`` is the message ksqlDB prints."""


def normalize_type(t: str) -> str:
    return _TYPE_ALIASES.get(t.upper(), t.upper())


def type_text(t: str) -> str:
    """How DESCRIBE prints a type (``VARCHAR(STRING)`` for strings, as ksqlDB does)."""
    return "VARCHAR(STRING)" if t == "STRING" else t


def key_serde(t: str) -> Serde:
    return {
        "STRING": Serdes.String(),
        "INTEGER": Serdes.Integer(),
        "BIGINT": Serdes.Long(),
        "DOUBLE": Serdes.Double(),
    }.get(t, Serdes.String())


def _coerce(value: Any, t: str) -> Any:
    if value is None:
        return None
    if t == "STRING":
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )
    if t in ("INTEGER", "BIGINT"):
        if isinstance(value, bool):
            raise ValueError(f"cannot read {value!r} as {t}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            return int(value.strip())
        raise ValueError(f"cannot read {value!r} as {t}")
    if t == "DOUBLE":
        if isinstance(value, bool):
            raise ValueError(f"cannot read {value!r} as DOUBLE")
        return float(value)
    if t == "BOOLEAN":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"cannot read {value!r} as BOOLEAN")
    return value


class RowSerde:
    """JSON value format: an object with one field per value column."""

    def __init__(self, columns: list[tuple[str, str]]) -> None:
        self.columns = columns
        self.name = "JSON"

    def serialize(self, row: dict[str, Any] | None) -> bytes | None:
        if row is None:
            return None
        return json.dumps({c: row.get(c) for c, _t in self.columns}, separators=(",", ":")).encode()

    def deserialize(self, data: bytes | None) -> dict[str, Any] | None:
        if data is None:
            return None
        try:
            obj = json.loads(data.decode())
        except (UnicodeDecodeError, ValueError) as e:
            raise SerializationError(f"Failed to deserialize value from JSON: {e}") from None
        if not isinstance(obj, dict):
            if len(self.columns) == 1:  # a bare value for a single-column schema (ksqlDB accepts it)
                obj = {self.columns[0][0]: obj}
            else:
                raise SerializationError(
                    f"Can't convert type. sourceType: {type(obj).__name__}, requiredType: STRUCT"
                )
        upper = {str(k).upper(): v for k, v in obj.items()}
        try:
            return {c: _coerce(upper.get(c), t) for c, t in self.columns}
        except ValueError as e:
            raise SerializationError(str(e)) from None


def is_aggregate(e: Any) -> bool:
    return isinstance(e, Func) and e.name in AGGREGATES


def contains_aggregate(e: Any) -> bool:
    if is_aggregate(e):
        return True
    if isinstance(e, BinOp):
        return contains_aggregate(e.left) or contains_aggregate(e.right)
    if isinstance(e, UnaryOp):
        return contains_aggregate(e.operand)
    if isinstance(e, Func):
        return any(contains_aggregate(a) for a in e.args)
    return False


def expr_text(e: Any) -> str:
    """ksqlDB's text of an expression (used in messages)."""
    if isinstance(e, Column):
        return e.name
    if isinstance(e, Literal):
        if isinstance(e.value, str):
            return "'" + e.value.replace("'", "''") + "'"
        if e.value is None:
            return "null"
        return str(e.value).lower() if isinstance(e.value, bool) else str(e.value)
    if isinstance(e, BinOp):
        return f"({expr_text(e.left)} {e.op} {expr_text(e.right)})"
    if isinstance(e, UnaryOp):
        return f"(NOT {expr_text(e.operand)})" if e.op == "NOT" else f"-{expr_text(e.operand)}"
    if isinstance(e, Func):
        return f"{e.name}({'*' if e.star else ', '.join(expr_text(a) for a in e.args)})"
    return str(e)


def _num_type(a: str, b: str) -> str:
    if "DOUBLE" in (a, b):
        return "DOUBLE"
    if "BIGINT" in (a, b):
        return "BIGINT"
    return "INTEGER"


_SCALARS: dict[str, tuple[Callable[..., Any], Callable[[list[str]], str]]] = {
    "UCASE": (lambda s: s.upper(), lambda _t: "STRING"),
    "UPPER": (lambda s: s.upper(), lambda _t: "STRING"),
    "LCASE": (lambda s: s.lower(), lambda _t: "STRING"),
    "LOWER": (lambda s: s.lower(), lambda _t: "STRING"),
    "LEN": (lambda s: len(s), lambda _t: "INTEGER"),
    "TRIM": (lambda s: s.strip(), lambda _t: "STRING"),
    "ABS": (abs, lambda t: t[0]),
    "ROUND": (
        lambda x, d=0: round(x, int(d)) if d else int(round(x)),
        lambda t: "BIGINT" if len(t) == 1 else "DOUBLE",
    ),
    "CONCAT": (lambda *xs: "".join(str(x) for x in xs), lambda _t: "STRING"),
    "SUBSTRING": (
        lambda s, pos, n=None: s[int(pos) - 1 :] if n is None else s[int(pos) - 1 : int(pos) - 1 + int(n)],
        lambda _t: "STRING",
    ),
}


def compile_expr(
    e: Any,
    schema: dict[str, str],
    *,
    clause: str = "SELECT",
    aggregates: dict[Any, int] | None = None,
    agg_types: dict[Any, str] | None = None,
) -> tuple[Callable[[dict[str, Any]], Any], str]:
    """``(function of a row, SQL type)``. With ``aggregates``, aggregate calls read ``row["$AGG"][i]``."""
    if aggregates is not None and is_aggregate(e):
        idx = aggregates[e]
        t = (agg_types or {}).get(e, "BIGINT")
        return (lambda row: row["$AGG"][idx]), t
    if isinstance(e, Column):
        name = e.name
        if name not in schema:
            raise KsqlError(f"{clause} column '{name}' cannot be resolved.")
        return (lambda row: row.get(name)), schema[name]
    if isinstance(e, Literal):
        v = e.value
        t = (
            "BOOLEAN"
            if isinstance(v, bool)
            else "INTEGER"
            if isinstance(v, int) and -(2**31) <= v < 2**31
            else "BIGINT"
            if isinstance(v, int)
            else "DOUBLE"
            if isinstance(v, float)
            else "STRING"
        )
        return (lambda _row: v), t
    if isinstance(e, UnaryOp):
        f, t = compile_expr(e.operand, schema, clause=clause, aggregates=aggregates, agg_types=agg_types)
        if e.op == "NOT":
            return (lambda row: None if (x := f(row)) is None else not x), "BOOLEAN"
        return (lambda row: None if (x := f(row)) is None else -x), t
    if isinstance(e, BinOp):
        lf, lt = compile_expr(e.left, schema, clause=clause, aggregates=aggregates, agg_types=agg_types)
        rf, rt = compile_expr(e.right, schema, clause=clause, aggregates=aggregates, agg_types=agg_types)
        op = e.op
        if op == "AND":

            def and_(row: dict[str, Any]) -> Any:
                a = lf(row)
                if a is False:
                    return False
                b = rf(row)
                if b is False:
                    return False
                return None if a is None or b is None else True

            return and_, "BOOLEAN"
        if op == "OR":

            def or_(row: dict[str, Any]) -> Any:
                a = lf(row)
                if a is True:
                    return True
                b = rf(row)
                if b is True:
                    return True
                return None if a is None or b is None else False

            return or_, "BOOLEAN"
        if op in ("=", "!=", "<", "<=", ">", ">="):
            numeric = {"INTEGER", "BIGINT", "DOUBLE"}
            if lt != rt and not (lt in numeric and rt in numeric):
                raise KsqlError(
                    f"Error in {clause} expression: Cannot compare {expr_text(e.left)} ({lt}) to "
                    f"{expr_text(e.right)} ({rt}) with {'NOT_EQUAL' if op == '!=' else _CMP_NAMES[op]}."
                )
            cmp = _CMP[op]
            return (
                lambda row: None if (a := lf(row)) is None or (b := rf(row)) is None else cmp(a, b)
            ), "BOOLEAN"
        if op == "+" and lt == "STRING" and rt == "STRING":
            return (lambda row: None if (a := lf(row)) is None or (b := rf(row)) is None else a + b), "STRING"
        if lt not in ("INTEGER", "BIGINT", "DOUBLE") or rt not in ("INTEGER", "BIGINT", "DOUBLE"):
            raise KsqlError(
                f"Error processing expression: {expr_text(e)}. Unsupported arithmetic types. {lt} {rt}"
            )
        t = _num_type(lt, rt)
        integral = t != "DOUBLE"

        def arith(row: dict[str, Any]) -> Any:
            a, b = lf(row), rf(row)
            if a is None or b is None:
                return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if b == 0:
                return None
            if op == "/":
                return int(a / b) if integral else a / b
            return a - b * int(a / b) if integral else a % b

        return arith, t
    if isinstance(e, Func):
        if e.name in AGGREGATES:
            raise KsqlError(
                f"Aggregate functions can not be used in the {clause} clause here: {expr_text(e)}"
            )
        spec = _SCALARS.get(e.name)
        if spec is None:
            if e.name in ("IFNULL", "COALESCE"):
                parts = [
                    compile_expr(a, schema, clause=clause, aggregates=aggregates, agg_types=agg_types)
                    for a in e.args
                ]
                fs = [p[0] for p in parts]
                return (lambda row: next((v for f in fs if (v := f(row)) is not None), None)), parts[0][
                    1
                ] if parts else "STRING"
            raise KsqlError(f"Can't find any functions with the name '{e.name}'")
        fn, typer = spec
        parts = [
            compile_expr(a, schema, clause=clause, aggregates=aggregates, agg_types=agg_types) for a in e.args
        ]
        fs = [p[0] for p in parts]

        def call(row: dict[str, Any]) -> Any:
            args = [f(row) for f in fs]
            if any(a is None for a in args):
                return None
            try:
                return fn(*args)
            except (TypeError, ValueError, AttributeError):
                return None

        return call, typer([p[1] for p in parts])
    raise KsqlError(f"unsupported expression {e!r}")


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_CMP_NAMES = {
    "=": "EQUAL",
    "<": "LESS_THAN",
    "<=": "LESS_THAN_OR_EQUAL",
    ">": "GREATER_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
}


# -- aggregate functions --------------------------------------------------------------------------------------
def aggregate_impl(
    f: Func, arg_type: str | None
) -> tuple[Callable[[], Any], Callable[[Any, Any], Any], Callable[[Any], Any], str]:
    """(initial state, add(state, value) -> state, result(state), result type) of an aggregate call."""
    name = f.name
    if name == "COUNT":
        if f.star or not f.args:
            return (lambda: 0), (lambda s, _v: s + 1), (lambda s: s), "BIGINT"
        return (lambda: 0), (lambda s, v: s + (v is not None)), (lambda s: s), "BIGINT"
    if name == "SUM":
        t = "DOUBLE" if arg_type == "DOUBLE" else "BIGINT" if arg_type == "BIGINT" else "INTEGER"
        return (lambda: 0), (lambda s, v: s + v if v is not None else s), (lambda s: s), t
    if name in ("MIN", "MAX"):
        pick = min if name == "MIN" else max
        return (
            (lambda: None),
            (lambda s, v: s if v is None else v if s is None else pick(s, v)),
            (lambda s: s),
            arg_type or "BIGINT",
        )
    if name == "AVG":
        return (
            (lambda: [0, 0]),
            (lambda s, v: s if v is None else [s[0] + v, s[1] + 1]),
            (lambda s: None if not s[1] else s[0] / s[1]),
            "DOUBLE",
        )
    if name == "LATEST_BY_OFFSET":
        return (lambda: None), (lambda s, v: v if v is not None else s), (lambda s: s), arg_type or "STRING"
    if name == "EARLIEST_BY_OFFSET":
        return (lambda: None), (lambda s, v: s if s is not None else v), (lambda s: s), arg_type or "STRING"
    raise KsqlError(f"Can't find any functions with the name '{name}'")
