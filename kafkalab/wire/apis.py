"""Every Kafka API the lab's brokers speak, with its version range and handler, in one table.

The ranges are Kafka 4.x's full ranges for these APIs (what a 4.x broker advertises in ApiVersions); any
other API key closes the connection, as a Kafka broker does with a request it does not know. Each handler
``handler(ctx, request)`` reads the decoded request (a ``kio`` entity of the request's version) and answers
through ``ctx`` (:class:`~kafkalab.wire.node.RequestContext`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .handlers import cluster, groups, records, txn

if TYPE_CHECKING:
    from .node import RequestContext

__all__ = ["APIS", "Api", "SUPPORTED"]


@dataclass(frozen=True)
class Api:
    key: int
    name: str
    min_version: int
    max_version: int
    handler: Callable[[RequestContext, Any], None]


APIS: dict[int, Api] = {
    a.key: a
    for a in (
        Api(0, "Produce", 3, 13, records.produce),
        Api(1, "Fetch", 4, 18, records.fetch),
        Api(2, "ListOffsets", 1, 11, records.list_offsets),
        Api(3, "Metadata", 0, 13, cluster.metadata),
        Api(8, "OffsetCommit", 2, 10, groups.offset_commit),
        Api(9, "OffsetFetch", 1, 10, groups.offset_fetch),
        Api(10, "FindCoordinator", 0, 6, groups.find_coordinator),
        Api(11, "JoinGroup", 0, 9, groups.join_group),
        Api(12, "Heartbeat", 0, 4, groups.heartbeat),
        Api(13, "LeaveGroup", 0, 5, groups.leave_group),
        Api(14, "SyncGroup", 0, 5, groups.sync_group),
        Api(15, "DescribeGroups", 0, 6, groups.describe_groups),
        Api(16, "ListGroups", 0, 5, groups.list_groups),
        Api(18, "ApiVersions", 0, 4, cluster.api_versions),
        Api(19, "CreateTopics", 2, 7, cluster.create_topics),
        Api(20, "DeleteTopics", 1, 6, cluster.delete_topics),
        Api(22, "InitProducerId", 0, 6, txn.init_producer_id),
        Api(23, "OffsetForLeaderEpoch", 2, 4, records.offset_for_leader_epoch),
        Api(24, "AddPartitionsToTxn", 0, 5, txn.add_partitions_to_txn),
        Api(25, "AddOffsetsToTxn", 0, 4, txn.add_offsets_to_txn),
        Api(26, "EndTxn", 0, 5, txn.end_txn),
        Api(28, "TxnOffsetCommit", 0, 5, txn.txn_offset_commit),
        Api(32, "DescribeConfigs", 1, 4, cluster.describe_configs),
        Api(60, "DescribeCluster", 0, 2, cluster.describe_cluster),
        Api(71, "GetTelemetrySubscriptions", 0, 0, cluster.get_telemetry_subscriptions),
    )
}

#: api key -> (min version, max version)
SUPPORTED: dict[int, tuple[int, int]] = {k: (a.min_version, a.max_version) for k, a in APIS.items()}
