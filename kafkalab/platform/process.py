"""What every platform process shares: a network node that owns Kafka clients, HTTP on the simulated network.

A :class:`PlatformProcess` is one simulated JVM (a Schema Registry instance, a Connect worker). It is a node
of the cluster's network, named like its host (``schema-registry-1``, ``connect-1``), and it owns the Kafka
clients it creates: killing it (``kill -9``) crashes them all at once, restarting it starts fresh clients that
rebuild the process's state from Kafka, as the real ones do.

HTTP between simulated programs travels over the same network: :class:`HttpClient` sends a request to the
node named by the URL's host; the service answers from its own events through ``on_done(status, body)``.
A dead service refuses the connection (curl's ``(7) Failed to connect``), a partitioned or paused one lets the
request time out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..sim.cluster import Cluster
from ..sim.kernel import Timer
from ..sim.network import Endpoint

__all__ = [
    "HttpClient",
    "HttpError",
    "OnDone",
    "PlatformProcess",
    "json_body",
    "parse_url",
]

#: ``on_done(status, body)``: how a service hands an HTTP answer back (body: UTF-8 JSON or text)
OnDone = Callable[[int, bytes], None]


def json_body(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class HttpError(Exception):
    """A request that got no HTTP answer: the connection was refused or timed out."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "refused" | "timeout" | "host"


def parse_url(url: str) -> tuple[str, int, str, dict[str, str]]:
    """(host, port, path, query) of ``http://host:port/path?query``; raises ValueError naming the problem."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported protocol '{parts.scheme}' (use http://)")
    if not parts.hostname:
        raise ValueError(f"no host in URL '{url}'")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"bad port in URL '{url}'") from None
    return parts.hostname, port, parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


class PlatformProcess(Endpoint):
    """A simulated process of Kafka's ecosystem; subclasses implement ``boot()`` and ``handle()``."""

    #: the port its REST API listens on (None: no HTTP)
    http_port: int | None = None

    def __init__(self, cluster: Cluster, name: str) -> None:
        super().__init__(cluster.kernel, cluster.net, name)
        self.cluster = cluster
        self.clients: list[Endpoint] = []
        #: False until the process has finished starting (its REST API answers only then)
        self.ready = False
        self.restarts = 0
        self._timers: list[Timer] = []

    # -- lifecycle ---------------------------------------------------------------------------------------
    def own(self, client: Any) -> Any:
        """Remember a client this process created: it dies with the process."""
        self.clients.append(client)
        return client

    def boot(self) -> None:
        """Start (again): subclasses create their clients and begin their work here."""
        raise NotImplementedError

    def kill(self) -> None:
        """``kill -9``: the process and every client it owns stop at once; nothing is flushed or closed."""
        if not self.alive:
            return
        for c in self.clients:
            if c.alive:
                c.crash()
        self.clients = []
        self.ready = False
        self.crash()
        self.cluster.note(f"{self.name} died (kill -9)", "platform")

    def restart(self) -> None:
        """Start a killed process: fresh clients, state rebuilt from Kafka."""
        if self.alive:
            return
        self.start()
        self.restarts += 1
        self.cluster.note(f"{self.name} restarted", "platform")
        self.boot()

    def later(self, delay_ms: int, kind: str, fn: Callable[[], object], detail: str = "") -> Timer:
        return self.schedule(delay_ms, kind, fn, detail or self.name)

    def client_name(self, role: str) -> str:
        """A unique client name for this process and role (``connect-1-configs-1``)."""
        return self.cluster.next_client_name(f"{self.name}-{role}")

    # -- HTTP --------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: bytes, on_done: OnDone) -> None:
        """Answer one HTTP request (runs in an event of this node); ``on_done`` may be called later."""
        raise NotImplementedError

    def accept(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        on_done: OnDone,
        on_refused: Callable[[], None],
    ) -> None:
        """Entry for requests from outside the simulation (the live HTTP listener, at the current time).

        The request becomes an event of this node: if the process is dead (or not started yet) the
        connection is refused at once; if it dies before answering, ``on_done`` is never called.
        """
        if not self.alive or not self.ready:
            on_refused()
            return
        self.schedule(0, "http", lambda: self.handle(method, path, query, body, on_done), f"{method} {path}")


class HttpClient(Endpoint):
    """An HTTP client inside the simulation (``curl`` in the console, a converter, a forwarding worker)."""

    def __init__(self, cluster: Cluster, name: str | None = None) -> None:
        super().__init__(cluster.kernel, cluster.net, name or cluster.next_client_name("http-client"))
        self.cluster = cluster

    def request(
        self,
        host: str,
        port: int,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        on_response: Callable[[int, bytes], None],
        on_error: Callable[[HttpError], None],
        timeout_ms: int = 30_000,
    ) -> None:
        node = self.net.nodes.get(host)
        if not isinstance(node, PlatformProcess) or node.http_port != port:
            on_error(HttpError("refused", f"Failed to connect to {host} port {port}: Connection refused"))
            return
        if not node.ready and node.alive:
            on_error(HttpError("refused", f"Failed to connect to {host} port {port}: Connection refused"))
            return

        def handler(respond: Callable[[Any], None]) -> None:
            if not node.ready:
                respond(None)
                return
            node.handle(method, path, query, body, lambda status, data: respond((status, data)))

        def ok(resp: Any) -> None:
            if resp is None:
                on_error(HttpError("refused", f"Failed to connect to {host} port {port}: Connection refused"))
            else:
                on_response(int(resp[0]), bytes(resp[1]))

        def fail(err: str) -> None:
            if err == "REQUEST_TIMED_OUT":
                on_error(
                    HttpError(
                        "timeout",
                        f"Operation timed out after {timeout_ms} milliseconds with 0 bytes received",
                    )
                )
            else:
                on_error(HttpError("refused", f"Failed to connect to {host} port {port}: Connection refused"))

        self.call(host, "http", handler, ok, fail, timeout_ms, f"{method} {path}")

    def request_blocking(
        self,
        host: str,
        port: int,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: bytes = b"",
        timeout_ms: int = 30_000,
    ) -> tuple[int, bytes]:
        """The same, running the simulation until the answer (only outside simulation events)."""
        if self.kernel.running:
            raise RuntimeError("a blocking HTTP call cannot run inside a simulation event")
        out: list[tuple[int, bytes]] = []
        errs: list[HttpError] = []
        self.request(
            host,
            port,
            method,
            path,
            query or {},
            body,
            lambda s, b: out.append((s, b)),
            errs.append,
            timeout_ms,
        )
        self.cluster.run_until(lambda: bool(out or errs), timeout_ms + 1000)
        if errs:
            raise errs[0]
        if not out:
            raise HttpError(
                "timeout", f"Operation timed out after {timeout_ms} milliseconds with 0 bytes received"
            )
        return out[0]
