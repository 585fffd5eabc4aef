"""The goal predicates of the Streams, ksqlDB and MirrorMaker lessons, each measured on a small run whose
right answer is known, both ways (a broken measure that always holds, never holds or counts wrong fails).

The scenarios are module fixtures (one run each, shared by the tests that read it); their clusters write
under a RAM disk when there is one, like the lesson tests.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.lessons import PREDICATES
from kafkalab.lessons.goals import parse_goal
from kafkalab.lessons.measures import GoalContext


@pytest.fixture(scope="module", autouse=True)
def _ram_tmp() -> Iterator[None]:
    shm = Path("/dev/shm")
    old = tempfile.tempdir
    if shm.is_dir():
        tempfile.tempdir = str(shm)
    yield
    tempfile.tempdir = old


def run(s: LabSession, *lines: str) -> None:
    for line in lines:
        r = execute(s, line)
        assert r.ok, (line, r.error)


def measure(ctx: GoalContext, name: str, **args: Any) -> Any:
    return PREDICATES[name].measure(ctx, args)


def holds(ctx: GoalContext, goal: dict[str, Any]) -> bool:
    return parse_goal(goal).evaluate(ctx)


def busy(s: LabSession, app: str) -> str:
    """The instance that runs the tasks (one input partition: one of the two is idle)."""
    inst = s.extension_state["streams"][app].instances
    return next(i.client_id for i in inst if i.active_tasks())


def word_count_run(guarantee: str) -> tuple[LabSession, GoalContext, dict[str, Any]]:
    """Two lines counted, a third counted, the busy instance killed and its tasks taken over."""
    s = LabSession(seed=7)
    ctx = GoalContext(s)
    seen: dict[str, Any] = {}
    run(
        s,
        "kafka-topics --create --topic lines --partitions 1 --replication-factor 3",
        "kafka-topics --create --topic counts --partitions 1 --replication-factor 3",
        f"streams start wc --app wordcount --from lines --to counts --instances 2 --guarantee {guarantee} "
        "--session-timeout 6000",
    )
    seen["starting"] = measure(ctx, "streams_running", app="wc")
    run(s, "run 5s")
    seen["running"] = measure(ctx, "streams_running", app="wc")
    seen["other_guarantee"] = holds(
        ctx,
        {
            "streams_running": {
                "app": "wc",
                "guarantee": "at_least_once" if guarantee != "at_least_once" else "exactly_once_v2",
                "at_least": 0,
            }
        },
    )
    run(s, 'produce lines "a b a"', 'produce lines "c"')
    seen["unprocessed"] = {r: measure(ctx, "word_counts", app="wc", result=r) for r in ("exact", "under")}
    run(s, "run 2s")
    seen["counted"] = {r: measure(ctx, "word_counts", app="wc", result=r) for r in ("exact", "over", "under")}
    seen["before_kill"] = (
        measure(ctx, "streams_restored", app="wc"),
        measure(ctx, "word_counts", app="wc", result="exact", after_kill=True),
        holds(ctx, {"store_same_as_before_kill": "wc"}),
    )
    run(s, 'produce lines "a"', "run 2s", f"streams kill wc {busy(s, 'wc')}", "run 3s")
    seen["not_taken_over"] = (
        holds(ctx, {"store_same_as_before_kill": "wc"}),
        measure(ctx, "word_counts", app="wc", result="exact", after_kill=True),
    )
    run(s, "wait-for stable wc 1", "run 2s")
    return s, ctx, seen


@pytest.fixture(scope="module")
def alos() -> Iterator[tuple[LabSession, GoalContext, dict[str, Any]]]:
    s, ctx, seen = word_count_run("at_least_once")
    yield s, ctx, seen
    s.close()


@pytest.fixture(scope="module")
def eos() -> Iterator[tuple[LabSession, GoalContext, dict[str, Any]]]:
    s, ctx, seen = word_count_run("exactly_once_v2")
    yield s, ctx, seen
    s.close()


def test_streams_running_counts_running_instances_of_the_guarantee(alos: Any) -> None:
    _s, ctx, seen = alos
    assert seen["starting"] == 0 and seen["running"] == 2
    assert seen["other_guarantee"] is False  # another guarantee: not judged, not held
    assert measure(ctx, "streams_running", app="wc") == 1  # one was killed
    assert measure(ctx, "streams_running", app="nope") is None


def test_word_counts_compares_the_output_with_the_input(alos: Any) -> None:
    _s, ctx, seen = alos
    assert seen["unprocessed"] == {"exact": 0, "under": 3}  # a, b, c sent, nothing counted yet
    assert seen["counted"] == {"exact": 3, "over": 0, "under": 0}
    # at_least_once, nothing committed yet (commit.interval.ms=30000): the new owner counts every line
    # again on top of the restored store
    assert measure(ctx, "word_counts", app="wc", result="over") == 3
    assert measure(ctx, "word_counts", app="wc", result="exact") == 0
    assert measure(ctx, "word_counts", app="wc", result="over", after_kill=True) == 3


def test_word_counts_after_kill_waits_for_the_tasks_to_move(alos: Any, eos: Any) -> None:
    assert alos[2]["before_kill"][1] is None  # no kill yet: not judged
    assert alos[2]["not_taken_over"][1] is None  # killed, not taken over yet
    _s, ctx, _seen = eos
    assert measure(ctx, "word_counts", app="wc", result="exact", after_kill=True) == 3
    assert measure(ctx, "word_counts", app="wc", result="over", after_kill=True) == 0
    assert measure(ctx, "word_counts", app="wc", result="under", after_kill=True) == 0


def test_streams_restored_counts_changelog_records_read_after_a_kill(alos: Any, eos: Any) -> None:
    assert alos[2]["before_kill"][0] is None
    for _s, ctx, _seen in (alos, eos):
        # the store had a, b, c (and a again): the new owner read their changelog records
        assert measure(ctx, "streams_restored", app="wc") >= 3


def test_store_same_as_before_kill_holds_only_when_the_restore_matches(alos: Any, eos: Any) -> None:
    assert alos[2]["before_kill"][2] is False
    assert alos[2]["not_taken_over"][0] is False
    # at_least_once: restored, then the lines processed again on top: not the store it had
    assert holds(alos[1], {"store_same_as_before_kill": "wc"}) is False
    # exactly_once_v2: the same entries, the same values
    assert holds(eos[1], {"store_same_as_before_kill": "wc"}) is True


@pytest.fixture(scope="module")
def ksql() -> Iterator[tuple[LabSession, GoalContext]]:
    s = LabSession(seed=3)
    ctx = GoalContext(s)
    run(
        s,
        "kafka-topics --create --topic pageviews --partitions 1 --replication-factor 1",
        "kafka-topics --create --topic out --partitions 1 --replication-factor 1",
        "kafka-console-producer --topic pageviews --property parse.key=true --property key.separator=:",
        'home:{"user":"ann"}',
        'cart:{"user":"bob"}',
        'home:{"user":"cyd"}',
        ".exit",
        "run 2s",
    )
    yield s, ctx
    s.close()


def test_ksql_predicates_follow_the_statements(ksql: Any) -> None:
    s, ctx = ksql
    assert not holds(ctx, {"ksql_source": "pageviews"})
    assert measure(ctx, "ksql_row", table="v", key="home", column="n") is None
    run(
        s,
        "CREATE STREAM pageviews (page STRING KEY, user STRING) WITH (kafka_topic='pageviews', value_format='JSON');",
    )
    assert holds(ctx, {"ksql_source": {"name": "PageViews", "kind": "STREAM", "topic": "pageviews"}})
    assert not holds(ctx, {"ksql_source": {"name": "pageviews", "kind": "TABLE"}})
    assert not holds(ctx, {"ksql_source": {"name": "pageviews", "topic": "other"}})
    assert not holds(ctx, {"ksql_query": "v"})
    run(
        s,
        "SET 'auto.offset.reset'='earliest';",
        "CREATE TABLE v AS SELECT page, COUNT(*) AS n FROM pageviews WINDOW TUMBLING (SIZE 1 MINUTE) "
        "GROUP BY page EMIT CHANGES;",
        "run 5s",
    )
    assert holds(ctx, {"ksql_query": "V"})
    assert measure(ctx, "ksql_row", table="v", key="home", column="n") == 2
    assert measure(ctx, "ksql_row", table="v", key="cart", column="N") == 1
    assert measure(ctx, "ksql_row", table="v", key="nope", column="n") is None
    assert measure(ctx, "ksql_row", table="v", key="home", column="page") is None  # not a number
    assert measure(ctx, "ksql_push_rows", source="v") == 0
    run(s, "SELECT * FROM v EMIT CHANGES;", "run 5s")
    pushed = s.extension_state["ksql"][""].push_queries
    assert measure(ctx, "ksql_push_rows", source="v") == sum(len(p.rows) for p in pushed.values()) >= 3
    assert measure(ctx, "ksql_push_rows", source="pageviews") == 0


def test_window_count_and_ksql_matches_streams(ksql: Any) -> None:
    s, ctx = ksql
    if not holds(ctx, {"ksql_query": "v"}):
        test_ksql_predicates_follow_the_statements(ksql)
    goal = {"ksql_matches_streams": {"table": "v", "app": "views", "column": "n"}}
    assert not holds(ctx, goal)
    run(s, "streams start views --app windowed-count --from pageviews --to out --window 60s", "run 5s")
    assert measure(ctx, "window_count", app="views", key="home") == 2
    assert measure(ctx, "window_count", app="views", key="cart") == 1
    assert measure(ctx, "window_count", app="views", key="nope") is None
    assert holds(ctx, goal)
    assert not holds(ctx, {"ksql_matches_streams": {"table": "v", "app": "views", "column": "page"}})
    run(s, "streams start half --app windowed-count --from pageviews --to out --window 30s", "run 5s")
    assert measure(ctx, "window_count", app="half", key="home") == 2
    assert not holds(ctx, {"ksql_matches_streams": {"table": "v", "app": "half", "column": "n"}})
    run(s, 'produce pageviews \'{"user":"dan"}\' --key home', "run 2s")
    assert measure(ctx, "window_count", app="views", key="home") == 3
    assert holds(ctx, goal)  # both counted the new view


@pytest.fixture(scope="module")
def mirror() -> Iterator[tuple[LabSession, GoalContext, dict[str, Any]]]:
    """east fails after billing read 5 orders past MirrorMaker's last checkpoint; billing moves to west."""
    s = LabSession(seed=11, clusters=[("east", 3), ("west", 3)])
    east = GoalContext(s, cluster_name="east")
    west = east.on_cluster("west")
    assert west is not None
    seen: dict[str, Any] = {}
    run(
        s,
        "kafka-topics --create --topic orders --partitions 1 --replication-factor 3",
        "produce orders order --count 20",
        "start-consumer billing-1 --topic orders --group billing --from-beginning",
        "mirror-maker start east->west --set sync.group.offsets.enabled=true --set "
        "emit.checkpoints.interval.seconds=5 --set sync.group.offsets.interval.seconds=5 --set "
        "offset.flush.interval.ms=5000 --set offset.storage.partitions=1",
    )
    seen["no_checkpoint"] = measure(west, "mirror_checkpoint", group="billing", partition="east.orders-0")
    past = {"group": "billing", "partition": "east.orders-0", "source": "east"}
    seen["past_none"] = measure(west, "read_past_checkpoint", **past)
    run(s, "run 10s")
    seen["past_0"] = measure(west, "read_past_checkpoint", **past)
    run(s, "produce orders late --count 5", "run 2s")
    seen["past_5"] = (
        measure(west, "read_past_checkpoint", **past),
        measure(west, "read_past_checkpoint", **{**past, "group": "other"}),
        measure(west, "read_past_checkpoint", **{**past, "source": "nowhere"}),
        measure(east, "read_past_checkpoint", **past),  # east holds no checkpoints of its own
    )
    seen["checkpoint"] = measure(west, "mirror_checkpoint", group="billing", partition="east.orders-0")
    run(s, "kill-broker 1", "kill-broker 2", "kill-broker 3", "use-cluster west")
    seen["before_move"] = (
        holds(
            east,
            {"resumed_at_checkpoint": {"group": "billing", "partition": "east.orders-0", "cluster": "west"}},
        ),
        measure(west, "records_reread", group="billing", topic="orders", source="east"),
    )
    run(s, "kafka-console-consumer --topic east.orders --group other --from-beginning", "run 3s")
    seen["other_group"] = holds(
        west, {"resumed_at_checkpoint": {"group": "other", "partition": "east.orders-0"}}
    )
    run(s, "kafka-console-consumer --topic east.orders --group billing", "run 5s")
    yield s, east, seen
    s.close()


def test_mirror_checkpoint_reads_the_newest_checkpoint_in_the_target(mirror: Any) -> None:
    _s, east, seen = mirror
    assert seen["no_checkpoint"] is None
    assert seen["checkpoint"] == 20  # billing had committed the first 20; the offset flush made it exact
    assert holds(
        east,
        {
            "mirror_checkpoint": {
                "group": "billing",
                "partition": "east.orders-0",
                "cluster": "west",
                "equals": 20,
            }
        },
    )
    assert not holds(
        east, {"mirror_checkpoint": {"group": "billing", "partition": "east.orders-0", "equals": 20}}
    )


def test_read_past_checkpoint_counts_what_a_failover_would_read_again(mirror: Any) -> None:
    _s, _east, seen = mirror
    assert seen["past_none"] is None  # no checkpoint yet
    assert seen["past_0"] == 0  # the checkpoint covers the 20 orders billing read
    assert seen["past_5"] == (5, None, None, None)


def test_resumed_at_checkpoint_and_records_reread(mirror: Any) -> None:
    _s, east, seen = mirror
    assert seen["before_move"] == (False, 0)
    assert seen["other_group"] is False  # a new group starts at 0 (earliest), not at a checkpoint
    goal = {"resumed_at_checkpoint": {"group": "billing", "partition": "east.orders-0", "cluster": "west"}}
    assert holds(east, goal)
    west = east.on_cluster("west")
    assert west is not None
    # the 5 late orders were read on east after the checkpoint, and again on west
    assert measure(west, "records_reread", group="billing", topic="orders", source="east") == 5
    assert measure(west, "records_reread", group="other", topic="orders", source="east") == 0
    assert measure(west, "records_reread", group="billing", topic="orders", source="nowhere") is None
