"""Emulations of Kafka's command-line tools on the simulated cluster, one module per tool.

Each tool accepts Kafka's flags and prints what the Apache Kafka 4.x tool prints (``TopicCommand``,
``ConfigCommand``, ``ConsoleProducer``, ``ConsoleConsumer``, ``ConsumerGroupCommand``, ...). Every handler
validates its whole command line (and the cluster state it depends on) before it returns a
:class:`~kafkalab.commands.base.Plan`; nothing changes until the plan runs.
"""

from __future__ import annotations

from ..parsing import Opt
from .configs import _CONFIGS_OPTS, kafka_configs
from .console_consumer import _CONSUMER_OPTS, kafka_console_consumer
from .console_producer import (
    _PRODUCE_OPTS,
    _PRODUCER_OPTS,
    console_producer_line,
    kafka_console_producer,
    produce,
)
from .consumer_groups import _GROUPS_OPTS, kafka_consumer_groups
from .delete_records import DELETE_RECORDS_OPTS, kafka_delete_records
from .dump_log import DUMP_LOG_OPTS, kafka_dump_log
from .get_offsets import GET_OFFSETS_OPTS, kafka_get_offsets
from .leader_election import LEADER_ELECTION_OPTS, kafka_leader_election
from .metadata_quorum import METADATA_QUORUM_OPTS, kafka_metadata_quorum
from .perf import CONSUMER_PERF_OPTS, PRODUCER_PERF_OPTS, kafka_consumer_perf_test, kafka_producer_perf_test
from .reassign_partitions import REASSIGN_OPTS, kafka_reassign_partitions
from .topics import _TOPICS_OPTS, describe_topic_lines, kafka_topics
from .transactions import TRANSACTIONS_OPTS, kafka_transactions

__all__ = [
    "TOOL_OPTIONS",
    "console_producer_line",
    "describe_topic_lines",
    "kafka_configs",
    "kafka_console_consumer",
    "kafka_console_producer",
    "kafka_consumer_groups",
    "kafka_delete_records",
    "kafka_dump_log",
    "kafka_get_offsets",
    "kafka_leader_election",
    "kafka_metadata_quorum",
    "kafka_consumer_perf_test",
    "kafka_producer_perf_test",
    "kafka_reassign_partitions",
    "kafka_transactions",
    "kafka_topics",
    "produce",
]

TOOL_OPTIONS: dict[str, list[Opt]] = {
    "kafka-topics": _TOPICS_OPTS,
    "kafka-configs": _CONFIGS_OPTS,
    "kafka-console-producer": _PRODUCER_OPTS,
    "kafka-console-consumer": _CONSUMER_OPTS,
    "kafka-consumer-groups": _GROUPS_OPTS,
    "produce": _PRODUCE_OPTS,
    "kafka-get-offsets": GET_OFFSETS_OPTS,
    "kafka-delete-records": DELETE_RECORDS_OPTS,
    "kafka-leader-election": LEADER_ELECTION_OPTS,
    "kafka-metadata-quorum": METADATA_QUORUM_OPTS,
    "kafka-dump-log": DUMP_LOG_OPTS,
    "kafka-transactions": TRANSACTIONS_OPTS,
    "kafka-reassign-partitions": REASSIGN_OPTS,
    "kafka-producer-perf-test": PRODUCER_PERF_OPTS,
    "kafka-consumer-perf-test": CONSUMER_PERF_OPTS,
}
