"""Kafka error codes and the confluent_kafka-shaped ``KafkaError`` / ``KafkaException``.

Codes and names are Kafka's protocol error codes (``org.apache.kafka.common.protocol.Errors``);
negative codes are librdkafka's local errors as exposed by confluent_kafka (``_MSG_TIMED_OUT`` ...).
"""

from __future__ import annotations

import builtins
from typing import ClassVar

from mypy_extensions import mypyc_attr

# name -> (code, retriable)
_ERRORS: dict[str, tuple[int, bool]] = {
    "NO_ERROR": (0, False),
    "UNKNOWN_SERVER_ERROR": (-1, False),
    "OFFSET_OUT_OF_RANGE": (1, False),
    "CORRUPT_MESSAGE": (2, True),
    "UNKNOWN_TOPIC_OR_PART": (3, True),
    "LEADER_NOT_AVAILABLE": (5, True),
    "NOT_LEADER_OR_FOLLOWER": (6, True),
    "REQUEST_TIMED_OUT": (7, True),
    "BROKER_NOT_AVAILABLE": (8, False),
    "REPLICA_NOT_AVAILABLE": (9, True),
    "MSG_SIZE_TOO_LARGE": (10, False),
    "NETWORK_EXCEPTION": (13, True),
    "COORDINATOR_LOAD_IN_PROGRESS": (14, True),
    "COORDINATOR_NOT_AVAILABLE": (15, True),
    "NOT_COORDINATOR": (16, True),
    "INVALID_TOPIC_EXCEPTION": (17, False),
    "RECORD_LIST_TOO_LARGE": (18, False),
    "NOT_ENOUGH_REPLICAS": (19, True),
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND": (20, True),
    "INVALID_REQUIRED_ACKS": (21, False),
    "ILLEGAL_GENERATION": (22, False),
    "INCONSISTENT_GROUP_PROTOCOL": (23, False),
    "INVALID_GROUP_ID": (24, False),
    "UNKNOWN_MEMBER_ID": (25, False),
    "INVALID_SESSION_TIMEOUT": (26, False),
    "REBALANCE_IN_PROGRESS": (27, False),
    "INVALID_COMMIT_OFFSET_SIZE": (28, False),
    "TOPIC_AUTHORIZATION_FAILED": (29, False),
    "INVALID_TIMESTAMP": (32, False),
    "INVALID_CONFIG": (40, False),
    "TOPIC_ALREADY_EXISTS": (36, False),
    "INVALID_PARTITIONS": (37, False),
    "INVALID_REPLICATION_FACTOR": (38, False),
    "INVALID_REPLICA_ASSIGNMENT": (39, False),
    "NOT_CONTROLLER": (41, True),
    "INVALID_REQUEST": (42, False),
    "OUT_OF_ORDER_SEQUENCE_NUMBER": (45, False),
    "DUPLICATE_SEQUENCE_NUMBER": (46, False),
    "INVALID_PRODUCER_EPOCH": (47, False),
    "INVALID_TXN_STATE": (48, False),
    "INVALID_PRODUCER_ID_MAPPING": (49, False),
    "INVALID_TRANSACTION_TIMEOUT": (50, False),
    "CONCURRENT_TRANSACTIONS": (51, True),
    "TRANSACTION_COORDINATOR_FENCED": (52, False),
    "GROUP_ID_NOT_FOUND": (69, False),
    "NON_EMPTY_GROUP": (68, False),
    "FENCED_LEADER_EPOCH": (74, True),
    "UNKNOWN_LEADER_EPOCH": (75, True),
    "OFFSET_NOT_AVAILABLE": (78, True),
    "MEMBER_ID_REQUIRED": (79, False),
    "PREFERRED_LEADER_NOT_AVAILABLE": (80, True),
    "GROUP_MAX_SIZE_REACHED": (81, False),
    "FENCED_INSTANCE_ID": (82, False),
    "ELIGIBLE_LEADERS_NOT_AVAILABLE": (83, True),
    "UNSTABLE_OFFSET_COMMIT": (88, True),
    "UNKNOWN_PRODUCER_ID": (59, False),
    "PRODUCER_FENCED": (90, False),
    "INVALID_RECORD": (87, False),
    "UNKNOWN_TOPIC_ID": (100, True),
    "FENCED_MEMBER_EPOCH": (110, False),
    "POLICY_VIOLATION": (44, False),
    "ELECTION_NOT_NEEDED": (84, False),
    "NO_REASSIGNMENT_IN_PROGRESS": (85, False),
    "GROUP_SUBSCRIBED_TO_TOPIC": (86, False),
    "TRANSACTIONAL_ID_NOT_FOUND": (105, False),
    # librdkafka local errors (negative), as confluent_kafka names them
    "_MSG_TIMED_OUT": (-192, False),
    "_TIMED_OUT": (-185, True),
    "_TRANSPORT": (-195, True),
    "_ALL_BROKERS_DOWN": (-187, True),
    "_UNKNOWN_PARTITION": (-190, False),
    "_UNKNOWN_TOPIC": (-188, False),
    "_PARTITION_EOF": (-191, False),
    "_STATE": (-172, False),
    "_FENCED": (-144, False),
    "_NO_OFFSET": (-168, False),
    "_ASSIGN_PARTITIONS": (-175, False),
    "_REVOKE_PARTITIONS": (-174, False),
    "_INVALID_ARG": (-186, False),
    "_DESTROY": (-197, False),
    "_PURGE_QUEUE": (-152, False),
    "_CONFLICT": (-149, False),
}

_BY_CODE: dict[int, str] = {code: name for name, (code, _r) in _ERRORS.items()}

#: librdkafka's texts for its local errors (``rd_kafka_err2str``), the default reason of such a KafkaError
_LOCAL_REASONS: dict[str, str] = {
    "_MSG_TIMED_OUT": "Local: Message timed out",
    "_TIMED_OUT": "Local: Timed out",
    "_TRANSPORT": "Local: Broker transport failure",
    "_ALL_BROKERS_DOWN": "Local: All broker connections are down",
    "_UNKNOWN_PARTITION": "Local: Unknown partition",
    "_UNKNOWN_TOPIC": "Local: Unknown topic",
    "_PARTITION_EOF": "Broker: No more messages",
    "_STATE": "Local: Erroneous state",
    "_FENCED": "Local: This instance has been fenced by a newer instance",
    "_NO_OFFSET": "Local: No offset stored",
    "_ASSIGN_PARTITIONS": "Local: Assign partitions",
    "_REVOKE_PARTITIONS": "Local: Revoke partitions",
    "_INVALID_ARG": "Local: Invalid argument or configuration",
    "_DESTROY": "Local: Broker handle destroyed",
    "_PURGE_QUEUE": "Local: Purged in queue",
    "_CONFLICT": "Local: Conflicting use",
}


@mypyc_attr(native_class=False)
class KafkaError:
    """An error, shaped like ``confluent_kafka.KafkaError``: ``code()``, ``name()``, ``str()``."""

    # KafkaError.NOT_ENOUGH_REPLICAS == 19, like confluent_kafka's class attributes
    NO_ERROR: ClassVar[int]

    def __init__(
        self,
        error: int | builtins.str,
        reason: builtins.str | None = None,
        *,
        fatal: bool = False,
        retriable: bool | None = None,
        txn_requires_abort: bool = False,
    ) -> None:
        """``retriable`` defaults to what Kafka says of the error code; a transactional producer marks the
        errors after which only ``abort_transaction()`` helps with ``txn_requires_abort`` (as librdkafka)."""
        if isinstance(error, str):
            name = error
            if name not in _ERRORS:
                raise ValueError(f"unknown Kafka error name {name!r}")
            code = _ERRORS[name][0]
        else:
            code = error
            name = _BY_CODE.get(code, f"ERROR_{code}")
        self._code = code
        self._name = name
        self._reason = reason or _LOCAL_REASONS.get(name) or name.lstrip("_").replace("_", " ").capitalize()
        self._fatal = fatal
        self._retriable = _ERRORS.get(name, (0, False))[1] if retriable is None else retriable
        self._txn_requires_abort = txn_requires_abort

    def code(self) -> int:
        return self._code

    def name(self) -> builtins.str:
        return self._name

    def str(self) -> str:  # noqa: A003 - confluent_kafka's name
        return self._reason

    def retriable(self) -> bool:
        return self._retriable

    def fatal(self) -> bool:
        return self._fatal

    def txn_requires_abort(self) -> bool:
        """A transactional producer's error after which the transaction can only be aborted."""
        return self._txn_requires_abort

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KafkaError):
            return self._code == other._code
        if isinstance(other, int):
            return self._code == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._code)

    def __repr__(self) -> builtins.str:
        return f'KafkaError{{code={self._name},val={self._code},str="{self._reason}"}}'

    def __str__(self) -> builtins.str:
        return self.__repr__()


for _name, (_code, _r) in _ERRORS.items():
    setattr(KafkaError, _name, _code)


def error_code(name: str) -> int:
    return _ERRORS[name][0]


def is_retriable(name: str) -> bool:
    return _ERRORS.get(name, (0, False))[1]


class KafkaException(Exception):
    """Raised by client calls; ``args[0]`` is the :class:`KafkaError` (as in confluent_kafka)."""

    def __init__(self, error: KafkaError | str, reason: str | None = None) -> None:
        err = error if isinstance(error, KafkaError) else KafkaError(error, reason)
        super().__init__(err)

    @property
    def error(self) -> KafkaError:
        err = self.args[0]
        assert isinstance(err, KafkaError)
        return err
