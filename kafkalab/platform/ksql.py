"""A ksqlDB subset on top of the lab's Kafka Streams: streams, tables, persistent, push and pull queries.

``KsqlEngine(cluster).execute("CREATE STREAM ...")`` runs one statement and returns what ksqlDB's CLI would
print. Persistent queries (``CREATE TABLE ... AS SELECT``) are Kafka Streams applications with ksqlDB's
names: application id ``_confluent-ksql-default_query_CTAS_COUNTS_2``, changelog
``<application id>-Aggregate-Aggregate-Materialize-changelog``, repartition
``<application id>-Aggregate-GroupBy-repartition``. Push queries (``EMIT CHANGES``) are transient
applications whose rows go to a callback; pull queries read a table's state store (or, on a stream, the
topic up to its end). Messages and errors are ksqlDB's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..sim.clients.common import OFFSET_BEGINNING, TopicPartition
from ..sim.errors import KafkaException
from .ksql_exprs import (
    PSEUDO_COLUMNS,
    WINDOW_COLUMNS,
    KsqlError,
    RowSerde,
    aggregate_impl,
    compile_expr,
    contains_aggregate,
    expr_text,
    is_aggregate,
    key_serde,
    normalize_type,
    type_text,
)
from .ksql_parser import (
    BinOp,
    Column,
    CreateAsSelect,
    CreateSource,
    Describe,
    Drop,
    Func,
    KsqlSyntaxError,
    Query,
    SelectItem,
    SetProp,
    Show,
    Terminate,
    UnaryOp,
    UnsetProp,
    WindowSpec,
    parse,
)
from .streams import (
    Consumed,
    Grouped,
    KafkaStreams,
    Materialized,
    Produced,
    Serdes,
    StreamsBuilder,
    TimeWindows,
    WindowedSerde,
)
from .streams.processors import Processor

if TYPE_CHECKING:
    from ..sim.cluster import Cluster

__all__ = ["DataSource", "KsqlEngine", "KsqlResult", "PersistentQuery", "PushQuery", "format_table"]

SERVICE_ID = "default_"
DEFAULT_PROPS = {"auto.offset.reset": "latest", "processing.guarantee": "at_least_once"}
_PROP_ALIASES = {
    "ksql.streams.auto.offset.reset": "auto.offset.reset",
    "ksql.streams.processing.guarantee": "processing.guarantee",
}
_WITH_PROPS = {"KAFKA_TOPIC", "VALUE_FORMAT", "KEY_FORMAT", "FORMAT", "PARTITIONS", "REPLICAS", "TIMESTAMP"}
_AGG_STORE = "Aggregate-Aggregate-Materialize"


# -- output helpers -----------------------------------------------------------------------------------------------
def format_table(headers: list[str], rows: list[list[str]], footer: str = "", width: int = 100) -> list[str]:
    """ksqlDB CLI's ``Table``: `` col | col `` rows between dashed lines."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    sep = "-" * min(width, sum(w + 3 for w in widths) - 1)

    def fmt(cells: list[str]) -> str:
        return " " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " "

    out = [fmt(headers), sep] + [fmt(r) for r in rows] + [sep]
    if footer:
        out.append(footer)
    return out


def format_rows_header(columns: list[str], width: int = 100) -> list[str]:
    """ksqlDB CLI's ``TabularRow`` header: ``+----+----+`` / ``|COL |COL |`` / ``+----+----+``."""
    cell = _cell_width(columns, width)
    line = "+" + "+".join("-" * cell for _ in columns) + "+"
    return [line, "|" + "|".join(_cell(c, cell) for c in columns) + "|", line]


def format_row(values: list[Any], ncols: int, width: int = 100) -> str:
    cell = max(width // max(ncols, 1) - 2, 5)
    return "|" + "|".join(_cell(_show(v), cell) for v in values) + "|"


def _cell_width(columns: list[str], width: int) -> int:
    return max(width // max(len(columns), 1) - 2, 5)


def _cell(s: str, w: int) -> str:
    return s[: w - 3] + "..." if len(s) > w else s.ljust(w)


def _show(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _message(msg: str) -> list[str]:
    return format_table(["Message"], [[line] for line in msg.split("\n")])


# -- metadata -----------------------------------------------------------------------------------------------------
@dataclass
class DataSource:
    name: str
    kind: str  # STREAM | TABLE
    topic: str
    key_cols: list[tuple[str, str]]
    value_cols: list[tuple[str, str]]
    statement: str
    window: WindowSpec | None = None
    key_format: str = "KAFKA"
    value_format: str = "JSON"
    timestamp_col: str | None = None
    writer: str | None = None
    #: sources created from this one (they must be dropped first)
    readers: set[str] = field(default_factory=set)
    #: CREATE TABLE on a topic (not materialized, so not pull-queryable)
    source_table: bool = False

    def schema(self) -> dict[str, str]:
        out = dict(self.key_cols)
        if self.window is not None:
            out.update(WINDOW_COLUMNS)
        out.update(self.value_cols)
        out.update(PSEUDO_COLUMNS)
        return out

    def columns(self) -> list[tuple[str, str]]:
        return self.key_cols + ([] if self.window is None else list(WINDOW_COLUMNS.items())) + self.value_cols

    def key_serde(self) -> Any:
        inner = key_serde(self.key_cols[0][1]) if self.key_cols else Serdes.ByteArray()
        if self.window is not None:
            return WindowedSerde(inner, self.window.size_ms)
        return inner


@dataclass
class PersistentQuery:
    id: str
    sink: str
    statement: str
    streams: KafkaStreams
    #: (key, aggregate state or row) -> the table row, for pull queries; None if not materialized
    materialize: Callable[[Any, Any], dict[str, Any] | None] | None = None
    store: str | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        s = self.streams.state
        return "RUNNING" if s in ("RUNNING", "REBALANCING") else s


class PushQuery:
    """A running ``SELECT ... EMIT CHANGES``: rows go to ``on_row`` as they are produced."""

    def __init__(self, qid: str, columns: list[str], limit: int | None, statement: str) -> None:
        self.id = qid
        self.columns = columns
        self.limit = limit
        self.statement = statement
        self.rows: list[list[Any]] = []
        self.done = False
        self.streams: KafkaStreams | None = None
        self.on_row: Callable[[list[Any]], None] | None = None
        self.on_done: Callable[[str], None] | None = None

    def emit(self, values: list[Any]) -> None:
        if self.done:
            return
        self.rows.append(values)
        if self.on_row is not None:
            self.on_row(values)
        if self.limit is not None and len(self.rows) >= self.limit:
            self.stop("Limit Reached")

    def stop(self, why: str = "") -> None:
        if self.done:
            return
        self.done = True
        if self.streams is not None:
            self.streams.close()
        if self.on_done is not None:
            self.on_done(why)


@dataclass
class KsqlResult:
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    push: PushQuery | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _RowBuilder(Processor):
    """Source records -> ksqlDB rows: value columns, key column(s), ROWTIME (and window bounds)."""

    def __init__(self, src: DataSource) -> None:
        self.key_name = src.key_cols[0][0] if src.key_cols else None
        self.windowed = src.window is not None
        self.ts_col = src.timestamp_col

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        if value is None:
            return
        row = dict(value)
        if self.windowed and key is not None:
            row["WINDOWSTART"], row["WINDOWEND"] = key.window.start_ms, key.window.end_ms
            k = key.key
        else:
            k = key
        if self.key_name is not None:
            row[self.key_name] = k
        if self.ts_col is not None:
            ts = row.get(self.ts_col)
            if not isinstance(ts, int) or ts < 0:
                self.ctx.dropped(f"the TIMESTAMP column {self.ts_col} is not a valid timestamp: {ts!r}")
                return
            timestamp = ts
        row["ROWTIME"] = timestamp
        self.ctx.forward(key, row, timestamp)


class _Emit(Processor):
    def __init__(self, fn: Callable[[Any, Any, int], None]) -> None:
        self.fn = fn

    def process(self, key: Any, value: Any, timestamp: int) -> None:
        self.fn(key, value, timestamp)


# -- the engine ---------------------------------------------------------------------------------------------------
class KsqlEngine:
    """One ksqlDB server (``ksql.service.id = default_``) on a cluster."""

    def __init__(self, cluster: Cluster, *, width: int = 100) -> None:
        self.cluster = cluster
        self.width = width
        self.sources: dict[str, DataSource] = {}
        self.queries: dict[str, PersistentQuery] = {}
        self.push_queries: dict[str, PushQuery] = {}
        self.props: dict[str, str] = {}
        self._seq = 0
        self._transient_seq = 0

    # -- entry point -------------------------------------------------------------------------------------------
    def execute(self, text: str) -> KsqlResult:
        try:
            stmt = parse(text)
        except KsqlSyntaxError as e:
            return KsqlResult(error=str(e))
        try:
            return self._run(stmt)
        except KsqlError as e:
            return KsqlResult(error=str(e))
        except KafkaException as e:
            return KsqlResult(error=f"{e.error.name()}: {e.error.str()}")

    def _run(self, stmt: Any) -> KsqlResult:
        if isinstance(stmt, CreateSource):
            return self._create_source(stmt)
        if isinstance(stmt, CreateAsSelect):
            return self._create_as(stmt)
        if isinstance(stmt, Query):
            return self._pull(stmt) if not stmt.emit_changes else self._push(stmt)
        if isinstance(stmt, Show):
            return self._show(stmt.what)
        if isinstance(stmt, Describe):
            return self._describe(stmt)
        if isinstance(stmt, Drop):
            return self._drop(stmt)
        if isinstance(stmt, Terminate):
            return self._terminate(stmt.query_id)
        if isinstance(stmt, SetProp):
            name = _PROP_ALIASES.get(stmt.name, stmt.name)
            if name not in DEFAULT_PROPS:
                raise KsqlError(
                    f"Not recognizable as ksql, streams, consumer, or producer property: '{stmt.name}'"
                )
            if name == "auto.offset.reset" and stmt.value.lower() not in ("earliest", "latest"):
                raise KsqlError(
                    f"Invalid value {stmt.value} for configuration auto.offset.reset: "
                    "String must be one of: earliest, latest"
                )
            if name == "processing.guarantee" and stmt.value not in ("at_least_once", "exactly_once_v2"):
                raise KsqlError(
                    f"Invalid value {stmt.value} for configuration processing.guarantee: "
                    "String must be one of: at_least_once, exactly_once_v2"
                )
            self.props[name] = stmt.value.lower() if name == "auto.offset.reset" else stmt.value
            return KsqlResult([f"Successfully changed local property '{stmt.name}' to '{stmt.value}'."])
        if isinstance(stmt, UnsetProp):
            name = _PROP_ALIASES.get(stmt.name, stmt.name)
            old = self.props.pop(name, None)
            if old is None:
                return KsqlResult([f"Successfully unset local property '{stmt.name}'."])
            return KsqlResult([f"Successfully unset local property '{stmt.name}' (value was '{old}')."])
        raise KsqlError(f"unsupported statement {type(stmt).__name__}")

    def prop(self, name: str) -> str:
        return self.props.get(name, DEFAULT_PROPS[name])

    def _source(self, name: str, clause_hint: str = "") -> DataSource:
        src = self.sources.get(name)
        if src is None:
            raise KsqlError(f"{name} does not exist.{self._alternatives(name)}")
        return src

    def _alternatives(self, name: str) -> str:
        matches = sorted(s for s in self.sources if s.lower() == name.lower() and s != name)
        if not matches:
            return ""
        return (
            "\nDid you mean "
            + " or ".join(f"{self.sources[m].kind} {m}" for m in matches)
            + "? Hint: try removing double quotes from the source name."
        )

    # -- DDL ---------------------------------------------------------------------------------------------------
    def _check_with(self, props: dict[str, Any]) -> None:
        unknown = sorted(k for k in props if k not in _WITH_PROPS)
        if unknown:
            raise KsqlError("Invalid config variable(s) in the WITH clause: " + ",".join(unknown))
        for k in ("VALUE_FORMAT", "KEY_FORMAT", "FORMAT"):
            if k in props:
                fmt = str(props[k]).upper()
                if fmt not in ("JSON", "KAFKA"):
                    raise KsqlError(f"Unknown format: {props[k]}")
                if k == "VALUE_FORMAT" and fmt != "JSON":
                    raise KsqlError(f"this lab supports VALUE_FORMAT='JSON' only (got '{props[k]}')")
        for k in ("PARTITIONS", "REPLICAS"):
            if k in props and (not isinstance(props[k], int) or props[k] < 1):
                raise KsqlError(f"Invalid value {props[k]} for property {k}: must be a positive integer")

    def _topic_partitions(self, topic: str) -> int | None:
        try:
            return len(self.cluster.describe_topic(topic))
        except KafkaException:
            return None

    def _create_topic(
        self, topic: str, partitions: int, replicas: int, config: dict[str, str] | None = None
    ) -> None:
        try:
            self.cluster.create_topic(
                topic, partitions=partitions, replication_factor=replicas, config=config or {}
            )
        except KafkaException as e:
            raise KsqlError(f"Could not create topic '{topic}': {e.error.str()}") from None

    def _exists_error(self, stmt: CreateSource | CreateAsSelect) -> KsqlResult | None:
        old = self.sources.get(stmt.name)
        if old is None:
            return None
        if stmt.if_not_exists:
            return KsqlResult(
                _message(
                    f"Cannot add {stmt.kind.lower()} {stmt.name}: A {old.kind.lower()} with the same name already exists."
                )
            )
        raise KsqlError(
            f"Cannot add {stmt.kind.lower()} '{stmt.name}': A {old.kind.lower()} with the same name already exists"
        )

    def _create_source(self, stmt: CreateSource) -> KsqlResult:
        done = self._exists_error(stmt)
        if done is not None:
            return done
        props = stmt.props
        self._check_with(props)
        if "KAFKA_TOPIC" not in props:
            raise KsqlError('Missing required configuration "KAFKA_TOPIC" which has no default value.')
        if "VALUE_FORMAT" not in props and "FORMAT" not in props:
            raise KsqlError(
                "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or "
                "set a default via the 'ksql.persistence.default.format.value' config."
            )
        topic = str(props["KAFKA_TOPIC"])
        key_cols, value_cols = [], []
        seen: set[str] = set()
        for name, typ, key in stmt.columns:
            if name in seen:
                raise KsqlError(f"Duplicate column names: {name}")
            if name in ("ROWTIME", "WINDOWSTART", "WINDOWEND", "ROWPARTITION", "ROWOFFSET"):
                raise KsqlError(
                    f"'{name}' is a reserved column name. You cannot use it as a name for a column."
                )
            seen.add(name)
            t = normalize_type(typ)
            if stmt.kind == "STREAM" and key == "PRIMARY KEY":
                raise KsqlError(
                    f"Line: 1, Col: 1: Column `{name}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\n"
                    "Tables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no "
                    "uniqueness or NON NULL constraints."
                )
            if stmt.kind == "TABLE" and key == "KEY":
                raise KsqlError(
                    f"Line: 1, Col: 1: Column `{name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\n"
                    "Tables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no "
                    "uniqueness or NON NULL constraints."
                )
            (key_cols if key else value_cols).append((name, t))
        if len(key_cols) > 1:
            raise KsqlError("this lab supports one key column (a KAFKA-format key)")
        if stmt.kind == "TABLE" and not key_cols:
            raise KsqlError(
                "Tables require a PRIMARY KEY. Please define the PRIMARY KEY.\n"
                "Use a partial schema to define the primary key and still load the value columns from the Schema "
                "Registry, for example:\n   CREATE TABLE " + stmt.name + " (ID INT PRIMARY KEY) WITH (...);"
            )
        if not value_cols:
            raise KsqlError("The statement does not define any columns.")
        ts_col = props.get("TIMESTAMP")
        if ts_col is not None and str(ts_col).upper() not in dict(value_cols):
            raise KsqlError(
                f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{str(ts_col).upper()}'"
            )
        if self._topic_partitions(topic) is None:
            if "PARTITIONS" not in props:
                example = stmt.text.rstrip(";")
                example = example[: example.upper().rfind(")")] + ", PARTITIONS=2);"
                raise KsqlError(
                    f"Topic '{topic}' does not exist. If you want to create a new topic for the stream/table please "
                    "re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and "
                    f"optionally 'REPLICAS'). For example: {example}"
                )
            self._create_topic(topic, int(props["PARTITIONS"]), int(props.get("REPLICAS", 1)))
        src = DataSource(
            stmt.name,
            stmt.kind,
            topic,
            key_cols,
            value_cols,
            stmt.text,
            timestamp_col=str(ts_col).upper() if ts_col else None,
            source_table=stmt.kind == "TABLE",
        )
        self.sources[stmt.name] = src
        self._seq += 1
        return KsqlResult(_message("Stream created" if stmt.kind == "STREAM" else "Table created"))

    def _drop(self, stmt: Drop) -> KsqlResult:
        src = self.sources.get(stmt.name)
        if src is None:
            if stmt.if_exists:
                return KsqlResult(_message(f"Source `{stmt.name}` does not exist."))
            raise KsqlError(
                f"{stmt.kind.capitalize()} {stmt.name} does not exist.{self._alternatives(stmt.name)}"
            )
        if src.kind != stmt.kind:
            raise KsqlError(
                f"Incompatible data source type is {src.kind.lower()}, but statement was DROP {stmt.kind}"
            )
        readers = sorted(r for r in src.readers if r in self.sources)
        if readers:
            raise KsqlError(
                f"Cannot drop {stmt.name}.\nThe following streams and/or tables read from this source: "
                f"[{', '.join(readers)}].\nYou need to drop them before dropping {stmt.name}."
            )
        if src.writer is not None and src.writer in self.queries:
            self._stop_query(src.writer)
        for other in self.sources.values():
            other.readers.discard(stmt.name)
        del self.sources[stmt.name]
        if stmt.delete_topic:
            try:
                self.cluster.delete_topic(src.topic)
            except KafkaException as e:
                raise KsqlError(
                    f"Could not delete the corresponding kafka topic: {src.topic}: {e.error.str()}"
                ) from None
        self._seq += 1
        return KsqlResult(_message(f"Source `{stmt.name}` (topic: {src.topic}) was dropped."))

    def _stop_query(self, qid: str) -> None:
        q = self.queries.pop(qid)
        q.streams.close()
        sink = self.sources.get(q.sink)
        if sink is not None and sink.writer == qid:
            sink.writer = None

    def _terminate(self, qid: str) -> KsqlResult:
        if qid == "ALL":
            for q in list(self.queries):
                self._stop_query(q)
            for p in list(self.push_queries.values()):
                p.stop("terminated")
            return KsqlResult(_message("Query terminated."))
        if qid in self.push_queries:
            self.push_queries.pop(qid).stop("terminated")
            return KsqlResult(_message("Query terminated."))
        if qid not in self.queries:
            raise KsqlError(f"Unknown queryId: {qid}")
        self._stop_query(qid)
        return KsqlResult(_message("Query terminated."))

    # -- SHOW / DESCRIBE ----------------------------------------------------------------------------------------
    def _show(self, what: str) -> KsqlResult:
        if what in ("STREAMS", "TABLES"):
            kind = what[:-1]
            rows = [
                [s.name, s.topic, s.key_format, s.value_format, "true" if s.window else "false"]
                for s in sorted(self.sources.values(), key=lambda x: x.name)
                if s.kind == kind
            ]
            head = "Stream Name" if kind == "STREAM" else "Table Name"
            return KsqlResult(
                format_table([head, "Kafka Topic", "Key Format", "Value Format", "Windowed"], rows)
            )
        if what == "QUERIES":
            rows = []
            for q in sorted(self.queries.values(), key=lambda x: x.id):
                sink = self.sources.get(q.sink)
                rows.append(
                    [q.id, "PERSISTENT", f"{q.state}:1", q.sink, sink.topic if sink else "", q.statement]
                )
            for p in sorted(self.push_queries.values(), key=lambda x: x.id):
                if not p.done:
                    rows.append([p.id, "PUSH", "RUNNING:1", "", "", p.statement])
            return KsqlResult(
                format_table(
                    ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"],
                    rows,
                    "For detailed information on a Query run: EXPLAIN <Query ID>;",
                )
            )
        if what == "TOPICS":
            rows = []
            for t in self.cluster.topics():
                if t.startswith("_"):
                    continue
                info = self.cluster.describe_topic(t)
                rows.append([t, str(len(info)), str(len(info[0].replicas) if info else 0)])
            return KsqlResult(format_table(["Kafka Topic", "Partitions", "Partition Replicas"], rows))
        rows = [
            [f"ksql.streams.{k}", "KSQL", "SESSION" if k in self.props else "SERVER", "", self.prop(k)]
            for k in sorted(DEFAULT_PROPS)
        ]
        return KsqlResult(
            format_table(["Property", "Scope", "Level", "Default override", "Effective Value"], rows)
        )

    def _describe(self, stmt: Describe) -> KsqlResult:
        src = self._source(stmt.name)
        lines = [f"{'Name':<20} : {src.name}"]
        if stmt.extended:
            info = self.cluster.describe_topic(src.topic) if self._topic_partitions(src.topic) else []
            lines += [
                f"{'Type':<20} : {src.kind}",
                f"{'Timestamp field':<20} : {src.timestamp_col or 'Not set - using <ROWTIME>'}",
                f"{'Key format':<20} : {src.key_format}",
                f"{'Value format':<20} : {src.value_format}",
                f"{'Kafka topic':<20} : {src.topic} (partitions: {len(info)}, replication: "
                f"{len(info[0].replicas) if info else 0})",
                f"{'Statement':<20} : {src.statement}",
                "",
            ]
        rows = []
        window = f" (Window type: {src.window.kind})" if src.window else ""
        for n, t in src.key_cols:
            kt = "(primary key)" if src.kind == "TABLE" else "(key)"
            rows.append([n, f"{type_text(t):<16} {kt}{window}"])
        for n, t in src.value_cols:
            rows.append([n, type_text(t)])
        lines += format_table(["Field", "Type"], rows)
        if not stmt.extended:
            lines.append("For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;")
            return KsqlResult(lines)
        lines += ["", f"Queries that write from this {src.kind}", "-" * 36]
        if src.writer and src.writer in self.queries:
            q = self.queries[src.writer]
            lines.append(f"{q.id} ({q.state}) : {q.statement}")
        lines += ["", "For query topology and execution plan please run: EXPLAIN <QueryId>"]
        return KsqlResult(lines)

    # -- planning queries onto Kafka Streams ----------------------------------------------------------------------
    def _plan(self, q: Query, app_id: str, sink_name: str | None) -> _Plan:
        src = self._source(q.source)
        plan = _Plan(src)
        b = StreamsBuilder(default_key_serde=src.key_serde(), default_value_serde=Serdes.Json())
        plan.builder = b
        row_serde = RowSerde(src.value_cols)
        schema = src.schema()
        if src.kind == "TABLE":
            table = b.table(
                src.topic,
                Consumed.with_(src.key_serde(), row_serde),
                Materialized.as_(f"KsqlTopic-{src.name}-Reduce")
                .with_key_serde(src.key_serde())
                .with_value_serde(row_serde),
            )
            stream = table.to_stream()
        else:
            stream = b.stream(src.topic, Consumed.with_(src.key_serde(), row_serde))
        stream = stream.process_values(
            lambda: _RowBuilder(src), b.new_processor_name("KSTREAM-TRANSFORMVALUES-")
        )
        if q.where is not None:
            if contains_aggregate(q.where):
                raise KsqlError("WHERE clause can not contain aggregate functions.")
            pred, _t = compile_expr(q.where, schema, clause="WHERE")
            stream = stream.filter(lambda _k, row: pred(row) is True, "WhereFilter")
        aggregating = bool(q.group_by) or any(
            it is not None and contains_aggregate(it.expr) for it in q.items
        )
        if q.window is not None and not q.group_by:
            raise KsqlError("WINDOW clause requires a GROUP BY clause.")
        if aggregating:
            self._plan_aggregate(plan, q, stream, schema, src, sink_name)
        else:
            self._plan_project(plan, q, stream, schema, src)
        return plan

    def _select_items(self, q: Query, src: DataSource) -> list[SelectItem]:
        items: list[SelectItem] = []
        for it in q.items:
            if it is None:
                items.extend(SelectItem(Column(n), None) for n, _t in src.columns())
            else:
                items.append(it)
        return items

    @staticmethod
    def _names(items: list[SelectItem]) -> list[str]:
        names, gen = [], 0
        for it in items:
            if it.alias:
                names.append(it.alias)
            elif isinstance(it.expr, Column):
                names.append(it.expr.name)
            else:
                names.append(f"KSQL_COL_{gen}")
                gen += 1
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise KsqlError(f"Duplicate value columns found in schema: `{dup}`")
        return names

    def _plan_project(
        self, plan: _Plan, q: Query, stream: Any, schema: dict[str, str], src: DataSource
    ) -> None:
        items = self._select_items(q, src)
        names = self._names(items)
        fns = []
        types = []
        for it in items:
            f, t = compile_expr(it.expr, schema, clause="SELECT")
            fns.append(f)
            types.append(t)
        key_names = {n for n, _t in src.key_cols}
        plan.columns = names
        plan.key_cols = [
            (n, t)
            for n, t, it in zip(names, types, items, strict=True)
            if isinstance(it.expr, Column) and it.expr.name in key_names
        ][:1]
        plan.value_cols = [(n, t) for n, t in zip(names, types, strict=True) if (n, t) not in plan.key_cols]
        plan.window = src.window

        def project(row: dict[str, Any]) -> list[Any]:
            return [f(row) for f in fns]

        plan.project = project
        plan.stream = stream.map_values(lambda row: project(row), "Project")
        plan.kind = src.kind

    def _plan_aggregate(
        self,
        plan: _Plan,
        q: Query,
        stream: Any,
        schema: dict[str, str],
        src: DataSource,
        sink_name: str | None,
    ) -> None:
        if src.kind == "TABLE":
            raise KsqlError("this lab aggregates streams only (GROUP BY on a TABLE is not supported)")
        if not q.group_by:
            first = next(it.expr for it in q.items if it is not None and contains_aggregate(it.expr))
            raise KsqlError(f"Use of aggregate function {_first_agg(first).name} requires a GROUP BY clause.")
        if len(q.group_by) > 1:
            raise KsqlError("this lab supports GROUP BY on one expression (a KAFKA-format key)")
        group = q.group_by[0]
        if contains_aggregate(group):
            raise KsqlError(
                "GROUP BY does not support aggregate functions: "
                + expr_text(group)
                + " is an aggregate function."
            )
        key_fn, key_type = compile_expr(group, schema, clause="GROUP BY")
        items = self._select_items(q, src)
        names = self._names(items)
        # aggregate calls, in order of appearance
        aggs: list[Func] = []

        def collect(e: Any) -> None:
            if is_aggregate(e):
                if e not in aggs:
                    aggs.append(e)
                for a in e.args:
                    if contains_aggregate(a):
                        raise KsqlError(f"Aggregate functions can not be nested: {expr_text(e)}")
            elif isinstance(e, BinOp):
                collect(e.left)
                collect(e.right)
            elif isinstance(e, UnaryOp):
                collect(e.operand)
            elif isinstance(e, Func):
                for a in e.args:
                    collect(a)

        for it in items:
            collect(it.expr)
        if q.having is not None:
            collect(q.having)
        if not aggs:
            raise KsqlError("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
        impls = []
        agg_types: dict[Any, str] = {}
        for a in aggs:
            if len(a.args) > 1:
                raise KsqlError(f"Function '{a.name}' does not accept parameters ({len(a.args)} given)")
            arg_fn, arg_t = (
                compile_expr(a.args[0], schema, clause="SELECT") if a.args else ((lambda _r: 1), None)
            )
            init, add, result, rt = aggregate_impl(a, arg_t)
            impls.append((arg_fn, init, add, result))
            agg_types[a] = rt
        index = {a: i for i, a in enumerate(aggs)}
        # non-aggregate select expressions must be the GROUP BY expression (or window bounds)
        key_name: str | None = None
        bad = []
        for it, n in zip(items, names, strict=True):
            if contains_aggregate(it.expr):
                continue
            if it.expr == group:
                key_name = n
            elif isinstance(it.expr, Column) and it.expr.name in WINDOW_COLUMNS and q.window is not None:
                continue
            else:
                bad.append(expr_text(it.expr))
        if bad:
            raise KsqlError(
                f"Non-aggregate SELECT expression(s) not part of GROUP BY: {', '.join(bad)}\n"
                "Either add the column(s) to the GROUP BY or remove them from the SELECT."
            )
        if key_name is None and sink_name is not None:
            raise KsqlError(
                "Key missing from projection (ie, SELECT).\nThe query used to build `"
                f"{sink_name}` must include the grouping expression {expr_text(group)} in its projection "
                f"(eg, SELECT {expr_text(group)}...)."
            )
        key_col = key_name or (group.name if isinstance(group, Column) else "KSQL_COL_0")
        out_schema = {key_col: key_type, **(WINDOW_COLUMNS if q.window else {})}
        agg_schema = dict(out_schema)
        if isinstance(group, Column):
            agg_schema[group.name] = key_type
        item_fns = []
        types = []
        for it in items:
            if it.expr == group:
                item_fns.append(lambda row, kc=key_col: row[kc])
                types.append(key_type)
                continue
            f, t = compile_expr(it.expr, agg_schema, clause="SELECT", aggregates=index, agg_types=agg_types)
            item_fns.append(f)
            types.append(t)
        having = None
        if q.having is not None:
            having, _ht = compile_expr(
                q.having, agg_schema, clause="HAVING", aggregates=index, agg_types=agg_types
            )

        def agg_row(key: Any, state: list[Any]) -> dict[str, Any]:
            row: dict[str, Any] = {"$AGG": [impls[i][3](s) for i, s in enumerate(state)]}
            k = key
            if q.window is not None and key is not None:
                row["WINDOWSTART"], row["WINDOWEND"] = key.window.start_ms, key.window.end_ms
                k = key.key
            row[key_col] = k
            if isinstance(group, Column):
                row[group.name] = k
            return row

        def materialize(key: Any, state: list[Any] | None) -> dict[str, Any] | None:
            if state is None:
                return None
            row = agg_row(key, state)
            if having is not None and having(row) is not True:
                return None
            return {n: f(row) for n, f in zip(names, item_fns, strict=True)}

        def initializer() -> list[Any]:
            return [impl[1]() for impl in impls]

        def aggregator(_key: Any, row: dict[str, Any], state: list[Any]) -> list[Any]:
            return [impl[2](s, impl[0](row)) for impl, s in zip(impls, state, strict=True)]

        b = plan.builder
        kser = key_serde(key_type)
        if (
            isinstance(group, Column)
            and src.key_cols
            and group.name == src.key_cols[0][0]
            and src.window is None
        ):
            grouped = stream.group_by_key(Grouped(kser, Serdes.Json(), "Aggregate-GroupBy"))
        else:
            grouped = stream.group_by(
                lambda _k, row: key_fn(row), Grouped(kser, Serdes.Json(), "Aggregate-GroupBy")
            )
        mat = Materialized.as_(_AGG_STORE).with_key_serde(kser).with_value_serde(Serdes.Json())
        if q.window is not None:
            w = q.window
            grace = w.grace_ms if w.grace_ms is not None else max(0, 86_400_000 - w.size_ms)
            windows = TimeWindows.of_size_and_grace(w.size_ms, grace)
            if w.kind == "HOPPING":
                windows = windows.advance_by(w.advance_ms)
            table = grouped.windowed_by(windows).aggregate(
                initializer, aggregator, mat, "Aggregate-Aggregate"
            )
        else:
            table = grouped.aggregate(initializer, aggregator, mat, "Aggregate-Aggregate")
        del b
        out = table.map_values(lambda k, state: materialize(k, state), "Aggregate-Project")
        plan.stream = out.to_stream().map_values(
            lambda row: None if row is None else [row[n] for n in names], "Aggregate-ToOutput"
        )
        plan.columns = names
        plan.key_cols = [(key_col, key_type)]
        plan.value_cols = [(n, t) for n, t in zip(names, types, strict=True) if n != key_col]
        plan.window = q.window
        plan.materialize = materialize
        plan.store = _AGG_STORE
        plan.kind = "TABLE"

    # -- CREATE ... AS SELECT -----------------------------------------------------------------------------------------
    def _create_as(self, stmt: CreateAsSelect) -> KsqlResult:
        done = self._exists_error(stmt)
        if done is not None:
            return done
        self._check_with(stmt.props)
        q = stmt.query
        if q.limit is not None:
            raise KsqlError("CREATE ... AS SELECT statements don't support LIMIT clause.")
        prefix = "CTAS_" if stmt.kind == "TABLE" else "CSAS_"
        qid = f"{prefix}{stmt.name}_{self._seq + 1}"
        app_id = f"_confluent-ksql-{SERVICE_ID}query_{qid}"
        plan = self._plan(q, app_id, stmt.name)
        if stmt.kind == "TABLE" and plan.kind != "TABLE":
            raise KsqlError(
                "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead."
            )
        if stmt.kind == "STREAM" and plan.kind == "TABLE":
            raise KsqlError(
                "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead."
            )
        src = plan.source
        topic = str(stmt.props.get("KAFKA_TOPIC", stmt.name))
        parts = int(stmt.props.get("PARTITIONS", self._topic_partitions(src.topic) or 1))
        src_info = self.cluster.describe_topic(src.topic)
        replicas = int(stmt.props.get("REPLICAS", len(src_info[0].replicas) if src_info else 1))
        if self._topic_partitions(topic) is None:
            cfg = {"cleanup.policy": "compact"} if stmt.kind == "TABLE" and plan.window is None else {}
            self._create_topic(topic, parts, replicas, cfg)
        sink = DataSource(
            stmt.name,
            stmt.kind,
            topic,
            plan.key_cols,
            plan.value_cols,
            stmt.text,
            window=plan.window,
            writer=qid,
        )
        names = plan.columns
        value_names = [n for n, _t in plan.value_cols]
        key_name = plan.key_cols[0][0] if plan.key_cols else None
        out_serde = RowSerde(plan.value_cols)

        def to_value(values: list[Any] | None) -> dict[str, Any] | None:
            if values is None:
                return None
            row = dict(zip(names, values, strict=True))
            return {n: row[n] for n in value_names}

        key_out = sink.key_serde()
        stream = plan.stream.map_values(to_value, "Sink-Project")
        if plan.kind == "STREAM" and key_name is None and src.key_cols:
            stream = stream.select_key(lambda _k, _v: None, "Sink-DropKey")
        stream.to(
            topic, Produced.with_(key_out if key_name or plan.window else Serdes.ByteArray(), out_serde)
        )
        streams = KafkaStreams(
            plan.builder.build(),
            {
                "application.id": app_id,
                "client.id": f"ksql-{qid}",
                "auto.offset.reset": self.prop("auto.offset.reset"),
                "processing.guarantee": self.prop("processing.guarantee"),
                "default.deserialization.exception.handler": "LogAndContinueExceptionHandler",
            },
            self.cluster,
        )
        streams.start()
        self._seq += 1
        self.queries[qid] = PersistentQuery(
            qid, stmt.name, stmt.text, streams, plan.materialize, plan.store, [src.name]
        )
        self.sources[stmt.name] = sink
        src.readers.add(stmt.name)
        return KsqlResult(_message(f"Created query with ID {qid}"))

    # -- push queries -------------------------------------------------------------------------------------------
    def _push(self, q: Query) -> KsqlResult:
        self._transient_seq += 1
        src = self._source(q.source)
        qid = f"transient_{src.name}_{self._transient_seq}"
        app_id = f"_confluent-ksql-{SERVICE_ID}transient_{qid}_{self.cluster.now_ms}"
        plan = self._plan(q, app_id, None)
        push = PushQuery(qid, plan.columns, q.limit, q.text)

        def emit(_key: Any, values: Any, _ts: int) -> None:
            if values is not None:
                push.emit(list(values))

        plan.stream.process_values(lambda: _Emit(emit), "Emit")
        streams = KafkaStreams(
            plan.builder.build(),
            {
                "application.id": app_id,
                "client.id": f"ksql-{qid}",
                "auto.offset.reset": self.prop("auto.offset.reset"),
                "default.deserialization.exception.handler": "LogAndContinueExceptionHandler",
            },
            self.cluster,
        )
        push.streams = streams
        streams.start()
        self.push_queries[qid] = push
        return KsqlResult(format_rows_header(plan.columns, self.width), push=push)

    # -- pull queries -------------------------------------------------------------------------------------------
    def _pull(self, q: Query) -> KsqlResult:
        src = self._source(q.source)
        if q.window is not None:
            raise KsqlError("Pull queries don't support WINDOW clauses.")
        if q.group_by:
            raise KsqlError("Pull queries don't support GROUP BY clauses.")
        if q.having is not None:
            raise KsqlError("Pull queries don't support HAVING clauses.")
        if q.limit is not None and q.limit < 0:
            raise KsqlError("Pull queries don't support negative integers in the LIMIT clause.")
        schema = src.schema()
        items = self._select_items(q, src)
        for it in items:
            if contains_aggregate(it.expr):
                raise KsqlError(
                    f"Use of aggregate function {_first_agg(it.expr).name} requires a GROUP BY clause."
                )
        names = self._names(items)
        fns = [compile_expr(it.expr, schema, clause="SELECT")[0] for it in items]
        pred = compile_expr(q.where, schema, clause="WHERE")[0] if q.where is not None else None
        rows = self._table_rows(src) if src.kind == "TABLE" else self._stream_rows(src)
        out: list[list[Any]] = []
        for row in rows:
            if pred is not None and pred(row) is not True:
                continue
            out.append([f(row) for f in fns])
            if q.limit is not None and len(out) >= q.limit:
                break
        lines = format_rows_header(names, self.width) + [format_row(r, len(names), self.width) for r in out]
        lines.append("Query terminated")
        return KsqlResult(lines)

    def _table_rows(self, src: DataSource) -> list[dict[str, Any]]:
        q = self.queries.get(src.writer or "")
        if q is None or q.store is None or q.materialize is None:
            raise KsqlError(
                f"The `{src.name}` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE "
                f"QUERYABLE_{src.name} AS SELECT * FROM {src.name}'. See https://cnfl.io/queries for more info.\n"
                "Add EMIT CHANGES if you intended to issue a push query."
            )
        if q.streams.state not in ("RUNNING", "REBALANCING"):
            raise KsqlError(f"Materializing query {q.id} is not running (state {q.streams.state})")
        rows = []
        for key, state in q.streams.store(q.store).all():
            r = q.materialize(key, state)
            if r is None:
                continue
            row = dict(r)
            if src.window is not None:
                row["WINDOWSTART"], row["WINDOWEND"] = key.window.start_ms, key.window.end_ms
            rows.append(row)
        kc = src.key_cols[0][0] if src.key_cols else None
        rows.sort(key=lambda r: (str(r.get(kc)), r.get("WINDOWSTART", 0)))
        return rows

    def _stream_rows(self, src: DataSource) -> list[dict[str, Any]]:
        """A pull query on a stream: every record from the start of the topic to its end now."""
        if self.cluster.kernel.running:
            raise KsqlError("a pull query on a stream cannot run inside a simulation event")
        c = self.cluster.consumer({"client.id": "ksql-pull", "enable.auto.commit": False})
        try:
            parts = self.cluster.describe_topic(src.topic)
            ends = {}
            for p in parts:
                ends[p.partition] = c.get_watermark_offsets(
                    TopicPartition(src.topic, p.partition), timeout=10
                )[1]
            c.assign([TopicPartition(src.topic, p.partition, OFFSET_BEGINNING) for p in parts])
            serde = RowSerde(src.value_cols)
            kser = src.key_serde()
            rows: list[tuple[int, int, dict[str, Any]]] = []
            done: set[int] = {p for p, e in ends.items() if e <= 0}
            deadline = self.cluster.now_ms + 30_000
            while len(done) < len(ends) and self.cluster.now_ms < deadline:
                for m in c.consume(1000, timeout=0.5):
                    if m.error() is not None or m.offset() >= ends[m.partition()]:
                        continue
                    try:
                        value = serde.deserialize(m.value())
                        key = kser.deserialize(m.key())
                    except Exception:
                        continue
                    if value is not None:
                        row = dict(value)
                        if src.key_cols:
                            row[src.key_cols[0][0]] = key
                        row["ROWTIME"] = m.timestamp()[1]
                        rows.append((m.partition(), m.offset(), row))
                    if m.offset() + 1 >= ends[m.partition()]:
                        done.add(m.partition())
            return [r for _p, _o, r in sorted(rows, key=lambda x: (x[2]["ROWTIME"], x[0], x[1]))]
        finally:
            c.close()


@dataclass
class _Plan:
    source: DataSource
    builder: Any = None
    stream: Any = None
    columns: list[str] = field(default_factory=list)
    key_cols: list[tuple[str, str]] = field(default_factory=list)
    value_cols: list[tuple[str, str]] = field(default_factory=list)
    window: WindowSpec | None = None
    project: Callable[[dict[str, Any]], list[Any]] | None = None
    materialize: Callable[[Any, Any], dict[str, Any] | None] | None = None
    store: str | None = None
    kind: str = "STREAM"


def _first_agg(e: Any) -> Func:
    if is_aggregate(e):
        return e  # type: ignore[no-any-return]
    for child in (
        getattr(e, "left", None),
        getattr(e, "right", None),
        getattr(e, "operand", None),
        *getattr(e, "args", ()),
    ):
        if child is not None and contains_aggregate(child):
            return _first_agg(child)
    raise KsqlError("no aggregate")
