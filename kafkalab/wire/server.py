"""The Kafka listeners: one TCP port per simulated broker on 127.0.0.1, in the driver's asyncio loop.

This is the only place that touches sockets. It cuts the byte stream into frames (``int32 size | request``),
checks each frame completely (size, API key and version, header and body), and hands good ones to the
simulation as recorded inputs; a bad frame closes that connection with a logged reason and reaches nothing
else. Answers come back from the simulation already in request order (a connection handles one request at a
time, as Kafka's socket server does) and are written as they come.

A killed broker's port stops listening and its connections close; a restarted one listens again on the same
port. After a rewind every live connection is dropped (clients reconnect to the rewound cluster).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import TYPE_CHECKING, Any

from .apis import SUPPORTED
from .codec import MAX_FRAME_BYTES, FrameError, parse_request
from .node import OUTSIDE, WireInputs

if TYPE_CHECKING:
    from .driver import LiveDriver

__all__ = ["WireServer"]

log = logging.getLogger("kafkalab.wire")

_SIZE = struct.Struct(">i")
#: stop reading a connection while this many of its requests wait in the simulation (Kafka mutes too)
_PAUSE_AT = 64
_RESUME_AT = 16


class WireServer:
    """Kafka listeners for every broker of the driver's session."""

    def __init__(self, driver: LiveDriver, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.driver = driver
        self.host = host
        self.base_port = port
        self.inputs = WireInputs({})
        driver.register(WireInputs.KIND, self.inputs)
        driver.tick_listeners.append(self._check_brokers)
        driver.rewind_listeners.append(self._on_rewind)
        self.ports: dict[int, int] = {}
        self._servers: dict[int, asyncio.Server | None] = {}
        self._reopening: set[int] = set()
        self._conns: dict[int, _Connection] = {}
        #: reasons connections were closed for bad frames (most recent last), for tests and the status line
        self.closed_reasons: list[str] = []

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{self.host}:{self.ports[b]}" for b in sorted(self.ports))

    # -- lifecycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        cluster = self.driver.session.cluster
        for i, bid in enumerate(sorted(cluster.brokers)):
            port = self.base_port + i if self.base_port else 0
            server = await self._listen(bid, port)
            self.ports[bid] = server.sockets[0].getsockname()[1]
            self.inputs.advertised[bid] = (self.host, self.ports[bid])
            self._servers[bid] = server
            if not cluster.brokers[bid].alive:
                server.close()
                self._servers[bid] = None
        self._attach()

    async def _listen(self, bid: int, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            lambda: _Connection(self, bid), self.host, port, reuse_address=True, backlog=128
        )

    async def stop(self) -> None:
        for conn in list(self._conns.values()):
            conn.drop("the lab is shutting down")
        for bid, server in list(self._servers.items()):
            if server is not None:
                server.close()
                await server.wait_closed()
            self._servers[bid] = None

    def _attach(self) -> None:
        if OUTSIDE not in self.driver.session.cluster.net.nodes:
            self.driver.inject(None, WireInputs.KIND, "attach")

    # -- broker processes come and go ---------------------------------------------------------------------
    def _check_brokers(self) -> None:
        cluster = self.driver.session.cluster
        for bid, b in cluster.brokers.items():
            server = self._servers.get(bid)
            if not b.alive and server is not None:
                server.close()
                self._servers[bid] = None
                for conn in [c for c in self._conns.values() if c.broker_id == bid]:
                    conn.close_from_server(f"broker {bid} is down")
            elif b.alive and server is None and bid in self.ports and bid not in self._reopening:
                self._reopening.add(bid)
                asyncio.get_running_loop().create_task(self._reopen(bid))
        world = self.inputs.world(self.driver.session)
        for cid, conn in list(self._conns.items()):
            node = world.conns.get(cid)
            if node is not None and node.broker_incarnation != cluster.brokers[node.broker_id].incarnation:
                conn.close_from_server(f"broker {node.broker_id} restarted")

    async def _reopen(self, bid: int) -> None:
        try:
            b = self.driver.session.cluster.brokers[bid]
            if b.alive and self._servers.get(bid) is None:
                self._servers[bid] = await self._listen(bid, self.ports[bid])
        except OSError as e:
            log.warning("wire: broker %s could not listen on port %s again: %s", bid, self.ports[bid], e)
        finally:
            self._reopening.discard(bid)

    def _on_rewind(self) -> None:
        for conn in list(self._conns.values()):
            conn.drop("the lab was rewound")
        world = self.inputs.world(self.driver.session)
        for cid in sorted(world.conns):
            self.driver.inject(None, WireInputs.KIND, f"close {cid} the lab was rewound")
        self._attach()

    # -- connection bookkeeping ---------------------------------------------------------------------------
    def _opened(self, conn: _Connection) -> int:
        cid = self.inputs.next_conn_id
        self.inputs.next_conn_id += 1
        self._conns[cid] = conn
        self.inputs.sinks[cid] = conn
        self.driver.connected()
        self.driver.inject(None, WireInputs.KIND, f"open {cid} {conn.broker_id} {conn.peer}")
        return cid

    def _closed(self, conn: _Connection) -> None:
        if self._conns.pop(conn.cid, None) is not None:
            self.inputs.sinks.pop(conn.cid, None)
            node = self.inputs.world(self.driver.session).conns.get(conn.cid)
            if node is not None and node.sink is conn:
                node.sink = None
            self.driver.disconnected()


def _no_socket() -> None:
    return None


class _Connection(asyncio.Protocol):
    """One client socket: frames in, answers out."""

    def __reduce__(self) -> tuple[Any, ...]:
        # a checkpoint of the run that holds this socket restores without it (a rewind drops connections)
        return (_no_socket, ())

    def __init__(self, server: WireServer, broker_id: int) -> None:
        self.server = server
        self.broker_id = broker_id
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.cid = -1
        self.buf = bytearray()
        self.closed = False
        self.waiting = 0
        self.paused = False

    # -- asyncio callbacks --------------------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.cid = self.server._opened(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        buf = self.buf
        buf += data
        pos = 0
        n = len(buf)
        while n - pos >= 4:
            (size,) = _SIZE.unpack_from(buf, pos)
            if size < 0 or size > MAX_FRAME_BYTES:
                self._bad(f"invalid request size {size} (socket.request.max.bytes is {MAX_FRAME_BYTES})")
                return
            if n - pos - 4 < size:
                break
            frame = bytes(buf[pos + 4 : pos + 4 + size])
            pos += 4 + size
            try:
                parsed = parse_request(frame, SUPPORTED)
            except FrameError as e:
                self._bad(str(e))
                return
            inputs = self.server.inputs
            num = inputs.add_frame(frame, parsed)
            self.waiting += 1
            self.server.driver.inject(None, WireInputs.KIND, f"req {self.cid} {num}")
        if pos:
            del buf[:pos]
        if self.waiting >= _PAUSE_AT and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self.server.driver.inject(
                None, WireInputs.KIND, f"close {self.cid} the client closed the connection"
            )
            self.server._closed(self)

    # -- the simulation's side (ConnectionSink) -----------------------------------------------------------
    def send(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def close(self, reason: str) -> None:
        """The simulated broker closed this connection (its node decided so; nothing to record)."""
        if self.closed:
            return
        log.info(
            "wire: closing connection %s from %s to broker %s: %s",
            self.cid,
            self.peer,
            self.broker_id,
            reason,
        )
        self._shut()

    def request_done(self, queued: int) -> None:
        self.waiting = max(0, self.waiting - 1)
        if self.paused and self.waiting <= _RESUME_AT and self.transport is not None and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    # -- closing from here --------------------------------------------------------------------------------
    def _bad(self, reason: str) -> None:
        log.warning("wire: closing connection from %s to broker %s: %s", self.peer, self.broker_id, reason)
        self.server.closed_reasons.append(reason)
        del self.server.closed_reasons[:-100]
        self.close_from_server(f"bad request: {reason}")

    def close_from_server(self, reason: str) -> None:
        """Close the socket and record the close in the simulation."""
        if self.closed:
            return
        reason = " ".join(reason.split())
        self.server.driver.inject(None, WireInputs.KIND, f"close {self.cid} {reason}")
        self._shut()

    def drop(self, reason: str) -> None:
        """Close the socket without recording anything (the session it belonged to is gone)."""
        if self.closed:
            return
        log.info("wire: dropping connection from %s to broker %s: %s", self.peer, self.broker_id, reason)
        self._shut()

    def _shut(self) -> None:
        self.closed = True
        self.buf = bytearray()
        if self.transport is not None:
            self.transport.close()
        self.server._closed(self)
