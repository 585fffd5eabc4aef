"""kafka-consumer-groups, kafka-configs, kafka-console-producer/-consumer as Kafka 4.x prints and runs them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.sim.clients.common import OFFSET_BEGINNING, TopicPartition


def ok(s: LabSession, line: str) -> list[str]:
    r = execute(s, line)
    assert r.ok, r.error
    return r.lines


def err(s: LabSession, line: str) -> str:
    r = execute(s, line)
    assert not r.ok and r.error is not None, r
    return r.error


@pytest.fixture
def s() -> Iterator[LabSession]:
    session = LabSession(brokers=3, seed=42)
    ok(session, "kafka-topics --create --topic events --partitions 3 --replication-factor 3")
    yield session
    session.close()


@pytest.fixture
def grouped(s: LabSession) -> LabSession:
    ok(s, "produce events hi --count 20")
    ok(s, "start-consumer c1 --topic events --group g1")
    ok(s, "start-consumer c2 --topic events --group g1")
    ok(s, "run 5s")
    return s


def empty(s: LabSession) -> None:
    ok(s, "stop c1")
    ok(s, "stop c2")
    ok(s, "run 1s")
    assert s.cluster.describe_group("g1").state == "Empty"


# -- kafka-consumer-groups ----------------------------------------------------------------------------------

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_members_show_group_instance_id_and_verbose_assignment(grouped: LabSession) -> None:
    head = ok(grouped, "kafka-consumer-groups --describe --group g1 --members")[1]
    assert head.split() == [
        "GROUP",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
        "#PARTITIONS",
    ]  # no static member yet
    ok(grouped, "stop c2")
    ok(
        grouped,
        "kafka-console-consumer --topic events --group g1 --consumer-property group.instance.id=inst-1",
    )
    ok(grouped, "run 5s")
    lines = ok(grouped, "kafka-consumer-groups --describe --group g1 --members --verbose")
    assert lines[0] == ""
    assert re.fullmatch(
        r"GROUP {11}CONSUMER-ID {33}GROUP-INSTANCE-ID HOST {12}CLIENT-ID {10}#PARTITIONS {5}ASSIGNMENT",
        lines[1],
    ), lines[1]
    rows = sorted(lines[2:])
    assert re.fullmatch(rf"g1 {{14}}c1-{UUID} {{23}}/127\.0\.0\.1 {{6}}c1 {{17}}1 {{15}}\(\d\)", rows[0]), (
        rows
    )
    assert re.fullmatch(
        rf"g1 {{14}}inst-1-{UUID} inst-1 {{12}}/127\.0\.0\.1 {{6}}console-consumer-1 2 {{15}}\(\d,\d\)",
        rows[1],
    ), rows


def test_state_and_reset_offsets_use_kafkas_column_widths(grouped: LabSession) -> None:
    lines = ok(grouped, "kafka-consumer-groups --describe --group g1 --state")
    assert (
        lines[1]
        == "GROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS"
    )
    assert re.fullmatch(r"g1 {24}broker-\d:9092  \(\d\) {8}range {16}Stable {10}2", lines[2]), lines[2]
    empty(grouped)
    lines = ok(
        grouped, "kafka-consumer-groups --reset-offsets --group g1 --topic events:2 --to-earliest --dry-run"
    )
    assert lines == [
        "",
        "GROUP                          TOPIC                          PARTITION  NEW-OFFSET",
        "g1                             events                         2          0",
    ]


def test_reset_offsets_export_and_from_file(grouped: LabSession) -> None:
    """--export prints the plan as CSV; --from-file reads such a file from the lab's files directory."""
    s = grouped
    empty(s)
    exported = ok(
        s, "kafka-consumer-groups --reset-offsets --group g1 --topic events --to-earliest --dry-run --export"
    )
    assert exported == ["events,0,0", "events,1,0", "events,2,0"]
    hot = next(p.partition for p in s.cluster.describe_topic("events") if p.high_watermark == 20)
    cold = (hot + 1) % 3
    ok(s, f"echo events,{hot},7 > plan.csv")
    ok(s, f"echo events,{cold},99 >> plan.csv")
    lines = ok(s, "kafka-consumer-groups --reset-offsets --group g1 --from-file plan.csv --execute")
    rows = {
        hot: f"g1                             events                         {hot}          7",
        cold: f"g1                             events                         {cold}          0",
    }
    assert lines == [
        f"New offset (99) is higher than latest offset for topic partition events-{cold}. Value will be set to 0",
        "",
        "GROUP                          TOPIC                          PARTITION  NEW-OFFSET",
        *[rows[k] for k in sorted(rows)],
    ]
    assert s.cluster.describe_group("g1").offsets[("events", hot)] == 7
    ok(s, f"echo g1,events,{hot},5 > groups.csv")  # group,topic,partition,offset: for the named groups only
    assert ok(s, "kafka-consumer-groups --reset-offsets --group other --from-file groups.csv --dry-run") == [
        "Error: No reset plan for group other found",
        "",
    ]
    assert "NoSuchFileException: nope.csv" in err(
        s, "kafka-consumer-groups --reset-offsets --group g1 --from-file nope.csv --dry-run"
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-consumer-groups --describe --group g1 --members --state",
            "Option [describe] takes at most one of these options: [members], [offsets], [state]",
        ),
        (
            "kafka-consumer-groups --describe",
            "Option [describe] takes one of these options: [all-groups], [group]",
        ),
        (
            "kafka-consumer-groups --delete",
            "Option [delete] takes one of these options: [all-groups], [group]",
        ),
        (
            "kafka-consumer-groups --delete --group g1 --topic events",
            "The consumer does not support topic-specific offset deletion from a consumer group.",
        ),
        (
            "kafka-consumer-groups --delete-offsets --group g1",
            "Option [delete-offsets] takes the following options: [topic], [group]",
        ),
        (
            "kafka-consumer-groups --reset-offsets --group g1 --topic events",
            "Option '[reset-offsets]' requires one of the following scenarios: [[to-offset], [to-current], "
            "[to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]",
        ),
        (
            "kafka-consumer-groups --reset-offsets --group g1 --to-earliest",
            "One of the reset scopes should be defined: --all-topics, --topic.",
        ),
    ],
)
def test_wrong_use_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line) == f"kafka-consumer-groups: {error}"


def test_delete_and_delete_offsets(grouped: LabSession) -> None:
    s = grouped
    assert ok(s, "kafka-consumer-groups --delete --group g1")[1:] == [
        "Error: Deletion of some consumer groups failed:",
        "* Group 'g1' could not be deleted due to: java.util.concurrent.ExecutionException: "
        "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.",
    ]
    busy = ok(s, "kafka-consumer-groups --delete-offsets --group g1 --topic events:0")
    assert busy[-1].endswith(
        "Error: :Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."
    )
    empty(s)
    assert ok(s, "kafka-consumer-groups --delete-offsets --group g1 --topic events:2") == [
        "Request succeed for deleting offsets with topic events group g1",
        "",
        "TOPIC                          PARTITION       STATUS",
        "events                         2               Successful",
    ]
    assert (("events", 2)) not in s.cluster.describe_group("g1").offsets
    assert ok(s, "kafka-consumer-groups --delete --group g1") == [
        "Deletion of requested consumer groups ('g1') was successful."
    ]
    assert ok(s, "kafka-consumer-groups --list") == []
    assert (
        "GroupIdNotFoundException: The group id does not exist."
        in ok(s, "kafka-consumer-groups --delete --group g1")[2]
    )


# -- kafka-configs ------------------------------------------------------------------------------------------


def test_configs_for_brokers_groups_and_the_offsets_topic(grouped: LabSession) -> None:
    s = grouped
    assert ok(s, "kafka-configs --describe --entity-type brokers --entity-name 1") == [
        "Dynamic configs for broker 1 are:"
    ]
    lines = ok(s, "kafka-configs --describe --broker 2 --all")
    assert lines[0] == "All configs for broker 2 are:"
    assert (
        "  auto.create.topics.enable=true sensitive=false synonyms={DEFAULT_CONFIG:auto.create.topics.enable=true}"
        in lines
    )
    assert any(line.startswith("  group.min.session.timeout.ms=6000 ") for line in lines)
    assert ok(s, "kafka-configs --describe --entity-type brokers --entity-default") == [
        "Default configs for brokers in the cluster are:"
    ]
    groups = ok(s, "kafka-configs --describe --entity-type groups --entity-name g1 --all")
    assert groups[0] == "All configs for group g1 are:"
    assert (
        "  consumer.session.timeout.ms=45000 sensitive=false "
        "synonyms={DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}"
    ) in groups
    offsets = ok(s, "kafka-configs --describe --topic __consumer_offsets")
    assert offsets[0] == "Dynamic configs for topic __consumer_offsets are:"
    assert any(line.startswith("  cleanup.policy=compact ") for line in offsets)
    assert any(line.startswith("  segment.bytes=104857600 ") for line in offsets)
    every = ok(s, "kafka-configs --describe --topic events --all")
    names = [line.split("=")[0].strip() for line in every[1:]]
    assert (
        len(names) >= 30 and "leader.replication.throttled.replicas" in names and "compression.type" in names
    )
    assert err(s, "kafka-configs --alter --broker 1 --add-config auto.create.topics.enable=false") == (
        "Error while executing config command : Cannot update these configs dynamically: "
        "Set(auto.create.topics.enable)"
    )
    assert "must be a valid integer broker id, but it is: one" in err(
        s, "kafka-configs --describe --broker one"
    )


# -- console producer and consumer --------------------------------------------------------------------------


def test_from_beginning_conflicts_with_an_explicit_latest_reset(s: LabSession) -> None:
    line = (
        "kafka-console-consumer --topic events --from-beginning --consumer-property auto.offset.reset=latest"
    )
    assert err(s, line) == (
        "kafka-console-consumer: Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', "
        "please remove one option"
    )
    ok(
        s,
        "kafka-console-consumer --topic events --from-beginning --consumer-property auto.offset.reset=earliest",
    )


def test_console_producer_sends_empty_lines_and_ends_at_end_of_input(s: LabSession) -> None:
    ok(s, "kafka-console-producer --topic events --property parse.key=true --property key.separator=:")
    ok(s, "k:")  # an empty value
    ok(s, "k:one")
    producer = s._w.console_producer
    assert producer is not None
    cfg = producer.producer.config
    assert tuple(str(cfg[k]) for k in ("request.timeout.ms", "retries", "linger.ms", "acks")) == (
        "1500",
        "3",
        "1000",
        "all",
    )
    end = s.end_input()
    assert end is not None and end.ok and "end of input (2 records sent" in end.lines[0]
    assert s.input_mode is None
    ok(s, "run 3s")
    ok(s, "kafka-console-producer --topic events")
    ok(s, "")  # an empty line is an empty record, not the end
    assert s.input_mode is not None
    ok(s, ".exit")
    ok(s, "run 3s")
    got = sorted(v for p in s.cluster.read_all("events").values() for _o, _k, v in p)
    assert got == [b"", b"", b"one"]


def test_console_producer_options_override_producer_properties(s: LabSession) -> None:
    ok(s, "kafka-console-producer --topic events --producer-property request.timeout.ms=9000 --timeout 5")
    cp = s._w.console_producer
    assert (
        cp is not None
        and str(cp.producer.config["request.timeout.ms"]) == "9000"
        and str(cp.producer.config["linger.ms"]) == "5"
    )
    ok(s, ".exit")
    ok(s, "kafka-console-producer --topic events --producer-property linger.ms=7 --timeout 5")
    cp = s._w.console_producer
    assert cp is not None and str(cp.producer.config["linger.ms"]) == "5"  # the option wins when it is given


def test_console_producer_auto_creates_a_missing_topic(s: LabSession) -> None:
    ok(s, "kafka-console-producer --topic fresh")
    lines = ok(s, "hello")
    assert lines and "{fresh=UNKNOWN_TOPIC_OR_PARTITION}" in lines[0]
    ok(s, ".exit")
    ok(s, "run 3s")
    assert "fresh" in s.cluster.topics()
    c = s.cluster.consumer({"auto.offset.reset": "earliest"})
    c.assign([TopicPartition("fresh", 0, OFFSET_BEGINNING)])
    assert [m.value() for m in c.consume(10, timeout=2.0)] == [b"hello"]


def test_without_auto_create_the_console_tools_say_so() -> None:
    s = LabSession(brokers=3, seed=1, broker_config={"auto.create.topics.enable": False})
    try:
        assert "auto.create.topics.enable=false" in err(s, "kafka-console-producer --topic nope")
        assert "auto.create.topics.enable=false" in err(s, "kafka-console-consumer --topic nope")
        assert "auto.create.topics.enable=false" in err(s, "produce nope hi")
    finally:
        s.close()


def test_console_consumer_auto_creates_and_reads_a_missing_topic(s: LabSession) -> None:
    lines = ok(s, "kafka-console-consumer --topic later --from-beginning")
    assert "{later=UNKNOWN_TOPIC_OR_PARTITION}" in lines[0]
    assert "later" in s.cluster.topics()
    ok(s, "produce later hello")
    ok(s, "run 2s")
    assert any(line.endswith("hello") for line in s.output)
