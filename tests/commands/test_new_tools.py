"""The Kafka tools the console gained: their output as Kafka 4.x prints it, and their wrong-use errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from kafkalab.commands import LabSession, execute


def ok(s: LabSession, line: str) -> list[str]:
    r = execute(s, line)
    assert r.ok, r.error
    return r.lines


def err(s: LabSession, line: str) -> str:
    actions = len(s.actions)
    r = execute(s, line)
    assert not r.ok and r.error is not None and "\n" not in r.error, r
    assert len(s.actions) == actions  # a refused command changes nothing
    return r.error


@pytest.fixture
def s() -> Iterator[LabSession]:
    session = LabSession(brokers=3, seed=42)
    ok(session, "kafka-topics --create --topic t --partitions 3 --replication-factor 3")
    ok(session, "produce t v --count 12 --key a")  # one key: all on one partition
    yield session
    session.close()


def hot(s: LabSession) -> int:
    """The partition the 12 records went to."""
    return next(p.partition for p in s.cluster.describe_topic("t") if p.high_watermark == 12)


# -- kafka-get-offsets -------------------------------------------------------------------------------------


def test_get_offsets_prints_topic_partition_offset(s: LabSession) -> None:
    h = hot(s)
    assert ok(s, "kafka-get-offsets --topic t") == [f"t:{p}:{12 if p == h else 0}" for p in range(3)]
    assert ok(s, "kafka-get-offsets --topic-partitions t:1-") == [
        f"t:{p}:{12 if p == h else 0}" for p in (1, 2)
    ]
    assert ok(s, "kafka-get-offsets --topic t --time earliest") == ["t:0:0", "t:1:0", "t:2:0"]
    # by time: only the partition holding a record at or after it answers (UNKNOWN_OFFSET is not printed)
    assert ok(s, "kafka-get-offsets --topic t --time 0") == [f"t:{h}:0"]
    assert ok(s, f"kafka-get-offsets --topic t --time {s.cluster.now_ms + 1}") == []


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-get-offsets --topic nope",
            "Error occurred: Could not match any topic-partitions with the specified filters",
        ),
        (
            "kafka-get-offsets --time soon",
            "Error occurred: Malformed time argument soon. Please use -1 or latest / -2 or earliest / -3 or "
            "max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp",
        ),
        (
            "kafka-get-offsets --topic-partitions t:0 --topic t",
            "Error occurred: --topic-partitions cannot be used with --topic or --partitions",
        ),
        (
            "kafka-get-offsets --topic t --partitions a",
            "Error occurred: --partitions expects a comma separated list of numeric partition ids, but received: a",
        ),
    ],
)
def test_get_offsets_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line) == error


# -- kafka-delete-records ----------------------------------------------------------------------------------


def test_delete_records_moves_the_log_start_offset(s: LabSession) -> None:
    h = hot(s)
    spec = {
        "partitions": [
            {"topic": "t", "partition": h, "offset": 5},
            {"topic": "t", "partition": (h + 1) % 3, "offset": 3},
        ],
        "version": 1,
    }
    lines = ok(s, f"kafka-delete-records --offset-json-file '{json.dumps(spec)}'")
    assert lines[:2] == ["Executing records delete operation", "Records delete operation completed:"]
    assert f"partition: t-{h}\tlow_watermark: 5" in lines
    assert (
        f"partition: t-{(h + 1) % 3}\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested "
        "offset is not within the range of offsets maintained by the server."
    ) in lines
    assert next(p for p in s.cluster.describe_topic("t") if p.partition == h).log_start_offset == 5
    assert ok(s, f"kafka-get-offsets --topic t --partitions {h} --time earliest") == [f"t:{h}:5"]


def test_json_files_are_read_from_the_labs_files_directory(s: LabSession) -> None:
    """``echo JSON > FILE`` writes where the tools' --...-json-file options look (the Connect file directory)."""
    h = hot(s)
    ok(s, f'echo \'{{"partitions": [{{"topic": "t", "partition": {h}, "offset": 2}}]}}\' > del.json')
    assert f"partition: t-{h}\tlow_watermark: 2" in ok(s, "kafka-delete-records --offset-json-file del.json")


@pytest.mark.parametrize(
    ("arg", "error"),
    [
        ("'{\"partitions\": [}'", "The input string is not a valid JSON"),
        ('\'{"version": 2, "partitions": []}\'', "Not supported version field value 2"),
        ("'{\"version\": 1}'", "Missing partitions field"),
        (
            '\'{"partitions": [{"topic": "t", "partition": 0, "offset": 1}, {"topic": "t", "partition": 0, "offset": 2}]}\'',
            "Offset json file contains duplicate topic partitions: t-0",
        ),
    ],
)
def test_delete_records_errors(s: LabSession, arg: str, error: str) -> None:
    assert err(s, f"kafka-delete-records --offset-json-file {arg}") == f"kafka-delete-records: {error}"
    assert "NoSuchFileException: no.json" in err(s, "kafka-delete-records --offset-json-file no.json")


# -- kafka-leader-election ---------------------------------------------------------------------------------


def test_preferred_leader_election_after_a_broker_comes_back(s: LabSession) -> None:
    led = sorted(p.partition for p in s.cluster.describe_topic("t") if p.replicas[0] == 1)
    ok(s, "kill-broker 1")
    ok(s, "run 12s")
    ok(s, "restart-broker 1")
    ok(s, "run 15s")
    assert all(p.leader != 1 for p in s.cluster.describe_topic("t"))
    names = ", ".join(f"t-{p}" for p in led)
    assert ok(s, "kafka-leader-election --election-type PREFERRED --all-topic-partitions") == [
        f"Successfully completed leader election (PREFERRED) for partitions {names}"
    ]
    assert all(p.leader == p.replicas[0] for p in s.cluster.describe_topic("t"))
    assert ok(s, "kafka-leader-election --election-type preferred --topic t --partition 0") == [
        "Valid replica already elected for partitions t-0"
    ]
    assert ok(s, "kafka-leader-election --election-type unclean --topic t --partition 7") == [
        "Error completing leader election (UNCLEAN) for partition: t-7: "
        "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such partition as t-7",
        "1 replica(s) could not be elected",
    ]


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("kafka-leader-election --topic t --partition 0", "Missing required option(s): election-type"),
        (
            "kafka-leader-election --election-type other --all-topic-partitions",
            "Cannot parse argument 'other' of option election-type",
        ),
        (
            "kafka-leader-election --election-type preferred",
            "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file",
        ),
        (
            "kafka-leader-election --election-type preferred --topic t",
            "Missing required option(s): partition",
        ),
        (
            "kafka-leader-election --election-type preferred --partition 1 --all-topic-partitions",
            "Option partition is only allowed if topic is used",
        ),
    ],
)
def test_leader_election_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line) == f"kafka-leader-election: {error}"


# -- kafka-metadata-quorum ---------------------------------------------------------------------------------


def test_metadata_quorum_status_and_replication() -> None:
    s = LabSession(brokers=3, seed=5, controllers=3)
    try:
        ok(s, "run 3s")
        status = ok(s, "kafka-metadata-quorum --bootstrap-server localhost:9092 describe --status")
        assert [line.split(":")[0] for line in status] == [
            "ClusterId",
            "LeaderId",
            "LeaderEpoch",
            "HighWatermark",
            "MaxFollowerLag",
            "MaxFollowerLagTimeMs",
            "CurrentVoters",
            "CurrentObservers",
        ]
        assert status[1] == "LeaderId:               3000"
        assert status[6].startswith(
            'CurrentVoters:          [{"id": 3000, "directoryId": null, "endpoints": ["CONTROLLER://'
        )
        rows = ok(s, "kafka-metadata-quorum describe --replication")
        assert rows[0].split("\t")[:-1] == [
            "NodeId",
            "DirectoryId           ",
            "LogEndOffset",
            "Lag",
            "LastFetchTimestamp",
            "LastCaughtUpTimestamp",
            "Status  ",
        ]
        assert [r.split("\t")[-2].strip() for r in rows[1:]] == [
            "Leader",
            "Follower",
            "Follower",
            "Observer",
            "Observer",
            "Observer",
        ]
        ok(s, "kill-controller 3000")
        ok(
            s, "kafka-topics --create --topic x --partitions 2 --replication-factor 1"
        )  # metadata moves on without it
        ok(s, "run 1s")
        rows = ok(s, "kafka-metadata-quorum describe --replication --human-readable")
        dead = next(r for r in rows[1:] if r.startswith("3000"))
        assert int(dead.split("\t")[3]) > 0 and dead.split("\t")[-2].strip() == "Follower"
        assert re.search(r"\d+ ms ago", dead)
    finally:
        s.close()


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-metadata-quorum describe",
            "One of --status or --replication must be specified with describe sub-command",
        ),
        (
            "kafka-metadata-quorum describe --status --replication",
            "Only one of --status or --replication should be specified with describe sub-command",
        ),
        (
            "kafka-metadata-quorum describe --status --human-readable",
            "The option --human-readable is only supported along with --replication",
        ),
        ("kafka-metadata-quorum", "kafka-metadata-quorum: error: too few arguments"),
        (
            "kafka-metadata-quorum describe --foo",
            "kafka-metadata-quorum: error: unrecognized arguments: '--foo'",
        ),
    ],
)
def test_metadata_quorum_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line).endswith(error)


# -- kafka-dump-log ----------------------------------------------------------------------------------------


def test_dump_log_shows_a_transactions_batches_and_markers(s: LabSession) -> None:
    c = s.cluster
    c.create_topic("d", 1, 1)
    p = c.producer({"transactional.id": "tx"})
    p.init_transactions()
    p.begin_transaction()
    for i in range(2):
        p.produce("d", key=f"k{i}", value=f"v{i}")
    p.commit_transaction()
    c.run_for(1000)  # the coordinator may write the markers after EndTxn has answered
    leader = c.describe_topic("d")[0].leader
    f = f"broker-{leader}/d-0/00000000000000000000.log"
    lines = ok(s, f"kafka-dump-log --files {f} --print-data-log")
    assert lines[:2] == [f"Dumping {f}", "Log starting offset: 0"]
    assert re.fullmatch(
        r"baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 0 lastSequence: 1 producerId: \d+ producerEpoch: 0 "
        r"partitionLeaderEpoch: 0 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty "
        r"position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true",
        lines[2],
    ), lines[2]
    assert re.fullmatch(
        r"\| offset: 0 CreateTime: \d+ keySize: 2 valueSize: 2 sequence: 0 headerKeys: \[\] key: k0 payload: v0",
        lines[3],
    )
    assert "isControl: true" in lines[5]
    assert re.fullmatch(
        r"\| offset: 2 CreateTime: \d+ keySize: 4 valueSize: 6 sequence: -1 headerKeys: \[\] endTxnMarker: COMMIT "
        r"coordinatorEpoch: 0",
        lines[6],
    ), lines[6]
    shallow = ok(s, f"kafka-dump-log --files {f}")
    assert len(shallow) == 4  # batch lines only
    deep = ok(s, f"kafka-dump-log --files {f} --deep-iteration")  # records, without keys and values
    assert len(deep) == len(lines) and deep[3].endswith("sequence: 0 headerKeys: []")
    bare = ok(s, f"kafka-dump-log --files {f} --print-data-log --skip-record-metadata")
    assert bare[3:5] == ["| key: k0 payload: v0", "| key: k1 payload: v1"]


def test_dump_log_errors(s: LabSession) -> None:
    assert err(s, "kafka-dump-log") == 'kafka-dump-log: Missing required argument "[files]"'
    e = err(s, "kafka-dump-log --files broker-1/t-0/00000000000000000042.log")
    assert (
        'Exception in thread "main" java.nio.file.NoSuchFileException: broker-1/t-0/00000000000000000042.log'
        in e
    )
    assert "00000000000000000000.log" in e  # it names the files that are there
    missing = err(s, "kafka-dump-log --files t-0/00000000000000000000.log")  # Kafka's path, no broker dir
    assert missing.endswith("; t-0 is in broker-1/t-0/, broker-2/t-0/, broker-3/t-0/")


# -- kafka-transactions ------------------------------------------------------------------------------------


def test_transactions_list_describe_producers_and_abort(s: LabSession) -> None:
    c = s.cluster
    p = c.producer({"transactional.id": "tx-1"})
    p.init_transactions()
    p.begin_transaction()
    p.produce("t", value="x", partition=1)
    p.flush()
    rows = ok(s, "kafka-transactions --bootstrap-server b:9092 list")
    assert rows[0] == "TransactionalId\tCoordinator\tProducerId\tTransactionState\t"
    assert rows[1].split("\t")[0].strip() == "tx-1" and rows[1].split("\t")[3].strip() == "Ongoing"
    desc = ok(s, "kafka-transactions describe --transactional-id tx-1")
    assert desc[0].split("\t")[:-1] == [
        "CoordinatorId",
        "TransactionalId",
        "ProducerId",
        "ProducerEpoch",
        "TransactionState",
        "TransactionTimeoutMs",
        "CurrentTransactionStartTimeMs",
        "TransactionDurationMs",
        "TopicPartitions",
    ]
    assert desc[1].split("\t")[-2].strip() == "t-1"
    prods = ok(s, "kafka-transactions describe-producers --topic t --partition 1")
    starts = [row.split("\t")[5].strip() for row in prods[1:]]
    (start,) = [x for x in starts if x != "None"]
    assert ok(s, "kafka-transactions find-hanging --topic t")[1:] == []  # open, but the coordinator knows it
    assert ok(s, f"kafka-transactions abort --topic t --partition 1 --start-offset {start}") == []
    after = ok(s, "kafka-transactions describe-producers --topic t --partition 1")[1:]
    assert all(row.split("\t")[5].strip() == "None" for row in after)
    p.commit_transaction()
    ok(s, "run 1s")
    done = ok(s, "kafka-transactions describe --transactional-id tx-1")[1].split("\t")
    assert (
        done[4].strip() == "CompleteCommit" and done[-2].strip() == ""
    )  # a completed transaction has no partitions


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-transactions describe --transactional-id nope",
            "Failed to describe transaction state of transactional-id `nope`: The transactionalId could not be found.. Enable debug logging for additional detail.",
        ),
        (
            "kafka-transactions find-hanging",
            "The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search",
        ),
        (
            "kafka-transactions find-hanging --partition 0 --broker-id 1",
            "The --partition argument requires --topic to be provided",
        ),
        (
            "kafka-transactions abort --topic t --partition 0",
            "The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)",
        ),
        (
            "kafka-transactions abort --topic t --partition 0 --start-offset 3",
            "Could not find any open transactions starting at offset 3 on partition t-0",
        ),
        (
            "kafka-transactions describe",
            "kafka-transactions.sh: error: argument --transactional-id is required",
        ),
        (
            "kafka-transactions frob",
            "kafka-transactions.sh: error: argument COMMAND: invalid choice: 'frob' (choose from 'list', 'describe', 'describe-producers', 'abort', 'find-hanging')",
        ),
    ],
)
def test_transactions_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line).endswith(error)


# -- kafka-reassign-partitions -----------------------------------------------------------------------------


def test_reassignment_moves_replicas_under_a_throttle(s: LabSession) -> None:
    c = s.cluster
    h = hot(s)
    before = next(p for p in c.describe_topic("t") if p.partition == h).replicas
    target = [b for b in (1, 2, 3) if b != before[0]][:1] + [before[0]]  # RF 3 -> 2, leader changes
    plan = json.dumps({"version": 1, "partitions": [{"topic": "t", "partition": h, "replicas": target}]})
    gen = ok(
        s,
        """kafka-reassign-partitions --generate --topics-to-move-json-file '{"topics":[{"topic":"t"}],"version":1}' --broker-list 1,2,3""",
    )
    assert (
        gen[0] == "Current partition replica assignment"
        and gen[3] == "Proposed partition reassignment configuration"
    )
    proposed = json.loads(gen[4])
    assert proposed["version"] == 1 and all(
        sorted(x["replicas"]) == [1, 2, 3] for x in proposed["partitions"]
    )
    lines = ok(s, f"kafka-reassign-partitions --execute --reassignment-json-file '{plan}' --throttle 2000")
    assert lines[:2] == ["Current partition replica assignment", ""]
    assert json.loads(lines[2])["partitions"][0]["replicas"] == list(before)
    assert lines[3:] == [
        "",
        "Save this to use as the --reassignment-json-file option during rollback",
        "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.",
        "The inter-broker throttle limit was set to 2000 B/s",
        f"Successfully started partition reassignment for t-{h}",
    ]
    ok(s, "run 10s")
    assert [p.replicas for p in c.describe_topic("t") if p.partition == h] == [tuple(target)]
    assert ok(s, f"kafka-reassign-partitions --verify --reassignment-json-file '{plan}'") == [
        "Status of partition reassignment:",
        f"Reassignment of partition t-{h} is completed.",
        "Clearing broker-level throttles on brokers 1,2,3",
        "Clearing topic-level throttles on topic t",
    ]
    removed = next(b for b in before if b not in target)
    assert ("t", h) not in c.brokers[removed].partitions  # the old replica is gone
    assert ok(s, "kafka-configs --describe --topic t") == ["Dynamic configs for topic t are:"]


def test_adding_replicas_catch_up_before_the_old_ones_go() -> None:
    s = LabSession(brokers=4, seed=3)
    try:
        ok(s, "kafka-topics --create --topic m --partitions 1 --replication-factor 1")
        ok(s, "produce m x --count 2000")
        leader = s.cluster.describe_topic("m")[0].leader
        new = next(b for b in (1, 2, 3, 4) if b != leader)
        plan = json.dumps({"partitions": [{"topic": "m", "partition": 0, "replicas": [new]}]})
        ok(s, f"kafka-reassign-partitions --execute --reassignment-json-file '{plan}' --throttle 5000")
        desc = ok(s, "kafka-topics --describe --topic m")
        assert (
            f"Replicas: {new},{leader}\tIsr: {leader}\tAdding Replicas: {new}\tRemoving Replicas: {leader}"
            in desc[1]
        )
        assert "ReplicationFactor: 1" in desc[0]
        assert err(s, f"kafka-reassign-partitions --execute --reassignment-json-file '{plan}'").startswith(
            "kafka-reassign-partitions: "
            "Cannot execute because there is an existing partition assignment.  Use --additional to override"
        )
        assert ok(s, "kafka-reassign-partitions --list") == [
            "Current partition reassignments:",
            f"m-0: replicas: {new},{leader}. adding: {new}. removing: {leader}.",
        ]
        ok(s, "run 2s")  # about 30 KB at 5000 B/s: still copying
        assert s.cluster._image().partitions[("m", 0)].adding == (new,)
        ok(s, "run 10s")
        info = s.cluster.describe_topic("m")[0]
        assert info.replicas == (new,) and info.leader == new and info.high_watermark == 2000
    finally:
        s.close()


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-reassign-partitions --list --verify",
            "Command must include exactly one action: --generate, --execute, --verify, --cancel, --list",
        ),
        ("kafka-reassign-partitions --execute", 'Missing required argument "[reassignment-json-file]"'),
        (
            "kafka-reassign-partitions --generate --broker-list 1",
            'Missing required argument "[topics-to-move-json-file]"',
        ),
        (
            "kafka-reassign-partitions --verify --reassignment-json-file '{}' --throttle 5",
            'Option "[throttle]" can\'t be used with action "[verify]"',
        ),
        (
            "kafka-reassign-partitions --execute --reassignment-json-file '{\"partitions\": []}'",
            "Error: Partition reassignment list cannot be empty",
        ),
        (
            'kafka-reassign-partitions --execute --reassignment-json-file \'{"partitions": [{"topic": "t", "partition": 0, "replicas": [9]}]}\'',
            "Error: Unknown broker id 9",
        ),
        (
            'kafka-reassign-partitions --execute --reassignment-json-file \'{"partitions": [{"topic": "t", "partition": 8, "replicas": [1]}]}\'',
            "Error: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to find partition: t-8",
        ),
        (
            'kafka-reassign-partitions --execute --reassignment-json-file \'{"partitions": [{"topic": "t", "partition": 0, "replicas": [1, 1]}]}\'',
            "Error: Partition replica lists may not contain duplicate entries: t-0 contains multiple entries for 1",
        ),
        (
            'kafka-reassign-partitions --generate --topics-to-move-json-file \'{"topics": [{"topic": "t"}]}\' --broker-list 1,2',
            "Error: Replication factor: 3 larger than available brokers: 2.",
        ),
    ],
)
def test_reassign_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line).endswith(error)


# -- perf tests --------------------------------------------------------------------------------------------

PERF_LINE = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max "
    r"latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th\."
)


def perf(s: LabSession, props: str, n: int = 5000, rate: str = "-1") -> tuple[float, float]:
    lines = ok(
        s,
        f"kafka-producer-perf-test --topic t --num-records {n} --record-size 100 --throughput {rate} --producer-props {props}",
    )
    m = PERF_LINE.fullmatch(lines[-1])
    assert m is not None, lines[-1]
    assert int(m.group(1)) == n
    return float(m.group(2)), float(m.group(4))


def test_bigger_batches_and_linger_raise_producer_throughput(s: LabSession) -> None:
    small, small_latency = perf(s, "acks=all linger.ms=0 batch.size=1024")
    big, big_latency = perf(s, "acks=all linger.ms=20 batch.size=65536")
    assert big > 3 * small and big_latency < small_latency
    all_acks, _ = perf(s, "acks=all linger.ms=5 batch.size=16384")
    one_ack, _ = perf(s, "acks=1 linger.ms=5 batch.size=16384")
    assert one_ack > all_acks  # waiting for the followers costs throughput


def test_each_records_latency_is_its_own_and_requests_pipeline(s: LabSession) -> None:
    """Callbacks run as responses arrive, not at a final flush: when the network is the bottleneck the
    first records wait little and the last ones long, so the median lies well below the maximum; and with
    up to 5 requests in flight per connection a partition's next batch goes out before the last is answered."""

    def run(props: str) -> re.Match[str]:
        lines = ok(
            s,
            f"kafka-producer-perf-test --topic t --num-records 20000 --record-size 100 --throughput -1 --producer-props {props}",
        )
        m = PERF_LINE.fullmatch(lines[-1])
        assert m is not None, lines[-1]
        return m

    one = run("acks=all linger.ms=0 max.in.flight.requests.per.connection=1")
    five = run("acks=all linger.ms=0 max.in.flight.requests.per.connection=5")
    for m in (one, five):
        assert int(m.group(6)) < 0.7 * float(m.group(5))  # 50th percentile < max latency
    assert float(five.group(2)) > 2 * float(one.group(2))
    assert float(five.group(4)) < float(one.group(4)) / 2


def test_linger_trades_latency_for_fewer_requests_at_a_fixed_rate(s: LabSession) -> None:
    lines0 = ok(
        s,
        "kafka-producer-perf-test --topic t --num-records 2000 --record-size 100 --throughput 2000 --producer-props linger.ms=0 --print-metrics",
    )
    lines20 = ok(
        s,
        "kafka-producer-perf-test --topic t --num-records 2000 --record-size 100 --throughput 2000 --producer-props linger.ms=20 --print-metrics",
    )

    def metric(lines: list[str], name: str) -> float:
        return float(next(x for x in lines if f":{name}:" in x).rsplit(":", 1)[1])

    assert metric(lines20, "request-total") < metric(lines0, "request-total") / 4
    rate0 = float(PERF_LINE.fullmatch(next(x for x in lines0 if PERF_LINE.fullmatch(x))).group(2))  # type: ignore[union-attr]
    assert 1800 < rate0 < 2100  # the throughput asked for


def test_consumer_perf_test_reads_at_network_speed_after_joining(s: LabSession) -> None:
    perf(s, "acks=1", n=20000)
    lines = ok(s, "kafka-consumer-perf-test --bootstrap-server b:9092 --topic t --messages 20000")
    assert lines[0] == (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, "
        "fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
    )
    fields = lines[1].split(", ")
    assert re.fullmatch(r"1970-01-01 \d\d:\d\d:\d\d:\d\d\d", fields[0])
    assert int(fields[4]) == 20000 and int(fields[6]) >= 3000  # group.initial.rebalance.delay.ms
    assert float(fields[8]) <= 125_000 * 1000 / (1024 * 1024)  # never faster than a 1 Gbit/s link
    detailed = ok(
        s,
        "kafka-consumer-perf-test --topic t --messages 20000 --show-detailed-stats --reporting-interval 1000",
    )
    assert detailed[0].startswith(
        "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"
    )
    # ConsumerPerformance prints when a record arrives an interval after the last line: the first record after
    # the join, with the join's time as rebalance.time.ms and the rest of the interval as fetch.time.ms
    first = detailed[1].split(", ")
    assert first[1] == "0" and first[4] == "1" and int(first[6]) >= 3000
    assert int(first[6]) + int(first[7]) >= 3000 and int(first[7]) < 1000


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "kafka-producer-perf-test --num-records 1 --record-size 1 --throughput -1 --producer-props acks=1",
            "producer-performance: error: argument --topic is required",
        ),
        (
            "kafka-producer-perf-test --topic t --num-records 1 --throughput -1 --producer-props acks=1",
            "producer-performance: error: one of the arguments --record-size --payload-file --payload-monotonic is required",
        ),
        (
            "kafka-producer-perf-test --topic t --num-records 0 --record-size 1 --throughput -1 --producer-props acks=1",
            "producer-performance: error: --num-records should be greater than zero",
        ),
        (
            "kafka-producer-perf-test --topic t --num-records 1 --record-size 1 --throughput -1",
            "producer-performance: error: Either --producer-props or --producer.config must be specified.",
        ),
        (
            "kafka-producer-perf-test --topic t --num-records 1 --record-size 1 --throughput -1 --producer-props acks",
            "Invalid property: acks",
        ),
        ("kafka-consumer-perf-test --topic t", 'Missing required argument "[messages]"'),
        (
            "kafka-consumer-perf-test --topic t --messages 1 --reporting-interval 0",
            "Reporting interval must be greater than 0.",
        ),
    ],
)
def test_perf_errors(s: LabSession, line: str, error: str) -> None:
    assert err(s, line).endswith(error)


def test_a_consumer_asks_each_leader_for_its_partitions_positions_at_once() -> None:
    """OffsetFetcher resets positions with one ListOffsets per leader, so a leader's partitions are fetched
    together; fetched one by one, an empty partition's long poll (fetch.max.wait.ms) held back the full one."""
    s = LabSession(brokers=3, seed=42)
    ok(s, "kafka-topics --create --topic six --partitions 6 --replication-factor 2")
    ok(s, "produce six hello --count 300")
    for _ in range(2):  # the second run finds __consumer_offsets ready and joins sooner
        fields = ok(s, "kafka-consumer-perf-test --topic six --messages 300")[1].split(", ")
        assert int(fields[4]) == 300 and int(fields[7]) < 100, fields
    s.close()
