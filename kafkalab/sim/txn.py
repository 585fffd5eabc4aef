"""The transaction coordinator (KIP-98): transactional ids, epochs and fencing, commit/abort markers.

A transactional id is managed by the broker that leads partition ``abs(transactionalId.hashCode()) %
transaction.state.log.num.partitions`` of ``__transaction_state``; every state change is written there
first, so the next leader of that partition continues the transaction (and its markers) after a failover.

States (Kafka's names): Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
#: Short.MAX_VALUE: an epoch that cannot be bumped any more; the id continues with a new producer id
MAX_PRODUCER_EPOCH = 32767
#: the broker's request.timeout.ms, which bounds a ``__transaction_state`` append
_APPEND_TIMEOUT_MS = 30000
_RETRY_BACKOFF_MS = 100
#: ``__transaction_state`` append errors as the coordinator reports them (TransactionStateManager)
_APPEND_ERRORS = {
    "UNKNOWN_TOPIC_OR_PART": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND": "COORDINATOR_NOT_AVAILABLE",
    "REQUEST_TIMED_OUT": "COORDINATOR_NOT_AVAILABLE",
    "NOT_LEADER_OR_FOLLOWER": "NOT_COORDINATOR",
}


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
    #: the epoch before the last bump: a retried EndTxn or InitProducerId that carries it is recognised
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    #: the producer id the client continues with when its epoch is exhausted (Kafka's nextProducerId)
    next_producer_id: int = NO_PRODUCER_ID
    #: the last bump came from the client's EndTxn (not from the coordinator fencing the producer)
    client_bump: bool = False
    #: a state transition being written to ``__transaction_state`` (Kafka's pendingState): until the write
    #: is answered every other request for this id gets CONCURRENT_TRANSACTIONS
    pending: bool = False

    def copy(self) -> _Txn:
        return replace(self, partitions=set(self.partitions), pending=False)


#: what a written transition copies into the in-memory state
_TXN_FIELDS = (
    "producer_id",
    "producer_epoch",
    "timeout_ms",
    "state",
    "partitions",
    "start_ms",
    "last_update_ms",
    "last_producer_epoch",
    "next_producer_id",
    "client_bump",
)


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
        struct.pack(">hqhi", 1, t.producer_id, t.producer_epoch, t.timeout_ms),
        struct.pack(">b", _STATES.index(t.state)),
        struct.pack(">i", len(by_topic)),
    ]
    for topic, ps in by_topic.items():
        parts.append(_str(topic) + struct.pack(">i", len(ps)) + b"".join(struct.pack(">i", p) for p in ps))
    parts.append(struct.pack(">qq", t.last_update_ms, t.start_ms))
    # version 1: the previous epoch, the next producer id and who bumped the epoch
    parts.append(struct.pack(">hqb", t.last_producer_epoch, t.next_producer_id, int(t.client_bump)))
    return b"".join(parts)


def decode_txn_record(key: bytes, value: bytes | None) -> tuple[str, dict[str, Any] | None]:
    (n,) = struct.unpack_from(">h", key, 2)
    tid = key[4 : 4 + n].decode()
    if value is None:
        return tid, None
    (version,) = struct.unpack_from(">h", value, 0)
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
    last_epoch, next_pid, client_bump = NO_PRODUCER_EPOCH, NO_PRODUCER_ID, 0
    if version >= 1:
        last_epoch, next_pid, client_bump = struct.unpack_from(">hqb", value, pos + 16)
    return tid, {
        "last_producer_epoch": last_epoch,
        "next_producer_id": next_pid,
        "client_bump": bool(client_bump),
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
    """Runs inside a broker; owns the transactional ids whose ``__transaction_state`` partition it leads.

    Every state change is first written to ``__transaction_state`` (acks=all) and applied to memory only
    once the write succeeded, as Kafka's ``TransactionStateManager`` does: while a write is in flight the id
    has a pending transition and every other request for it gets CONCURRENT_TRANSACTIONS. A failed write
    leaves the state as it was and tells the client (COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR), which
    retries; the write that completes a transaction after its markers is retried by the coordinator itself.

    Transactions follow Kafka 4's transaction protocol (``transaction.version=2``, KIP-890): ending a
    transaction bumps the producer epoch and writes the markers with the new epoch, so a produce request
    delayed from an ended transaction is rejected instead of slipping into the next one; EndTxn answers as
    soon as PrepareCommit/PrepareAbort is written, and the markers follow.
    """

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
                self.txns[tid] = _Txn(
                    tid,
                    d["producer_id"],
                    d["producer_epoch"],
                    d["timeout_ms"],
                    d["state"],
                    d["partitions"],
                    d["start_ms"],
                    d["last_update_ms"],
                    d["last_producer_epoch"],
                    d["next_producer_id"],
                    d["client_bump"],
                )
        # finish what the previous coordinator started
        for tid in sorted(self.txns):
            t = self.txns[tid]
            if self.partition_for(tid) == part.index and t.state in (PREPARE_COMMIT, PREPARE_ABORT):
                self._write_markers(t)
        self._start_timer()

    def unload_partition(self, index: int) -> None:
        for tid in [t for t in self.txns if self.partition_for(t) == index]:
            del self.txns[tid]

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
            if (
                t.state == ONGOING
                and not t.pending
                and self.owns(tid) is not None
                and now - t.start_ms > t.timeout_ms
            ):
                self._emit(
                    f"transaction {tid} timed out after {t.timeout_ms} ms: aborting and fencing the producer"
                )
                self._end(t, commit=False, fence=True, respond=None)
        interval = int(self.broker.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"])
        self.broker.schedule(interval, "txn-timeout-check", self._abort_timed_out)

    # -- state transitions ------------------------------------------------------------------------------
    def _transition(self, t: _Txn, new: _Txn, then: Callable[[str], None]) -> None:
        """Write ``new`` (the next state of ``t``) to ``__transaction_state``; once written, apply it to ``t``.

        ``then`` gets NO_ERROR, or the error for the client (the state is then unchanged).
        """
        from .broker import ProduceRequest

        tid = t.transactional_id
        part = self.owns(tid)
        if part is None:
            then("NOT_COORDINATOR")
            return
        t.pending = True
        now = self.broker.kernel.now_ms
        new.last_update_ms = now
        batch = RecordBatch.build([Record(encode_txn_key(tid), encode_txn_value(new), (), now)])
        index = part.index

        def written(results: Any) -> None:
            if self.txns.get(tid) is not t:  # unloaded (or reloaded) meanwhile: no longer ours to change
                then("NOT_COORDINATOR")
                return
            t.pending = False
            err = results[(TRANSACTION_STATE, index)].error
            if err != "NO_ERROR":
                then(_APPEND_ERRORS.get(err, "UNKNOWN_SERVER_ERROR"))
                return
            for name in _TXN_FIELDS:
                setattr(t, name, getattr(new, name))
            then("NO_ERROR")

        self.broker.handle_produce(
            ProduceRequest(-1, _APPEND_TIMEOUT_MS, [(TRANSACTION_STATE, index, batch)]), written
        )

    def _with_bumped_epoch(self, t: _Txn, then: Callable[[_Txn | None], None]) -> None:
        """A copy of ``t`` with the next epoch; an exhausted epoch gets a new producer id (None: no id)."""
        new = t.copy()
        if t.producer_epoch < MAX_PRODUCER_EPOCH - 1:
            new.last_producer_epoch = t.producer_epoch
            new.producer_epoch = t.producer_epoch + 1
            then(new)
            return

        def allocated(resp: Any) -> None:
            if resp[0] != "NO_ERROR":
                then(None)
                return
            new.producer_id, new.producer_epoch, new.last_producer_epoch = resp[1], 0, NO_PRODUCER_EPOCH
            then(new)

        self.broker.handle_admin("allocate_producer_id", (), allocated)

    # -- requests ----------------------------------------------------------------------------------------
    def handle_init_producer_id(
        self, tid: str, timeout_ms: int, pid: int, epoch: int, respond: Callable[[Any], None]
    ) -> None:
        """InitProducerId: a new epoch for ``tid`` (fencing older producers); ``pid``/``epoch`` >= 0 when a
        producer asks to bump its own epoch (KIP-360), so a retry of that request is recognised."""
        if self.owns(tid) is None:
            respond(("NOT_COORDINATOR", -1, -1))
            return
        if timeout_ms > int(self.broker.config["transaction.max.timeout.ms"]) or timeout_ms <= 0:
            respond(("INVALID_TRANSACTION_TIMEOUT", -1, -1))
            return
        t = self.txns.get(tid)
        if t is not None:
            self._init_existing(t, timeout_ms, pid, epoch, respond)
            return

        def allocated(resp: Any) -> None:
            if resp[0] != "NO_ERROR" or self.owns(tid) is None:
                respond(("COORDINATOR_NOT_AVAILABLE", -1, -1))
                return
            nt = self.txns.get(tid)
            if nt is None:
                nt = self.txns[tid] = _Txn(tid, resp[1], NO_PRODUCER_EPOCH, timeout_ms)
            self._init_existing(nt, timeout_ms, pid, epoch, respond)

        self.broker.handle_admin("allocate_producer_id", (), allocated)

    def _init_existing(
        self, t: _Txn, timeout_ms: int, pid: int, epoch: int, respond: Callable[[Any], None]
    ) -> None:
        tid = t.transactional_id
        if t.pending:
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return
        if pid >= 0:
            if pid != t.producer_id or epoch not in (t.producer_epoch, t.last_producer_epoch):
                respond(("PRODUCER_FENCED", -1, -1))
                return
            if epoch == t.last_producer_epoch and t.state in (EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT):
                respond(("NO_ERROR", t.producer_id, t.producer_epoch))  # a retry of a bump already done
                return
        if t.state in (PREPARE_COMMIT, PREPARE_ABORT):
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return
        if t.state == ONGOING:
            # a new incarnation of this transactional id: abort what the old one left open, fencing it
            self._emit(f"transactional.id {tid}: a new producer took over; aborting the open transaction")
            self._end(t, commit=False, fence=True, respond=None)
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return

        def bumped(new: _Txn | None) -> None:
            if new is None or self.txns.get(tid) is not t or t.pending:
                respond(("COORDINATOR_NOT_AVAILABLE" if new is None else "CONCURRENT_TRANSACTIONS", -1, -1))
                return
            new.state = EMPTY
            new.partitions = set()
            new.timeout_ms = timeout_ms
            new.start_ms = -1
            new.client_bump = False

            def written(err: str) -> None:
                if err != "NO_ERROR":
                    respond((err, -1, -1))
                    return
                self._emit(
                    f"transactional.id {tid}: producer id {t.producer_id} epoch bumped to {t.producer_epoch} "
                    "(older epochs fenced)"
                )
                respond(("NO_ERROR", t.producer_id, t.producer_epoch))

            self._transition(t, new, written)

        self._with_bumped_epoch(t, bumped)

    def _check_producer(self, tid: str, pid: int, epoch: int) -> tuple[_Txn | None, str]:
        if self.owns(tid) is None:
            return None, "NOT_COORDINATOR"
        t = self.txns.get(tid)
        if t is None:
            return None, "INVALID_PRODUCER_ID_MAPPING"
        if t.pending or (pid == t.next_producer_id and t.state in (PREPARE_COMMIT, PREPARE_ABORT)):
            return None, "CONCURRENT_TRANSACTIONS"
        if t.producer_id != pid:
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
            respond("CONCURRENT_TRANSACTIONS")  # the previous transaction is still writing its markers
            return
        if t.state == ONGOING and set(partitions) <= t.partitions:
            respond("NO_ERROR")
            return
        new = t.copy()
        if t.state != ONGOING:
            new.state = ONGOING
            new.partitions = set()
            new.start_ms = self.broker.kernel.now_ms
        new.partitions |= set(partitions)
        self._transition(t, new, respond)

    def handle_add_offsets(
        self, tid: str, pid: int, epoch: int, group_id: str, respond: Callable[[Any], None]
    ) -> None:
        from .group import CONSUMER_OFFSETS

        part = self.broker.coordinator.partition_for(group_id)
        self.handle_add_partitions(tid, pid, epoch, [(CONSUMER_OFFSETS, part)], respond)

    def handle_end_txn(
        self,
        tid: str,
        pid: int,
        epoch: int,
        commit: bool,
        transaction_version: int,
        respond: Callable[[Any], None],
    ) -> None:
        """EndTxn; answers (error, producer id, producer epoch): the id and epoch the producer continues with.

        ``transaction_version`` 2 (a Kafka 4 client, EndTxn v5+) bumps the epoch with every transaction
        (KIP-890); older clients keep their epoch and retry a pending EndTxn until it completes."""
        if self.owns(tid) is None:
            respond(("NOT_COORDINATOR", -1, -1))
            return
        t = self.txns.get(tid)
        if t is None or pid != t.producer_id:
            respond(("INVALID_PRODUCER_ID_MAPPING", -1, -1))
            return
        if t.pending:
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))
            return
        prepared, done = (PREPARE_COMMIT, COMPLETE_COMMIT) if commit else (PREPARE_ABORT, COMPLETE_ABORT)
        if epoch == t.last_producer_epoch and epoch == t.producer_epoch - 1 and t.client_bump:
            # a retry of the EndTxn that bumped the epoch (its answer was lost)
            if t.state in (prepared, done):
                respond(("NO_ERROR", *self._continue_with(t)))
            else:
                respond(("INVALID_TXN_STATE", -1, -1))
            return
        if epoch < t.producer_epoch:
            respond(("PRODUCER_FENCED", -1, -1))
            return
        if epoch > t.producer_epoch:
            respond(("INVALID_PRODUCER_EPOCH", -1, -1))
            return
        if transaction_version < 2 and t.state == prepared:
            respond(("CONCURRENT_TRANSACTIONS", -1, -1))  # a retry: its markers are being written
            return
        if transaction_version < 2 and t.state == done:
            respond(("NO_ERROR", t.producer_id, t.producer_epoch))
            return
        if t.state != ONGOING:
            respond(("INVALID_TXN_STATE", -1, -1))
            return
        self._end(t, commit, fence=False, respond=respond, bump=transaction_version >= 2)

    def _continue_with(self, t: _Txn) -> tuple[int, int]:
        """The producer id and epoch a client continues with after this transaction ends."""
        if t.next_producer_id != NO_PRODUCER_ID:
            return t.next_producer_id, 0
        return t.producer_id, t.producer_epoch

    def _end(
        self,
        t: _Txn,
        commit: bool,
        fence: bool,
        respond: Callable[[Any], None] | None,
        bump: bool = True,
    ) -> None:
        """Write PrepareCommit/PrepareAbort with the next epoch (``fence``: the coordinator aborts on its own,
        fencing the producer; not ``bump``: a client older than KIP-890 keeps its epoch), answer the
        client, then write the markers."""
        tid = t.transactional_id
        if not bump and not fence:
            new = t.copy()
            new.state = PREPARE_COMMIT if commit else PREPARE_ABORT
            new.client_bump = False

            def written(err: str) -> None:
                if respond is not None:
                    respond((err, t.producer_id, t.producer_epoch) if err == "NO_ERROR" else (err, -1, -1))
                if err == "NO_ERROR":
                    self._write_markers(t)

            self._transition(t, new, written)
            return
        t.pending = True  # nothing else may change this id until the prepare is written

        def bumped(new: _Txn | None) -> None:
            t.pending = False
            if new is None or self.txns.get(tid) is not t:
                if respond is not None:
                    respond(("COORDINATOR_NOT_AVAILABLE" if new is None else "NOT_COORDINATOR", -1, -1))
                return
            if new.producer_id != t.producer_id:
                # the epoch is exhausted: the markers keep the old id at the last epoch, the producer
                # continues with the new id (Kafka's nextProducerId)
                new.next_producer_id = new.producer_id
                new.producer_id = t.producer_id
                new.producer_epoch = MAX_PRODUCER_EPOCH
                new.last_producer_epoch = t.producer_epoch
            new.state = PREPARE_COMMIT if commit else PREPARE_ABORT
            new.client_bump = not fence

            def written(err: str) -> None:
                if err != "NO_ERROR":
                    if respond is not None:
                        respond((err, -1, -1))
                    return
                if respond is not None:
                    respond(("NO_ERROR", *self._continue_with(t)))
                self._write_markers(t)

            self._transition(t, new, written)

        self._with_bumped_epoch(t, bumped)

    def _write_markers(self, t: _Txn) -> None:
        """WriteTxnMarkers to the leader of every partition in the transaction; retried until done."""
        commit = t.state == PREPARE_COMMIT
        remaining = set(t.partitions)
        marker = ControlType.COMMIT if commit else ControlType.ABORT
        tid = t.transactional_id
        self._emit(f"transaction {tid}: writing {marker.name} markers to {len(remaining)} partition(s)")

        def current() -> bool:
            return self.txns.get(tid) is t and self.owns(tid) is not None

        def finish() -> None:
            if not current():
                return
            new = t.copy()
            new.state = COMPLETE_COMMIT if commit else COMPLETE_ABORT
            new.partitions = set()
            if t.next_producer_id != NO_PRODUCER_ID:
                new.producer_id, new.producer_epoch = t.next_producer_id, 0
                new.last_producer_epoch, new.next_producer_id = NO_PRODUCER_EPOCH, NO_PRODUCER_ID

            def written(err: str) -> None:
                if err != "NO_ERROR":  # Kafka retries this append until it is no longer the coordinator
                    self.broker.schedule(_RETRY_BACKOFF_MS, "txn-complete-retry", finish)

            self._transition(t, new, written)

        def send_round() -> None:
            if not current():
                return
            by_leader: dict[int, list[tuple[str, int]]] = {}
            for tp in sorted(remaining):
                st = self.broker.image.partitions.get(tp)
                if st is None:
                    remaining.discard(tp)  # deleted topic
                elif st.leader != NO_LEADER:
                    by_leader.setdefault(st.leader, []).append(tp)
            if not remaining:
                finish()
                return
            if not by_leader:
                self.broker.schedule(500, "txn-markers-retry", send_round)
                return
            pending = [len(by_leader)]

            def one_done() -> None:
                pending[0] -= 1
                if pending[0] == 0:
                    if remaining:
                        self.broker.schedule(_RETRY_BACKOFF_MS, "txn-markers-retry", send_round)
                    else:
                        finish()

            from .broker import Broker

            for leader, tps in sorted(by_leader.items()):
                peer = self.broker.net.nodes.get(f"broker-{leader}")
                if not isinstance(peer, Broker):
                    one_done()
                    continue

                def ok(results: Any, tps: list[tuple[str, int]] = tps) -> None:
                    for tp in tps:
                        r = results.get(tp)
                        # INVALID_PRODUCER_EPOCH: a newer epoch already wrote there, so this marker is moot
                        if r is not None and r.error in ("NO_ERROR", "INVALID_PRODUCER_EPOCH"):
                            remaining.discard(tp)
                    one_done()

                self.broker.call(
                    peer.name,
                    "WriteTxnMarkers",
                    _markers_request(peer, t.producer_id, t.producer_epoch, commit, tps),
                    ok,
                    lambda _e: one_done(),
                    30000,
                    detail=f"{marker.name} {tid}",
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
