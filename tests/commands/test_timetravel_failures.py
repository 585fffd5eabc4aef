"""When a checkpoint cannot be taken or restored, time travel says so and still lands exactly (by replay)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel_store import CheckpointStore, SnapshotError

SCRIPT = [
    "kafka-topics --create --topic events --partitions 2 --replication-factor 3",
    "start-producer p1 --topic events --rate 40",
    "start-consumer c1 --topic events --group g1",
]


def _session() -> LabSession:
    s = LabSession(brokers=3, seed=5)
    s.travel.interval = 300
    s.travel.budget_s = None  # checkpoints every ``interval`` events, whatever the machine's speed
    for line in SCRIPT:
        assert execute(s, line).ok, line
        s.tick(1500)
    execute(s, "kill-broker 2")
    s.tick(2000)
    return s


def _at(s: LabSession) -> tuple[int, int, str]:
    return (s.events, s.now_ms, s.cluster.trace_hash())


def test_a_checkpoint_that_cannot_be_taken_is_said_and_rewinds_replay_from_the_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = _session()
    assert reference.travel.line, "checkpoints were taken"
    assert execute(reference, "rewind 3s").ok
    expected = _at(reference)

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise SnapshotError("a checkpoint cannot capture this world")

    monkeypatch.setattr(CheckpointStore, "capture", refuse)
    s = _session()
    assert not s.travel.enabled and not s.travel.line
    r = execute(s, "rewind 3s")
    text = "\n".join(r.lines)
    assert r.ok and "checkpoints are off (a checkpoint cannot capture this world)" in text
    assert "from the seed" in text
    assert _at(s) == expected
    assert "checkpoints are off: a checkpoint cannot capture this world" in "\n".join(
        execute(s, "branches").lines
    )
    s.close()
    reference.close()


def test_a_checkpoint_that_cannot_be_restored_is_said_and_the_trip_replays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = _session()
    tip = _at(reference)
    assert execute(reference, "rewind 3s").ok
    expected = _at(reference)
    reference.close()

    s = _session()
    assert _at(s) == tip
    real_loads = pickle.loads
    broken = {"on": True}

    def loads(data: Any, *a: Any, **k: Any) -> Any:
        if broken["on"]:
            raise TypeError("__init__() missing required argument 'kernel' (pos 1)")
        return real_loads(data, *a, **k)

    monkeypatch.setattr(pickle, "loads", loads)
    r = execute(s, "rewind 3s")
    text = "\n".join(r.lines)
    assert r.ok, r.error
    assert "checkpoints are off (restoring a checkpoint failed: TypeError" in text
    assert "from the seed" in text
    assert _at(s) == expected
    assert not s.travel.enabled
    s.close()


def test_redo_replays_a_branch_whose_tip_cannot_be_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _session()
    tip = _at(s)
    assert execute(s, "rewind 3s").ok and s.branches
    real_loads = pickle.loads

    def loads(data: Any, *a: Any, **k: Any) -> Any:
        raise TypeError("cannot rebuild this object")

    monkeypatch.setattr(pickle, "loads", loads)
    r = execute(s, "redo")
    monkeypatch.setattr(pickle, "loads", real_loads)
    assert r.ok, r.error
    assert "checkpoints are off (restoring a checkpoint failed: TypeError: cannot rebuild this object)" in (
        "\n".join(r.lines)
    )
    assert _at(s) == tip
    s.close()
