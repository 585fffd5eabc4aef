"""The transactional producer's state machine (Kafka's ``TransactionManager``), shaped like confluent_kafka.

States (Kafka's names): UNINITIALIZED, INITIALIZING, READY, IN_TRANSACTION, COMMITTING_TRANSACTION,
ABORTING_TRANSACTION, ABORTABLE_ERROR, FATAL_ERROR.

- Any record of a transaction that fails (a produce error, a delivery timeout, a topic whose metadata never
  came) puts the producer in ABORTABLE_ERROR: ``commit_transaction()`` then raises an error whose
  ``txn_requires_abort()`` is true, and ``abort_transaction()`` gets the producer going again. Being fenced by
  a newer instance of the transactional.id is FATAL_ERROR: every later call raises it.
- ``init_transactions()``, ``commit_transaction()``, ``abort_transaction()`` and
  ``send_offsets_to_transaction()`` are operations that keep going when the call times out; the timeout
  error is retriable and calling the same method again waits for the same operation (it never starts a
  second one, so a timed-out ``init_transactions()`` cannot fence the producer that retries it). Another
  transactional call meanwhile fails with ``_CONFLICT``.
- EndTxn is sent only once every record of the transaction has its delivery report; with Kafka 4's
  transaction protocol (KIP-890) its answer carries the producer epoch, bumped, that the next transaction
  uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError, KafkaException, is_retriable
from ..history import Op

if TYPE_CHECKING:
    from .producer import Producer

__all__ = ["TransactionManager"]

UNINITIALIZED = "UNINITIALIZED"
INITIALIZING = "INITIALIZING"
READY = "READY"
IN_TRANSACTION = "IN_TRANSACTION"
COMMITTING = "COMMITTING_TRANSACTION"
ABORTING = "ABORTING_TRANSACTION"
ABORTABLE_ERROR = "ABORTABLE_ERROR"
FATAL_ERROR = "FATAL_ERROR"

FENCED_ERRORS = ("PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH")
#: answers after which the request goes to the coordinator again (found anew)
_COORDINATOR_RETRY = ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS")
#: a lost connection or no answer in time: the request is sent again
_TRANSPORT_RETRY = ("_TRANSPORT", "REQUEST_TIMED_OUT")
#: TxnOffsetCommit answers that mean the consumer lost its partitions meanwhile (KIP-447)
_GROUP_FENCED = ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "FENCED_INSTANCE_ID")
#: the default wait of a transactional call with ``timeout=None``
DEFAULT_TIMEOUT_S = 60.0


class _Operation:
    """One transactional API call, which keeps going in the background after its caller timed out."""

    __slots__ = ("name", "done", "error")

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = False
        self.error: KafkaError | None = None

    def finish(self, error: KafkaError | None = None) -> None:
        if not self.done:
            self.done = True
            self.error = error


class TransactionManager:
    """The transactions of one producer (``transactional.id``)."""

    def __init__(self, producer: Producer, transactional_id: str, timeout_ms: int) -> None:
        self.producer = producer
        self.transactional_id = transactional_id
        self.timeout_ms = timeout_ms
        self.state = UNINITIALIZED
        self.coordinator: int | None = None
        #: partitions added to the transaction; partitions being added (one AddPartitionsToTxn at a time)
        self.partitions: set[tuple[str, int]] = set()
        self.adding: set[tuple[str, int]] = set()
        #: a partition or the offsets were added: the transaction exists at the coordinator and needs EndTxn
        self.started = False
        self.error: KafkaError | None = None
        self.fatal: KafkaError | None = None
        self.op: _Operation | None = None
        #: (topic, partition, offset, key, value) of records acknowledged in the open transaction
        self.acked: list[tuple[str, int, int, bytes | None, bytes | None]] = []
        self._drained: Callable[[], None] | None = None

    # -- states -------------------------------------------------------------------------------------
    @property
    def committing(self) -> bool:
        return self.state == COMMITTING

    @property
    def sending_allowed(self) -> bool:
        """New partitions may be added and their records sent (not while aborting or in error)."""
        return self.state in (IN_TRANSACTION, COMMITTING)

    def check_produce(self) -> None:
        """produce() is allowed inside a transaction only."""
        if self.fatal is not None:
            raise KafkaException(self.fatal)
        if self.state == ABORTABLE_ERROR and self.error is not None:
            raise KafkaException(self.error)
        if self.state != IN_TRANSACTION:
            raise KafkaException(
                KafkaError(
                    "_STATE",
                    f"Operation not valid in state {self.state}: call begin_transaction() first",
                )
            )

    def _set_fatal(self, err: str, reason: str) -> KafkaError:
        if self.fatal is None:
            fenced = err in FENCED_ERRORS
            self.fatal = KafkaError(
                "_FENCED" if fenced else err,
                (
                    f"Producer fenced by a newer instance of transactional.id {self.transactional_id} ({err})"
                    if fenced
                    else reason
                ),
                fatal=True,
            )
            self.state = FATAL_ERROR
            self.producer.cluster.note(
                f"producer {self.producer.name} was fenced ({err}): a newer producer owns "
                f"transactional.id {self.transactional_id}"
                if fenced
                else f"producer {self.producer.name}: fatal transaction error: {reason}",
                "txn",
            )
            if self.op is not None:
                self.op.finish(self.fatal)
            self.producer.purge_queued(self.fatal)
        return self.fatal

    def set_abortable(self, err: str, reason: str) -> None:
        """A record (or request) of the transaction failed: only an abort can follow."""
        if err in FENCED_ERRORS:
            self._set_fatal(err, reason)
            return
        if self.state not in (IN_TRANSACTION, COMMITTING, ABORTABLE_ERROR):
            return  # aborting anyway (or no transaction): nothing more to say
        if self.error is None:
            self.error = KafkaError(
                err,
                f"The transaction must be aborted: {reason}",
                retriable=False,
                txn_requires_abort=True,
            )
        self.state = ABORTABLE_ERROR
        self.check_drained()

    # -- the blocking API --------------------------------------------------------------------------------
    def _ensure_usable(self) -> None:
        if self.fatal is not None:
            raise KafkaException(self.fatal)

    def _resume(self, name: str) -> _Operation | None:
        """The operation of an earlier call to ``name`` that timed out (None: start a new one)."""
        op = self.op
        if op is None:
            return None
        if op.name == name:
            return op
        if not op.done:
            raise KafkaException(
                KafkaError(
                    "_CONFLICT",
                    f"Conflicting {op.name} call is already in progress: it timed out and must be called "
                    f"again to finish before {name}()",
                )
            )
        self.op = None
        return None

    def _await(self, op: _Operation, timeout: float | None) -> None:
        self.op = op
        self.producer.wait_until(
            lambda: op.done, DEFAULT_TIMEOUT_S if timeout is None or timeout < 0 else timeout
        )
        if not op.done:
            raise KafkaException(
                KafkaError(
                    "_TIMED_OUT",
                    f"{op.name} timed out; it continues in the background: call {op.name}() again to wait "
                    "for it",
                    retriable=True,
                )
            )
        self.op = None
        if op.error is not None:
            raise KafkaException(op.error)

    def _check_state(self, *states: str) -> None:
        if self.state not in states:
            raise KafkaException(KafkaError("_STATE", f"Operation not valid in state {self.state}"))

    def init_transactions(self, timeout: float | None) -> None:
        self._ensure_usable()
        op = self._resume("init_transactions")
        if op is None:
            self._check_state(UNINITIALIZED)
            op = _Operation("init_transactions")
            self.state = INITIALIZING
            self._init_producer_id(op)
        self._await(op, timeout)

    def _init_producer_id(self, op: _Operation) -> None:
        def done(resp: Any) -> None:
            err, pid, epoch = resp
            if err == "NO_ERROR":
                self.producer.set_producer_id(pid, epoch)
                self.state = READY
                op.finish()
            elif err == "INVALID_TRANSACTION_TIMEOUT":
                self.state = UNINITIALIZED
                op.finish(
                    KafkaError(
                        err,
                        f"transaction.timeout.ms={self.timeout_ms} is larger than the brokers' "
                        "transaction.max.timeout.ms",
                    )
                )
            else:
                op.finish(self._set_fatal(err, f"Unexpected error in InitProducerId: {err}"))

        self.call("InitProducerId", (self.transactional_id, self.timeout_ms, -1, -1), done)

    def begin_transaction(self) -> None:
        self._ensure_usable()
        self._resume("begin_transaction")
        self._check_state(READY)
        self.state = IN_TRANSACTION
        self.partitions = set()
        self.started = False
        self.acked = []
        self.error = None

    def commit_transaction(self, timeout: float | None) -> None:
        self._ensure_usable()
        op = self._resume("commit_transaction")
        if op is None:
            if self.state == ABORTABLE_ERROR and self.error is not None:
                raise KafkaException(self.error)
            self._check_state(IN_TRANSACTION)
            op = _Operation("commit_transaction")
            self.state = COMMITTING
            self._when_drained(lambda: self._end(op, commit=True))
            self.producer.wake(0)
        self._await(op, timeout)

    def abort_transaction(self, timeout: float | None) -> None:
        self._ensure_usable()
        op = self._resume("abort_transaction")
        if op is None:
            self._check_state(IN_TRANSACTION, ABORTABLE_ERROR)
            op = _Operation("abort_transaction")
            self.state = ABORTING
            self.producer.purge_queued(
                KafkaError("_PURGE_QUEUE", "Local: Purged in queue (transaction aborted)")
            )
            self._when_drained(lambda: self._end(op, commit=False))
        self._await(op, timeout)

    def _when_drained(self, then: Callable[[], None]) -> None:
        self._drained = then
        self.check_drained()

    def check_drained(self) -> None:
        """Run what waits for every record of the transaction to be reported (EndTxn goes out after them)."""
        then = self._drained
        if then is not None and self.producer.queued == 0 and not self.adding:
            self._drained = None
            then()

    def _end(self, op: _Operation, commit: bool) -> None:
        if op.done:
            return
        if commit and self.state != COMMITTING:  # a record failed while the transaction was flushed
            op.finish(self.error or KafkaError("_STATE", f"Operation not valid in state {self.state}"))
            return
        if not self.started:  # nothing reached the coordinator: there is nothing to end
            self._completed(op, commit)
            return
        p = self.producer

        def done(resp: Any) -> None:
            err, pid, epoch = resp
            if err == "NO_ERROR":
                p.set_producer_id(pid, epoch)
                self._completed(op, commit)
            elif commit and err in ("UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_ID_MAPPING"):
                self.set_abortable(err, f"EndTxn failed: {err}")
                op.finish(self.error)
            else:
                op.finish(self._set_fatal(err, f"EndTxn failed: {err}"))

        # transaction version 2: a Kafka 4 client, whose epoch the coordinator bumps (KIP-890)
        self.call("EndTxn", (self.transactional_id, p.producer_id, p.producer_epoch, commit, 2), done)

    def _completed(self, op: _Operation, commit: bool) -> None:
        p = self.producer
        now = p.kernel.now_ms
        for topic, partition, off, key, value in self.acked:
            if commit:
                p.history.append(Op(now, "ack", p.name, topic, partition, off, key, value))
            else:
                p.history.append(
                    Op(now, "fail", p.name, topic, partition, None, key, value, "TRANSACTION_ABORTED")
                )
        self.acked = []
        self.partitions = set()
        self.started = False
        self.error = None
        self.state = READY
        op.finish()

    # -- partitions and offsets --------------------------------------------------------------------------
    def add_partitions(self, tps: list[tuple[str, int]]) -> None:
        """AddPartitionsToTxn for partitions that have records to send (one request at a time)."""
        if self.adding or not self.sending_allowed:
            return
        self.adding = set(tps)
        p = self.producer

        def done(err: Any) -> None:
            added, self.adding = sorted(self.adding), set()
            if err == "NO_ERROR":
                self.partitions.update(added)
                self.started = True
            elif err in FENCED_ERRORS or err == "INVALID_TXN_STATE":
                self._set_fatal(err, f"AddPartitionsToTxn failed: {err}")
            else:
                self.set_abortable(err, f"could not add {added} to the transaction ({err})")
            self.check_drained()
            p.wake(0)

        self.call(
            "AddPartitionsToTxn", (self.transactional_id, p.producer_id, p.producer_epoch, sorted(tps)), done
        )

    def send_offsets_to_transaction(
        self, positions: list[Any], group_metadata: Any, timeout: float | None
    ) -> None:
        self._ensure_usable()
        op = self._resume("send_offsets_to_transaction")
        if op is None:
            if self.state == ABORTABLE_ERROR and self.error is not None:
                raise KafkaException(self.error)
            self._check_state(IN_TRANSACTION)
            op = _Operation("send_offsets_to_transaction")
            self._send_offsets(op, positions, group_metadata)
        self._await(op, timeout)

    def _send_offsets(self, op: _Operation, positions: list[Any], group_metadata: Any) -> None:
        p = self.producer
        gid = group_metadata.group_id
        offsets = [(tp.topic, tp.partition, tp.offset) for tp in positions if tp.offset >= 0]

        def fail(err: str, what: str) -> None:
            if err in FENCED_ERRORS:
                op.finish(self._set_fatal(err, what))
            else:
                self.set_abortable(err, what)
                op.finish(self.error)

        def added(err: Any) -> None:
            if err != "NO_ERROR":
                fail(err, f"AddOffsetsToTxn failed: {err}")
                return
            self.started = True
            req = {
                "group_id": gid,
                "producer_id": p.producer_id,
                "producer_epoch": p.producer_epoch,
                "generation": group_metadata.generation,
                "member_id": group_metadata.member_id,
                "offsets": offsets,
            }
            self._txn_offset_commit(gid, req, op, fail)

        self.call("AddOffsetsToTxn", (self.transactional_id, p.producer_id, p.producer_epoch, gid), added)

    def _txn_offset_commit(
        self,
        gid: str,
        req: dict[str, Any],
        op: _Operation,
        fail: Callable[[str, str], None],
        attempt: int = 0,
    ) -> None:
        p = self.producer

        def again(_e: str = "") -> None:
            p.schedule(
                p.retry_backoff_ms,
                "txn-retry",
                lambda: self._txn_offset_commit(gid, req, op, fail, attempt + 1),
            )

        def committed(r: dict[str, Any]) -> None:
            err = r["error"]
            if err == "NO_ERROR":
                op.finish()
            elif is_retriable(err) or err in _TRANSPORT_RETRY:
                again()
            elif err in _GROUP_FENCED:
                fail(err, f"TxnOffsetCommit failed: {err} (the consumer is no longer a member of the group)")
            else:
                fail(err, f"TxnOffsetCommit failed: {err}")

        def found(resp: Any) -> None:
            e, coord = resp
            if e != "NO_ERROR":
                again()
                return
            cnode = p.broker_node(f"broker-{coord}")
            p.call(
                cnode.name,
                "TxnOffsetCommit",
                lambda r: cnode.handle_group("TxnOffsetCommit", req, r),
                committed,
                again,
                p.request_timeout_ms,
            )

        brokers = p.cluster.bootstrap_names()
        name = brokers[(attempt + p.kernel.rng.randrange(len(brokers))) % len(brokers)]
        node = p.broker_node(name)
        p.call(
            name,
            "FindCoordinator",
            lambda r: node.handle_find_coordinator(gid, r, 0),
            found,
            again,
            p.request_timeout_ms,
        )

    # -- requests to the transaction coordinator ---------------------------------------------------------
    def call(self, op: str, args: tuple[Any, ...], done: Callable[[Any], None], attempt: int = 0) -> None:
        """Send ``op`` to the transaction coordinator (found first); retried until a definite answer."""
        p = self.producer
        tid = self.transactional_id

        def retry(_e: str = "", find: bool = True) -> None:
            if find:
                self.coordinator = None
            if not p.closed:  # a closed producer stops asking (as close() does in Kafka's clients)
                p.schedule(p.retry_backoff_ms, "txn-retry", lambda: self.call(op, args, done, attempt + 1))

        if self.coordinator is None:
            brokers = p.cluster.bootstrap_names()
            name = brokers[(attempt + p.kernel.rng.randrange(len(brokers))) % len(brokers)]
            node = p.broker_node(name)

            def found(resp: Any) -> None:
                err, coord = resp
                if err != "NO_ERROR":
                    retry()
                    return
                self.coordinator = coord
                self.call(op, args, done, attempt + 1)

            p.call(
                name,
                "FindCoordinator",
                lambda r: node.handle_find_coordinator(tid, r, 1),
                found,
                retry,
                p.request_timeout_ms,
                detail=f"transaction {tid}",
            )
            return
        node = p.broker_node(f"broker-{self.coordinator}")

        def answered(resp: Any) -> None:
            err = resp[0] if isinstance(resp, tuple) else resp
            if err in _COORDINATOR_RETRY:
                retry()
            elif err == "CONCURRENT_TRANSACTIONS":
                retry(find=False)
            else:
                done(resp)

        p.call(
            node.name,
            op,
            lambda r: node.handle_txn(op, args, r),
            answered,
            retry,
            p.request_timeout_ms,
            detail=tid,
        )
