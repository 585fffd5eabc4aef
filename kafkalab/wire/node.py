"""Outside connections as simulation nodes, and the recorded inputs that create and feed them.

Each TCP connection of a real Kafka client becomes a :class:`WireConnection`, a node of the simulated
network (``conn-<id>``) linked to the broker whose port it connected to. Like Kafka's socket server, a
connection handles one request at a time in arrival order: a request travels the simulated link to the
broker, runs there as a simulation event, and its answer travels back; only then does the next one start.
So kills, pauses and network partitions act on outside clients exactly as on the lab's own.

Everything a connection receives enters the simulation as a recorded input (kind ``wire``) of the
:class:`~kafkalab.commands.session.LabSession`: ``attach``, ``open ID BROKER HOST:PORT``, ``req ID FRAME``,
``close ID REASON``. A rewind replays them at the same positions; answers then go nowhere (the sockets of
that time are gone). The sockets themselves live in :mod:`kafkalab.wire.server`; this module never touches
one. What a node decides (closing because its broker died, say) depends only on the simulation, so a replay
decides the same.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..sim.kernel import Node
from ..sim.network import Endpoint
from .codec import FrameError, ParsedRequest, encode_response, parse_request

if TYPE_CHECKING:
    from ..commands.session import LabSession
    from ..sim.broker import Broker
    from ..sim.cluster import Cluster

__all__ = [
    "ConnectionSink",
    "OUTSIDE",
    "OutsideProducer",
    "RequestContext",
    "WireConnection",
    "WireInputs",
    "WireWorld",
]

log = logging.getLogger("kafkalab.wire")

#: the node that stands for "every outside client": a partition that cuts it off cuts off new connections too
OUTSIDE = "outside"
#: longest a connection waits for its broker's answer before it gives up and closes (virtual ms)
DEFAULT_WAIT_MS = 120_000


class ConnectionSink(Protocol):
    """The socket side of one connection (see :mod:`kafkalab.wire.server`)."""

    def send(self, data: bytes) -> None: ...

    def close(self, reason: str) -> None: ...

    def request_done(self, queued: int) -> None: ...


@dataclass
class OutsideProducer:
    """What the lab's producers panel shows about an outside producer (duck-typed like the lab's own)."""

    name: str
    acks: int
    idempotent: bool
    peer: str
    #: librdkafka's default; the broker cannot see a client's linger.ms
    linger_ms: int | None = None
    acked_records: int = 0
    failed_records: int = 0
    in_flight: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    outside: bool = True
    topics: set[str] = field(default_factory=set)

    def in_flight_batches(self) -> list[int]:
        return [0] * self.in_flight


class WireWorld:
    """The wire listener's part of one simulated run: its connection nodes and outside producers.

    Kept in the session's ``extension_state`` so a rewind, which rebuilds the run, rebuilds it too (and a
    time-travel checkpoint, which pickles the run, keeps it: see :meth:`WireInputs.__reduce__`).
    """

    def __init__(self, session: LabSession, inputs: WireInputs) -> None:
        self.cluster: Cluster = session.cluster
        self.inputs = inputs
        self.conns: dict[int, WireConnection] = {}
        self.producers: dict[tuple[str, int, str], OutsideProducer] = {}
        self.outside: Node | None = self.cluster.net.nodes.get(OUTSIDE)

    def attach(self) -> None:
        net = self.cluster.net
        if OUTSIDE not in net.nodes:
            self.outside = Node(self.cluster.kernel, OUTSIDE)
            net.register(self.outside)

    def producer(self, conn: WireConnection, producer_id: int, acks: int) -> OutsideProducer:
        host = conn.peer.rsplit(":", 1)[0]
        key = (conn.client_id, producer_id, host if producer_id < 0 else "")
        p = self.producers.get(key)
        if p is None:
            name = f"{conn.client_id or 'client'} ({conn.peer})"
            p = OutsideProducer(name, acks, producer_id >= 0, conn.peer)
            self.producers[key] = p
            self.cluster.clients.append(p)
        p.acks = acks
        return p


class WireInputs:
    """Applies the recorded ``wire`` inputs to a session. One per listener; survives rewinds (it keeps the
    request frames that recorded inputs refer to by number)."""

    KIND = "wire"

    def __reduce__(self) -> tuple[Any, ...]:
        # a checkpoint of the run refers to this listener's inputs (its frames), it does not copy them
        return (_live_inputs, (id(self),))

    def __init__(self, advertised: dict[int, tuple[str, int]]) -> None:
        _LIVE_INPUTS[id(self)] = self
        #: broker id -> (host, port) that Metadata and FindCoordinator answers name
        self.advertised = advertised
        self.frames: list[bytes] = []
        #: frame number -> request decoded by the socket side (saves decoding twice while live)
        self.decoded: dict[int, ParsedRequest] = {}
        #: connection id -> its socket, from accept until the connection's ``open`` input is applied (a
        #: replay of an old ``open`` finds nothing here, so replayed connections answer nobody)
        self.sinks: dict[int, ConnectionSink] = {}
        self.next_conn_id = 1

    def world(self, session: LabSession) -> WireWorld:
        state = session.extension_state
        w = state.get("wire")
        if not isinstance(w, WireWorld) or w.cluster is not session.cluster:
            w = WireWorld(session, self)
            state["wire"] = w
        return w

    def add_frame(self, frame: bytes, parsed: ParsedRequest | None) -> int:
        self.frames.append(frame)
        n = len(self.frames) - 1
        if parsed is not None:
            self.decoded[n] = parsed
        return n

    def __call__(self, session: LabSession, detail: str) -> None:
        op, _, rest = detail.partition(" ")
        w = self.world(session)
        if op == "req":
            cid, _, num = rest.partition(" ")
            conn = w.conns.get(int(cid))
            n = int(num)
            parsed = self.decoded.pop(n, None)
            if conn is not None and conn.open:
                conn.receive(self.frames[n], parsed)
        elif op == "open":
            cid, broker, peer = rest.split(" ", 2)
            w.attach()
            conn = WireConnection(w, int(cid), int(broker), peer, self.sinks.pop(int(cid), None))
            w.conns[conn.conn_id] = conn
        elif op == "close":
            cid, _, reason = rest.partition(" ")
            conn = w.conns.get(int(cid))
            if conn is not None:
                conn.close(reason or "the client closed the connection", from_client=True)
        elif op == "attach":
            w.attach()
        else:  # pragma: no cover - only this module writes these lines
            raise ValueError(f"unknown wire input {detail!r}")


#: every WireInputs of this process, so checkpoints can refer to them (see WireInputs.__reduce__)
_LIVE_INPUTS: dict[int, WireInputs] = {}


def _live_inputs(key: int) -> WireInputs:
    return _LIVE_INPUTS[key]


class WireConnection(Endpoint):
    """One outside client's TCP connection to one broker, as a node of the simulated network."""

    def __init__(
        self, world: WireWorld, conn_id: int, broker_id: int, peer: str, sink: ConnectionSink | None = None
    ) -> None:
        cluster = world.cluster
        super().__init__(cluster.kernel, cluster.net, f"conn-{conn_id}")
        self.world = world
        self.cluster = cluster
        self.conn_id = conn_id
        self.broker_id = broker_id
        self.peer = peer
        #: the socket side while the connection is live (None in a replay)
        self.sink = sink
        self.client_id = ""
        self.software = ""
        self.open = True
        self.busy = False
        self.queue: deque[tuple[bytes, ParsedRequest | None]] = deque()
        broker = cluster.brokers.get(broker_id)
        self.broker_incarnation = broker.incarnation if broker is not None else -1
        #: group id -> member id this connection joined with (for the timeline)
        self.members: dict[str, str] = {}
        net = cluster.net
        # the client's real socket already carried the request here: no simulated latency on top
        net.node_latency_ms[self.name] = 0
        # a new connection is cut off from whatever every outside client is cut off from
        for a, b in net.cut_links():
            if a == OUTSIDE:
                net.cut(self.name, b)
            elif b == OUTSIDE:
                net.cut(a, self.name)

    @property
    def label(self) -> str:
        """How the timeline names this client: ``rdkafka (127.0.0.1:53122)``."""
        return f"{self.client_id or 'client'} ({self.peer})"

    @property
    def broker(self) -> Broker:
        return self.cluster.brokers[self.broker_id]

    def note(self, text: str, kind: str = "client") -> None:
        self.cluster.note(f"{self.label} {text}", kind)

    # -- requests, one at a time ---------------------------------------------------------------------
    def receive(self, frame: bytes, parsed: ParsedRequest | None) -> None:
        self.queue.append((frame, parsed))
        if not self.busy:
            self._next()

    def _next(self) -> None:
        from .apis import APIS, SUPPORTED

        while self.queue and not self.busy and self.open:
            frame, parsed = self.queue.popleft()
            if parsed is None:
                try:
                    parsed = parse_request(frame, SUPPORTED)
                except FrameError as e:  # pragma: no cover - the socket side checked it before recording
                    self.close(f"bad request: {e}")
                    return
            if parsed.client_id and parsed.client_id != self.client_id:
                self.client_id = parsed.client_id
            self.busy = True
            ctx = RequestContext(self, parsed)
            try:
                APIS[parsed.api_key].handler(ctx, parsed.body)
            except Exception as e:  # a handler bug closes this connection, never the lab
                log.exception("wire: %s request failed", APIS[parsed.api_key].name)
                self.close(f"internal error in {APIS[parsed.api_key].name}: {type(e).__name__}: {e}")
                return

    def _done(self) -> None:
        self.busy = False
        sink = self.sink
        if sink is not None:
            sink.request_done(len(self.queue))
        if self.queue:
            self._next()

    # -- closing ------------------------------------------------------------------------------------
    def close(self, reason: str, *, from_client: bool = False) -> None:
        if not self.open:
            return
        self.open = False
        self.queue.clear()
        self.crash()  # pending answers to it are dropped, as for a dead process
        self.world.conns.pop(self.conn_id, None)
        self.cluster.net.forget(self.name)
        sink, self.sink = self.sink, None
        if not from_client:
            if sink is not None:
                sink.close(reason)
            if self.client_id:
                self.note(f"was disconnected from broker {self.broker_id}: {reason}")


class RequestContext:
    """One request being handled: what handlers use to reach the broker and answer."""

    __slots__ = ("conn", "req", "answered")

    def __init__(self, conn: WireConnection, req: ParsedRequest) -> None:
        self.conn = conn
        self.req = req
        self.answered = False

    @property
    def version(self) -> int:
        return self.req.api_version

    @property
    def cluster(self) -> Cluster:
        return self.conn.cluster

    @property
    def advertised(self) -> dict[int, tuple[str, int]]:
        return self.conn.world.inputs.advertised

    def endpoint(self, broker_id: int) -> tuple[str, int]:
        return self.advertised.get(broker_id, ("", -1))

    def call(
        self,
        fn: Callable[[Broker, Callable[[Any], None]], None],
        then: Callable[[Any], None],
        *,
        timeout_ms: int = DEFAULT_WAIT_MS,
        detail: str = "",
    ) -> None:
        """Send the request to the connection's broker: ``fn(broker, respond)`` runs there; ``then(answer)``
        runs back here. A dead broker resets the connection; no answer in ``timeout_ms`` closes it."""
        conn = self.conn
        broker = conn.broker
        from .apis import APIS

        name = APIS[self.req.api_key].name

        def on_error(err: str) -> None:
            if err == "_TRANSPORT":
                conn.close(f"broker {conn.broker_id} is down (connection reset)")
            else:
                conn.close(f"broker {conn.broker_id} did not answer {name} within {timeout_ms} ms")

        def guarded(respond: Callable[[Any], None]) -> None:
            try:
                fn(broker, respond)
            except Exception as e:  # a handler bug: the broker closes this connection, the lab goes on
                log.exception("wire: %s failed on broker %s", name, conn.broker_id)
                respond(_Failure(f"internal error in {name}: {type(e).__name__}: {e}"))

        def on_answer(answer: Any) -> None:
            if isinstance(answer, _Failure):
                conn.close(answer.reason)
                return
            try:
                then(answer)
            except Exception as e:  # a handler bug closes this connection, never the lab
                log.exception("wire: answering %s failed", name)
                conn.close(f"internal error in {name}: {type(e).__name__}: {e}")

        conn.call(broker.name, name, guarded, on_answer, on_error, timeout_ms, detail or conn.label)

    def send_only(self, fn: Callable[[Broker], None]) -> None:
        """A request that gets no answer (Produce with acks=0): deliver it and move on to the next one."""
        conn = self.conn
        broker = conn.broker
        from .apis import APIS

        name = APIS[self.req.api_key].name

        def run() -> None:
            try:
                fn(broker)
            except Exception:
                log.exception("wire: %s failed on broker %s", name, conn.broker_id)

        conn.net.send(conn, broker.name, name, run, conn.label)
        self.answered = True
        conn._done()

    def reply(self, data: dict[str, Any]) -> None:
        """Answer with ``data`` (fields of any version; the request's version keeps its own)."""
        if self.answered:
            return
        self.answered = True
        conn = self.conn
        if not conn.open:
            return
        sink = conn.sink
        if sink is not None:
            req = self.req
            data.setdefault("throttle_time", 0)
            try:
                frame = encode_response(req.api_key, req.api_version, req.correlation_id, req.flexible, data)
            except Exception as e:
                # the socket side closes and records the close; the simulation goes on exactly as a replay
                # (which encodes nothing) does
                log.exception("wire: could not encode the answer to API key %s", req.api_key)
                sink.close(f"internal error encoding the answer: {type(e).__name__}: {e}")
            else:
                sink.send(frame)
        conn._done()


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str
