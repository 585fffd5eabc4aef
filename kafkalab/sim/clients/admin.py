"""AdminClient shaped like ``confluent_kafka.admin``: create/delete/describe topics, topic configs, and the
consumer-group calls (list, describe, list and alter committed offsets)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError, KafkaException
from .common import OFFSET_INVALID, ClientNode, TopicPartition

if TYPE_CHECKING:
    from ..broker import Broker
    from ..cluster import Cluster

__all__ = [
    "AdminClient",
    "BrokerMetadata",
    "ClusterMetadata",
    "ConfigResource",
    "ConsumerGroupDescription",
    "ConsumerGroupListing",
    "ConsumerGroupTopicPartitions",
    "ListConsumerGroupsResult",
    "MemberAssignment",
    "MemberDescription",
    "Future",
    "NewPartitions",
    "NewTopic",
    "PartitionMetadata",
    "TopicMetadata",
]


class Future:
    """A result that the simulation fills in; ``result()`` runs the simulation until it is there."""

    def __init__(self, client: ClientNode) -> None:
        self._client = client
        self._done = False
        self._value: Any = None
        self._error: KafkaError | None = None

    def done(self) -> bool:
        return self._done

    def set_result(self, value: Any) -> None:
        self._done, self._value = True, value

    def set_error(self, err: KafkaError) -> None:
        self._done, self._error = True, err

    def result(self, timeout: float | None = None) -> Any:
        self._client.wait_until(self.done, 60.0 if timeout is None else timeout)
        if not self._done:
            raise KafkaException(KafkaError("_TIMED_OUT", "the operation did not complete in time"))
        if self._error is not None:
            raise KafkaException(self._error)
        return self._value

    def exception(self, timeout: float | None = None) -> KafkaException | None:
        try:
            self.result(timeout)
        except KafkaException as e:
            return e
        return None


@dataclass
class NewTopic:
    topic: str
    num_partitions: int = -1
    replication_factor: int = -1
    replica_assignment: list[list[int]] | None = None
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class NewPartitions:
    """``confluent_kafka.admin.NewPartitions``: grow ``topic`` to ``new_total_count`` partitions."""

    topic: str
    new_total_count: int


@dataclass
class PartitionMetadata:
    id: int
    leader: int
    replicas: list[int]
    isrs: list[int]
    leader_epoch: int = -1
    error: KafkaError | None = None


@dataclass
class TopicMetadata:
    topic: str
    partitions: dict[int, PartitionMetadata]
    error: KafkaError | None = None
    topic_id: str = ""


@dataclass
class BrokerMetadata:
    id: int
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.id}"


@dataclass
class ClusterMetadata:
    cluster_id: str
    controller_id: int
    brokers: dict[int, BrokerMetadata]
    topics: dict[str, TopicMetadata]
    orig_broker_id: int = -1
    orig_broker_name: str = ""


class ConfigResource:
    """A topic whose configs to alter: ``ConfigResource("topic", "events", set_config={...})``."""

    def __init__(self, restype: str | int, name: str, set_config: dict[str, str] | None = None) -> None:
        rt = str(restype).lower().rsplit(".", 1)[-1]
        if rt not in ("topic", "2"):
            raise KafkaException(
                KafkaError("_INVALID_ARG", f"only topic configs are supported, not {restype}")
            )
        self.restype = "topic"
        self.name = name
        self.set_config_dict: dict[str, str | None] = dict(set_config or {})

    def set_config(self, name: str, value: str) -> None:
        self.set_config_dict[name] = str(value)

    def delete_config(self, name: str) -> None:
        self.set_config_dict[name] = None

    def __repr__(self) -> str:
        return f"ConfigResource(topic,{self.name})"


@dataclass
class ConsumerGroupTopicPartitions:
    """A group and some of its partitions (with offsets when they are the answer)."""

    group_id: str
    topic_partitions: list[TopicPartition] | None = None


@dataclass
class MemberAssignment:
    topic_partitions: list[TopicPartition] = field(default_factory=list)


@dataclass
class MemberDescription:
    member_id: str
    client_id: str
    host: str
    assignment: MemberAssignment
    group_instance_id: str | None = None


@dataclass
class ConsumerGroupDescription:
    """``describe_consumer_groups`` answer; ``state`` is Kafka's name (``Stable``, ``Empty``, ...)."""

    group_id: str
    is_simple_consumer_group: bool
    members: list[MemberDescription]
    partition_assignor: str
    state: str
    coordinator: BrokerMetadata | None


@dataclass
class ConsumerGroupListing:
    group_id: str
    is_simple_consumer_group: bool
    state: str


@dataclass
class ListConsumerGroupsResult:
    valid: list[ConsumerGroupListing] = field(default_factory=list)
    errors: list[KafkaError] = field(default_factory=list)


class AdminClient(ClientNode):
    def __init__(
        self, cluster: Cluster, config: dict[str, Any] | None = None, name: str | None = None
    ) -> None:
        super().__init__(cluster, name or cluster.next_client_name("adminclient"), dict(config or {}))

    def _admin_call(
        self,
        op: str,
        args: tuple[Any, ...],
        fut: Future,
        on_ok: Callable[[Any], Any] | None = None,
        attempt: int = 0,
    ) -> None:
        brokers = self.cluster.bootstrap_names()
        if not brokers:
            fut.set_error(KafkaError("_ALL_BROKERS_DOWN", "no broker to send the request to"))
            return
        name = brokers[attempt % len(brokers)]
        node = self.broker_node(name)

        def ok(resp: Any) -> None:
            err, detail = resp[0], resp[1] if len(resp) > 1 else None
            if err == "NO_ERROR":
                fut.set_result(on_ok(detail) if on_ok else None)
            elif err == "NOT_CONTROLLER" and attempt < 20:
                self.schedule(
                    self.retry_backoff_ms * 5,
                    "admin-retry",
                    lambda: self._admin_call(op, args, fut, on_ok, attempt + 1),
                )
            else:
                fut.set_error(KafkaError(err, detail if isinstance(detail, str) else None))

        def fail(err: str) -> None:
            if attempt + 1 < 3 * len(brokers):
                self.schedule(
                    self.retry_backoff_ms,
                    "admin-retry",
                    lambda: self._admin_call(op, args, fut, on_ok, attempt + 1),
                )
            else:
                fut.set_error(KafkaError(err))

        self.call(
            name,
            op,
            lambda r: node.handle_admin(op, args, r),
            ok,
            fail,
            self.request_timeout_ms,
            detail=str(args[0]) if args else op,
        )

    def create_topics(
        self,
        new_topics: Iterable[NewTopic],
        operation_timeout: float = 0,
        request_timeout: float = 0,
        validate_only: bool = False,
    ) -> dict[str, Future]:
        out: dict[str, Future] = {}
        for nt in new_topics:
            fut = Future(self)
            out[nt.topic] = fut
            n = (
                nt.num_partitions
                if nt.num_partitions > 0
                else int(self.cluster.broker_config("num.partitions"))
            )
            rf = (
                nt.replication_factor
                if nt.replication_factor > 0
                else int(self.cluster.broker_config("default.replication.factor"))
            )
            assignment = [tuple(r) for r in nt.replica_assignment] if nt.replica_assignment else None
            if assignment:
                n, rf = len(assignment), len(assignment[0])
            cfg = {str(k): str(v) for k, v in (nt.config or {}).items()}
            self._admin_call("create_topic", (nt.topic, n, rf, cfg, assignment), fut)
        return out

    def delete_topics(
        self, topics: Iterable[str], operation_timeout: float = 0, request_timeout: float = 0
    ) -> dict[str, Future]:
        out: dict[str, Future] = {}
        for t in topics:
            fut = Future(self)
            out[t] = fut
            self._admin_call("delete_topic", (t,), fut)
        return out

    def create_partitions(
        self,
        new_partitions: Iterable[NewPartitions],
        operation_timeout: float = 0,
        request_timeout: float = 0,
    ) -> dict[str, Future]:
        out: dict[str, Future] = {}
        for np in new_partitions:
            fut = Future(self)
            out[np.topic] = fut
            self._admin_call("create_partitions", (np.topic, int(np.new_total_count)), fut)
        return out

    def _leader_call(
        self,
        tp: tuple[str, int],
        op: str,
        send: Callable[[Any, Callable[[Any], None]], None],
        fut: Future,
        attempt: int = 0,
    ) -> None:
        """Send a request to the partition's leader (after a metadata refresh), retrying while it moves."""

        def go() -> None:
            leader = self.leader_of(*tp)
            node = self.find_broker(f"broker-{leader}") if leader >= 0 else None
            if tp[0] not in self.topics or tp not in self.partitions:
                fut.set_error(
                    KafkaError("UNKNOWN_TOPIC_OR_PART", "This server does not host this topic-partition.")
                )
                return
            if node is None:
                retry("LEADER_NOT_AVAILABLE")
                return
            self.call(
                node.name,
                op,
                lambda r: send(node, r),
                done,
                retry,
                self.request_timeout_ms,
                detail=f"{tp[0]}-{tp[1]}",
            )

        def done(resp: Any) -> None:
            if resp[0] == "NO_ERROR":
                fut.set_result(resp[1])
            elif resp[0] in ("NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE"):
                retry(resp[0])
            else:
                fut.set_error(KafkaError(resp[0]))

        def retry(err: str) -> None:
            if attempt >= 10:
                fut.set_error(KafkaError(err if err != "_TRANSPORT" else "LEADER_NOT_AVAILABLE"))
                return
            self.schedule(
                self.retry_backoff_ms,
                "admin-retry",
                lambda: self._leader_call(tp, op, send, fut, attempt + 1),
            )

        self.refresh_metadata(go)

    def elect_leaders(self, election_type: str, partitions: list[tuple[str, int]] | None) -> Future:
        """ElectLeaders: the future gives {(topic, partition): error name} ("NO_ERROR" when elected)."""
        fut = Future(self)
        self._admin_call("elect_leaders", (election_type.upper(), partitions), fut, lambda r: dict(r))
        return fut

    def alter_partition_reassignments(self, targets: dict[tuple[str, int], list[int] | None]) -> Future:
        """AlterPartitionReassignments: target replicas per partition (None cancels); the future gives
        {(topic, partition): (error name, message)}."""
        fut = Future(self)
        args = {tp: (tuple(r) if r is not None else None) for tp, r in targets.items()}
        self._admin_call("alter_reassignments", (args,), fut, lambda r: dict(r))
        return fut

    def list_partition_reassignments(self) -> Future:
        """ListPartitionReassignments: {(topic, partition): (replicas, adding, removing)}."""
        fut = Future(self)
        self._admin_call("list_reassignments", (), fut, lambda r: dict(r))
        return fut

    def alter_broker_configs(self, broker: str, changes: dict[str, str | None]) -> Future:
        """IncrementalAlterConfigs of a broker (``broker`` an id, "" for the cluster-wide default)."""
        fut = Future(self)
        self._admin_call("alter_broker_configs", (broker, changes), fut)
        return fut

    def list_offsets(
        self, requests: dict[tuple[str, int], int], isolation_level: int = 0
    ) -> dict[tuple[str, int], Future]:
        """ListOffsets per partition: -2 earliest, -1 latest, -3 max timestamp, or a timestamp (ms);
        each future gives the offset (-1 when no record qualifies)."""
        out: dict[tuple[str, int], Future] = {}
        for tp, ts in requests.items():
            fut = Future(self)
            out[tp] = fut
            self._leader_call(tp, "ListOffsets", _list_offsets_sender(tp, ts, isolation_level), fut)
        return out

    def delete_records(self, offsets: dict[tuple[str, int], int]) -> dict[tuple[str, int], Future]:
        """DeleteRecords: each future gives the partition's new low watermark (its log start offset)."""
        out: dict[tuple[str, int], Future] = {}
        for tp, offset in offsets.items():
            fut = Future(self)
            out[tp] = fut
            self._leader_call(tp, "DeleteRecords", _delete_records_sender(tp, offset), fut)
        return out

    def alter_configs(self, resources: Iterable[ConfigResource]) -> dict[ConfigResource, Future]:
        """Like confluent's incremental_alter_configs for topics: set (or delete with None) given keys."""
        out: dict[ConfigResource, Future] = {}
        for res in resources:
            fut = Future(self)
            out[res] = fut
            self._admin_call("alter_configs", (res.name, dict(res.set_config_dict)), fut)
        return out

    def incremental_alter_configs(self, resources: Iterable[ConfigResource]) -> dict[ConfigResource, Future]:
        return self.alter_configs(resources)

    def describe_configs(self, resources: Iterable[ConfigResource]) -> dict[ConfigResource, Future]:
        out: dict[ConfigResource, Future] = {}
        for res in resources:
            fut = Future(self)
            out[res] = fut

            def done(res: ConfigResource = res, fut: Future = fut) -> None:
                t = self.topics.get(res.name)
                if t is None:
                    fut.set_error(KafkaError("UNKNOWN_TOPIC_OR_PART", f"Topic '{res.name}' does not exist."))
                else:
                    fut.set_result(self.cluster.topic_configs(res.name))

            self.refresh_metadata(done)
        return out

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        got: list[bool] = []
        self.refresh_metadata(lambda: got.append(True))
        self.wait_until(lambda: bool(got), 10.0 if timeout is None or timeout < 0 else timeout)
        if not got:
            raise KafkaException(KafkaError("_TIMED_OUT", "Failed to get metadata: Local: Timed out"))
        topics: dict[str, TopicMetadata] = {}
        for name, t in sorted(self.topics.items()):
            if topic is not None and name != topic:
                continue
            parts = {}
            for i in range(t.partitions):
                st = self.partitions.get((name, i))
                if st is None:
                    continue
                parts[i] = PartitionMetadata(
                    i,
                    st.leader,
                    list(st.replicas),
                    list(st.isr),
                    st.leader_epoch,
                    KafkaError("LEADER_NOT_AVAILABLE") if st.leader < 0 else None,
                )
            topics[name] = TopicMetadata(name, parts, topic_id=t.topic_id)
        if topic is not None and topic not in topics:
            topics[topic] = TopicMetadata(topic, {}, KafkaError("UNKNOWN_TOPIC_OR_PART"))
        brokers = {b: BrokerMetadata(b, f"broker-{b}", 9092) for b in self.live_brokers}
        ctrl = self.cluster.quorum.state.leader
        return ClusterMetadata(self.cluster.cluster_id, ctrl if ctrl is not None else -1, brokers, topics)

    # -- consumer groups ------------------------------------------------------------------------------
    def _group_request(
        self,
        gid: str,
        op: str,
        req: dict[str, Any],
        fut: Future,
        on_ok: Callable[[dict[str, Any]], Any],
        attempt: int = 0,
    ) -> None:
        """FindCoordinator for ``gid``, then ``op`` to that broker; retried while the coordinator moves."""
        brokers = self.cluster.bootstrap_names()
        if attempt > 40 or not brokers:
            fut.set_error(KafkaError("COORDINATOR_NOT_AVAILABLE", f"no coordinator for group {gid}"))
            return
        name = brokers[attempt % len(brokers)]
        node = self.broker_node(name)

        def retry(_e: Any = None) -> None:
            self.schedule(
                self.retry_backoff_ms,
                "admin-retry",
                lambda: self._group_request(gid, op, req, fut, on_ok, attempt + 1),
            )

        def found(resp: Any) -> None:
            err, coord = resp
            cnode = self.find_broker(f"broker-{coord}") if err == "NO_ERROR" else None
            if cnode is None:
                retry()
                return

            def answered(r: dict[str, Any]) -> None:
                e = r.get("error", "NO_ERROR")
                if e in ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS"):
                    retry()
                elif e != "NO_ERROR":
                    fut.set_error(KafkaError(e))
                else:
                    fut.set_result(on_ok(r))

            self.call(
                cnode.name,
                op,
                lambda respond: cnode.handle_group(op, req, respond),
                answered,
                retry,
                self.request_timeout_ms,
                detail=gid,
            )

        self.call(
            name,
            "FindCoordinator",
            lambda respond: node.handle_find_coordinator(gid, respond),
            found,
            retry,
            self.request_timeout_ms,
            detail=f"group {gid}",
        )

    def describe_consumer_groups(
        self, group_ids: Iterable[str], request_timeout: float = 0
    ) -> dict[str, Future]:
        """Members, their assignments, the assignor and the state of each group (DescribeGroups)."""
        out: dict[str, Future] = {}
        for gid in group_ids:
            fut = Future(self)
            out[gid] = fut

            def described(r: dict[str, Any], gid: str = gid) -> ConsumerGroupDescription:
                snap = r.get("group")
                if snap is None:
                    return ConsumerGroupDescription(gid, False, [], "", "Dead", None)
                members = [
                    MemberDescription(
                        m.member_id,
                        m.client_id,
                        f"/{m.client_id}",
                        MemberAssignment([TopicPartition(t, p) for t, p in m.assignment]),
                        m.group_instance_id,
                    )
                    for m in snap.members
                ]
                simple = not snap.protocol_type and not snap.members
                return ConsumerGroupDescription(
                    gid,
                    simple,
                    members,
                    snap.protocol or "",
                    snap.state,
                    BrokerMetadata(snap.coordinator, f"broker-{snap.coordinator}", 9092),
                )

            self._group_request(gid, "DescribeGroups", {"group_id": gid}, fut, described)
        return out

    def list_consumer_groups(self, request_timeout: float = 0, states: Any = None) -> Future:
        """Every group of the cluster (ListGroups sent to each broker); ``states`` filters by state name."""
        fut = Future(self)
        wanted = {str(getattr(x, "name", x)).lower().replace("_", "") for x in states} if states else None
        listings: dict[str, ConsumerGroupListing] = {}
        errors: list[KafkaError] = []

        def ask() -> None:
            brokers = sorted(self.live_brokers)
            if not brokers:
                fut.set_result(ListConsumerGroupsResult([], [KafkaError("_ALL_BROKERS_DOWN")]))
                return
            left = [len(brokers)]

            def one_done() -> None:
                left[0] -= 1
                if left[0] == 0:
                    valid = [listings[g] for g in sorted(listings)]
                    if wanted is not None:
                        valid = [v for v in valid if v.state.lower().replace("_", "") in wanted]
                    fut.set_result(ListConsumerGroupsResult(valid, errors))

            def got(r: dict[str, Any]) -> None:
                for gid, state, ptype in r.get("groups", []):
                    listings[gid] = ConsumerGroupListing(gid, not ptype, state)
                one_done()

            def failed(e: str) -> None:
                errors.append(KafkaError(e))
                one_done()

            for b in brokers:
                node = self.find_broker(f"broker-{b}")
                if node is None:
                    failed("_TRANSPORT")
                    continue
                self.call(
                    node.name,
                    "ListGroups",
                    _list_groups_handler(node),
                    got,
                    failed,
                    self.request_timeout_ms,
                )

        self.refresh_metadata(ask)
        return fut

    def list_consumer_group_offsets(
        self, list_consumer_group_offsets_request: list[ConsumerGroupTopicPartitions], **_kw: Any
    ) -> dict[str, Future]:
        """Committed offsets of a group (OffsetFetch): of the given partitions, or of all it has."""
        out: dict[str, Future] = {}
        for item in list_consumer_group_offsets_request:
            gid = item.group_id
            fut = Future(self)
            out[gid] = fut
            wanted = (
                [(tp.topic, tp.partition) for tp in item.topic_partitions] if item.topic_partitions else None
            )

            def fetched(r: dict[str, Any], gid: str = gid, wanted: Any = wanted) -> Any:
                offs: dict[tuple[str, int], int] = r.get("offsets", {})
                keys = wanted if wanted is not None else sorted(offs)
                return ConsumerGroupTopicPartitions(
                    gid, [TopicPartition(t, p, offs.get((t, p), OFFSET_INVALID)) for t, p in keys]
                )

            self._group_request(gid, "OffsetFetch", {"group_id": gid, "partitions": wanted}, fut, fetched)
        return out

    def alter_consumer_group_offsets(
        self, alter_consumer_group_offsets_request: list[ConsumerGroupTopicPartitions], **_kw: Any
    ) -> dict[str, Future]:
        """Overwrite committed offsets (OffsetCommit without membership): only while the group is empty."""
        out: dict[str, Future] = {}
        for item in alter_consumer_group_offsets_request:
            gid = item.group_id
            fut = Future(self)
            out[gid] = fut
            tps = list(item.topic_partitions or [])
            req = {
                "group_id": gid,
                "generation": -1,
                "member_id": "",
                "offsets": [(tp.topic, tp.partition, tp.offset, -1, "") for tp in tps],
            }
            result = ConsumerGroupTopicPartitions(gid, tps)
            self._group_request(gid, "OffsetCommit", req, fut, _constant(result))
        return out


def _list_groups_handler(node: Broker) -> Callable[[Callable[[Any], None]], None]:
    return lambda respond: node.handle_group("ListGroups", {}, respond)


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda _r: value


def _list_offsets_sender(
    tp: tuple[str, int], timestamp: int, isolation_level: int
) -> Callable[[Any, Callable[[Any], None]], None]:
    def send(node: Any, respond: Callable[[Any], None]) -> None:
        node.handle_list_offsets(tp[0], tp[1], timestamp, isolation_level, respond)

    return send


def _delete_records_sender(tp: tuple[str, int], offset: int) -> Callable[[Any, Callable[[Any], None]], None]:
    def send(node: Any, respond: Callable[[Any], None]) -> None:
        node.handle_delete_records(tp[0], tp[1], offset, respond)

    return send
