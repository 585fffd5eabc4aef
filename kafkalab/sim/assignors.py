"""Kafka's consumer partition assignors as pure, deterministic functions.

The group *leader* (a consumer) runs the assignor chosen by the group coordinator over every member's
subscription and sends the result back through SyncGroup. This module reproduces the four assignors
that ship with the Java client:

========================  ==============================================================  ==============
protocol name             Java class                                                      rebalance
========================  ==============================================================  ==============
``range``                 ``org.apache.kafka.clients.consumer.RangeAssignor``              EAGER
``roundrobin``            ``org.apache.kafka.clients.consumer.RoundRobinAssignor``         EAGER
``sticky``                ``org.apache.kafka.clients.consumer.StickyAssignor``             EAGER
``cooperative-sticky``    ``org.apache.kafka.clients.consumer.CooperativeStickyAssignor``  COOPERATIVE
========================  ==============================================================  ==============

Everything here is a pure function of its arguments: no clock, no randomness, no I/O.

Fidelity notes (where Java leaves the answer to something that is not part of the input):

* The Java client builds ``partitionsPerTopic`` only from topics some member subscribes to and that
  have metadata (``AbstractPartitionAssignor.assign``); :func:`_subscribed_partition_counts` does the
  same, so extra topics in ``partitions_per_topic`` are ignored and topics with 0 partitions are skipped.
* ``AbstractStickyAssignor`` walks members in ``java.util.HashMap`` iteration order in two places where
  the order changes the answer (resolving ownership claims, and deciding which members keep
  ``maxQuota`` of their owned partitions). :func:`java_hashmap_order` reproduces that order from
  ``String.hashCode``; inside one hash bucket it keeps the order of the ``subscriptions`` mapping, which
  callers give in the order the coordinator lists the members (Java's ``HashMap`` insertion order).
* Where Java takes the first element of a ``HashSet`` (the general algorithm's
  ``getTheActualPartitionToBeMoved``), the element a ``HashSet<TopicPartition>`` iterates first is taken
  (``TopicPartition.hashCode`` buckets, then insertion order).
* As in Java, a partition whose previous owner (an older-generation claim) is less loaded goes back to it
  even when that member no longer subscribes to its topic; the consumer then refuses the assignment and
  rejoins (``ConsumerCoordinator.onJoinComplete``).
* Compared with Java's ``AbstractStickyAssignor`` (compiled from Kafka's source and driven with the same
  inputs: 10-16 members, 20+ partitions, unequal subscriptions, members joining, leaving, changing their
  subscriptions and reporting stale claims, 8,000 rebalances) ``sticky`` gives the same assignment every
  time. ``cooperative-sticky`` differs knowingly in about 1 in 1,500 of them: see its docstring.
* Owned partitions that do not exist any more (unknown topic or partition number out of range) are
  dropped before assigning. Java assumes partitions never disappear.
* Member assignments are returned sorted by ``(topic, partition)`` and the dict is keyed in member id
  order. Kafka treats each member's assignment as a set, so this only affects presentation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mypy_extensions import mypyc_attr

__all__ = [
    "ASSIGNORS",
    "COOPERATIVE",
    "DEFAULT_GENERATION",
    "EAGER",
    "Assignor",
    "CooperativePlan",
    "CooperativeStickyAssignor",
    "MemberSubscription",
    "RangeAssignor",
    "RoundRobinAssignor",
    "StickyAssignor",
    "TopicPartition",
    "choose_common_protocol",
    "common_rebalance_protocol",
    "cooperative_plan",
    "get_assignor",
    "java_hashmap_order",
    "parse_strategy",
    "revoked_partitions",
]

TopicPartition = tuple[str, int]

EAGER = "EAGER"
COOPERATIVE = "COOPERATIVE"
DEFAULT_GENERATION = -1
"""``AbstractStickyAssignor.DEFAULT_GENERATION``: the member has no generation (never had an assignment)."""


@dataclass(frozen=True)
class MemberSubscription:
    """What one member sends in its JoinGroup metadata (``ConsumerPartitionAssignor.Subscription``)."""

    member_id: str
    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    """Partitions the member owns now (``ownedPartitions``; for ``sticky`` its previous assignment)."""
    generation: int = DEFAULT_GENERATION
    """Generation of ``owned_partitions``; the sticky assignors resolve conflicting claims with it."""
    group_instance_id: str | None = None
    """``group.instance.id`` of a static member (KIP-345); range and roundrobin sort by it."""
    subscription_generation: int | None = None
    """The subscription's own generation field (``Subscription.generationId``), when it differs from
    ``generation``: Java compares a *rival* claimant's claim by this one (``allSubscriptionsEqual``). For the
    eager ``sticky`` assignor ``generation`` comes from the user data and this from the protocol field."""

    @property
    def claim_generation(self) -> int:
        return self.generation if self.subscription_generation is None else self.subscription_generation


class Assignor(Protocol):
    """A partition assignor (``ConsumerPartitionAssignor``)."""

    name: str
    rebalance_protocol: str

    def assign(
        self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
    ) -> dict[str, list[TopicPartition]]: ...


# --------------------------------------------------------------------------------------------- helpers


def _tp_key(tp: TopicPartition) -> tuple[str, int]:
    return tp


def _java_string_hash(s: str) -> int:
    """``java.lang.String.hashCode`` (over UTF-16 code units), as a signed-agnostic 32-bit value."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h


def java_hashmap_order(keys: Iterable[str]) -> list[str]:
    """Iteration order of a ``java.util.HashMap<String, ?>`` built with ``new HashMap<>()``.

    ``keys`` are taken as the insertion order (the order inside a bucket). The table starts at 16
    buckets and doubles whenever the size exceeds 0.75 of the capacity; entries are iterated by bucket
    index ``(h ^ (h >>> 16)) & (capacity - 1)``.
    """
    ordered = list(dict.fromkeys(keys))
    capacity = 16
    while len(ordered) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = _java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    position = {key: i for i, key in enumerate(ordered)}
    return sorted(ordered, key=lambda key: (bucket(key), position[key]))


def _member_order(subscriptions: Mapping[str, MemberSubscription]) -> list[str]:
    """``AbstractPartitionAssignor.MemberInfo`` order: static members by ``group.instance.id`` first,
    then dynamic members by member id."""

    def key(member_id: str) -> tuple[int, str, str]:
        instance = subscriptions[member_id].group_instance_id
        if instance is not None:
            return (0, instance, member_id)
        return (1, member_id, member_id)

    return sorted(subscriptions, key=key)


def _validate(subscriptions: Mapping[str, MemberSubscription]) -> None:
    for member_id, sub in subscriptions.items():
        if sub.member_id != member_id:
            raise ValueError(
                f"subscription keyed {member_id!r} carries member_id {sub.member_id!r}; they must match"
            )


def _subscribed_partition_counts(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
) -> dict[str, int]:
    """Partition counts of the topics somebody subscribes to and that exist (``AbstractPartitionAssignor``)."""
    _validate(subscriptions)
    topics = {topic for sub in subscriptions.values() for topic in sub.topics}
    return {
        topic: partitions_per_topic[topic]
        for topic in sorted(topics)
        if partitions_per_topic.get(topic, 0) > 0
    }


def _valid_owned(sub: MemberSubscription, counts: Mapping[str, int]) -> list[TopicPartition]:
    """The member's claimed partitions that exist, deduplicated, in claim order."""
    return [
        tp for tp in dict.fromkeys(sub.owned_partitions) if tp[0] in counts and 0 <= tp[1] < counts[tp[0]]
    ]


def _finish(assignment: Mapping[str, list[TopicPartition]]) -> dict[str, list[TopicPartition]]:
    return {member: sorted(assignment[member], key=_tp_key) for member in sorted(assignment)}


# ----------------------------------------------------------------------------------------- range


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class RangeAssignor:
    """Per topic: members (``MemberInfo`` order) get contiguous ranges; the first ``n % m`` get one more.

    Two members ``C0``/``C1`` subscribed to ``t0``/``t1`` with 3 partitions each get
    ``C0: [t0p0, t0p1, t1p0, t1p1]`` and ``C1: [t0p2, t1p2]``.
    """

    name = "range"
    rebalance_protocol = EAGER

    def assign(
        self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
    ) -> dict[str, list[TopicPartition]]:
        counts = _subscribed_partition_counts(partitions_per_topic, subscriptions)
        assignment: dict[str, list[TopicPartition]] = {member: [] for member in subscriptions}
        ordered = _member_order(subscriptions)
        for topic, num_partitions in counts.items():
            consumers = [m for m in ordered if topic in subscriptions[m].topics]
            per_consumer, with_extra = divmod(num_partitions, len(consumers))
            for i, member in enumerate(consumers):
                start = per_consumer * i + min(i, with_extra)
                length = per_consumer + (1 if i < with_extra else 0)
                assignment[member].extend((topic, p) for p in range(start, start + length))
        return _finish(assignment)


# ------------------------------------------------------------------------------------ roundrobin


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class RoundRobinAssignor:
    """All partitions sorted by topic then partition, dealt to members (``MemberInfo`` order) in turn,
    skipping members not subscribed to the partition's topic."""

    name = "roundrobin"
    rebalance_protocol = EAGER

    def assign(
        self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
    ) -> dict[str, list[TopicPartition]]:
        counts = _subscribed_partition_counts(partitions_per_topic, subscriptions)
        assignment: dict[str, list[TopicPartition]] = {member: [] for member in subscriptions}
        ring = _member_order(subscriptions)
        cursor = 0
        for topic, num_partitions in counts.items():
            for partition in range(num_partitions):
                # the topic is subscribed by someone (counts only holds such topics), so this terminates
                while topic not in subscriptions[ring[cursor]].topics:
                    cursor = (cursor + 1) % len(ring)
                assignment[ring[cursor]].append((topic, partition))
                cursor = (cursor + 1) % len(ring)
        return _finish(assignment)


# ---------------------------------------------------------------------------------------- sticky


def _all_subscriptions_equal(
    counts: Mapping[str, int],
    subscriptions: Mapping[str, MemberSubscription],
    order: Sequence[str],
) -> tuple[bool, dict[str, list[TopicPartition]], set[TopicPartition]]:
    """``AbstractStickyAssignor.allSubscriptionsEqual``.

    Returns whether every member subscribes to the same topics, each member's owned partitions after
    resolving conflicting claims (a higher generation wins; two claims in the same generation are both
    invalidated) and the set of partitions claimed twice in one generation.
    """
    first = set(subscriptions[order[0]].topics) if order else set()
    equal = all(set(subscriptions[m].topics) == first for m in order)

    owned: dict[str, list[TopicPartition]] = {}
    owner_of: dict[TopicPartition, str] = {}
    multiple_owners: set[TopicPartition] = set()
    for member in order:
        generation = subscriptions[member].generation
        mine: list[TopicPartition] = []
        owned[member] = mine
        for tp in _valid_owned(subscriptions[member], counts):
            other = owner_of.get(tp)
            if other is None:
                mine.append(tp)
                owner_of[tp] = member
                continue
            other_generation = subscriptions[other].claim_generation
            if generation == other_generation:
                # two members claim it in the same generation: nobody keeps it
                multiple_owners.add(tp)
                if tp in owned[other]:
                    owned[other].remove(tp)
                owner_of[tp] = member
            elif generation > other_generation:
                mine.append(tp)
                if tp in owned[other]:
                    owned[other].remove(tp)
                owner_of[tp] = member
            # else: the other member's claim is newer and stands
    return equal, owned, multiple_owners


def _constrained_assign(
    counts: Mapping[str, int],
    owned: Mapping[str, list[TopicPartition]],
    order: Sequence[str],
    multiple_owners: set[TopicPartition],
) -> tuple[dict[str, list[TopicPartition]], dict[TopicPartition, str]]:
    """``AbstractStickyAssignor.ConstrainedAssignmentBuilder`` (all members subscribe to the same topics).

    1. Each member keeps its owned partitions (ordered by partition then topic) up to a quota: fewer
       than ``minQuota`` -> keep all; at least ``maxQuota`` and fewer than ``total % members`` members
       granted ``maxQuota`` so far -> keep ``maxQuota``; otherwise keep ``minQuota``.
    2. The remaining partitions, sorted by topic then partition, go round robin to the members below
       ``minQuota`` (member id order), then one each to members at ``minQuota`` that may reach ``maxQuota``.

    Also returns the partitions moving from one owner to another (``partitionsTransferringOwnership``).
    """
    total = sum(counts.values())
    n = len(order)
    min_quota, extra = divmod(total, n)
    max_quota = min_quota + (1 if extra else 0)
    expected_over_min = extra
    current_over_min = 0

    assignment: dict[str, list[TopicPartition]] = {member: [] for member in order}
    assigned: set[TopicPartition] = set()
    revoked: set[TopicPartition] = set()
    transferring: dict[TopicPartition, str] = {}
    under_min: list[str] = []
    exactly_min: list[str] = []

    for member in order:
        mine = sorted(
            (tp for tp in owned[member] if tp not in multiple_owners), key=lambda tp: (tp[1], tp[0])
        )
        if len(mine) < min_quota:
            keep = mine
            under_min.append(member)
        elif len(mine) >= max_quota and current_over_min < expected_over_min:
            current_over_min += 1
            if current_over_min == expected_over_min:
                exactly_min.clear()
            keep = mine[:max_quota]
            revoked.update(mine[max_quota:])
        else:
            keep = mine[:min_quota]
            revoked.update(mine[min_quota:])
            if current_over_min < expected_over_min:
                exactly_min.append(member)
        assignment[member].extend(keep)
        assigned.update(keep)

    unassigned = [(topic, p) for topic in sorted(counts) for p in range(counts[topic])]
    unassigned = [tp for tp in unassigned if tp not in assigned]
    under_min.sort()
    exactly_min.sort()

    def assign_new(tp: TopicPartition, member: str) -> int:
        assignment[member].append(tp)
        if tp in revoked or tp in multiple_owners:
            transferring[tp] = member
        return len(assignment[member])

    # round robin over under_min with a Java-style iterator that supports removing the current element
    index = 0
    for tp in unassigned:
        if index < len(under_min):
            member = under_min[index]
            index += 1
        elif not under_min and not exactly_min:
            raise RuntimeError("sticky assignor: no more unfilled consumers to be assigned")
        elif not under_min:
            member = exactly_min.pop(0)
        else:
            index = 0
            member = under_min[index]
            index += 1
        count = assign_new(tp, member)
        if count == min_quota:
            index -= 1
            del under_min[index]
            exactly_min.append(member)
        elif count == max_quota:
            current_over_min += 1

    for member in under_min:
        if current_over_min != expected_over_min or len(assignment[member]) != min_quota:
            raise RuntimeError(f"sticky assignor: consumer {member!r} did not reach its quota")
    return assignment, transferring


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _JavaHashSet:
    """The iteration order of a ``java.util.HashSet<TopicPartition>``: by hash bucket, then insertion order.

    The table starts at 16 buckets, doubles once it holds more than 3/4 of that, and never shrinks.
    """

    __slots__ = ("items", "capacity", "seq")

    def __init__(self) -> None:
        self.items: dict[TopicPartition, int] = {}
        self.capacity = 16
        self.seq = 0

    def add(self, tp: TopicPartition) -> None:
        if tp not in self.items:
            self.seq += 1
            self.items[tp] = self.seq
            while len(self.items) > self.capacity * 3 // 4:
                self.capacity *= 2

    def discard(self, tp: TopicPartition) -> None:
        self.items.pop(tp, None)

    def __bool__(self) -> bool:
        return bool(self.items)

    def first(self) -> TopicPartition:
        """``set.iterator().next()``."""

        def key(tp: TopicPartition) -> tuple[int, int]:
            h = (31 * (31 + tp[1]) + _java_string_hash(tp[0])) & 0xFFFFFFFF  # TopicPartition.hashCode
            return ((h ^ (h >> 16)) & (self.capacity - 1), self.items[tp])

        return min(self.items, key=key)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _PartitionMovements:
    """``AbstractStickyAssignor.PartitionMovements``: where each partition came from during balancing."""

    def __init__(self) -> None:
        self.by_topic: dict[str, dict[tuple[str, str], _JavaHashSet]] = {}
        self.movements: dict[TopicPartition, tuple[str, str]] = {}

    def _remove(self, tp: TopicPartition) -> tuple[str, str]:
        pair = self.movements.pop(tp)
        topic_moves = self.by_topic[tp[0]]
        topic_moves[pair].discard(tp)
        if not topic_moves[pair]:
            del topic_moves[pair]
        if not topic_moves:
            del self.by_topic[tp[0]]
        return pair

    def _add(self, tp: TopicPartition, pair: tuple[str, str]) -> None:
        self.movements[tp] = pair
        self.by_topic.setdefault(tp[0], {}).setdefault(pair, _JavaHashSet()).add(tp)

    def move(self, tp: TopicPartition, old: str, new: str) -> None:
        if tp in self.movements:
            source, _ = self._remove(tp)
            if source != new:  # not simply moving back home
                self._add(tp, (source, new))
        else:
            self._add(tp, (old, new))

    def actual_partition_to_move(self, tp: TopicPartition, old: str, new: str) -> TopicPartition:
        """Prefer undoing an earlier move of the same topic in the opposite direction (stickiness); of
        several, the one a Java HashSet iterates first (``getTheActualPartitionToBeMoved``)."""
        topic_moves = self.by_topic.get(tp[0])
        if topic_moves is None:
            return tp
        if tp in self.movements:
            old = self.movements[tp][0]
        reverse = topic_moves.get((new, old))
        if not reverse:
            return tp
        return reverse.first()


def _balance_score(assignment: Mapping[str, list[TopicPartition]]) -> int:
    sizes = [len(tps) for tps in assignment.values()]
    return sum(abs(a - b) for i, a in enumerate(sizes) for b in sizes[i + 1 :])


def _general_assign(
    counts: Mapping[str, int],
    subscriptions: Mapping[str, MemberSubscription],
    owned: Mapping[str, list[TopicPartition]],
) -> dict[str, list[TopicPartition]]:
    """``AbstractStickyAssignor.GeneralAssignmentBuilder`` (members subscribe to different topics).

    Keeps every still-valid owned partition, gives each unassigned partition (topics with the fewest
    potential consumers first) to the least loaded member that can take it, then moves partitions from
    members holding 2+ more than an eligible peer until balanced. A move that does not improve the
    balance score is rolled back.
    """
    members = sorted(subscriptions)
    topic_consumers: dict[str, list[str]] = {topic: [] for topic in counts}
    consumer_topics: dict[str, list[str]] = {}
    for member in members:
        topics = sorted({t for t in subscriptions[member].topics if t in counts})
        consumer_topics[member] = topics
        for topic in topics:
            topic_consumers[topic].append(member)
    max_size = {m: sum(counts[t] for t in consumer_topics[m]) for m in members}

    current: dict[str, list[TopicPartition]] = {m: list(owned.get(m, [])) for m in members}
    owner: dict[TopicPartition, str] = {tp: m for m in members for tp in current[m]}

    sorted_topics = sorted(counts, key=lambda t: (len(topic_consumers[t]), t))
    sorted_all = [(t, p) for t in sorted_topics for p in range(counts[t])]

    # prevAssignment: the most recent older-generation claim on each partition
    max_generation = max((subscriptions[m].generation for m in members), default=DEFAULT_GENERATION)
    previous: dict[TopicPartition, tuple[str, int]] = {}
    for member in members:
        generation = subscriptions[member].generation
        if generation < max_generation:
            for tp in _valid_owned(subscriptions[member], counts):
                if tp not in previous or generation > previous[tp][1]:
                    previous[tp] = (member, generation)

    # keep owned partitions of still-subscribed topics
    revocation_required = False
    for member in members:
        kept: list[TopicPartition] = []
        for tp in current[member]:
            if tp[0] in consumer_topics[member]:
                kept.append(tp)
            else:
                revocation_required = True
                owner.pop(tp, None)
        current[member] = kept
    unassigned = [tp for tp in sorted_all if tp not in owner]

    active = set(members)

    def by_load() -> list[str]:
        return sorted(active, key=lambda m: (len(current[m]), m))

    def add(tp: TopicPartition, member: str) -> None:
        current[member].append(tp)
        owner[tp] = member

    initializing = all(not current[m] for m in members)

    for tp in unassigned:
        for member in by_load():
            if tp[0] in consumer_topics[member]:
                add(tp, member)
                break

    fixed_topics = {t for t in counts if len(topic_consumers[t]) < 2}
    reassignable_all = [tp for tp in sorted_all if tp[0] not in fixed_topics]
    reassignable_new = [tp for tp in unassigned if tp[0] not in fixed_topics]

    fixed_assignments: dict[str, list[TopicPartition]] = {}
    for member in members:
        can_move = len(current[member]) < max_size[member] or any(
            tp[0] not in fixed_topics for tp in current[member]
        )
        if not can_move:
            active.discard(member)
            fixed_assignments[member] = current.pop(member)

    def is_balanced() -> bool:
        ordered = by_load()
        if not ordered or len(current[ordered[0]]) >= len(current[ordered[-1]]) - 1:
            return True
        for member in ordered:
            size = len(current[member])
            if size == max_size[member]:
                continue
            mine = set(current[member])
            for topic in consumer_topics[member]:
                for p in range(counts[topic]):
                    other = owner.get((topic, p))
                    if (topic, p) in mine or other is None or other not in active:
                        continue
                    if size + 1 < len(current[other]):
                        return False
        return True

    movements = _PartitionMovements()

    def reassign(tp: TopicPartition, new_owner: str) -> None:
        to_move = movements.actual_partition_to_move(tp, owner[tp], new_owner)
        old_owner = owner[to_move]
        movements.move(to_move, old_owner, new_owner)
        current[old_owner].remove(to_move)
        add(to_move, new_owner)

    # Java loops until nothing moves; the budget only guards against a pathological cycle.
    budget = 4 * (len(sorted_all) + 1) * (len(members) + 1) + 64

    def perform_reassignments(partitions: Sequence[TopicPartition]) -> bool:
        nonlocal budget
        performed = False
        modified = True
        while modified and budget > 0:
            modified = False
            for tp in partitions:
                if budget <= 0 or is_balanced():
                    break
                holder = owner[tp]
                prev = previous.get(tp)
                if (
                    prev is not None
                    and prev[0] in active
                    and len(current[holder]) > len(current[prev[0]]) + 1
                ):
                    reassign(tp, prev[0])
                    performed = modified = True
                    budget -= 1
                    continue
                if any(
                    o in active and len(current[holder]) > len(current[o]) + 1 for o in topic_consumers[tp[0]]
                ):
                    target = next(m for m in by_load() if tp[0] in consumer_topics[m])
                    reassign(tp, target)
                    performed = modified = True
                    budget -= 1
        return performed

    before = {m: list(tps) for m, tps in current.items()}
    before_owner = dict(owner)
    if not revocation_required:
        perform_reassignments(reassignable_new)
    performed = perform_reassignments(reassignable_all)
    if not initializing and performed and _balance_score(current) >= _balance_score(before):
        current.clear()
        current.update(before)
        owner.clear()
        owner.update(before_owner)

    current.update(fixed_assignments)
    return current


def _sticky_assign(
    partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
) -> tuple[dict[str, list[TopicPartition]], dict[TopicPartition, str] | None, dict[TopicPartition, str]]:
    """``AbstractStickyAssignor.assign``.

    Returns the assignment; on the constrained path the partitions changing owner (``None`` on the
    general path: the cooperative assignor computes them itself); and the owner of each partition after
    resolving conflicting claims.
    """
    counts = _subscribed_partition_counts(partitions_per_topic, subscriptions)
    if not subscriptions:
        return {}, {}, {}
    order = java_hashmap_order(subscriptions)
    equal, owned, multiple_owners = _all_subscriptions_equal(counts, subscriptions, order)
    resolved = {tp: member for member, tps in owned.items() for tp in tps}
    if equal:
        assignment, transferring = _constrained_assign(counts, owned, order, multiple_owners)
        return assignment, transferring, resolved
    return _general_assign(counts, subscriptions, owned), None, resolved


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class StickyAssignor:
    """KIP-54: as balanced as possible while keeping as many previously owned partitions as possible.

    Eager: every member gives up everything before rejoining, so ``owned_partitions`` here is the
    member's *previous assignment* (the Java client sends it in the subscription user data).
    """

    name = "sticky"
    rebalance_protocol = EAGER

    def assign(
        self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
    ) -> dict[str, list[TopicPartition]]:
        assignment, _, _ = _sticky_assign(partitions_per_topic, subscriptions)
        return _finish(assignment)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class CooperativeStickyAssignor:
    """KIP-429: the sticky target assignment, minus every partition that has to change owner.

    A partition moving from A to B is left out of *both* assignments in this rebalance: A sees it
    missing from its new assignment and revokes it (see :func:`revoked_partitions`), then rejoins; in
    the follow-up rebalance nobody owns it any more, so it is handed to B. :func:`cooperative_plan`
    runs both rounds.

    Beyond Java (a knowing difference): a partition is also withheld from a member that is not its
    rightful owner (after generation-based conflict resolution) while another member claims it. Java's
    general path can hand such a doubly claimed partition straight to one of the claimants, so for a
    moment two consumers own it; this happens only with stale claims (about 1 rebalance in 1,500 in the
    comparison described in the module docstring), and is the only place this assignor's answer differs.
    """

    name = "cooperative-sticky"
    rebalance_protocol = COOPERATIVE

    def assign(
        self, partitions_per_topic: Mapping[str, int], subscriptions: Mapping[str, MemberSubscription]
    ) -> dict[str, list[TopicPartition]]:
        assignment, transferring, resolved = _sticky_assign(partitions_per_topic, subscriptions)
        if transferring is None:
            transferring = _partitions_transferring_ownership(subscriptions, assignment)
        # Safety net beyond Java (matters only for invalid claims on the general path: two members
        # claiming one partition in the same generation, or a stale claimant being handed it back):
        # never give a member a partition another member still claims unless it is the rightful owner.
        claimants: dict[TopicPartition, set[str]] = {}
        for member, sub in subscriptions.items():
            for tp in sub.owned_partitions:
                claimants.setdefault(tp, set()).add(member)
        for member in sorted(assignment):
            for tp in assignment[member]:
                if resolved.get(tp) != member and claimants.get(tp, set()) - {member}:
                    transferring.setdefault(tp, member)
        for tp, member in transferring.items():
            assignment[member].remove(tp)
        return _finish(assignment)


def _partitions_transferring_ownership(
    subscriptions: Mapping[str, MemberSubscription], assignment: Mapping[str, list[TopicPartition]]
) -> dict[TopicPartition, str]:
    """``CooperativeStickyAssignor.computePartitionsTransferringOwnership``: partitions newly given to a
    member that some other member claimed to own and must revoke first."""
    added: dict[TopicPartition, str] = {}
    revoked: set[TopicPartition] = set()
    for member in sorted(assignment):
        owned = set(subscriptions[member].owned_partitions)
        assigned = set(assignment[member])
        added.update({tp: member for tp in assignment[member] if tp not in owned})
        revoked.update(tp for tp in subscriptions[member].owned_partitions if tp not in assigned)
    return {tp: member for tp, member in added.items() if tp in revoked}


# ------------------------------------------------------------------------------ cooperative flow


def revoked_partitions(
    owned: Mapping[str, Sequence[TopicPartition]], assignment: Mapping[str, Sequence[TopicPartition]]
) -> dict[str, list[TopicPartition]]:
    """What each member must revoke: owned partitions missing from its new assignment.

    Only members with something to revoke appear. Under the cooperative protocol a non-empty result
    means those members call ``onPartitionsRevoked`` and rejoin, triggering a follow-up rebalance. A
    member absent from ``assignment`` (it left) revokes everything it owned.
    """
    result: dict[str, list[TopicPartition]] = {}
    for member in sorted(owned):
        keep = set(assignment.get(member, ()))
        gone = [tp for tp in dict.fromkeys(owned[member]) if tp not in keep]
        if gone:
            result[member] = gone
    return result


@dataclass(frozen=True)
class CooperativePlan:
    """The rebalances a cooperative group goes through until nobody has to revoke anything."""

    assignments: tuple[dict[str, list[TopicPartition]], ...]
    """The assignment handed out in each rebalance (round 1 first)."""
    revocations: tuple[dict[str, list[TopicPartition]], ...]
    """What each member revoked after the matching rebalance (the last one is always empty)."""
    generations: tuple[int, ...]
    """The generation each rebalance created."""

    @property
    def final(self) -> dict[str, list[TopicPartition]]:
        return self.assignments[-1]


def cooperative_plan(
    partitions_per_topic: Mapping[str, int],
    subscriptions: Mapping[str, MemberSubscription],
    assignor: Assignor | None = None,
    max_rounds: int = 8,
) -> CooperativePlan:
    """Run rebalances the way a cooperative group does until no member has anything to revoke.

    Round *k* assigns with each member's ``owned_partitions`` as reported; members then drop what
    they lost (:func:`revoked_partitions`) and, if anyone revoked something, everybody rejoins with
    ``owned_partitions`` = their round-*k* assignment and ``generation`` = the generation of round *k*.
    With an eager assignor a single round is returned (members own nothing when they rejoin).
    """
    assignor = assignor if assignor is not None else CooperativeStickyAssignor()
    generation = max((s.generation for s in subscriptions.values()), default=DEFAULT_GENERATION)
    subs = dict(subscriptions)
    assignments: list[dict[str, list[TopicPartition]]] = []
    revocations: list[dict[str, list[TopicPartition]]] = []
    generations: list[int] = []
    for _ in range(max_rounds):
        generation += 1
        assignment = assignor.assign(partitions_per_topic, subs)
        owned = {m: list(s.owned_partitions) for m, s in subs.items()}
        revoked = revoked_partitions(owned, assignment) if assignor.rebalance_protocol == COOPERATIVE else {}
        assignments.append(assignment)
        revocations.append(revoked)
        generations.append(generation)
        if not revoked:
            return CooperativePlan(tuple(assignments), tuple(revocations), tuple(generations))
        subs = {
            m: MemberSubscription(
                member_id=m,
                topics=s.topics,
                owned_partitions=tuple(assignment.get(m, ())),
                generation=generation,
                group_instance_id=s.group_instance_id,
            )
            for m, s in subs.items()
        }
    raise RuntimeError(f"cooperative rebalance did not settle within {max_rounds} rounds")


# -------------------------------------------------------------------------------- registry/config


ASSIGNORS: dict[str, Assignor] = {
    a.name: a for a in (RangeAssignor(), RoundRobinAssignor(), StickyAssignor(), CooperativeStickyAssignor())
}

_JAVA_CLASSES: dict[str, str] = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}


def get_assignor(name: str) -> Assignor:
    """The assignor with protocol name (or Java class name) ``name``."""
    key = _JAVA_CLASSES.get(name.strip(), name.strip())
    try:
        return ASSIGNORS[key]
    except KeyError:
        valid = ", ".join([*ASSIGNORS, *_JAVA_CLASSES])
        raise ValueError(f"unknown partition assignment strategy {name!r}; valid: {valid}") from None


def parse_strategy(config_value: str) -> list[Assignor]:
    """Parse ``partition.assignment.strategy``: a comma-separated list in preference order.

    Entries may be protocol names (``range``) or Java class names
    (``org.apache.kafka.clients.consumer.RangeAssignor``); whitespace is trimmed, empty entries and
    repeats are dropped. Raises :class:`ValueError` for an unknown entry or an empty list.
    """
    result: list[Assignor] = []
    for entry in config_value.split(","):
        if not entry.strip():
            continue
        assignor = get_assignor(entry)
        if assignor not in result:
            result.append(assignor)
    if not result:
        raise ValueError("partition.assignment.strategy must name at least one assignor")
    return result


def common_rebalance_protocol(assignors: Sequence[Assignor]) -> str:
    """The rebalance protocol a consumer uses with these assignors (``ConsumerCoordinator``): COOPERATIVE
    only if every configured assignor supports it, else EAGER."""
    if not assignors:
        raise ValueError("no assignors configured")
    return COOPERATIVE if all(a.rebalance_protocol == COOPERATIVE for a in assignors) else EAGER


def choose_common_protocol(member_protocols: Sequence[Sequence[str]]) -> str:
    """How the group coordinator picks the group's protocol (``ClassicGroup.selectProtocol``).

    ``member_protocols[i]`` is member *i*'s protocol names in preference order. Candidates are the
    protocols every member supports; each member votes for its most preferred candidate and the most
    votes wins. On a tie Java takes whichever ``HashMap`` entry comes last; here the tie goes to the
    candidate that appears first in the first member's preference list.

    Raises :class:`ValueError` when there is no common protocol (the broker answers
    ``INCONSISTENT_GROUP_PROTOCOL``) or no members.
    """
    if not member_protocols:
        raise ValueError("cannot select a protocol for an empty group")
    candidates = set(member_protocols[0])
    for protocols in member_protocols[1:]:
        candidates &= set(protocols)
    if not candidates:
        raise ValueError("INCONSISTENT_GROUP_PROTOCOL: members share no assignment protocol")
    votes: dict[str, int] = {}
    for protocols in member_protocols:
        vote = next(p for p in protocols if p in candidates)
        votes[vote] = votes.get(vote, 0) + 1
    best = max(votes.values())
    return next(p for p in member_protocols[0] if votes.get(p, 0) == best)
