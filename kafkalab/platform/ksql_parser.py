"""The ksqlDB statements the lab understands, parsed with a lark grammar into small dataclasses.

Supported: ``CREATE STREAM|TABLE name (cols) WITH (...)``, ``CREATE STREAM|TABLE name [WITH (...)] AS SELECT
...``, ``SELECT ... FROM s [WINDOW TUMBLING|HOPPING (...)] [WHERE ...] [GROUP BY ...] [HAVING ...] [EMIT
CHANGES] [LIMIT n]``, ``SHOW|LIST STREAMS|TABLES|QUERIES|TOPICS|PROPERTIES``, ``DESCRIBE [EXTENDED] name``,
``DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC]``, ``TERMINATE id|ALL``, ``SET 'k'='v'``, ``UNSET 'k'``.

Syntax errors are worded as ksqlDB words them (``line 1:8: Syntax Error`` and what was expected);
identifiers are upper-cased unless quoted with back-ticks, as in ksqlDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

__all__ = [
    "BinOp",
    "Column",
    "CreateAsSelect",
    "CreateSource",
    "Describe",
    "Drop",
    "Func",
    "KsqlSyntaxError",
    "Literal",
    "Query",
    "SelectItem",
    "SetProp",
    "Show",
    "Terminate",
    "UnaryOp",
    "UnsetProp",
    "WindowSpec",
    "parse",
]

STATEMENT_KEYWORDS = (
    "SELECT",
    "CREATE",
    "DROP",
    "SHOW",
    "LIST",
    "DESCRIBE",
    "TERMINATE",
    "SET",
    "UNSET",
    "INSERT",
    "EXPLAIN",
    "PRINT",
    "RUN",
    "DEFINE",
    "UNDEFINE",
    "ALTER",
    "PAUSE",
    "RESUME",
    "ASSERT",
)

_GRAMMAR = r"""
start: statement ";"?

?statement: create_source | create_as | query | show | describe | drop | terminate | set_prop | unset_prop

create_source: "CREATE"i or_replace kind if_not_exists name "(" col_def ("," col_def)* ")" with_clause?
create_as: "CREATE"i or_replace kind if_not_exists name with_clause? "AS"i query
!or_replace: ("OR"i "REPLACE"i)?
!if_not_exists: ("IF"i "NOT"i "EXISTS"i)?
kind: "STREAM"i -> stream
    | "TABLE"i -> table
col_def: name type key_spec?
key_spec: "KEY"i -> key
        | "PRIMARY"i "KEY"i -> primary_key
type: TYPE_NAME
TYPE_NAME.2: /(STRING|VARCHAR|INTEGER|INT|BIGINT|DOUBLE|BOOLEAN)\b/i
with_clause: "WITH"i "(" prop ("," prop)* ")"
prop: name EQ literal

query: "SELECT"i select_list "FROM"i name window? where? group_by? having? emit? limit?
select_list: select_item ("," select_item)*
select_item: "*" -> star
           | expr ("AS"i name)? -> item
window: "WINDOW"i "TUMBLING"i "(" "SIZE"i duration grace? ")" -> tumbling
      | "WINDOW"i "HOPPING"i "(" "SIZE"i duration "," "ADVANCE"i "BY"i duration grace? ")" -> hopping
grace: "," "GRACE"i "PERIOD"i duration
duration: NUMBER UNIT
UNIT.2: /(MILLISECONDS|MILLISECOND|SECONDS|SECOND|MINUTES|MINUTE|HOURS|HOUR|DAYS|DAY)\b/i
where: "WHERE"i expr
group_by: "GROUP"i "BY"i expr ("," expr)*
having: "HAVING"i expr
emit: "EMIT"i "CHANGES"i
limit: "LIMIT"i NUMBER

show: ("SHOW"i | "LIST"i) SHOW_WHAT
SHOW_WHAT.2: /(STREAMS|TABLES|QUERIES|TOPICS|PROPERTIES)\b/i
describe: "DESCRIBE"i extended name
!extended: ("EXTENDED"i)?
drop: "DROP"i kind if_exists name delete_topic
!if_exists: ("IF"i "EXISTS"i)?
!delete_topic: ("DELETE"i "TOPIC"i)?
terminate: "TERMINATE"i name
set_prop: "SET"i STRING EQ STRING
unset_prop: "UNSET"i STRING

?expr: or_expr
?or_expr: and_expr ("OR"i and_expr)*
?and_expr: not_expr ("AND"i not_expr)*
?not_expr: "NOT"i not_expr -> not_
         | comparison
?comparison: sum ((COMP_OP | EQ) sum)?
?sum: product (ADD_OP product)*
?product: unary (MUL_OP unary)*
?unary: "-" unary -> neg
      | atom
?atom: literal
     | func_call
     | name -> column
     | "(" expr ")"
func_call: name "(" func_args? ")"
func_args: "*" -> star_arg
         | expr ("," expr)*
literal: STRING -> string
       | NUMBER -> number
       | "TRUE"i -> true
       | "FALSE"i -> false
       | "NULL"i -> null

name: IDENT | QUOTED_IDENT
EQ: "="
COMP_OP: "!=" | "<>" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
IDENT: /[A-Za-z_][A-Za-z0-9_@]*/
QUOTED_IDENT: /`[^`]+`/
STRING: /'([^']|'')*'/
NUMBER: /[0-9]+(\.[0-9]+)?/

%import common.WS
%ignore WS
%ignore /--[^\n]*/
"""

_parser = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False, propagate_positions=True)


class KsqlSyntaxError(Exception):
    """A statement ksqlDB would reject while parsing; ``str()`` is ksqlDB's message."""


# -- the tree ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class UnaryOp:
    op: str
    operand: Any


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple[Any, ...]
    star: bool = False


@dataclass(frozen=True)
class SelectItem:
    expr: Any
    alias: str | None


@dataclass(frozen=True)
class WindowSpec:
    kind: str  # TUMBLING | HOPPING
    size_ms: int
    advance_ms: int
    grace_ms: int | None


@dataclass
class Query:
    items: list[SelectItem | None]  # None = *
    source: str
    window: WindowSpec | None = None
    where: Any = None
    group_by: list[Any] = field(default_factory=list)
    having: Any = None
    emit_changes: bool = False
    limit: int | None = None
    text: str = ""


@dataclass
class CreateSource:
    kind: str  # STREAM | TABLE
    name: str
    columns: list[tuple[str, str, str]]  # (name, type, "" | "KEY" | "PRIMARY KEY")
    props: dict[str, Any]
    or_replace: bool = False
    if_not_exists: bool = False
    text: str = ""


@dataclass
class CreateAsSelect:
    kind: str
    name: str
    props: dict[str, Any]
    query: Query
    or_replace: bool = False
    if_not_exists: bool = False
    text: str = ""


@dataclass
class Show:
    what: str


@dataclass
class Describe:
    name: str
    extended: bool


@dataclass
class Drop:
    kind: str
    name: str
    if_exists: bool
    delete_topic: bool


@dataclass
class Terminate:
    query_id: str


@dataclass
class SetProp:
    name: str
    value: str


@dataclass
class UnsetProp:
    name: str


_UNITS_MS = {
    "MILLISECOND": 1,
    "SECOND": 1000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
}


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'")


@v_args(inline=True)
class _Build(Transformer[Token, Any]):
    def start(self, stmt: Any) -> Any:
        return stmt

    # names and literals
    def name(self, tok: Token) -> str:
        s = str(tok)
        return s[1:-1] if s.startswith("`") else s.upper()

    def string(self, tok: Token) -> Literal:
        return Literal(_unquote(str(tok)))

    def number(self, tok: Token) -> Literal:
        s = str(tok)
        return Literal(float(s) if "." in s else int(s))

    def true(self) -> Literal:
        return Literal(True)

    def false(self) -> Literal:
        return Literal(False)

    def null(self) -> Literal:
        return Literal(None)

    def column(self, name: str) -> Column:
        return Column(name)

    # expressions
    def or_expr(self, *parts: Any) -> Any:
        out = parts[0]
        for p in parts[1:]:
            out = BinOp("OR", out, p)
        return out

    def and_expr(self, *parts: Any) -> Any:
        out = parts[0]
        for p in parts[1:]:
            out = BinOp("AND", out, p)
        return out

    def not_(self, e: Any) -> UnaryOp:
        return UnaryOp("NOT", e)

    def neg(self, e: Any) -> Any:
        if isinstance(e, Literal) and isinstance(e.value, int | float):
            return Literal(-e.value)
        return UnaryOp("-", e)

    def comparison(self, left: Any, op: Token, right: Any) -> BinOp:
        o = str(op)
        return BinOp("!=" if o == "<>" else o, left, right)

    def _chain(self, *parts: Any) -> Any:
        out = parts[0]
        for i in range(1, len(parts), 2):
            out = BinOp(str(parts[i]), out, parts[i + 1])
        return out

    sum = _chain
    product = _chain

    def func_call(self, name: str, args: Any = None) -> Func:
        if args == "*":
            return Func(name.upper(), (), True)
        return Func(name.upper(), tuple(args or ()), False)

    def star_arg(self) -> str:
        return "*"

    def func_args(self, *args: Any) -> tuple[Any, ...]:
        return args

    # select
    def star(self) -> None:
        return None

    def item(self, expr: Any, alias: str | None = None) -> SelectItem:
        return SelectItem(expr, alias)

    def select_list(self, *items: Any) -> list[Any]:
        return list(items)

    def duration(self, n: Token, unit: Token) -> int:
        u = str(unit).upper().rstrip("S")
        return int(float(str(n)) * _UNITS_MS[u])

    def grace(self, ms: int) -> int:
        return ms

    def tumbling(self, size: int, grace: int | None = None) -> WindowSpec:
        return WindowSpec("TUMBLING", size, size, grace)

    def hopping(self, size: int, advance: int, grace: int | None = None) -> WindowSpec:
        return WindowSpec("HOPPING", size, advance, grace)

    def where(self, e: Any) -> tuple[str, Any]:
        return ("where", e)

    def group_by(self, *exprs: Any) -> tuple[str, Any]:
        return ("group_by", list(exprs))

    def having(self, e: Any) -> tuple[str, Any]:
        return ("having", e)

    def emit(self) -> tuple[str, Any]:
        return ("emit", True)

    def limit(self, n: Token) -> tuple[str, Any]:
        return ("limit", int(float(str(n))))

    def query(self, items: list[Any], source: str, *clauses: Any) -> Query:
        q = Query(items, source)
        for c in clauses:
            if isinstance(c, WindowSpec):
                q.window = c
            elif c[0] == "where":
                q.where = c[1]
            elif c[0] == "group_by":
                q.group_by = c[1]
            elif c[0] == "having":
                q.having = c[1]
            elif c[0] == "emit":
                q.emit_changes = True
            elif c[0] == "limit":
                q.limit = c[1]
        return q

    # create
    def or_replace(self, *toks: Any) -> bool:
        return bool(toks)

    def if_not_exists(self, *toks: Any) -> bool:
        return bool(toks)

    def if_exists(self, *toks: Any) -> bool:
        return bool(toks)

    def delete_topic(self, *toks: Any) -> bool:
        return bool(toks)

    def extended(self, *toks: Any) -> bool:
        return bool(toks)

    def stream(self) -> str:
        return "STREAM"

    def table(self) -> str:
        return "TABLE"

    def type(self, tok: Token) -> str:
        return str(tok).upper()

    def key(self) -> str:
        return "KEY"

    def primary_key(self) -> str:
        return "PRIMARY KEY"

    def col_def(self, name: str, typ: str, key: str = "") -> tuple[str, str, str]:
        return (name, typ, key)

    def prop(self, name: str, _eq: Token, value: Literal) -> tuple[str, Any]:
        return (name.upper(), value.value)

    def with_clause(self, *props: tuple[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in props:
            out[k] = v
        return out

    def create_source(self, orr: bool, kind: str, ine: bool, name: str, *rest: Any) -> CreateSource:
        props: dict[str, Any] = {}
        cols = []
        for r in rest:
            if isinstance(r, dict):
                props = r
            else:
                cols.append(r)
        return CreateSource(kind, name, cols, props, orr, ine)

    def create_as(self, orr: bool, kind: str, ine: bool, name: str, *rest: Any) -> CreateAsSelect:
        props = rest[0] if len(rest) == 2 else {}
        return CreateAsSelect(kind, name, props, rest[-1], orr, ine)

    def show(self, what: Token) -> Show:
        return Show(str(what).upper())

    def describe(self, extended: bool, name: str) -> Describe:
        return Describe(name, extended)

    def drop(self, kind: str, if_exists: bool, name: str, delete: bool) -> Drop:
        return Drop(kind, name, if_exists, delete)

    def terminate(self, name: str) -> Terminate:
        return Terminate(name)

    def set_prop(self, k: Token, _eq: Token, v: Token) -> SetProp:
        return SetProp(_unquote(str(k)), _unquote(str(v)))

    def unset_prop(self, k: Token) -> UnsetProp:
        return UnsetProp(_unquote(str(k)))


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _syntax_error(text: str, e: UnexpectedInput) -> KsqlSyntaxError:
    line = getattr(e, "line", 1) or 1
    col = getattr(e, "column", 1) or 1
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        expected = set(getattr(e, "expected", ()) or ())
        if "RPAR" in expected:
            return KsqlSyntaxError(
                f"line {line}:{len(text.rstrip()) + 1}: Syntax Error\n"
                "Syntax error at or near \";\"\n'}', ']', or ')' is missing"
            )
        return KsqlSyntaxError(
            f"line {line}:{len(text.rstrip()) + 1}: Syntax Error\n"
            f'Syntax error at or near "<EOF>" at line {line}:{len(text.rstrip()) + 1}'
        )
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        return KsqlSyntaxError(
            f"line {line}:{col}: Syntax Error\nSyntax error at or near '{ch}' at line {line}:{col}"
        )
    assert isinstance(e, UnexpectedToken)
    tok = str(e.token)
    names = {_terminal_text(x) for x in (e.expected or ())}
    names.discard("")
    if len(names) <= 3 and names:
        return KsqlSyntaxError(f"line {line}:{col}: Syntax Error\nExpecting {{{', '.join(sorted(names))}}}")
    return KsqlSyntaxError(
        f"line {line}:{col}: Syntax Error\nSyntax error at or near '{tok}' at line {line}:{col}"
    )


_TERMINALS = {
    "SEMICOLON": "';'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "EQUAL": "'='",
    "STAR": "'*'",
    "IDENT": "IDENTIFIER",
    "QUOTED_IDENT": "",
    "STRING": "STRING",
    "NUMBER": "INTEGER_VALUE",
    "TYPE_NAME": "type",
    "EQ": "'='",
    "SHOW_WHAT": "'STREAMS', 'TABLES', 'QUERIES', 'TOPICS', 'PROPERTIES'",
    "UNIT": "time unit",
    "COMP_OP": "",
    "ADD_OP": "",
    "MUL_OP": "",
}


def _terminal_text(name: str) -> str:
    if name in _TERMINALS:
        return _TERMINALS[name]
    try:
        pattern = _parser.get_terminal(name).pattern
    except KeyError:
        return name
    value = str(getattr(pattern, "value", name))
    if value.isalpha():
        return f"'{value.upper()}'"
    return name


def parse(text: str) -> Any:
    """One statement -> its dataclass; :class:`KsqlSyntaxError` with ksqlDB's wording when it is wrong."""
    stripped = text.strip()
    if not stripped:
        raise KsqlSyntaxError('line 1:1: Syntax Error\nSyntax error at or near "<EOF>" at line 1:1')
    first = stripped.split()[0].rstrip(";").upper()
    if first not in STATEMENT_KEYWORDS:
        best = min(STATEMENT_KEYWORDS, key=lambda k: (_levenshtein(first, k), k))
        word = stripped.split()[0].rstrip(";")
        return_error = f"line 1:1: Syntax Error\nUnknown statement '{word}'\nDid you mean '{best}'?"
        raise KsqlSyntaxError(return_error)
    try:
        tree = _parser.parse(stripped)
    except UnexpectedInput as e:
        raise _syntax_error(stripped, e) from None
    try:
        stmt = _Build().transform(tree)
    except VisitError as e:  # pragma: no cover - a bug in the transformer
        raise KsqlSyntaxError(f"line 1:1: Syntax Error\n{e.orig_exc}") from None
    text_one_line = " ".join(stripped.split())
    if not text_one_line.endswith(";"):
        text_one_line += ";"
    if isinstance(stmt, CreateSource | CreateAsSelect):
        stmt.text = text_one_line
        if isinstance(stmt, CreateAsSelect):
            stmt.query.text = text_one_line
    elif isinstance(stmt, Query):
        stmt.text = text_one_line
    return stmt
