"""Tasks: one per (sub-topology, input partition). A task owns its processors and state stores.

An active task (:class:`StreamTask`) buffers the records its stream thread polled for its partitions,
processes them one at a time (lowest timestamp first across its partitions, like Kafka's
``PartitionGroup``) and remembers how far it got in each partition (the offsets to commit). A standby
task (:class:`StandbyTask`) only keeps copies of the stores by reading their changelogs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...sim.clients.common import Message
from ...sim.partitioner import default_partition
from .processors import Processor
from .serdes import SerializationError, WindowedSerde
from .state import KeyValueStore, WindowStore, make_store
from .topology import Subtopology, Topology

if TYPE_CHECKING:
    from .runtime import StreamThread

__all__ = ["StandbyTask", "StreamTask", "TaskId"]

#: task states (Kafka's Task.State names)
CREATED, RESTORING, RUNNING, SUSPENDED, CLOSED = "CREATED", "RESTORING", "RUNNING", "SUSPENDED", "CLOSED"


@dataclass(frozen=True, order=True)
class TaskId:
    subtopology: int
    partition: int

    def __str__(self) -> str:
        return f"{self.subtopology}_{self.partition}"


class _NodeContext:
    """The ProcessorContext one processor node of one task sees."""

    def __init__(self, task: StreamTask, node: str) -> None:
        self._task = task
        self._node = node
        self._children = task.topology.node(node).children
        self.task_id = str(task.id)
        self.partition = task.id.partition

    @property
    def topic(self) -> str:
        return self._task.current[0]

    @property
    def offset(self) -> int:
        return self._task.current[2]

    def forward(self, key: Any, value: Any, timestamp: int) -> None:
        for c in self._children:
            self._task.deliver(c, key, value, timestamp)

    def store(self, name: str) -> Any:
        if name not in self._task.stores:
            raise KeyError(f"Processor {self._node} has no access to StateStore {name}")
        return self._task.stores[name]

    def dropped(self, reason: str) -> None:
        self._task.dropped_records += 1
        self._task.last_drop = reason


class StreamTask:
    """An active task: processors, stores and the input buffers of one partition of a sub-topology."""

    def __init__(
        self,
        thread: StreamThread,
        task_id: TaskId,
        sub: Subtopology,
        stores: dict[str, KeyValueStore | WindowStore] | None = None,
    ) -> None:
        self.thread = thread
        self.topology: Topology = thread.topology
        self.id = task_id
        self.sub = sub
        p = task_id.partition
        self.partitions: list[tuple[str, int]] = [(thread.real_topic(t), p) for t in sub.source_topics]
        self.changelogs: dict[tuple[str, int], str] = {}
        self.stores: dict[str, KeyValueStore | WindowStore] = {}
        for name in sub.stores:
            spec = self.topology.stores[name]
            changelog = thread.changelog_topic(name) if spec.logging else None
            if changelog is not None:
                self.changelogs[(changelog, p)] = name
            existing = (stores or {}).get(name)
            if existing is not None:
                existing._log = self._logger(changelog) if changelog else None
                self.stores[name] = existing
            else:
                self.stores[name] = make_store(spec, p, self._logger(changelog) if changelog else None)
        self.state = RESTORING if self.changelogs else RUNNING
        self.buffers: dict[tuple[str, int], deque[Message]] = {tp: deque() for tp in self.partitions}
        #: next offset to read per input partition, as processed (what a commit stores)
        self.next_offsets: dict[tuple[str, int], int] = {}
        #: the committed offset per input partition (where a dirty close goes back to)
        self.committed: dict[tuple[str, int], int] = {}
        self.source_nodes: dict[str, str] = {}
        for name in sub.nodes:
            n = self.topology.node(name)
            if n.kind == "source":
                for t in n.topics:
                    self.source_nodes[thread.real_topic(t)] = name
        self.processors: dict[str, Processor] = {}
        self.contexts: dict[str, _NodeContext] = {}
        for name in sub.nodes:
            n = self.topology.node(name)
            if n.kind == "processor" and n.factory is not None:
                proc = n.factory()
                ctx = _NodeContext(self, name)
                proc.init(ctx)
                self.processors[name] = proc
                self.contexts[name] = ctx
            elif n.kind == "source":
                self.contexts[name] = _NodeContext(self, name)
        self.current: tuple[str, int, int] = ("", p, -1)
        self.processed_records = 0
        self.dropped_records = 0
        self.last_drop = ""
        self.stream_time = -1

    def _logger(self, changelog: str) -> Any:
        thread, p = self.thread, self.id.partition

        def log(key: bytes, value: bytes | None, timestamp: int) -> None:
            thread.send(changelog, key, value, p, timestamp)

        return log

    # -- input ---------------------------------------------------------------------------------------------
    def add_record(self, msg: Message) -> None:
        tp = (msg.topic(), msg.partition())
        if tp not in self.committed:
            self.committed[tp] = msg.offset()
        self.buffers[tp].append(msg)

    def buffered(self) -> int:
        return sum(len(b) for b in self.buffers.values())

    def clear_buffers(self) -> None:
        for b in self.buffers.values():
            b.clear()

    def process(self, limit: int) -> int:
        """Process up to ``limit`` buffered records, lowest timestamp first; returns how many."""
        n = 0
        while n < limit:
            best: deque[Message] | None = None
            best_ts = 0
            for tp in self.partitions:
                buf = self.buffers[tp]
                if buf:
                    ts = buf[0].timestamp()[1]
                    if best is None or ts < best_ts:
                        best, best_ts = buf, ts
            if best is None:
                break
            self._process_one(best.popleft())
            n += 1
        return n

    def _process_one(self, msg: Message) -> None:
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        self.current = (topic, partition, offset)
        ts = msg.timestamp()[1]
        self.stream_time = max(self.stream_time, ts)
        source = self.topology.node(self.source_nodes[topic])
        try:
            key = source.key_serde.deserialize(msg.key())
            value = source.value_serde.deserialize(msg.value())
        except SerializationError as e:
            if not self.thread.continue_on_deserialization_error:
                raise
            self.dropped_records += 1
            self.last_drop = f"deserialization error at {topic}-{partition}@{offset}: {e}"
        else:
            for c in source.children:
                self.deliver(c, key, value, ts)
        self.next_offsets[(topic, partition)] = offset + 1
        self.processed_records += 1

    def deliver(self, node_name: str, key: Any, value: Any, timestamp: int) -> None:
        node = self.topology.node(node_name)
        if node.kind == "sink":
            self._sink(node, key, value, timestamp)
            return
        self.processors[node_name].process(key, value, timestamp)

    def _sink(self, node: Any, key: Any, value: Any, timestamp: int) -> None:
        from .processors import Change

        if isinstance(value, Change):
            value = value.new
        topic = self.thread.real_topic(node.topic) if node.internal else node.topic
        ks, vs = node.key_serde, node.value_serde
        kb = ks.serialize(key)
        vb = vs.serialize(value)
        partition = -1
        if isinstance(ks, WindowedSerde) and key is not None:
            n = self.thread.partition_count(topic)
            if n > 0:
                partition = default_partition(ks.inner_key_bytes(key), n)
        self.thread.send(topic, kb, vb, partition, timestamp)

    # -- commit bookkeeping ----------------------------------------------------------------------------------
    def offsets_to_commit(self) -> dict[tuple[str, int], int]:
        return {tp: off for tp, off in self.next_offsets.items() if self.committed.get(tp) != off}

    def mark_committed(self, offsets: dict[tuple[str, int], int]) -> None:
        for tp, off in offsets.items():
            if tp in self.buffers:
                self.committed[tp] = off

    def describe(self) -> str:
        stores = ", ".join(f"{n}={s.approximate_num_entries()}" for n, s in self.stores.items())
        return f"{self.id} {self.state} processed={self.processed_records}" + (
            f" [{stores}]" if stores else ""
        )


class StandbyTask:
    """Copies of a task's stores, kept up to date from their changelogs (``num.standby.replicas``)."""

    def __init__(self, thread: StreamThread, task_id: TaskId, sub: Subtopology) -> None:
        self.thread = thread
        self.id = task_id
        self.sub = sub
        self.state = RUNNING
        self.stores: dict[str, KeyValueStore | WindowStore] = {}
        self.changelogs: dict[tuple[str, int], str] = {}
        for name in sub.stores:
            spec = thread.topology.stores[name]
            if not spec.logging:
                continue
            self.changelogs[(thread.changelog_topic(name), task_id.partition)] = name
            self.stores[name] = make_store(spec, task_id.partition, None)

    def describe(self) -> str:
        stores = ", ".join(f"{n}={s.approximate_num_entries()}" for n, s in self.stores.items())
        return f"{self.id} STANDBY [{stores}]"
