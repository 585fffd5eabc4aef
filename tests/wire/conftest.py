"""Shared by the wire tests: a lab cluster with fast failover, and the checks every client test makes.

Real clients run on wall time, so these tests wait for outcomes (with generous deadlines) and never assert
on how long anything took.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkalab.testing import KafkaCluster
from kafkalab.testing import (
    kafka_cluster as kafka_cluster,  # the fixture users get (test_protocol.py uses it)
)

#: a killed broker is fenced after 1 s instead of 9 s, and groups rebalance without the 3 s initial
#: delay, so a test sees a failover within seconds (both are Kafka configs)
FAST = {
    "broker.session.timeout.ms": "1000",
    "broker.heartbeat.interval.ms": "250",
    "group.initial.rebalance.delay.ms": "0",
}
#: generous deadline (wall seconds) for anything a test waits for
DEADLINE_S = 60


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kafka_cluster(brokers=3, seed=0, broker_config=None): shape of kafka_cluster"
    )


@pytest.fixture
def lab() -> Iterator[KafkaCluster]:
    with KafkaCluster(brokers=3, seed=11, broker_config=FAST) as cluster:
        yield cluster


def assert_acked_present(lab: KafkaCluster, topic: str, acked: list[tuple[int, int, bytes]]) -> None:
    """Every acknowledged (partition, offset, value) is in the log at that offset, and no value twice."""
    data = lab.read_all(topic)
    at = {(p, off): value for p, rows in data.items() for off, _k, value in rows}
    lost = [(p, off, v) for p, off, v in acked if at.get((p, off)) != v]
    assert not lost, f"{len(lost)} acknowledged records lost, e.g. {lost[:3]}"
    values = [v for rows in data.values() for _o, _k, v in rows]
    assert len(values) == len(set(values)), "a record was written twice"
