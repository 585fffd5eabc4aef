"""Protocol fuzzing: random and mutated frames never crash the lab and never change stored data.

Two layers: the frame parser alone under Hypothesis (any bytes either parse or raise FrameError), and a live
listener fed a seeded corpus of random frames, mutated valid requests and size prefixes near 2^31 over many
connections. ``KAFKALAB_WIRE_FUZZ=N`` sends N frames instead of the default 400.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkalab.testing import KafkaCluster
from kafkalab.wire.apis import SUPPORTED
from kafkalab.wire.codec import FrameError, parse_request

from .conftest import DEADLINE_S
from .rawclient import RawConnection, frame
from .test_protocol import API_VERSIONS_V3, _batch, _produce

FRAMES = int(os.environ.get("KAFKALAB_WIRE_FUZZ", "400"))


def _valid_frames() -> list[bytes]:
    """Requests that only read (so a mutation that still parses cannot change any data) and produce requests
    to mutate inside their record batch (the CRC then fails)."""
    out = [
        frame(18, 3, 1, API_VERSIONS_V3),
        frame(18, 0, 2, {}),
        frame(3, 1, 3, {"topics": None}),
        frame(
            3,
            12,
            4,
            {
                "topics": [{"name": "data", "topic_id": None}],
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        ),
        frame(
            1,
            11,
            5,
            {
                "max_wait": 10,
                "min_bytes": 1,
                "topics": [
                    {
                        "topic": "data",
                        "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1024}],
                    }
                ],
                "forgotten_topics_data": [],
            },
        ),
        frame(
            2,
            7,
            6,
            {
                "replica_id": -1,
                "isolation_level": 0,
                "topics": [{"name": "data", "partitions": [{"partition_index": 0, "timestamp": -1}]}],
            },
        ),
        frame(10, 3, 7, {"key": "g", "key_type": 0}),
        frame(15, 5, 8, {"groups": ["g"], "include_authorized_operations": False}),
        frame(16, 4, 9, {"states_filter": []}),
        frame(
            32,
            4,
            10,
            {"resources": [{"resource_type": 2, "resource_name": "data", "configuration_keys": None}]},
        ),
        frame(60, 1, 11, {"include_cluster_authorized_operations": False, "endpoint_type": 1}),
        frame(9, 7, 12, {"group_id": "g", "topics": None}),
    ]
    return out


def _mutate(rng: random.Random, data: bytes, produce: bool) -> bytes:
    b = bytearray(data)
    start = len(b) - 40 if produce else 4  # produce: only inside the record batch's records
    kind = rng.randrange(6)
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(start, len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1 and not produce:  # truncate the body, keep the size prefix honest
        b = b[: rng.randrange(4, len(b))]
        b[:4] = struct.pack(">i", len(b) - 4)
    elif kind == 2:  # overwrite a run of bytes
        i = rng.randrange(start, len(b))
        for j in range(i, min(len(b), i + rng.randint(1, 8))):
            b[j] = rng.randrange(256)
    elif kind == 3 and not produce:  # a lying size prefix
        b[:4] = struct.pack(">i", rng.choice([len(b) - 4 + rng.randint(1, 50), rng.randint(0, 7)]))
    elif kind == 4 and not produce:  # another api key or version
        b[4:6] = struct.pack(">h", rng.randrange(-5, 100))
        b[6:8] = struct.pack(">h", rng.randrange(-2, 20))
    else:  # bytes inserted in the middle
        i = rng.randrange(start, len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        if not produce:
            b[:4] = struct.pack(">i", len(b) - 4)
    return bytes(b)


def _corpus(rng: random.Random, n: int) -> list[bytes]:
    valid = _valid_frames()
    produce = frame(0, 9, 13, _produce("data", -1, _batch(b"mutant-1", b"mutant-2")))
    huge = [0x7FFFFFFF, 0x7FFFFFFE, 0x7FFFFF00, 0x40000000, -1, -0x80000000, 104_857_601]
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))))
        elif kind == 1:
            out.append(
                struct.pack(">i", rng.choice(huge))
                + bytes(rng.randrange(256) for _ in range(rng.randint(0, 32)))
            )
        elif kind == 2:
            out.append(_mutate(rng, produce, produce=True))
        else:
            out.append(_mutate(rng, rng.choice(valid), produce=False))
    return out


def _data_fingerprint(lab: KafkaCluster) -> tuple[object, ...]:
    """What is stored: the user topics, every committed record, the bytes of the data topic's segment files.

    (A FindCoordinator that survives mutation may create ``__consumer_offsets``, as it does in Kafka: internal
    topics are left out.)"""

    def files(cluster: object) -> str:
        h = hashlib.sha256()
        for b in sorted(cluster.brokers.values(), key=lambda b: b.broker_id):  # type: ignore[attr-defined]
            part = b.partitions.get(("data", 0))
            if part is None:
                continue
            part.log.flush()
            for path in sorted(b.partition_dir("data", 0).glob("*.log")):
                h.update(path.read_bytes())
        return h.hexdigest()

    topics = tuple(t for t in lab.topics() if not t.startswith("__"))
    return (topics, lab.read_all("data"), lab.with_cluster(files))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_the_frame_parser_either_parses_or_refuses_with_a_reason(data: bytes) -> None:
    try:
        parsed = parse_request(data, SUPPORTED)
    except FrameError as e:
        assert str(e)
    else:
        assert parsed.api_key in SUPPORTED


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_valid_frames()), st.integers(min_value=0, max_value=2**32 - 1), st.integers(0, 255))
def test_mutated_requests_either_parse_or_refuse_with_a_reason(valid: bytes, where: int, value: int) -> None:
    body = bytearray(valid[4:])
    body[where % len(body)] = value
    try:
        parse_request(bytes(body), SUPPORTED)
    except FrameError as e:
        assert str(e)


@pytest.mark.kafka_cluster(brokers=3, seed=5, broker_config={"auto.create.topics.enable": "false"})
def test_a_live_listener_survives_random_and_mutated_frames(
    kafka_cluster: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    lab = kafka_cluster
    lab.create_topic("data", partitions=1, replication_factor=3)
    writer = RawConnection(lab.ports[lab.leader_of("data")])
    resp = writer.request(0, 9, _produce("data", -1, _batch(b"keep-1", b"keep-2", b"keep-3")))
    assert resp.responses[0].partition_responses[0].error_code.value == 0
    before = _data_fingerprint(lab)

    rng = random.Random(20240611)
    ports = list(lab.ports.values())
    sent = 0
    with caplog.at_level(logging.WARNING, logger="kafkalab.wire"):
        corpus = _corpus(rng, FRAMES)
        while corpus:
            # a few frames per connection: bad ones close it, good ones are answered (or not) in order
            k = rng.randint(1, 6)
            batch, corpus = corpus[:k], corpus[k:]
            sock = socket.create_connection(("127.0.0.1", rng.choice(ports)), timeout=DEADLINE_S)
            try:
                sent += len(batch)
                for data in batch:
                    sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):  # read answers until the broker closes or the client side ends
                    pass
            except OSError:  # the broker closed it first (reset, broken pipe, not connected)
                pass
            finally:
                sock.close()
    assert sent >= FRAMES
    crashes = [r for r in caplog.records if "internal error" in r.getMessage() or "raised" in r.getMessage()]
    assert not crashes, crashes[0].getMessage()
    assert any(
        "bad request" in r.getMessage() or "closing connection" in r.getMessage() for r in caplog.records
    )
    # the lab still works and nothing stored changed
    assert writer.request(3, 1, {"topics": None}, corr=2).brokers
    assert _data_fingerprint(lab) == before
    writer.close()
