"""Kafka's ecosystem built on the lab's Kafka clients (no broker internals), deterministic in virtual time."""
