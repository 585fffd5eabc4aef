"""The consumer: ``assign`` / ``seek`` / ``poll`` / ``consume`` like confluent_kafka.

It fetches in the background from each partition leader (long-poll Fetch, ``fetch.max.wait.ms``), buffers
what it got, and hands records to the application from ``poll()``. A leader only returns records below its
high watermark, so a consumer never sees a record that is not yet replicated to the whole ISR.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..assignors import COOPERATIVE, DEFAULT_GENERATION, MemberSubscription, parse_strategy
from ..broker import FetchPartition, FetchRequest, FetchResult, fetch_response_size
from ..configdefs import ConfigError, validate_configs
from ..errors import KafkaError, KafkaException
from ..group import (
    decode_assignment,
    decode_sticky_user_data,
    decode_subscription_data,
    encode_assignment,
    encode_sticky_user_data,
    encode_subscription,
)
from ..history import Op
from ..metadata import NO_LEADER
from ..records import ROW_HEADERS, ROW_KEY, ROW_TIMESTAMP, ROW_VALUE, RecordRow
from .common import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    ClientNode,
    Message,
    TopicPartition,
    config_bool,
    new_message,
)

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["CONSUMER_DEFAULTS", "Consumer"]

CONSUMER_DEFAULTS: dict[str, Any] = {
    "auto.offset.reset": "latest",
    "enable.auto.commit": True,
    "auto.commit.interval.ms": 5000,
    "fetch.min.bytes": 1,
    "fetch.max.wait.ms": 500,
    "fetch.max.bytes": 52428800,
    "max.partition.fetch.bytes": 1048576,
    "isolation.level": "read_uncommitted",
    "max.poll.records": 500,
    "request.timeout.ms": 30000,
    "retry.backoff.ms": 100,
    "session.timeout.ms": 45000,
    "heartbeat.interval.ms": 3000,
    "max.poll.interval.ms": 300000,
    "partition.assignment.strategy": "range,cooperative-sticky",
    # librdkafka's default; Java's consumer (and so kafka-console-consumer) defaults to true
    "allow.auto.create.topics": False,
}

#: stop prefetching a partition once this many records wait in the buffer
_PREFETCH_RECORDS = 2000


# a Message maker and fields of Messages, for the fetch hot path
_MAKE_MESSAGE = partial(new_message, Message)
_MESSAGE_OFFSET = itemgetter(2)
_MESSAGE_KEY = itemgetter(3)
_MESSAGE_VALUE = itemgetter(4)


#: ``_reset``'s batch when the lookup is not part of a per-leader batch
_NO_BATCH = -(2**31)


class _PartState:
    __slots__ = (
        "position",
        "fetch_position",
        "buffer",
        "fetching",
        "resetting",
        "leader_epoch",
        "paused",
        "high_watermark",
        "retry_at_ms",
        "cached_watermarks",
    )

    def __init__(self) -> None:
        self.position: int | None = None
        self.fetch_position: int | None = None
        self.buffer: deque[Message] = deque()
        self.fetching = False
        self.resetting = False
        self.leader_epoch = -1
        self.paused = False
        self.high_watermark = -1
        self.retry_at_ms = 0
        #: (low, high) from the last fetch response: log start offset and high watermark (LSO under
        #: read_committed), what ``get_watermark_offsets(cached=True)`` returns
        self.cached_watermarks = (OFFSET_INVALID, OFFSET_INVALID)


class GroupMetadata:
    """``consumer.consumer_group_metadata()``: group id, generation, member id, group.instance.id."""

    __slots__ = ("group_id", "generation", "member_id", "group_instance_id")

    def __init__(self, group_id: str, generation: int, member_id: str, group_instance_id: str | None) -> None:
        self.group_id = group_id
        self.generation = generation
        self.member_id = member_id
        self.group_instance_id = group_instance_id


class Consumer(ClientNode):
    """A consumer client (a node of the simulation)."""

    def __init__(
        self, cluster: Cluster, config: dict[str, Any] | None = None, name: str | None = None
    ) -> None:
        cfg = dict(CONSUMER_DEFAULTS)
        try:  # Kafka's ranges for the configs the consumer reads (kafkalab.sim.configdefs)
            cfg.update(validate_configs("consumer", dict(config or {})))
        except ConfigError as e:
            raise KafkaException(KafkaError("_INVALID_ARG", str(e))) from None
        reset = str(cfg["auto.offset.reset"]).lower()
        aliases = {
            "smallest": "earliest",
            "beginning": "earliest",
            "largest": "latest",
            "end": "latest",
            "error": "none",
        }
        reset = aliases.get(reset, reset)
        if reset not in ("earliest", "latest", "none"):
            raise KafkaException(
                KafkaError("_INVALID_ARG", f"Invalid value for auto.offset.reset: {cfg['auto.offset.reset']}")
            )
        self.auto_offset_reset = reset
        iso = str(cfg["isolation.level"]).lower()
        if iso not in ("read_uncommitted", "read_committed"):
            raise KafkaException(
                KafkaError("_INVALID_ARG", f"Invalid value for isolation.level: {cfg['isolation.level']}")
            )
        self.isolation_level = 1 if iso == "read_committed" else 0
        super().__init__(
            cluster, name or cluster.next_client_name(str(cfg.get("client.id", "consumer"))), cfg
        )
        self.group_id: str | None = cfg.get("group.id")
        self.fetch_min_bytes = int(cfg["fetch.min.bytes"])
        self.fetch_max_wait_ms = int(cfg["fetch.max.wait.ms"])
        self.max_partition_fetch_bytes = int(cfg["max.partition.fetch.bytes"])
        self.max_poll_records = int(cfg["max.poll.records"])
        self._parts: dict[tuple[str, int], _PartState] = {}
        self._errors: deque[Message] = deque()
        self._fetch_in_flight: set[int] = set()
        #: leader -> partitions whose position lookup (one ListOffsets in Java) it has not answered yet
        self._resets_pending: dict[int, int] = {}
        #: the fetcher waits for a metadata refresh and its backoff (a partition without a leader)
        self._md_wait = False
        self._wake_timer: Any = None
        self.history = cluster.history
        self.consumed_records = 0
        self.last_poll_ms = self.kernel.now_ms
        # -- group membership (subscribe) --
        self.group_instance_id: str | None = cfg.get("group.instance.id")
        self.session_timeout_ms = int(cfg["session.timeout.ms"])
        self.heartbeat_interval_ms = int(cfg["heartbeat.interval.ms"])
        self.max_poll_interval_ms = int(cfg["max.poll.interval.ms"])
        self.enable_auto_commit = config_bool(cfg["enable.auto.commit"])
        self.auto_commit_interval_ms = int(cfg["auto.commit.interval.ms"])
        try:
            self.assignors = parse_strategy(str(cfg["partition.assignment.strategy"]))
        except ValueError as e:
            raise KafkaException(KafkaError("_INVALID_ARG", str(e))) from None
        self.subscription: list[str] = []
        self.member_id = ""
        self.generation = -1
        self.protocol: str | None = None
        self.coordinator: int | None = None
        self.group_state = "unjoined"  # unjoined | joining | syncing | stable
        self._needs_rejoin = False
        self._join_in_flight = False
        self._on_assign: Callable[[Any, list[TopicPartition]], None] | None = None
        self._on_revoke: Callable[[Any, list[TopicPartition]], None] | None = None
        self._on_lost: Callable[[Any, list[TopicPartition]], None] | None = None
        self._pending_assignment: list[tuple[str, int]] | None = None
        self._pending_lost = False
        self._last_auto_commit_ms = self.kernel.now_ms
        self._hb_timer: Any = None
        self._committed_cache: dict[tuple[str, int], int] = {}
        self.rebalances = 0
        #: what the assignor of the group's protocol remembers from the last assignment (Java's
        #: ``ConsumerPartitionAssignor.onAssignment``): the eager ``sticky`` assignor sends it as user data
        self._assignor_memory: dict[str, tuple[list[tuple[str, int]], int]] = {}
        #: the leader's view of the group's subscribed topics when it assigned (Java ``assignmentSnapshot``):
        #: a metadata refresh that changes it (new partitions, a topic created) triggers a rejoin
        self._assignment_snapshot: dict[str, int] | None = None
        self.allow_auto_create_topics = config_bool(cfg["allow.auto.create.topics"])

    # -- assignment ------------------------------------------------------------------------------------
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Manually assign partitions (no group rebalancing); offsets: a number, or OFFSET_BEGINNING/END."""
        self._check_open()
        new: dict[tuple[str, int], _PartState] = {}
        resets: list[tuple[tuple[str, int], _PartState, str]] = []
        for tp in partitions:
            key = (tp.topic, tp.partition)
            st = self._parts.get(key) or _PartState()
            if tp.offset >= 0:
                self._set_position(st, tp.offset)
            elif tp.offset in (OFFSET_BEGINNING, OFFSET_END):
                st.position = st.fetch_position = None
                st.buffer.clear()
                resets.append((key, st, "earliest" if tp.offset == OFFSET_BEGINNING else "latest"))
            new[key] = st
        self._parts = new
        # only now: a reset whose ListOffsets goes out at once checks that its partition is still assigned
        for key, st, policy in resets:
            self._reset(key, st, policy)
        self._kick()

    def incremental_assign(self, partitions: Iterable[TopicPartition]) -> None:
        self.assign([TopicPartition(t, p, OFFSET_INVALID) for (t, p) in self._parts] + list(partitions))

    def unassign(self) -> None:
        self._parts = {}

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for (t, p) in sorted(self._parts)]

    def seek(self, partition: TopicPartition) -> None:
        key = (partition.topic, partition.partition)
        st = self._parts.get(key)
        if st is None:
            raise KafkaException(
                KafkaError("_STATE", f"{partition.topic}-{partition.partition} is not assigned")
            )
        if partition.offset >= 0:
            self._set_position(st, partition.offset)
        elif partition.offset in (OFFSET_BEGINNING, OFFSET_END):
            st.buffer.clear()
            self._reset(key, st, "earliest" if partition.offset == OFFSET_BEGINNING else "latest")
        self._kick()

    def position(self, partitions: Iterable[TopicPartition]) -> list[TopicPartition]:
        out = []
        for tp in partitions:
            st = self._parts.get((tp.topic, tp.partition))
            pos = st.position if st is not None and st.position is not None else OFFSET_INVALID
            out.append(TopicPartition(tp.topic, tp.partition, pos))
        return out

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float | None = None, cached: bool = False
    ) -> tuple[int, int]:
        """(low, high): the leader's log start offset and high watermark (LSO under read_committed).

        ``cached=True`` asks no broker: it returns what the last fetch response of this (assigned)
        partition said, or ``(OFFSET_INVALID, OFFSET_INVALID)`` before the first one, as librdkafka does."""
        key = (partition.topic, partition.partition)
        if cached:
            st = self._parts.get(key)
            return st.cached_watermarks if st is not None else (OFFSET_INVALID, OFFSET_INVALID)
        result: list[tuple[int, int]] = []
        errors: list[str] = []

        def ask() -> None:
            leader = self.leader_of(*key)
            node = self.find_broker(f"broker-{leader}")
            if node is None:
                errors.append("LEADER_NOT_AVAILABLE")
                return
            lo: list[int] = []

            def got_lo(resp: Any) -> None:
                if resp[0] != "NO_ERROR":
                    errors.append(resp[0])
                    return
                lo.append(resp[1])
                self.call(
                    node.name,
                    "ListOffsets",
                    lambda r: node.handle_list_offsets(key[0], key[1], -1, self.isolation_level, r),
                    lambda resp2: (
                        result.append((lo[0], resp2[1]))
                        if resp2[0] == "NO_ERROR"
                        else errors.append(resp2[0])
                    ),
                    errors.append,
                    self.request_timeout_ms,
                )

            self.call(
                node.name,
                "ListOffsets",
                lambda r: node.handle_list_offsets(key[0], key[1], -2, 0, r),
                got_lo,
                errors.append,
                self.request_timeout_ms,
            )

        self.refresh_metadata(ask)
        self.wait_until(lambda: bool(result or errors), timeout if timeout is not None else 10.0)
        if result:
            return result[0]
        raise KafkaException(KafkaError(errors[0] if errors else "_TIMED_OUT"))

    # -- polling ---------------------------------------------------------------------------------------
    def poll(self, timeout: float | None = None) -> Message | None:
        """One message (or an error event), waiting up to ``timeout`` seconds of virtual time."""
        msgs = self.consume(1, timeout)
        return msgs[0] if msgs else None

    def consume(self, num_messages: int = 1, timeout: float | None = None) -> list[Message]:
        self._check_open()
        self.last_poll_ms = self.kernel.now_ms
        self._before_poll()
        self._kick()
        if not self._has_ready() and timeout != 0 and not self.kernel.running:
            timeout_ms = 600_000 if timeout is None or timeout < 0 else int(timeout * 1000)
            deadline = self.kernel.now_ms + timeout_ms
            while True:
                self.cluster.run_until(
                    lambda: self._has_ready() or self._group_event_pending(),
                    max(0, deadline - self.kernel.now_ms),
                )
                self.last_poll_ms = self.kernel.now_ms
                if self._group_event_pending():
                    self._before_poll()
                    self._kick()
                if self._has_ready() or self.kernel.now_ms >= deadline:
                    break
        self.last_poll_ms = self.kernel.now_ms
        out: list[Message] = []
        if self._errors:
            out.append(self._errors.popleft())
            return out
        now = self.kernel.now_ms
        record = self.history.enabled
        history = self.history
        name, group = self.name, self.group_id
        for key in sorted(self._parts):
            st = self._parts[key]
            buf = st.buffer
            pos = st.position
            start = len(out)
            if buf and (pos is None or buf[0]._offset >= pos) and len(buf) <= num_messages - start:
                out.extend(buf)  # the usual case: hand over the whole buffer at once
                buf.clear()
            else:
                while buf and len(out) < num_messages:
                    m = buf.popleft()
                    if pos is None or m._offset >= pos:
                        out.append(m)
            if len(out) > start:
                pos = out[-1]._offset + 1
                if record:
                    taken = out[start:]
                    first = taken[0][2]  # a Message is a tuple: (topic, partition, offset, key, value, ...)
                    history.add_batch(
                        now,
                        "consume",
                        name,
                        key[0],
                        key[1],
                        range(first, pos)
                        if pos - first == len(taken)
                        else tuple(map(_MESSAGE_OFFSET, taken)),
                        tuple(map(_MESSAGE_KEY, taken)),
                        tuple(map(_MESSAGE_VALUE, taken)),
                        group,
                    )
            if not buf and pos is not None and st.fetch_position is not None and st.fetch_position > pos:
                pos = st.fetch_position  # past control records and aborted transactions, as Java's consumer
            st.position = pos
            if len(out) >= num_messages:
                break
        self.consumed_records += len(out)
        self.last_poll_ms = self.kernel.now_ms
        self._kick()
        return out

    def close(self) -> None:
        """Commit (if auto-commit), leave the group and stop."""
        if self.closed:
            return
        if self.subscription and self.group_state != "unjoined":
            if self.enable_auto_commit:
                # inside a simulation event nothing can wait: the commit is sent, not awaited
                self._commit_positions(sync=not self.kernel.running)
            self._leave_group("the consumer is closing")
        self.closed = True
        self._parts = {}

    def crash(self) -> None:
        """The consumer process dies: no commit, no LeaveGroup (its session has to time out)."""
        super().crash()
        self.closed = True
        self._parts = {}

    def _check_open(self) -> None:
        if self.closed:
            raise KafkaException(KafkaError("_STATE", "consumer is closed"))

    def _has_ready(self) -> bool:
        if self._errors:
            return True
        return any(st.buffer for st in self._parts.values())

    # -- positions and resets --------------------------------------------------------------------------
    def _set_position(self, st: _PartState, offset: int) -> None:
        st.position = offset
        st.fetch_position = offset
        st.buffer.clear()
        st.resetting = False

    def _reset_many(self, items: list[tuple[tuple[str, int], _PartState]]) -> None:
        """Reset positions the way OffsetFetcher.resetPositionsIfNeeded does: one ListOffsets per leader, so the
        partitions of a leader become fetchable together (a fetch to that leader carries them all)."""
        by_leader: dict[int, list[tuple[tuple[str, int], _PartState]]] = {}
        for key, st in items:
            by_leader.setdefault(self.leader_of(*key), []).append((key, st))
        for leader, group in by_leader.items():
            self._resets_pending[leader] = self._resets_pending.get(leader, 0) + len(group)
            for key, st in group:
                self._reset(key, st, batch=leader)

    def _reset(
        self, key: tuple[str, int], st: _PartState, policy: str | None = None, batch: int = _NO_BATCH
    ) -> None:
        """Look up ``key``'s position by ``auto.offset.reset`` (or ``policy``). ``batch``: the leader asked for a
        group of partitions together (:meth:`_reset_many`); no fetch goes to it until all of them are answered.
        (No closure here holds None: a restored checkpoint would lose such a cell.)"""
        first_answer = [True]

        def answered() -> None:
            if batch != _NO_BATCH and first_answer[0]:
                first_answer[0] = False
                left = self._resets_pending.get(batch, 0) - 1
                if left > 0:
                    self._resets_pending[batch] = left
                    return
                self._resets_pending.pop(batch, None)
            self._kick()

        policy = policy or self.auto_offset_reset
        if policy == "none":
            self._errors.append(
                Message(
                    key[0],
                    key[1],
                    OFFSET_INVALID,
                    None,
                    None,
                    error=KafkaError(
                        "_NO_OFFSET" if st.position is None else "OFFSET_OUT_OF_RANGE",
                        f"no valid offset for {key[0]}-{key[1]} and auto.offset.reset=none",
                    ),
                )
            )
            return
        st.resetting = True
        ts = -2 if policy == "earliest" else -1

        def ask() -> None:
            if self._parts.get(key) is not st or not st.resetting:
                return
            leader = self.leader_of(*key)
            node = self.find_broker(f"broker-{leader}") if leader != NO_LEADER else None
            if node is None:
                answered()
                self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask))
                return

            def ok(resp: Any) -> None:
                if self._parts.get(key) is not st or not st.resetting:
                    answered()
                    return
                if resp[0] != "NO_ERROR":
                    answered()
                    self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask))
                    return
                self._set_position(st, resp[1])
                answered()

            def failed(_e: Any) -> None:
                answered()
                self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask))

            self.call(
                node.name,
                "ListOffsets",
                lambda r: node.handle_list_offsets(key[0], key[1], ts, self.isolation_level, r),
                ok,
                failed,
                self.request_timeout_ms,
                detail=f"{key[0]}-{key[1]} {policy}",
            )

        if key in self.partitions:
            ask()
        else:
            self.refresh_metadata(ask)

    # -- fetching --------------------------------------------------------------------------------------
    def _kick(self) -> None:
        if self._wake_timer is None or self._wake_timer.cancelled:
            self._wake_timer = self.schedule(0, "fetcher", self._fetch_all)

    def _fetch_all(self) -> None:
        self._wake_timer = None
        if self.closed:
            return
        now = self.kernel.now_ms
        by_leader: dict[int, list[tuple[tuple[str, int], _PartState]]] = {}
        need_md = False
        starting = [
            (key, st)
            for key in sorted(self._parts)
            if (st := self._parts[key]).position is None and not st.resetting
        ]
        if starting:
            self._initial_positions(starting)
        for key in sorted(self._parts):
            st = self._parts[key]
            if st.resetting or st.fetching or st.paused or st.fetch_position is None:
                continue
            if len(st.buffer) >= _PREFETCH_RECORDS or st.retry_at_ms > now:
                continue
            leader = self.leader_of(*key)
            if leader == NO_LEADER:
                need_md = True
                continue
            if leader in self._fetch_in_flight or self._resets_pending.get(leader):
                continue
            by_leader.setdefault(leader, []).append((key, st))
        if need_md and not self._md_wait:
            # one wait at a time: every pass used to add a waiter, and every waiter a pass (a growing storm of
            # fetcher events while a partition has no leader, e.g. of a topic re-created with fewer partitions)
            self._md_wait = True
            self.refresh_metadata(self._md_refreshed)
        for leader, items in sorted(by_leader.items()):
            self._send_fetch(leader, items)

    def _md_refreshed(self) -> None:
        self.schedule(self.retry_backoff_ms, "fetcher", self._md_backoff_done)

    def _md_backoff_done(self) -> None:
        """The refresh and its backoff are over: the next pass may ask again (retry.backoff.ms apart)."""
        self._md_wait = False
        self._kick()

    def _send_fetch(self, leader: int, items: list[tuple[tuple[str, int], _PartState]]) -> None:
        name = f"broker-{leader}"
        node = self.find_broker(name)
        if node is None:
            return
        parts = []
        for key, st in items:
            st.fetching = True
            assert st.fetch_position is not None
            parts.append(
                FetchPartition(
                    key[0],
                    key[1],
                    st.fetch_position,
                    self.leader_epoch_of(*key),
                    self.max_partition_fetch_bytes,
                )
            )
        req = FetchRequest(-1, self.fetch_max_wait_ms, self.fetch_min_bytes, parts, self.isolation_level)
        self._fetch_in_flight.add(leader)
        sent_positions = {key: st.fetch_position for key, st in items}

        def done() -> None:
            self._fetch_in_flight.discard(leader)
            for _key, st in items:
                st.fetching = False

        def ok(results: dict[tuple[str, int], FetchResult]) -> None:
            done()
            refresh = False
            for key, st in items:
                if self._parts.get(key) is not st or st.fetch_position != sent_positions[key]:
                    continue  # revoked or seeked meanwhile
                r = results[key]
                if r.error == "NO_ERROR":
                    st.high_watermark = r.high_watermark
                    st.cached_watermarks = (
                        r.log_start_offset,
                        r.last_stable_offset
                        if self.isolation_level == 1 and r.last_stable_offset >= 0
                        else r.high_watermark,
                    )
                    self._accept(key, st, r)
                elif r.error == "OFFSET_OUT_OF_RANGE":
                    self._reset(key, st)
                else:
                    refresh = True
                    st.retry_at_ms = self.kernel.now_ms + self.retry_backoff_ms
            if refresh:
                self.refresh_metadata(self._kick)
            self._kick()

        def fail(_err: str) -> None:
            done()
            for _key, st in items:
                st.retry_at_ms = self.kernel.now_ms + self.retry_backoff_ms
            self.refresh_metadata(lambda: self.schedule(self.retry_backoff_ms, "fetcher", self._fetch_all))

        self.call(
            name,
            "Fetch",
            lambda respond: node.handle_fetch(req, respond),
            ok,
            fail,
            self.request_timeout_ms + self.fetch_max_wait_ms,
            detail=", ".join(f"{k[0]}-{k[1]}@{st.fetch_position}" for k, st in items),
            response_size=fetch_response_size,
        )

    def _accept(self, key: tuple[str, int], st: _PartState, r: FetchResult) -> None:
        pos = st.fetch_position
        assert pos is not None
        topic, partition = key
        buf = st.buffer
        append = buf.append
        # read_committed: skip records of aborted transactions (Kafka's Fetcher: abortedProducerIds)
        aborted = sorted(r.aborted_transactions, key=lambda x: x[1]) if r.aborted_transactions else []
        aborted_pids: set[int] = set()
        for b in r.batches:
            last = b.last_offset
            while aborted and aborted[0][1] <= last:
                aborted_pids.add(aborted.pop(0)[0])
            if b.is_control:
                if aborted_pids and b.producer_id in aborted_pids:
                    from ..records import ControlType

                    if b.control_type == ControlType.ABORT:
                        aborted_pids.discard(b.producer_id)
                pos = max(pos, last + 1)
                continue
            if b.is_transactional and b.producer_id in aborted_pids:
                pos = max(pos, last + 1)
                continue
            if last < pos:
                continue
            if not b.is_control:
                epoch = b.partition_leader_epoch
                if b.offset_deltas is None:  # no gaps: offset = base offset + index
                    base = b.base_offset
                    start = max(0, pos - base)
                    rows = b.rows[start:] if start else b.rows
                    if not any(map(ROW_HEADERS, rows)):
                        # the usual case, no headers: every Message is put together by C iterators
                        first = base + start
                        buf.extend(
                            map(
                                _MAKE_MESSAGE,
                                zip(
                                    repeat(topic),
                                    repeat(partition),
                                    range(first, first + len(rows)),
                                    map(ROW_KEY, rows),
                                    map(ROW_VALUE, rows),
                                    repeat(None),
                                    map(ROW_TIMESTAMP, rows),
                                    repeat(None),
                                    repeat(epoch),
                                ),
                            )
                        )
                        pos = last + 1
                        continue
                    numbered: Iterable[tuple[int, RecordRow]] = enumerate(rows, base + start)
                else:  # a compacted batch has gaps: the offsets come from the batch
                    numbered = ((off, row) for off, row in b.iter_rows() if off >= pos)
                for off, row in numbered:
                    h = row[2]
                    msg = (topic, partition, off, row[0], row[1], list(h) if h else None, row[3], None, epoch)
                    append(new_message(Message, msg))
            pos = last + 1
        st.fetch_position = pos

    # == consumer groups ====================================================================================
    def subscribe(
        self,
        topics: list[str],
        on_assign: Callable[[Any, list[TopicPartition]], None] | None = None,
        on_revoke: Callable[[Any, list[TopicPartition]], None] | None = None,
        on_lost: Callable[[Any, list[TopicPartition]], None] | None = None,
    ) -> None:
        """Join the consumer group ``group.id``; partitions arrive through rebalances (in ``poll()``)."""
        self._check_open()
        if not self.group_id:
            raise KafkaException(
                KafkaError("_INVALID_ARG", "subscribe() requires the group.id configuration")
            )
        self.subscription = sorted(set(topics))
        self.metadata_topics = set(self.subscription)
        self._on_assign, self._on_revoke, self._on_lost = on_assign, on_revoke, on_lost
        self._needs_rejoin = True

    def unsubscribe(self) -> None:
        if self.subscription:
            self._revoke(list(self._parts), commit=self.enable_auto_commit)
            self._leave_group("unsubscribe()")
        self.subscription = []

    @property
    def cooperative(self) -> bool:
        from ..assignors import get_assignor

        if self.protocol is None:
            return all(a.rebalance_protocol == COOPERATIVE for a in self.assignors)
        return get_assignor(self.protocol).rebalance_protocol == COOPERATIVE

    def _group_event_pending(self) -> bool:
        return (
            self._pending_assignment is not None
            or self._pending_lost
            or (self._needs_rejoin and not self._join_in_flight and bool(self.subscription))
        )

    def _before_poll(self) -> None:
        """What a poll() does for the group: lost/assigned callbacks, rejoin, auto-commit."""
        if not self.subscription or self.closed:
            return
        if self._pending_lost:
            self._pending_lost = False
            lost = [TopicPartition(t, p) for (t, p) in sorted(self._parts)]
            self._parts = {}
            cb = self._on_lost or self._on_revoke
            if lost and cb is not None:
                cb(self, lost)
        if self._pending_assignment is not None:
            self._apply_assignment(self._pending_assignment)
            self._pending_assignment = None
        if self._needs_rejoin and not self._join_in_flight:
            self._needs_rejoin = False
            if not self.cooperative and self._parts:
                # eager protocol: give everything back before joining
                self._revoke(list(self._parts), commit=self.enable_auto_commit)
            self._join_in_flight = True
            self.group_state = "joining"
            self._find_coordinator(self._join)
        if self.enable_auto_commit and self.group_state == "stable":
            now = self.kernel.now_ms
            if now - self._last_auto_commit_ms >= self.auto_commit_interval_ms:
                self._last_auto_commit_ms = now
                self._commit_positions(sync=False)

    def _revoke(self, keys: list[tuple[str, int]], commit: bool) -> None:
        if not keys:
            return
        if commit:
            # inside a simulation event (a background client) nothing can wait: send it, do not block
            self._commit_positions(sync=not self.kernel.running, only=keys)
        if self._on_revoke is not None:
            self._on_revoke(self, [TopicPartition(t, p) for (t, p) in sorted(keys)])
        for k in keys:
            self._parts.pop(k, None)

    def _apply_assignment(self, assigned: list[tuple[str, int]]) -> None:
        owned = set(self._parts)
        new = set(assigned)
        revoked = sorted(owned - new)
        added = sorted(new - owned)
        if revoked:
            self._revoke(revoked, commit=self.enable_auto_commit)
            if self.cooperative:
                self._needs_rejoin = True  # KIP-429: rejoin so the revoked partitions can move
        for k in added:
            self._parts[k] = _PartState()
        self.rebalances += 1
        if self._on_assign is not None:
            self._on_assign(self, [TopicPartition(t, p) for (t, p) in added])
        self._kick()

    # -- coordinator discovery ----------------------------------------------------------------------------
    def _coordinator_node(self) -> Any:
        return self.find_broker(f"broker-{self.coordinator}") if self.coordinator is not None else None

    def _find_coordinator(self, then: Callable[[], None], attempt: int = 0) -> None:
        if self.coordinator is not None and self._coordinator_node() is not None:
            then()
            return
        brokers = self.cluster.bootstrap_names()
        name = brokers[(attempt + self.kernel.rng.randrange(len(brokers))) % len(brokers)]
        node = self.broker_node(name)
        gid = self.group_id or ""

        def ok(resp: Any) -> None:
            err, coord = resp
            if err == "NO_ERROR":
                self.coordinator = coord
                then()
            else:
                self.schedule(
                    self.retry_backoff_ms * 3,
                    "find-coordinator",
                    lambda: self._find_coordinator(then, attempt + 1),
                )

        self.call(
            name,
            "FindCoordinator",
            lambda r: node.handle_find_coordinator(gid, r),
            ok,
            lambda _e: self.schedule(
                self.retry_backoff_ms, "find-coordinator", lambda: self._find_coordinator(then, attempt + 1)
            ),
            self.request_timeout_ms,
            detail=f"group {gid}",
        )

    def _coordinator_lost(self) -> None:
        self.coordinator = None

    def _group_call(
        self,
        op: str,
        req: dict[str, Any],
        ok: Callable[[dict[str, Any]], None],
        fail: Callable[[str], None],
        timeout_ms: int | None = None,
    ) -> None:
        node = self._coordinator_node()
        if node is None:
            fail("COORDINATOR_NOT_AVAILABLE")
            return

        def on_resp(resp: dict[str, Any]) -> None:
            if resp.get("error") in (
                "NOT_COORDINATOR",
                "COORDINATOR_NOT_AVAILABLE",
                "COORDINATOR_LOAD_IN_PROGRESS",
            ):
                self._coordinator_lost()
                fail(resp["error"])
                return
            ok(resp)

        def on_err(err: str) -> None:
            self._coordinator_lost()
            fail(err)

        self.call(
            node.name,
            op,
            lambda r: node.handle_group(op, req, r),
            on_resp,
            on_err,
            timeout_ms or self.request_timeout_ms,
            detail=f"{self.group_id} {self.member_id or '-'}",
        )

    # -- JoinGroup / SyncGroup --------------------------------------------------------------------------
    def _join(self) -> None:
        # ConsumerCoordinator.metadata(): every assignor gets the partitions owned now (none after an eager
        # revocation), the current generation and its own user data
        owned = sorted(self._parts)
        self._assignment_snapshot = None
        protocols = [
            (a.name, encode_subscription(self.subscription, owned, self.generation, self._user_data(a.name)))
            for a in self.assignors
        ]
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "group_instance_id": self.group_instance_id,
            "client_id": self.name,
            "session_timeout_ms": self.session_timeout_ms,
            "rebalance_timeout_ms": self.max_poll_interval_ms,
            "protocol_type": "consumer",
            "protocols": protocols,
        }

        def retry(_e: str) -> None:
            self.schedule(self.retry_backoff_ms, "rejoin", lambda: self._find_coordinator(self._join))

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if err == "MEMBER_ID_REQUIRED":
                self.member_id = resp["member_id"]
                self._join()
            elif err == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
                self._join()
            elif err in ("REBALANCE_IN_PROGRESS",):
                self._join()
            elif err == "NO_ERROR":
                self.member_id = resp["member_id"]
                self.generation = resp["generation"]
                self.protocol = resp["protocol"]
                self.group_state = "syncing"
                if "assignment" in resp:  # static member rejoining a stable group: no rebalance
                    self._sync_done(resp["assignment"])
                    return
                if resp["leader"] == self.member_id:
                    self.refresh_metadata(lambda: self._sync(self._compute_assignment(resp["members"])))
                else:
                    self._sync(None)
            elif err in ("FENCED_INSTANCE_ID", "INVALID_SESSION_TIMEOUT"):
                # fatal for this consumer: the application sees the error (Java throws it from poll())
                self._join_in_flight = False
                self.group_state = "unjoined"
                self._errors.append(Message("", -1, OFFSET_INVALID, None, None, error=_join_error(err)))
            else:
                retry(err)

        self._group_call("JoinGroup", req, ok, retry, self.max_poll_interval_ms + 5000)

    def on_metadata_update(self) -> None:
        """ConsumerCoordinator.rejoinNeededOrPending: the leader rejoins when the subscribed topics' metadata
        changed since it assigned (partitions added, a subscribed topic created or deleted)."""
        snap = self._assignment_snapshot
        if snap is None or self.group_state != "stable" or self._needs_rejoin:
            return
        now = {t: (self.topics[t].partitions if t in self.topics else 0) for t in snap}
        if now != snap:
            self.cluster.note(
                f"consumer {self.name}: metadata of the subscribed topics changed; rejoining group"
            )
            self._needs_rejoin = True

    def _user_data(self, assignor: str) -> bytes | None:
        """``ConsumerPartitionAssignor.subscriptionUserData``."""
        memory = self._assignor_memory.get(assignor)
        if memory is None:
            return None
        if assignor == "sticky":
            return encode_sticky_user_data(*memory)
        if assignor == "cooperative-sticky":
            return memory[1].to_bytes(4, "big", signed=True)
        return None

    def _compute_assignment(self, members: list[tuple[str, str | None, bytes]]) -> dict[str, bytes]:
        """The leader runs the group's assignor over the members, in the order the coordinator sent them."""
        from ..assignors import get_assignor

        assignor = get_assignor(self.protocol or "range")
        subs: dict[str, MemberSubscription] = {}
        for mid, inst, meta in members:
            d = decode_subscription_data(meta)
            owned, gen = d.owned_partitions, d.generation
            if assignor.name == "sticky":
                # StickyAssignor.memberData: owned partitions and generation come from the user data only
                previous, user_generation = decode_sticky_user_data(d.user_data)
                owned = previous
                gen = user_generation if user_generation is not None else DEFAULT_GENERATION
            subs[mid] = MemberSubscription(mid, tuple(d.topics), tuple(owned), gen, inst, d.generation)
        counts = {t: rec.partitions for t, rec in self.topics.items()}
        group_topics = {t for sub in subs.values() for t in sub.topics}
        self.metadata_topics |= group_topics  # the leader watches every topic the group subscribes to
        self._assignment_snapshot = {t: counts.get(t, 0) for t in sorted(group_topics)}
        result = assignor.assign(counts, subs)
        return {mid: encode_assignment(result.get(mid, [])) for mid in subs}

    def _sync(self, assignments: dict[str, bytes] | None) -> None:
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "generation": self.generation,
            "assignments": assignments,
        }

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if err == "NO_ERROR":
                self._sync_done(resp["assignment"])
            elif err in ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION"):
                if err == "UNKNOWN_MEMBER_ID":
                    self.member_id = ""
                self._join()
            else:
                self._join()

        self._group_call(
            "SyncGroup",
            req,
            ok,
            lambda _e: self._find_coordinator(self._join),
            self.max_poll_interval_ms + 5000,
        )

    def _sync_done(self, assignment: bytes) -> None:
        self._join_in_flight = False
        self.group_state = "stable"
        assigned = decode_assignment(assignment)
        stray = sorted({t for t, _p in assigned if t not in self.subscription})
        if stray:
            # ConsumerCoordinator.onJoinComplete: an assignment that does not match the subscription is not
            # taken; the member rejoins (the sticky assignors can hand a stale claim back, as in Java)
            self.cluster.note(
                f"consumer {self.name}: received assignment does not match the current subscription "
                f"(topics {', '.join(stray)}); rejoining"
            )
            self._needs_rejoin = True
            self._start_heartbeats()
            return
        self._pending_assignment = assigned
        if self.protocol is not None:  # onAssignment of the group's assignor
            self._assignor_memory[self.protocol] = (list(self._pending_assignment), self.generation)
        self._start_heartbeats()

    # -- heartbeats and leaving ---------------------------------------------------------------------------
    def _start_heartbeats(self) -> None:
        if self._hb_timer is not None:
            self._hb_timer.cancel()
        self._hb_timer = self.schedule(self.heartbeat_interval_ms, "heartbeat", self._heartbeat)

    def _heartbeat(self) -> None:
        self._hb_timer = None
        if self.closed or self.group_state == "unjoined" or not self.member_id:
            return
        if self.kernel.now_ms - self.last_poll_ms > self.max_poll_interval_ms:
            self._leave_group(
                f"max.poll.interval.ms ({self.max_poll_interval_ms} ms) passed without a poll()"
            )
            self._pending_lost = True
            self._needs_rejoin = True
            return
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "generation": self.generation,
            "group_instance_id": self.group_instance_id,
        }
        gen = self.generation

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if err == "REBALANCE_IN_PROGRESS":
                self._needs_rejoin = True
            elif err in ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "FENCED_INSTANCE_ID"):
                if gen != self.generation:
                    return
                if err == "UNKNOWN_MEMBER_ID":
                    self.member_id = ""
                self.group_state = "unjoined"
                self._pending_lost = True
                self._needs_rejoin = err != "FENCED_INSTANCE_ID"
                return
            if self.group_state == "stable" and self._hb_timer is None:
                self._hb_timer = self.schedule(self.heartbeat_interval_ms, "heartbeat", self._heartbeat)

        def fail(_e: str) -> None:
            if self._hb_timer is None:
                self._hb_timer = self.schedule(
                    self.retry_backoff_ms, "heartbeat", lambda: self._find_coordinator(self._heartbeat)
                )

        if self.group_state == "stable":
            self._group_call("Heartbeat", req, ok, fail)
        elif self._hb_timer is None:
            self._hb_timer = self.schedule(self.heartbeat_interval_ms, "heartbeat", self._heartbeat)

    def _leave_group(self, why: str) -> None:
        if self.member_id and self.coordinator is not None:
            req = {"group_id": self.group_id, "member_id": self.member_id}
            if not self.group_instance_id:  # static members do not send LeaveGroup (KIP-345)
                self._group_call("LeaveGroup", req, lambda _r: None, lambda _e: None)
        self.cluster.note(f"consumer {self.name} left group {self.group_id}: {why}", "group")
        if not self.group_instance_id:
            self.member_id = ""
        self.generation = -1
        self.group_state = "unjoined"
        self._join_in_flight = False

    # -- offsets --------------------------------------------------------------------------------------------
    def _initial_positions(self, items: list[tuple[tuple[str, int], _PartState]]) -> None:
        """Positions for partitions that have none: the group's committed offsets in one OffsetFetch
        (ConsumerCoordinator.initWithCommittedOffsetsIfNeeded), the rest reset by auto.offset.reset."""
        if not self.group_id:
            self._reset_many(items)
            return
        for _key, st in items:
            st.resetting = True

        def ok(resp: dict[str, Any]) -> None:
            live = [(key, st) for key, st in items if self._parts.get(key) is st and st.resetting]
            if resp["error"] != "NO_ERROR":
                for _key, st in live:
                    st.resetting = False
                    st.retry_at_ms = self.kernel.now_ms + self.retry_backoff_ms
                self._kick()
                return
            offsets = resp.get("offsets", {})
            to_reset = []
            for key, st in live:
                off = offsets.get(key)
                if off is not None and off >= 0:
                    self._committed_cache[key] = off
                    self._set_position(st, off)
                else:
                    st.resetting = False
                    to_reset.append((key, st))
            if to_reset:
                self._reset_many(to_reset)
            if len(to_reset) < len(live):
                self._kick()

        def fail(_e: str) -> None:
            for key, st in items:
                if self._parts.get(key) is st:
                    st.resetting = False
            self.schedule(self.retry_backoff_ms, "fetcher", self._fetch_all)

        keys = [key for key, _st in items]
        req = {"group_id": self.group_id, "partitions": keys, "require_stable": self.isolation_level == 1}
        self._find_coordinator(lambda: self._group_call("OffsetFetch", req, ok, fail))

    def _commit_positions(
        self, sync: bool, only: list[tuple[str, int]] | None = None
    ) -> list[TopicPartition] | None:
        offsets = []
        for key in sorted(only if only is not None else self._parts):
            st = self._parts.get(key)
            if st is not None and st.position is not None and self._committed_cache.get(key) != st.position:
                offsets.append(TopicPartition(key[0], key[1], st.position))
        if not offsets:
            return [] if sync else None
        return self._commit_offsets(offsets, sync)

    def _commit_offsets(self, offsets: list[TopicPartition], sync: bool) -> list[TopicPartition] | None:
        if not self.group_id:
            raise KafkaException(KafkaError("_INVALID_ARG", "commit() requires the group.id configuration"))
        member = self.member_id if self.subscription else ""
        generation = self.generation if self.subscription else -1
        req = {
            "group_id": self.group_id,
            "generation": generation,
            "member_id": member,
            "offsets": [(tp.topic, tp.partition, tp.offset, -1, "") for tp in offsets],
        }
        result: list[str] = []

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            result.append(err)
            if err == "NO_ERROR":
                now = self.kernel.now_ms
                for tp in offsets:
                    self._committed_cache[(tp.topic, tp.partition)] = tp.offset
                    self.history.append(
                        Op(
                            now,
                            "commit",
                            self.name,
                            tp.topic,
                            tp.partition,
                            tp.offset,
                            None,
                            None,
                            None,
                            self.group_id,
                        )
                    )
            elif err in ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS"):
                self._needs_rejoin = True

        self._find_coordinator(lambda: self._group_call("OffsetCommit", req, ok, result.append))
        if not sync:
            return None
        self.wait_until(lambda: bool(result), self.request_timeout_ms / 1000)
        if not result:
            raise KafkaException(KafkaError("_TIMED_OUT", "commit timed out"))
        if result[0] != "NO_ERROR":
            raise KafkaException(
                KafkaError(
                    result[0] if result[0] != "_TRANSPORT" else "_TRANSPORT", f"Commit failed: {result[0]}"
                )
            )
        return offsets

    def consumer_group_metadata(self) -> GroupMetadata:
        """What a transactional producer needs to commit this consumer's offsets (KIP-447 fencing)."""
        return GroupMetadata(self.group_id or "", self.generation, self.member_id, self.group_instance_id)

    def commit(
        self,
        message: Message | None = None,
        offsets: list[TopicPartition] | None = None,
        asynchronous: bool = True,
    ) -> list[TopicPartition] | None:
        """Commit the next offset to read: of ``message`` (its offset + 1), of ``offsets``, or of every
        assigned partition's position. Like confluent_kafka, asynchronous by default."""
        self._check_open()
        if message is not None:
            return self._commit_offsets(
                [TopicPartition(message.topic(), message.partition(), message.offset() + 1)], not asynchronous
            )
        if offsets is not None:
            return self._commit_offsets(list(offsets), not asynchronous)
        res = self._commit_positions(sync=not asynchronous)
        if res == [] and not asynchronous:
            raise KafkaException(KafkaError("_NO_OFFSET", "Commit failed: Local: No offset stored"))
        return res

    def committed(
        self, partitions: list[TopicPartition], timeout: float | None = None
    ) -> list[TopicPartition]:
        if not self.group_id:
            raise KafkaException(
                KafkaError("_INVALID_ARG", "committed() requires the group.id configuration")
            )
        keys = [(tp.topic, tp.partition) for tp in partitions]
        result: list[dict[str, Any]] = []
        errors: list[str] = []
        self._find_coordinator(
            lambda: self._group_call(
                "OffsetFetch", {"group_id": self.group_id, "partitions": keys}, result.append, errors.append
            )
        )
        self.wait_until(lambda: bool(result or errors), 10.0 if timeout is None else timeout)
        if not result:
            raise KafkaException(KafkaError(errors[0] if errors else "_TIMED_OUT"))
        offs = result[0].get("offsets", {})
        return [TopicPartition(t, p, offs.get((t, p), OFFSET_INVALID)) for (t, p) in keys]


def _join_error(name: str) -> KafkaError:
    if name == "INVALID_SESSION_TIMEOUT":
        return KafkaError(
            name,
            "The session timeout is not within the range allowed by the broker (as configured by "
            "group.min.session.timeout.ms and group.max.session.timeout.ms).",
            fatal=True,
        )
    return KafkaError(name)
