"""Schema Registry on the simulated cluster: REST answers, Kafka failures, restarts, leader failover, serdes."""

from __future__ import annotations

import json

import pytest

from kafkalab import Cluster
from kafkalab.platform.process import HttpClient, HttpError
from kafkalab.platform.schema_registry import (
    AvroDeserializer,
    AvroSerializer,
    MessageField,
    SchemaRegistry,
    SchemaRegistryClient,
    SerializationContext,
    SerializationError,
)

V1 = json.dumps({"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]})
V2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}],
    }
)
V3_BAD = json.dumps({"type": "record", "name": "User", "fields": [{"name": "email", "type": "string"}]})


class Rest:
    def __init__(self, cluster: Cluster, host: str = "schema-registry-1") -> None:
        self.http = HttpClient(cluster)
        self.host = host

    def __call__(
        self, method: str, path: str, body: object = None, host: str | None = None, **query: str
    ) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else b""
        status, raw = self.http.request_blocking(host or self.host, 8081, method, path, query, data)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()


@pytest.fixture
def env() -> tuple[Cluster, SchemaRegistry, Rest]:
    c = Cluster(brokers=3, seed=7)
    r = SchemaRegistry(c)
    assert c.run_until(lambda: r.is_leader, 60_000)
    yield c, r, Rest(c)
    c.close()


def test_rest_api_and_error_codes(env: tuple[Cluster, SchemaRegistry, Rest]) -> None:
    c, r, rest = env
    assert rest("POST", "/subjects/users-value/versions", {"schema": V1}) == (200, {"id": 1})
    assert rest("POST", "/subjects/users-value/versions", {"schema": V1}) == (
        200,
        {"id": 1},
    )  # same schema: same id
    assert rest("POST", "/subjects/users-value/versions", {"schema": V2}) == (200, {"id": 2})
    status, body = rest("POST", "/subjects/users-value/versions", {"schema": V3_BAD})
    assert status == 409 and body["error_code"] == 409
    assert body["message"].startswith(
        'Schema being registered is incompatible with an earlier schema for subject "users-value"'
    )
    assert rest("POST", "/subjects/other-value/versions", {"schema": V1}) == (200, {"id": 1})  # id reused
    assert rest("GET", "/subjects") == (200, ["other-value", "users-value"])
    assert rest("GET", "/subjects/users-value/versions") == (200, [1, 2])
    st, latest = rest("GET", "/subjects/users-value/versions/latest")
    assert st == 200 and latest["version"] == 2 and latest["id"] == 2
    assert rest("GET", "/schemas/ids/1")[1] == {"schema": V1.replace(" ", "")}
    assert rest("GET", "/subjects/nope/versions") == (
        404,
        {"error_code": 40401, "message": "Subject 'nope' not found."},
    )
    assert rest("GET", "/subjects/users-value/versions/9")[1]["error_code"] == 40402
    assert rest("GET", "/schemas/ids/99") == (404, {"error_code": 40403, "message": "Schema 99 not found"})
    assert rest("GET", "/subjects/users-value/versions/abc")[1]["error_code"] == 42202
    assert rest("POST", "/subjects/x/versions", {"schema": "{not json"})[1]["error_code"] == 42201
    assert rest("PUT", "/config", {"compatibility": "SOMETIMES"})[1]["error_code"] == 42203
    assert rest("GET", "/config/users-value")[1]["error_code"] == 40408
    assert rest("POST", "/compatibility/subjects/users-value/versions/latest", {"schema": V3_BAD}) == (
        200,
        {"is_compatible": False},
    )
    assert rest("PUT", "/config/users-value", {"compatibility": "NONE"}) == (200, {"compatibility": "NONE"})
    assert rest("POST", "/subjects/users-value/versions", {"schema": V3_BAD}) == (200, {"id": 3})
    # soft delete, then hard delete, with Confluent's ordering errors
    assert rest("DELETE", "/subjects/other-value", permanent="true")[1]["error_code"] == 40405
    assert rest("DELETE", "/subjects/other-value") == (200, [1])
    assert rest("DELETE", "/subjects/other-value")[1]["error_code"] == 40404
    assert rest("GET", "/subjects") == (200, ["users-value"])
    assert rest("GET", "/subjects", deleted="true") == (200, ["other-value", "users-value"])
    assert rest("DELETE", "/subjects/other-value", permanent="true") == (200, [1])
    assert rest("GET", "/schemas/ids/1")[0] == 200  # still used by users-value v1


def test_survives_the_leader_broker_of_schemas_dying_and_a_restart(
    env: tuple[Cluster, SchemaRegistry, Rest],
) -> None:
    c, r, rest = env
    assert rest("POST", "/subjects/a-value/versions", {"schema": V1}) == (200, {"id": 1})
    leader = c.describe_topic("_schemas")[0].leader
    c.kill_broker(leader)
    # reads are served from memory at once; writes fail until a new partition leader is elected, then work
    assert rest("GET", "/subjects/a-value/versions") == (200, [1])
    c.run_for(15_000)
    assert c.describe_topic("_schemas")[0].leader not in (leader, -1)
    # the store's producer does not retry (retries=0, as Confluent's KafkaStore): the first write after the
    # failover meets the old leader's NOT_LEADER_OR_FOLLOWER and fails with 50001; the next one succeeds
    first = rest("POST", "/subjects/a-value/versions", {"schema": V2})
    assert first in (
        (200, {"id": 2}),
        (
            500,
            {
                "error_code": 50001,
                "message": "Register schema operation failed while writing to the Kafka store",
            },
        ),
    )
    assert rest("POST", "/subjects/a-value/versions", {"schema": V2}) == (200, {"id": 2})
    # kill -9 the registry: its memory is gone; a restart reads _schemas back
    r.kill()
    with pytest.raises(HttpError) as e:
        rest("GET", "/subjects")
    assert e.value.kind == "refused"
    r.restart()
    assert c.run_until(lambda: r.is_leader, 60_000)
    assert rest("GET", "/subjects/a-value/versions") == (200, [1, 2])
    assert rest("POST", "/subjects/a-value/versions", {"schema": json.dumps({"type": "string"})})[0] == 409
    assert rest("POST", "/subjects/b-value/versions", {"schema": json.dumps({"type": "string"})}) == (
        200,
        {"id": 3},
    )


def test_two_instances_elect_one_leader_and_fail_over() -> None:
    c = Cluster(brokers=3, seed=11)
    r1, r2 = SchemaRegistry(c, "schema-registry-1"), SchemaRegistry(c, "schema-registry-2")
    assert c.run_until(lambda: r1.is_leader or r2.is_leader, 60_000)
    assert r1.is_leader and not r2.is_leader  # the smallest URL leads
    assert r2.leader is not None and r2.leader[1] == r1.url
    rest = Rest(c)
    assert rest("POST", "/subjects/s/versions", {"schema": V1}, host="schema-registry-2") == (
        200,
        {"id": 1},
    )  # forwarded
    c.run_for(500)
    assert rest("GET", "/subjects/s/versions", host="schema-registry-2") == (200, [1])
    r1.kill()
    assert c.run_until(lambda: r2.is_leader, 60_000)  # its session times out, r2 is the new leader
    assert rest("POST", "/subjects/s/versions", {"schema": V2}, host="schema-registry-2") == (200, {"id": 2})
    c.close()


def test_serdes_wire_format_unknown_ids_and_bad_magic(env: tuple[Cluster, SchemaRegistry, Rest]) -> None:
    c, _r, _rest = env
    c.create_topic("users", partitions=1, replication_factor=3)
    ser = AvroSerializer(SchemaRegistryClient(c, {"url": "http://schema-registry-1:8081"}), V2)
    ctx = SerializationContext("users", MessageField.VALUE)
    data = ser({"name": "ann", "age": 3}, ctx)
    assert data is not None and data[0] == 0 and int.from_bytes(data[1:5], "big") == 1
    p = c.producer({"acks": "all"})
    p.produce("users", value=data)
    p.produce("users", value=b"not framed")
    p.flush()
    fresh = SchemaRegistryClient(c)  # knows no id: it must fetch schema 1
    de = AvroDeserializer(fresh)
    msgs = c.read_all("users")[0]
    assert de(msgs[0][2], ctx) == {"name": "ann", "age": 3}
    assert fresh.cached_schema(1) is not None
    with pytest.raises(SerializationError, match="Unknown magic byte"):
        de(msgs[1][2], ctx)
    with pytest.raises(SerializationError):
        ser({"nom": "x"}, ctx)
