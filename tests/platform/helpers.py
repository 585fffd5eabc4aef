"""Small, fast clusters for the platform tests (few internal partitions, quick transaction clean-up)."""

from __future__ import annotations

from typing import Any

from kafkalab.sim.cluster import Cluster

#: internal topics with few partitions keep cluster start-up cheap; timed-out transactions are aborted fast
FAST_BROKER_CONFIG: dict[str, Any] = {
    "offsets.topic.num.partitions": 2,
    "transaction.state.log.num.partitions": 2,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
}

#: MirrorMaker settings for one-broker clusters and short intervals
FAST_MIRROR: dict[str, Any] = {
    "replication.factor": 1,
    "offset-syncs.topic.replication.factor": 1,
    "checkpoints.topic.replication.factor": 1,
    "heartbeats.topic.replication.factor": 1,
    "offset.storage.replication.factor": 1,
    "offset.storage.partitions": 2,
    "refresh.topics.interval.seconds": 2,
    "sync.topic.configs.interval.seconds": 2,
    "emit.checkpoints.interval.seconds": 2,
    "sync.group.offsets.interval.seconds": 2,
    "offset.flush.interval.ms": 2000,
}


def small_cluster(seed: int, brokers: int = 1, **kw: Any) -> Cluster:
    cfg = dict(FAST_BROKER_CONFIG)
    cfg.update(kw.pop("broker_config", {}))
    return Cluster(brokers=brokers, seed=seed, broker_config=cfg, **kw)


def last_values(cluster: Cluster, topic: str, decode: Any = None) -> dict[str, Any]:
    """The last value per key of ``topic`` (read_committed): a table's current state."""
    out: dict[str, Any] = {}
    for _p, recs in sorted(cluster.read_all(topic, isolation_level="read_committed").items()):
        for _off, k, v in recs:
            key = k.decode() if k is not None else None
            out[str(key)] = decode(v) if decode and v is not None else v
    return out
