"""The history stores ops in sealed chunks; reading it must not show the seams."""

from __future__ import annotations

import gc

from kafkalab import OFFSET_BEGINNING, Cluster, TopicPartition
from kafkalab.sim.history import CHUNK_OPS, History, Op


def test_ops_read_back_in_order_across_chunk_boundaries() -> None:
    h = History()
    n = 2 * CHUNK_OPS + 17
    for i in range(n):
        h.add(i, "send", "p", "t", 0, None, None, str(i).encode())
    assert len(h) == len(h.ops) == n
    assert [op.time_ms for op in h] == list(range(n))
    for i in (0, CHUNK_OPS - 1, CHUNK_OPS, 2 * CHUNK_OPS, n - 1, -1, -n):
        assert h.ops[i].time_ms == range(n)[i]
    assert [op.time_ms for op in h.ops[CHUNK_OPS - 2 : CHUNK_OPS + 2]] == list(
        range(CHUNK_OPS - 2, CHUNK_OPS + 2)
    )
    assert h.ops[5] == Op(5, "send", "p", "t", 0, None, None, b"5")
    assert len(h.of_type("send")) == n


def test_sealed_chunks_are_left_alone_by_the_cycle_collector() -> None:
    h = History()
    for i in range(3 * CHUNK_OPS):
        h.add(i, "ack", "p", "t", 0, i, b"k", b"v")
    gc.collect()
    gc.collect()
    # a tuple of plain-tuple ops is untracked: a full collection no longer walks millions of ops
    assert h._sealed and not any(gc.is_tracked(chunk) for chunk in h._sealed)


def test_a_busy_run_records_every_send_ack_and_consume_once() -> None:
    c = Cluster(brokers=3, seed=3)
    c.create_topic("t", 2, 3)
    p = c.producer({"acks": "all", "linger.ms": 5})
    n = CHUNK_OPS + 500  # more than a chunk of each op type
    for i in range(n):
        p.produce("t", f"v{i}".encode(), f"k{i % 7}".encode())
    p.flush()
    consumer = c.consumer({"auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("t", i, OFFSET_BEGINNING) for i in range(2)])
    got = 0
    while got < n:
        got += len(consumer.consume(10_000, timeout=1.0))
    for kind in ("send", "ack", "consume"):
        values = [op.value for op in c.history if op.type == kind]
        assert sorted(values) == sorted(f"v{i}".encode() for i in range(n)), kind
    acks = {(op.partition, op.offset): op.value for op in c.history if op.type == "ack"}
    consumes = {(op.partition, op.offset): op.value for op in c.history if op.type == "consume"}
    assert acks == consumes
    c.close()


def test_runs_added_column_wise_read_back_as_single_ops() -> None:
    h = History()
    h.add(1, "send", "p", "t", 0, None, b"k0", b"v0")
    h.add_batch(2, "ack", "p", "t", 0, range(10, 13), (b"k0", b"k1", b"k2"), (b"v0", b"v1", b"v2"))
    h.add_batch(3, "ack", "p", "t", 1, None, (None,), (b"w",))  # acks=0: no offsets
    h.add_batch(4, "consume", "c", "t", 0, (10, 12), (b"k0", b"k2"), (b"v0", b"v2"), "g")
    h.add_batch(5, "consume", "c", "t", 0, (), (), (), "g")  # nothing taken: nothing recorded
    expected = [
        Op(1, "send", "p", "t", 0, None, b"k0", b"v0"),
        Op(2, "ack", "p", "t", 0, 10, b"k0", b"v0"),
        Op(2, "ack", "p", "t", 0, 11, b"k1", b"v1"),
        Op(2, "ack", "p", "t", 0, 12, b"k2", b"v2"),
        Op(3, "ack", "p", "t", 1, None, None, b"w"),
        Op(4, "consume", "c", "t", 0, 10, b"k0", b"v0", None, "g"),
        Op(4, "consume", "c", "t", 0, 12, b"k2", b"v2", None, "g"),
    ]
    assert list(h) == expected
    assert len(h) == len(expected)
    assert [h.ops[i] for i in range(-len(expected), len(expected))] == expected * 2
    assert h.ops[2:4] == expected[2:4]


def test_op_times_between_two_marks_across_chunk_boundaries() -> None:
    h = History()
    for i in range(CHUNK_OPS - 10):
        h.append(Op(i, "send", "p", "t", 0))
    start = h.mark()
    for i in range(30):  # crosses a sealed chunk
        h.append(Op(10_000 + i, "commit" if i % 7 == 0 else "ack", "c", "t", 0, i))
    middle = h.mark()
    h.append(Op(20_000, "commit", "c", "t", 0, 99))
    commits = frozenset({"commit"})
    assert h.op_times(commits, start, middle) == [10_000 + i for i in range(30) if i % 7 == 0]
    assert h.op_times(commits, middle) == [20_000]
    assert h.op_times(commits, (0, 0, 0)) == [*h.op_times(commits, start, middle), 20_000]
    assert h.op_times(frozenset({"send"}), start) == []
