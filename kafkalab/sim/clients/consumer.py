"""The consumer: ``assign`` / ``seek`` / ``poll`` / ``consume`` like confluent_kafka.

It fetches in the background from each partition leader (long-poll Fetch, ``fetch.max.wait.ms``), buffers
what it got, and hands records to the application from ``poll()``. A leader only returns records below its
high watermark, so a consumer never sees a record that is not yet replicated to the whole ISR.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..broker import FetchPartition, FetchRequest, FetchResult
from ..errors import KafkaError, KafkaException
from ..history import Op
from ..metadata import NO_LEADER
from .common import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    OFFSET_STORED,
    ClientNode,
    Message,
    TopicPartition,
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
}

#: stop prefetching a partition once this many records wait in the buffer
_PREFETCH_RECORDS = 2000


class _PartState:
    __slots__ = ("position", "fetch_position", "buffer", "fetching", "resetting", "leader_epoch", "paused",
                 "high_watermark", "retry_at_ms")

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


class Consumer(ClientNode):
    """A consumer client (a node of the simulation)."""

    def __init__(self, cluster: Cluster, config: dict[str, Any] | None = None, name: str | None = None) -> None:
        cfg = dict(CONSUMER_DEFAULTS)
        cfg.update(config or {})
        reset = str(cfg["auto.offset.reset"]).lower()
        aliases = {"smallest": "earliest", "beginning": "earliest", "largest": "latest", "end": "latest",
                   "error": "none"}
        reset = aliases.get(reset, reset)
        if reset not in ("earliest", "latest", "none"):
            raise KafkaException(KafkaError("_INVALID_ARG", f"Invalid value for auto.offset.reset: {cfg['auto.offset.reset']}"))
        self.auto_offset_reset = reset
        iso = str(cfg["isolation.level"]).lower()
        if iso not in ("read_uncommitted", "read_committed"):
            raise KafkaException(KafkaError("_INVALID_ARG", f"Invalid value for isolation.level: {cfg['isolation.level']}"))
        self.isolation_level = 1 if iso == "read_committed" else 0
        super().__init__(cluster, name or cluster.next_client_name(str(cfg.get("client.id", "consumer"))), cfg)
        self.group_id: str | None = cfg.get("group.id")
        self.fetch_min_bytes = int(cfg["fetch.min.bytes"])
        self.fetch_max_wait_ms = int(cfg["fetch.max.wait.ms"])
        self.max_partition_fetch_bytes = int(cfg["max.partition.fetch.bytes"])
        self.max_poll_records = int(cfg["max.poll.records"])
        self._parts: dict[tuple[str, int], _PartState] = {}
        self._errors: deque[Message] = deque()
        self._fetch_in_flight: set[int] = set()
        self._wake_timer: Any = None
        self.history = cluster.history
        self.consumed_records = 0
        self.last_poll_ms = self.kernel.now_ms

    # -- assignment ------------------------------------------------------------------------------------
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Manually assign partitions (no group rebalancing); offsets: a number, or OFFSET_BEGINNING/END."""
        self._check_open()
        new: dict[tuple[str, int], _PartState] = {}
        for tp in partitions:
            key = (tp.topic, tp.partition)
            st = self._parts.get(key) or _PartState()
            if tp.offset >= 0:
                self._set_position(st, tp.offset)
            elif tp.offset in (OFFSET_BEGINNING, OFFSET_END):
                st.position = st.fetch_position = None
                self._reset(key, st, "earliest" if tp.offset == OFFSET_BEGINNING else "latest")
            new[key] = st
        self._parts = new
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
            raise KafkaException(KafkaError("_STATE", f"{partition.topic}-{partition.partition} is not assigned"))
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

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float | None = None,
                              cached: bool = False) -> tuple[int, int]:
        """(low, high): the leader's log start offset and high watermark (LSO under read_committed)."""
        key = (partition.topic, partition.partition)
        result: list[tuple[int, int]] = []
        errors: list[str] = []

        def ask() -> None:
            leader = self.leader_of(*key)
            node = self.net.nodes.get(f"broker-{leader}")
            if node is None:
                errors.append("LEADER_NOT_AVAILABLE")
                return
            lo: list[int] = []

            def got_lo(resp: Any) -> None:
                if resp[0] != "NO_ERROR":
                    errors.append(resp[0])
                    return
                lo.append(resp[1])
                self.call(node.name, "ListOffsets",
                          lambda r: node.handle_list_offsets(key[0], key[1], -1, self.isolation_level, r),  # type: ignore[attr-defined]
                          lambda resp2: result.append((lo[0], resp2[1])) if resp2[0] == "NO_ERROR" else errors.append(resp2[0]),
                          errors.append, self.request_timeout_ms)

            self.call(node.name, "ListOffsets", lambda r: node.handle_list_offsets(key[0], key[1], -2, 0, r),  # type: ignore[attr-defined]
                      got_lo, errors.append, self.request_timeout_ms)

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
        if not self._has_ready() and timeout != 0:
            self.wait_until(self._has_ready, -1 if timeout is None else timeout)
        out: list[Message] = []
        if self._errors:
            out.append(self._errors.popleft())
            return out
        now = self.kernel.now_ms
        append = self.history.append
        for key in sorted(self._parts):
            st = self._parts[key]
            while st.buffer and len(out) < num_messages:
                m = st.buffer.popleft()
                if st.position is not None and m._offset < st.position:
                    continue
                st.position = m._offset + 1
                out.append(m)
                append(Op(now, "consume", self.name, m._topic, m._partition, m._offset, m._key, m._value,
                          group=self.group_id))
            if len(out) >= num_messages:
                break
        self.consumed_records += len(out)
        self.last_poll_ms = self.kernel.now_ms
        self._kick()
        return out

    def close(self) -> None:
        self.closed = True
        self._parts = {}

    def _before_poll(self) -> None:
        """Hook for group membership (rejoin, auto-commit) before records are handed out."""

    def _check_open(self) -> None:
        if self.closed:
            raise KafkaException(KafkaError("_STATE", "consumer is closed"))

    def _has_ready(self) -> bool:
        if self._errors:
            return True
        for st in self._parts.values():
            if st.buffer:
                return True
        return False

    # -- positions and resets --------------------------------------------------------------------------
    def _set_position(self, st: _PartState, offset: int) -> None:
        st.position = offset
        st.fetch_position = offset
        st.buffer.clear()
        st.resetting = False

    def _reset(self, key: tuple[str, int], st: _PartState, policy: str | None = None) -> None:
        policy = policy or self.auto_offset_reset
        if policy == "none":
            self._errors.append(Message(key[0], key[1], OFFSET_INVALID, None, None,
                                        error=KafkaError("_NO_OFFSET" if st.position is None else "OFFSET_OUT_OF_RANGE",
                                                         f"no valid offset for {key[0]}-{key[1]} and auto.offset.reset=none")))
            return
        st.resetting = True
        ts = -2 if policy == "earliest" else -1

        def ask() -> None:
            if self._parts.get(key) is not st or not st.resetting:
                return
            leader = self.leader_of(*key)
            node = self.net.nodes.get(f"broker-{leader}") if leader != NO_LEADER else None
            if node is None:
                self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask))
                return

            def ok(resp: Any) -> None:
                if self._parts.get(key) is not st or not st.resetting:
                    return
                if resp[0] != "NO_ERROR":
                    self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask))
                    return
                self._set_position(st, resp[1])
                self._kick()

            self.call(node.name, "ListOffsets",
                      lambda r: node.handle_list_offsets(key[0], key[1], ts, self.isolation_level, r),  # type: ignore[attr-defined]
                      ok, lambda _e: self.schedule(self.retry_backoff_ms, "reset-retry", lambda: self.refresh_metadata(ask)),
                      self.request_timeout_ms, detail=f"{key[0]}-{key[1]} {policy}")

        if key in self.partitions:
            ask()
        else:
            self.refresh_metadata(ask)

    def _initial_position(self, key: tuple[str, int], st: _PartState) -> None:
        """No position yet: use the committed offset (groups) or auto.offset.reset."""
        self._reset(key, st)

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
        for key in sorted(self._parts):
            st = self._parts[key]
            if st.position is None and not st.resetting:
                self._initial_position(key, st)
                continue
            if st.resetting or st.fetching or st.paused or st.fetch_position is None:
                continue
            if len(st.buffer) >= _PREFETCH_RECORDS or st.retry_at_ms > now:
                continue
            leader = self.leader_of(*key)
            if leader == NO_LEADER:
                need_md = True
                continue
            if leader in self._fetch_in_flight:
                continue
            by_leader.setdefault(leader, []).append((key, st))
        if need_md:
            self.refresh_metadata(lambda: self.schedule(self.retry_backoff_ms, "fetcher", self._fetch_all))
        for leader, items in sorted(by_leader.items()):
            self._send_fetch(leader, items)

    def _send_fetch(self, leader: int, items: list[tuple[tuple[str, int], _PartState]]) -> None:
        name = f"broker-{leader}"
        node = self.net.nodes.get(name)
        if node is None:
            return
        parts = []
        for key, st in items:
            st.fetching = True
            assert st.fetch_position is not None
            parts.append(FetchPartition(key[0], key[1], st.fetch_position, self.leader_epoch_of(*key),
                                        self.max_partition_fetch_bytes))
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

        self.call(name, "Fetch", lambda respond: node.handle_fetch(req, respond), ok, fail,  # type: ignore[attr-defined]
                  self.request_timeout_ms + self.fetch_max_wait_ms,
                  detail=", ".join(f"{k[0]}-{k[1]}@{st.fetch_position}" for k, st in items))

    def _accept(self, key: tuple[str, int], st: _PartState, r: FetchResult) -> None:
        pos = st.fetch_position
        assert pos is not None
        topic, partition = key
        buf = st.buffer
        for b in r.batches:
            if b.last_offset < pos:
                continue
            if not b.is_control:
                epoch = b.partition_leader_epoch
                for off, rec in b.iter_records():
                    if off >= pos:
                        buf.append(Message(topic, partition, off, rec.key, rec.value,
                                           list(rec.headers) if rec.headers else None, rec.timestamp_ms, None, epoch))
            pos = b.last_offset + 1
        st.fetch_position = pos
