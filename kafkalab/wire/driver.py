"""``LiveDriver``: runs a lab session live for outside programs (see /LIVE.md of the team docs).

The simulation never reads the wall clock. When real clients connect (the Kafka wire protocol, the HTTP APIs
of Schema Registry and Connect), an asyncio loop owns the session: the driver advances virtual time at 1× wall
time while any outside connection is open (always, for the headless ``kafkalab cluster``), and socket code
hands it work with :meth:`LiveDriver.inject`. Injected work runs between two simulation events, at the
current virtual time, and is recorded in the session's action log with its position (events run, virtual
time), so a rewind replays it at exactly the same place.

Only the loop that runs the driver touches the session. Nothing here blocks: the driver advances in slices
of bounded wall time and sleeps until the next event is due or new work arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..commands.session import LabSession

__all__ = ["LiveDriver"]

log = logging.getLogger("kafkalab.wire")

#: wall time one slice of simulation may take before sockets get their turn
SLICE_BUDGET_S = 0.005
#: virtual ms run between two looks at the wall-time budget
SLICE_MS = 2
#: when the simulation falls further behind wall time than this, it runs slower instead of catching up
MAX_DEBT_MS = 250
#: events due up to this many virtual ms ahead of the wall clock run at once, so a request's round trips
#: inside the cluster (replication for acks=all) need not wait for the wall; idle time never runs ahead
LOOKAHEAD_MS = 20
#: how often an idle driver wakes up anyway
IDLE_CHECK_S = 0.1


class LiveDriver:
    """Advances ``session`` at 1× wall time while outside connections are open; injects outside work as
    recorded inputs.

    ``advance(ms)`` is how virtual time moves (default ``session.tick``; the lab app passes its own so a lesson
    checks its goals). ``always_live`` keeps time running with no connection open (headless clusters).
    """

    def __init__(
        self,
        session: LabSession,
        *,
        advance: Callable[[int], None] | None = None,
        always_live: bool = False,
    ) -> None:
        self.session = session
        self._advance = advance
        self.always_live = always_live
        #: open outside connections (wire sockets, HTTP connections); time runs at 1× while > 0
        self.connections = 0
        #: the lab app's pause (Space): time stands still even with clients connected
        self.paused = False
        #: called after every slice of simulation (the wire server checks broker processes here)
        self.tick_listeners: list[Callable[[], None]] = []
        #: called when the session was rebuilt (a rewind): live connections must be dropped
        self.rewind_listeners: list[Callable[[], None]] = []
        #: virtual ms not run because the simulation could not keep up with wall time
        self.dropped_ms = 0
        self._pending: deque[tuple[Callable[[], object] | None, str, str]] = deque()
        self._generation = session.generation
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rebase = True
        self._stopped = False
        self._base_wall = 0.0
        self._base_virtual = 0

    # -- inputs -------------------------------------------------------------------------------------------
    def register(self, kind: str, apply: Callable[[LabSession, str], object]) -> None:
        """``apply(session, detail)`` performs an input of ``kind``; replays call it at the recorded position."""
        self.session.inputs[kind] = apply

    def inject(self, fn: Callable[[], object] | None, kind: str, detail: str) -> None:
        """Run ``fn`` (None: the registered handler of ``kind`` with ``detail``) between two simulation events,
        at the current virtual time, recording ``(kind, detail)`` there. ``detail`` must say everything the
        registered handler needs to do the same again in a replay."""
        if kind not in self.session.inputs:
            raise KeyError(f"register a handler for {kind!r} inputs first")
        self._pending.append((fn, kind, detail))
        self.wake()

    def flush(self) -> None:
        """Apply every injected input now (the caller is between two simulation events)."""
        self.check_rewind()
        while self._pending:
            fn, kind, detail = self._pending.popleft()
            try:
                self.session.apply_input(kind, detail, fn)
            except Exception:  # an input that fails must not stop the others or the loop
                log.exception("live: the %s input %r failed", kind, detail[:80])

    def check_rewind(self) -> None:
        gen = self.session.generation
        if gen != self._generation:
            self._generation = gen
            self._rebase = True
            for fn in list(self.rewind_listeners):
                fn()

    # -- connections --------------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """True while time runs at 1× (outside connections open, or a headless cluster)."""
        return self.always_live or self.connections > 0

    def connected(self) -> None:
        if self.connections == 0:
            self._rebase = True
        self.connections += 1
        self.wake()

    def disconnected(self) -> None:
        self.connections = max(0, self.connections - 1)
        self.wake()

    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self._rebase = True
            self.wake()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self.wake()

    # -- the loop -----------------------------------------------------------------------------------------
    def _tick(self, ms: int) -> None:
        if self._advance is not None:
            self._advance(ms)
        else:
            self.session.tick(ms)

    def run_slice(self, now_wall: float) -> float | None:
        """Apply inputs and run the simulation up to ``now_wall`` (or until the slice budget is spent).

        Returns how long (wall seconds) the loop may sleep before the next event is due: 0 when there is
        still work, None when nothing is scheduled (or time stands still).
        """
        self.flush()
        if not self.live or self.paused:
            for fn in list(self.tick_listeners):
                fn()
            self.flush()
            return None
        kernel = self.session.cluster.kernel
        if self._rebase:
            self._rebase = False
            self._base_wall, self._base_virtual = now_wall, kernel.now_ms
        target = self._base_virtual + int((now_wall - self._base_wall) * 1000)
        if kernel.now_ms > target + LOOKAHEAD_MS:
            # someone ran the simulation ahead (a console command that waits, a test's call()): go on from there
            self._base_wall, self._base_virtual = now_wall, kernel.now_ms
            target = kernel.now_ms
        lag = target - kernel.now_ms
        if lag > MAX_DEBT_MS:
            self.dropped_ms += lag - MAX_DEBT_MS
            self._base_virtual -= lag - MAX_DEBT_MS
            target = kernel.now_ms + MAX_DEBT_MS
        horizon = target + LOOKAHEAD_MS
        deadline = time.perf_counter() + SLICE_BUDGET_S
        more = False
        while True:
            nxt = kernel.next_time_ms()
            if nxt is None or nxt > horizon:
                if kernel.now_ms >= target:
                    break
                self._tick(target - kernel.now_ms)  # idle time keeps pace with the wall clock
            else:
                # events within the look-ahead run now: a request's round trips need not wait for the wall
                upto = min(horizon, max(nxt, kernel.now_ms + 1) + SLICE_MS)
                if upto <= kernel.now_ms:
                    break
                self._tick(upto - kernel.now_ms)
            kernel = self.session.cluster.kernel  # a listener may have rewound the session
            if time.perf_counter() > deadline:
                more = True
                break
        for fn in list(self.tick_listeners):
            fn()
        self.flush()
        if more:
            return 0.0
        nxt = kernel.next_time_ms()
        if nxt is None:
            return None
        if nxt <= horizon:
            return 0.001  # due now but the clock may not pass the horizon: wait for the wall to move
        return (nxt - horizon) / 1000

    async def run(self) -> None:
        """Drive the session until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        self._rebase = True
        while not self._stopped:
            self._wake.clear()
            try:
                sleep = self.run_slice(loop.time())
            except Exception:  # never let one bad slice stop the clock for every client
                log.exception("live: the simulation raised; it goes on with the next event")
                sleep = 0.0
            if self._stopped:
                break
            if sleep == 0.0:
                await asyncio.sleep(0)
                continue
            if sleep is None:
                sleep = IDLE_CHECK_S  # nothing due: still look at broker processes now and then
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=sleep)
