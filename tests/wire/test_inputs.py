"""Outside requests as recorded inputs of a lab session, on virtual time (no sockets): what the lab shows of
an outside client, and that a rewind replays its requests where they happened."""

from __future__ import annotations

from kafkalab.commands import LabSession, execute
from kafkalab.ui.view import build_view
from kafkalab.wire.node import WireInputs

from .rawclient import frame
from .test_protocol import _batch, _produce


class _FakeSocket:
    """Stands for a live socket (kafkalab.wire.server._Connection): pickles to nothing."""

    def __reduce__(self) -> tuple[object, ...]:
        from kafkalab.wire.server import _no_socket

        return (_no_socket, ())

    def send(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass

    def request_done(self, queued: int) -> None:
        pass


def _session() -> tuple[LabSession, WireInputs]:
    session = LabSession(brokers=3, seed=9)
    inputs = WireInputs({b: ("127.0.0.1", 9000 + b) for b in (1, 2, 3)})
    session.inputs[WireInputs.KIND] = inputs
    session.apply_input(WireInputs.KIND, "attach")
    assert execute(session, "kafka-topics --create --topic t --partitions 1 --replication-factor 3").ok
    session.tick(2000)
    return session, inputs


def _request(session: LabSession, inputs: WireInputs, cid: int, data: bytes) -> None:
    n = inputs.add_frame(data[4:], None)
    session.apply_input(WireInputs.KIND, f"req {cid} {n}")


def test_an_outside_producer_shows_in_the_lab_like_its_own() -> None:
    session, inputs = _session()
    leader = session.cluster.describe_topic("t")[0].leader
    session.apply_input(WireInputs.KIND, f"open 1 {leader} 127.0.0.1:50001")
    _request(session, inputs, 1, frame(0, 9, 1, _produce("t", -1, _batch(b"a", b"b")), client_id="kcat"))
    session.tick(500)
    assert session.cluster.describe_topic("t")[0].high_watermark == 2
    view = build_view(session, session_id=0, playing=False)
    outside = [p for p in view.producers if p.outside]
    assert [(p.name, p.acks, p.acked, p.outside) for p in outside] == [
        ("kcat (127.0.0.1:50001)", "all", 2, "127.0.0.1:50001")
    ]
    assert any("kcat (127.0.0.1:50001) started producing to t (acks=all)" in t for _i, _t, t in view.timeline)


def test_a_rewind_replays_outside_requests_at_their_positions() -> None:
    session, inputs = _session()
    leader = session.cluster.describe_topic("t")[0].leader
    session.apply_input(WireInputs.KIND, f"open 1 {leader} 127.0.0.1:50001")
    marks = []
    for i in range(3):
        _request(session, inputs, 1, frame(0, 9, i, _produce("t", -1, _batch(f"r{i}".encode()))))
        session.tick(300)
        marks.append(session.now_ms)
    # time travel can checkpoint a run with outside connections in it (their sockets are left out)
    inputs.sinks[2] = _FakeSocket()
    session.apply_input(WireInputs.KIND, f"open 2 {leader} 127.0.0.1:50002")
    assert session.travel.checkpoint() is not None and session.travel.enabled, session.travel.disabled_reason
    assert execute(session, f"kill-broker {leader}").ok
    session.tick(12_000)
    before = (
        session.cluster.trace_hash(),
        session.events,
        session.now_ms,
        session.cluster.describe_topic("t"),
    )
    session.replay()
    assert session.divergence is None
    after = (
        session.cluster.trace_hash(),
        session.events,
        session.now_ms,
        session.cluster.describe_topic("t"),
    )
    assert after == before
    # rewinding into the middle keeps exactly the requests made before that point
    session.rewind_to(marks[1])
    assert session.divergence is None
    assert session.now_ms == marks[1]
    assert session.cluster.describe_topic("t")[0].high_watermark == 2  # r0 and r1, not yet r2
