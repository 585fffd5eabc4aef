"""Kafka listeners inside the lab app (``kafkalab sandbox --listen PORT``).

The app keeps its own timer; while an outside client is connected the :class:`LiveDriver` takes over the
clock (1× real time, through the app's ``_sim_tick`` so a lesson still checks its goals) and the app's
timer only repaints. Pausing the lab (Space) stops the clock for outside clients too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .driver import LiveDriver
from .server import WireServer

__all__ = ["AppListener"]

log = logging.getLogger("kafkalab.wire")


class AppListener:
    def __init__(self, session: Any, port: int, advance: Callable[[int], None]) -> None:
        self.port = port
        self.driver = LiveDriver(session, advance=advance)
        self.server = WireServer(self.driver, port=port)
        self._task: asyncio.Task[None] | None = None
        self._was_live = False

    async def start(self) -> str:
        """Listen and start driving; returns the line to show (the bootstrap servers, or why not)."""
        try:
            await self.server.start()
        except OSError as e:
            await self.server.stop()
            last = self.port + len(self.driver.session.cluster.brokers) - 1
            return f"cannot listen on 127.0.0.1:{self.port}..{last}: {e.strerror or e}"
        self._task = asyncio.get_running_loop().create_task(self.driver.run())
        return (
            f"Kafka listeners up: bootstrap.servers={self.server.bootstrap_servers} "
            "(while a client is connected the lab runs at 1x real time)"
        )

    @property
    def driving(self) -> bool:
        """True while outside clients are connected: the driver owns the clock."""
        return self._task is not None and self.driver.live

    def change(self) -> str | None:
        """A line for the console when outside clients came or all went, else None."""
        live = self.driving
        if live == self._was_live:
            return None
        self._was_live = live
        if live:
            return "an outside Kafka client connected: the lab now runs at 1x real time"
        return "no outside Kafka client is connected any more: the lab's own speed applies again"

    def set_paused(self, paused: bool) -> None:
        self.driver.set_paused(paused)

    def session_replaced(self, session: Any) -> None:
        """The app swapped in another session object: drive that one (live connections are dropped)."""
        if session is not self.driver.session:
            inputs = self.driver.session.inputs
            session.inputs.update(inputs)
            self.driver.session = session
            self.driver._generation = -1  # noqa: SLF001 - makes the next slice treat it as a rewind
            self.driver.wake()

    async def stop(self) -> None:
        self.driver.stop()
        if self._task is not None:
            await self._task
        await self.server.stop()
