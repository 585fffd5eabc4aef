"""Cluster metadata: the records of the KRaft metadata log and the image brokers build from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mypy_extensions import mypyc_attr

__all__ = [
    "BrokerRegistration",
    "MetadataImage",
    "MetadataRecord",
    "PartitionRecord",
    "TopicRecord",
    "NO_LEADER",
]

NO_LEADER = -1

#: Kafka 4.x's topic-level configs with their defaults, as strings (what ``kafka-configs --describe --all``
#: shows). The simulation acts on cleanup.policy, min.insync.replicas, unclean.leader.election.enable,
#: segment.*, retention.*, delete.retention.ms, min.cleanable.dirty.ratio, min.compaction.lag.ms,
#: max.message.bytes, index.interval.bytes and the replication throttles; the others are stored and shown.
TOPIC_CONFIG_DEFAULTS: dict[str, str] = {
    "cleanup.policy": "delete",
    "min.insync.replicas": "1",
    "unclean.leader.election.enable": "false",
    "segment.bytes": "1073741824",
    "segment.ms": "604800000",
    "retention.ms": "604800000",
    "retention.bytes": "-1",
    "delete.retention.ms": "86400000",
    "min.cleanable.dirty.ratio": "0.5",
    "min.compaction.lag.ms": "0",
    "max.message.bytes": "1048588",
    "index.interval.bytes": "4096",
    "compression.type": "producer",
    "compression.gzip.level": "9",
    "compression.lz4.level": "9",
    "compression.zstd.level": "3",
    "file.delete.delay.ms": "60000",
    "flush.messages": "9223372036854775807",
    "flush.ms": "9223372036854775807",
    "follower.replication.throttled.replicas": "",
    "leader.replication.throttled.replicas": "",
    "local.retention.bytes": "-2",
    "local.retention.ms": "-2",
    "max.compaction.lag.ms": "9223372036854775807",
    "message.timestamp.after.max.ms": "3600000",
    "message.timestamp.before.max.ms": "9223372036854775807",
    "message.timestamp.type": "CreateTime",
    "preallocate": "false",
    "remote.log.copy.disable": "false",
    "remote.log.delete.on.disable": "false",
    "remote.storage.enable": "false",
    "segment.index.bytes": "10485760",
    "segment.jitter.ms": "0",
    # NOT a Kafka config: the lab's Raft-style commit rule, for comparing Kafka with Redpanda (see broker.py)
    "lab.ack.quorum": "isr",
}


@dataclass(frozen=True, slots=True)
class TopicRecord:
    name: str
    topic_id: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)

    def config(self, name: str, defaults: dict[str, str] | None = None) -> str:
        if name in self.configs:
            return self.configs[name]
        if defaults and name in defaults:
            return defaults[name]
        return TOPIC_CONFIG_DEFAULTS[name]


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    """Kafka's PartitionRecord / PartitionChangeRecord folded into one snapshot of a partition's state."""

    topic: str
    partition: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int
    partition_epoch: int
    #: an ongoing reassignment (KIP-455): replicas being added (catching up) and to be removed after
    adding: tuple[int, ...] = ()
    removing: tuple[int, ...] = ()

    def changed(self, **kw: object) -> PartitionRecord:
        """A copy with changes; bumps partition_epoch, and leader_epoch when the leader changes."""
        new = replace(self, **kw)  # type: ignore[arg-type]
        leader_epoch = new.leader_epoch
        if new.leader != self.leader and "leader_epoch" not in kw:
            leader_epoch = self.leader_epoch + 1
        return replace(new, leader_epoch=leader_epoch, partition_epoch=self.partition_epoch + 1)


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    broker_id: int
    incarnation: int
    fenced: bool


@dataclass(frozen=True, slots=True)
class MetadataRecord:
    """One entry of the metadata log. ``kind`` is one of: topic, remove_topic, partition, broker, config,
    producer_ids, broker_config (``name``: a broker id, or "" for the cluster default; dynamic broker configs)."""

    offset: int
    kind: str
    topic: TopicRecord | None = None
    partition: PartitionRecord | None = None
    broker: BrokerRegistration | None = None
    name: str | None = None
    configs: dict[str, str] | None = None
    number: int = 0


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class MetadataImage:
    """The state obtained by applying metadata records in order (what every broker holds)."""

    def __init__(self) -> None:
        self.offset = -1
        self.topics: dict[str, TopicRecord] = {}
        self.partitions: dict[tuple[str, int], PartitionRecord] = {}
        self.brokers: dict[int, BrokerRegistration] = {}
        #: dynamic broker configs (ConfigRecord of BROKER resources): broker id or "" -> name -> value
        self.broker_configs: dict[str, dict[str, str]] = {}
        #: next producer id the controller hands out (Kafka: ProducerIdsRecord)
        self.next_producer_id = 1000

    def apply(self, rec: MetadataRecord) -> None:
        if rec.offset != self.offset + 1:
            raise ValueError(f"metadata record {rec.offset} applied after {self.offset}")
        self.offset = rec.offset
        if rec.kind == "topic" and rec.topic is not None:
            self.topics[rec.topic.name] = rec.topic
        elif rec.kind == "remove_topic" and rec.name is not None:
            t = self.topics.pop(rec.name, None)
            if t is not None:
                for p in range(t.partitions):
                    self.partitions.pop((t.name, p), None)
        elif rec.kind == "partition" and rec.partition is not None:
            pr = rec.partition
            self.partitions[(pr.topic, pr.partition)] = pr
        elif rec.kind == "broker" and rec.broker is not None:
            self.brokers[rec.broker.broker_id] = rec.broker
        elif rec.kind == "producer_ids":
            self.next_producer_id = rec.number
        elif rec.kind == "broker_config" and rec.name is not None and rec.configs is not None:
            if rec.configs:
                self.broker_configs[rec.name] = dict(rec.configs)
            else:
                self.broker_configs.pop(rec.name, None)
        elif rec.kind == "config" and rec.name is not None and rec.configs is not None:
            t = self.topics.get(rec.name)
            if t is not None:
                self.topics[rec.name] = replace(t, configs=dict(rec.configs))

    def partitions_of(self, topic: str) -> list[PartitionRecord]:
        t = self.topics.get(topic)
        if t is None:
            return []
        return [self.partitions[(topic, i)] for i in range(t.partitions) if (topic, i) in self.partitions]

    def live_brokers(self) -> list[int]:
        return sorted(b for b, reg in self.brokers.items() if not reg.fenced)
