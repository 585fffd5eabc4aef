"""Time travel: checkpoints restore exactly, rewinds keep the future as a branch, redo returns, steps by meaning.

Checkpoints are taken every few hundred events here (``travel.interval``) so short sessions cross many of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel_meaning import classify, parse_kinds, step_back, step_next

SCRIPT = [
    (
        0,
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3 --config min.insync.replicas=2",
    ),
    (0, "start-producer p1 --topic events --rate 50"),
    (0, "start-consumer c1 --topic events --group g1"),
    (1000, "kill-broker 2"),
    (1500, "start-consumer c2 --topic events --group g1"),
    (1500, "restart-broker 2"),
    (800, "partition 1 2,3"),
    (1200, "heal"),
    (1000, "crash-consumer c1"),
    (1000, "produce events hello --acks all"),
    (1000, "stop p1"),
    (2000, None),
]


def _session(seed: int, interval: int) -> LabSession:
    s = LabSession(brokers=3, seed=seed)
    s.travel.interval = interval
    return s


def _run(s: LabSession) -> list[tuple[int, int, str]]:
    """Run SCRIPT; the (events, time, trace hash) before each command."""
    marks = []
    for ms, line in SCRIPT:
        if ms:
            s.tick(ms)
        marks.append((s.events, s.now_ms, s.cluster.trace_hash()))
        if line:
            r = execute(s, line)
            assert r.ok, (line, r.error)
    return marks


@pytest.mark.parametrize("seed", [3])
def test_checkpoints_change_nothing_and_rewinds_land_on_the_straight_runs_hash(seed: int) -> None:
    straight = _session(seed, 10**12)
    marks = _run(straight)
    s = _session(seed, 400)
    assert _run(s) == marks  # taking checkpoints does not change the run
    assert len(s.travel.line) >= 10
    end = (s.events, s.now_ms, s.cluster.trace_hash())
    for ev, t, h in marks[4::2]:
        s.rewind_events(s.events - ev)
        # right after event number ``ev`` (the clock at that event; the straight run's tick went on to ``t``)
        assert (s.events, s.cluster.trace_hash()) == (ev, h) and s.now_ms <= t
        assert s.travel.last is not None and s.travel.last.from_checkpoint is not None
        s.redo()  # back to the tip: exactly where we were
        assert (s.events, s.now_ms, s.cluster.trace_hash()) == end
    straight.close()
    s.close()


def test_restore_then_run_on_equals_a_straight_run() -> None:
    a = _session(5, 10**12)
    b = _session(5, 400)
    _run(a)
    _run(b)
    b.rewind_to(b.now_ms - 1_900)  # after the last command
    b.tick(1_900)  # the same time again, from a checkpoint, with every client's timers restored
    assert (b.events, b.now_ms, b.cluster.trace_hash()) == (a.events, a.now_ms, a.cluster.trace_hash())
    a.tick(3_000)
    b.tick(3_000)
    assert b.cluster.trace_hash() == a.cluster.trace_hash()
    assert len(b.cluster.history) == len(a.cluster.history)
    assert [(e.time_ms, e.text) for e in b.cluster.timeline] == [
        (e.time_ms, e.text) for e in a.cluster.timeline
    ]
    assert b.output[-20:] == a.output[-20:]
    a.close()
    b.close()


def test_rewind_then_redo_returns_to_the_same_trace_hash_and_keeps_new_work_as_a_branch() -> None:
    s = _session(7, 500)
    _run(s)
    tip = (s.events, s.now_ms, s.cluster.trace_hash(), len(s.actions))
    r = execute(s, "rewind 6s")
    assert r.ok and "branch 1" in " ".join(r.lines)
    assert s.now_ms < tip[1] and len(s.actions) < tip[3]
    # new work on the rewound line
    assert execute(s, "kill-broker 3").ok
    s.tick(1000)
    other = (s.events, s.cluster.trace_hash())
    assert execute(s, "redo").ok
    assert (s.events, s.now_ms, s.cluster.trace_hash(), len(s.actions)) == tip
    # the line with 'kill-broker 3' became a branch of its own
    assert [b.added_actions() for b in s.branches] == [["kill-broker 3"]]
    assert execute(s, f"redo {s.branches[0].number}").ok
    assert (s.events, s.cluster.trace_hash()) == other
    assert s.cluster.describe_cluster().brokers[2].state == "down"
    s.close()


def test_going_back_along_one_line_makes_one_branch() -> None:
    s = _session(2, 400)
    for _ms, line in SCRIPT[:3]:
        execute(s, line)
    s.tick(2500)
    tip = s.cluster.trace_hash()
    for _ in range(5):
        s.rewind_events(300)
    assert len(s.branches) == 1
    s.redo()
    assert s.cluster.trace_hash() == tip


def test_rewind_units_and_confirmations() -> None:
    s = _session(1, 10**12)
    assert not execute(s, "rewind 3s").ok  # at the start: nothing to rewind
    for line in SCRIPT[:3]:
        execute(s, line[1])
    s.tick(5_000)
    now = s.now_ms
    r = execute(s, "rewind 2s")
    assert r.ok and s.now_ms == now - 2000
    r = execute(s, "rewind --to 1500")
    assert r.ok and s.now_ms == 1500 and "without a unit is milliseconds" in r.lines[0]
    r = execute(s, "rewind --to 0s")  # before every command: asks first, changes nothing
    assert not r.ok and r.confirm and "repeat with --yes" in (r.error or "") and s.now_ms == 1500
    r = execute(s, "rewind --to 0s --yes")
    assert r.ok and not s.actions
    assert execute(s, "redo").ok and s.actions
    assert not execute(s, "rewind --to 3x").ok
    assert not execute(s, "rewind --to " + "9" * 400).ok
    r = execute(s, "seed 9")
    assert not r.ok and r.confirm and s.seed == 1
    assert execute(s, "seed 9 --yes").ok and s.seed == 9 and not s.branches
    s.close()


def test_step_by_meaning_lands_on_timeline_events_and_back() -> None:
    s = _session(4, 500)
    for _ms, line in SCRIPT[:3]:
        execute(s, line)
    s.tick(2000)
    execute(s, "kill-broker 1")
    start = s.events
    seen = []
    for _ in range(3):
        n = len(s.cluster.timeline)
        out = step_next(s)
        assert out.found is not None
        assert len(s.cluster.timeline) > n  # stopped right after the event that made the entry
        assert out.found.text in [e.text for e in s.cluster.timeline[n:]]
        seen.append((s.events, s.cluster.trace_hash(), out.found.text))
    assert seen[0][0] > start
    tip_hash = s.cluster.trace_hash()
    back = step_back(s)
    assert back.found is not None and (s.events, back.found.text) == (seen[1][0], seen[1][2])
    assert s.cluster.trace_hash() == seen[1][1]
    s.redo()
    assert s.cluster.trace_hash() == tip_hash
    acks = step_next(s, parse_kinds("ack"))
    assert acks.found is not None and acks.found.kind == "ack"


def test_kinds_and_classification() -> None:
    assert classify("partition events-0: ISR [1, 2, 3]→[1, 3]") == "isr"
    assert classify("broker 2 became leader of events-1 (epoch 1)") == "leader"
    assert classify("group g1: rebalance started") == "group"
    assert classify("broker 3 died") == "broker"
    assert classify("network healed") == "network"
    assert parse_kinds("all,-ack") == frozenset(parse_kinds("all") - {"ack"})
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds("leaders")


def test_checkpoint_files_survive_in_place_truncation_of_the_live_log(tmp_path: Path) -> None:
    from kafkalab.sim.log import detach_file

    f = tmp_path / "a.log"
    f.write_bytes(b"0123456789")
    os.link(f, tmp_path / "ck")
    detach_file(f)
    os.truncate(f, 3)
    assert (tmp_path / "ck").read_bytes() == b"0123456789"
    assert f.read_bytes() == b"012"


def test_temporary_directories_go_away_on_close() -> None:
    s = _session(6, 300)
    for _ms, line in SCRIPT[:3]:
        execute(s, line)
    s.tick(1500)
    s.rewind_to(1000)
    root = s.travel.store.root
    data = Path(s.cluster.data_dir)
    assert root.exists()
    s.close()
    assert not root.exists() and not data.exists()
