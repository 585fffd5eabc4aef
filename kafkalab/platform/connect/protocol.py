"""Kafka Connect's group protocol (``IncrementalCooperativeConnectProtocol``): metadata and assignments.

Workers join a group of protocol type ``connect`` with the sub-protocols ``sessioned`` and ``compatible``
(both incremental cooperative). A worker's metadata says its REST URL, the offset of the config topic it has
read up to, and what it runs now; an assignment says who leads, the leader's URL, the config offset the
assignment was computed from, what to start, what to stop (revoked) and, after a worker vanished, how long
to wait (``scheduled.rebalance.max.delay.ms``) before its work is handed to the others. Task ``-1`` stands
for the connector itself, as in Kafka.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = [
    "CONNECTOR_TASK",
    "Assignment",
    "WorkerState",
    "decode_assignment",
    "decode_metadata",
    "encode_assignment",
    "encode_metadata",
]

CONNECTOR_TASK = -1
PROTOCOLS = ("sessioned", "compatible")
NO_ERROR = 0
CONFIG_MISMATCH = 1

Work = tuple[list[str], list[tuple[str, int]]]  # (connectors, tasks)


@dataclass
class WorkerState:
    url: str
    config_offset: int
    connectors: list[str] = field(default_factory=list)
    tasks: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Assignment:
    error: int
    leader: str
    leader_url: str
    config_offset: int
    connectors: list[str] = field(default_factory=list)
    tasks: list[tuple[str, int]] = field(default_factory=list)
    revoked_connectors: list[str] = field(default_factory=list)
    revoked_tasks: list[tuple[str, int]] = field(default_factory=list)
    delay_ms: int = 0


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack(">h", len(b)) + b


def _work(connectors: list[str], tasks: list[tuple[str, int]]) -> bytes:
    by: dict[str, list[int]] = {c: [CONNECTOR_TASK] for c in connectors}
    for c, t in tasks:
        by.setdefault(c, []).append(t)
    out = [struct.pack(">i", len(by))]
    for c in sorted(by):
        ids = sorted(by[c])
        out.append(_s(c) + struct.pack(">i", len(ids)) + b"".join(struct.pack(">i", i) for i in ids))
    return b"".join(out)


class _R:
    def __init__(self, buf: bytes) -> None:
        self.b, self.p = buf, 0

    def take(self, fmt: str) -> int:
        (v,) = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return int(v)

    def string(self) -> str:
        n = self.take(">h")
        s = self.b[self.p : self.p + n].decode()
        self.p += n
        return s

    def work(self) -> Work:
        conns: list[str] = []
        tasks: list[tuple[str, int]] = []
        for _ in range(self.take(">i")):
            c = self.string()
            for _ in range(self.take(">i")):
                t = self.take(">i")
                if t == CONNECTOR_TASK:
                    conns.append(c)
                else:
                    tasks.append((c, t))
        return conns, tasks


def encode_metadata(st: WorkerState) -> bytes:
    allocation = struct.pack(">h", 1) + _work(st.connectors, st.tasks)
    return (
        struct.pack(">h", 1)
        + _s(st.url)
        + struct.pack(">q", st.config_offset)
        + struct.pack(">i", len(allocation))
        + allocation
    )


def decode_metadata(buf: bytes) -> WorkerState:
    r = _R(buf)
    r.take(">h")
    url, offset = r.string(), r.take(">q")
    conns: list[str] = []
    tasks: list[tuple[str, int]] = []
    if r.p < len(buf) and r.take(">i") > 0:
        r.take(">h")
        conns, tasks = r.work()
    return WorkerState(url, offset, conns, tasks)


def encode_assignment(a: Assignment) -> bytes:
    return (
        struct.pack(">hh", 1, a.error)
        + _s(a.leader)
        + _s(a.leader_url)
        + struct.pack(">q", a.config_offset)
        + _work(a.connectors, a.tasks)
        + _work(a.revoked_connectors, a.revoked_tasks)
        + struct.pack(">i", a.delay_ms)
    )


def decode_assignment(buf: bytes) -> Assignment:
    r = _R(buf)
    r.take(">h")
    error = r.take(">h")
    leader, url, offset = r.string(), r.string(), r.take(">q")
    conns, tasks = r.work()
    rconns, rtasks = r.work()
    delay = r.take(">i")
    return Assignment(error, leader, url, offset, conns, tasks, rconns, rtasks, delay)
