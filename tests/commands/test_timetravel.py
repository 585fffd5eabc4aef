"""Time travel: checkpoints restore exactly, rewinds keep the future as a branch, redo returns, steps by meaning.

Checkpoints are taken every few hundred events here (``travel.interval``) so short sessions cross many of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel_meaning import parse_kinds, step_back, step_next

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
    s.travel.budget_s = None  # checkpoints every ``interval`` events, whatever the machine's speed
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


def test_checkpoints_change_nothing_and_restores_give_exactly_the_straight_run() -> None:
    straight = _session(3, 10**12)
    marks = _run(straight)
    s = _session(3, 400)
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
    # restored, then run on: the same run as the straight one, every client's timers and files included
    s.rewind_to(s.now_ms - 1_900)  # after the last command
    assert s.travel.last is not None and s.travel.last.from_checkpoint is not None
    s.tick(1_900)  # the same time again
    assert (s.events, s.now_ms, s.cluster.trace_hash()) == end
    straight.tick(3_000)
    s.tick(3_000)
    assert s.cluster.trace_hash() == straight.cluster.trace_hash()
    assert len(s.cluster.history) == len(straight.cluster.history)
    assert [(e.time_ms, e.text, e.kind, e.event) for e in s.cluster.timeline] == [
        (e.time_ms, e.text, e.kind, e.event) for e in straight.cluster.timeline
    ]
    assert s.output == straight.output
    assert s.cluster.describe_topic("events") == straight.cluster.describe_topic("events")
    straight.close()
    s.close()


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
    s = _session(1, 1_500)
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


def test_timeline_entries_carry_their_kind_from_where_they_are_made() -> None:
    s = _session(4, 10**12)
    for _ms, line in SCRIPT[:3]:
        assert execute(s, line).ok
    s.tick(1500)
    for line in ("kill-broker 2", "partition 1 3", "heal", "restart-broker 2", "crash-consumer c1"):
        assert execute(s, line).ok
        s.tick(1500)
    kinds: dict[str, set[str]] = {}
    for e in s.cluster.timeline:
        kinds.setdefault(e.kind, set()).add(e.text)
    assert {"topic", "leader", "isr", "broker", "network", "group", "client"} <= set(kinds)
    assert "broker 2 died" in kinds["broker"] and "network healed" in kinds["network"]
    assert all(t.startswith("partition ") and "ISR" in t for t in kinds["isr"])
    assert all(t.startswith("group ") or " group " in t for t in kinds["group"])
    assert "c1-consumer-1 crashed" in kinds["client"] or any("crashed" in t for t in kinds["client"])
    # internal topics are said at the source too (the consumer group made __consumer_offsets)
    internal = [e for e in s.cluster.timeline if e.internal]
    assert internal and all("__consumer_offsets" in e.text for e in internal)
    assert not any(e.internal for e in s.cluster.timeline if "events" in e.text and "__" not in e.text)
    assert parse_kinds("all,-ack") == frozenset(parse_kinds("all") - {"ack"})
    assert {"log", "txn", "platform"} <= parse_kinds("all")
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds("leaders")
    s.close()


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


def test_branches_summarize_recorded_outside_inputs_never_show_them() -> None:
    s = _session(8, 10**12)
    applied: list[str] = []
    s.inputs["wire"] = lambda _s, detail: applied.append(detail)
    assert execute(s, SCRIPT[0][1]).ok
    s.tick(500)
    for i in range(3):
        s.apply_input("wire", f"frame {i} \x00\x01binary-ish")
    assert execute(s, "kill-broker 1").ok
    s.tick(500)
    r = execute(s, "rewind --to 400ms")
    assert r.ok
    lines = execute(s, "branches").lines
    text = "\n".join(lines)
    assert "\x1e" not in text and "binary-ish" not in text
    assert "1 command(s): kill-broker 1, 3 request(s) of outside Kafka clients" in text
    assert "2 command(s)" not in lines[0] and "1 command(s)" in lines[0]  # here: the create only
    r = execute(s, "seed 3")
    assert not r.ok and "1 command(s)" in (r.error or "")
    assert execute(s, "redo").ok
    assert "2 command(s) and 3 recorded outside input(s)" in execute(s, "branches").lines[0]
    s.close()


@pytest.mark.parametrize("kinds", ["default", "ack,commit"])
def test_stepping_back_lands_exactly_where_stepping_forward_stopped(kinds: str) -> None:
    s = _session(9, 700)
    wanted = parse_kinds(kinds)
    for _ms, line in SCRIPT[:3]:
        assert execute(s, line).ok
    s.tick(4_000 if kinds == "default" else 1_500)
    assert execute(s, "kill-broker 3").ok
    stops = []
    for _ in range(5):
        out = step_next(s, wanted)
        assert out.found is not None
        stops.append((s.events, s.cluster.trace_hash(), out.found.text))
    if kinds == "default":  # the auto-commit every 5 s is among them (found in the history, not the timeline)
        assert any(" committed " in text for *_, text in stops)
    for i in range(len(stops) - 1, 0, -1):
        back = step_back(s, wanted)
        assert back.found is not None
        assert (s.events, s.cluster.trace_hash(), back.found.text) == stops[i - 1]
    assert len(s.branches) == 1  # going back along one line keeps one branch
    s.redo()
    assert (s.events, s.cluster.trace_hash()) == stops[-1][:2]
    s.close()


def test_stepping_back_to_what_a_command_did_lands_right_after_the_command() -> None:
    s = _session(4, 500)
    for _ms, line in SCRIPT[:3]:
        assert execute(s, line).ok
    s.tick(1_500)
    assert execute(s, "kill-broker 2").ok  # "broker 2 died" is made by the command, between two events
    at_kill = (s.events, s.cluster.trace_hash(), len(s.actions))
    s.tick(2_000)
    back = step_back(s, parse_kinds("broker"))
    assert back.found is not None and back.found.text == "broker 2 died"
    assert (s.events, s.cluster.trace_hash(), len(s.actions)) == at_kill
    assert s.cluster.describe_cluster().brokers[1].state == "down"  # the kill is done, not undone
    s.close()
