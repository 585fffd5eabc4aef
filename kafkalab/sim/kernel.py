"""Deterministic discrete-event kernel: virtual clock, event heap, one seeded RNG, a trace.

Everything in :mod:`kafkalab.sim` runs on top of one :class:`Kernel`. Time is an integer number of
milliseconds that only moves when the kernel pops the next event off its heap. Events are ordered by
``(time_ms, seq)`` where ``seq`` is a counter, so two runs with the same seed and the same actions pop
exactly the same events in exactly the same order and leave identical traces.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from mypy_extensions import mypyc_attr

__all__ = ["Kernel", "Node", "TRACE_KEEP", "Timer", "TraceEvent"]

#: how many of the most recent events the kernel keeps in :attr:`Kernel.trace` (older ones live on only in
#: the running :meth:`Kernel.trace_hash`, and in a lab session's checkpoints); bounds memory in long runs
TRACE_KEEP = 2_000
#: cancelled timers are swept out of the heap once they are this many and more than half of it (a request
#: timeout stays there 30 s of virtual time after its call completed: at 10k requests/s that is 300k timers)
_SWEEP_MIN = 4096


@dataclass(slots=True)
class TraceEvent:
    """One popped event, kept for the timeline, step-through and the replay hash."""

    time_ms: int
    seq: int
    node: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"{self.time_ms} {self.seq} {self.node} {self.kind} {self.detail}"


def _cancelled() -> None:
    """What a cancelled timer holds instead of its callback."""


@dataclass(slots=True, eq=False)
class Timer:
    """Handle of a scheduled event; ``cancel()`` makes the kernel skip it."""

    time_ms: int
    seq: int
    node: Node | None
    incarnation: int
    kind: str
    detail: str
    fn: Callable[[], object]
    cancelled: bool = False
    kernel: Kernel | None = None

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        # a cancelled timer stays in the heap until its time comes (a request timeout: 30 s of virtual
        # time) or the kernel sweeps it out; dropping the callback now frees the closure it holds
        self.fn = _cancelled
        if self.kernel is not None:
            self.kernel._cancelled += 1

    def __lt__(self, other: Timer) -> bool:  # heap tie-break never reaches here: (time, seq) is unique
        return self.seq < other.seq


# interpreted subclasses: via Endpoint, the platform and the wire subclass it; serializable: a checkpoint
# unpickles it without calling __init__
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Node:
    """A simulated process. Killing it drops every event scheduled for its old incarnation."""

    def __init__(self, kernel: Kernel, name: str) -> None:
        self.kernel = kernel
        self.name = name
        self.alive = True
        self.paused = False
        self.incarnation = 0
        self._deferred: list[Timer] = []

    def schedule(self, delay_ms: int, kind: str, fn: Callable[[], object], detail: str = "") -> Timer:
        return self.kernel.schedule(delay_ms, kind, fn, detail, node=self)

    def crash(self) -> None:
        """The process dies: every pending event of this incarnation is dropped."""
        self.alive = False
        self.paused = False
        self.incarnation += 1
        self._deferred.clear()

    def start(self) -> None:
        self.alive = True
        self.paused = False

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        """Run the events that piled up while paused, in their original order, from now on."""
        self.paused = False
        deferred, self._deferred = self._deferred, []
        for t in deferred:
            self.kernel.schedule(0, t.kind, t.fn, t.detail, node=self)


@dataclass(slots=True)
class _Stats:
    events: int = 0
    dropped: int = 0


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Kernel:
    """Virtual clock + event heap + seeded RNG + trace."""

    def __init__(self, seed: int = 0, *, keep_trace: bool = True, trace_keep: int = TRACE_KEEP) -> None:
        self.seed = seed
        self.now_ms: int = 0
        self.rng = random.Random(seed)
        self._heap: list[tuple[int, int, Timer]] = []
        self._seq = 0
        self._cancelled = 0
        self.keep_trace = keep_trace
        #: the most recent ``trace_keep`` events, oldest first (a ring: memory stays bounded)
        self.trace: deque[TraceEvent] = deque(maxlen=max(1, trace_keep))
        self.observers: list[Callable[[TraceEvent], None]] = []
        self.stats = _Stats()
        self._running = False
        self._hash = hashlib.sha256()

    # -- scheduling -----------------------------------------------------------------------------
    def schedule(
        self,
        delay_ms: int,
        kind: str,
        fn: Callable[[], object],
        detail: str = "",
        *,
        node: Node | None = None,
    ) -> Timer:
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        self._seq += 1
        t = Timer(
            self.now_ms + int(delay_ms),
            self._seq,
            node,
            node.incarnation if node is not None else 0,
            kind,
            detail,
            fn,
            False,
            self,
        )
        heapq.heappush(self._heap, (t.time_ms, t.seq, t))
        return t

    @property
    def running(self) -> bool:
        """True while an event callback is executing (client calls must not run the kernel then)."""
        return self._running

    def pending(self) -> int:
        return len(self._heap)

    def sweep(self) -> None:
        """Drop cancelled timers from the heap. Events still pop in exactly the same (time, seq) order."""
        heap = [e for e in self._heap if not e[2].cancelled]
        heapq.heapify(heap)
        self._heap = heap
        self._cancelled = 0

    def next_time_ms(self) -> int | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
            self._cancelled -= 1
        return self._heap[0][0] if self._heap else None

    # -- running --------------------------------------------------------------------------------
    def step(self) -> TraceEvent | None:
        """Pop and run the next live event; returns its trace entry, or None if the heap is empty."""
        if self._cancelled > _SWEEP_MIN and self._cancelled * 2 > len(self._heap):
            self.sweep()
        heap = self._heap
        while heap:
            time_ms, seq, t = heapq.heappop(heap)
            if t.cancelled:
                self._cancelled -= 1
                continue
            node = t.node
            if node is not None:
                if not node.alive or node.incarnation != t.incarnation:
                    self.stats.dropped += 1
                    continue
                if node.paused:
                    node._deferred.append(t)
                    continue
            self.now_ms = time_ms
            ev = TraceEvent(time_ms, seq, node.name if node is not None else "-", t.kind, t.detail)
            self.stats.events += 1
            self._hash.update(f"{time_ms}|{ev.node}|{t.kind}|{t.detail}\n".encode())
            if self.keep_trace:
                self.trace.append(ev)
            self._running = True
            try:
                t.fn()
            finally:
                self._running = False
            for obs in self.observers:
                obs(ev)
            return ev
        return None

    def run_until(self, predicate: Callable[[], bool], timeout_ms: int) -> bool:
        """Run events until ``predicate()`` holds or ``timeout_ms`` of virtual time pass."""
        deadline = self.now_ms + timeout_ms
        if predicate():
            return True
        while True:
            nxt = self.next_time_ms()
            if nxt is None or nxt > deadline:
                self.now_ms = max(self.now_ms, deadline)
                return predicate()
            self.step()
            if predicate():
                return True

    def run_for(self, duration_ms: int) -> None:
        """Run every event due within the next ``duration_ms``; the clock ends exactly there."""
        deadline = self.now_ms + duration_ms
        while True:
            nxt = self.next_time_ms()
            if nxt is None or nxt > deadline:
                break
            self.step()
        self.now_ms = max(self.now_ms, deadline)

    def run_until_time(self, deadline_ms: int, stop_events: int) -> bool:
        """Run events due by ``deadline_ms``, but stop once ``stats.events`` reaches ``stop_events``.

        Returns True when the deadline was reached (the clock then ends exactly there, as with
        :meth:`run_for`), False when it stopped early at ``stop_events`` (the clock stays at the last event).
        Stopping early and calling again gives exactly the run that one call would (time travel takes its
        checkpoints in between).
        """
        stats = self.stats
        while stats.events < stop_events:
            nxt = self.next_time_ms()
            if nxt is None or nxt > deadline_ms:
                self.now_ms = max(self.now_ms, deadline_ms)
                return True
            self.step()
        nxt = self.next_time_ms()
        if nxt is None or nxt > deadline_ms:
            self.now_ms = max(self.now_ms, deadline_ms)
            return True
        return False

    def advance_to(self, time_ms: int) -> None:
        self.run_for(max(0, time_ms - self.now_ms))

    def trace_hash(self) -> str:
        """SHA-256 over every event run so far: equal for equal (seed, actions)."""
        return self._hash.hexdigest()
