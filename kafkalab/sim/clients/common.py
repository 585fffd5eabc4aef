"""What every client shares: confluent_kafka-shaped value types and the metadata-refreshing client node."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError, KafkaException
from ..metadata import NO_LEADER, PartitionRecord, TopicRecord
from ..network import Endpoint

if TYPE_CHECKING:
    from ..cluster import Cluster

from ..broker import Broker

__all__ = [
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "OFFSET_INVALID",
    "OFFSET_STORED",
    "ClientNode",
    "Message",
    "TopicPartition",
    "config_bool",
]

# confluent_kafka's logical offsets
OFFSET_BEGINNING = -2
OFFSET_END = -1
OFFSET_STORED = -1000
OFFSET_INVALID = -1001

TIMESTAMP_NOT_AVAILABLE = 0
TIMESTAMP_CREATE_TIME = 1


def config_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    raise KafkaException(KafkaError("_INVALID_ARG", f"expected true or false, got {value!r}"))


def to_bytes(v: str | bytes | None) -> bytes | None:
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    raise TypeError(f"expected str or bytes, got {type(v).__name__}")


class TopicPartition:
    """Like ``confluent_kafka.TopicPartition``: topic, partition, offset (and error, leader_epoch)."""

    __slots__ = ("topic", "partition", "offset", "error", "leader_epoch", "metadata")

    def __init__(
        self,
        topic: str,
        partition: int = -1,
        offset: int = OFFSET_INVALID,
        metadata: str | None = None,
        leader_epoch: int | None = None,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
        self.leader_epoch = leader_epoch
        self.error: KafkaError | None = None

    def __repr__(self) -> str:
        return f"TopicPartition{{topic={self.topic},partition={self.partition},offset={self.offset},error={self.error}}}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TopicPartition):
            return NotImplemented
        return (self.topic, self.partition) == (other.topic, other.partition)

    def __hash__(self) -> int:
        return hash((self.topic, self.partition))

    def __lt__(self, other: TopicPartition) -> bool:
        return (self.topic, self.partition) < (other.topic, other.partition)


class Message:
    """Like ``confluent_kafka.Message``: accessor methods, not attributes."""

    __slots__ = (
        "_topic",
        "_partition",
        "_offset",
        "_key",
        "_value",
        "_headers",
        "_timestamp",
        "_error",
        "_leader_epoch",
    )

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes | None]] | None = None,
        timestamp_ms: int = -1,
        error: KafkaError | None = None,
        leader_epoch: int | None = None,
    ) -> None:
        self._topic = topic
        self._partition = partition
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._timestamp = timestamp_ms
        self._error = error
        self._leader_epoch = leader_epoch

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        if self._timestamp < 0:
            return (TIMESTAMP_NOT_AVAILABLE, -1)
        return (TIMESTAMP_CREATE_TIME, self._timestamp)

    def error(self) -> KafkaError | None:
        return self._error

    def leader_epoch(self) -> int | None:
        return self._leader_epoch

    def __len__(self) -> int:
        return len(self._value) if self._value is not None else 0

    def __repr__(self) -> str:
        if self._error is not None:
            return f"<Message error={self._error.name()}>"
        return f"<Message {self._topic}-{self._partition}@{self._offset} key={self._key!r} value={self._value!r}>"


class ClientNode(Endpoint):
    """A client process: knows the bootstrap brokers and keeps a metadata cache it refreshes on demand."""

    def __init__(self, cluster: Cluster, name: str, config: dict[str, Any]) -> None:
        super().__init__(cluster.kernel, cluster.net, name)
        self.cluster = cluster
        self.config = dict(config)
        self.request_timeout_ms = int(self.config.get("request.timeout.ms", 30000))
        self.retry_backoff_ms = int(self.config.get("retry.backoff.ms", 100))
        self.topics: dict[str, TopicRecord] = {}
        self.partitions: dict[tuple[str, int], PartitionRecord] = {}
        self.live_brokers: list[int] = []
        self._md_waiters: list[Callable[[], object]] = []
        self._md_in_flight = False
        self._md_rr = 0
        self.last_error: KafkaError | None = None
        self.closed = False

    # -- peers -----------------------------------------------------------------------------------------
    def broker_node(self, name: str) -> Broker:
        node = self.net.nodes[name]
        assert isinstance(node, Broker), f"{name} is not a broker"
        return node

    def find_broker(self, name: str) -> Broker | None:
        node = self.net.nodes.get(name)
        return node if isinstance(node, Broker) else None

    # -- metadata -----------------------------------------------------------------------------------
    def leader_of(self, topic: str, partition: int) -> int:
        st = self.partitions.get((topic, partition))
        return st.leader if st is not None else NO_LEADER

    def leader_epoch_of(self, topic: str, partition: int) -> int:
        st = self.partitions.get((topic, partition))
        return st.leader_epoch if st is not None else -1

    def refresh_metadata(self, then: Callable[[], object] | None = None) -> None:
        if then is not None:
            self._md_waiters.append(then)
        if self._md_in_flight:
            return
        self._md_in_flight = True
        self._md_try(0)

    def _md_try(self, attempt: int) -> None:
        brokers = self.cluster.bootstrap_names()
        if not brokers:
            self._md_done()
            return
        self._md_rr += 1
        name = brokers[self._md_rr % len(brokers)]
        node = self.broker_node(name)

        def ok(resp: Any) -> None:
            topics, partitions, live, _controller = resp
            self.topics = topics
            self.partitions = partitions
            self.live_brokers = live
            self._md_done()

        def err(_e: str) -> None:
            if attempt + 1 < len(brokers):
                self._md_try(attempt + 1)
            else:
                self.schedule(self.retry_backoff_ms, "metadata-retry", lambda: self._md_try(0))

        self.call(
            name,
            "Metadata",
            lambda respond: node.handle_metadata(respond),
            ok,
            err,
            min(self.request_timeout_ms, 5000),
            detail=self.name,
        )

    def _md_done(self) -> None:
        self._md_in_flight = False
        waiters, self._md_waiters = self._md_waiters, []
        for w in waiters:
            w()

    # -- driving the simulation from a blocking call ------------------------------------------------
    def wait_until(self, predicate: Callable[[], bool], timeout_s: float | None) -> bool:
        """Run the simulation until ``predicate()`` or the virtual timeout passes (None: up to 10 min)."""
        if self.kernel.running:
            return predicate()
        timeout_ms = 600_000 if timeout_s is None or timeout_s < 0 else int(timeout_s * 1000)
        return self.cluster.run_until(predicate, timeout_ms)
