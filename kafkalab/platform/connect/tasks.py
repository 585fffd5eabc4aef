"""The tasks a Connect worker runs: ``WorkerSourceTask`` and ``WorkerSinkTask``.

A source task polls its connector (lines of a file, generated records), applies the transforms, converts
and produces; it commits the *source offsets* of acknowledged records to ``connect-offsets`` every
``offset.flush.interval.ms``, so a task restarted anywhere resumes after the last committed position (the
records produced after it are produced again: at-least-once). A sink task consumes in group
``connect-<connector>``, converts, transforms, writes (FileStreamSink appends lines to its file) and commits
the consumer offsets of what it wrote every ``offset.flush.interval.ms``: after a crash the records after
the last commit are written again.

``errors.tolerance=none`` (the default) fails the task at the first record that cannot be converted or
transformed; ``all`` skips such records, logs them when ``errors.log.enable`` and, for a sink, sends the
original record to ``errors.deadletterqueue.topic.name`` (with ``__connect.errors.*`` headers when
``errors.deadletterqueue.context.headers.enable``).
"""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any

from ...sim.clients.common import TopicPartition
from ...sim.clients.consumer import Consumer
from ...sim.clients.producer import Producer
from .plugins import (
    ConnectRecord,
    DataException,
    DatagenReader,
    FileSourceReader,
    connector_plugin,
    java_text,
    make_converter,
    make_transforms,
    resolve_file,
)

if TYPE_CHECKING:
    from .worker import ConnectWorker

__all__ = ["SinkTask", "SourceTask", "offset_key"]


def offset_key(connector: str, partition: dict[str, Any]) -> bytes:
    return json.dumps([connector, partition], separators=(",", ":")).encode()


class _Task:
    kind = ""

    def __init__(self, worker: ConnectWorker, connector: str, task_id: int, config: dict[str, str]) -> None:
        self.worker = worker
        self.connector = connector
        self.task_id = task_id
        self.config = config
        self.plugin = connector_plugin(config.get("connector.class"))
        wc = worker.config
        merged = {k: v for k, v in wc.items() if k.startswith(("key.converter", "value.converter"))}
        merged.update({k: v for k, v in config.items() if k.startswith(("key.converter", "value.converter"))})
        self.key_converter = make_converter(merged, "key.converter")
        self.value_converter = make_converter(merged, "value.converter")
        self.transforms = make_transforms(config)
        self.tolerance_all = config.get("errors.tolerance", "none").lower() == "all"
        self.log_errors = config.get("errors.log.enable", "false").lower() == "true"
        self.flush_interval_ms = int(wc.get("offset.flush.interval.ms", 60000))
        self.state = "RUNNING"
        self.trace: str | None = None
        self.paused = False
        self.records = 0
        self.skipped = 0
        self.last_commit_ms = worker.kernel.now_ms
        self.clients: list[Any] = []

    @property
    def id(self) -> tuple[str, int]:
        return (self.connector, self.task_id)

    def fail(self, exc: Exception) -> None:
        self.state = "FAILED"
        self.trace = f"org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\tCaused by: {type(exc).__name__}: {exc}"
        self.worker.task_failed(self, str(exc))

    def transform(self, r: ConnectRecord) -> ConnectRecord | None:
        out: ConnectRecord | None = r
        for t in self.transforms:
            if out is None:
                return None
            out = t.apply(out)
        return out

    def tolerate(self, stage: str, exc: Exception, record: Any = None) -> bool:
        """True: skip the record and go on; False: the task has failed."""
        if not self.tolerance_all:
            self.fail(exc)
            return False
        self.skipped += 1
        if self.log_errors:
            self.worker.cluster.note(
                f"{self.worker.name}: {self.connector}-{self.task_id} skipped a record ({stage}): {exc}",
                "platform",
            )
        return True

    def tick(self, now_ms: int) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def crash(self) -> None:
        for c in self.clients:
            if c.alive:
                c.crash()


class SourceTask(_Task):
    kind = "source"

    def __init__(self, worker: ConnectWorker, connector: str, task_id: int, config: dict[str, str]) -> None:
        super().__init__(worker, connector, task_id, config)
        self.producer = worker.own(
            Producer(
                worker.cluster,
                {"acks": "all", "linger.ms": 0, "enable.idempotence": True},
                name=worker.client_name(f"{connector}-{task_id}-producer"),
            )
        )
        self.clients.append(self.producer)
        self.outstanding: deque[list[Any]] = deque()  # [partition key, offset, acked]
        self.committed: dict[bytes, dict[str, Any]] = {}
        cls = self.plugin.cls
        if cls.endswith("FileStreamSourceConnector"):
            filename = config.get("file", "")
            path = resolve_file(worker.cluster.data_dir, filename)
            stored = worker.source_offsets.get(offset_key(connector, {"filename": filename}))
            pos = int(stored.get("position", 0)) if isinstance(stored, dict) else 0
            self.reader: Any = FileSourceReader(
                path, filename, config["topic"], int(config.get("batch.size", 2000)), pos
            )
            self.resumed_from = pos
        else:
            stored = worker.source_offsets.get(offset_key(connector, {"task.id": task_id}))
            it = int(stored.get("current.iteration", 0)) if isinstance(stored, dict) else 0
            seed = worker.kernel.rng.getrandbits(32)
            self.reader = DatagenReader(config, task_id, seed, it)
            self.resumed_from = it

    def tick(self, now_ms: int) -> None:
        self.producer.poll(0)
        if self.state != "RUNNING" or self.paused:
            return
        if len(self.outstanding) < 10_000:
            for r in self.reader.poll(now_ms):
                self._send(r)
                if self.state != "RUNNING":
                    return
        if now_ms - self.last_commit_ms >= self.flush_interval_ms:
            self.commit_offsets()

    def _send(self, r: ConnectRecord) -> None:
        assert r.source_partition is not None
        entry = [offset_key(self.connector, r.source_partition), r.source_offset, False]
        self.outstanding.append(entry)
        try:
            out = self.transform(r)
            if out is None:
                entry[2] = True
                return
            key = self.key_converter.from_connect(out.topic, out.key_schema, out.key)
            value = self.value_converter.from_connect(out.topic, out.value_schema, out.value)
        except DataException as e:
            entry[2] = True
            self.tolerate("transformation/conversion", e)
            return

        def delivered(err: Any, _msg: Any) -> None:
            if err is None:
                entry[2] = True
                self.records += 1
            elif self.state == "RUNNING":
                self.fail(
                    RuntimeError(
                        f"Unrecoverable exception from producer send callback: {err.name()}: {err.str()}"
                    )
                )

        self.producer.produce(
            out.topic, value=value, key=key, timestamp=out.timestamp or 0, on_delivery=delivered
        )

    def commit_offsets(self) -> None:
        """OffsetStorageWriter: the offsets of the acknowledged prefix of what was sent."""
        self.last_commit_ms = self.worker.kernel.now_ms
        latest: dict[bytes, dict[str, Any]] = {}
        while self.outstanding and self.outstanding[0][2]:
            k, off, _ = self.outstanding.popleft()
            latest[k] = off
        for k, off in latest.items():
            if self.committed.get(k) != off:
                self.committed[k] = off
                self.worker.offsets_log.send(k, json.dumps(off, separators=(",", ":")).encode())

    def stop(self) -> None:
        self.producer.poll(0)
        if self.state == "RUNNING":
            self.commit_offsets()
        self.producer.close()


class SinkTask(_Task):
    kind = "sink"

    def __init__(self, worker: ConnectWorker, connector: str, task_id: int, config: dict[str, str]) -> None:
        super().__init__(worker, connector, task_id, config)
        self.topics = [t.strip() for t in config.get("topics", "").split(",") if t.strip()]
        self.consumer = worker.own(
            Consumer(
                worker.cluster,
                {
                    "group.id": f"connect-{connector}",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "max.poll.records": 500,
                    "session.timeout.ms": 45000,
                    "heartbeat.interval.ms": 3000,
                    "partition.assignment.strategy": "range,cooperative-sticky",
                    "client.id": f"connector-consumer-{connector}-{task_id}",
                },
                name=worker.client_name(f"{connector}-{task_id}-consumer"),
            )
        )
        self.clients.append(self.consumer)
        self.current: dict[tuple[str, int], int] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.consumer.subscribe(self.topics, on_revoke=self._on_revoke)
        self.path = resolve_file(worker.cluster.data_dir, config["file"]) if config.get("file") else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(exist_ok=True)
        self.dlq_topic = config.get("errors.deadletterqueue.topic.name", "").strip()
        self.dlq_headers = (
            config.get("errors.deadletterqueue.context.headers.enable", "false").lower() == "true"
        )
        self.dlq_producer: Producer | None = None
        self.dlq_sent = 0
        if self.dlq_topic and self.tolerance_all:
            worker.ensure_topic(
                self.dlq_topic, 1, int(config.get("errors.deadletterqueue.topic.replication.factor", 3))
            )
            self.dlq_producer = worker.own(
                Producer(
                    worker.cluster,
                    {"acks": "all", "linger.ms": 0},
                    name=worker.client_name(f"{connector}-{task_id}-dlq"),
                )
            )
            self.clients.append(self.dlq_producer)

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        self.commit([(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            self.current.pop((tp.topic, tp.partition), None)

    def tick(self, now_ms: int) -> None:
        if self.dlq_producer is not None:
            self.dlq_producer.poll(0)
        if self.state != "RUNNING" or self.paused:
            if self.state == "RUNNING":
                self.consumer.consume(0, timeout=0)  # a paused task keeps its group membership
            return
        msgs = self.consumer.consume(500, timeout=0)
        lines: list[str] = []
        for m in msgs:
            if m.error() is not None:
                continue
            key = (m.topic(), m.partition())
            try:
                ks, kv = self.key_converter.to_connect(m.topic(), m.key())
                vs, vv = self.value_converter.to_connect(m.topic(), m.value())
                r = ConnectRecord(m.topic(), kv, vv, ks, vs, m.timestamp()[1], m.partition(), m.offset())
                out = self.transform(r)
            except DataException as e:
                if not self.tolerate("VALUE_CONVERTER", e):
                    self._write(lines)
                    return
                self._dead_letter(m, e)
                self.current[key] = m.offset() + 1
                continue
            if out is not None:
                lines.append(java_text(out.value, out.value_schema))
                self.records += 1
            self.current[key] = m.offset() + 1
        self._write(lines)
        if now_ms - self.last_commit_ms >= self.flush_interval_ms:
            self.commit(None)

    def _write(self, lines: list[str]) -> None:
        if lines and self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))

    def _dead_letter(self, m: Any, e: Exception) -> None:
        if self.dlq_producer is None:
            return
        headers: list[tuple[str, bytes | None]] = list(m.headers() or [])
        if self.dlq_headers:
            headers += [
                ("__connect.errors.topic", m.topic().encode()),
                ("__connect.errors.partition", str(m.partition()).encode()),
                ("__connect.errors.offset", str(m.offset()).encode()),
                ("__connect.errors.connector.name", self.connector.encode()),
                ("__connect.errors.task.id", str(self.task_id).encode()),
                ("__connect.errors.stage", b"VALUE_CONVERTER"),
                ("__connect.errors.class.name", self.value_converter.name.encode()),
                ("__connect.errors.exception.class.name", b"org.apache.kafka.connect.errors.DataException"),
                ("__connect.errors.exception.message", str(e).encode()),
            ]
        self.dlq_producer.produce(self.dlq_topic, value=m.value(), key=m.key(), headers=headers or None)
        self.dlq_sent += 1

    def commit(self, only: list[tuple[str, int]] | None) -> None:
        """Flush (the file is written line by line) and commit the offsets of what was written."""
        self.last_commit_ms = self.worker.kernel.now_ms
        offs = [
            TopicPartition(t, p, o)
            for (t, p), o in sorted(self.current.items())
            if (only is None or (t, p) in only) and self.committed.get((t, p)) != o
        ]
        if not offs or self.consumer.closed:
            return
        try:
            self.consumer.commit(offsets=offs, asynchronous=True)
        except Exception:  # the group is rebalancing: the next commit tries again
            return
        for tp in offs:
            self.committed[(tp.topic, tp.partition)] = tp.offset

    def stop(self) -> None:
        if self.state == "RUNNING" and not self.consumer.closed:
            self.commit(None)
        if not self.consumer.closed:
            self.consumer.close()
