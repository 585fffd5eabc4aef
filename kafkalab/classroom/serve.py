"""``kafkalab serve``: the lab in a web browser, with textual-serve.

Each browser connection (each tab) gets a lab process of its own, started with the options given here (a
lesson, a scenario, a seed), so a teacher hands students one URL per exercise and every student has their
own cluster. There is no authentication: anyone who can reach the address gets a lab. So the server
listens on this machine only (127.0.0.1) unless ``--public`` says otherwise, and it refuses websocket
connections from pages of other origins (a web page elsewhere cannot drive a lab in your browser's name).
In a browser the lab writes no files on the server: ``record``, ``export-lesson`` and the screenshot
become downloads, and lesson progress lives in a directory of that lab's own, gone when its tab closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shlex
import signal
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

__all__ = ["is_local_host", "lab_command", "serve", "server_class"]

log = logging.getLogger("kafkalab.serve")


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this machine only (loopback): ``localhost``, ``127.x.y.z``, ``::1``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def lab_command(argv: list[str]) -> str:
    """The shell command textual-serve runs for each connection: ``python -m kafkalab.cli ARGV`` with a data
    directory of its own (lesson progress belongs to that tab, not to whoever else uses the server), removed
    when the lab ends."""
    lab = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "kafkalab.cli", *argv])
    return f'd=$(mktemp -d) && KAFKALAB_DATA_DIR="$d" {lab}; rc=$?; rm -rf "$d"; exit $rc'


def server_class() -> Any:
    """The server class (textual-serve and aiohttp are imported only when serving)."""
    from aiohttp import web
    from textual_serve.server import Server

    class LabServer(Server):  # type: ignore[misc]
        """textual-serve's server, with the websocket address taken from the page's own address, a check of
        the page's origin, a free port when asked for port 0, and kafkalab's start-up lines."""

        def __init__(self, command: str, host: str, port: int, title: str, lines: list[str]) -> None:
            super().__init__(command, host=host, port=port, title=title)
            self.lines = lines
            self.sock: socket.socket | None = None

        async def on_startup(self, app: web.Application) -> None:
            for line in self.lines:
                print(line.format(url=self.public_url), flush=True)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # the page connects its websocket to the address the browser used (a LAN name, localhost …)
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)  # type: ignore[no-any-return]

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            origin = request.headers.get("Origin")
            if origin and urlsplit(origin).netloc != request.host:
                log.warning("refused a websocket from a page of %s", origin)
                return web.Response(status=403, text="this lab only answers its own page\n")
            return await super().handle_websocket(request)  # type: ignore[no-any-return]

        def bind(self) -> int:
            """Bind the listening socket now (port 0: a free one) and return the port."""
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host.strip("[]"), self.port))
            sock.listen(128)
            sock.setblocking(False)
            self.sock = sock
            self.port = sock.getsockname()[1]
            shown = f"[{self.host}]" if ":" in self.host else self.host
            self.public_url = f"http://{shown}:{self.port}"
            return int(self.port)

        def serve(self, debug: bool = False) -> None:
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGINT, self.request_exit)
                loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            web.run_app(
                self._make_app(),
                sock=self.sock,
                handle_signals=False,
                loop=loop,
                print=lambda *args: None,
            )

    return LabServer


def serve(argv: list[str], host: str, port: int, title: str, lines: list[str]) -> int:
    """Serve the lab (``kafkalab ARGV`` per connection) until Ctrl-C; 1 if the port cannot be bound."""
    try:
        server = server_class()(lab_command(argv), host, port, title, lines)
    except ImportError as e:  # pragma: no cover - textual-serve is a dependency
        print(f"kafkalab serve needs textual-serve ({e}): pip install textual-serve", file=sys.stderr)
        return 1
    try:
        server.bind()
    except OSError as e:
        print(f"kafkalab serve: cannot listen on {host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 1
    server.serve()
    return 0
