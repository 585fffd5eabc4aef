"""The lab console: Kafka CLI emulation and lab verbs on a small simulated cluster (virtual time only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kafkalab.commands import COMMANDS, GROUPS_UNAVAILABLE, CommandResult, LabSession, complete, execute
from kafkalab.commands.base import groups_available


def ok(session: LabSession, line: str) -> CommandResult:
    r = execute(session, line)
    assert r.ok, f"{line!r} failed: {r.error}"
    assert r.error is None
    return r


@pytest.fixture
def s() -> LabSession:
    session = LabSession(brokers=3, seed=42)
    ok(
        session,
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3 "
        "--config min.insync.replicas=2",
    )
    yield session
    session.close()


def state_of(session: LabSession) -> tuple[object, ...]:
    c = session.cluster
    return (
        c.trace_hash(),
        c.now_ms,
        tuple(c.topics()),
        len(session.actions),
        tuple(session.clients),
        tuple(sorted(c.topic_configs("events").items())) if "events" in c.topics() else None,
        session.input_mode,
    )


# -- kafka-topics ------------------------------------------------------------------------------------------


def test_create_topic_creates_partitions_with_replicas(s: LabSession) -> None:
    r = ok(
        s,
        "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 4 "
        "--replication-factor 2",
    )
    assert r.lines == ["Created topic orders."]
    parts = s.cluster.describe_topic("orders")
    assert len(parts) == 4
    assert all(len(p.replicas) == 2 and p.leader in p.replicas for p in parts)


def test_describe_matches_kafka_format(s: LabSession) -> None:
    lines = ok(s, "kafka-topics --describe --topic events").lines
    assert re.fullmatch(
        r"Topic: events\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 3\t"
        r"Configs: min.insync.replicas=2",
        lines[0],
    )
    assert len(lines) == 4
    for i, (line, info) in enumerate(zip(lines[1:], s.cluster.describe_topic("events"), strict=True)):
        assert line == (
            f"\tTopic: events\tPartition: {i}\tLeader: {info.leader}\t"
            f"Replicas: {','.join(map(str, info.replicas))}\tIsr: {','.join(map(str, info.isr))}"
            "\tElr: \tLastKnownElr: "
        )


def test_list_delete_and_if_exists(s: LabSession) -> None:
    ok(s, "kafka-topics --create --topic tmp --partitions 1 --replication-factor 1")
    assert ok(s, "kafka-topics --list").lines == ["events", "tmp"]
    assert ok(s, "kafka-topics --delete --topic tmp").lines == []
    assert "tmp" not in s.cluster.topics()
    assert ok(s, "kafka-topics --delete --topic tmp --if-exists").lines == []
    assert ok(
        s, "kafka-topics --create --topic events --partitions 1 --replication-factor 1 --if-not-exists"
    ).ok


def test_describe_filters_under_replicated_and_unavailable(s: LabSession) -> None:
    ok(s, "kill-broker 1")
    ok(s, "run 15s")
    under = ok(s, "kafka-topics --describe --under-replicated-partitions").lines
    assert len(under) == 3 and all(line.startswith("\tTopic: events\tPartition: ") for line in under)
    assert ok(s, "kafka-topics --describe --unavailable-partitions").lines == []


def test_alter_partitions_grows_a_topic_and_refuses_a_decrease(s: LabSession) -> None:
    before = state_of(s)
    r = execute(s, "kafka-topics --alter --topic events --partitions 2")
    assert r.error == (
        "Error while executing topic command : The topic events currently has 3 partition(s); 2 would not be an "
        "increase."
    )
    r = execute(s, "kafka-topics --alter --topic events --partitions 3")
    assert r.error == "Error while executing topic command : Topic already has 3 partition(s)."
    assert state_of(s) == before
    assert ok(s, "kafka-topics --alter --topic events --partitions 6").lines == []
    parts = s.cluster.describe_topic("events")
    assert len(parts) == 6 and all(len(p.replicas) == 3 and p.leader >= 0 for p in parts)
    assert "PartitionCount: 6" in ok(s, "kafka-topics --describe --topic events").lines[0]


# -- kafka-configs -----------------------------------------------------------------------------------------


def test_configs_alter_and_describe(s: LabSession) -> None:
    r = ok(
        s,
        "kafka-configs --bootstrap-server x:9092 --alter --entity-type topics --entity-name events "
        "--add-config retention.ms=60000,cleanup.policy=[compact,delete]",
    )
    assert r.lines == ["Completed updating config for topic events."]
    cfg = s.cluster.topic_configs("events")
    assert cfg["retention.ms"] == "60000" and cfg["cleanup.policy"] == "compact,delete"
    lines = ok(s, "kafka-configs --describe --topic events").lines
    assert lines[0] == "Dynamic configs for topic events are:"
    assert (
        "  retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000, "
        "DEFAULT_CONFIG:log.retention.hours=168}"
    ) in lines
    ok(s, "kafka-configs --alter --topic events --delete-config retention.ms")
    assert s.cluster.topic_configs("events")["retention.ms"] == "604800000"


# -- brokers, controllers, network ------------------------------------------------------------------------


def broker_state(s: LabSession, n: int) -> str:
    return next(b.state for b in s.cluster.describe_cluster().brokers if b.broker_id == n)


def test_kill_restart_pause_resume_broker(s: LabSession) -> None:
    ok(s, "kill-broker 1")
    assert broker_state(s, 1) == "down"
    ok(s, "restart broker 1")  # two-word form
    assert broker_state(s, 1) == "up"
    ok(s, "pause-broker 2")
    assert broker_state(s, 2) == "paused"
    ok(s, "resume-broker 2")
    assert broker_state(s, 2) == "up"
    ok(s, "kill broker 3")
    ok(s, "run 12s")
    info = s.cluster.describe_cluster()
    assert next(b for b in info.brokers if b.broker_id == 3).fenced
    assert all(p.leader != 3 for p in s.cluster.describe_topic("events"))


def test_kill_and_restart_controller() -> None:
    s = LabSession(brokers=3, seed=1, controllers=3)
    active = s.cluster.describe_cluster().controller_id
    assert active is not None
    ok(s, "kill-controller")
    assert dict(s.cluster.describe_cluster().controllers)[active] == "down"
    ok(s, f"restart-controller {active}")
    assert dict(s.cluster.describe_cluster().controllers)[active] == "up"
    s.close()


def test_partition_and_heal(s: LabSession) -> None:
    ok(s, "partition 1,2 3")
    cuts = s.cluster.describe_cluster().network_cuts
    assert ("broker-1", "broker-3") in cuts and ("broker-2", "broker-3") in cuts
    ok(s, "heal")
    assert s.cluster.describe_cluster().network_cuts == ()
    ok(s, "partition 2")  # isolate broker 2 from everyone
    assert all("broker-2" in cut for cut in s.cluster.describe_cluster().network_cuts)


# -- producing and consuming ------------------------------------------------------------------------------


def test_produce_shortcut_acknowledges_records(s: LabSession) -> None:
    r = ok(s, "produce events hello --key user-1")
    assert re.fullmatch(r"acknowledged: events-\d@0 \(acks=all\)", r.lines[0])
    ok(s, "produce events bulk --count 20 --acks 1")
    s.tick(1000)  # acks=1 answered after the leader's append; the HW moves once followers fetched
    assert sum(p.high_watermark for p in s.cluster.describe_topic("events")) == 21


def test_console_producer_input_mode(s: LabSession) -> None:
    ok(s, "kafka-console-producer --topic events --property parse.key=true --property key.separator=:")
    assert s.input_mode is not None and s.prompt == ">"
    ok(s, "user-1:clicked")
    ok(s, "user-2:scrolled")
    r = execute(s, "no separator here")
    assert not r.ok and r.error is not None and "No key separator found on line number 3" in r.error
    ok(s, ".exit")
    assert s.input_mode is None
    s.tick(3000)  # linger.ms=1000, like the real console producer
    records = s.cluster.read_all("events")
    got = {(k, v) for recs in records.values() for _o, k, v in recs}
    assert got == {(b"user-1", b"clicked"), (b"user-2", b"scrolled")}
    assert "console-producer-1" not in s.clients


def test_console_consumer_prints_produced_records(s: LabSession) -> None:
    ok(s, "produce events first --key a")
    ok(s, "kafka-console-consumer --topic events --from-beginning --property print.key=true")
    ok(s, "produce events second --key b")
    s.tick(1000)
    assert "[console-consumer-1] a\tfirst" in s.output
    assert "[console-consumer-1] b\tsecond" in s.output
    r = ok(s, "stop console-consumer-1")
    assert r.lines == ["Processed a total of 2 messages"]


def test_console_consumer_max_messages_stops(s: LabSession) -> None:
    ok(s, "produce events v --count 5")
    ok(s, "kafka-console-consumer --topic events --from-beginning --max-messages 3")
    s.tick(2000)
    printed = [line for line in s.output if line.startswith("[console-consumer-1] v-")]
    assert len(printed) == 3
    assert s.output[-1] == "[console-consumer-1] Processed a total of 3 messages"
    assert "console-consumer-1" not in s.clients


def test_background_producer_and_consumer(s: LabSession) -> None:
    ok(s, "start-producer p1 --topic events --rate 10 --key-count 3 --acks all")
    ok(s, "start-consumer c1 --topic events")
    for _ in range(40):
        s.tick(50)  # a UI timer
    lines = [line for line in s.output if line.startswith("[c1] events-")]
    assert len(lines) >= 15
    assert re.fullmatch(r"\[c1\] events-\d@\d+ key=key-\d value=msg-\d+", lines[0])
    status = "\n".join(ok(s, "status").lines)
    assert "p1: producer -> events at 10/s" in status and "c1: consumer <- events" in status
    ok(s, "stop p1")
    ok(s, "stop c1")
    assert s.clients == {}


def test_tick_granularity_does_not_change_the_run() -> None:
    def run(chunks: list[int]) -> str:
        session = LabSession(brokers=3, seed=9)
        ok(session, "kafka-topics --create --topic t --partitions 2 --replication-factor 3")
        ok(session, "start-producer p --topic t --rate 33")
        ok(session, "start-consumer c --topic t --from-beginning")
        for ms in chunks:
            session.tick(ms)
        h = session.cluster.trace_hash()
        session.close()
        return h

    assert run([2000]) == run([50] * 40) == run([7, 993, 1000])


# -- consumer groups ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not groups_available(LabSession(brokers=1, seed=0).cluster), reason="no group support")
def test_consumer_groups_describe_and_reset(s: LabSession) -> None:
    ok(s, "produce events r --count 6 --key k")
    ok(s, "start-consumer c1 --topic events --group g1 --from-beginning")
    s.tick(7000)  # past auto.commit.interval.ms
    assert ok(s, "kafka-consumer-groups --list").lines == ["g1"]
    lines = ok(s, "kafka-consumer-groups --describe --group g1").lines
    header = lines[lines.index("") + 1]
    assert header.split() == [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]
    rows = [line.split() for line in lines[lines.index("") + 2 :]]
    assert len(rows) == 3 and all(r[0] == "g1" and r[1] == "events" and r[8] == "c1" for r in rows)
    assert sum(int(r[3]) for r in rows if r[3] != "-") == 6

    before = state_of(s)
    r = execute(
        s,
        "kafka-consumer-groups --bootstrap-server b:9092 --reset-offsets --group g1 --topic events "
        "--to-earliest --execute",
    )
    assert not r.ok
    assert r.error == (
        "Error: Assignments can only be reset if the group 'g1' is inactive, but the current state is Stable."
    )
    assert state_of(s) == before

    ok(s, "stop c1")
    s.tick(500)  # the LeaveGroup reaches the coordinator
    assert s.cluster.describe_group("g1").state == "Empty"
    dry = ok(
        s, "kafka-consumer-groups --reset-offsets --group g1 --topic events --to-earliest --dry-run"
    ).lines
    assert dry[1].split() == ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]
    assert sum(s.cluster.describe_group("g1").offsets.values()) == 6  # dry run changed nothing
    ok(s, "kafka-consumer-groups --reset-offsets --group g1 --topic events --to-earliest --execute")
    assert set(s.cluster.describe_group("g1").offsets.values()) == {0}


@pytest.mark.skipif(not groups_available(LabSession(brokers=1, seed=0).cluster), reason="no group support")
def test_crash_consumer_does_not_leave_the_group(s: LabSession) -> None:
    ok(s, "start-consumer c1 --topic events --group g1")
    s.tick(5000)
    assert s.cluster.describe_group("g1").state == "Stable"
    r = ok(s, "crash-consumer c1")
    assert "session.timeout.ms" in r.lines[-1]
    s.tick(10_000)
    assert len(s.cluster.describe_group("g1").members) == 1  # still there: it never said goodbye
    s.tick(40_000)
    assert s.cluster.describe_group("g1").state == "Empty"


def test_group_commands_say_clearly_when_groups_are_missing(
    s: LabSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kafkalab.commands.kafka_tools.console_consumer as console_consumer
    import kafkalab.commands.kafka_tools.consumer_groups as consumer_groups
    import kafkalab.commands.lab as lab

    monkeypatch.setattr(consumer_groups, "groups_available", lambda cluster: False)
    monkeypatch.setattr(console_consumer, "groups_available", lambda cluster: False)
    monkeypatch.setattr(lab, "groups_available", lambda cluster: False)
    for line in (
        "kafka-consumer-groups --list",
        "start-consumer c1 --topic events --group g",
        "kafka-console-consumer --topic events --group g",
    ):
        r = execute(s, line)
        assert not r.ok and r.error == GROUPS_UNAVAILABLE


# -- malformed commands -------------------------------------------------------------------------------------

MALFORMED = [
    ("frobnicate --now", "unknown command 'frobnicate'"),
    ("kafka-topics --create --partitions 3 --replication-factor 1", 'Missing required argument "[topic]"'),
    (
        "kafka-topics --create --topic x --partitions three --replication-factor 1",
        "Cannot parse argument 'three' of option partitions",
    ),
    ("kill-broker 9", "there is no broker 9"),
    ("kill-broker one", "'one' is not a broker id"),
    (
        "kafka-topics --create --topic x --partitions 1 --replication-factor 1 --config foo.bar=1",
        "Unknown topic config name: foo.bar",
    ),
    ('produce events "unbalanced', "unbalanced quotes"),
    (
        "kafka-configs --alter --topic events --add-config min.insync.replicas=abc",
        "Invalid value abc for configuration min.insync.replicas: Not a number of type INT",
    ),
    ("kafka-configs --alter --topic events --add-config bogus.key=1", "Unknown topic config name: bogus.key"),
    ("kafka-configs --alter --topic events --delete-config retention.ms", "Invalid config(s): retention.ms"),
    (
        "kafka-topics --create --topic events --partitions 1 --replication-factor 1",
        "Topic 'events' already exists.",
    ),
    (
        "kafka-topics --create --topic y --partitions 1 --replication-factor 5",
        "The target replication factor of 5 cannot be reached because only 3 broker(s) are registered.",
    ),
    ("kafka-topics --create --topic 'bad name' --partitions 1 --replication-factor 1", "is illegal"),
    (
        "kafka-topics --create --topic z --partitions 0 --replication-factor 1",
        "The partitions must be greater than 0",
    ),
    ("kafka-topics --list --describe", "Command must include exactly one action"),
    ("kafka-topics --describe --topic nope", "Topic 'Optional[nope]' does not exist as expected"),
    (
        "kafka-topics --describe --partitions 3",
        'Option "[partitions]" can\'t be used with option "[describe]"',
    ),
    ("kafka-topics --list --bogus", "bogus is not a recognized option"),
    ("kafka-topics --create --topic", "Option topic requires an argument"),
    ("kafka-console-consumer --from-beginning", 'Missing required argument "[topic]"'),
    (
        "kafka-console-consumer --topic events --offset 5",
        "The partition is required when offset is specified.",
    ),
    ("kafka-console-consumer --topic events --partition 7", "Partition 7 of topic events does not exist"),
    ("kafka-console-producer --topic 'no pe'", 'Topic name "no pe" is illegal'),
    ("kafka-console-producer --topic events --producer-property acks=2", "acks"),
    ("start-producer p1 --topic events --acks 2", "--acks must be 0, 1 or all"),
    ("start-producer p1 --topic events --acks 1 --idempotence true", "requires --acks all"),
    ("start-producer p1 --rate 5", 'Missing required argument "[topic]"'),
    ("start-producer p1 --topic events --rate fast", "Cannot parse argument 'fast' of option rate"),
    ("start-consumer broker-1 --topic events", "already the name of a node"),
    ("partition 7", "there is no broker or controller 7"),
    ("partition 1 1", "cannot be on both sides"),
    ("stop ghost", "no running client named 'ghost'"),
    ("crash-consumer ghost", "no running consumer named 'ghost'"),
    ("restart-broker 1", "broker 1 is running"),
    ("resume-broker 1", "broker 1 is up, not paused"),
    ("restart-controller 7", "there is no controller 7"),
    ("speed 1000", "speed must be between 0.1 and 100"),
    ("run soon", "must be a duration"),
    ("step many", "Cannot parse argument 'many' of option step"),
    ("rewind --to 99999999", "cannot rewind forward"),
    ("seed x", "Cannot parse argument 'x' of option seed"),
    ("produce events", "usage: produce TOPIC VALUE"),
    ("produce events v --count 0", "--count must be between 1 and 100000"),
    ("help nosuchthing", "no command named 'nosuchthing'"),
    (
        "kafka-consumer-groups --reset-offsets --group g --topic events --to-earliest --to-latest",
        'Option "[to-earliest]" can\'t be used with option "[to-latest]"',
    ),
    (
        "kafka-consumer-groups --describe",
        "Option [describe] takes one of these options: [all-groups], [group]",
    ),
    (
        "kafka-consumer-groups --reset-offsets --group g --topic events --by-duration 10min --execute",
        "Error parsing duration 10min",
    ),
]


@pytest.mark.parametrize(("line", "expected"), MALFORMED)
def test_malformed_commands_fail_cleanly_and_change_nothing(s: LabSession, line: str, expected: str) -> None:
    before = state_of(s)
    r = execute(s, line)
    assert not r.ok
    assert r.lines == []
    assert r.error is not None and "\n" not in r.error
    assert expected in r.error, r.error
    assert state_of(s) == before


def test_read_only_commands_do_not_touch_the_run(s: LabSession) -> None:
    before = state_of(s)
    for line in (
        "kafka-topics --list",
        "kafka-topics --describe",
        "kafka-configs --describe --topic events",
        "status",
        "help",
        "help kafka-topics",
        "speed",
        "",
        "# a comment",
    ):
        ok(s, line)
    assert state_of(s) == before


# -- time: speed, seed, step, run, rewind -----------------------------------------------------------------


def test_speed_seed_step_run(s: LabSession) -> None:
    ok(s, "speed 10")
    assert s.speed == 10
    assert s.advance_wall(50) == 500
    t = s.now_ms
    ok(s, "run 2s")
    assert s.now_ms == t + 2000
    events = s.events
    r = ok(s, "step 3")
    assert s.events == events + 3 and len(r.lines) == 3
    ok(s, "seed 7 --yes")  # (without --yes it asks first: see test_timetravel)
    assert s.seed == 7 and s.cluster.topics() == [] and s.actions == []


def scripted(seed: int = 5) -> LabSession:
    session = LabSession(brokers=3, seed=seed)
    ok(session, "kafka-topics --create --topic t --partitions 3 --replication-factor 3")
    ok(session, "start-producer p --topic t --rate 20 --key-count 4")
    ok(session, "kafka-console-consumer --topic t --from-beginning")
    for _ in range(20):
        session.tick(50)
    ok(session, "kill-broker 2")
    for _ in range(5):
        session.step()
    ok(session, "produce t x --count 3")
    for _ in range(60):
        session.advance_wall(40)
    return session


def test_replay_reproduces_the_run_exactly() -> None:
    s = scripted()
    h, pos, out = s.cluster.trace_hash(), s.position(), list(s.output)
    s.replay()
    assert s.divergence is None
    assert s.cluster.trace_hash() == h and s.position() == pos and s.output == out
    s.close()


def test_rewind_to_time_equals_a_fresh_run_to_that_time() -> None:
    s = scripted()
    s.rewind_to(700)
    fresh = LabSession(brokers=3, seed=5)
    ok(fresh, "kafka-topics --create --topic t --partitions 3 --replication-factor 3")
    ok(fresh, "start-producer p --topic t --rate 20 --key-count 4")
    ok(fresh, "kafka-console-consumer --topic t --from-beginning")
    fresh.tick(700 - fresh.now_ms)
    assert s.now_ms == 700
    assert s.cluster.trace_hash() == fresh.cluster.trace_hash()
    assert [a for _t, a in s.actions] == [a for _t, a in fresh.actions]
    assert broker_state(s, 2) == "up"  # the kill came later
    ok(s, "kill-broker 2")  # the rewound session is live
    s.close()
    fresh.close()


def test_rewind_events_goes_back_exactly() -> None:
    s = scripted()
    h, events = s.cluster.trace_hash(), s.events
    for _ in range(25):
        s.step()
    r = ok(s, "rewind 25")
    assert "rewound to t = " in r.lines[0] and f"event {s.events}" in r.lines[0]
    assert s.events == events and s.cluster.trace_hash() == h
    gen = s.generation
    ok(s, "rewind --to 1s")
    assert s.now_ms == 1000 and s.generation == gen + 1
    s.close()


def test_restart_same_seed_starts_over() -> None:
    s = scripted()
    fresh = LabSession(brokers=3, seed=5)
    s.restart_same_seed()
    assert s.actions == [] and s.clients == {} and s.output == []
    assert s.cluster.trace_hash() == fresh.cluster.trace_hash()
    s.close()
    fresh.close()


# -- help, completion, summaries -----------------------------------------------------------------------------


def test_every_command_has_a_summary_and_help() -> None:
    expected = {
        "kafka-topics",
        "kafka-console-producer",
        "kafka-console-consumer",
        "kafka-consumer-groups",
        "kafka-configs",
        "kafka-get-offsets",
        "kafka-delete-records",
        "kafka-leader-election",
        "kafka-metadata-quorum",
        "kafka-dump-log",
        "kafka-transactions",
        "kafka-reassign-partitions",
        "kafka-producer-perf-test",
        "kafka-consumer-perf-test",
        "produce",
        "kill-broker",
        "restart-broker",
        "pause-broker",
        "resume-broker",
        "kill-controller",
        "restart-controller",
        "partition",
        "heal",
        "start-producer",
        "start-consumer",
        "stop",
        "crash-consumer",
        "speed",
        "seed",
        "step",
        "run",
        "wait-for",
        "rewind",
        "redo",
        "branches",
        "step-filter",
        "status",
        "help",
        # kafkalab.platform: Kafka Streams, ksqlDB, several clusters, MirrorMaker 2
        "streams",
        "ksql",
        "mirror-maker",
        "clusters",
        "use-cluster",
        "cut-link",
        "heal-link",
    }
    from kafkalab.platform.commands import PLATFORM_COMMANDS

    expected |= set(PLATFORM_COMMANDS)  # Schema Registry, Connect, curl and the file commands
    expected |= {"note", "record", "export-lesson"}  # kafkalab.classroom
    assert set(COMMANDS) == expected
    s = LabSession(brokers=1, seed=0)
    listing = "\n".join(ok(s, "help").lines)
    for name, summary in COMMANDS.items():
        assert summary and "\n" not in summary
        assert name in listing
        assert ok(s, f"help {name}").lines[0] == f"{name}: {summary}"
    s.close()


def test_complete(s: LabSession) -> None:
    assert complete("kafka-con") == [
        "kafka-configs",
        "kafka-console-consumer",
        "kafka-console-producer",
        "kafka-consumer-groups",
        "kafka-consumer-perf-test",
    ]
    assert complete("kafka-topics --cr") == ["kafka-topics --create"]
    assert complete("kafka-topics --describe --topic ev", s) == ["kafka-topics --describe --topic events"]
    assert complete("kill-broker ", s) == ["kill-broker 1", "kill-broker 2", "kill-broker 3"]
    ok(s, "start-producer p1 --topic events")
    assert complete("stop p", s) == ["stop p1"]
    assert complete("help st", s) == [
        "help start-consumer",
        "help start-producer",
        "help status",
        "help step",
        "help step-filter",
        "help stop",
        "help streams",
    ]


def test_commands_package_is_headless() -> None:
    root = Path(__file__).resolve().parents[2] / "kafkalab" / "commands"
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "import textual" not in text and "from textual" not in text, path


def test_kafka_tools_time_out_when_no_broker_runs(s: LabSession) -> None:
    """The admin tools reach the cluster through brokers: with every broker down they cannot answer,
    even though the controller still knows the topics."""
    assert execute(s, "kafka-topics --create --topic t --partitions 1 --replication-factor 3").ok
    for b in (1, 2, 3):
        assert execute(s, f"kill-broker {b}").ok
    for line, call in [
        ("kafka-topics --describe --topic t", "listTopics"),
        ("kafka-topics --create --topic u --partitions 1 --replication-factor 1", "createTopics"),
        ("kafka-configs --describe --topic t", "describeConfigs"),
        ("kafka-consumer-groups --list", "listConsumerGroups"),
    ]:
        r = execute(s, line)
        assert not r.ok and f"Timed out waiting for a node assignment. Call: {call}" in (r.error or ""), line
    assert execute(s, "restart-broker 2").ok
    assert "t" in execute(s, "kafka-topics --list").lines
