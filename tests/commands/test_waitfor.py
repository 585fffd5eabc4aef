"""wait-for: time passes until a condition holds on the cluster, deterministically; bad words change nothing."""

from __future__ import annotations

import pytest

from kafkalab.commands import LabSession, execute


@pytest.fixture
def s() -> LabSession:
    session = LabSession(brokers=3, seed=42)
    assert execute(session, "kafka-topics --create --topic t --replication-factor 3").ok
    return session


def test_wait_for_a_leader_change_stops_at_the_election(s: LabSession) -> None:
    assert execute(s, "kill-broker 3").ok
    r = execute(s, "wait-for leader-change t-0")
    assert r.ok and r.lines[0].startswith("waited 9.") and "t-0 has a new leader: broker 1" in r.lines[0]
    info = s.cluster.describe_topic("t")[0]
    assert info.leader == 1 and info.leader_epoch == 1
    assert 9_000 <= s.now_ms <= 10_000  # broker.session.timeout.ms after the kill, not a timeout later


def test_the_same_wait_gives_the_same_run(s: LabSession) -> None:
    other = LabSession(brokers=3, seed=42)
    execute(other, "kafka-topics --create --topic t --replication-factor 3")
    for session in (s, other):
        execute(session, "kill-broker 3")
        execute(session, "wait-for isr t-0 2")
        execute(session, "restart-broker 3")
        execute(session, "wait-for in-sync t-0 3")
    assert s.cluster.trace_hash() == other.cluster.trace_hash() and s.now_ms == other.now_ms


def test_a_wait_that_never_holds_gives_up_after_its_timeout(s: LabSession) -> None:
    t0 = s.now_ms
    r = execute(s, "wait-for fenced 2 --timeout 5s")
    assert not r.ok and r.error is not None
    assert r.error.startswith("wait-for: gave up after 5.0 s") and "broker 2 is up, not fenced" in r.error
    assert s.now_ms == t0 + 5_000  # the time did pass


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("wait-for", "usage: wait-for CONDITION"),
        ("wait-for sometime", "no condition 'sometime'"),
        ("wait-for leader-chnage t-0", "did you mean leader-change?"),
        ("wait-for leader-change t0", "'t0' is not a partition"),
        ("wait-for leader-change nope-0", "topic 'nope' does not exist"),
        ("wait-for leader-change t-7", "topic t has no partition 7"),
        ("wait-for isr t-0 9", "its ISR has 1 to that many"),
        ("wait-for fenced 99", "there is no broker 99"),
        ("wait-for stable", "usage: wait-for stable GROUP [MEMBERS]"),
        ("wait-for caught-up ghost", "no running consumer named 'ghost'"),
        ("wait-for controller-change --timeout 2d", "--timeout must be a duration"),
        ("wait-for controller-change --timeout 99999999h", "--timeout must be between 1 ms and 1h"),
    ],
)
def test_bad_waits_fail_cleanly_and_change_nothing(s: LabSession, line: str, error: str) -> None:
    before = (s.now_ms, s.events)
    r = execute(s, line)
    assert not r.ok and error in (r.error or ""), r.error
    assert (s.now_ms, s.events) == before


def test_help_lists_the_conditions(s: LabSession) -> None:
    lines = execute(s, "help wait-for").lines
    assert lines[0].startswith("wait-for: ") and any(
        x.strip().startswith("leader-change PARTITION") for x in lines
    )
