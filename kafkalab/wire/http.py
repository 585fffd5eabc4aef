"""The HTTP listeners of Schema Registry (``:8081``) and Kafka Connect (``:8083``) for outside programs.

Each request becomes an input of the live driver (``driver.inject(fn, "http", detail)``, see LIVE.md): at the
current virtual time it is handed to the simulated process that owns the API (``schema-registry-1``,
``connect-1``), which answers from its own events through ``on_done(status, body)``; only then does the socket
get its response. A dead or not yet started process refuses: the connection is closed without an answer.
The request is described completely in ``detail`` (JSON), so a replay of the run can make it again.

``MiniDriver`` is the smallest driver with the same interface (``register``, ``inject``, ``connected``,
``disconnected``, ``run``, ``stop``) for tests and for running before ``kafkalab/wire/driver.py`` (the wire
engineer's ``LiveDriver``, which also records inputs for replays) is merged: swap it in, nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "HTTP_INPUT",
    "HttpListener",
    "ListenError",
    "MiniDriver",
    "apply_http_input",
    "listen_platform",
    "register_http_inputs",
    "serve_platform",
    "start_platform",
]

HTTP_INPUT = "http"
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
MAX_BODY = 4 * 1024 * 1024


def _node(session: Any, name: str) -> Any:
    from ..platform.process import PlatformProcess

    node = session.cluster.net.nodes.get(name)
    return node if isinstance(node, PlatformProcess) else None


def apply_http_input(
    session: Any,
    detail: str,
    on_done: Callable[[int, bytes], None] | None = None,
    on_refused: Callable[[], None] | None = None,
) -> None:
    """Perform the HTTP request ``detail`` describes on the session's platform process (live or in a replay)."""
    d = json.loads(detail)
    node = _node(session, d["node"])
    if node is None:
        if on_refused is not None:
            on_refused()
        return
    node.accept(
        d["method"],
        d["path"],
        d["query"],
        d["body"].encode("latin-1"),
        on_done or (lambda _s, _b: None),
        on_refused or (lambda: None),
    )


def register_http_inputs(driver: Any) -> None:
    driver.register(HTTP_INPUT, lambda session, detail: apply_http_input(session, detail))


class ListenError(OSError):
    """A listener could not bind its port; ``strerror`` is the one-line message, ``node`` and ``port`` say
    which listener it was (``kafkalab cluster`` names the option that moves it)."""

    def __init__(self, errno: int | None, message: str, node: str, port: int) -> None:
        super().__init__(errno, message)
        self.node = node
        self.port = port


class HttpListener:
    """One listening socket in front of one platform process (by node name)."""

    def __init__(
        self, driver: Any, node: str, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 60.0
    ) -> None:
        self.driver = driver
        self.node = node
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen; a busy port raises OSError saying which port and what to do."""
        try:
            self.server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as e:
            reason = os.strerror(e.errno) if e.errno else e.strerror
            raise ListenError(
                e.errno,
                f"cannot listen on {self.host}:{self.port} for {self.node}: the port is busy "
                f"({reason}); choose another port",
                self.node,
                self.port,
            ) from None
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.driver.connected()
        try:
            while True:
                req = await self._read(reader, writer)
                if req is None:
                    break
                method, path, query, body, keep = req
                loop = asyncio.get_running_loop()
                fut: asyncio.Future[tuple[int, bytes] | None] = loop.create_future()

                def done(status: int, data: bytes, fut: asyncio.Future[Any] = fut) -> None:
                    if not fut.done():
                        fut.set_result((status, data))

                def refused(fut: asyncio.Future[Any] = fut) -> None:
                    if not fut.done():
                        fut.set_result(None)

                detail = json.dumps(
                    {
                        "node": self.node,
                        "method": method,
                        "path": path,
                        "query": query,
                        "body": body.decode("latin-1"),
                    }
                )
                self.driver.inject(
                    lambda d=detail, a=done, r=refused: apply_http_input(self.driver.session, d, a, r),
                    HTTP_INPUT,
                    detail,
                )
                try:
                    answer = await asyncio.wait_for(fut, self.timeout_s)
                except TimeoutError:
                    answer = None
                if answer is None:  # the process is down (or died answering): no HTTP answer at all
                    break
                status, data = answer
                head = (
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    f"{'' if keep else 'Connection: close' + chr(13) + chr(10)}\r\n"
                )
                writer.write(head.encode() + data)
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.driver.disconnected()
            with contextlib.suppress(Exception):
                writer.close()

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[str, str, dict[str, str], bytes, bool] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        try:
            n = int(headers.get("content-length", "0"))
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_BODY:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        body = await reader.readexactly(n) if n else b""
        url = urlsplit(parts[1])
        keep = headers.get("connection", "").lower() != "close" and parts[2] == "HTTP/1.1"
        return (
            parts[0].upper(),
            url.path or "/",
            dict(parse_qsl(url.query, keep_blank_values=True)),
            body,
            keep,
        )


class MiniDriver:
    """Advances ``session`` at 1× wall time in an asyncio loop and runs injected inputs between events.

    The subset of ``kafkalab.wire.driver.LiveDriver`` the HTTP listeners need (without its input recording).
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs: dict[str, Callable[[Any, str], object]] = {}
        self.connections = 0
        self._pending: deque[Callable[[], object]] = deque()
        self._stopped = False
        self._wake: asyncio.Event | None = None

    def register(self, kind: str, apply: Callable[[Any, str], object]) -> None:
        self.inputs[kind] = apply

    def inject(self, fn: Callable[[], object] | None, kind: str, detail: str) -> None:
        apply = self.inputs[kind]
        self._pending.append(fn if fn is not None else (lambda: apply(self.session, detail)))
        if self._wake is not None:
            self._wake.set()

    def connected(self) -> None:
        self.connections += 1

    def disconnected(self) -> None:
        self.connections = max(0, self.connections - 1)

    def stop(self) -> None:
        self._stopped = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        last = time.perf_counter()
        while not self._stopped:
            while self._pending:
                self._pending.popleft()()
            now = time.perf_counter()
            ms = int((now - last) * 1000)
            if ms > 0:
                last += ms / 1000
                self.session.tick(min(ms, 250))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.002)


async def listen_platform(
    driver: Any, host: str = "127.0.0.1", registry_port: int = 8081, connect_port: int = 8083
) -> list[HttpListener]:
    """Bind the listeners of Schema Registry and Connect (port 0: a free one); a busy port raises
    :class:`ListenError` naming it, and nothing stays bound. Until the processes run (:func:`start_platform`)
    their ports close connections without an answer, as a process that is still starting does."""
    register_http_inputs(driver)
    listeners = [
        HttpListener(driver, "schema-registry-1", host, registry_port),
        HttpListener(driver, "connect-1", host, connect_port),
    ]
    started: list[HttpListener] = []
    try:
        for li in listeners:
            await li.start()
            started.append(li)
    except OSError:
        for li in started:
            await li.close()
        raise
    return listeners


def start_platform(driver: Any, listeners: list[HttpListener]) -> list[str]:
    """Start Schema Registry and a Connect cluster in the driver's session (unless they run already; this
    runs the simulation until the registry has a leader and every worker joined its group, a few seconds of
    virtual time); returns the URL lines ``schema.registry.url=...`` and ``connect.url=...``."""
    from ..commands import execute

    for line in ("schema-registry start", "connect start"):
        result = execute(driver.session, line)
        if not result.ok and "already started" not in (result.error or ""):
            raise RuntimeError(f"{line}: {result.error}")
    return [f"schema.registry.url={listeners[0].url}", f"connect.url={listeners[1].url}"]


async def serve_platform(
    driver: Any, host: str = "127.0.0.1", registry_port: int = 8081, connect_port: int = 8083
) -> tuple[list[HttpListener], list[str]]:
    """:func:`listen_platform`, then :func:`start_platform`: the listeners and the lines ``kafkalab cluster``
    and ``sandbox --listen`` print (``schema.registry.url=...``, ``connect.url=...``)."""
    listeners = await listen_platform(driver, host, registry_port, connect_port)
    try:
        return listeners, start_platform(driver, listeners)
    except Exception:
        for li in listeners:
            await li.close()
        raise
