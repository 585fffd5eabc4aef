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

from .kernel import Kernel, Node

__all__ = ["Endpoint", "Network"]


#: bytes a link carries per millisecond (1 Gbit/s)
DEFAULT_BANDWIDTH_BYTES_PER_MS = 125_000


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
        src_name = src.name
        incarnation = node.incarnation

        def deliver() -> None:
            if (
                (src_name, dst) in self._cut
                or node.incarnation != incarnation
                or (self.site_cuts and self.sites_cut(src_name, dst))
            ):
                self.dropped += 1
                return
            fn()

        node.schedule(arrival - k.now_ms, kind, deliver, detail)
        return True


def _no_size(_resp: Any) -> int:
    return 0


def _bind_error(fail: Callable[[str], None], err: str) -> Callable[[], None]:
    return lambda: fail(err)


# the platform's processes (kafkalab.platform.process) and the wire listener's connections (kafkalab.wire.node)
# are Endpoints written in plain Python: a compiled build must let them subclass it
@mypyc_attr(allow_interpreted_subclasses=True)
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
                        node.schedule(
                            self.net.latency_ms, "reset", _bind_error(fail, "_TRANSPORT"), self.name
                        )

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
        call_id = self._call_ids
        done = False
        net = self.net
        me = self.name
        calls = self._outstanding.setdefault(dst, {})

        def finish(resp: Any) -> None:
            nonlocal done
            if done:
                return
            done = True
            timer.cancel()
            self._outstanding.get(dst, {}).pop(call_id, None)
            on_response(resp)

        def fail(err: str) -> None:
            nonlocal done
            if done:
                return
            done = True
            timer.cancel()
            self._outstanding.get(dst, {}).pop(call_id, None)
            on_error(err)

        sizer = response_size if response_size is not None else _no_size  # (closures never hold None)

        def respond(resp: Any) -> None:  # runs on dst
            peer = net.nodes[dst]
            net.send(peer, me, kind + "-resp", lambda: finish(resp), detail, size_bytes=sizer(resp))

        timer = self.schedule(timeout_ms, "timeout", lambda: fail("REQUEST_TIMED_OUT"), f"{kind} to {dst}")
        calls[call_id] = fail
        net.send(
            self,
            dst,
            kind,
            lambda: handler(respond),
            detail,
            on_refused=lambda: fail("_TRANSPORT"),
            size_bytes=size_bytes,
        )
