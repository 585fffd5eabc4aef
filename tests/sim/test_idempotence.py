"""Idempotent producer under lost responses and failed batches (issue 11, points 6 and 7; KIP-98, KIP-360).

A batch whose response is lost is retried with the same producer id, epoch and sequence, so the broker
answers the retry with the original offset; a batch of another partition failing for good must not change
that (it used to reset the producer id and re-sequence every queued batch, so retries of batches already
written were written again, and out of order).
"""

from __future__ import annotations

from kafkalab import Cluster
from kafkalab.checker import check


def _setup(seed: int = 1) -> tuple[Cluster, int, int]:
    """Topic a (1 partition) and topic b (small max.message.bytes) led by different brokers."""
    c = Cluster(3, seed=seed)
    c.create_topic("a", 1, 3, {"min.insync.replicas": 2})
    c.create_topic("b", 3, 3, {"min.insync.replicas": 2, "max.message.bytes": 200})
    leader_a = c.describe_topic("a")[0].leader
    pb = next(p.partition for p in c.describe_topic("b") if p.leader != leader_a)
    return c, leader_a, pb


def _values(c: Cluster, topic: str, partition: int = 0) -> list[bytes | None]:
    return [v for _o, _k, v in c.read_all(topic)[partition]]


def test_an_acknowledged_record_is_written_once_when_another_partition_fails() -> None:
    c, leader_a, pb = _setup()
    p = c.producer({"linger.ms": 0, "request.timeout.ms": 1000, "retry.backoff.ms": 100})
    p.produce("b", partition=pb, value=b"warm-up")
    p.flush(5)
    reports: list[str] = []
    c.drop_messages(leader_a, p.name)  # a's leader writes the batch but its answers never arrive
    p.produce("a", value=b"once", on_delivery=lambda e, m: reports.append("ok" if e is None else e.name()))
    c.run_for(1500)  # written, timed out, retried (a duplicate for the broker), answer lost again
    p.produce("b", partition=pb, value=b"x" * 500, on_delivery=lambda e, m: reports.append(e.name()))
    c.run_for(1500)  # b's batch fails for good: MSG_SIZE_TOO_LARGE
    c.heal()
    p.flush(10)
    assert reports == ["MSG_SIZE_TOO_LARGE", "ok"]
    assert _values(c, "a").count(b"once") == 1  # before the fix: written again under a new producer id
    assert check(c.history).summary()["duplicates"] == 0


def test_acknowledged_records_of_a_partition_stay_in_send_order_when_another_partition_fails() -> None:
    c, leader_a, pb = _setup()
    p = c.producer({"linger.ms": 0, "request.timeout.ms": 1000, "retry.backoff.ms": 100})
    p.produce("b", partition=pb, value=b"warm-up")
    p.flush(5)
    c.drop_messages(leader_a, p.name)
    p.produce("a", value=b"first")
    c.run_for(200)
    p.produce("a", value=b"second")  # both in flight, both written, both answers lost
    c.run_for(850)  # "first" timed out and waits for its retry; "second" is still in flight
    p.produce("b", partition=pb, value=b"x" * 500)  # fails for good meanwhile
    c.run_for(2000)
    c.heal()
    p.flush(10)
    acked = {op.value: op.offset for op in c.history if op.type == "ack" and op.topic == "a"}
    assert acked[b"first"] < acked[b"second"]  # before the fix: "second" was re-sequenced ahead of "first"
    assert _values(c, "a") == [b"first", b"second"]


def test_the_producer_never_has_more_than_five_batches_past_the_oldest_unanswered_one() -> None:
    """The broker remembers 5 batches per producer and partition. A batch whose answer is delayed (its
    request also carries a partition whose high watermark is stuck) while later batches are acknowledged
    must stay within those 5, or its retry is no longer recognised as a duplicate."""
    from kafkalab.sim.clients.admin import NewTopic

    c = Cluster(3, seed=2)
    admin = c.admin()
    for name, replicas in (("a", [1, 2]), ("c", [1, 2, 3])):
        admin.create_topics([NewTopic(name, replica_assignment=[replicas])])[name].result()
    c.run_for(1000)
    p = c.producer({"linger.ms": 0, "request.timeout.ms": 3000, "retry.backoff.ms": 100})
    p.produce("a", value=b"v-0")
    p.flush(5)
    reports: list[str] = []
    c.pause_broker(3)  # c's follower stalls: c's high watermark stops until the ISR shrinks
    p.produce("c", value=b"stuck")
    p.produce("a", value=b"v-1", on_delivery=lambda e, m: reports.append("ok" if e is None else e.name()))
    for i in range(2, 13):  # one request carried a's v-1 and c's record: it waits; these do not
        c.run_for(100)
        p.produce(
            "a",
            value=f"v-{i}".encode(),
            on_delivery=lambda e, m: reports.append("ok" if e is None else e.name()),
        )
    c.run_for(10_000)  # v-1's request times out and is retried
    c.resume_broker(3)
    p.flush(30)
    assert reports == ["ok"] * 12
    assert _values(c, "a") == [f"v-{i}".encode() for i in range(13)]
