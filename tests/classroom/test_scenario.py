"""Scenario files: record -> play reaches the recorded run (trace hash), and the file is validated like a
lesson (``file:line: problem``, one line each; hostile YAML refused)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkalab.classroom.player import ScenarioPlayer
from kafkalab.classroom.scenario import (
    INPUT_MARK,
    ScenarioError,
    dump_scenario,
    load_scenario,
    parse_scenario,
    scenario_from_session,
    write_scenario,
)
from kafkalab.commands import LabSession, execute

STORY = [
    "kafka-topics --create --topic t --partitions 2 --replication-factor 3 --config min.insync.replicas=2",
    "run 1500ms",
    "kafka-console-producer --topic t --property parse.key=true --property key.separator=:",
    "k1:a",
    "k2:b",
    ".exit",
    'note "Now broker 1 dies: watch t-1\'s leader"',
    "start-consumer c1 --topic t --group g --from-beginning",
    "run 2s",
    "kill-broker 1",
    "step 7",  # raw events: the next action's place is an event count, not a round time
    "run 10s",
    "produce t after --acks all",
    "restart-broker 1",
    "crash-consumer c1",
    "run 3s",
]


def recorded(lines: list[str] = STORY) -> LabSession:
    # one partition of __consumer_offsets: creating 50 segment files per broker costs a second here
    s = LabSession(brokers=3, seed=7, broker_config={"offsets.topic.num.partitions": 1})
    for line in lines:
        r = execute(s, line)
        assert r.ok, (line, r.error)
    return s


def test_record_then_play_reaches_the_same_trace_hash(tmp_path: Path) -> None:
    s = recorded()
    path, sc, notes = write_scenario(s, tmp_path / "failover.yaml", "Leader failover")
    assert notes == []
    played = ScenarioPlayer(load_scenario(path))
    reports = played.play_to_end()
    assert played.ended and played.divergence is None
    assert played.session.position() == s.position()
    assert played.session.cluster.trace_hash() == s.cluster.trace_hash()
    # the console producer and its records are one stop; the note is a stop of its own, with its text
    assert len(reports) == sc.stops + 1  # every stop, then the end
    assert any(r.lines[:1] == ["Now broker 1 dies: watch t-1's leader"] for r in reports)
    assert reports[-1].ended and "the end" in reports[-1].title
    # the played session's action log is the recorded one: a rewind in the player replays the same run
    assert [line for _t, line in played.session.actions] == [line for _t, line in s.actions]
    played.close()
    s.close()


def test_the_clock_runs_the_story_and_pauses_at_stops() -> None:
    """Space in the player: time runs up to each action, which runs there; the run is still the recorded one."""
    s = recorded()
    sc, _ = scenario_from_session(s, "t")
    p = ScenarioPlayer(parse_scenario(dump_scenario(sc)))
    pauses = 0
    while not p.ended:
        limit = p.clock_limit()
        assert limit is not None
        if limit:
            p.session.tick(min(limit, 777))  # the lab's clock slices time as the wall clock comes
            continue
        if p.reached().stopped:
            pauses += 1
    assert pauses == sc.stops + 1
    assert p.session.cluster.trace_hash() == s.cluster.trace_hash()
    assert p.clock_limit() is None  # after the end, time runs freely
    p.close()
    s.close()


def test_back_goes_to_the_previous_stop_and_next_replays_it() -> None:
    s = recorded(STORY[:10])
    sc, _ = scenario_from_session(s, "t")
    p = ScenarioPlayer(sc)
    p.advance()
    p.advance()
    at_two = (p.session.position(), p.session.cluster.trace_hash(), p.stops_done())
    p.advance()
    assert p.stops_done() == at_two[2] + 1
    back = p.back()
    assert back is not None and back.lines[0].startswith(f"back at stop {at_two[2]}")
    assert (p.session.position(), p.session.cluster.trace_hash(), p.stops_done()) == at_two
    assert p.session.branches  # the future left is a branch (ctrl+y)
    p.play_to_end()
    assert p.session.cluster.trace_hash() == s.cluster.trace_hash()
    p.close()
    s.close()


def test_outside_inputs_are_left_out_and_said(tmp_path: Path) -> None:
    s = recorded(STORY[:2])
    s.inputs["wire"] = lambda session, detail: None
    s.apply_input("wire", "attach")
    path, sc, notes = write_scenario(s, tmp_path / "x.yaml")
    assert sc.outside_requests == 1 and "outside clients" in notes[0]
    assert all(not e.line.startswith(INPUT_MARK) for e in sc.entries)
    assert "outside_requests: 1" in path.read_text()
    s.close()


GOOD = """scenario: 1
title: demo
actions:
  - command: kafka-topics --create --topic t
  - at: 2s
    note: a note
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: x\nactions: []\n", 1, "the field 'scenario: 1'"),
        ("scenario: 2\ntitle: x\nactions: []\n", 1, "unknown scenario format 2"),
        (GOOD + "colour: red\n", 7, "unknown field 'colour'"),
        (GOOD.replace("  - at: 2s", "  - at: 2.0001s"), 5, "'at' must be a time"),
        (
            GOOD.replace("  - at: 2s", "  - at: 3h\n    command: heal\n  - at: 2s"),
            7,
            "'at' 2s is before the previous action's 10800s",
        ),
        (GOOD.replace("kafka-topics --create --topic t", "kafka-topic --create"), 4, "unknown command"),
        (GOOD.replace("kafka-topics --create --topic t", "record /etc/passwd"), 4, "cannot write files"),
        (GOOD.replace("kafka-topics --create --topic t", "seed 3"), 4, "'seed' starts a new cluster"),
        (GOOD.replace("kafka-topics --create --topic t", '"\\x1ewire attach"'), 4, "control character"),
        (GOOD.replace("note: a note", 'note: "a\\u0007bell"'), 6, "control character"),
        (GOOD.replace("note: a note", "note: !!python/object:os.system x"), 6, "YAML tag"),
        (GOOD.replace("    note: a note", "    note: x\n    command: heal"), 5, "exactly one of"),
        (GOOD + "cluster: {brokers: 0}\n", 7, "'brokers' must be a whole number from 1 to 64"),
        (GOOD + "cluster: {broker_config: {log.segment.bytes: 10}}\n", 7, "Value must be at least"),
        ("a: &x [1]\nb: *x\n", 1, "anchors and aliases"),
        ("scenario: 1\ntitle: [unclosed\n", 3, "YAML syntax error"),
    ],
)
def test_problems_are_reported_as_file_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "demo.yaml")
    first = e.value.issues[0]
    assert (first.file, first.line) == ("demo.yaml", line), e.value.issues
    assert message in first.message
    assert all("\n" not in str(i) for i in e.value.issues)  # one line each


def test_every_problem_is_listed_at_once() -> None:
    text = "scenario: 1\ntitle: ''\nseed: -1\nactions:\n  - command: nope\n  - {}\n"
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "f.yaml")
    assert [i.line for i in e.value.issues] == [2, 3, 5, 6]


def test_a_hand_written_scenario_plays() -> None:
    """Without times: each action right after the previous one; wait-for moves time as it does in a lesson."""
    sc = parse_scenario(
        "scenario: 1\ntitle: by hand\npauses: marked\nactions:\n"
        "  - command: kafka-topics --create --topic t --replication-factor 3\n"
        "  - command: kill-broker 2\n    caption: We kill broker 2\n    pause: true\n"
        "  - command: wait-for fenced 2\n"
        "  - note: It is fenced now.\n"
    )
    assert sc.stops == 2
    p = ScenarioPlayer(sc)
    first = p.advance()
    # what ran on the way (not a stop), then the stop with its caption
    assert first.lines[0].startswith("$ kafka-topics --create")
    assert first.lines[2:4] == ["We kill broker 2", "$ kill-broker 2"]
    assert first.lines[-1].endswith("broker 2 died")  # what the cluster did meanwhile
    second = p.advance()
    assert second.lines[:3] == [
        "$ wait-for fenced 2",
        "  waited 9.5 s: broker 2 is fenced (now t=9.500 s)",
        "It is fenced now.",
    ]
    assert p.advance().ended
    p.close()


def test_files_too_big_or_unreadable(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 300_000)
    with pytest.raises(ScenarioError, match="larger than 256 KiB"):
        load_scenario(big)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.yaml")
