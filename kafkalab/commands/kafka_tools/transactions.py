"""``kafka-transactions`` (Kafka's TransactionsCommand): list, describe, describe-producers, find-hanging, abort.

The coordinators' state (ListTransactions / DescribeTransactions) is read from the brokers that lead the
``__transaction_state`` partitions, the producer state (DescribeProducers) from the partition leader's
replica; ``abort`` writes an ABORT marker through the leader's WriteTxnMarkers handler, as the admin
client's AbortTransaction does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...sim.records import ControlType
from ..base import Plan, require_a_running_broker
from ..parsing import CommandError, Opt, parse_int

if TYPE_CHECKING:
    from ...sim.broker import Broker, Partition
    from ..session import LabSession

TRANSACTIONS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("command-config", "str", help="(accepted and ignored in the lab)"),
    Opt("transactional-id", "str", help="describe: the transactional id"),
    Opt("duration-filter", "long", help="list: only transactions running longer than this (ms)"),
    Opt("topic", "str", help="describe-producers / find-hanging / abort: the topic"),
    Opt("partition", "int", help="describe-producers / find-hanging / abort: the partition"),
    Opt("broker-id", "int", help="describe-producers / find-hanging: the broker"),
    Opt("max-transaction-timeout", "int", help="find-hanging: minutes (default 15)"),
    Opt("start-offset", "long", help="abort: the first offset of the open transaction"),
    Opt("producer-id", "long", help="abort (brokers before 3.0): producer id"),
    Opt("producer-epoch", "int", help="abort (brokers before 3.0): producer epoch"),
    Opt("coordinator-epoch", "int", help="abort (brokers before 3.0): coordinator epoch"),
]

_COMMANDS = {
    "list": {"duration-filter"},
    "describe": {"transactional-id"},
    "describe-producers": {"topic", "partition", "broker-id"},
    "abort": {"topic", "partition", "start-offset", "producer-id", "producer-epoch", "coordinator-epoch"},
    "find-hanging": {"broker-id", "max-transaction-timeout", "topic", "partition"},
}
#: the states whose transaction holds partitions (a completed one has none)
_OPEN_STATES = {"Ongoing", "PrepareCommit", "PrepareAbort"}
_GLOBAL = {"bootstrap-server", "command-config"}
_LONG = {"duration-filter", "start-offset", "producer-id"}
_USAGE = (
    "usage: kafka-transactions.sh [-h] [-v] [--command-config FILE] --bootstrap-server host:port COMMAND ..."
)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """ToolsUtils.prettyPrintTable: every column padded to its widest value, each followed by a tab."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return ["".join(f"{c:<{w}}\t" for c, w in zip(row, widths, strict=True)) for row in [headers, *rows]]


def _parse(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """argparse4j as the tool builds it: global options, a COMMAND, then that command's options."""
    command: str | None = None
    values: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("--"):
            if command is not None:
                raise CommandError(f"{_USAGE} kafka-transactions.sh: error: unrecognized arguments: '{tok}'")
            if tok not in _COMMANDS:
                choices = ", ".join(f"'{c}'" for c in _COMMANDS)
                raise CommandError(
                    f"kafka-transactions.sh: error: argument COMMAND: invalid choice: '{tok}' (choose from {choices})"
                )
            command = tok
            i += 1
            continue
        name, _, inline = tok[2:].partition("=")
        allowed = _GLOBAL if command is None else _COMMANDS[command]
        if name not in allowed:
            raise CommandError(f"kafka-transactions.sh: error: unrecognized arguments: '{tok}'")
        if not inline:
            if i + 1 >= len(argv):
                raise CommandError(f"kafka-transactions.sh: error: argument --{name}: expected one argument")
            inline = argv[i + 1]
            i += 1
        i += 1
        if name in (
            "partition",
            "broker-id",
            "max-transaction-timeout",
            "producer-epoch",
            "coordinator-epoch",
        ):
            try:
                values[name] = parse_int(inline, name, 32)
            except CommandError:
                raise CommandError(
                    f"kafka-transactions.sh: error: argument --{name}: could not convert '{inline}' (For input string: \"{inline}\")"
                ) from None
        elif name in _LONG:
            try:
                values[name] = parse_int(inline, name, 64)
            except CommandError:
                raise CommandError(
                    f"kafka-transactions.sh: error: argument --{name}: could not convert '{inline}' (For input string: \"{inline}\")"
                ) from None
        else:
            values[name] = inline
    if command is None:
        raise CommandError("kafka-transactions.sh: error: too few arguments")
    required = {
        "describe": ["transactional-id"],
        "describe-producers": ["topic", "partition"],
        "abort": ["topic", "partition"],
    }
    missing = [r for r in required.get(command, []) if r not in values]
    if missing:
        raise CommandError(f"kafka-transactions.sh: error: argument --{missing[0]} is required")
    return command, values


def _coordinators(session: LabSession) -> list[Broker]:
    return [b for _bid, b in sorted(session.cluster.brokers.items()) if b.alive]


def _txn(session: LabSession, tid: str) -> Any:
    for b in _coordinators(session):
        if b.txn_coordinator.owns(tid) is not None:
            return b.txn_coordinator.snapshot(tid)
    return None


def _leader_replica(session: LabSession, topic: str, partition: int, broker_id: int | None) -> Partition:
    cluster = session.cluster
    if topic not in cluster.topics() or not 0 <= partition < len(cluster.describe_topic(topic)):
        raise CommandError(
            f"Failed to describe producers for partition {topic}-{partition} on "
            f"{'leader' if broker_id is None else f'broker {broker_id}'}: This server does not host this "
            "topic-partition.. Enable debug logging for additional detail."
        )
    info = next(i for i in cluster.describe_topic(topic) if i.partition == partition)
    bid = info.leader if broker_id is None else broker_id
    b = cluster.brokers.get(bid)
    part = b.partitions.get((topic, partition)) if b is not None and b.alive else None
    if part is None or (broker_id is None and not part.is_leader):
        where = "leader" if broker_id is None else f"broker {broker_id}"
        raise CommandError(
            f"Failed to describe producers for partition {topic}-{partition} on {where}: "
            + (
                "There is no leader for this topic-partition as we are in the middle of a leadership election."
                if broker_id is None
                else "This server does not host this topic-partition."
            )
            + ". Enable debug logging for additional detail."
        )
    return part


def _producers(part: Partition) -> list[tuple[int, int, int, int, int, int | None]]:
    """(producer id, epoch, coordinator epoch, last sequence, last timestamp, open txn start) per producer."""
    last_ts: dict[int, int] = {}
    coord_epoch: dict[int, int] = {}
    for b in part.log.iter_batches(part.log.log_start_offset):
        if b.producer_id < 0:
            continue
        last_ts[b.producer_id] = b.max_timestamp
        if b.is_control and b.control_type in (ControlType.COMMIT, ControlType.ABORT):
            coord_epoch[b.producer_id] = b.coordinator_epoch
    out = []
    for pid, entry in sorted(part.producers.items()):
        last_seq = entry.batches[-1][1] if entry.batches else -1
        out.append(
            (
                pid,
                entry.epoch,
                coord_epoch.get(pid, -1),
                last_seq,
                last_ts.get(pid, -1),
                part.ongoing_txns.get(pid),
            )
        )
    for pid, start in sorted(part.ongoing_txns.items()):
        if pid not in part.producers:
            out.append((pid, -1, -1, -1, last_ts.get(pid, -1), start))
    return out


def kafka_transactions(session: LabSession, argv: list[str]) -> Plan:
    command, v = _parse(argv)
    cluster = session.cluster
    require_a_running_broker(cluster, "", "listTransactions" if command == "list" else "describeTransactions")

    if command == "list":
        min_ms = v.get("duration-filter")

        def listing() -> list[str]:
            rows: list[list[str]] = []
            now = session.cluster.now_ms
            for b in _coordinators(session):
                tc = b.txn_coordinator
                for tid in sorted(tc.txns):
                    snap = tc.snapshot(tid) if tc.owns(tid) is not None else None
                    if snap is None:
                        continue
                    if (
                        min_ms is not None
                        and min_ms >= 0
                        and (snap.start_ms < 0 or now - snap.start_ms <= min_ms)
                    ):
                        continue
                    rows.append([tid, str(b.broker_id), str(snap.producer_id), snap.state])
            return _table(["TransactionalId", "Coordinator", "ProducerId", "TransactionState"], rows)

        return Plan(listing)

    if command == "describe":
        tid = str(v["transactional-id"])
        snap = _txn(session, tid)
        if snap is None:
            raise CommandError(
                f"Failed to describe transaction state of transactional-id `{tid}`: The transactionalId could not be "
                "found.. Enable debug logging for additional detail."
            )

        def describe() -> list[str]:
            s = _txn(session, tid)
            start = "None" if s.start_ms < 0 else str(s.start_ms)
            duration = "None" if s.start_ms < 0 else str(session.cluster.now_ms - s.start_ms)
            row = [
                str(s.coordinator),
                tid,
                str(s.producer_id),
                str(s.producer_epoch),
                s.state,
                str(s.timeout_ms),
                start,
                duration,
                # TransactionMetadata.prepareComplete empties the partition set
                ",".join(f"{t}-{p}" for t, p in s.partitions) if s.state in _OPEN_STATES else "",
            ]
            headers = [
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
            return _table(headers, [row])

        return Plan(describe)

    if command == "describe-producers":
        part = _leader_replica(session, str(v["topic"]), int(v["partition"]), v.get("broker-id"))

        def producers() -> list[str]:
            rows = [
                [str(pid), str(ep), str(ce), str(seq), str(ts), "None" if start is None else str(start)]
                for pid, ep, ce, seq, ts, start in _producers(part)
            ]
            headers = [
                "ProducerId",
                "ProducerEpoch",
                "LatestCoordinatorEpoch",
                "LastSequence",
                "LastTimestamp",
                "CurrentTransactionStartOffset",
            ]
            return _table(headers, rows)

        return Plan(producers)

    if command == "find-hanging":
        return _find_hanging(session, v)
    return _abort(session, v)


def _find_hanging(session: LabSession, v: dict[str, Any]) -> Plan:
    topic, broker_id, partition = v.get("topic"), v.get("broker-id"), v.get("partition")
    if topic is None and broker_id is None:
        raise CommandError(
            "The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search"
        )
    if partition is not None and topic is None:
        raise CommandError("The --partition argument requires --topic to be provided")
    max_ms = int(v.get("max-transaction-timeout", 15)) * 60_000
    cluster = session.cluster

    def find() -> list[str]:
        now = session.cluster.now_ms
        topics = [topic] if topic is not None else [t for t in cluster.topics()]
        rows: list[list[str]] = []
        owners: dict[int, Any] = {}
        for b in _coordinators(session):
            for tid in b.txn_coordinator.txns:
                snap = b.txn_coordinator.snapshot(tid) if b.txn_coordinator.owns(tid) is not None else None
                if snap is not None:
                    owners[snap.producer_id] = snap
        for t in topics:
            if t not in cluster.topics():
                continue
            for info in cluster.describe_topic(t):
                if partition is not None and info.partition != partition:
                    continue
                bid = info.leader if broker_id is None else broker_id
                if broker_id is not None and broker_id not in info.replicas:
                    continue
                host = cluster.brokers.get(bid)
                part = host.partitions.get((t, info.partition)) if host is not None and host.alive else None
                if part is None:
                    continue
                for pid, ep, ce, _seq, ts, start in _producers(part):
                    if start is None or now - ts < max_ms:
                        continue  # not open, or it may still be completed within the transaction timeout
                    snap = owners.get(pid)
                    if snap is not None and (t, info.partition) in snap.partitions:
                        continue  # the coordinator still knows it: its marker will come
                    rows.append(
                        [
                            t,
                            str(info.partition),
                            str(pid),
                            str(ep),
                            str(ce),
                            str(start),
                            str(ts),
                            str((now - ts) // 60_000),
                        ]
                    )
        headers = [
            "Topic",
            "Partition",
            "ProducerId",
            "ProducerEpoch",
            "CoordinatorEpoch",
            "StartOffset",
            "LastTimestamp",
            "Duration(min)",
        ]
        return _table(headers, rows)

    return Plan(find)


def _abort(session: LabSession, v: dict[str, Any]) -> Plan:
    topic, partition = str(v["topic"]), int(v["partition"])
    start = v.get("start-offset")
    if start is None and v.get("producer-id") is None:
        raise CommandError(
            "The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) "
            "or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)"
        )
    if start is None:
        if v.get("producer-epoch") is None:
            raise CommandError("Missing required argument --producer-epoch")
        if v.get("coordinator-epoch") is None:
            raise CommandError("Missing required argument --coordinator-epoch")
        pid, epoch = int(v["producer-id"]), int(v["producer-epoch"])
        coordinator_epoch = max(0, int(v["coordinator-epoch"]))
    else:
        part = _leader_replica(session, topic, partition, None)
        found = [p for p in _producers(part) if p[5] == start]
        if not found:
            raise CommandError(
                f"Could not find any open transactions starting at offset {start} on partition {topic}-{partition}"
            )
        pid, epoch, coordinator_epoch = found[0][0], found[0][1], max(0, found[0][2])
    spec = (
        f"AbortTransactionSpec(topicPartition={topic}-{partition}, producerId={pid}, producerEpoch={epoch}, "
        f"coordinatorEpoch={coordinator_epoch})"
    )

    def abort() -> list[str]:
        part = _leader_replica(session, topic, partition, None)
        result: list[Any] = []
        part.broker.handle_write_markers(pid, epoch, False, [(topic, partition)], result.append)
        session.cluster.run_until(lambda: bool(result), 30_000)
        res = result[0][(topic, partition)] if result else None
        if res is None or res.error != "NO_ERROR":
            err = "the request timed out" if res is None else res.error
            raise CommandError(
                f"Failed to abort transaction {spec}: {err}. Enable debug logging for additional detail."
            )
        return []

    return Plan(abort, records=True)
