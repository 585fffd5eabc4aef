"""The Kafka wire protocol as the lab's listeners speak it, byte by byte (a bare client, no library)."""

from __future__ import annotations

import logging
import socket

import pytest

from kafkalab.sim.records import RecordBatch
from kafkalab.testing import KafkaCluster
from kafkalab.wire.apis import APIS

from .conftest import DEADLINE_S
from .rawclient import RawConnection, decode, frame

API_VERSIONS_V3 = {"client_software_name": "raw", "client_software_version": "1.0"}


def _batch(*values: bytes) -> bytes:
    return RecordBatch.build([(None, v, (), 1_700_000_000_000) for v in values]).raw


def _produce(topic: str, acks: int, raw: bytes, partition: int = 0) -> dict[str, object]:
    return {
        "transactional_id": None,
        "acks": acks,
        "timeout": 5000,
        "topic_data": [{"name": topic, "partition_data": [{"index": partition, "records": raw}]}],
    }


def _port(cluster: KafkaCluster, broker: int) -> int:
    return cluster.ports[broker]


@pytest.mark.kafka_cluster(brokers=2, seed=3)
def test_api_versions_advertises_kafka_4_ranges(kafka_cluster: KafkaCluster) -> None:
    assert kafka_cluster.bootstrap_servers.count(",") == 1  # the marker's two brokers
    conn = RawConnection(_port(kafka_cluster, 1))
    resp = conn.request(18, 3, API_VERSIONS_V3)
    assert resp.error_code.value == 0
    got = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
    assert got == {a.key: (a.min_version, a.max_version) for a in APIS.values()}
    assert got[0] == (3, 13) and got[1] == (4, 18) and got[3] == (0, 13) and got[11] == (0, 9)
    conn.close()


def test_an_unsupported_api_versions_version_gets_the_v0_answer(lab: KafkaCluster) -> None:
    conn = RawConnection(_port(lab, 1))
    # a future ApiVersions v9 (header v2, a body this broker cannot know): the KIP-511 fallback answer
    req = frame(18, 3, 77, API_VERSIONS_V3)
    req = req[:6] + (9).to_bytes(2, "big") + req[8:]
    conn.send(req)
    corr, payload = conn.recv_frame()
    assert corr == 77
    resp = decode(18, 0, payload)
    assert resp.error_code.value == 35  # UNSUPPORTED_VERSION
    assert [(k.api_key, k.min_version, k.max_version) for k in resp.api_keys] == [(18, 0, 4)]
    assert conn.request(3, 1, {"topics": None}, corr=78).brokers  # the connection stays usable
    conn.close()


def test_one_connection_mixes_versions_and_answers_in_request_order(lab: KafkaCluster) -> None:
    lab.create_topic("mixed", partitions=1, replication_factor=1)
    leader = lab.leader_of("mixed")
    conn = RawConnection(_port(lab, leader))
    sent = [
        (1, 3, 1, {"topics": None}),
        (
            2,
            3,
            12,
            {
                "topics": None,
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        ),
        (3, 18, 0, {}),
        (4, 0, 9, _produce("mixed", 0, _batch(b"fire-and-forget"))),  # acks=0: no answer at all
        (5, 10, 3, {"key": "g", "key_type": 0}),
        (6, 60, 1, {"include_cluster_authorized_operations": False, "endpoint_type": 1}),
        (7, 0, 9, _produce("mixed", -1, _batch(b"acked"))),
        (8, 3, 0, {"topics": []}),
    ]
    data = b"".join(
        frame(
            key, version, corr, body, extra=b"\x00trailing" if corr == 2 else b""
        )  # trailing bytes are ignored
        for corr, key, version, body in sent
    )
    conn.send(data)  # all pipelined in one write
    answered = []
    for _ in range(7):
        corr, payload = conn.recv_frame()
        answered.append(corr)
        key, version = next((k, v) for c, k, v, _b in sent if c == corr)
        resp = decode(key, version, payload)
        if corr == 7:
            part = resp.responses[0].partition_responses[0]
            assert part.error_code.value == 0 and part.base_offset == 1  # after the acks=0 record
        if corr == 6:
            assert resp.cluster_id == lab.with_cluster(lambda c: c.cluster_id)
            assert sorted(b.broker_id for b in resp.brokers) == [1, 2, 3]
    assert answered == [1, 2, 3, 5, 6, 7, 8]
    values = [v for _o, _k, v in lab.read_all("mixed")[0]]
    assert values == [b"fire-and-forget", b"acked"]
    conn.close()


def test_bad_frames_close_only_their_connection_and_touch_nothing(
    lab: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    lab.create_topic("safe", partitions=1, replication_factor=3)
    good = RawConnection(_port(lab, lab.leader_of("safe")))
    resp = good.request(0, 9, _produce("safe", -1, _batch(b"one", b"two")))
    assert resp.responses[0].partition_responses[0].error_code.value == 0
    before = lab.read_all("safe")
    valid = frame(3, 1, 5, {"topics": None})
    bad = {
        "unknown api key": b"\x00\x00\x00\x0c" + b"\x27\x0f\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
        "size near 2^31": b"\x7f\xff\xff\xff" + b"\x00" * 64,
        "negative size": b"\x80\x00\x00\x00",
        "truncated body": (len(valid) - 6).to_bytes(4, "big") + valid[4:-2],
        "shorter than a header": b"\x00\x00\x00\x03abc",
        "garbage": b"\x00\x00\x00\x20" + bytes(range(200, 232)),
        "unsupported version": frame(3, 1, 5, {"topics": None})[:6] + b"\x00\x63" + valid[8:],
    }
    with caplog.at_level(logging.WARNING, logger="kafkalab.wire"):
        for name, data in bad.items():
            conn = RawConnection(_port(lab, 1), timeout=DEADLINE_S)
            conn.send(data)
            assert conn.closed_by_peer(), name
            conn.close()
    reasons = " | ".join(r.getMessage() for r in caplog.records)
    for needle in (
        "unknown or unsupported API key 9999",
        "invalid request size 2147483647",
        "invalid request size -2147483648",
        "unsupported version 99",
    ):
        assert needle in reasons
    # the other connection and the data are untouched
    assert good.request(3, 1, {"topics": None}, corr=9).brokers
    assert lab.read_all("safe") == before
    good.close()


def test_a_killed_broker_closes_its_sockets_and_refuses_connections(lab: KafkaCluster) -> None:
    conn = RawConnection(_port(lab, 2), timeout=DEADLINE_S)
    assert conn.request(18, 3, API_VERSIONS_V3).error_code.value == 0
    lab.kill_broker(2)
    assert conn.closed_by_peer()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", _port(lab, 2)), timeout=DEADLINE_S).close()
    lab.restart_broker(2)
    assert lab.listening(2)
    again = RawConnection(_port(lab, 2))
    assert again.request(18, 3, API_VERSIONS_V3).error_code.value == 0
    again.close()


def test_a_partition_cuts_off_outside_clients(lab: KafkaCluster) -> None:
    lab.partition(["outside"], [1])  # every outside client, also those that connect later, vs broker 1
    cut = RawConnection(_port(lab, 1), timeout=1.0)
    cut.send(frame(18, 3, 1, API_VERSIONS_V3))
    with pytest.raises(TimeoutError):
        cut.recv_frame()  # broker 1 never sees the request
    other = RawConnection(_port(lab, 2))
    assert other.request(18, 3, API_VERSIONS_V3).error_code.value == 0  # broker 2 is reachable
    lab.heal()
    fresh = RawConnection(_port(lab, 1))
    assert fresh.request(18, 3, API_VERSIONS_V3).error_code.value == 0
    for c in (cut, other, fresh):
        c.close()


def test_outside_requests_replay_exactly_and_a_rewind_drops_connections(lab: KafkaCluster) -> None:
    lab.create_topic("replayed", partitions=1, replication_factor=3)
    conn = RawConnection(_port(lab, lab.leader_of("replayed")), timeout=DEADLINE_S)
    for i in range(5):
        resp = conn.request(0, 9, _produce("replayed", -1, _batch(f"r{i}".encode())), corr=i)
        assert resp.responses[0].partition_responses[0].base_offset == i

    def replay(session: object) -> tuple[str, str, str | None]:
        s = session
        before = (s.cluster.trace_hash(), s.events, s.now_ms)  # type: ignore[attr-defined]
        s.replay()  # type: ignore[attr-defined]
        after = (s.cluster.trace_hash(), s.events, s.now_ms)  # type: ignore[attr-defined]
        return str(before), str(after), s.divergence  # type: ignore[attr-defined]

    before, after, divergence = lab.call(replay)
    assert divergence is None
    assert before == after  # same events, same order, same time: the run is a function of its inputs
    assert conn.closed_by_peer()  # the rewound cluster dropped the live connection
    assert [v for _o, _k, v in lab.read_all("replayed")[0]] == [f"r{i}".encode() for i in range(5)]
    again = RawConnection(_port(lab, lab.leader_of("replayed")))
    resp = again.request(0, 9, _produce("replayed", -1, _batch(b"after")), corr=9)
    assert resp.responses[0].partition_responses[0].base_offset == 5
    again.close()
