"""Simulated network: per-link latency and bandwidth, in-order delivery, partitions between sets of nodes.

Bandwidth: a message that declares its size (produce requests and fetch responses do) occupies its link for
``size / bandwidth`` (links are 1 Gbit/s, 125,000 bytes per ms, each direction); it arrives after that plus
the latency. Messages without a size (everything else) only take the latency.

Messages are Python callables run on the destination node after the link's latency. A link behaves like a
TCP connection: messages on one (src, dst) link arrive in the order they were sent. A message is lost if the
link is cut (network partition) when it is sent or when it would arrive, or if the destination process died
or restarted meanwhile (its connections are gone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mypy_extensions import mypyc_attr

from .kernel import Kernel, Node, Timer

__all__ = ["Endpoint", "Network"]


#: bytes a link carries per millisecond (1 Gbit/s)
DEFAULT_BANDWIDTH_BYTES_PER_MS = 125_000


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class Network:
    def __init__(
        self,
        kernel: Kernel,
        *,
        latency_ms: int = 1,
        jitter_ms: int = 1,
        bandwidth_bytes_per_ms: int = DEFAULT_BANDWIDTH_BYTES_PER_MS,
    ) -> None:
        self.kernel = kernel
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.bandwidth_bytes_per_ms = bandwidth_bytes_per_ms
        #: per link (src, dst): when (in µs of virtual time) it has sent everything queued on it
        self._link_free_us: dict[tuple[str, str], int] = {}
        self.bytes_sent = 0
        self.nodes: dict[str, Node] = {}
        #: pairs of node names that cannot talk (stored both ways)
        self._cut: set[tuple[str, str]] = set()
        self._last_arrival: dict[tuple[str, str], int] = {}
        #: nodes whose every link has this fixed latency instead of ``latency_ms`` + jitter (an outside
        #: client's connection: its real socket already took its time to get here)
        self.node_latency_ms: dict[str, int] = {}
        self.sent = 0
        self.dropped = 0
        #: sites (several clusters in one :class:`~kafkalab.sim.world.World`): the site of this network's
        #: own nodes, the nodes placed elsewhere (a MirrorMaker's clients), and the pairs of sites that
        #: cannot talk (a set shared by every network of the world)
        self.home_site = ""
        self.site_of: dict[str, str] = {}
        self.site_cuts: set[frozenset[str]] = set()

    def register(self, node: Node) -> None:
        self.nodes[node.name] = node

    def forget(self, name: str) -> None:
        """Remove a node that is gone for good (a closed outside connection): its name, cuts and links."""
        self.nodes.pop(name, None)
        self.node_latency_ms.pop(name, None)
        self._cut = {link for link in self._cut if name not in link}
        for link in [link for link in self._last_arrival if name in link]:
            del self._last_arrival[link]

    # -- faults ---------------------------------------------------------------------------------
    def partition(self, side_a: Iterable[str], side_b: Iterable[str]) -> None:
        """Cut every link between a node of ``side_a`` and a node of ``side_b``."""
        a, b = list(side_a), list(side_b)
        for x in a:
            for y in b:
                if x != y:
                    self._cut.add((x, y))
                    self._cut.add((y, x))

    def cut(self, src: str, dst: str) -> None:
        """Cut one direction only: messages from ``src`` to ``dst`` are lost, the other way still works."""
        self._cut.add((src, dst))

    def isolate(self, name: str) -> None:
        self.partition([name], [n for n in self.nodes if n != name])

    def heal(self) -> None:
        self._cut.clear()

    def can_reach(self, src: str, dst: str) -> bool:
        return (src, dst) not in self._cut and not (self.site_cuts and self.sites_cut(src, dst))

    def site(self, name: str) -> str:
        return self.site_of.get(name, self.home_site)

    def sites_cut(self, src: str, dst: str) -> bool:
        """True when the sites of ``src`` and ``dst`` are cut apart (a network cut between data centres)."""
        return frozenset((self.site_of.get(src, self.home_site), self.site_of.get(dst, self.home_site))) in (
            self.site_cuts
        )

    def cut_links(self) -> set[tuple[str, str]]:
        return set(self._cut)

    # -- delivery -------------------------------------------------------------------------------
    def send(
        self,
        src: Node,
        dst: str,
        kind: str,
        fn: Callable[[], object],
        detail: str = "",
        on_refused: Callable[[], None] | None = None,
        size_bytes: int = 0,
    ) -> bool:
        """Deliver ``fn`` to run on node ``dst`` after the link latency; False if dropped at send time.

        ``size_bytes``: what the message puts on the wire (0: negligible); it is sent once the link has sent
        what was queued before it, at the link's bandwidth.

        ``on_refused`` runs on ``src`` (after one link latency) when ``dst`` is a dead process: a real
        client sees "connection refused" at once instead of waiting for its request timeout.
        """
        self.sent += 1
        node = self.nodes.get(dst)
        if (
            node is None
            or not src.alive
            or (src.name, dst) in self._cut
            or (self.site_cuts and self.sites_cut(src.name, dst))
        ):
            self.dropped += 1
            return False
        if not node.alive:
            self.dropped += 1
            if on_refused is not None:
                src.schedule(self.latency_ms, "refused", on_refused, f"{src.name}->{dst}")
            return False
        k = self.kernel
        fixed = self.node_latency_ms
        if fixed and (src.name in fixed or dst in fixed):
            delay = fixed.get(src.name, fixed.get(dst, 0))
        else:
            delay = self.latency_ms + (k.rng.randint(0, self.jitter_ms) if self.jitter_ms else 0)
        link = (src.name, dst)
        if size_bytes > 0 and self.bandwidth_bytes_per_ms > 0:
            now_us = k.now_ms * 1000
            start_us = max(now_us, self._link_free_us.get(link, 0))
            end_us = start_us + size_bytes * 1000 // self.bandwidth_bytes_per_ms
            self._link_free_us[link] = end_us
            self.bytes_sent += size_bytes
            delay += end_us // 1000 - k.now_ms
        arrival = k.now_ms + delay
        last = self._last_arrival.get(link, 0)
        if arrival < last:
            arrival = last
        self._last_arrival[link] = arrival
        node.schedule(arrival - k.now_ms, kind, _Delivery(self, src.name, dst, node, fn), detail)
        return True


def _no_size(_resp: Any) -> int:
    return 0


# What the network and a call keep in the kernel's heap and in a node's calls in flight are small objects and
# bound methods, never closures: a time-travel checkpoint pickles the world, and mypyc compiles a closure into
# an object pickle cannot take apart (its captured variables are not visible from Python).


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _Delivery:
    """A message on its way to ``dst``: runs ``fn`` on arrival unless the link was cut meanwhile or ``dst``
    restarted (its connections are gone)."""

    def __init__(self, net: Network, src_name: str, dst: str, node: Node, fn: Callable[[], object]) -> None:
        self.net = net
        self.src_name = src_name
        self.dst = dst
        self.node = node
        self.incarnation = node.incarnation
        self.fn = fn

    def __call__(self) -> None:
        net = self.net
        if (
            (self.src_name, self.dst) in net._cut
            or self.node.incarnation != self.incarnation
            or (net.site_cuts and net.sites_cut(self.src_name, self.dst))
        ):
            net.dropped += 1
            return
        self.fn()


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _Apply:
    """``fn(arg)`` as a callable without arguments (a response to deliver, an error to report)."""

    def __init__(self, fn: Callable[[Any], object], arg: Any) -> None:
        self.fn = fn
        self.arg = arg

    def __call__(self) -> None:
        self.fn(self.arg)


# the platform's processes (kafkalab.platform.process) and the wire listener's connections (kafkalab.wire.node)
# are Endpoints written in plain Python: a compiled build must let them subclass it
@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class Endpoint(Node):
    """A node that makes request/response calls over the :class:`Network` (like a Kafka client or broker).

    A call ends exactly once: with the response, with ``"_TRANSPORT"`` when the peer process is dead or dies
    while the request is outstanding (the connection resets), or with ``"REQUEST_TIMED_OUT"`` when no
    response arrives within ``timeout_ms`` (a network partition or a paused peer).
    """

    def __init__(self, kernel: Kernel, net: Network, name: str) -> None:
        super().__init__(kernel, name)
        self.net = net
        net.register(self)
        #: dst name -> fail callbacks of calls in flight to it (reset when dst dies)
        self._outstanding: dict[str, dict[int, Callable[[str], None]]] = {}
        self._call_ids = 0

    def crash(self) -> None:
        super().crash()
        self._outstanding = {}
        # every client with a call outstanding to us sees its connection reset
        for node in self.net.nodes.values():
            if isinstance(node, Endpoint) and node is not self:
                pending = node._outstanding.pop(self.name, None)
                if pending and node.alive:
                    for fail in list(pending.values()):
                        node.schedule(self.net.latency_ms, "reset", _Apply(fail, "_TRANSPORT"), self.name)

    def call(
        self,
        dst: str,
        kind: str,
        handler: Callable[[Callable[[Any], None]], None],
        on_response: Callable[[Any], object],
        on_error: Callable[[str], object],
        timeout_ms: int,
        detail: str = "",
        size_bytes: int = 0,
        response_size: Callable[[Any], int] | None = None,
    ) -> None:
        self._call_ids += 1
        sizer = response_size if response_size is not None else _no_size
        c = _Call(self, self._call_ids, dst, kind, detail, handler, on_response, on_error, sizer)
        calls = self._outstanding.setdefault(dst, {})
        c.timer = self.schedule(timeout_ms, "timeout", c.timed_out, f"{kind} to {dst}")
        calls[c.call_id] = c.fail
        self.net.send(self, dst, kind, c.handle, detail, on_refused=c.refused, size_bytes=size_bytes)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)  # checkpointable: see build.py
class _Call:
    """One call of :meth:`Endpoint.call` in flight; it ends exactly once."""

    timer: Timer

    def __init__(
        self,
        caller: Endpoint,
        call_id: int,
        dst: str,
        kind: str,
        detail: str,
        handler: Callable[[Callable[[Any], None]], None],
        on_response: Callable[[Any], object],
        on_error: Callable[[str], object],
        response_size: Callable[[Any], int],
    ) -> None:
        self.caller = caller
        self.me = caller.name
        self.call_id = call_id
        self.dst = dst
        self.kind = kind
        self.detail = detail
        self.handler = handler
        self.on_response = on_response
        self.on_error = on_error
        self.response_size = response_size
        self.done = False

    def handle(self) -> None:  # runs on dst
        self.handler(self.respond)

    def respond(self, resp: Any) -> None:  # runs on dst
        net = self.caller.net
        net.send(
            net.nodes[self.dst],
            self.me,
            self.kind + "-resp",
            _Apply(self.finish, resp),
            self.detail,
            size_bytes=self.response_size(resp),
        )

    def finish(self, resp: Any) -> None:
        if self.done:
            return
        self.done = True
        self.timer.cancel()
        self.caller._outstanding.get(self.dst, {}).pop(self.call_id, None)
        self.on_response(resp)

    def fail(self, err: str) -> None:
        if self.done:
            return
        self.done = True
        self.timer.cancel()
        self.caller._outstanding.get(self.dst, {}).pop(self.call_id, None)
        self.on_error(err)

    def timed_out(self) -> None:
        self.fail("REQUEST_TIMED_OUT")

    def refused(self) -> None:
        self.fail("_TRANSPORT")
