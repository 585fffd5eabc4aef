"""confluent-kafka (librdkafka) against the lab's Kafka listeners, with a broker killed mid-run each time."""

from __future__ import annotations

import contextlib
import re
import time

import confluent_kafka as ck
import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from kafkalab.testing import KafkaCluster

from .conftest import DEADLINE_S, assert_acked_present

QUIET = {"log_level": 0}


def _create(lab: KafkaCluster, name: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": lab.bootstrap_servers, **QUIET})
    fut = admin.create_topics([NewTopic(name, partitions, 3, config={"min.insync.replicas": "2"})])[name]
    fut.result(DEADLINE_S)


def test_idempotent_acks_all_producer_loses_nothing_when_the_leader_dies(lab: KafkaCluster) -> None:
    _create(lab, "orders")
    p = ck.Producer(
        {"bootstrap.servers": lab.bootstrap_servers, "acks": "all", "enable.idempotence": True, **QUIET}
    )
    acked: list[tuple[int, int, bytes]] = []
    failed: list[str] = []

    def report(err: object, msg: object) -> None:
        if err is not None:
            failed.append(str(err))
        else:
            acked.append((msg.partition(), msg.offset(), msg.value()))  # type: ignore[attr-defined]

    victim = lab.leader_of("orders", 0)
    for i in range(3000):
        p.produce("orders", key=f"k{i % 17}", value=f"order-{i}".encode(), on_delivery=report)
        if i == 1000:
            p.flush(DEADLINE_S)
            lab.kill_broker(victim)  # mid-run: records 1001.. are produced while the leader is gone
        p.poll(0)
    assert p.flush(DEADLINE_S) == 0
    assert not failed
    assert len(acked) == 3000
    assert lab.leader_of("orders", 0) != victim
    assert_acked_present(lab, "orders", acked)
    assert any("started producing to orders (acks=all, idempotent)" in line for line in lab.timeline())


def test_group_of_three_rebalances_commits_and_resumes(lab: KafkaCluster) -> None:
    _create(lab, "clicks", partitions=6)
    p = ck.Producer({"bootstrap.servers": lab.bootstrap_servers, "acks": "all", **QUIET})
    for i in range(600):
        p.produce("clicks", key=f"u{i}", value=f"click-{i}".encode())
    assert p.flush(DEADLINE_S) == 0
    ends = {("clicks", x.partition): x.high_watermark for x in lab.describe_topic("clicks")}

    conf = {
        "bootstrap.servers": lab.bootstrap_servers,
        "group.id": "readers",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "client.id": "reader",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        **QUIET,
    }
    consumers = [ck.Consumer(dict(conf)) for _ in range(3)]
    for c in consumers:
        c.subscribe(["clicks"])
    seen: set[bytes] = set()
    killed = False
    deadline = time.monotonic() + DEADLINE_S
    while (lab.describe_group("readers").offsets != ends or not killed) and time.monotonic() < deadline:
        for c in consumers:
            m = c.poll(0.05)
            if m is not None and m.error() is None:
                seen.add(m.value())
            # a rebalance or the coordinator moving may fail a commit: the next one covers it
            with contextlib.suppress(ck.KafkaException):
                c.commit(asynchronous=True)
        group = lab.describe_group("readers")
        if not killed and seen and group.state == "Stable" and len(group.members) == 3:
            described = "\n".join(lab.command("kafka-consumer-groups --describe --group readers --members"))
            assert len(re.findall(r"/127\.0\.0\.1\s+reader\s", described)) == 3, described
            victim = group.coordinator
            lab.kill_broker(victim)  # the group coordinator dies mid-run
            killed = True
    assert killed and len(seen) == 600
    assert lab.describe_group("readers").offsets == ends
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:  # the three find the new coordinator and settle there
        for c in consumers:
            c.poll(0.05)
        group = lab.describe_group("readers")
        if group.coordinator != victim and group.state == "Stable" and len(group.members) == 3:
            break

    consumers.pop().close()  # one member leaves: the other two take over its partitions
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        for c in consumers:
            c.poll(0.05)
        group = lab.describe_group("readers")
        if group.state == "Stable" and len(group.members) == 2:
            break
    assert sum(len(m.assignment) for m in group.members) == 6 and len(group.members) == 2
    for c in consumers:
        c.close()

    # a new member resumes where the group left off: it reads only what was produced since
    for i in range(600, 650):
        p.produce("clicks", key=f"u{i}", value=f"click-{i}".encode())
    assert p.flush(DEADLINE_S) == 0
    late = ck.Consumer(dict(conf))
    late.subscribe(["clicks"])
    resumed: list[bytes] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(resumed) < 50 and time.monotonic() < deadline:
        m = late.poll(0.1)
        if m is not None and m.error() is None:
            resumed.append(m.value())
    late.close()
    assert sorted(resumed) == sorted(f"click-{i}".encode() for i in range(600, 650))
    assert any("reader (127.0.0.1:" in line and "joined group readers" in line for line in lab.timeline())


def test_transactions_commit_and_abort_for_read_committed_consumers(lab: KafkaCluster) -> None:
    _create(lab, "payments")
    tp = ck.Producer({"bootstrap.servers": lab.bootstrap_servers, "transactional.id": "payer", **QUIET})
    tp.init_transactions(DEADLINE_S)
    tp.begin_transaction()
    for i in range(100):
        tp.produce("payments", key=f"a{i}", value=f"kept-{i}".encode())
    tp.commit_transaction(DEADLINE_S)

    lab.kill_broker(lab.leader_of("payments", 1))  # mid-run, between two transactions

    tp.begin_transaction()
    for i in range(100):
        tp.produce("payments", key=f"a{i}", value=f"dropped-{i}".encode())
    tp.flush(DEADLINE_S)
    tp.abort_transaction(DEADLINE_S)
    tp.begin_transaction()
    for i in range(100, 150):
        tp.produce("payments", key=f"a{i}", value=f"kept-{i}".encode())
    tp.commit_transaction(DEADLINE_S)

    def read(isolation: str, want: int) -> list[bytes]:
        c = ck.Consumer(
            {
                "bootstrap.servers": lab.bootstrap_servers,
                "group.id": f"audit-{isolation}",
                "isolation.level": isolation,
                **QUIET,
            }
        )
        c.assign([ck.TopicPartition("payments", p, ck.OFFSET_BEGINNING) for p in range(3)])
        out: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(out) < want and time.monotonic() < deadline:
            m = c.poll(0.1)
            if m is not None and m.error() is None:
                out.append(m.value())
        c.close()
        return out

    committed = read("read_committed", 150)
    assert sorted(committed) == sorted(f"kept-{i}".encode() for i in range(150))
    assert len(read("read_uncommitted", 250)) == 250  # the aborted records are in the log, just not visible
    assert any("aborted a transaction of payer" in line for line in lab.timeline())


def test_admin_creates_describes_and_deletes_topics(lab: KafkaCluster) -> None:
    admin = AdminClient({"bootstrap.servers": lab.bootstrap_servers, **QUIET})
    futs = admin.create_topics(
        [NewTopic("alpha", 3, 3, config={"retention.ms": "60000"}), NewTopic("beta", 2, 1)]
    )
    for f in futs.values():
        f.result(DEADLINE_S)
    with pytest.raises(ck.KafkaException) as exists:
        admin.create_topics([NewTopic("alpha", 1, 1)])["alpha"].result(DEADLINE_S)
    assert exists.value.args[0].code() == ck.KafkaError.TOPIC_ALREADY_EXISTS

    lab.kill_broker(2)  # mid-run

    md = admin.list_topics(timeout=DEADLINE_S)
    assert len(md.topics["alpha"].partitions) == 3 and len(md.topics["beta"].partitions) == 2
    deadline = time.monotonic() + DEADLINE_S
    while 2 in md.brokers and time.monotonic() < deadline:  # it drops out once the controller fences it
        md = admin.list_topics(timeout=DEADLINE_S)
    assert sorted(md.brokers) == [1, 3]
    res = ConfigResource(ConfigResource.Type.TOPIC, "alpha")
    configs = admin.describe_configs([res])[res].result(DEADLINE_S)
    assert configs["retention.ms"].value == "60000"
    assert configs["cleanup.policy"].value == "delete"
    cluster = admin.describe_cluster().result(DEADLINE_S) if hasattr(admin, "describe_cluster") else None
    if cluster is not None:
        assert cluster.cluster_id == lab.with_cluster(lambda c: c.cluster_id)
    # a killed broker stays registered (KRaft places replicas on fenced brokers): ask for 4 of 3
    with pytest.raises(ck.KafkaException) as too_many:
        admin.create_topics([NewTopic("gamma", 1, 4)])["gamma"].result(DEADLINE_S)
    assert too_many.value.args[0].code() == ck.KafkaError.INVALID_REPLICATION_FACTOR

    admin.delete_topics(["beta"])["beta"].result(DEADLINE_S)
    assert "beta" not in lab.topics()
    assert "alpha" in lab.topics()
