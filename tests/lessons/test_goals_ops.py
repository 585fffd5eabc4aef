"""The goal predicates of the operations lessons (kafkalab/lessons/goals_ops.py), each checked both ways:
it holds after the action it is about and not before it, nor after a look-alike action."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.lessons.goals import parse_goal
from kafkalab.lessons.measures import GoalContext
from kafkalab.lessons.verbs import run_verb


@pytest.fixture(autouse=True)
def ram_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if Path("/dev/shm").is_dir():
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    yield


def _lab(brokers: int = 3) -> tuple[LabSession, GoalContext]:
    s = LabSession(brokers=brokers, seed=42)
    return s, GoalContext(s)


def _ok(s: LabSession, line: str) -> None:
    r = execute(s, line)
    assert r.ok, (line, r.error)


def _holds(ctx: GoalContext, goal: dict[str, object]) -> bool:
    return parse_goal(goal).evaluate(ctx)


def test_replicas_and_leader_follow_a_reassignment_and_a_preferred_election() -> None:
    s, ctx = _lab(brokers=4)
    _ok(s, "kafka-topics --create --topic t --replication-factor 2")
    info = s.cluster.describe_topic("t")[0]
    old = ",".join(map(str, info.replicas))
    new = [b for b in (1, 2, 3, 4) if b not in info.replicas][0], info.replicas[0]
    moved = ",".join(map(str, new))
    assert _holds(ctx, {"replicas": {"partition": "t-0", "brokers": old}})
    assert not _holds(ctx, {"replicas": {"partition": "t-0", "brokers": moved}})
    assert not _holds(ctx, {"leader": {"partition": "t-0", "broker": new[0]}})
    plan = json.dumps({"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": list(new)}]})
    _ok(s, f"kafka-reassign-partitions --execute --reassignment-json-file '{plan}'")
    _ok(s, "run 2s")
    assert _holds(ctx, {"replicas": {"partition": "t-0", "brokers": moved}})
    assert not _holds(ctx, {"leader": {"partition": "t-0", "broker": new[0]}})  # the leader stayed
    _ok(s, "kafka-leader-election --election-type PREFERRED --all-topic-partitions")
    assert _holds(ctx, {"leader": {"partition": "t-0", "broker": new[0]}})
    assert not _holds(ctx, {"leader": {"partition": "nope-0", "broker": new[0]}})


def test_control_records_count_commit_and_abort_markers_of_the_leader_log() -> None:
    s, ctx = _lab()
    extras: dict[str, object] = {}
    _ok(s, "kafka-topics --create --topic src --replication-factor 3")
    _ok(s, "kafka-topics --create --topic dst --replication-factor 3")
    _ok(s, "produce src v --count 10")
    _ok(s, "produce dst plain --count 3")  # an idempotent producer writes no marker
    commit = {"control_records": {"partition": "dst-0", "marker": "COMMIT", "at_least": 1}}
    abort = {"control_records": {"partition": "dst-0", "marker": "ABORT", "at_least": 1}}
    assert not _holds(ctx, commit) and not _holds(ctx, abort)
    assert run_verb(s, extras, "start-copier c --mode exactly-once --from src --to dst").ok
    assert run_verb(s, extras, "copier-step c").ok
    assert _holds(ctx, commit) and not _holds(ctx, abort)
    assert run_verb(s, extras, "copier-step c --crash").ok
    assert not _holds(ctx, abort)  # the open transaction has no marker yet
    assert run_verb(s, extras, "restart-copier c").ok
    assert _holds(ctx, abort)
    assert _holds(ctx, {"control_records": {"partition": "dst-0", "marker": "COMMIT", "equals": 1}})


def test_consume_latency_is_short_by_default_and_grows_with_fetch_min_bytes() -> None:
    s, ctx = _lab()
    _ok(s, "kafka-topics --create --topic t --replication-factor 3")
    _ok(s, "start-producer p --topic t --rate 2")
    _ok(s, "kafka-console-consumer --topic t")
    _ok(
        s,
        "kafka-console-consumer --topic t --consumer-property fetch.min.bytes=100000 "
        "--consumer-property fetch.max.wait.ms=2000",
    )
    fast = {"consume_latency_ms": {"client": "console-consumer-1", "at_most": 200}}
    slow = {"consume_latency_ms": {"client": "console-consumer-2", "at_least": 700}}
    assert not _holds(ctx, fast) and not _holds(ctx, slow)  # nothing consumed yet
    _ok(s, "run 10s")
    assert _holds(ctx, fast) and _holds(ctx, slow)
    assert not _holds(ctx, {"consume_latency_ms": {"client": "console-consumer-1", "at_least": 700}})
    assert not _holds(ctx, {"consume_latency_ms": {"client": "console-consumer-2", "at_most": 200}})
    # without a client: some consumer meets the bounds
    assert _holds(ctx, {"consume_latency_ms": {"at_most": 200}})
    assert _holds(ctx, {"consume_latency_ms": {"at_least": 700}})
    assert not _holds(ctx, {"consume_latency_ms": {"at_least": 5000}})


def test_consume_latency_leaves_out_a_backlog_read_from_the_beginning() -> None:
    s, ctx = _lab()
    _ok(s, "kafka-topics --create --topic t --replication-factor 3")
    _ok(s, "start-producer p --topic t --rate 2")
    _ok(s, "run 10s")  # 20 old records
    _ok(s, "kafka-console-consumer --topic t --from-beginning")
    _ok(s, "run 5s")
    assert _holds(ctx, {"consume_latency_ms": {"client": "console-consumer-1", "at_most": 200}})


def test_left_on_poll_timeout_needs_max_poll_interval_not_a_clean_leave() -> None:
    s, ctx = _lab()
    extras: dict[str, object] = {}
    _ok(s, "kafka-topics --create --topic src --partitions 2 --replication-factor 3")
    _ok(s, "kafka-topics --create --topic dst --replication-factor 3")
    _ok(s, "produce src v --count 20")
    goal = {"left_on_poll_timeout": "slow"}
    line = "start-copier {} --mode at-least-once --from src --to dst --consumer-property max.poll.interval.ms=10000"
    assert run_verb(s, extras, line.format("slow")).ok
    assert run_verb(s, extras, "copier-step slow").ok
    _ok(s, "run 8s")  # past session.timeout.ms (6 s), not past max.poll.interval.ms
    assert not _holds(ctx, goal)
    assert s.cluster.describe_group("slow").state == "Stable"
    _ok(s, "run 5s")
    assert _holds(ctx, goal)
    # a consumer that closes cleanly leaves with LeaveGroup too, but not for this reason
    _ok(s, "kafka-console-consumer --topic src --group clean")
    _ok(s, "wait-for stable clean")
    _ok(s, "stop console-consumer-1")
    _ok(s, "run 2s")
    assert not _holds(ctx, {"left_on_poll_timeout": "clean"})


@pytest.mark.parametrize(
    ("prop", "error"),
    [
        ("group.id=x", "a copier takes only"),
        ("max.poll.interval.ms=abc", "Not a number of type INT"),
        ("max.poll.interval.ms=0", "Value must be at least 1"),
        ("heartbeat.interval.ms=7000", "Heartbeat must be set lower than the session timeout"),
        ("max.poll.interval.ms", "key=value"),
    ],
)
def test_start_copier_refuses_bad_consumer_properties(prop: str, error: str) -> None:
    s, _ctx = _lab(brokers=1)
    _ok(s, "kafka-topics --create --topic a")
    extras: dict[str, object] = {}
    r = run_verb(s, extras, f"start-copier c --mode at-least-once --from a --to a --consumer-property {prop}")
    assert not r.ok and error in (r.error or ""), r.error
    assert extras.get("copiers") in (None, {})


def test_segment_dumped_needs_a_log_file_of_that_partition() -> None:
    s, ctx = _lab()
    _ok(s, "kafka-topics --create --topic t --partitions 2 --replication-factor 3")
    _ok(s, "produce t v --count 3 --partition 0")
    ctx.commands = [
        "kafka-dump-log --files broker-1/t-1/00000000000000000000.log",  # another partition
        "kafka-dump-log --files broker-1/t-0/00000000000000000000.index",  # not the segment
        "kafka-topics --describe --topic t-0",
    ]
    assert not _holds(ctx, {"segment_dumped": "t-0"})
    ctx.commands.append(
        "kafka-dump-log.sh --deep-iteration --files=broker-1/t-1/0.log,broker-2/t-0/00000000000000000000.log"
    )
    assert _holds(ctx, {"segment_dumped": "t-0"})
