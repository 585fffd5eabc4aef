"""The console commands for Schema Registry and Connect, as a learner types them; a rewind rebuilds them."""

from __future__ import annotations

import json

from kafkalab.commands import LabSession, complete, execute

V1 = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}'
V2 = '{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]}'
V_BAD = '{"type":"record","name":"User","fields":[{"name":"email","type":"string"}]}'


def ok(s: LabSession, line: str) -> list[str]:
    r = execute(s, line)
    assert r.ok, f"{line}: {r.error}"
    return r.lines


def err(s: LabSession, line: str) -> str:
    r = execute(s, line)
    assert not r.ok, f"{line} should fail"
    assert r.error and "\n" not in r.error
    return r.error


def test_schema_evolution_from_the_console_and_rewind() -> None:
    s = LabSession(brokers=3, seed=42, broker_config={"offsets.topic.num.partitions": 5})
    ok(s, "kafka-topics --create --topic users --partitions 1 --replication-factor 3")
    assert "Schema Registry is not running" in err(
        s, f"kafka-avro-console-producer --topic users --property value.schema='{V1}'"
    )
    ok(s, "schema-registry start")
    ok(s, f"kafka-avro-console-producer --topic users --property value.schema='{V1}'")
    ok(s, '{"name": "ann"}')
    assert "Error deserializing json" in err(s, '{"nom": "x"}')
    ok(s, "")
    body = json.dumps({"schema": V2})
    assert ok(
        s,
        f"curl -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data '{body}' "
        "http://localhost:8081/subjects/users-value/versions",
    ) == ['{"id":2}']
    bad = ok(
        s,
        f"curl -s -X POST --data '{json.dumps({'schema': V_BAD})}' http://localhost:8081/subjects/users-value/versions",
    )
    assert json.loads(bad[0])["error_code"] == 409
    ok(s, f"kafka-avro-console-producer --topic users --property value.schema='{V2}'")
    ok(s, '{"name": "bo", "age": 7}')
    ok(s, "")
    ok(s, "kafka-avro-console-consumer --topic users --from-beginning")
    ok(s, "run 3s")
    printed = [line for line in s.output if line.startswith("[avro-console-consumer")]
    assert [p.split("] ", 1)[1] for p in printed] == ['{"name":"ann"}', '{"name":"bo","age":7}']
    ok(s, "schema-registry kill")
    assert err(s, "curl http://localhost:8081/subjects").startswith(
        "curl: (7) Failed to connect to localhost port 8081"
    )
    assert "restarted" in ok(s, "schema-registry restart")[0]
    assert ok(s, "curl http://localhost:8081/subjects/users-value/versions") == ["[1,2]"]
    t = s.now_ms
    ok(s, "rewind 1")
    assert s.now_ms <= t
    ok(s, "run 1s")
    assert ok(s, "curl http://localhost:8081/subjects/users-value/versions") == [
        "[1,2]"
    ]  # rebuilt by the replay
    assert "schema-registry" in complete("schema-reg", s)[0]


def test_connect_pipeline_from_the_console() -> None:
    s = LabSession(brokers=3, seed=7, broker_config={"offsets.topic.num.partitions": 5})
    assert "usage" in err(s, "connect")
    ok(s, "connect start --workers 2 --offset-flush-interval-ms 2000 --scheduled-rebalance-max-delay-ms 5000")
    ok(s, "kafka-topics --create --topic lines --partitions 1 --replication-factor 3")
    ok(s, "seq 1 50 >> in.txt")
    cfg = {
        "connector.class": "FileStreamSource",
        "file": "in.txt",
        "topic": "lines",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    ok(
        s,
        f"curl -X PUT -H 'Content-Type: application/json' --data '{json.dumps(cfg)}' http://localhost:8083/connectors/src/config",
    )
    sink = {
        "connector.class": "FileStreamSink",
        "file": "out.txt",
        "topics": "lines",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    for _ in range(10):
        out = ok(s, f"curl -X PUT --data '{json.dumps(sink)}' http://localhost:8083/connectors/sink/config")
        if '"name":"sink"' in out[0]:
            break
        ok(s, "run 1s")
    ok(s, "run 10s")
    assert ok(s, "cat out.txt") == [str(i) for i in range(1, 51)]
    status = "\n".join(ok(s, "connect status"))
    assert "connector src (source): RUNNING" in status and "connector sink (sink): RUNNING" in status
    assert "killed" in ok(s, "connect kill-worker 1")[0]
    assert "already down" in err(s, "connect kill-worker 1")
    ok(s, "run 2s")
    assert "connect-1: down" in "\n".join(ok(s, "connect status"))
    assert err(s, "cat ../../etc/passwd").startswith("cat: file '../../etc/passwd' is outside")
