"""One handler per Kafka API (see :mod:`kafkalab.wire.apis` for the key -> handler table)."""
