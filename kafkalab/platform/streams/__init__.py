"""Kafka Streams in Python, shaped like the Java DSL, running as simulated processes on the lab's cluster.

>>> from kafkalab import Cluster
>>> from kafkalab.platform.streams import KafkaStreams, StreamsBuilder
>>> cluster = Cluster(brokers=1, seed=1)
>>> for t in ("lines", "counts"):
...     cluster.create_topic(t, partitions=2)
>>> b = StreamsBuilder()
>>> words = b.stream("lines").flat_map_values(lambda line: line.lower().split())
>>> words.group_by(lambda _k, w: w).count().to_stream().to("counts")
>>> app = KafkaStreams(b.build(), {"application.id": "wordcount"}, cluster)
>>> app.start()

See :mod:`.runtime` for how an instance runs (tasks, changelogs, restoration, exactly-once).
"""

from .kstream import (
    Consumed,
    Grouped,
    Joined,
    KeyValue,
    KGroupedStream,
    KStream,
    KTable,
    Materialized,
    Named,
    Produced,
    StreamsBuilder,
    TimeWindowedKStream,
    TimeWindows,
)
from .runtime import KafkaStreams, StreamsConfigError
from .serdes import Serde, Serdes, SerializationError, Window, Windowed, WindowedSerde
from .topology import Topology, TopologyException

__all__ = [
    "Consumed",
    "Grouped",
    "Joined",
    "KGroupedStream",
    "KStream",
    "KTable",
    "KafkaStreams",
    "KeyValue",
    "Materialized",
    "Named",
    "Produced",
    "Serde",
    "Serdes",
    "SerializationError",
    "StreamsBuilder",
    "StreamsConfigError",
    "TimeWindowedKStream",
    "TimeWindows",
    "Topology",
    "TopologyException",
    "Window",
    "Windowed",
    "WindowedSerde",
]
