"""Kafka Connect on the lab's cluster: workers, connectors, tasks, SMTs, the dead letter queue."""

from .plugins import CONNECTOR_CLASSES, ConfigError, DataException
from .worker import WORKER_DEFAULTS, ConnectWorker

__all__ = ["CONNECTOR_CLASSES", "WORKER_DEFAULTS", "ConfigError", "ConnectWorker", "DataException"]
