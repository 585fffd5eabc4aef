"""Replication and the classic ways Kafka loses (or keeps) data, reproduced deterministically."""

from __future__ import annotations

from typing import Any

import pytest

from kafkalab import OFFSET_BEGINNING, Cluster, KafkaError, TopicPartition
from kafkalab.checker import check
from kafkalab.sim.partitioner import default_partition


def make(seed: int = 1, brokers: int = 3, **cfg: Any) -> Cluster:
    return Cluster(brokers=brokers, seed=seed, check_invariants=True, broker_config=cfg or None)


def produce_all(
    cluster: Cluster, config: dict[str, Any], topic: str, values: list[str], timeout: float = 200, **kw: Any
) -> list[Any]:
    p = cluster.producer(config)
    reports: list[Any] = []
    for v in values:
        p.produce(topic, value=v.encode(), on_delivery=lambda e, m: reports.append((e, m)), **kw)
    p.flush(timeout=timeout)
    return reports


def test_acks_all_replicates_to_every_isr_member_before_the_ack() -> None:
    c = make()
    c.create_topic("t", 1, 3, {"min.insync.replicas": 2})
    reports = produce_all(c, {"acks": "all"}, "t", [f"v{i}" for i in range(50)], partition=0)
    assert all(e is None for e, _m in reports)
    (info,) = c.describe_topic("t")
    assert info.high_watermark == 50
    assert set(info.replica_leos.values()) == {50}
    assert info.isr == info.replicas


def test_keyed_records_land_on_the_java_partition_and_stay_in_order() -> None:
    c = make()
    c.create_topic("t", 6, 3)
    p = c.producer({"acks": "all"})
    got: list[tuple[bytes, int, int]] = []
    for i in range(60):
        key = f"user-{i % 4}".encode()
        p.produce(
            "t",
            key=key,
            value=f"{i}".encode(),
            on_delivery=lambda e, m: got.append((m.key(), m.partition(), int(m.value()))),
        )
    p.flush()
    for key, part, _v in got:
        assert part == default_partition(key, 6)
    for key in {k for k, _p, _v in got}:
        values = [v for k, _p, v in got if k == key]
        assert values == sorted(values)


def test_acks_1_loses_an_acknowledged_record_when_the_leader_dies_before_replicating() -> None:
    c = make()
    c.create_topic("t", 1, 3)
    (info,) = c.describe_topic("t")
    leader = info.leader
    # followers cannot fetch from the leader, so the leader alone holds what it acknowledges next
    followers = [b for b in info.replicas if b != leader]
    c.partition([leader], followers)
    reports = produce_all(c, {"acks": "1"}, "t", ["lost-1", "lost-2"], partition=0, timeout=5)
    assert [e for e, _m in reports] == [None, None]
    c.kill_broker(leader)
    c.heal()
    c.run_for(15_000)  # the controller fences the dead leader and elects a follower from the ISR
    (after,) = c.describe_topic("t")
    assert after.leader in followers and after.leader_epoch > info.leader_epoch
    c.restart_broker(leader)
    c.run_for(5_000)  # the old leader truncates its unreplicated tail to the new leader's epoch end
    c.read_all("t")
    r = check(c.history)
    assert sorted(f.value for f in r.lost) == [b"lost-1", b"lost-2"]
    assert any("truncated t-0" in e.text for e in c.timeline)


def test_acks_all_survives_the_same_failure() -> None:
    c = make()
    c.create_topic("t", 1, 3, {"min.insync.replicas": 2})
    (info,) = c.describe_topic("t")
    leader = info.leader
    followers = [b for b in info.replicas if b != leader]
    c.partition([leader], followers)
    p = c.producer({"acks": "all", "request.timeout.ms": 5000})
    reports: list[Any] = []
    for v in ("kept-1", "kept-2"):
        p.produce("t", value=v.encode(), partition=0, on_delivery=lambda e, m: reports.append(e))
    p.poll(2.0)
    assert reports == []  # not acknowledged: the followers have not got it
    c.kill_broker(leader)
    c.heal()
    p.flush(200)
    c.restart_broker(leader)
    c.run_for(35_000)
    c.read_all("t")
    r = check(c.history)
    assert r.summary()["lost"] == 0 and r.summary()["duplicates"] == 0
    assert r.summary()["acked"] == 2


def test_acks_0_loses_records_in_flight_when_the_leader_dies() -> None:
    c = make()
    c.create_topic("t", 1, 3)
    p = c.producer({"acks": "0"})
    p.produce("t", value=b"warmup", partition=0)
    p.flush()
    c.run_for(1_000)  # replicated: only what is in flight at the kill is lost
    leader = c.describe_topic("t")[0].leader
    acks: list[Any] = []
    for i in range(5):
        p.produce("t", value=f"gone-{i}".encode(), partition=0, on_delivery=lambda e, m: acks.append(e))
    c.run_until(lambda: p.sent_batches > 1, 1_000)  # written to the socket: "delivered" for acks=0
    c.kill_broker(leader)  # ...but the broker dies before the request arrives
    p.flush()
    assert acks == [None] * 5
    c.run_for(15_000)
    c.read_all("t")
    lost = {f.value for f in check(c.history).lost}
    assert lost == {f"gone-{i}".encode() for i in range(5)}


def test_acks_0_records_wait_while_the_leader_is_known_dead() -> None:
    """No connection to a dead broker, so nothing is sent: the records go to the new leader later."""
    c = make()
    c.create_topic("t", 1, 3)
    p = c.producer({"acks": "0"})
    p.produce("t", value=b"warmup", partition=0)
    p.flush()
    c.run_for(1_000)
    c.kill_broker(c.describe_topic("t")[0].leader)
    for i in range(3):
        p.produce("t", value=f"later-{i}".encode(), partition=0)
    p.flush(30)
    c.run_for(15_000)
    c.read_all("t")
    r = check(c.history)
    assert r.summary()["lost"] == 0 and r.summary()["acked"] == 4


def test_unclean_leader_election_elects_a_stale_replica_and_loses_data() -> None:
    c = make(**{"unclean.leader.election.enable": "true"})
    c.create_topic("t", 1, 2)
    (info,) = c.describe_topic("t")
    leader, follower = info.replicas[0], info.replicas[1]
    assert info.leader == leader
    c.kill_broker(follower)
    c.run_for(12_000)  # follower fenced: ISR shrinks to the leader alone
    assert c.describe_topic("t")[0].isr == (leader,)
    reports = produce_all(c, {"acks": "all"}, "t", ["only-on-leader"], partition=0)
    assert reports[0][0] is None
    c.kill_broker(leader)
    c.restart_broker(follower)
    c.run_for(12_000)
    (after,) = c.describe_topic("t")
    assert after.leader == follower and after.isr == (follower,)
    assert any("UNCLEAN" in e.text for e in c.timeline)
    c.restart_broker(leader)
    c.run_for(10_000)
    c.read_all("t")
    assert [f.value for f in check(c.history).lost] == [b"only-on-leader"]


def test_without_unclean_election_the_partition_stays_offline_and_nothing_is_lost() -> None:
    c = make()
    c.create_topic("t", 1, 2)
    (info,) = c.describe_topic("t")
    leader, follower = info.replicas
    c.kill_broker(follower)
    c.run_for(12_000)
    produce_all(c, {"acks": "all"}, "t", ["safe"], partition=0)
    c.kill_broker(leader)
    c.restart_broker(follower)
    c.run_for(12_000)
    assert c.describe_topic("t")[0].leader == -1  # offline: the only ISR member is down
    c.restart_broker(leader)
    c.run_for(12_000)
    c.read_all("t")
    r = check(c.history)
    assert r.summary()["lost"] == 0 and r.summary()["acked"] == 1


def test_acks_all_below_min_insync_replicas_is_refused_with_not_enough_replicas() -> None:
    c = make()
    c.create_topic("t", 1, 3, {"min.insync.replicas": 2})
    (info,) = c.describe_topic("t")
    for b in info.replicas:
        if b != info.leader:
            c.kill_broker(b)
    c.run_for(12_000)
    assert c.describe_topic("t")[0].isr == (info.leader,)
    reports = produce_all(c, {"acks": "all", "retries": 0}, "t", ["refused"], partition=0)
    ((err, _msg),) = reports
    assert err is not None and err.code() == KafkaError.NOT_ENOUGH_REPLICAS
    assert c.describe_topic("t")[0].log_end_offset == 0  # refused before appending
    # with retries the producer keeps trying and succeeds once the ISR is big enough again: nothing lost
    p = c.producer({"acks": "all"})
    late: list[Any] = []
    p.produce("t", value=b"waits", partition=0, on_delivery=lambda e, m: late.append(e))
    p.poll(3.0)
    assert late == [] and any(e[2] == "NOT_ENOUGH_REPLICAS" for e in p.errors)
    for b in info.replicas:
        c.restart_broker(b)
    p.flush(200)
    assert late == [None]
    c.run_for(5_000)
    c.read_all("t")
    r = check(c.history)
    assert r.summary()["lost"] == 0 and r.summary()["duplicates"] == 0


@pytest.mark.parametrize("idempotent, duplicates", [(False, 1), (True, 0)])
def test_retry_after_a_lost_ack_duplicates_only_without_idempotence(
    idempotent: bool, duplicates: int
) -> None:
    c = make()
    c.create_topic("t", 1, 2)
    (info,) = c.describe_topic("t")
    follower = info.replicas[1]
    c.pause_broker(follower)  # the leader appends but cannot acknowledge (acks=all waits for the follower)
    p = c.producer({"acks": "all", "enable.idempotence": idempotent, "request.timeout.ms": 200, "retries": 5})
    reports: list[Any] = []
    p.produce("t", value=b"once", partition=0, on_delivery=lambda e, m: reports.append(e))
    p.poll(0.5)  # the first attempt times out and is retried: the first append is still in the log
    c.resume_broker(follower)
    p.flush(30)
    assert reports == [None]
    c.run_for(2_000)
    c.read_all("t")
    r = check(c.history)
    assert r.summary()["duplicates"] == duplicates
    assert r.summary()["lost"] == 0


def test_killed_broker_recovers_its_log_from_segment_files_and_rejoins_the_isr() -> None:
    c = make()
    c.create_topic("t", 1, 3, {"segment.bytes": 2048, "min.insync.replicas": 2})
    for chunk in range(20):  # flush per chunk: 20 batches, several segments of 2 KiB
        produce_all(
            c, {"acks": "all"}, "t", [f"r{i:03d}" for i in range(chunk * 10, chunk * 10 + 10)], partition=0
        )
    (info,) = c.describe_topic("t")
    victim = next(b for b in info.replicas if b != info.leader)
    pdir = c.brokers[victim].partition_dir("t", 0)
    seg_files = sorted(p.name for p in pdir.glob("*.log"))
    assert len(seg_files) > 1 and all(len(n) == len("00000000000000000000.log") for n in seg_files)
    c.kill_broker(victim)
    c.run_for(12_000)
    assert victim not in c.describe_topic("t")[0].isr
    produce_all(c, {"acks": "all"}, "t", [f"s{i:03d}" for i in range(20)], partition=0)
    c.restart_broker(victim)
    c.run_until(lambda: victim in c.describe_topic("t")[0].isr, 30_000)
    (after,) = c.describe_topic("t")
    assert victim in after.isr
    assert after.replica_leos[victim] == after.log_end_offset == 220
    # the recovered replica serves the same records: read it directly from its log
    log = c.brokers[victim].partitions[("t", 0)].log
    values = [rec.value for b in log.iter_batches(0) for _o, rec in b.iter_records()]
    assert values[:3] == [b"r000", b"r001", b"r002"] and len(values) == 220


def test_consumer_reads_only_below_the_high_watermark() -> None:
    c = make()
    c.create_topic("t", 1, 2)
    (info,) = c.describe_topic("t")
    c.pause_broker(info.replicas[1])
    p = c.producer({"acks": "1"})
    p.produce("t", value=b"not-yet-committed", partition=0)
    p.flush(5)
    con = c.consumer({"auto.offset.reset": "earliest"})
    con.assign([TopicPartition("t", 0, OFFSET_BEGINNING)])
    assert con.poll(2.0) is None  # appended on the leader (LEO 1) but HW is still 0
    assert c.describe_topic("t")[0].log_end_offset == 1 and c.describe_topic("t")[0].high_watermark == 0
    c.resume_broker(info.replicas[1])
    m = con.poll(2.0)
    assert m is not None and m.value() == b"not-yet-committed"
