"""kafka-python against the lab's Kafka listeners, with a broker killed mid-run each time."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (
    InvalidReplicationFactorError,
    KafkaConnectionError,
    KafkaError,
    TopicAlreadyExistsError,
)

from kafkalab.testing import KafkaCluster

from .conftest import DEADLINE_S, assert_acked_present


def _retry(op: Any) -> Any:
    """kafka-python's admin may pick a node that just died: try again, as users do."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return op()
        except (KafkaError, OSError) as e:
            if time.monotonic() > deadline or not (isinstance(e, OSError) or e.retriable):
                raise


def _create(lab: KafkaCluster, name: str, partitions: int = 3) -> None:
    admin = KafkaAdminClient(bootstrap_servers=lab.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(name, partitions, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()


def test_idempotent_acks_all_producer_loses_nothing_when_the_leader_dies(lab: KafkaCluster) -> None:
    _create(lab, "orders")
    p = KafkaProducer(bootstrap_servers=lab.bootstrap_servers, acks="all", enable_idempotence=True)
    acked: list[tuple[int, int, bytes]] = []
    victim = lab.leader_of("orders", 0)
    try:
        for burst in range(6):
            if burst == 3:
                lab.kill_broker(victim)  # mid-run
            futs = [
                (p.send("orders", key=f"k{i % 17}".encode(), value=f"order-{burst}-{i}".encode()), i)
                for i in range(300)
            ]
            for fut, i in futs:
                md = fut.get(timeout=DEADLINE_S)
                acked.append((md.partition, md.offset, f"order-{burst}-{i}".encode()))
    finally:
        p.close()
    assert len(acked) == 1800
    assert lab.leader_of("orders", 0) != victim
    assert_acked_present(lab, "orders", acked)


class _Member(threading.Thread):
    """One group member in its own thread, as kafka-python consumers are meant to run: poll, commit."""

    def __init__(self, make: Any, seen: set[bytes]) -> None:
        super().__init__(daemon=True)
        self.consumer = make()
        self.seen = seen
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._poll_until_stopped()
        except BaseException as e:  # shown by the test's assertions, not lost in a thread
            self.error = e
            raise

    def _poll_until_stopped(self) -> None:
        c = self.consumer
        while not self.stop.is_set():
            try:
                polled = c.poll(timeout_ms=100)
            except KafkaError as e:
                # kafka-python's poll() raises a retriable error when its metadata refresh meets the killed
                # broker's closed port (ECONNREFUSED); applications poll again, and so does this one
                if not e.retriable:
                    raise
                continue
            for msgs in polled.values():
                self.seen.update(m.value for m in msgs)
            # a rebalance or the coordinator moving may fail a commit: the next one covers it
            with contextlib.suppress(KafkaError):
                c.commit_async()
        c.close()

    def leave(self) -> None:
        self.stop.set()
        self.join(DEADLINE_S)


def test_group_of_three_rebalances_commits_and_resumes(lab: KafkaCluster) -> None:
    _create(lab, "clicks", partitions=6)
    p = KafkaProducer(bootstrap_servers=lab.bootstrap_servers, acks="all")
    for i in range(600):
        p.send("clicks", key=f"u{i}".encode(), value=f"click-{i}".encode())
    p.flush(DEADLINE_S)
    ends = {("clicks", x.partition): x.high_watermark for x in lab.describe_topic("clicks")}

    def consumer() -> KafkaConsumer:
        return KafkaConsumer(
            "clicks",
            bootstrap_servers=lab.bootstrap_servers,
            group_id="readers",
            client_id="pyreader",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            # the client's threads share this process (and its GIL) with the lab's: under load they stall
            # for seconds, so a short session timeout expels live members (Kafka's default is 45 s)
            session_timeout_ms=30000,
            heartbeat_interval_ms=1000,
        )

    seen: set[bytes] = set()
    members = [_Member(consumer, seen) for _ in range(3)]
    for m in members:  # metadata first, as for the late consumer below: a leader without it assigns nothing
        assert _retry(lambda c=m.consumer: c.partitions_for_topic("clicks")) == set(range(6))
        m.start()
    try:
        assert lab.wait_until(lambda c: _stable(c, 3), DEADLINE_S), _story(lab, members)
        victim = lab.group_coordinator("readers")
        lab.kill_broker(victim)  # the group coordinator dies mid-run
        assert lab.wait_until(lambda c: c.describe_group("readers").offsets == ends, DEADLINE_S), _story(
            lab, members
        )
        assert len(seen) == 600

        members.pop().leave()  # one member leaves: the other two take over its partitions, on the new coordinator
        # checked in one look: kafka-python members may rebalance once more after settling, and a group that
        # is preparing a rebalance shows its members without assignments
        assert lab.wait_until(
            lambda c: _stable(c, 2) and _owned(c) == 6 and c.describe_group("readers").coordinator != victim,
            DEADLINE_S,
        ), _story(lab, members)
    finally:
        for m in members:
            m.leave()

    for i in range(600, 650):
        p.send("clicks", key=f"u{i}".encode(), value=f"click-{i}".encode())
    p.flush(DEADLINE_S)
    p.close()
    late = consumer()
    # kafka-python may join before its first metadata has the topic (its bootstrap list still names the killed
    # broker, whose port refuses): as the group's leader it then assigns nothing ("No partition metadata for
    # topic clicks"). Asking for the topic's partitions first waits for that metadata.
    assert _retry(lambda: late.partitions_for_topic("clicks")) == set(range(6))
    resumed: list[bytes] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(resumed) < 50 and time.monotonic() < deadline:
        with contextlib.suppress(KafkaConnectionError):  # as in _Member.run: poll again
            for msgs in late.poll(timeout_ms=100).values():
                resumed += [m.value for m in msgs]
    late.close()
    assert sorted(resumed) == sorted(f"click-{i}".encode() for i in range(600, 650))
    assert any("pyreader (127.0.0.1:" in line and "joined group readers" in line for line in lab.timeline())


def _story(lab: KafkaCluster, members: list[_Member]) -> str:
    """What a failed wait shows: the group, the members' errors and the group's last timeline entries."""
    group = lab.describe_group("readers")
    lines = [line for line in lab.timeline() if "readers" in line or "died" in line][-40:]
    return "\n".join(
        [f"group {group.state}, {len(group.members)} member(s); member errors: {[m.error for m in members]}"]
        + lines
    )


def _owned(cluster: Any) -> int:
    """How many partitions the group's members own."""
    return sum(len(m.assignment) for m in cluster.describe_group("readers").members)


def _stable(cluster: Any, members: int) -> bool:
    group = cluster.describe_group("readers")
    return group.state == "Stable" and len(group.members) == members


def test_transactions_commit_and_abort_for_read_committed_consumers(lab: KafkaCluster) -> None:
    _create(lab, "payments")
    tp = KafkaProducer(bootstrap_servers=lab.bootstrap_servers, transactional_id="payer")
    try:
        tp.init_transactions()
        tp.begin_transaction()
        for i in range(100):
            tp.send("payments", key=f"a{i}".encode(), value=f"kept-{i}".encode())
        tp.commit_transaction()
        # mid-run, between two transactions: a partition leader dies (not the transaction coordinator:
        # kafka-python waits request.timeout.ms, 30 s, before it looks for a new coordinator)
        coordinator = lab.transaction_coordinator("payer")
        lab.kill_broker(next(p.leader for p in lab.describe_topic("payments") if p.leader != coordinator))
        tp.begin_transaction()
        for i in range(100):
            tp.send("payments", key=f"a{i}".encode(), value=f"dropped-{i}".encode())
        tp.flush(DEADLINE_S)
        tp.abort_transaction()
        tp.begin_transaction()
        for i in range(100, 150):
            tp.send("payments", key=f"a{i}".encode(), value=f"kept-{i}".encode())
        tp.commit_transaction()
    finally:
        tp.close()

    def read(isolation: str, want: int) -> list[bytes]:
        c = KafkaConsumer(
            bootstrap_servers=lab.bootstrap_servers, isolation_level=isolation, auto_offset_reset="earliest"
        )
        c.assign([TopicPartition("payments", p) for p in range(3)])
        out: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(out) < want and time.monotonic() < deadline:
            for msgs in c.poll(timeout_ms=100).values():
                out += [m.value for m in msgs]
        c.close()
        return out

    assert sorted(read("read_committed", 150)) == sorted(f"kept-{i}".encode() for i in range(150))
    assert len(read("read_uncommitted", 250)) == 250


def test_admin_creates_describes_and_deletes_topics(lab: KafkaCluster) -> None:
    admin = KafkaAdminClient(bootstrap_servers=lab.bootstrap_servers)
    try:
        admin.create_topics(
            [NewTopic("alpha", 3, 3, topic_configs={"retention.ms": "60000"}), NewTopic("beta", 2, 1)]
        )
        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic("alpha", 1, 1)])
        lab.kill_broker(2)  # mid-run
        assert {"alpha", "beta"} <= set(_retry(admin.list_topics))
        described = _retry(lambda: admin.describe_topics(["alpha"]))
        assert len(described[0]["partitions"]) == 3
        configs = _retry(
            lambda: admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, "alpha")], config_filter="all"
            )
        )
        text = repr(configs)
        assert "retention.ms" in text and "60000" in text
        cluster = _retry(admin.describe_cluster)
        assert cluster["cluster_id"] == lab.with_cluster(lambda c: c.cluster_id)
        assert lab.wait_until(lambda c: c.describe_cluster().brokers[1].fenced, DEADLINE_S)
        # a killed broker stays registered (KRaft places replicas on fenced brokers): ask for 4 of 3
        with pytest.raises(InvalidReplicationFactorError):
            _retry(lambda: admin.create_topics([NewTopic("gamma", 1, 4)]))
        _retry(lambda: admin.delete_topics(["beta"]))
    finally:
        admin.close()
    assert "beta" not in lab.topics()
    assert "alpha" in lab.topics()
