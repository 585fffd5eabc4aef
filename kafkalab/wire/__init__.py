"""Kafka wire protocol and the HTTP APIs for outside programs."""
