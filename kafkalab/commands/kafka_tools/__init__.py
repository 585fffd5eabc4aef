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
from .topics import _TOPICS_OPTS, describe_topic_lines, kafka_topics

__all__ = [
    "TOOL_OPTIONS",
    "console_producer_line",
    "describe_topic_lines",
    "kafka_configs",
    "kafka_console_consumer",
    "kafka_console_producer",
    "kafka_consumer_groups",
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
}
