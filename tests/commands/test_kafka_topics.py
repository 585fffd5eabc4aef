"""kafka-topics as Kafka 4.x (KRaft) prints it: errors from the controller, --alter --partitions, bounds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkalab.commands import CommandResult, LabSession, execute
from kafkalab.sim.partitioner import default_partition

ERR = "Error while executing topic command : "


@pytest.fixture
def s() -> Iterator[LabSession]:
    session = LabSession(brokers=3, seed=42)
    assert execute(session, "kafka-topics --create --topic events --partitions 3 --replication-factor 3").ok
    yield session
    session.close()


def fails(s: LabSession, line: str) -> str:
    actions = len(s.actions)
    r: CommandResult = execute(s, line)
    assert not r.ok and r.error is not None and "\n" not in r.error, r
    assert len(s.actions) == actions  # nothing recorded, nothing changed
    return r.error


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-topics --create --topic x --replication-factor 5",
            ERR + "Unable to replicate the partition 5 time(s): The target replication factor of 5 cannot be "
            "reached because only 3 broker(s) are registered.",
        ),
        (
            "kafka-topics --create --topic x --replication-factor 32767",
            ERR
            + "Unable to replicate the partition 32767 time(s): The target replication factor of 32767 cannot "
            "be reached because only 3 broker(s) are registered.",
        ),
        (
            "kafka-topics --create --topic x --replication-factor 40000",
            ERR + "The replication factor must be between 1 and 32767 inclusive",
        ),
        ("kafka-topics --create --topic x --partitions 0", ERR + "The partitions must be greater than 0"),
        (
            "kafka-topics --create --topic x --partitions 2147483648",
            "kafka-topics: Cannot parse argument '2147483648' of option partitions",
        ),
        (
            "kafka-topics --create --topic x --replication-factor 99999999999",
            "kafka-topics: Cannot parse argument '99999999999' of option replication-factor",
        ),
        (
            "kafka-topics --create --topic x --partitions 100000",
            ERR
            + "Number of partitions 100000 is above this lab's limit of 1000 per topic (Kafka itself has no "
            "such limit; the simulated cluster keeps every partition in one process).",
        ),
        ("kafka-topics --describe --topic nope", ERR + "Topic 'Optional[nope]' does not exist as expected"),
        ("kafka-topics --delete --topic nope", ERR + "Topic 'Optional[nope]' does not exist as expected"),
        (
            "kafka-topics --alter --topic nope --partitions 4",
            ERR + "Topic 'Optional[nope]' does not exist as expected",
        ),
        (
            "kafka-topics --alter --topic events --partitions 2",
            ERR + "The topic events currently has 3 partition(s); 2 would not be an increase.",
        ),
        ("kafka-topics --alter --topic events --partitions 3", ERR + "Topic already has 3 partition(s)."),
        (
            "kafka-topics --alter --topic events --partitions 5000",
            ERR
            + "Number of partitions 5000 is above this lab's limit of 1000 per topic (Kafka itself has no "
            "such limit; the simulated cluster keeps every partition in one process).",
        ),
    ],
)
def test_errors_are_kafkas(s: LabSession, line: str, error: str) -> None:
    assert fails(s, line) == error


def test_a_killed_broker_still_counts_as_registered(s: LabSession) -> None:
    assert execute(s, "kill-broker 3").ok
    assert execute(s, "run 15s").ok  # fenced
    # KRaft's placer uses fenced brokers when the unfenced ones are too few: 3 replicas still fit
    assert execute(s, "kafka-topics --create --topic r3 --partitions 2 --replication-factor 3").ok
    assert all(len(p.replicas) == 3 and 3 not in p.isr for p in s.cluster.describe_topic("r3"))


def test_adding_partitions_changes_where_keys_go_once_clients_refresh_metadata(s: LabSession) -> None:
    """The lesson 'adding partitions breaks key order': a running producer keeps the old partition count
    until its metadata is refreshed (metadata.max.age.ms, 5 minutes); then the same key hashes elsewhere."""
    c = s.cluster
    p = c.producer({"linger.ms": 0})
    key = next(
        k
        for k in (f"user-{i}".encode() for i in range(100))
        if default_partition(k, 3) != default_partition(k, 12)
    )
    where: list[int] = []
    p.produce("events", key=key, value=b"1", on_delivery=lambda e, m: where.append(m.partition()))
    p.flush()
    assert execute(s, "kafka-topics --alter --topic events --partitions 12").ok
    p.produce("events", key=key, value=b"2", on_delivery=lambda e, m: where.append(m.partition()))
    p.flush()
    assert where[0] == where[1] == default_partition(key, 3)  # stale metadata: same partition
    c.run_for(300_000)
    p.produce("events", key=key, value=b"3", on_delivery=lambda e, m: where.append(m.partition()))
    p.flush()
    assert where[2] == default_partition(key, 12) != where[0]


def test_a_group_rebalances_onto_added_partitions(s: LabSession) -> None:
    c = s.cluster
    con = c.consumer({"group.id": "g", "metadata.max.age.ms": 5000})
    con.subscribe(["events"])
    for _ in range(10):
        con.consume(10, timeout=0.5)
    assert len(con.assignment()) == 3
    assert execute(s, "kafka-topics --alter --topic events --partitions 5").ok
    for _ in range(20):  # the leader's next metadata refresh sees 5 partitions and rejoins
        con.consume(10, timeout=0.5)
    d = c.describe_group("g")
    assert d.state == "Stable" and d.generation == 2 and len(con.assignment()) == 5
