"""What every client shares: confluent_kafka-shaped value types and the metadata-refreshing client node."""

from __future__ import annotations

import functools
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

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


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
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


@mypyc_attr(native_class=False)
class Message(tuple):  # type: ignore[type-arg]
    """Like ``confluent_kafka.Message``: accessor methods, not attributes.

    A tuple underneath so the consumer can make millions of them cheaply (``tuple.__new__`` is C code):
    (topic, partition, offset, key, value, headers, timestamp_ms, error, leader_epoch).
    """

    __slots__ = ()

    def __new__(
        cls,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes | None]] | None = None,
        timestamp_ms: int = -1,
        error: KafkaError | None = None,
        leader_epoch: int | None = None,
    ) -> Message:
        return tuple.__new__(
            cls, (topic, partition, offset, key, value, headers, timestamp_ms, error, leader_epoch)
        )

    _topic: str = property(itemgetter(0))  # type: ignore[assignment]
    _partition: int = property(itemgetter(1))  # type: ignore[assignment]
    _offset: int = property(itemgetter(2))  # type: ignore[assignment]
    _key: bytes | None = property(itemgetter(3))  # type: ignore[assignment]
    _value: bytes | None = property(itemgetter(4))  # type: ignore[assignment]
    _headers: list[tuple[str, bytes | None]] | None = property(itemgetter(5))  # type: ignore[assignment]
    _timestamp: int = property(itemgetter(6))  # type: ignore[assignment]
    _error: KafkaError | None = property(itemgetter(7))  # type: ignore[assignment]
    _leader_epoch: int | None = property(itemgetter(8))  # type: ignore[assignment]

    def topic(self) -> str:
        return self[0]  # type: ignore[no-any-return]

    def partition(self) -> int:
        return self[1]  # type: ignore[no-any-return]

    def offset(self) -> int:
        return self[2]  # type: ignore[no-any-return]

    def key(self) -> bytes | None:
        return self[3]  # type: ignore[no-any-return]

    def value(self) -> bytes | None:
        return self[4]  # type: ignore[no-any-return]

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self[5]  # type: ignore[no-any-return]

    def timestamp(self) -> tuple[int, int]:
        ts: int = self[6]
        if ts < 0:
            return (TIMESTAMP_NOT_AVAILABLE, -1)
        return (TIMESTAMP_CREATE_TIME, ts)

    def error(self) -> KafkaError | None:
        return self[7]  # type: ignore[no-any-return]

    def leader_epoch(self) -> int | None:
        return self[8]  # type: ignore[no-any-return]

    def __len__(self) -> int:
        value = self[4]
        return len(value) if value is not None else 0

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        if self[7] is not None:
            return f"<Message error={self[7].name()}>"
        return f"<Message {self[0]}-{self[1]}@{self[2]} key={self[3]!r} value={self[4]!r}>"

    def __str__(self) -> str:
        return self.__repr__()


#: make a Message from a 9-tuple without a Python-level call (the consumer's hot path)
new_message = tuple.__new__


def _ask_metadata(node: Broker, topics: list[str], auto_create: bool, respond: Callable[[Any], None]) -> None:
    node.handle_metadata(respond, topics, auto_create)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
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
        #: topics named in metadata requests (besides "all topics"): a missing one keeps metadata refreshing
        #: quickly, and with ``allow_auto_create_topics`` the broker may create it (auto.create.topics.enable)
        self.metadata_topics: set[str] = set()
        self.allow_auto_create_topics = False
        #: refresh metadata at least this often (Java ``metadata.max.age.ms``, librdkafka
        #: ``topic.metadata.refresh.interval.ms``): how a client learns of new partitions
        self.metadata_max_age_ms = int(
            self.config.get(
                "metadata.max.age.ms", self.config.get("topic.metadata.refresh.interval.ms", 300000)
            )
        )
        self._md_age_timer: Any = None
        self._md_missing_backoff_ms = 0
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
        # bound methods and partials, not closures: a time-travel checkpoint pickles what a call keeps
        wanted = sorted(self.metadata_topics)
        auto = self.allow_auto_create_topics
        self.call(
            name,
            "Metadata",
            functools.partial(_ask_metadata, node, wanted, auto),
            functools.partial(self._md_answer, attempt, brokers),
            functools.partial(self._md_error, attempt, brokers),
            min(self.request_timeout_ms, 5000),
            detail=self.name,
        )

    def _md_answer(self, attempt: int, brokers: list[str], resp: Any) -> None:
        if resp is None:  # the broker has not caught up with the metadata log yet: ask another one
            self._md_error(attempt, brokers, "NOT_READY")
            return
        topics, partitions, live, _controller = resp
        self.merge_metadata(topics, partitions, live)
        self._md_done()
        self._after_metadata()

    def _md_error(self, attempt: int, brokers: list[str], _e: str) -> None:
        if attempt + 1 < len(brokers):
            self._md_try(attempt + 1)
        else:
            self.schedule(self.retry_backoff_ms, "metadata-retry", functools.partial(self._md_try, 0))

    def _after_metadata(self) -> None:
        """Schedule the next refresh: soon while a wanted topic is missing, else after the max age."""
        if self.closed or not self.alive:
            return
        if self._md_age_timer is not None:
            self._md_age_timer.cancel()
        missing = any(t not in self.topics for t in self.metadata_topics)
        if missing:  # retry.backoff.ms, doubling up to retry.backoff.max.ms (1 s)
            self._md_missing_backoff_ms = min(
                1000, max(self.retry_backoff_ms, 2 * self._md_missing_backoff_ms)
            )
            delay = self._md_missing_backoff_ms
        else:
            self._md_missing_backoff_ms = 0
            delay = self.metadata_max_age_ms
        self._md_age_timer = self.schedule(delay, "metadata-refresh", self._md_age_refresh)
        self.on_metadata_update()

    def _md_age_refresh(self) -> None:
        self._md_age_timer = None
        if not self.closed:
            self.refresh_metadata()

    def on_metadata_update(self) -> None:
        """Called after every metadata response (clients override it)."""

    def merge_metadata(
        self,
        topics: dict[str, TopicRecord],
        partitions: dict[tuple[str, int], PartitionRecord],
        live: list[int],
    ) -> None:
        """Take a Metadata answer, except partition states older than the ones already known (KIP-320).

        A broker that has not heard of a leader change yet (one cut off from the controller) answers with an
        older leader epoch; a client that went back to it would fetch from a zombie leader, whose shorter
        log says OFFSET_OUT_OF_RANGE, and reset a valid position. A re-created topic (new topic id) starts
        its epochs again and is taken as it is."""
        merged = dict(partitions)
        for key, st in partitions.items():
            prev = self.partitions.get(key)
            old_topic, new_topic = self.topics.get(key[0]), topics.get(key[0])
            if (
                prev is not None
                and prev.leader_epoch > st.leader_epoch
                and old_topic is not None
                and new_topic is not None
                and old_topic.topic_id == new_topic.topic_id
            ):
                merged[key] = prev
        self.topics = topics
        self.partitions = merged
        self.live_brokers = live

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
