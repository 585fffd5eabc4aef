"""Kafka listeners inside the lab app (``kafkalab sandbox --listen PORT``).

The app keeps its own timer; while an outside client is connected the :class:`LiveDriver` takes over the
clock (1× real time, through the app's ``_sim_tick`` so a lesson still checks its goals) and the app's
timer only repaints. Pausing the lab (Space) stops the clock for outside clients too.

With the Kafka listeners, Schema Registry and a Connect cluster start in the lab (unless ``platform_ports``
is None) and listen on their own ports (default 8081 and 8083), so outside programs reach their REST APIs.
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
    def __init__(
        self,
        session: Any,
        port: int,
        advance: Callable[[int], None],
        platform_ports: tuple[int, int] | None = None,
    ) -> None:
        self.port = port
        self.driver = LiveDriver(session, advance=advance)
        self.server = WireServer(self.driver, port=port)
        #: (Schema Registry, Connect) ports to serve too; None: Kafka listeners only
        self.platform_ports = platform_ports
        #: the lines to show after :meth:`start`'s (the platform's URLs, or why they are not served)
        self.platform_lines: list[str] = []
        self.http: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._was_live = False

    async def start(self) -> str:
        """Listen and start driving; returns the line to show (the bootstrap servers, or why not).

        With ``platform_ports``, Schema Registry and Connect start too; :attr:`platform_lines` then holds
        ``schema.registry.url=...`` and ``connect.url=...`` (or the busy port's one-line error)."""
        try:
            await self.server.start()
        except OSError as e:
            await self.server.stop()
            last = self.port + len(self.driver.session.cluster.brokers) - 1
            return f"cannot listen on 127.0.0.1:{self.port}..{last}: {e.strerror or e}"
        if self.platform_ports is not None:
            self.platform_lines = await self._start_platform(*self.platform_ports)
        self._task = asyncio.get_running_loop().create_task(self.driver.run())
        return (
            f"Kafka listeners up: bootstrap.servers={self.server.bootstrap_servers} "
            "(while a client is connected the lab runs at 1x real time)"
        )

    async def _start_platform(self, registry_port: int, connect_port: int) -> list[str]:
        from .http import ListenError, listen_platform, start_platform

        try:
            self.http = await listen_platform(self.driver, "127.0.0.1", registry_port, connect_port)
        except ListenError as e:
            option = "--schema-registry-port" if e.node.startswith("schema") else "--connect-port"
            return [f"{e.strerror} ({option}); Schema Registry and Connect are not served"]
        try:
            return start_platform(self.driver, self.http)
        except RuntimeError as e:
            return [f"Schema Registry and Connect are not served: {e}"]

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
            return "an outside client connected (Kafka or HTTP): the lab now runs at 1x real time"
        return "no outside client is connected any more: the lab's own speed applies again"

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
        for li in self.http:
            await li.close()
        await self.server.stop()
