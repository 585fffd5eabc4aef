"""A Jepsen-style checker for the client history recorded by the simulator (:mod:`kafkalab.sim.history`).

It reads what clients *observed* (sends, acks, consumes, complete reads ...) and reports, in the vocabulary
of Jepsen's kafka workload:

``lost``
    An acknowledged write nobody ever consumed although the partition was read past it: a consume in the
    same partition at a higher offset, or a complete read (``read_complete``, log start to high watermark)
    that happened after the ack. The complete read counts even when its high watermark is at or below the
    acked offset: after an unclean leader election the log can end below a write that was acknowledged.
    Under ``acks=0`` (no offset) only a later complete read can prove a loss.
``unseen``
    Acknowledged, not yet consumed, and not (yet) provably lost. Informational, not an error.
``duplicates``
    One value observed (by acks and consumes) at two or more distinct ``(topic, partition, offset)``
    positions: the log holds it twice, e.g. a producer retry without idempotence.
``inconsistent_offsets``
    One ``(topic, partition, offset)`` observed holding two different values, e.g. readers on both sides of
    a log truncation.
``nonmonotonic``
    A client consumed offset ``b`` right after offset ``a >= b`` in the same partition.
``skips``
    A client consumed ``a`` then ``b`` in one partition although some offset strictly between them is known
    (from any ack or any consume) to hold a record. Gaps with no known record (transaction markers,
    compaction) are not skips.

and, per consumer group, a delivery analysis: values that exist in the log of the topics the group read but
that the group never consumed (or never processed, if the workload records ``process`` ops), and positions
the group consumed (processed) more than once. Those describe delivery semantics (at-most-once leaves
missing values, at-least-once redelivers), so they are counted but do not make :attr:`CheckResult.ok` false.

Values are assumed unique per workload; ops whose ``value`` is ``None`` are not matched by value.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kafkalab.sim.history import Op

__all__ = [
    "CheckResult",
    "Duplicate",
    "GroupDelivery",
    "InconsistentOffset",
    "Lost",
    "MissingDelivery",
    "Nonmonotonic",
    "Redelivery",
    "Sighting",
    "Skip",
    "Unseen",
    "check",
]

#: Why an acknowledged write is known to be lost.
READ_PAST = "read_past"  # a consume in the partition at a higher offset
READ_COMPLETE = "read_complete"  # a complete read after the ack did not contain it

TP = tuple[str, int]
Position = tuple[str, int, int]


def _v(value: bytes | None) -> str:
    if value is None:
        return "None"
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return repr(value)


def _at(topic: str, partition: int | None, offset: int | None) -> str:
    where = f"{topic}[{partition}]" if partition is not None else topic
    return where if offset is None else f"{where}@{offset}"


# --------------------------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Sighting:
    """One observation of a value at a log position, by an ``ack`` or a ``consume``."""

    type: str
    client: str
    time_ms: int
    topic: str
    partition: int
    offset: int
    value: bytes
    group: str | None = None

    @property
    def position(self) -> Position:
        return (self.topic, self.partition, self.offset)

    def describe(self) -> str:
        who = self.client if self.group is None else f"{self.client} ({self.group})"
        return f"{self.type} by {who} at t={self.time_ms}ms: {_at(self.topic, self.partition, self.offset)}"


@dataclass(frozen=True, slots=True)
class Lost:
    """An acknowledged write that the partition was read past without anyone seeing it."""

    value: bytes
    topic: str
    partition: int
    offset: int | None  # the acknowledged offset; None under acks=0
    producer: str
    ack_time_ms: int
    reason: str  # READ_PAST or READ_COMPLETE
    witness_client: str  # the consumer that read past it / the reader that read the partition completely
    witness_time_ms: int
    witness_offset: int  # the offset consumed past it / the high watermark of the complete read

    @property
    def truncated_below(self) -> bool:
        """The complete read ended at or below the acked offset: the log was cut under the write."""
        return self.reason == READ_COMPLETE and self.offset is not None and self.witness_offset <= self.offset

    def describe(self) -> str:
        head = (
            f"lost {_v(self.value)}: acked to {self.producer} at {_at(self.topic, self.partition, self.offset)} "
            f"(t={self.ack_time_ms}ms)"
        )
        if self.reason == READ_PAST:
            return (
                f"{head}, but {self.witness_client} consumed offset {self.witness_offset} "
                f"at t={self.witness_time_ms}ms and nobody ever consumed it"
            )
        tail = " (the log now ends below the acked offset)" if self.truncated_below else ""
        return (
            f"{head}, but {self.witness_client} read the partition completely up to HW {self.witness_offset} "
            f"at t={self.witness_time_ms}ms without it{tail}"
        )


@dataclass(frozen=True, slots=True)
class Unseen:
    """Acknowledged but not consumed, and not known to be lost (nobody read that far yet)."""

    value: bytes
    topic: str
    partition: int | None
    offset: int | None
    producer: str
    ack_time_ms: int

    def describe(self) -> str:
        return (
            f"unseen {_v(self.value)}: acked to {self.producer} at {_at(self.topic, self.partition, self.offset)} "
            f"(t={self.ack_time_ms}ms), not read yet"
        )


@dataclass(frozen=True, slots=True)
class Duplicate:
    """One value at two or more distinct log positions."""

    value: bytes
    positions: tuple[Position, ...]  # sorted
    sightings: tuple[Sighting, ...]  # in history order

    def describe(self) -> str:
        where = ", ".join(_at(t, p, o) for t, p, o in self.positions)
        return f"duplicate {_v(self.value)}: in the log at {where}"


@dataclass(frozen=True, slots=True)
class InconsistentOffset:
    """One log position observed holding different values."""

    topic: str
    partition: int
    offset: int
    values: tuple[bytes, ...]  # in order of first sighting
    sightings: tuple[Sighting, ...]  # in history order

    def describe(self) -> str:
        vals = ", ".join(_v(v) for v in self.values)
        return f"inconsistent offset {_at(self.topic, self.partition, self.offset)}: seen holding {vals}"


@dataclass(frozen=True, slots=True)
class Nonmonotonic:
    """A client consumed an offset not greater than the one it consumed just before in that partition."""

    client: str
    group: str | None
    topic: str
    partition: int
    prev_offset: int
    offset: int
    prev_time_ms: int
    time_ms: int
    prev_value: bytes | None
    value: bytes | None

    def describe(self) -> str:
        return (
            f"nonmonotonic {self.client} on {_at(self.topic, self.partition, None)}: offset {self.prev_offset} "
            f"(t={self.prev_time_ms}ms) then {self.offset} (t={self.time_ms}ms)"
        )


@dataclass(frozen=True, slots=True)
class Skip:
    """A client jumped over offsets known to hold records."""

    client: str
    group: str | None
    topic: str
    partition: int
    from_offset: int
    to_offset: int
    skipped_offsets: tuple[int, ...]  # known record offsets strictly between from_offset and to_offset
    skipped_values: tuple[bytes, ...]  # values known at those offsets (sorted by offset, then first sighting)
    from_time_ms: int
    time_ms: int

    def describe(self) -> str:
        vals = ", ".join(_v(v) for v in self.skipped_values)
        return (
            f"skip by {self.client} on {_at(self.topic, self.partition, None)}: offset {self.from_offset} "
            f"(t={self.from_time_ms}ms) then {self.to_offset} (t={self.time_ms}ms), jumping over "
            f"{list(self.skipped_offsets)}" + (f" ({vals})" if vals else "")
        )


@dataclass(frozen=True, slots=True)
class MissingDelivery:
    """A value in the log of a topic the group read that the group never consumed (processed)."""

    group: str
    value: bytes
    topic: str
    partition: int
    offset: int
    seen_by: str  # first evidence that the value is in the log: "ack by p1 at t=5ms" ...

    def describe(self) -> str:
        return (
            f"group {self.group} never got {_v(self.value)} at {_at(self.topic, self.partition, self.offset)} "
            f"({self.seen_by})"
        )


@dataclass(frozen=True, slots=True)
class Redelivery:
    """A log position the group consumed (processed) more than once."""

    group: str
    topic: str
    partition: int
    offset: int
    count: int
    values: tuple[bytes | None, ...]  # one per delivery, in history order
    clients: tuple[str, ...]
    times_ms: tuple[int, ...]

    def describe(self) -> str:
        deliveries = ", ".join(f"{c} t={t}ms" for c, t in zip(self.clients, self.times_ms, strict=True))
        return (
            f"group {self.group} got {_at(self.topic, self.partition, self.offset)} {self.count} times: "
            f"{deliveries}"
        )


@dataclass(frozen=True, slots=True)
class GroupDelivery:
    """Delivery analysis of one consumer group."""

    group: str
    basis: str  # "consume", or "process" when the group recorded process ops
    topics: tuple[str, ...]
    delivered: int  # distinct values consumed (processed) by the group
    missing: tuple[MissingDelivery, ...]
    redelivered: tuple[Redelivery, ...]

    @property
    def missing_count(self) -> int:
        return len(self.missing)

    @property
    def redelivered_count(self) -> int:
        return len(self.redelivered)


@dataclass(frozen=True, slots=True)
class CheckResult:
    acked: int
    seen: int  # acknowledged values that somebody consumed
    lost: tuple[Lost, ...]
    unseen: tuple[Unseen, ...]
    duplicates: tuple[Duplicate, ...]
    inconsistent_offsets: tuple[InconsistentOffset, ...]
    nonmonotonic: tuple[Nonmonotonic, ...]
    skips: tuple[Skip, ...]
    groups: dict[str, GroupDelivery] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No lost writes, duplicates, inconsistent offsets, nonmonotonic consumes or skips."""
        return not (
            self.lost or self.duplicates or self.inconsistent_offsets or self.nonmonotonic or self.skips
        )

    def summary(self) -> dict[str, int]:
        return {
            "acked": self.acked,
            "seen": self.seen,
            "lost": len(self.lost),
            "unseen": len(self.unseen),
            "duplicates": len(self.duplicates),
            "inconsistent_offsets": len(self.inconsistent_offsets),
            "nonmonotonic": len(self.nonmonotonic),
            "skips": len(self.skips),
            "groups": len(self.groups),
            "delivered_missing": sum(g.missing_count for g in self.groups.values()),
            "redelivered": sum(g.redelivered_count for g in self.groups.values()),
        }

    def findings(self) -> list[str]:
        """One human-readable line per error finding (unseen and delivery findings excluded)."""
        items: list[Lost | Duplicate | InconsistentOffset | Nonmonotonic | Skip] = [
            *self.lost,
            *self.duplicates,
            *self.inconsistent_offsets,
            *self.nonmonotonic,
            *self.skips,
        ]
        return [item.describe() for item in items]


# --------------------------------------------------------------------------------------------- the check


def _sighting(op: Op) -> Sighting | None:
    if op.type not in ("ack", "consume") or op.partition is None or op.offset is None or op.value is None:
        return None
    return Sighting(op.type, op.client, op.time_ms, op.topic, op.partition, op.offset, op.value, op.group)


def check(history: Iterable[Op]) -> CheckResult:
    """Check a history. Ops are taken in ``time_ms`` order; ties keep their order in ``history``."""
    ops = sorted(history, key=lambda op: op.time_ms)  # stable: equal times keep history order

    sightings = [s for s in map(_sighting, ops) if s is not None]
    # Offsets known to hold a record, per partition: any ack or consume with an offset (even a None value).
    record_offsets: dict[TP, set[int]] = defaultdict(set)
    for op in ops:
        if op.type in ("ack", "consume") and op.partition is not None and op.offset is not None:
            record_offsets[(op.topic, op.partition)].add(op.offset)
    sorted_offsets = {tp: sorted(offs) for tp, offs in record_offsets.items()}

    lost, unseen, seen = _lost_and_unseen(ops)
    duplicates = _duplicates(sightings)
    inconsistent = _inconsistent(sightings)
    nonmonotonic, skips = _consumer_order(ops, sorted_offsets, sightings)
    lost_values = {item.value for item in lost}
    groups = _delivery(ops, sightings, lost_values)
    return CheckResult(
        acked=sum(1 for op in ops if op.type == "ack" and op.value is not None),
        seen=seen,
        lost=tuple(lost),
        unseen=tuple(unseen),
        duplicates=tuple(duplicates),
        inconsistent_offsets=tuple(inconsistent),
        nonmonotonic=tuple(nonmonotonic),
        skips=tuple(skips),
        groups=groups,
    )


def _lost_and_unseen(ops: list[Op]) -> tuple[list[Lost], list[Unseen], int]:
    consumed_values = {op.value for op in ops if op.type == "consume" and op.value is not None}
    send_partition: dict[bytes, tuple[str, int]] = {}
    for op in ops:
        if op.type == "send" and op.value is not None and op.partition is not None:
            send_partition.setdefault(op.value, (op.topic, op.partition))

    # Per partition: consumes sorted by offset, with the earliest (history order) consume at or above each.
    past = {tp: _ReadPast(entries) for tp, entries in _consumes_by_tp(ops).items()}
    # ... and the complete reads, with their positions in the (time-sorted) history.
    complete_reads: dict[TP, list[tuple[int, Op]]] = defaultdict(list)
    for i, op in enumerate(ops):
        if op.type == "read_complete" and op.partition is not None and op.offset is not None:
            complete_reads[(op.topic, op.partition)].append((i, op))

    lost: list[Lost] = []
    unseen: list[Unseen] = []
    seen = 0
    for i, op in enumerate(ops):
        if op.type != "ack" or op.value is None:
            continue
        if op.value in consumed_values:
            seen += 1
            continue
        tp: TP | None = op.tp
        if tp is None:
            tp = send_partition.get(op.value)
            if tp is None or tp[0] != op.topic:
                tp = None
        if tp is None:
            unseen.append(Unseen(op.value, op.topic, None, op.offset, op.client, op.time_ms))
            continue
        witness = past[tp].first_above(op.offset) if tp in past and op.offset is not None else None
        if witness is not None:
            assert witness.offset is not None
            lost.append(
                Lost(
                    value=op.value,
                    topic=tp[0],
                    partition=tp[1],
                    offset=op.offset,
                    producer=op.client,
                    ack_time_ms=op.time_ms,
                    reason=READ_PAST,
                    witness_client=witness.client,
                    witness_time_ms=witness.time_ms,
                    witness_offset=witness.offset,
                )
            )
            continue
        later_read = next((rc for j, rc in complete_reads.get(tp, ()) if j > i), None)
        if later_read is not None:
            assert later_read.offset is not None
            lost.append(
                Lost(
                    value=op.value,
                    topic=tp[0],
                    partition=tp[1],
                    offset=op.offset,
                    producer=op.client,
                    ack_time_ms=op.time_ms,
                    reason=READ_COMPLETE,
                    witness_client=later_read.client,
                    witness_time_ms=later_read.time_ms,
                    witness_offset=later_read.offset,
                )
            )
            continue
        unseen.append(Unseen(op.value, tp[0], tp[1], op.offset, op.client, op.time_ms))
    return lost, unseen, seen


def _consumes_by_tp(ops: list[Op]) -> dict[TP, list[tuple[int, int, Op]]]:
    """Per partition: ``(offset, history index, op)`` of every consume that has an offset."""
    out: dict[TP, list[tuple[int, int, Op]]] = defaultdict(list)
    for i, op in enumerate(ops):
        if op.type == "consume" and op.partition is not None and op.offset is not None:
            out[(op.topic, op.partition)].append((op.offset, i, op))
    return out


class _ReadPast:
    """Answers "the first consume (history order) in this partition at an offset above X"."""

    def __init__(self, entries: list[tuple[int, int, Op]]) -> None:
        by_offset = sorted(entries, key=lambda e: (e[0], e[1]))
        self._offsets = [e[0] for e in by_offset]
        # _earliest[k] is the entry with the smallest history index among by_offset[k:].
        self._earliest = list(by_offset)
        for k in range(len(by_offset) - 2, -1, -1):
            if self._earliest[k + 1][1] < self._earliest[k][1]:
                self._earliest[k] = self._earliest[k + 1]

    def first_above(self, offset: int) -> Op | None:
        k = bisect.bisect_right(self._offsets, offset)
        return self._earliest[k][2] if k < len(self._earliest) else None


def _duplicates(sightings: list[Sighting]) -> list[Duplicate]:
    by_value: dict[bytes, list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_value[s.value].append(s)
    out: list[Duplicate] = []
    for value, seen in by_value.items():
        positions = sorted({s.position for s in seen})
        if len(positions) >= 2:
            out.append(Duplicate(value, tuple(positions), tuple(seen)))
    return out


def _inconsistent(sightings: list[Sighting]) -> list[InconsistentOffset]:
    by_position: dict[Position, list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_position[s.position].append(s)
    out: list[InconsistentOffset] = []
    for (topic, partition, offset), seen in sorted(by_position.items()):
        values = tuple(dict.fromkeys(s.value for s in seen))
        if len(values) >= 2:
            out.append(InconsistentOffset(topic, partition, offset, values, tuple(seen)))
    return out


def _consumer_order(
    ops: list[Op], sorted_offsets: dict[TP, list[int]], sightings: list[Sighting]
) -> tuple[list[Nonmonotonic], list[Skip]]:
    values_at: dict[Position, list[bytes]] = defaultdict(list)
    for s in sightings:
        if s.value not in values_at[s.position]:
            values_at[s.position].append(s.value)

    last: dict[tuple[str, str, int], Op] = {}
    nonmonotonic: list[Nonmonotonic] = []
    skips: list[Skip] = []
    for op in ops:
        if op.type != "consume" or op.partition is None or op.offset is None:
            continue
        key = (op.client, op.topic, op.partition)
        prev = last.get(key)
        last[key] = op
        if prev is None or prev.offset is None:
            continue
        a, b = prev.offset, op.offset
        if b <= a:
            nonmonotonic.append(
                Nonmonotonic(
                    client=op.client,
                    group=op.group,
                    topic=op.topic,
                    partition=op.partition,
                    prev_offset=a,
                    offset=b,
                    prev_time_ms=prev.time_ms,
                    time_ms=op.time_ms,
                    prev_value=prev.value,
                    value=op.value,
                )
            )
        elif b > a + 1:
            known = sorted_offsets.get((op.topic, op.partition), [])
            between = known[bisect.bisect_right(known, a) : bisect.bisect_left(known, b)]
            if between:
                skipped_values = tuple(
                    v for off in between for v in values_at.get((op.topic, op.partition, off), [])
                )
                skips.append(
                    Skip(
                        client=op.client,
                        group=op.group,
                        topic=op.topic,
                        partition=op.partition,
                        from_offset=a,
                        to_offset=b,
                        skipped_offsets=tuple(between),
                        skipped_values=skipped_values,
                        from_time_ms=prev.time_ms,
                        time_ms=op.time_ms,
                    )
                )
    return nonmonotonic, skips


def _delivery(ops: list[Op], sightings: list[Sighting], lost_values: set[bytes]) -> dict[str, GroupDelivery]:
    group_names = {op.group for op in ops if op.group is not None and op.type in ("consume", "process")}

    # Everything known to be in the log, first evidence per value (lost values are gone: see `lost`).
    in_log: dict[bytes, Sighting] = {}
    for s in sightings:
        if s.value not in lost_values:
            in_log.setdefault(s.value, s)

    result: dict[str, GroupDelivery] = {}
    for group in sorted(group_names):
        processed = [op for op in ops if op.type == "process" and op.group == group]
        basis = "process" if processed else "consume"
        deliveries = processed or [op for op in ops if op.type == "consume" and op.group == group]
        topics = tuple(
            sorted({op.topic for op in ops if op.group == group and op.type in ("consume", "process")})
        )
        got = {op.value for op in deliveries if op.value is not None}

        missing = tuple(
            MissingDelivery(
                group, value, s.topic, s.partition, s.offset, f"{s.type} by {s.client} at t={s.time_ms}ms"
            )
            for value, s in in_log.items()
            if s.topic in topics and value not in got
        )

        at_position: dict[Position, list[Op]] = defaultdict(list)
        for op in deliveries:
            if op.partition is not None and op.offset is not None:
                at_position[(op.topic, op.partition, op.offset)].append(op)
        redelivered = tuple(
            Redelivery(
                group=group,
                topic=t,
                partition=p,
                offset=o,
                count=len(dl),
                values=tuple(d.value for d in dl),
                clients=tuple(d.client for d in dl),
                times_ms=tuple(d.time_ms for d in dl),
            )
            for (t, p, o), dl in sorted(at_position.items())
            if len(dl) > 1
        )
        result[group] = GroupDelivery(group, basis, topics, len(got), missing, redelivered)
    return result
