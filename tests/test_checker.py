"""The history checker on small hand-built histories: each category, and the cases that must NOT be flagged."""

from __future__ import annotations

from kafkalab.checker import READ_COMPLETE, READ_PAST, CheckResult, check
from kafkalab.sim.history import History, Op

T = "orders"


def send(t: int, value: bytes, partition: int | None = 0, client: str = "p1", topic: str = T) -> Op:
    return Op(time_ms=t, type="send", client=client, topic=topic, partition=partition, value=value)


def ack(
    t: int, value: bytes, offset: int | None, partition: int | None = 0, client: str = "p1", topic: str = T
) -> Op:
    return Op(
        time_ms=t, type="ack", client=client, topic=topic, partition=partition, offset=offset, value=value
    )


def consume(
    t: int,
    value: bytes | None,
    offset: int,
    partition: int = 0,
    client: str = "c1",
    group: str | None = None,
    topic: str = T,
) -> Op:
    return Op(
        time_ms=t,
        type="consume",
        client=client,
        topic=topic,
        partition=partition,
        offset=offset,
        value=value,
        group=group,
    )


def process(
    t: int, value: bytes, offset: int, partition: int = 0, client: str = "c1", group: str = "g"
) -> Op:
    return Op(
        time_ms=t,
        type="process",
        client=client,
        topic=T,
        partition=partition,
        offset=offset,
        value=value,
        group=group,
    )


def read_complete(t: int, hw: int, partition: int = 0, client: str = "reader", topic: str = T) -> Op:
    return Op(time_ms=t, type="read_complete", client=client, topic=topic, partition=partition, offset=hw)


def clean(result: CheckResult) -> bool:
    return result.ok and not result.lost and not result.skips


# ------------------------------------------------------------------------------------------------ lost


def test_ack_read_past_by_a_consumer_but_never_consumed_is_lost() -> None:
    r = check([ack(1, b"a", 0), ack(2, b"b", 1), consume(5, b"b", 1, client="c9")])
    assert [x.value for x in r.lost] == [b"a"]
    lost = r.lost[0]
    assert (lost.topic, lost.partition, lost.offset, lost.producer, lost.ack_time_ms) == (T, 0, 0, "p1", 1)
    assert (lost.reason, lost.witness_client, lost.witness_offset, lost.witness_time_ms) == (
        READ_PAST,
        "c9",
        1,
        5,
    )
    assert r.unseen == ()
    assert not r.ok
    assert "a" in lost.describe() and "c9" in lost.describe()


def test_ack_never_consumed_while_nobody_read_the_partition_is_unseen_not_lost() -> None:
    r = check([send(0, b"a"), ack(1, b"a", 0)])
    assert r.lost == ()
    assert [(u.value, u.partition, u.offset) for u in r.unseen] == [(b"a", 0, 0)]
    assert r.ok
    assert r.summary()["unseen"] == 1 and r.summary()["lost"] == 0


def test_consumed_ack_is_neither_lost_nor_unseen() -> None:
    r = check([ack(1, b"a", 0), consume(2, b"a", 0), read_complete(3, hw=1)])
    assert r.lost == () and r.unseen == ()
    assert r.seen == 1 and r.acked == 1
    assert r.ok


def test_read_past_in_another_partition_does_not_make_it_lost() -> None:
    r = check([ack(1, b"a", 0, partition=0), ack(2, b"b", 7, partition=1), consume(3, b"b", 7, partition=1)])
    assert r.lost == ()
    assert [u.value for u in r.unseen] == [b"a"]


def test_consume_at_the_same_offset_is_not_reading_past() -> None:
    # Something else at offset 0 is an inconsistency, but nobody read PAST offset 0.
    r = check([ack(1, b"a", 0), consume(2, b"z", 0)])
    assert r.lost == ()
    assert [u.value for u in r.unseen] == [b"a"]
    assert len(r.inconsistent_offsets) == 1


def test_complete_read_after_the_ack_that_missed_it_is_a_loss_even_below_the_acked_offset() -> None:
    # Unclean election: the new leader's log ends at 3, below the acked offset 5.
    r = check([ack(1, b"a", 5), read_complete(10, hw=3)])
    assert len(r.lost) == 1
    lost = r.lost[0]
    assert (lost.reason, lost.witness_client, lost.witness_offset, lost.witness_time_ms) == (
        READ_COMPLETE,
        "reader",
        3,
        10,
    )
    assert lost.truncated_below
    assert "ends below" in lost.describe()


def test_complete_read_above_the_acked_offset_is_not_truncated_below() -> None:
    r = check([ack(1, b"a", 2), read_complete(10, hw=8)])
    assert len(r.lost) == 1 and not r.lost[0].truncated_below


def test_complete_read_before_the_ack_proves_nothing() -> None:
    r = check([read_complete(1, hw=0), ack(2, b"a", 0)])
    assert r.lost == ()
    assert [u.value for u in r.unseen] == [b"a"]


def test_complete_read_of_another_partition_or_topic_proves_nothing() -> None:
    r = check([ack(1, b"a", 0), read_complete(5, hw=4, partition=1), read_complete(6, hw=4, topic="other")])
    assert r.lost == ()
    assert len(r.unseen) == 1


def test_history_order_not_list_order_decides_before_and_after() -> None:
    # The read_complete is listed first but happened later.
    r = check([read_complete(10, hw=0), ack(2, b"a", 0)])
    assert [x.value for x in r.lost] == [b"a"]


def test_acks0_write_is_not_lost_by_a_read_past_only_by_a_later_complete_read() -> None:
    history = [ack(1, b"a", None), ack(2, b"b", 4), consume(3, b"b", 4)]
    r = check(history)
    assert r.lost == ()
    assert [(u.value, u.offset) for u in r.unseen] == [(b"a", None)]

    r = check([*history, read_complete(9, hw=5)])
    assert [(x.value, x.offset, x.reason) for x in r.lost] == [(b"a", None, READ_COMPLETE)]


def test_acks0_partition_comes_from_the_send_when_the_ack_has_none() -> None:
    r = check(
        [send(0, b"a", partition=2), ack(1, b"a", None, partition=None), read_complete(5, hw=0, partition=2)]
    )
    assert [(x.value, x.partition) for x in r.lost] == [(b"a", 2)]
    # A complete read of a different partition does not count.
    r = check(
        [send(0, b"a", partition=2), ack(1, b"a", None, partition=None), read_complete(5, hw=0, partition=1)]
    )
    assert r.lost == () and [u.partition for u in r.unseen] == [2]


def test_truncated_and_reused_offset_is_lost_and_inconsistent() -> None:
    # a acked at 2; after truncation offset 2 holds c and the reader goes on to 3.
    r = check(
        [
            ack(1, b"a", 2),
            ack(5, b"c", 2),
            ack(6, b"d", 3),
            consume(7, b"c", 2),
            consume(8, b"d", 3),
        ]
    )
    assert [x.value for x in r.lost] == [b"a"]
    assert [(i.offset, i.values) for i in r.inconsistent_offsets] == [(2, (b"a", b"c"))]


def test_works_on_a_history_object() -> None:
    h = History()
    h.append(ack(1, b"a", 0))
    h.append(consume(2, b"b", 1))
    assert len(check(h).lost) == 1


# ------------------------------------------------------------------------------------------ duplicates


def test_value_at_two_offsets_is_a_duplicate() -> None:
    r = check([ack(1, b"v", 1), consume(2, b"v", 1), consume(3, b"v", 4)])
    assert len(r.duplicates) == 1
    d = r.duplicates[0]
    assert d.value == b"v"
    assert d.positions == ((T, 0, 1), (T, 0, 4))
    assert [(s.type, s.client, s.offset) for s in d.sightings] == [
        ("ack", "p1", 1),
        ("consume", "c1", 1),
        ("consume", "c1", 4),
    ]
    assert not r.ok


def test_ack_and_consume_at_different_offsets_is_a_duplicate() -> None:
    r = check([ack(1, b"v", 1), consume(2, b"v", 2)])
    assert [d.positions for d in r.duplicates] == [((T, 0, 1), (T, 0, 2))]


def test_same_offset_number_in_two_partitions_is_a_duplicate() -> None:
    r = check([consume(2, b"v", 3, partition=0), consume(3, b"v", 3, partition=1)])
    assert [d.positions for d in r.duplicates] == [((T, 0, 3), (T, 1, 3))]


def test_same_value_same_offset_consumed_by_two_groups_is_not_a_duplicate() -> None:
    r = check(
        [
            ack(1, b"v", 0),
            consume(2, b"v", 0, client="c1", group="g1"),
            consume(3, b"v", 0, client="c2", group="g2"),
        ]
    )
    assert r.duplicates == ()
    assert r.inconsistent_offsets == ()
    assert r.ok
    assert r.groups["g1"].redelivered == () and r.groups["g2"].redelivered == ()


# ------------------------------------------------------------------------------- inconsistent offsets


def test_two_values_at_one_offset_is_inconsistent() -> None:
    r = check([ack(1, b"a", 3), consume(4, b"b", 3, client="c7")])
    assert len(r.inconsistent_offsets) == 1
    i = r.inconsistent_offsets[0]
    assert (i.topic, i.partition, i.offset, i.values) == (T, 0, 3, (b"a", b"b"))
    assert {(s.type, s.client) for s in i.sightings} == {("ack", "p1"), ("consume", "c7")}
    assert not r.ok


def test_same_value_seen_by_ack_and_consumers_is_consistent() -> None:
    r = check([ack(1, b"a", 3), consume(4, b"a", 3, client="c1"), consume(5, b"a", 3, client="c2")])
    assert r.inconsistent_offsets == ()


def test_same_offset_in_different_topics_is_not_inconsistent() -> None:
    r = check([consume(1, b"a", 0), consume(2, b"b", 0, topic="other")])
    assert r.inconsistent_offsets == ()


# ------------------------------------------------------------------------------------- nonmonotonic


def test_consuming_the_same_offset_again_is_nonmonotonic() -> None:
    r = check([consume(1, b"a", 3), consume(2, b"a", 3)])
    assert [(n.client, n.prev_offset, n.offset, n.prev_time_ms, n.time_ms) for n in r.nonmonotonic] == [
        ("c1", 3, 3, 1, 2)
    ]
    assert not r.ok


def test_going_backwards_is_nonmonotonic() -> None:
    r = check([consume(1, b"a", 5), consume(2, b"b", 2)])
    assert [(n.prev_offset, n.offset, n.prev_value, n.value) for n in r.nonmonotonic] == [(5, 2, b"a", b"b")]
    assert r.skips == ()


def test_two_clients_reading_the_same_offsets_are_each_monotonic() -> None:
    r = check(
        [
            consume(1, b"a", 0, client="c1"),
            consume(2, b"a", 0, client="c2"),
            consume(3, b"b", 1, client="c1"),
            consume(4, b"b", 1, client="c2"),
        ]
    )
    assert r.nonmonotonic == ()
    assert r.ok


def test_one_client_interleaving_partitions_is_monotonic() -> None:
    r = check(
        [consume(1, b"a", 5, partition=0), consume(2, b"b", 0, partition=1), consume(3, b"c", 6, partition=0)]
    )
    assert r.nonmonotonic == ()


# ----------------------------------------------------------------------------------------------- skips


def test_jumping_over_an_acked_record_is_a_skip() -> None:
    r = check([ack(1, b"a", 0), ack(2, b"b", 1), ack(3, b"c", 2), consume(4, b"a", 0), consume(5, b"c", 2)])
    assert len(r.skips) == 1
    s = r.skips[0]
    assert (s.client, s.topic, s.partition, s.from_offset, s.to_offset) == ("c1", T, 0, 0, 2)
    assert (s.skipped_offsets, s.skipped_values, s.from_time_ms, s.time_ms) == ((1,), (b"b",), 4, 5)
    assert not r.ok


def test_record_known_from_another_consumer_makes_a_skip() -> None:
    r = check([consume(1, b"b", 1, client="c2"), consume(2, b"a", 0), consume(3, b"c", 3)])
    assert [(s.skipped_offsets, s.skipped_values) for s in r.skips] == [((1,), (b"b",))]


def test_gap_with_no_known_record_is_not_a_skip() -> None:
    # Offset 1 is a transaction marker (or was compacted away): nobody ever saw a record there.
    r = check([ack(1, b"a", 0), ack(2, b"c", 2), consume(3, b"a", 0), consume(4, b"c", 2)])
    assert r.skips == ()
    assert r.ok


def test_record_in_another_partition_does_not_make_a_skip() -> None:
    r = check([ack(1, b"x", 1, partition=1), consume(2, b"a", 0), consume(3, b"c", 2)])
    assert r.skips == ()


def test_first_consume_of_a_client_is_never_a_skip() -> None:
    r = check([ack(1, b"a", 0), ack(2, b"b", 1), consume(3, b"b", 1)])
    assert r.skips == ()


# ------------------------------------------------------------------------------------------- delivery


def test_group_missing_a_value_that_another_group_consumed() -> None:
    r = check(
        [
            ack(1, b"a", 0),
            ack(2, b"b", 1),
            ack(3, b"c", 2),
            consume(4, b"a", 0, client="c1", group="g"),
            consume(5, b"b", 1, client="c1", group="g"),
            consume(6, b"a", 0, client="c2", group="h"),
            consume(7, b"b", 1, client="c2", group="h"),
            consume(8, b"c", 2, client="c2", group="h"),
        ]
    )
    g, h = r.groups["g"], r.groups["h"]
    assert (g.basis, g.topics, g.delivered) == ("consume", (T,), 2)
    assert [(m.group, m.value, m.partition, m.offset) for m in g.missing] == [("g", b"c", 0, 2)]
    assert "ack by p1" in g.missing[0].seen_by
    assert h.missing == () and h.delivered == 3
    assert r.summary()["delivered_missing"] == 1
    assert r.summary()["groups"] == 2
    assert r.ok  # delivery semantics do not make the log incorrect


def test_values_of_topics_the_group_never_read_are_not_missing() -> None:
    r = check([ack(1, b"a", 0), ack(2, b"z", 0, topic="other"), consume(3, b"a", 0, group="g")])
    assert r.groups["g"].missing == ()


def test_lost_and_acks0_values_are_not_counted_as_missing_deliveries() -> None:
    # a is lost (read past) and reported under `lost`; n was sent with acks=0 and never shown to exist.
    r = check([ack(1, b"a", 0), ack(2, b"n", None), ack(3, b"b", 1), consume(4, b"b", 1, group="g")])
    assert [x.value for x in r.lost] == [b"a"]
    assert r.groups["g"].missing == ()


def test_process_ops_make_processing_the_basis() -> None:
    r = check(
        [
            ack(1, b"a", 0),
            ack(2, b"b", 1),
            consume(3, b"a", 0, group="g"),
            consume(4, b"b", 1, group="g"),
            process(5, b"a", 0),
        ]
    )
    g = r.groups["g"]
    assert g.basis == "process"
    assert g.delivered == 1
    assert [m.value for m in g.missing] == [b"b"]


def test_without_process_ops_consuming_is_delivery() -> None:
    r = check(
        [ack(1, b"a", 0), ack(2, b"b", 1), consume(3, b"a", 0, group="g"), consume(4, b"b", 1, group="g")]
    )
    assert r.groups["g"].basis == "consume" and r.groups["g"].missing == ()


def test_consumed_twice_by_one_group_is_redelivered() -> None:
    # c1 consumed offset 0 but died before committing; after the rebalance c2 got it again.
    r = check(
        [
            ack(1, b"a", 0),
            consume(2, b"a", 0, client="c1", group="g"),
            consume(9, b"a", 0, client="c2", group="g"),
        ]
    )
    g = r.groups["g"]
    assert len(g.redelivered) == 1
    rd = g.redelivered[0]
    assert (rd.group, rd.topic, rd.partition, rd.offset, rd.count) == ("g", T, 0, 0, 2)
    assert (rd.clients, rd.times_ms, rd.values) == (("c1", "c2"), (2, 9), (b"a", b"a"))
    assert g.redelivered_count == 1 and r.summary()["redelivered"] == 1
    assert r.nonmonotonic == ()  # different clients
    assert r.duplicates == ()  # the log holds it once
    assert r.ok


def test_processed_twice_counts_when_processing_is_the_basis() -> None:
    r = check(
        [
            consume(1, b"a", 0, group="g"),
            process(2, b"a", 0),
            process(3, b"a", 0, client="c2"),
        ]
    )
    assert [(x.offset, x.count, x.clients) for x in r.groups["g"].redelivered] == [(0, 2, ("c1", "c2"))]


def test_consumed_twice_but_processed_once_is_not_redelivered_on_process_basis() -> None:
    r = check(
        [consume(1, b"a", 0, group="g"), consume(2, b"a", 0, client="c2", group="g"), process(3, b"a", 0)]
    )
    assert r.groups["g"].redelivered == ()


def test_consumes_without_group_make_no_group() -> None:
    r = check([consume(1, b"a", 0)])
    assert r.groups == {}


# --------------------------------------------------------------------------------------------- summary


def test_summary_counts_every_category() -> None:
    r = check(
        [
            ack(1, b"a", 0),  # lost (read past by c1 at offset 2)
            ack(2, b"b", 1),  # skipped by c1 ...
            consume(3, b"b", 1, client="c2"),  # ... but seen by c2
            consume(4, b"x", 0, client="c3"),  # inconsistent with a at 0
            consume(5, b"c", 2),
            consume(6, b"c", 2),  # nonmonotonic for c1
            consume(7, b"c", 5),  # duplicate of c
            ack(8, b"u", 0, partition=3),  # unseen
            consume(10, b"c", 2, client="c3"),  # c3 skips b at offset 1
        ]
    )
    assert r.summary() == {
        "acked": 3,
        "seen": 1,
        "lost": 1,
        "unseen": 1,
        "duplicates": 1,
        "inconsistent_offsets": 1,
        "nonmonotonic": 1,
        "skips": 1,
        "groups": 0,
        "delivered_missing": 0,
        "redelivered": 0,
    }
    assert not r.ok
    assert len(r.findings()) == 5


def test_empty_history_is_ok() -> None:
    r = check([])
    assert r.ok
    assert set(r.summary().values()) == {0}
