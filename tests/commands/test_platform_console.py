"""The platform from the console: several clusters, streams, ksqlDB statements, mirror-maker."""

from __future__ import annotations

import json

from kafkalab.commands import LabSession, execute

FAST = {"offsets.topic.num.partitions": 2, "transaction.state.log.num.partitions": 2}
MM_FAST = " ".join(
    f"--set {k}={v}"
    for k, v in {
        "replication.factor": 1,
        "offset-syncs.topic.replication.factor": 1,
        "checkpoints.topic.replication.factor": 1,
        "heartbeats.topic.replication.factor": 1,
        "offset.storage.replication.factor": 1,
        "offset.storage.partitions": 1,
        "emit.checkpoints.interval.seconds": 2,
        "refresh.topics.interval.seconds": 2,
        "offset.flush.interval.ms": 2000,
    }.items()
)


def ok(s: LabSession, line: str) -> list[str]:
    r = execute(s, line)
    assert r.ok, f"{line} -> {r.error}"
    return r.lines


def bad(s: LabSession, line: str) -> str:
    r = execute(s, line)
    assert not r.ok and r.error and "\n" not in r.error.split(":", 1)[0], f"{line} should fail"
    assert "internal error" not in r.error
    return r.error


def test_clusters_switch_cut_heal_and_rewind_replays_the_switch() -> None:
    s = LabSession(seed=3, clusters=[("east", 1), ("west", 1)], broker_config=FAST)
    assert ok(s, "clusters")[0].startswith("* east: 1 brokers")
    ok(s, "kafka-topics --create --topic orders --partitions 1 --replication-factor 1")
    assert ok(s, "use-cluster west") == ["now on cluster west: commands and the screen act on it"]
    assert s.cluster.name == "west" and "orders" not in ok(s, "kafka-topics --list")
    ok(s, "kafka-topics --create --topic local --partitions 1 --replication-factor 1")
    ok(s, "produce local hi")
    assert bad(s, "use-cluster north") == "use-cluster: there is no cluster 'north' (clusters: east, west)"
    assert ok(s, "cut-link east west")[0].startswith("network cut between east and west")
    assert ok(s, "clusters")[-2] == "links cut: east<->west"
    assert ok(s, "heal") == ["network healed: every node can reach every other node again"]
    assert ok(s, "heal-link") == ["no link between clusters is cut"]
    ok(s, "run 1s")
    s.replay()
    assert s.cluster.name == "west" and "local" in s.cluster.topics()
    s.close()
    one = LabSession(seed=1, brokers=1)
    assert "this lab has one cluster" in bad(one, "use-cluster west")
    assert "needs two clusters" in bad(one, "mirror-maker start east->west")
    one.close()


def test_streams_from_the_console() -> None:
    s = LabSession(seed=4, brokers=1, broker_config=FAST)
    for t in ("lines", "counts"):
        ok(s, f"kafka-topics --create --topic {t} --partitions 2 --replication-factor 1")
    assert "topic 'nope' does not exist" in bad(s, "streams start wc --app wordcount --from nope --to counts")
    assert "--app must be one of" in bad(s, "streams start wc --app magic --from lines --to counts")
    assert "Invalid value once" in bad(
        s, "streams start wc --app wordcount --from lines --to counts --guarantee once"
    )
    lines = ok(
        s,
        "streams start wc --app wordcount --from lines --to counts --instances 2 --guarantee exactly_once_v2 --session-timeout 6000",
    )
    assert lines[1:] == ["started instance wc-1 (exactly_once_v2)", "started instance wc-2 (exactly_once_v2)"]
    assert "wc-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog" in s.cluster.topics()
    ok(s, "produce lines 'the cat and the hat'")
    ok(s, "run 8s")
    store = ok(s, "streams store wc")
    assert store[0] == "store KSTREAM-AGGREGATE-STATE-STORE-0000000003:"
    assert sorted(x.split(": ", 1)[1] for x in store[1:]) == ["and = 1", "cat = 1", "hat = 1", "the = 2"]
    assert ok(s, "streams describe wc")[0] == "Topologies:"
    assert ok(s, "streams kill wc wc-1")[0].startswith("wc-1 killed (kill -9)")
    assert "is not running" in bad(s, "streams kill wc wc-1")
    ok(s, "run 10s")
    status = "\n".join(ok(s, "streams status wc"))
    assert "wc-1: NOT_RUNNING" in status and "wc-2: RUNNING" in status
    assert status.count("active  ") == 4  # the survivor runs all four tasks
    assert "there is no Streams application 'x'" in bad(s, "streams status x")
    s.close()


def test_ksqldb_statements_typed_in_the_console() -> None:
    s = LabSession(seed=5, brokers=1, broker_config=FAST)
    assert ok(s, "ksql")[0].startswith("ksqlDB statements")
    assert (
        ok(
            s,
            "create stream words (word string) with (kafka_topic='words', value_format='json', partitions=1);",
        )[2]
        == " Stream created "
    )
    assert ok(s, "SET 'auto.offset.reset'='earliest'")[0].startswith("Successfully changed")
    push = ok(s, "SELECT word FROM words EMIT CHANGES LIMIT 2;")
    assert push[-1].startswith("(push query transient_WORDS_1 runs in the background")
    assert "transient_WORDS_1" in s.clients
    for w in ("kafka", "log", "kafka"):
        ok(s, f"produce words '{json.dumps({'word': w})}'")
    ok(s, "run 5s")
    out = s.output
    assert [x.split("|")[1].strip() for x in out if x.startswith("|")] == ["kafka", "log"]
    assert out[-2:] == ["Limit Reached", "Query terminated"] and "transient_WORDS_1" not in s.clients
    ok(s, "CREATE TABLE counts AS SELECT word, COUNT(*) AS n FROM words GROUP BY word EMIT CHANGES;")
    ok(s, "run 5s")
    pull = ok(s, "SELECT * FROM counts WHERE word = 'kafka';")
    assert pull[3].split("|")[1:3] == ["kafka".ljust(36), "2".ljust(36)]
    # ksqlDB's errors come as ksqlDB prints them (no command-name prefix)
    assert bad(s, "SELECT * FROM nope;") == "NOPE does not exist."
    assert bad(s, "show foo").startswith("line 1:6: Syntax Error")
    # a ksqlDB statement is an action: a rewind replays it
    s.replay()
    assert "COUNTS" in s.extension_state["ksql"][""].sources
    s.close()


def test_mirror_maker_from_the_console() -> None:
    s = LabSession(seed=6, clusters=[("east", 1), ("west", 1)], broker_config=FAST)
    ok(s, "kafka-topics --create --topic orders --partitions 1 --replication-factor 1")
    assert "SOURCE->TARGET" in bad(s, "mirror-maker start east")
    assert "no cluster 'north'" in bad(s, "mirror-maker start east->north")
    assert "Unknown MirrorMaker configuration 'nope'" in bad(s, "mirror-maker start east->west --set nope=1")
    ok(s, f"mirror-maker start east->west --groups billing {MM_FAST}")
    assert "runs already" in bad(s, "mirror-maker start east->west")
    ok(s, "produce orders a --count 10")
    ok(s, "kafka-console-consumer --topic orders --group billing --from-beginning --max-messages 10")
    ok(s, "run 10s")
    status = "\n".join(ok(s, "mirror-maker status"))
    assert "orders -> east.orders" in status and "orders-0 -> east.orders-0: 10 records" in status
    cps = ok(s, "mirror-maker checkpoints --group billing")
    assert cps[-1].startswith(
        "Checkpoint{consumerGroupId=billing, topicPartition=east.orders-0, upstreamOffset=10, "
    )
    assert ok(s, "mirror-maker kill")[0].startswith("mm2-east-west killed")
    assert "is not running" in bad(s, "mirror-maker kill")
    ok(s, "use-cluster west")
    assert "east.orders" in ok(s, "kafka-topics --list")
    s.close()


def test_time_travel_checkpoints_capture_running_streams_and_ksqldb_queries() -> None:
    """A rewind restores a checkpoint holding Streams instances and a ksqlDB query; the run goes on exactly
    as a replay from the seed does."""
    s = LabSession(seed=5, brokers=1, broker_config=FAST)
    for t in ("lines", "counts"):
        ok(s, f"kafka-topics --create --topic {t} --partitions 2 --replication-factor 1")
    ok(
        s,
        "streams start wc --app wordcount --from lines --to counts --instances 2 --guarantee exactly_once_v2",
    )
    ok(s, "create stream words (word string) with (kafka_topic='words', value_format='json', partitions=1);")
    ok(s, "CREATE TABLE wcount AS SELECT word, COUNT(*) AS n FROM words GROUP BY word EMIT CHANGES;")
    ok(s, "start-producer p1 --topic lines --rate 20")
    ok(s, "run 25s")
    assert s.travel.enabled and len(s.travel.line) >= 2
    s.rewind_to(s.now_ms - 5000)
    assert s.travel.last is not None and s.travel.last.from_checkpoint is not None
    ok(s, "run 5s")
    restored = s.cluster.trace_hash()
    assert "  wc-1: RUNNING" in ok(s, "streams status wc")
    s.replay()  # from the seed this time
    assert s.travel.last is not None and s.travel.last.from_checkpoint is None
    assert s.cluster.trace_hash() == restored
    s.close()
    multi = LabSession(seed=5, clusters=[("east", 1), ("west", 1)], broker_config=FAST)
    assert (
        not multi.travel.enabled
    )  # checkpoints hold one cluster's files: several clusters replay from the seed
    multi.close()
