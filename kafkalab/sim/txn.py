"""The transaction coordinator (KIP-98): transactional ids, epochs and fencing, commit/abort markers.

A transactional id is managed by the broker that leads partition ``abs(transactionalId.hashCode()) %
transaction.state.log.num.partitions`` of ``__transaction_state``; every state change is written there
first, so the next leader of that partition continues the transaction (and its markers) after a failover.

States (Kafka's names): Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .metadata import NO_LEADER
from .records import ControlType, Record, RecordBatch

if TYPE_CHECKING:
    from .broker import Broker, Partition

__all__ = ["TRANSACTION_STATE", "TransactionCoordinator", "TxnSnapshot"]

TRANSACTION_STATE = "__transaction_state"

EMPTY = "Empty"
ONGOING = "Ongoing"
PREPARE_COMMIT = "PrepareCommit"
PREPARE_ABORT = "PrepareAbort"
COMPLETE_COMMIT = "CompleteCommit"
COMPLETE_ABORT = "CompleteAbort"
_STATES = [EMPTY, ONGOING, PREPARE_COMMIT, PREPARE_ABORT, COMPLETE_COMMIT, COMPLETE_ABORT, "Dead"]


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


@dataclass
class _Txn:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: str = EMPTY
    partitions: set[tuple[str, int]] = field(default_factory=set)
    start_ms: int = -1
    last_update_ms: int = 0
    #: EndTxn callers waiting for the markers to be written
    waiters: list[Callable[[Any], None]] = field(default_factory=list)


@dataclass(frozen=True)
class TxnSnapshot:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    state: str
    partitions: tuple[tuple[str, int], ...]
    timeout_ms: int
    start_ms: int
    coordinator: int


def encode_txn_key(tid: str) -> bytes:
    return struct.pack(">h", 0) + _str(tid)


def encode_txn_value(t: _Txn) -> bytes:
    by_topic: dict[str, list[int]] = {}
    for topic, p in sorted(t.partitions):
        by_topic.setdefault(topic, []).append(p)
    parts = [
        struct.pack(">hqhi", 0, t.producer_id, t.producer_epoch, t.timeout_ms),
        struct.pack(">b", _STATES.index(t.state)),
        struct.pack(">i", len(by_topic)),
    ]
    for topic, ps in by_topic.items():
        parts.append(_str(topic) + struct.pack(">i", len(ps)) + b"".join(struct.pack(">i", p) for p in ps))
    parts.append(struct.pack(">qq", t.last_update_ms, t.start_ms))
    return b"".join(parts)


def decode_txn_record(key: bytes, value: bytes | None) -> tuple[str, dict[str, Any] | None]:
    (n,) = struct.unpack_from(">h", key, 2)
    tid = key[4 : 4 + n].decode()
    if value is None:
        return tid, None
    pid, epoch, timeout = struct.unpack_from(">qhi", value, 2)
    pos = 2 + 14
    state = _STATES[value[pos]]
    pos += 1
    (ntopics,) = struct.unpack_from(">i", value, pos)
    pos += 4
    partitions: set[tuple[str, int]] = set()
    for _ in range(ntopics):
        (ln,) = struct.unpack_from(">h", value, pos)
        topic = value[pos + 2 : pos + 2 + ln].decode()
        pos += 2 + ln
        (np_,) = struct.unpack_from(">i", value, pos)
        pos += 4
        for _i in range(np_):
            (p,) = struct.unpack_from(">i", value, pos)
            pos += 4
            partitions.add((topic, p))
    last_update, start = struct.unpack_from(">qq", value, pos)
    return tid, {
        "producer_id": pid,
        "producer_epoch": epoch,
        "timeout_ms": timeout,
        "state": state,
        "partitions": partitions,
        "last_update_ms": last_update,
        "start_ms": start,
    }


def _markers_request(
    node: Broker, pid: int, epoch: int, commit: bool, tps: list[tuple[str, int]]
) -> Callable[[Callable[[Any], None]], None]:
    return lambda respond: node.handle_write_markers(pid, epoch, commit, tps, respond)


class TransactionCoordinator:
    """Runs inside a broker; owns the transactional ids whose ``__transaction_state`` partition it leads."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.txns: dict[str, _Txn] = {}
        self._timer_started = False

    @property
    def num_partitions(self) -> int:
        return int(self.broker.config["transaction.state.log.num.partitions"])

    def partition_for(self, tid: str) -> int:
        from .partitioner import coordinator_partition

        return coordinator_partition(tid, self.num_partitions)

    def owns(self, tid: str) -> Partition | None:
        part = self.broker.partitions.get((TRANSACTION_STATE, self.partition_for(tid)))
        return part if part is not None and part.is_leader else None

    def _emit(self, text: str) -> None:
        self.broker.emit(text, "txn")

    # -- loading ---------------------------------------------------------------------------------------
    def load_partition(self, part: Partition) -> None:
        for tid in [t for t in self.txns if self.partition_for(t) == part.index]:
            del self.txns[tid]
        for b in part.log.iter_batches(part.log.log_start_offset):
            for _o, rec in b.iter_records():
                if rec.key is None:
                    continue
                tid, d = decode_txn_record(rec.key, rec.value)
                if d is None:
                    self.txns.pop(tid, None)
                    continue
                t = _Txn(
                    tid,
                    d["producer_id"],
                    d["producer_epoch"],
                    d["timeout_ms"],
                    d["state"],
                    d["partitions"],
                    d["start_ms"],
                    d["last_update_ms"],
                )
                self.txns[tid] = t
        # finish what the previous coordinator started
        for tid in sorted(self.txns):
            t = self.txns[tid]
            if self.partition_for(tid) != part.index:
                continue
            if t.state in (PREPARE_COMMIT, PREPARE_ABORT):
                self._write_markers(t)
        self._start_timer()

    def unload_partition(self, index: int) -> None:
        for tid in [t for t in self.txns if self.partition_for(t) == index]:
            t = self.txns.pop(tid)
            for w in t.waiters:
                w("NOT_COORDINATOR")

    def _start_timer(self) -> None:
        if self._timer_started:
            return
        self._timer_started = True
        interval = int(self.broker.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"])
        self.broker.schedule(interval, "txn-timeout-check", self._abort_timed_out)

    def _abort_timed_out(self) -> None:
        now = self.broker.kernel.now_ms
        for tid in sorted(self.txns):
            t = self.txns[tid]
            if t.state == ONGOING and self.owns(tid) is not None and now - t.start_ms > t.timeout_ms:
                self._emit(
                    f"transaction {tid} timed out after {t.timeout_ms} ms: aborting and fencing the producer"
                )
                t.producer_epoch += 1  # the aborting coordinator bumps the epoch: the old producer is fenced
                self._prepare_end(t, commit=False)
        interval = int(self.broker.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"])
        self.broker.schedule(interval, "txn-timeout-check", self._abort_timed_out)

    # -- persistence -------------------------------------------------------------------------------------
    def _persist(self, t: _Txn, then: Callable[[bool], None]) -> None:
        from .broker import ProduceRequest

        part = self.owns(t.transactional_id)
        if part is None:
            then(False)
            return
        now = self.broker.kernel.now_ms
        t.last_update_ms = now
        batch = RecordBatch.build([Record(encode_txn_key(t.transactional_id), encode_txn_value(t), (), now)])

        def respond(results: Any) -> None:
            then(results[(TRANSACTION_STATE, part.index)].error == "NO_ERROR")

        self.broker.handle_produce(
            ProduceRequest(-1, 5000, [(TRANSACTION_STATE, part.index, batch)]), respond
        )

    # -- requests ----------------------------------------------------------------------------------------
    def handle_init_producer_id(self, tid: str, timeout_ms: int, respond: Callable[[Any], None]) -> None:
        if self.owns(tid) is None:
            respond(("NOT_COORDINATOR", -1, -1))
            return
        max_timeout = int(self.broker.config["transaction.max.timeout.ms"])
        if timeout_ms > max_timeout:
            respond(("INVALID_TRANSACTION_TIMEOUT", -1, -1))
            return
        t = self.txns.get(tid)
        if t is None:

            def allocated(resp: Any) -> None:
                err, pid, _epoch = resp
                if err != "NO_ERROR":
                    respond(("COORDINATOR_NOT_AVAILABLE", -1, -1))
                    return
                nt = _Txn(tid, pid, 0, timeout_ms)
                self.txns[tid] = nt
                self._persist(
                    nt,
                    lambda ok: respond(("NO_ERROR", pid, 0) if ok else ("COORDINATOR_NOT_AVAILABLE", -1, -1)),
                )

            self.broker.handle_admin("allocate_producer_id", (), allocated)
            return
        if t.state in (PREPARE_COMMIT, PREPARE_ABORT):
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return
        if t.state == ONGOING:
            # a new incarnation of this transactional id: abort what the old one left open, fencing it
            self._emit(f"transactional.id {tid}: a new producer took over; aborting the open transaction")
            t.producer_epoch += 1
            self._prepare_end(t, commit=False)
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return
        t.producer_epoch += 1
        t.state = EMPTY
        t.partitions = set()
        t.timeout_ms = timeout_ms
        epoch = t.producer_epoch
        self._emit(
            f"transactional.id {tid}: producer id {t.producer_id} epoch bumped to {epoch} (older epochs fenced)"
        )
        self._persist(
            t,
            lambda ok: respond(
                ("NO_ERROR", t.producer_id, epoch) if ok else ("COORDINATOR_NOT_AVAILABLE", -1, -1)
            ),
        )

    def _check_producer(self, tid: str, pid: int, epoch: int) -> tuple[_Txn | None, str]:
        if self.owns(tid) is None:
            return None, "NOT_COORDINATOR"
        t = self.txns.get(tid)
        if t is None or t.producer_id != pid:
            return None, "INVALID_PRODUCER_ID_MAPPING"
        if epoch < t.producer_epoch:
            return None, "PRODUCER_FENCED"
        if epoch > t.producer_epoch:
            return None, "INVALID_PRODUCER_EPOCH"
        return t, "NO_ERROR"

    def handle_add_partitions(
        self,
        tid: str,
        pid: int,
        epoch: int,
        partitions: list[tuple[str, int]],
        respond: Callable[[Any], None],
    ) -> None:
        t, err = self._check_producer(tid, pid, epoch)
        if t is None:
            respond(err)
            return
        if t.state in (PREPARE_COMMIT, PREPARE_ABORT):
            respond("CONCURRENT_TRANSACTIONS")
            return
        new = set(partitions) - t.partitions
        if not new and t.state == ONGOING:
            respond("NO_ERROR")
            return
        if t.state != ONGOING:
            t.state = ONGOING
            t.partitions = set()
            t.start_ms = self.broker.kernel.now_ms
        t.partitions |= set(partitions)
        self._persist(t, lambda ok: respond("NO_ERROR" if ok else "COORDINATOR_NOT_AVAILABLE"))

    def handle_add_offsets(
        self, tid: str, pid: int, epoch: int, group_id: str, respond: Callable[[Any], None]
    ) -> None:
        from .group import CONSUMER_OFFSETS

        part = self.broker.coordinator.partition_for(group_id)
        self.handle_add_partitions(tid, pid, epoch, [(CONSUMER_OFFSETS, part)], respond)

    def handle_end_txn(
        self, tid: str, pid: int, epoch: int, commit: bool, respond: Callable[[Any], None]
    ) -> None:
        t, err = self._check_producer(tid, pid, epoch)
        if t is None:
            respond(err)
            return
        want_done = COMPLETE_COMMIT if commit else COMPLETE_ABORT
        if t.state == want_done:
            respond("NO_ERROR")  # a retry of an EndTxn that already completed
            return
        if t.state in (PREPARE_COMMIT, PREPARE_ABORT):
            if (t.state == PREPARE_COMMIT) == commit:
                t.waiters.append(lambda r: respond(r))
            else:
                respond("INVALID_TXN_STATE")
            return
        if t.state != ONGOING:
            respond("INVALID_TXN_STATE")
            return
        t.waiters.append(lambda r: respond(r))
        self._prepare_end(t, commit)

    def _prepare_end(self, t: _Txn, commit: bool) -> None:
        t.state = PREPARE_COMMIT if commit else PREPARE_ABORT

        def persisted(ok: bool) -> None:
            if not ok:
                for w in t.waiters:
                    w("COORDINATOR_NOT_AVAILABLE")
                t.waiters = []
                return
            self._write_markers(t)

        self._persist(t, persisted)

    def _write_markers(self, t: _Txn) -> None:
        """WriteTxnMarkers to the leader of every partition in the transaction; retried until done."""
        commit = t.state == PREPARE_COMMIT
        remaining = set(t.partitions)
        marker = ControlType.COMMIT if commit else ControlType.ABORT
        self._emit(
            f"transaction {t.transactional_id}: writing {marker.name} markers to {len(remaining)} partition(s)"
        )

        def finish() -> None:
            t.state = COMPLETE_COMMIT if commit else COMPLETE_ABORT
            waiters, t.waiters = t.waiters, []

            def persisted(ok: bool) -> None:
                for w in waiters:
                    w("NO_ERROR")

            self._persist(t, persisted)

        def send_round() -> None:
            if self.txns.get(t.transactional_id) is not t or self.owns(t.transactional_id) is None:
                return
            if not remaining:
                finish()
                return
            by_leader: dict[int, list[tuple[str, int]]] = {}
            for tp in sorted(remaining):
                st = self.broker.image.partitions.get(tp)
                if st is None:
                    remaining.discard(tp)  # deleted topic
                    continue
                if st.leader != NO_LEADER:
                    by_leader.setdefault(st.leader, []).append(tp)
            if not remaining:
                finish()
                return
            pending = [len(by_leader)]
            if not by_leader:
                self.broker.schedule(500, "txn-markers-retry", send_round)
                return

            def one_done() -> None:
                pending[0] -= 1
                if pending[0] == 0:
                    if remaining:
                        self.broker.schedule(100, "txn-markers-retry", send_round)
                    else:
                        finish()

            for leader, tps in sorted(by_leader.items()):
                from .broker import Broker

                peer = self.broker.net.nodes.get(f"broker-{leader}")
                node = peer if isinstance(peer, Broker) else None

                def ok(results: Any, tps: list[tuple[str, int]] = tps) -> None:
                    for tp in tps:
                        r = results.get(tp)
                        if r is not None and r.error == "NO_ERROR":
                            remaining.discard(tp)
                    one_done()

                if node is None:
                    one_done()
                    continue
                self.broker.call(
                    node.name,
                    "WriteTxnMarkers",
                    _markers_request(node, t.producer_id, t.producer_epoch, commit, tps),
                    ok,
                    lambda _e: one_done(),
                    30000,
                    detail=f"{marker.name} {t.transactional_id}",
                )

        send_round()

    # -- views -------------------------------------------------------------------------------------------
    def snapshot(self, tid: str) -> TxnSnapshot | None:
        t = self.txns.get(tid)
        if t is None:
            return None
        return TxnSnapshot(
            tid,
            t.producer_id,
            t.producer_epoch,
            t.state,
            tuple(sorted(t.partitions)),
            t.timeout_ms,
            t.start_ms,
            self.broker.broker_id,
        )
