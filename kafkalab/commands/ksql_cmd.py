"""ksqlDB statements typed straight into the console (``CREATE STREAM ...``, ``SELECT ... EMIT CHANGES``).

A line whose first word is a ksqlDB statement keyword goes to the ksqlDB server of the current cluster
(:class:`kafkalab.platform.ksql.KsqlEngine`), one per cluster, created on first use. A push query keeps
running in the background, like a console consumer: its rows are printed as they come, ``LIMIT n`` ends it,
``TERMINATE <query id>;`` or ``stop <query id>`` stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Plan
from .parsing import CommandError
from .session import BackgroundClient

if TYPE_CHECKING:
    from ..platform.ksql import KsqlEngine, PushQuery
    from .session import LabSession, _World

__all__ = ["KSQL_HELP", "is_ksql_line", "ksql_command", "ksql_plan"]

_KEYWORDS = {"CREATE", "SELECT", "SHOW", "LIST", "DESCRIBE", "DROP", "TERMINATE", "SET", "UNSET"}

KSQL_HELP = [
    "ksqlDB statements (type them as they are; ';' at the end is optional):",
    "  CREATE STREAM s (col TYPE [KEY], ...) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON' [, PARTITIONS=n]);",
    "  CREATE TABLE t (col TYPE PRIMARY KEY, ...) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
    "  CREATE TABLE t AS SELECT col, COUNT(*) AS n FROM s [WINDOW TUMBLING (SIZE 1 MINUTE)] GROUP BY col EMIT CHANGES;",
    "  CREATE STREAM s2 AS SELECT ... FROM s [WHERE ...] EMIT CHANGES;",
    "  SELECT ... FROM s|t [WHERE ...] EMIT CHANGES [LIMIT n];   (push query, runs in the background)",
    "  SELECT ... FROM t [WHERE key = ...];                      (pull query: the table's current state)",
    "  SHOW STREAMS | TABLES | QUERIES | TOPICS | PROPERTIES;  DESCRIBE [EXTENDED] x;  DROP STREAM|TABLE x;",
    "  TERMINATE query_id;  SET 'auto.offset.reset'='earliest';",
    "Types: STRING, INT, BIGINT, DOUBLE, BOOLEAN. Functions: COUNT SUM MIN MAX AVG LATEST_BY_OFFSET "
    "EARLIEST_BY_OFFSET UCASE LCASE LEN TRIM ABS ROUND CONCAT SUBSTRING IFNULL.",
]


def is_ksql_line(tokens: list[str]) -> bool:
    return bool(tokens) and tokens[0].rstrip(";").upper() in _KEYWORDS


def engine(session: LabSession) -> KsqlEngine:
    from ..platform.ksql import KsqlEngine

    engines: dict[str, KsqlEngine] = session.extension_state.setdefault("ksql", {})
    cluster = session.cluster
    key = getattr(cluster, "name", "") or ""
    if key not in engines:
        engines[key] = KsqlEngine(cluster, width=76)
    return engines[key]


class PushQueryClient(BackgroundClient):
    """A running push query, listed with the console's background clients."""

    kind = "push-query"

    def __init__(self, world: _World, push: PushQuery) -> None:
        super().__init__(world, push.id, "")
        self.push = push
        from ..platform.ksql import format_row

        ncols = len(push.columns)
        push.on_row = lambda values: world.emit(format_row(values, ncols, 76))
        push.on_done = self._done

    @property
    def node(self) -> Any:
        s = self.push.streams
        return s.thread.consumer if s is not None and s.thread is not None else None

    def _done(self, why: str) -> None:
        if why == "Limit Reached":
            self.world.emit("Limit Reached")
        self.world.emit("Query terminated")
        self._remove()

    def describe(self) -> str:
        return f"{self.name}: push query ({len(self.push.rows)} rows): {self.push.statement}"

    def stop(self) -> list[str]:
        self.push.stop("stopped")
        return [f"stopped push query {self.name}"]

    def crash(self) -> list[str]:
        return self.stop()


def ksql_plan(session: LabSession, line: str) -> Plan:
    """A Plan that runs one ksqlDB statement on the current cluster's ksqlDB server."""
    text = line.strip()

    def run() -> list[str]:
        eng = engine(session)
        result = eng.execute(text)
        if result.error is not None:
            raise CommandError(result.error)
        if result.push is not None:
            client = PushQueryClient(session._w, result.push)
            session._w.clients[client.name] = client
            return result.lines + [
                f"(push query {result.push.id} runs in the background; 'TERMINATE {result.push.id};' stops it)"
            ]
        return result.lines

    return Plan(run, records=True)


def ksql_command(session: LabSession, argv: list[str]) -> Plan:
    """``ksql`` alone prints the supported statements; ``ksql STATEMENT`` runs one."""
    if not argv:
        return Plan(lambda: list(KSQL_HELP))
    return ksql_plan(session, " ".join(argv))
