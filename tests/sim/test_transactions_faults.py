"""Transactions under faults (issue 11, points 1-5): no id stuck in Prepare*, aborted records never
committed later, a failed record makes commit raise, timed-out calls are finished by calling them again.
"""

from __future__ import annotations

import pytest

from kafkalab import OFFSET_BEGINNING, Cluster, KafkaException, TopicPartition

CFG = {
    "offsets.topic.num.partitions": 3,
    "transaction.state.log.num.partitions": 3,
    "group.initial.rebalance.delay.ms": 0,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
    "auto.create.topics.enable": "false",  # a record to a missing topic must fail, not create it
}


def make(seed: int = 1) -> Cluster:
    c = Cluster(3, seed=seed, broker_config=CFG)
    c.create_topic("out", 1, 3, {"min.insync.replicas": 2})
    return c


def committed_values(c: Cluster) -> list[bytes | None]:
    con = c.consumer({"isolation.level": "read_committed"})
    con.assign([TopicPartition("out", 0, OFFSET_BEGINNING)])
    got: list[bytes | None] = []
    for _ in range(6):
        got += [m.value() for m in con.consume(100, timeout=0.5) if m.error() is None]
    con.close()
    return got


def coordinator(c: Cluster, tid: str) -> int:
    for bid, b in c.brokers.items():
        if b.alive and b.txn_coordinator.owns(tid) is not None:
            return bid
    raise AssertionError(f"no coordinator for {tid}")


def state(c: Cluster, tid: str) -> str | None:
    snap = c.brokers[coordinator(c, tid)].txn_coordinator.snapshot(tid)
    return snap.state if snap is not None else None


def lso_is_hw(c: Cluster) -> bool:
    info = c.describe_topic("out")[0]
    part = c.brokers[info.leader].partitions[("out", 0)]
    return part.last_stable_offset() == part.log.high_watermark


def test_1_a_failed_prepare_write_leaves_no_id_stuck_and_the_commit_completes_later() -> None:
    c = make()
    p = c.producer({"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"a")
    p.flush()
    coord = coordinator(c, "t1")
    others = [b for b in c.brokers if b != coord]
    for b in others:  # __transaction_state loses its min.insync.replicas: the PrepareCommit write fails
        c.kill_broker(b)
    c.run_for(12_000)
    with pytest.raises(KafkaException) as info:
        p.commit_transaction(5.0)
    assert info.value.error.retriable()
    assert state(c, "t1") == "Ongoing"  # before: PrepareCommit, forever
    for b in others:
        c.restart_broker(b)
    c.run_for(20_000)
    p.commit_transaction(60.0)  # the same call finishes the commit
    assert committed_values(c) == [b"a"]
    assert state(c, "t1") == "CompleteCommit" and lso_is_hw(c)
    fresh = c.producer({"transactional.id": "t1"})
    fresh.init_transactions(30.0)  # before: CONCURRENT_TRANSACTIONS until the timeout
    assert state(c, "t1") == "Empty"
    c.close()


def test_2_an_aborted_record_still_waiting_for_metadata_is_never_committed() -> None:
    c = make()
    p = c.producer({"transactional.id": "t2"})
    p.init_transactions()
    p.begin_transaction()
    reports: list[str] = []
    p.produce("out", value=b"aborted", on_delivery=lambda e, m: reports.append(e.name() if e else "ok"))
    p.abort_transaction()  # the record still waits for the metadata of "out"
    p.begin_transaction()
    p.produce("out", value=b"committed")
    p.commit_transaction()
    p.poll(0)
    assert reports == ["_PURGE_QUEUE"]
    assert committed_values(c) == [b"committed"]  # before: [b"aborted", b"committed"]
    c.close()


def test_3_a_record_that_fails_makes_the_commit_raise_and_the_abort_hides_the_rest() -> None:
    c = make()
    p = c.producer({"transactional.id": "t3"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"fine")
    p.produce("no-such-topic", value=b"fails")
    with pytest.raises(KafkaException) as info:
        p.commit_transaction(60.0)  # before: it committed, "fine" visible, "fails" failed
    assert info.value.error.txn_requires_abort() and not info.value.error.fatal()
    p.abort_transaction()
    assert committed_values(c) == []
    p.begin_transaction()
    p.produce("out", value=b"next")
    p.commit_transaction()
    assert committed_values(c) == [b"next"]
    c.close()


def test_4_a_timed_out_commit_is_finished_by_calling_commit_again() -> None:
    c = make()
    p = c.producer({"transactional.id": "t4"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"x")
    p.flush()
    coord = coordinator(c, "t4")
    c.drop_messages(coord, p.name)  # the coordinator's answers are lost
    with pytest.raises(KafkaException) as info:
        p.commit_transaction(3.0)
    assert info.value.error.retriable()
    with pytest.raises(KafkaException) as info:
        p.begin_transaction()  # the commit must be finished first
    assert info.value.error.name() == "_CONFLICT"
    c.heal()
    p.commit_transaction(60.0)  # before: refused in state COMMITTING although the coordinator committed
    p.begin_transaction()
    p.produce("out", value=b"y")
    p.commit_transaction()
    assert committed_values(c) == [b"x", b"y"]
    c.close()


def test_5_a_timed_out_init_is_resumed_by_the_next_call_instead_of_fencing_the_producer() -> None:
    c = make()
    p = c.producer({"transactional.id": "t5"})
    for b in c.brokers:
        c.drop_messages(p.name, b)  # its first request is lost (and times out only after 30 s)
    with pytest.raises(KafkaException) as info:
        p.init_transactions(5.0)
    assert info.value.error.retriable()
    c.heal()
    p.init_transactions(60.0)  # waits for the same InitProducerId (before: a second one)
    c.run_for(40_000)  # before: the first request, retried at 30 s, bumped the epoch again here
    p.begin_transaction()
    p.produce("out", value=b"ok")
    p.commit_transaction(30.0)  # before: fenced (PRODUCER_FENCED)
    assert committed_values(c) == [b"ok"]
    c.close()


def test_an_exhausted_epoch_continues_with_a_new_producer_id() -> None:
    """KIP-890 bumps the epoch at every commit; at Short.MAX_VALUE the id moves to a new producer id."""
    c = make()
    p = c.producer({"transactional.id": "t6"})
    p.init_transactions()
    t = c.brokers[coordinator(c, "t6")].txn_coordinator.txns["t6"]
    t.producer_epoch = 32765  # as if 32,765 transactions had ended
    p.set_producer_id(p.producer_id, 32765)
    first_pid = p.producer_id
    for i in range(3):
        p.begin_transaction()
        p.produce("out", value=f"v{i}")
        p.commit_transaction(30.0)
    assert p.producer_id != first_pid and p.producer_epoch < 5
    assert committed_values(c) == [b"v0", b"v1", b"v2"]
    c.close()


def test_the_lso_waits_for_a_transaction_marker_to_be_replicated() -> None:
    """Kafka's unreplicated transactions: a marker above the high watermark may still be lost, so the
    records it ends are not stable yet (before, read_committed saw a commit its replicas had not)."""
    c = make()
    p = c.producer({"transactional.id": "t7"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"x")
    p.flush()
    info = c.describe_topic("out")[0]
    leader = c.brokers[info.leader]
    part = leader.partitions[("out", 0)]
    first = part.ongoing_txns[p.producer_id]
    for b in info.replicas:
        if b != info.leader:
            c.pause_broker(b)
    leader.handle_write_markers(p.producer_id, p.producer_epoch + 1, True, [("out", 0)], lambda _r: None)
    c.run_for(10)
    assert part.log.log_end_offset > part.log.high_watermark  # the marker is written, not replicated
    assert part.last_stable_offset() == first
    for b in info.replicas:
        if b != info.leader:
            c.resume_broker(b)
    c.run_for(2000)
    assert part.last_stable_offset() == part.log.high_watermark == part.log.log_end_offset
    c.close()


def test_a_client_without_kip_890_keeps_its_epoch_and_retries_end_txn() -> None:
    """EndTxn below v5 (aiokafka, kafka-python, librdkafka over the wire): the coordinator does not bump
    the epoch, and a retried EndTxn waits (CONCURRENT_TRANSACTIONS) until the markers are written."""
    c = make()
    p = c.producer({"transactional.id": "t8"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("out", value=b"old-client")
    p.flush()
    coord = c.brokers[coordinator(c, "t8")]
    answers: list[tuple[str, int, int]] = []
    args = ("t8", p.producer_id, p.producer_epoch, True, 0)
    coord.handle_txn("EndTxn", args, answers.append)
    coord.handle_txn("EndTxn", args, answers.append)  # a retry while the first is being written
    c.run_for(2000)
    coord.handle_txn("EndTxn", args, answers.append)  # a retry after it completed
    c.run_for(100)
    assert [a[0] for a in answers] == ["CONCURRENT_TRANSACTIONS", "NO_ERROR", "NO_ERROR"]
    assert all(a[2] == p.producer_epoch for a in answers[1:])  # the same epoch goes on
    assert committed_values(c) == [b"old-client"]
    c.close()


def test_a_restarted_broker_sends_clients_elsewhere_until_it_has_caught_up_with_metadata() -> None:
    """Missing values: a restarted broker answered Metadata with its empty image, so clients forgot every
    topic (producers failed records with _UNKNOWN_TOPIC, a group leader assigned nothing). KRaft brokers
    serve clients only once registered; until then the client asks another broker."""
    c = Cluster(3, seed=1)
    c.create_topic("t", 3, 3)
    controller = next(iter(c.quorum.voters.values())).name
    c.kill_broker(1)
    c.run_for(1000)
    c.drop_messages(1, controller)  # its registration cannot reach the controller
    c.restart_broker(1)
    answers: list[object] = []
    c.brokers[1].handle_metadata(answers.append)
    assert answers == [None]  # before: ({}, {}, [], ...), an empty cluster
    con = c.consumer({"group.id": "g"})
    for _ in range(6):  # the round robin of metadata requests reaches broker 1 too
        con.refresh_metadata()
        c.run_for(200)
        assert "t" in con.topics and ("t", 2) in con.partitions
    c.heal()
    c.run_for(3000)
    answers.clear()
    c.brokers[1].handle_metadata(answers.append)
    topics = answers[0][0] if isinstance(answers[0], tuple) else {}
    assert "t" in topics
    con.close()
    c.close()


def test_a_produce_request_arriving_after_its_transaction_ended_is_refused() -> None:
    """Atomicity: the coordinator aborted a timed-out transaction and wrote the ABORT marker (bumped epoch)
    to a partition the producer had not written to yet; the produce request, slowed by the network, came
    after it. The broker used to take it (it did not know the producer there), opening a transaction that
    nobody would ever end: the LSO stopped for good. The marker's epoch now fences it (KIP-890)."""
    c = make()
    p = c.producer({"transactional.id": "t9", "transaction.timeout.ms": 1000})
    p.init_transactions()
    p.begin_transaction()
    c.net.node_latency_ms[p.name] = 2000  # every message of the producer takes 2 s
    reports: list[str] = []
    p.produce("out", value=b"late", on_delivery=lambda e, m: reports.append(e.name() if e else "ok"))
    c.run_for(30_000)
    p.poll(0)
    info = c.describe_topic("out")[0]
    part = c.brokers[info.leader].partitions[("out", 0)]
    assert part.ongoing_txns == {}  # before: the late batch opened a transaction that never ended
    assert lso_is_hw(c)
    assert reports and reports[0] != "ok"
    assert committed_values(c) == []
    c.close()


def test_offsets_whose_transaction_ended_during_their_append_do_not_block_read_committed_fetches() -> None:
    """The ABORT marker reached __consumer_offsets while a TxnOffsetCommit append still waited for a
    follower; the offsets were then kept as pending with no marker left to clear them, and every
    read_committed OffsetFetch of the group answered UNSTABLE_OFFSET_COMMIT forever."""
    c = make()
    p = c.producer({"transactional.id": "t10"})
    p.init_transactions()
    con = c.consumer({"group.id": "g"})
    con.committed([TopicPartition("out", 0)], timeout=10.0)  # creates __consumer_offsets
    gid = next(b for b, node in c.brokers.items() if node.coordinator.owns("g") is not None)
    coordinator = c.brokers[gid].coordinator
    index = coordinator.owns("g").index
    follower = next(b for b in c.brokers if b != gid)
    c.pause_broker(follower)  # the append waits for this follower
    answers: list[dict[str, object]] = []
    pid, epoch = p.producer_id, p.producer_epoch
    coordinator.handle_txn_offset_commit(
        {"group_id": "g", "producer_id": pid, "producer_epoch": epoch, "offsets": [("out", 0, 5)]},
        answers.append,
    )
    c.run_for(100)
    assert answers == []  # still waiting for the follower
    c.brokers[gid].handle_write_markers(
        pid, epoch + 1, False, [("__consumer_offsets", index)], lambda _r: None
    )
    c.run_for(100)
    c.resume_broker(follower)
    c.run_for(3000)
    assert [a["error"] for a in answers] == ["NO_ERROR"]
    assert all(pid not in pend for pend in coordinator.pending_txn.values())  # before: pending forever
    fetched: list[dict[str, object]] = []
    coordinator.handle_offset_fetch({"group_id": "g", "require_stable": True}, fetched.append)
    assert fetched == [{"error": "NO_ERROR", "offsets": {}}]  # before: UNSTABLE_OFFSET_COMMIT
    con.close()
    c.close()
