"""kafkalab: learn Apache Kafka on a real, deterministic, multi-broker cluster inside one Python process."""

from .sim.clients.admin import AdminClient, ConfigResource, NewTopic
from .sim.clients.common import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    OFFSET_STORED,
    Message,
    TopicPartition,
)
from .sim.clients.consumer import Consumer
from .sim.clients.producer import Producer
from .sim.cluster import Cluster
from .sim.errors import KafkaError, KafkaException

__version__ = "0.1.0"

__all__ = [
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "OFFSET_INVALID",
    "OFFSET_STORED",
    "AdminClient",
    "Cluster",
    "ConfigResource",
    "Consumer",
    "KafkaError",
    "KafkaException",
    "Message",
    "NewTopic",
    "Producer",
    "TopicPartition",
]
