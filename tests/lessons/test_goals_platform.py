"""The goal predicates about Schema Registry and Connect (kafkalab/lessons/goals_platform.py), each checked both
ways on small runs: it holds once the fact is true, not before, not for a look-alike, and not after a rewind
took the fact back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.lessons.goals import GoalContext, parse_goal

V1 = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"fax","type":"string"}]}'
V2 = (
    '{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"fax","type":"string"},'
    '{"name":"email","type":"string","default":""}]}'
)
V3 = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}'
NO_DEFAULT = (
    '{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"fax","type":"string"},'
    '{"name":"country","type":"string"}]}'
)


def ok(s: LabSession, line: str) -> list[str]:
    r = execute(s, line)
    assert r.ok, f"{line}: {r.error}"
    return r.lines


def holds(s: LabSession, goal: dict[str, Any]) -> bool:
    return parse_goal(goal).evaluate(GoalContext(s))


def post(subject: str, schema: str) -> str:
    body = json.dumps({"schema": schema})
    return f"curl -X POST --data '{body}' http://localhost:8081/subjects/{subject}/versions"


@pytest.fixture
def registry() -> Iterator[LabSession]:
    s = LabSession(brokers=1, seed=3, broker_config={"offsets.topic.num.partitions": 1})
    ok(s, "kafka-topics --create --topic users --partitions 1 --replication-factor 1")
    ok(s, "schema-registry start")
    yield s
    s.close()


def produce_avro(s: LabSession, schema: str, *records: str) -> None:
    ok(s, f"kafka-avro-console-producer --topic users --property value.schema='{schema}'")
    for r in records:
        ok(s, r)
    ok(s, ".exit")
    ok(s, "run 1s")


def test_records_with_schema_counts_records_framed_with_that_versions_id(registry: LabSession) -> None:
    s = registry
    v1 = {"records_with_schema": {"topic": "users", "version": 1, "at_least": 2}}
    assert not holds(s, v1)  # no version 1 yet
    ok(s, "kafka-console-producer --topic users")  # plain JSON text: no magic byte, no id
    ok(s, '{"name":"x","fax":"0"}')
    ok(s, '{"name":"y","fax":"0"}')
    ok(s, ".exit")
    ok(s, "run 1s")
    produce_avro(s, V1, '{"name":"ann","fax":"1"}')
    assert not holds(s, v1)  # one framed record of two
    produce_avro(s, V1, '{"name":"bo","fax":"2"}')
    assert holds(s, v1)
    assert holds(s, {"records_with_schema": {"topic": "users", "version": 1, "equals": 2}})
    assert not holds(s, {"records_with_schema": {"topic": "users", "version": 2, "at_least": 0}})
    produce_avro(s, V2, '{"name":"cy","fax":"3","email":"c@x"}')
    assert holds(s, {"records_with_schema": {"topic": "users", "version": 2, "equals": 1}})
    assert holds(s, {"records_with_schema": {"topic": "users", "version": 1, "equals": 2}})


def test_schema_registered_reads_the_fields_of_the_versions_in_schemas(registry: LabSession) -> None:
    s = registry
    assert not holds(s, {"schema_registered": "users-value"})
    ok(s, post("users-value", V1))
    assert holds(s, {"schema_registered": "users-value"})
    assert not holds(s, {"schema_registered": "orders-value"})
    assert not holds(s, {"schema_registered": {"subject": "users-value", "field": "email"}})
    assert not holds(s, {"schema_registered": {"subject": "users-value", "without": "fax"}})
    ok(s, post("users-value", V2))
    assert holds(s, {"schema_registered": {"subject": "users-value", "field": "email"}})
    assert not holds(s, {"schema_registered": {"subject": "users-value", "field": "email", "without": "fax"}})
    ok(s, post("users-value", V3))  # BACKWARD allows removing fields: fax and email go
    assert holds(s, {"schema_registered": {"subject": "users-value", "without": "fax"}})
    ok(s, "curl -X DELETE http://localhost:8081/subjects/users-value/versions/3")
    ok(s, "run 1s")
    assert not holds(s, {"schema_registered": {"subject": "users-value", "without": "fax"}})  # soft-deleted


def test_schema_refused_needs_a_409_for_that_subject_and_field_and_follows_rewinds(
    registry: LabSession,
) -> None:
    s = registry
    refused = {"schema_refused": {"subject": "users-value", "field": "country"}}
    ok(s, post("users-value", V2))
    ok(s, post("users-value", V1))  # accepted: removing a field with a default is BACKWARD compatible
    assert not holds(s, refused) and not holds(s, {"schema_refused": "users-value"})
    ok(s, post("other-value", V1))
    answer = ok(s, post("other-value", NO_DEFAULT))[0]
    assert json.loads(answer)["error_code"] == 409
    assert not holds(s, refused)  # another subject's 409
    assert holds(s, {"schema_refused": "other-value"})
    ok(s, "run 1s")
    ok(s, post("users-value", NO_DEFAULT))
    assert holds(s, refused)
    assert not holds(s, {"schema_refused": {"subject": "users-value", "field": "email"}})
    assert any("refused a new schema for subject users-value (409)" in e.text for e in s.cluster.timeline)
    ok(s, "rewind 500ms")  # back before the refusal: the fact is gone from the run
    assert not holds(s, refused)
    assert holds(s, {"schema_refused": "other-value"})


def test_records_decoded_counts_what_schema_aware_consumers_decoded(registry: LabSession) -> None:
    s = registry
    produce_avro(s, V1, '{"name":"ann","fax":"1"}', '{"name":"bo","fax":"2"}')
    produce_avro(s, V2, '{"name":"cy","fax":"3","email":"c@x"}')
    v1 = {"records_decoded": {"topic": "users", "version": 1, "at_least": 2}}
    v2 = {"records_decoded": {"topic": "users", "version": 2, "equals": 1}}
    ok(s, "kafka-console-consumer --topic users --from-beginning")  # prints bytes, decodes nothing
    ok(s, "run 2s")
    assert not holds(s, v1) and not holds(s, v2)
    ok(s, "kafka-avro-console-consumer --topic users --from-beginning")
    assert not holds(s, v1)  # it has not polled yet
    ok(s, "run 2s")
    assert holds(s, v1) and holds(s, v2)
    assert [line for line in s.output if line.startswith("[avro-console-consumer-1]")][0].endswith(
        '{"name":"ann","fax":"1"}'
    )
    assert not holds(s, {"records_decoded": {"topic": "users", "version": 3, "at_least": 0}})


@pytest.fixture
def files() -> Iterator[LabSession]:
    s = LabSession(brokers=1, seed=4)
    yield s
    s.close()


def test_file_copy_compares_a_sink_file_with_its_source(files: LabSession) -> None:
    s = files
    exact = {"file_copy": {"source": "in.txt", "sink": "out.txt", "outcome": "exact"}}
    dup = {"file_copy": {"source": "in.txt", "sink": "out.txt", "outcome": "duplicated"}}
    assert not holds(s, exact) and not holds(s, dup)  # no files at all
    ok(s, "seq 1 5 >> in.txt")
    assert not holds(s, exact) and not holds(s, dup)  # no sink file
    ok(s, "seq 1 4 >> out.txt")
    assert not holds(s, exact) and not holds(s, dup)  # line 5 is missing
    ok(s, "echo 5 >> out.txt")
    assert holds(s, exact) and not holds(s, dup)
    ok(s, "seq 4 5 >> out.txt")
    assert holds(s, dup) and not holds(s, exact)
    ok(s, "echo 6 >> out.txt")  # a line the source never had: not a copy
    assert not holds(s, dup) and not holds(s, exact)
    assert not holds(s, {"file_copy": {"source": "../../etc/passwd", "sink": "out.txt", "outcome": "exact"}})


PRODUCE_OFFSETS = (
    "kafka-console-producer --topic connect-offsets --property parse.key=true --property key.separator=|"
)


def test_source_offset_reads_the_position_in_connect_offsets(files: LabSession) -> None:
    s = files
    goal = {"source_offset": {"connector": "src", "equals": 3}}
    ok(s, "seq 1 5 >> in.txt")
    ok(s, "kafka-topics --create --topic connect-offsets --partitions 2 --replication-factor 1")
    assert not holds(s, {"source_offset": {"connector": "src", "at_least": 0}})  # nothing committed
    ok(s, PRODUCE_OFFSETS)
    ok(s, '["src",{"filename":"in.txt"}]|{"position":4}')  # after "1\n2\n": two lines
    ok(s, '["other",{"filename":"in.txt"}]|{"position":10}')
    ok(s, ".exit")
    ok(s, "run 3s")  # (the producer's first metadata of a topic created just now)
    assert holds(s, {"source_offset": {"connector": "src", "equals": 2}}) and not holds(s, goal)
    ok(s, PRODUCE_OFFSETS)
    ok(s, '["src",{"filename":"in.txt"}]|{"position":6}')  # the newest value of the key counts
    ok(s, ".exit")
    ok(s, "run 3s")
    assert holds(s, goal)


def test_source_offset_of_a_running_file_source(files: LabSession) -> None:
    s = files
    ok(s, "kafka-topics --create --topic lines --partitions 1 --replication-factor 1")
    ok(s, "connect start --workers 1 --offset-flush-interval-ms 1000 --offset-storage-partitions 1")
    ok(s, "seq 1 7 >> in.txt")
    cfg = {
        "connector.class": "FileStreamSource",
        "file": "in.txt",
        "topic": "lines",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    ok(s, f"curl -X PUT --data '{json.dumps(cfg)}' http://localhost:8083/connectors/src/config")
    goal = {"source_offset": {"connector": "src", "equals": 7}}
    assert not holds(s, goal)
    ok(s, "run 3s")
    assert holds(s, goal)
    assert ok(s, "curl http://localhost:8083/connectors/src/offsets") == [
        '{"offsets":[{"partition":{"filename":"in.txt"},"offset":{"position":14}}]}'
    ]


def test_reading_the_platform_is_allowed_before_the_prediction() -> None:
    """Until the learner predicts, only commands that look may run: the platform's status and GETs do."""
    from kafkalab.ui.lesson_mode import _only_looks

    for line in (
        "connect status",
        "schema-registry status",
        "cat out.txt",
        "curl http://localhost:8083/connectors/file-source/offsets",
        "curl -s localhost:8081/subjects",
    ):
        assert _only_looks(line), line
    for line in (
        "connect kill-worker 1",
        "schema-registry kill",
        "seq 1 10 >> in.txt",
        "curl -X DELETE http://localhost:8081/subjects/users-value",
        "curl --data '{}' http://localhost:8083/connectors",
    ):
        assert not _only_looks(line), line
