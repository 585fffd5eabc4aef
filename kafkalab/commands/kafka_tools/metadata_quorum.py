"""``kafka-metadata-quorum describe --status | --replication`` (Kafka's MetadataQuorumCommand).

The lab's controller quorum shares one committed metadata log (see ``sim/controller.py``): a voter's log end
offset is where the log was when it last heard from the active controller, and the brokers are the observers
(their log end offset and fetch time come from their last heartbeat, as the active controller saw it).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from ..base import Plan
from ..parsing import CommandError, Opt

if TYPE_CHECKING:
    from ..session import LabSession

METADATA_QUORUM_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt(
        "bootstrap-controller", "str", help="the controllers to connect to (accepted and ignored in the lab)"
    ),
    Opt("command-config", "str", help="(accepted and ignored in the lab)"),
    Opt("status", help="describe: a short summary of the quorum"),
    Opt("replication", help="describe: every voter's and observer's replication state"),
    Opt("human-readable", help="with --replication: times as 'N ms ago'"),
]

#: an observer that has not fetched for this long drops out of DescribeQuorum (Kafka's LeaderState)
OBSERVER_SESSION_TIMEOUT_MS = 300_000
ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA"


def _directory_id(cluster_id: str, broker_id: int) -> str:
    """A broker's log directory id (a Uuid, base64 without padding), stable for a cluster and broker."""
    import base64

    raw = hashlib.sha256(f"{cluster_id}/{broker_id}".encode()).digest()[:16]
    u = uuid.UUID(bytes=raw, version=4)
    return base64.urlsafe_b64encode(u.bytes).decode().rstrip("=")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """ToolsUtils.prettyPrintTable: every column padded to its widest value, each followed by a tab."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return ["".join(f"{c:<{w}}\t" for c, w in zip(row, widths, strict=True)) for row in [headers, *rows]]


def kafka_metadata_quorum(session: LabSession, argv: list[str]) -> Plan:
    # argparse4j: connection options and --command-config before the sub-command, its own flags after it
    flags: set[str] = set()
    command: str | None = None
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in ("--bootstrap-server", "--bootstrap-controller", "--command-config"):
            if i + 1 >= len(argv):
                raise CommandError(f"kafka-metadata-quorum: error: argument {tok}: expected one argument")
            i += 2
            continue
        if tok.startswith("--bootstrap-server=") or tok.startswith("--bootstrap-controller="):
            i += 1
            continue
        if command is None and not tok.startswith("-"):
            if tok not in ("describe", "add-controller", "remove-controller"):
                raise CommandError(
                    f"kafka-metadata-quorum: error: argument command: invalid choice: '{tok}' (choose from "
                    "'describe', 'add-controller', 'remove-controller')"
                )
            command = tok
        elif command == "describe" and tok in ("--status", "--replication", "--human-readable"):
            flags.add(tok[2:])
        else:
            raise CommandError(f"kafka-metadata-quorum: error: unrecognized arguments: '{tok}'")
        i += 1
    if command is None:
        raise CommandError("kafka-metadata-quorum: error: too few arguments")
    if command != "describe":
        raise CommandError(
            f"{command} changes the controller quorum (KIP-853); this lab's quorum has a fixed set of voters "
            "(use kill-controller / restart-controller)"
        )
    if "status" in flags and "replication" in flags:
        raise CommandError(
            "Only one of --status or --replication should be specified with describe sub-command"
        )
    if "status" in flags and "human-readable" in flags:
        raise CommandError("The option --human-readable is only supported along with --replication")
    if "status" not in flags and "replication" not in flags:
        raise CommandError("One of --status or --replication must be specified with describe sub-command")
    cluster = session.cluster
    quorum = cluster.quorum
    leader = quorum.active
    if leader is None or not leader.alive or not quorum.can_reach_majority(leader):
        raise CommandError(
            "org.apache.kafka.common.errors.TimeoutException: Call(callName=describeMetadataQuorum) timed out: "
            "the controller quorum has no leader"
        )
    human = "human-readable" in flags

    def replicas() -> tuple[list[tuple[int, str, int, int, int, str]], int]:
        """(id, directory id, log end offset, last fetch, last caught up, status) of every replica; HW."""
        now = cluster.now_ms
        hw = len(quorum.log)
        rows = [(leader.node_id, ZERO_UUID, leader.log_end_offset, now, now, "Leader")]
        for vid, v in sorted(quorum.voters.items()):
            if v is not leader:
                rows.append(
                    (vid, ZERO_UUID, v.log_end_offset, v.last_fetch_ms, v.last_caught_up_ms, "Follower")
                )
        for bid, (offset, at) in sorted(leader.observers.items()):
            if now - at <= OBSERVER_SESSION_TIMEOUT_MS:
                rows.append((bid, _directory_id(cluster.cluster_id, bid), offset, at, at, "Observer"))
        return rows, hw

    def status() -> list[str]:
        rows, hw = replicas()
        voters = [r for r in rows if r[5] != "Observer"]
        lagging = min(voters, key=lambda r: r[2])
        max_lag = rows[0][2] - lagging[2]
        lag_ms = 0 if lagging is rows[0] else (rows[0][4] - lagging[4] if lagging[4] >= 0 else -1)

        def node(r: tuple[int, str, int, int, int, str]) -> str:
            if r[5] == "Observer":
                return f'{{"id": {r[0]}, "directoryId": "{r[1]}"}}'
            return (
                f'{{"id": {r[0]}, "directoryId": null, "endpoints": ["CONTROLLER://controller-{r[0]}:9093"]}}'
            )

        observers = [r for r in rows if r[5] == "Observer"]
        return [
            f"ClusterId:              {cluster.cluster_id}",
            f"LeaderId:               {leader.node_id}",
            f"LeaderEpoch:            {quorum.state.epoch}",
            f"HighWatermark:          {hw}",
            f"MaxFollowerLag:         {max_lag}",
            f"MaxFollowerLagTimeMs:   {lag_ms}",
            "CurrentVoters:          [" + ", ".join(node(r) for r in sorted(voters)) + "]",
            "CurrentObservers:       [" + ", ".join(node(r) for r in observers) + "]",
        ]

    def replication() -> list[str]:
        rows, _hw = replicas()
        now = cluster.now_ms
        leo = rows[0][2]

        def when(t: int) -> str:
            if t < 0:
                return "-1"
            return f"{now - t} ms ago" if human else str(t)

        out = [[str(r[0]), r[1], str(r[2]), str(leo - r[2]), when(r[3]), when(r[4]), r[5]] for r in rows]
        headers = [
            "NodeId",
            "DirectoryId",
            "LogEndOffset",
            "Lag",
            "LastFetchTimestamp",
            "LastCaughtUpTimestamp",
            "Status",
        ]
        return _table(headers, out)

    return Plan(status if "status" in flags else replication)
