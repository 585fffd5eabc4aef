"""``KafkaBasedLog``: a compacted topic read from the beginning into memory, written through a producer.

Kafka Connect keeps its configs, offsets and statuses this way (and Schema Registry its schemas): every
process reads the whole topic with a consumer of its own (no group), applies each record to an in-memory
map, and writes by producing with ``acks=all``. ``read_to_end`` compares the consumer's positions with the
high watermarks its fetches reported; ``send`` calls back once the record is acknowledged *and* read back,
so what the writer answers is what every reader will see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..sim.clients.common import OFFSET_BEGINNING, TopicPartition
from ..sim.clients.consumer import Consumer
from ..sim.clients.producer import Producer
from .process import PlatformProcess

__all__ = ["KafkaBasedLog"]

Apply = Callable[[bytes | None, bytes | None, int, int], None]


class KafkaBasedLog:
    def __init__(self, proc: PlatformProcess, topic: str, partitions: int, role: str, apply: Apply) -> None:
        self.proc = proc
        self.topic = topic
        self.partitions = partitions
        self.apply = apply
        self.consumer = proc.own(
            Consumer(
                proc.cluster,
                {"enable.auto.commit": False, "auto.offset.reset": "earliest"},
                name=proc.client_name(f"{role}-reader"),
            )
        )
        self.producer = proc.own(
            Producer(proc.cluster, {"acks": "all", "linger.ms": 0}, name=proc.client_name(f"{role}-writer"))
        )
        self.read: dict[int, int] = {}
        self._waiters: list[tuple[int, int, Callable[[], None]]] = []
        self.records = 0

    def start(self) -> None:
        self.consumer.assign(
            [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(self.partitions)]
        )

    def poll(self) -> int:
        """Apply what arrived (call from the owner's tick); returns the number of records applied."""
        self.producer.poll(0)
        msgs = self.consumer.consume(1000, timeout=0)
        for m in msgs:
            if m.error() is not None:
                continue
            self.apply(m.key(), m.value(), m.partition(), m.offset())
            self.read[m.partition()] = m.offset() + 1
            self.records += 1
        if msgs and self._waiters:
            keep = []
            for p, off, fn in self._waiters:
                if self.read.get(p, 0) > off:
                    fn()
                else:
                    keep.append((p, off, fn))
            self._waiters = keep
        return len(msgs)

    def caught_up(self) -> bool:
        """Every partition read up to the high watermark its last fetch reported."""
        for p in range(self.partitions):
            tp = TopicPartition(self.topic, p)
            _lo, hw = self.consumer.get_watermark_offsets(tp, cached=True)
            pos = self.consumer.position([tp])[0].offset
            if hw < 0 or pos < hw:
                return False
        return True

    def send(
        self,
        key: bytes | None,
        value: bytes | None,
        done: Callable[[str | None], None] | None = None,
        partition: int = -1,
    ) -> None:
        def delivered(err: Any, msg: Any) -> None:
            if done is None:
                return
            if err is not None:
                done(err.name())
            elif self.read.get(msg.partition(), 0) > msg.offset():
                done(None)
            else:
                self._waiters.append((msg.partition(), msg.offset(), lambda: done(None)))

        self.producer.produce(self.topic, value=value, key=key, partition=partition, on_delivery=delivered)
        self.producer.poll(0)
