"""The ``kafkalab`` command."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .argtypes import MAX_BROKERS, OneLineErrorParser, int_between


def build_parser() -> argparse.ArgumentParser:
    brokers = int_between(1, MAX_BROKERS, "brokers")
    parser = OneLineErrorParser(
        prog="kafkalab",
        description="An interactive lab that teaches Apache Kafka on a deterministic in-process cluster.",
    )
    parser.add_argument(
        "--version", action="store_true", help="print the version and how the simulation runs"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a short scripted scenario headless and print what happened")
    demo.add_argument("--seed", type=int, default=42, help="seed of the simulation (default 42)")
    demo.add_argument(
        "--brokers", type=brokers, default=3, help=f"number of brokers, 1 to {MAX_BROKERS} (default 3)"
    )
    sandbox = sub.add_parser("sandbox", help="free play on a fresh cluster")
    sandbox.add_argument(
        "--brokers", type=brokers, default=3, help=f"number of brokers, 1 to {MAX_BROKERS} (default 3)"
    )
    sandbox.add_argument("--seed", type=int, default=42, help="seed of the simulation (default 42)")
    sandbox.add_argument(
        "--clusters",
        metavar="NAME:BROKERS,...",
        help="several clusters on one clock, e.g. east:3,west:3 (for MirrorMaker 2; 'use-cluster' switches)",
    )
    sandbox.add_argument(
        "--listen",
        type=_port,
        metavar="PORT",
        help="let real Kafka clients in: broker 1 listens on 127.0.0.1:PORT, broker 2 on PORT+1, ...",
    )
    _add_platform_ports(sandbox, "with --listen: ")
    sandbox.add_argument("--present", action="store_true", help="open in presenter mode (for a projector)")
    sandbox.add_argument("--lessons-dir", metavar="PATH", help="the lesson browser (F9) shows this folder")
    cluster = sub.add_parser(
        "cluster",
        help="a cluster for your own Kafka clients, no screen (Ctrl-C stops it and removes its data)",
    )
    cluster.add_argument("--brokers", type=int, default=3, help="number of brokers (default 3)")
    cluster.add_argument(
        "--port",
        type=_any_port,
        default=19092,
        help="port of broker 1; broker N listens on PORT+N-1 (default 19092; 0: any free ports)",
    )
    cluster.add_argument("--seed", type=int, default=42, help="seed of the simulation (default 42)")
    cluster.add_argument(
        "--quiet",
        action="store_true",
        help="print only the bootstrap.servers, schema.registry.url and connect.url lines",
    )
    _add_platform_ports(cluster)
    from .compare import add_arguments as add_compare_arguments

    compare = sub.add_parser("compare", help="one fault schedule, several delivery guarantees, side by side")
    add_compare_arguments(compare)
    from .lessons.cli import add_parsers as add_lesson_parsers

    add_lesson_parsers(sub)
    from .classroom.cli import add_parsers as add_classroom_parsers

    add_classroom_parsers(sub)  # serve, record, play, screenshot, export-lesson
    return parser


def _add_platform_ports(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Where Schema Registry and Connect listen for outside programs (``kafkalab cluster``, ``--listen``)."""
    parser.add_argument(
        "--schema-registry-port",
        type=_any_port,
        default=8081,
        metavar="PORT",
        help=f"{prefix}Schema Registry's REST API on 127.0.0.1:PORT (default 8081; 0: a free port)",
    )
    parser.add_argument(
        "--connect-port",
        type=_any_port,
        default=8083,
        metavar="PORT",
        help=f"{prefix}Kafka Connect's REST API on 127.0.0.1:PORT (default 8083; 0: a free port)",
    )
    parser.add_argument(
        "--no-platform",
        action="store_true",
        help=f"{prefix}Kafka listeners only: no Schema Registry or Connect",
    )


def _check_platform_ports(parser: argparse.ArgumentParser, args: argparse.Namespace, first: int) -> None:
    """The HTTP ports must differ from each other and from the brokers' ports (``first``.. one per broker)."""
    if args.no_platform:
        return
    brokers = range(first, first + args.brokers) if first else range(0)
    sr, connect = args.schema_registry_port, args.connect_port
    if sr and sr == connect:
        parser.error(f"--schema-registry-port and --connect-port are both {sr}")
    for name, port in (("--schema-registry-port", sr), ("--connect-port", connect)):
        if port in brokers:
            parser.error(f"argument {name}: port {port} is a broker's port ({first}..{brokers[-1]})")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 1 and 65535")
    return port


def _any_port(text: str) -> int:
    return 0 if text.strip() == "0" else _port(text)


def run_demo(brokers: int, seed: int) -> int:
    from .sim.cluster import Cluster

    cluster = Cluster(brokers=brokers, seed=seed)
    rf = min(3, brokers)
    cluster.create_topic(
        "events", partitions=3, replication_factor=rf, config={"min.insync.replicas": min(2, rf)}
    )
    producer = cluster.producer({"acks": "all"})
    for i in range(30):
        producer.produce("events", key=f"user-{i % 5}", value=f"click-{i}")
    producer.flush()
    leader = cluster.describe_topic("events")[0].leader
    cluster.kill_broker(leader)
    cluster.run_for(15_000)
    for i in range(30, 60):
        producer.produce("events", key=f"user-{i % 5}", value=f"click-{i}")
    producer.flush()
    for entry in cluster.timeline:
        print(f"{entry.time_ms:>8} ms  {entry.text}")
    print()
    for p in cluster.describe_topic("events"):
        print(
            f"events-{p.partition}  leader={p.leader} replicas={list(p.replicas)} isr={list(p.isr)} "
            f"epoch={p.leader_epoch} hw={p.high_watermark} leo={p.log_end_offset}"
        )
    cluster.close()
    return 0


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP end the lab like Ctrl-C does: a normal exit, so ``finally`` blocks run and every
    cluster's temporary data directory is removed (Python's default for these signals is to die on the
    spot, leaving the directory behind)."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, _exit_on_signal)


def main(argv: Sequence[str] | None = None) -> int:
    exit_cleanly_on_signals()
    parser = build_parser()
    args = parser.parse_args(argv)
    from . import build

    if args.version:
        print(f"kafkalab 0.1.0 ({build.describe()})")
        return 0
    stale = build.stale_sources()
    if stale:
        print("kafkalab: warning: " + build.STALE_HINT.format(files=", ".join(stale)), file=sys.stderr)
    if args.command == "demo":
        return run_demo(args.brokers, args.seed)
    if args.command == "compare":
        from .compare import main as compare_main

        return compare_main(args)
    if args.command == "lessons":
        from .lessons.cli import run_lessons

        return run_lessons(args)
    if args.command == "lesson":
        from .lessons.cli import run_lesson

        return run_lesson(args)
    from .classroom.cli import COMMANDS as CLASSROOM_COMMANDS

    if args.command in CLASSROOM_COMMANDS:
        from .classroom.cli import run as run_classroom

        return run_classroom(args, parser)
    if args.command == "cluster":
        if not 1 <= args.brokers <= 64:
            parser.error(f"argument --brokers: {args.brokers} is not between 1 and 64")
        if args.port and args.port + args.brokers - 1 > 65535:
            parser.error(
                f"argument --port: ports {args.port}..{args.port + args.brokers - 1} do not all exist"
            )
        _check_platform_ports(parser, args, args.port)
        from .wire.headless import run_cluster

        return run_cluster(
            args.brokers,
            args.port,
            args.seed,
            timeline=not args.quiet,
            platform=not args.no_platform,
            registry_port=args.schema_registry_port,
            connect_port=args.connect_port,
        )
    if getattr(args, "clusters", None):
        from .sim.world import parse_clusters

        try:
            parse_clusters(args.clusters)
        except ValueError as e:
            parser.error(f"--clusters: {e}")
        if getattr(args, "listen", None):
            parser.error("--listen serves one cluster: it cannot be combined with --clusters")
    if getattr(args, "listen", None):
        _check_platform_ports(parser, args, args.listen)
    if args.command in (None, "sandbox"):
        try:
            from .ui.app import run_app  # type: ignore[import-not-found]
        except ImportError:
            print("kafkalab: the lab screen is not built yet; try 'kafkalab demo'", file=sys.stderr)
            return 1
        return int(run_app(args) or 0)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
