"""ksqlDB subset: every statement kind, ksqlDB's errors for wrong input, windowed count equal to the DSL's."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from kafkalab.platform.ksql import KsqlEngine
from kafkalab.platform.ksql_parser import KsqlSyntaxError, parse
from kafkalab.platform.streams import KafkaStreams, StreamsBuilder, TimeWindows
from kafkalab.sim.cluster import Cluster

from .helpers import last_values, small_cluster


@pytest.fixture
def env() -> Iterator[tuple[Cluster, KsqlEngine]]:
    c = small_cluster(21)
    yield c, KsqlEngine(c, width=80)
    c.close()


def ok(eng: KsqlEngine, text: str) -> list[str]:
    r = eng.execute(text)
    assert r.error is None, f"{text} -> {r.error}"
    return r.lines


def err(eng: KsqlEngine, text: str) -> str:
    r = eng.execute(text)
    assert r.error is not None, f"{text} should fail"
    return r.error


def produce_words(c: Cluster, words: list[str], start_ms: int = 1000, step_ms: int = 20_000) -> None:
    p = c.producer()
    for i, w in enumerate(words):
        p.produce("words", value=json.dumps({"word": w}), timestamp=start_ms + i * step_ms)
    p.flush()


def test_every_statement_kind(env: tuple[Cluster, KsqlEngine]) -> None:
    c, k = env
    assert ok(
        k, "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON', partitions=2);"
    ) == [
        " Message        ",
        "----------------",
        " Stream created ",
        "----------------",
    ]
    assert "words" in c.topics() and len(c.describe_topic("words")) == 2
    c.create_topic("users", partitions=1)
    assert (
        "Table created"
        in ok(
            k,
            "CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON');",
        )[2]
    )
    assert ok(k, "SET 'auto.offset.reset'='earliest';") == [
        "Successfully changed local property 'auto.offset.reset' to 'earliest'."
    ]
    produce_words(c, ["kafka", "is", "a", "log", "kafka", "kafka"])
    lines = ok(
        k, "CREATE TABLE counts AS SELECT word, COUNT(*) AS cnt FROM words GROUP BY word EMIT CHANGES;"
    )
    assert " Created query with ID CTAS_COUNTS_3 " in lines
    assert "Created query with ID CSAS_LONGWORDS_4" in "".join(
        ok(
            k,
            "CREATE STREAM longwords AS SELECT UCASE(word) AS w, LEN(word) AS n FROM words WHERE LEN(word) > 2 EMIT CHANGES;",
        )
    )
    # push query with LIMIT: rows arrive as they are processed, then it ends
    r = k.execute("SELECT word FROM words WHERE word = 'kafka' EMIT CHANGES LIMIT 2;")
    assert r.push is not None and r.lines[1] == "|WORD" + " " * 74 + "|"
    rows: list[list[object]] = []
    done: list[str] = []
    r.push.on_row, r.push.on_done = rows.append, done.append
    c.run_for(8000)
    assert rows == [["kafka"], ["kafka"]] and done == ["Limit Reached"]
    # pull queries: a table's current state, a key lookup, a stream scan
    pull = ok(k, "SELECT * FROM counts;")
    assert pull[:3] == [
        "+" + "-" * 38 + "+" + "-" * 38 + "+",
        "|WORD" + " " * 34 + "|CNT" + " " * 35 + "|",
        pull[0],
    ]
    assert [line.split("|")[1:3] for line in pull[3:-1]] == [
        ["a" + " " * 37, "1" + " " * 37],
        ["is" + " " * 36, "1" + " " * 37],
        ["kafka" + " " * 33, "3" + " " * 37],
        ["log" + " " * 35, "1" + " " * 37],
    ]
    assert pull[-1] == "Query terminated"
    assert len(ok(k, "SELECT cnt FROM counts WHERE word = 'kafka';")) == 5
    assert [line.split("|")[1].strip() for line in ok(k, "SELECT * FROM longwords;")[3:-1]] == [
        "KAFKA",
        "LOG",
        "KAFKA",
        "KAFKA",
    ]
    # the sink topic holds the table as JSON values keyed by the word
    assert last_values(c, "COUNTS", lambda v: json.loads(v)) == {
        "kafka": {"CNT": 3},
        "is": {"CNT": 1},
        "a": {"CNT": 1},
        "log": {"CNT": 1},
    }
    show = ok(k, "SHOW STREAMS;")
    assert show[0] == " Stream Name | Kafka Topic | Key Format | Value Format | Windowed "
    assert " WORDS       | words       | KAFKA      | JSON         | false    " in show
    assert " LONGWORDS   | LONGWORDS   | KAFKA      | JSON         | false    " in show
    assert " COUNTS     | COUNTS      | KAFKA      | JSON         | false    " in ok(k, "LIST TABLES;")
    queries = ok(k, "SHOW QUERIES;")
    assert (
        queries[0].startswith(" Query ID ")
        and "CTAS_COUNTS_3    | PERSISTENT | RUNNING:1 | COUNTS" in queries[3]
    )
    assert queries[-1] == "For detailed information on a Query run: EXPLAIN <Query ID>;"
    topics = ok(k, "SHOW TOPICS;")
    assert topics[0] == " Kafka Topic | Partitions | Partition Replicas " and any(
        x.startswith(" words ") for x in topics
    )
    props = [[c.strip() for c in line.split("|")] for line in ok(k, "SHOW PROPERTIES;")]
    assert ["ksql.streams.auto.offset.reset", "KSQL", "SESSION", "", "earliest"] in props
    desc = ok(k, "DESCRIBE counts;")
    assert desc[0] == "Name                 : COUNTS"
    assert (
        " WORD  | VARCHAR(STRING)  (primary key) " in desc
        and " CNT   | BIGINT                         " in desc
    )
    assert desc[-1] == "For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;"
    ext = ok(k, "DESCRIBE EXTENDED counts;")
    assert "Kafka topic          : COUNTS (partitions: 2, replication: 1)" in ext
    assert any(x.startswith("CTAS_COUNTS_3 (RUNNING) : CREATE TABLE counts AS SELECT") for x in ext)
    assert ok(k, "TERMINATE CSAS_LONGWORDS_4;")[2] == " Query terminated. "
    assert ok(k, "UNSET 'auto.offset.reset';") == [
        "Successfully unset local property 'auto.offset.reset' (value was 'earliest')."
    ]
    assert ok(k, "DROP STREAM longwords;")[2] == " Source `LONGWORDS` (topic: LONGWORDS) was dropped. "
    assert ok(k, "DROP TABLE counts DELETE TOPIC;")[2] == " Source `COUNTS` (topic: COUNTS) was dropped. "
    assert "COUNTS" not in c.topics() and "CTAS_COUNTS_3" not in k.queries
    assert ok(k, "DROP TABLE IF EXISTS counts;")[2] == " Source `COUNTS` does not exist. "


def test_ctas_internal_topics_are_named_as_ksqldb_names_them(env: tuple[Cluster, KsqlEngine]) -> None:
    c, k = env
    ok(k, "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON', partitions=1);")
    ok(
        k,
        "CREATE TABLE counts AS SELECT word, COUNT(*) FROM words WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY word EMIT CHANGES;",
    )
    app = "_confluent-ksql-default_query_CTAS_COUNTS_2"
    assert f"{app}-Aggregate-GroupBy-repartition" in c.topics()
    assert f"{app}-Aggregate-Aggregate-Materialize-changelog" in c.topics()
    assert k.sources["COUNTS"].value_cols == [("KSQL_COL_0", "BIGINT")]
    assert " WORD       | VARCHAR(STRING)  (primary key) (Window type: TUMBLING) " in ok(
        k, "DESCRIBE counts;"
    )


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELEC * FROM words;", "line 1:1: Syntax Error\nUnknown statement 'SELEC'\nDid you mean 'SELECT'?"),
        ("SELECT * FROM;", "line 1:14: Syntax Error\nExpecting {IDENTIFIER}"),
        (
            "SHOW FOO;",
            "line 1:6: Syntax Error\nExpecting {'STREAMS', 'TABLES', 'QUERIES', 'TOPICS', 'PROPERTIES'}",
        ),
        (
            "CREATE STREAM x (a STRING WITH (kafka_topic='t');",
            "line 1:27: Syntax Error\nSyntax error at or near 'WITH' at line 1:27",
        ),
        ("SELECT * FROM nope EMIT CHANGES;", "NOPE does not exist."),
        ("DROP STREAM nope;", "Stream NOPE does not exist."),
        ("DROP TABLE words;", "Incompatible data source type is stream, but statement was DROP TABLE"),
        (
            "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON');",
            "Cannot add stream 'WORDS': A stream with the same name already exists",
        ),
        (
            "CREATE STREAM s2 (a STRING) WITH (kafka_topic='missing', value_format='JSON');",
            "Topic 'missing' does not exist. If you want to create a new topic for the stream/table please re-run the "
            "statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). "
            "For example: CREATE STREAM s2 (a STRING) WITH (kafka_topic='missing', value_format='JSON', PARTITIONS=2);",
        ),
        (
            "CREATE STREAM s2 (a STRING) WITH (value_format='JSON');",
            'Missing required configuration "KAFKA_TOPIC" which has no default value.',
        ),
        (
            "CREATE STREAM s2 (a STRING) WITH (kafka_topic='words');",
            "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default "
            "via the 'ksql.persistence.default.format.value' config.",
        ),
        (
            "CREATE STREAM s2 (a STRING) WITH (kafka_topic='words', value_format='JSON', color='red');",
            "Invalid config variable(s) in the WITH clause: COLOR",
        ),
        (
            "CREATE STREAM s2 (a STRING) WITH (kafka_topic='words', value_format='XML');",
            "Unknown format: XML",
        ),
        ("SELECT foo FROM words EMIT CHANGES;", "SELECT column 'FOO' cannot be resolved."),
        ("SELECT * FROM words WHERE bar = 1 EMIT CHANGES;", "WHERE column 'BAR' cannot be resolved."),
        ("SELECT NOPE(word) FROM words EMIT CHANGES;", "Can't find any functions with the name 'NOPE'"),
        (
            "SELECT word, COUNT(*) FROM words EMIT CHANGES;",
            "Use of aggregate function COUNT requires a GROUP BY clause.",
        ),
        (
            "CREATE TABLE t AS SELECT COUNT(*) FROM words GROUP BY word EMIT CHANGES;",
            "Key missing from projection (ie, SELECT).\nThe query used to build `T` must include the grouping expression "
            "WORD in its projection (eg, SELECT WORD...).",
        ),
        (
            "CREATE TABLE t AS SELECT word, ROWTIME, COUNT(*) FROM words GROUP BY word EMIT CHANGES;",
            "Non-aggregate SELECT expression(s) not part of GROUP BY: ROWTIME\nEither add the column(s) to the GROUP BY "
            "or remove them from the SELECT.",
        ),
        (
            "CREATE TABLE t AS SELECT word FROM words GROUP BY word EMIT CHANGES;",
            "GROUP BY requires aggregate functions in either the SELECT or HAVING clause.",
        ),
        (
            "SELECT * FROM words WHERE word = 1 EMIT CHANGES;",
            "Error in WHERE expression: Cannot compare WORD (STRING) to 1 (INTEGER) with EQUAL.",
        ),
        (
            "CREATE TABLE t (id STRING KEY, v INT) WITH (kafka_topic='words', value_format='JSON');",
            "Column `ID` is a 'KEY' column: please use 'PRIMARY KEY' for tables.",
        ),
        ("TERMINATE CTAS_NOPE_9;", "Unknown queryId: CTAS_NOPE_9"),
        (
            "SET 'auto.offset.reset'='middle';",
            "Invalid value middle for configuration auto.offset.reset: String must be one of: earliest, latest",
        ),
        ("SELECT * FROM words GROUP BY word;", "Pull queries don't support GROUP BY clauses."),
    ],
)
def test_wrong_input_gets_ksqldbs_error(
    env: tuple[Cluster, KsqlEngine], statement: str, message: str
) -> None:
    _c, k = env
    ok(k, "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON', partitions=1);")
    assert message in err(k, statement)


def test_dropping_a_source_that_others_read_is_refused(env: tuple[Cluster, KsqlEngine]) -> None:
    c, k = env
    ok(k, "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON', partitions=1);")
    ok(k, "CREATE TABLE counts AS SELECT word, COUNT(*) AS n FROM words GROUP BY word EMIT CHANGES;")
    assert err(k, "DROP STREAM words;") == (
        "Cannot drop WORDS.\nThe following streams and/or tables read from this source: [COUNTS].\n"
        "You need to drop them before dropping WORDS."
    )
    assert err(k, "SELECT * FROM users;").startswith("USERS does not exist.")
    ok(
        k,
        "CREATE TABLE plain (id STRING PRIMARY KEY, v INT) WITH (kafka_topic='words', value_format='JSON');",
    )
    assert err(k, "SELECT * FROM plain;").startswith("The `PLAIN` table isn't queryable.")
    assert c.topics().count("words") == 1


def test_parser_keeps_quoted_identifiers_and_reads_every_clause() -> None:
    q = parse(
        "select `lower`, count(*) as n from `src` window hopping (size 30 seconds, advance by 10 seconds, grace period 0 seconds) where a >= 3 and not b group by `lower` having count(*) > 1 emit changes limit 5"
    )
    assert (
        q.source == "src"
        and q.window.size_ms == 30_000
        and q.window.advance_ms == 10_000
        and q.window.grace_ms == 0
    )
    assert q.items[0].expr.name == "lower" and q.items[1].alias == "N" and q.limit == 5 and q.emit_changes
    with pytest.raises(KsqlSyntaxError, match="line 1:1: Syntax Error"):
        parse("   ")


def test_windowed_count_equals_the_streams_dsl_result() -> None:
    c = small_cluster(22)
    c.create_topic("words", partitions=2)
    c.create_topic("dsl-out", partitions=2)
    r = random.Random(22)
    p = c.producer()
    ts = 0
    for _ in range(120):
        ts += r.randrange(0, 2500)
        w = r.choice(["kafka", "streams", "ksql", "log"])
        p.produce("words", key=w, value=json.dumps({"word": w}), timestamp=ts)
    p.flush()
    # ksqlDB: CREATE TABLE ... WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY word
    k = KsqlEngine(c)
    ok(k, "SET 'auto.offset.reset'='earliest';")
    ok(k, "CREATE STREAM words (word STRING) WITH (kafka_topic='words', value_format='JSON');")
    ok(
        k,
        "CREATE TABLE per10s AS SELECT word, COUNT(*) AS n FROM words WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY word EMIT CHANGES;",
    )
    # the same count with the Streams DSL (ksqlDB's default grace: 24 h minus the window size)
    b = StreamsBuilder()
    counts = (
        b.stream("words")
        .group_by(lambda _k, v: json.loads(v)["word"])
        .windowed_by(TimeWindows.of(10_000))
        .count()
    )
    counts.to_stream().map(lambda k2, v: (f"{k2.key}@{k2.window.start_ms}", str(v))).to("dsl-out")
    app = KafkaStreams(b.build(), {"application.id": "dsl"}, c)
    app.start()
    c.run_for(10_000)
    dsl = {key: int(v) for key, v in last_values(c, "dsl-out").items()}
    pulled = ok(k, "SELECT word, WINDOWSTART, n FROM per10s;")[3:-1]
    ksql = {
        f"{cells[1].strip()}@{cells[2].strip()}": int(cells[3])
        for cells in (line.split("|") for line in pulled)
    }
    assert ksql == dsl and len(dsl) > 10
    # and the sink topic (windowed key: word bytes + 8-byte window start) says the same
    sink: dict[str, int] = {}
    for _p, recs in c.read_all("PER10S").items():
        for _o, key, v in recs:
            sink[f"{key[:-8].decode()}@{int.from_bytes(key[-8:], 'big')}"] = json.loads(v)["N"]
    assert sink == dsl
    c.close()


def test_mangled_statements_get_an_error_never_a_crash() -> None:
    """Seeded mutations of valid statements: each one either runs or gets one ksqlDB error, never a crash."""
    c = small_cluster(23)
    k = KsqlEngine(c)
    ok(
        k,
        "CREATE STREAM words (word STRING, n INT) WITH (kafka_topic='words', value_format='JSON', partitions=1);",
    )
    valid = [
        "CREATE TABLE t1 AS SELECT word, COUNT(*) AS c, SUM(n) AS s FROM words GROUP BY word EMIT CHANGES;",
        "SELECT word, n * 2 + 1 AS x FROM words WHERE n > 3 AND word != 'a' EMIT CHANGES LIMIT 3;",
        "CREATE STREAM s1 AS SELECT UCASE(word) AS w FROM words WHERE LEN(word) > 2 EMIT CHANGES;",
        "SELECT * FROM words WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY word EMIT CHANGES;",
        "DESCRIBE EXTENDED words;",
        "DROP STREAM IF EXISTS s1 DELETE TOPIC;",
    ]
    r = random.Random(23)
    pieces = [
        "(",
        ")",
        ",",
        "'x'",
        "*",
        "WHERE",
        "GROUP BY",
        "EMIT",
        "=",
        "1.5",
        "-",
        "`q`",
        ";",
        "NULL",
        "COUNT(*)",
    ]
    for _ in range(400):
        toks = r.choice(valid).split()
        for _m in range(r.randrange(1, 4)):
            op = r.randrange(3)
            i = r.randrange(len(toks))
            if op == 0 and len(toks) > 1:
                del toks[i]
            elif op == 1:
                toks.insert(i, r.choice(pieces))
            else:
                j = r.randrange(len(toks))
                toks[i], toks[j] = toks[j], toks[i]
        res = k.execute(" ".join(toks))
        assert res.error is None or (res.error and "Traceback" not in res.error), res.error
    for q in list(k.push_queries.values()):
        q.stop()
    c.run_for(3000)
    assert "WORDS" in k.sources  # the session survived every mangled statement
    c.close()
