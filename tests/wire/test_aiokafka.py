"""aiokafka against the lab's Kafka listeners, with a broker killed mid-run each time."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    InvalidReplicationFactorError,
    KafkaConnectionError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)

from kafkalab.testing import KafkaCluster

from .conftest import DEADLINE_S, assert_acked_present


async def _retry(lab: KafkaCluster, op: Any) -> Any:
    """aiokafka's admin sends each request to one node and gives up if it is down: try again, as users do."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return await op()
        except (NodeNotReadyError, KafkaConnectionError, RequestTimedOutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.to_thread(_lab_time_passes, lab, 100)  # retry.backoff.ms of the lab's clock


def _lab_time_passes(lab: KafkaCluster, ms: int) -> None:
    """Wait until ``ms`` of the cluster's virtual time have gone by (it runs at 1x while clients connect)."""
    start_ms = lab.with_cluster(lambda c: c.kernel.now_ms)
    assert lab.wait_until(lambda c: c.kernel.now_ms >= start_ms + ms, DEADLINE_S)


async def _create(lab: KafkaCluster, name: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=lab.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        await admin.close()


async def test_idempotent_acks_all_producer_loses_nothing_when_the_leader_dies(lab: KafkaCluster) -> None:
    await _create(lab, "orders")
    p = AIOKafkaProducer(bootstrap_servers=lab.bootstrap_servers, acks="all", enable_idempotence=True)
    await p.start()
    acked: list[tuple[int, int, bytes]] = []
    victim = lab.leader_of("orders", 0)
    try:
        for burst in range(6):
            if burst == 3:
                lab.kill_broker(victim)  # mid-run
            futs = [
                await p.send("orders", key=f"k{i % 17}".encode(), value=f"order-{burst}-{i}".encode())
                for i in range(300)
            ]
            for i, md in enumerate(await asyncio.gather(*futs)):
                acked.append((md.partition, md.offset, f"order-{burst}-{i}".encode()))
    finally:
        await p.stop()
    assert len(acked) == 1800
    assert lab.leader_of("orders", 0) != victim
    assert_acked_present(lab, "orders", acked)


async def test_group_of_three_rebalances_commits_and_resumes(lab: KafkaCluster) -> None:
    await _create(lab, "clicks", partitions=6)
    p = AIOKafkaProducer(bootstrap_servers=lab.bootstrap_servers, acks="all")
    await p.start()
    try:
        for i in range(600):
            await p.send("clicks", key=f"u{i}".encode(), value=f"click-{i}".encode())
        await p.flush()
        ends = {("clicks", x.partition): x.high_watermark for x in lab.describe_topic("clicks")}

        def consumer() -> AIOKafkaConsumer:
            return AIOKafkaConsumer(
                "clicks",
                bootstrap_servers=lab.bootstrap_servers,
                group_id="readers",
                client_id="aioreader",
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                # the client's threads share this process (and its GIL) with the lab's: under load they stall
                # for seconds, so a short session timeout expels live members (Kafka's default is 45 s)
                session_timeout_ms=30000,
                heartbeat_interval_ms=1000,
            )

        consumers = [consumer() for _ in range(3)]
        for c in consumers:
            await c.start()
        seen: set[bytes] = set()
        killed = False
        deadline = time.monotonic() + DEADLINE_S
        while (lab.describe_group("readers").offsets != ends or not killed) and time.monotonic() < deadline:
            for c in consumers:
                batch = await c.getmany(timeout_ms=50)
                for _tp, msgs in batch.items():
                    seen.update(m.value for m in msgs)
                # a rebalance or the coordinator moving may fail a commit: the next one covers it
                with contextlib.suppress(Exception):
                    await c.commit()
            group = lab.describe_group("readers")
            if not killed and seen and group.state == "Stable" and len(group.members) == 3:
                victim = group.coordinator
                lab.kill_broker(victim)  # the group coordinator dies mid-run
                killed = True
        assert killed and len(seen) == 600
        assert lab.describe_group("readers").offsets == ends
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:  # the three find the new coordinator and settle there
            for c in consumers:
                await c.getmany(timeout_ms=50)
            group = lab.describe_group("readers")
            if group.coordinator != victim and group.state == "Stable" and len(group.members) == 3:
                break

        with contextlib.suppress(asyncio.CancelledError):
            await consumers.pop().stop()  # one member leaves: the other two take over its partitions
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            for c in consumers:
                await c.getmany(timeout_ms=50)
            group = lab.describe_group("readers")
            if group.state == "Stable" and len(group.members) == 2:
                break
        assert sum(len(m.assignment) for m in group.members) == 6 and len(group.members) == 2
        for c in consumers:
            # aiokafka may re-raise the cancellation of a fetch it had in flight while stopping
            with contextlib.suppress(asyncio.CancelledError):
                await c.stop()

        for i in range(600, 650):
            await p.send("clicks", key=f"u{i}".encode(), value=f"click-{i}".encode())
        await p.flush()
        late = consumer()
        await late.start()
        resumed: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(resumed) < 50 and time.monotonic() < deadline:
            for msgs in (await late.getmany(timeout_ms=100)).values():
                resumed += [m.value for m in msgs]
        await late.stop()
        assert sorted(resumed) == sorted(f"click-{i}".encode() for i in range(600, 650))
    finally:
        await p.stop()
    assert any("aioreader (127.0.0.1:" in line and "joined group readers" in line for line in lab.timeline())


async def test_transactions_commit_and_abort_for_read_committed_consumers(lab: KafkaCluster) -> None:
    await _create(lab, "payments")
    tp = AIOKafkaProducer(bootstrap_servers=lab.bootstrap_servers, transactional_id="payer")
    await tp.start()
    try:
        async with tp.transaction():
            for i in range(100):
                await tp.send("payments", key=f"a{i}".encode(), value=f"kept-{i}".encode())
        lab.kill_broker(lab.leader_of("payments", 1))  # mid-run, between two transactions
        await tp.begin_transaction()
        for i in range(100):
            await tp.send("payments", key=f"a{i}".encode(), value=f"dropped-{i}".encode())
        await tp.flush()
        await tp.abort_transaction()
        async with tp.transaction():
            for i in range(100, 150):
                await tp.send("payments", key=f"a{i}".encode(), value=f"kept-{i}".encode())
    finally:
        await tp.stop()

    async def read(isolation: str, want: int) -> list[bytes]:
        c = AIOKafkaConsumer(
            bootstrap_servers=lab.bootstrap_servers, isolation_level=isolation, auto_offset_reset="earliest"
        )
        await c.start()
        c.assign([TopicPartition("payments", p) for p in range(3)])
        out: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(out) < want and time.monotonic() < deadline:
            for msgs in (await c.getmany(timeout_ms=100)).values():
                out += [m.value for m in msgs]
        await c.stop()
        return out

    assert sorted(await read("read_committed", 150)) == sorted(f"kept-{i}".encode() for i in range(150))
    assert len(await read("read_uncommitted", 250)) == 250


async def test_admin_creates_describes_and_deletes_topics(lab: KafkaCluster) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=lab.bootstrap_servers)
    await admin.start()
    try:
        resp = await admin.create_topics(
            [NewTopic("alpha", 3, 3, topic_configs={"retention.ms": "60000"}), NewTopic("beta", 2, 1)]
        )
        assert [t[1] for t in resp.topic_errors] == [0, 0]
        resp = await admin.create_topics([NewTopic("alpha", 1, 1)])
        assert resp.topic_errors[0][1] == TopicAlreadyExistsError.errno
        lab.kill_broker(2)  # mid-run
        assert {"alpha", "beta"} <= set(await _retry(lab, admin.list_topics))
        described = await _retry(lab, lambda: admin.describe_topics(["alpha"]))
        assert len(described[0]["partitions"]) == 3
        configs = await _retry(
            lab, lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "alpha")])
        )
        entries = {c[0]: c[1] for c in configs[0].resources[0][4]}
        assert entries["retention.ms"] == "60000"
        cluster = await _retry(lab, admin.describe_cluster)
        assert cluster["cluster_id"] == lab.with_cluster(lambda c: c.cluster_id)
        assert lab.wait_until(lambda c: c.describe_cluster().brokers[1].fenced, DEADLINE_S)
        # a killed broker stays registered (KRaft places replicas on fenced brokers): ask for 4 of 3
        resp = await _retry(lab, lambda: admin.create_topics([NewTopic("gamma", 1, 4)]))
        assert resp.topic_errors[0][1] == InvalidReplicationFactorError.errno
        resp = await _retry(lab, lambda: admin.delete_topics(["beta"]))
        assert [t[1] for t in resp.topic_error_codes] == [0]
    finally:
        await admin.close()
    assert "beta" not in lab.topics()
    assert "alpha" in lab.topics()
