"""The lab console: Kafka's command-line tools and lab verbs, executed on a :class:`LabSession`.

>>> from kafkalab.commands import LabSession, execute
>>> s = LabSession(brokers=3, seed=42)
>>> execute(s, "kafka-topics --create --topic events --partitions 3 --replication-factor 3").lines
['Created topic events.']

``execute`` never raises and never changes anything when a command is malformed: every command is parsed
and validated completely (including against the cluster's state) before it acts. Headless: no Textual here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from ..sim.errors import KafkaException
from .base import GROUPS_UNAVAILABLE, CommandResult, Plan
from .clusters import CLUSTER_HANDLERS, CLUSTER_OPTIONS, CLUSTER_SPECS
from .kafka_tools import (
    TOOL_OPTIONS,
    console_producer_line,
    kafka_configs,
    kafka_console_consumer,
    kafka_console_producer,
    kafka_consumer_groups,
    kafka_consumer_perf_test,
    kafka_delete_records,
    kafka_dump_log,
    kafka_get_offsets,
    kafka_leader_election,
    kafka_metadata_quorum,
    kafka_producer_perf_test,
    kafka_reassign_partitions,
    kafka_topics,
    kafka_transactions,
    produce,
)
from .ksql_cmd import is_ksql_line, ksql_command, ksql_plan
from .lab import LAB_HANDLERS, LAB_OPTIONS
from .mirror_cmd import MIRROR_OPTIONS, MIRROR_USAGE, mirror_command
from .parsing import MAX_LINE_CHARS, CommandError, Opt, clip, parse_options, split_line
from .session import BackgroundClient, BackgroundConsumer, BackgroundProducer, ConsoleProducer, LabSession
from .streams_cmd import STREAMS_OPTIONS, STREAMS_USAGE, streams_command
from .timetravel_verbs import TIME_TRAVEL_SPECS
from .waitfor import WAIT_OPTIONS, WAIT_USAGE, wait_for
from .waitfor import help_lines as wait_help_lines

__all__ = [
    "COMMANDS",
    "GROUPS_UNAVAILABLE",
    "BackgroundClient",
    "BackgroundConsumer",
    "BackgroundProducer",
    "CommandResult",
    "ConsoleProducer",
    "LabSession",
    "command_names",
    "complete",
    "execute",
    "usage",
]

Handler = Callable[[LabSession, list[str]], Plan]

#: an error longer than this (it quotes something huge the learner typed) is cut short
MAX_ERROR_CHARS = 400


@dataclass(frozen=True)
class _Spec:
    summary: str
    usage: str
    handler: Handler
    #: more lines for 'help NAME' (e.g. the conditions of wait-for)
    more: Callable[[], list[str]] | None = None


def _help(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [], max_positionals=1)
    if p.positionals:
        name = _canonical(p.positionals[0])
        extra = getattr(session, "verb_help", {}).get(name)
        if name not in _SPECS and extra is not None:  # a host's extension verb (e.g. a lesson's)
            return Plan(lambda: list(extra))
        if name not in _SPECS:
            raise CommandError(f"no command named '{p.positionals[0]}' (type 'help' for the list)")
        return Plan(lambda: _help_for(name))

    def run() -> list[str]:
        width = max(len(n) for n in _SPECS)
        lines = ["Kafka tools (also with .sh; --bootstrap-server is accepted and ignored):"]
        for n, spec in _SPECS.items():
            if n.startswith("kafka-"):
                lines.append(f"  {n:<{width}}  {spec.summary}")
        lines.append("Lab commands:")
        for n, spec in _SPECS.items():
            if not n.startswith("kafka-"):
                lines.append(f"  {n:<{width}}  {spec.summary}")
        verbs = getattr(session, "verb_help", {})
        if verbs:
            lines.append("Commands of this lesson:")
            for n, text in verbs.items():
                summary = text[0].split(": ", 1)[-1] if text else ""
                lines.append(f"  {n:<{width}}  {summary}")
        lines.append("'help COMMAND' shows a command's options.")
        return lines

    return Plan(run)


def _help_for(name: str) -> list[str]:
    spec = _SPECS[name]
    lines = [f"{name}: {spec.summary}", f"usage: {spec.usage}"]
    opts = (
        TOOL_OPTIONS.get(name) or LAB_OPTIONS.get(name) or _MORE_OPTIONS.get(name) or _platform_options(name)
    )
    for o in opts:
        arg = (
            "" if o.arg is None else (" [VALUE]" if o.arg == "optional" else f" {o.metavar or o.arg.upper()}")
        )
        lines.append(f"  --{o.name}{arg}{'  (repeatable)' if o.multi else ''}: {o.help}")
    if spec.more is not None:
        lines += spec.more()
    return lines


_SPECS: dict[str, _Spec] = {
    "kafka-topics": _Spec(
        "create, list, describe, delete topics",
        "kafka-topics (--create --topic T [--partitions N] [--replication-factor R] [--config k=v ...] | --list "
        "| --describe [--topic T] [--under-replicated-partitions] [--unavailable-partitions] | --delete --topic T "
        "| --alter --topic T --partitions N)",
        kafka_topics,
    ),
    "kafka-console-producer": _Spec(
        "type records into a topic, one per line",
        "kafka-console-producer --topic T [--producer-property acks=all ...] [--property parse.key=true "
        "--property key.separator=:]",
        kafka_console_producer,
    ),
    "kafka-console-consumer": _Spec(
        "print the records of a topic as they arrive",
        "kafka-console-consumer --topic T [--from-beginning] [--group G] [--max-messages N] "
        "[--property print.key=true] [--isolation-level read_committed] [--partition P [--offset O]]",
        kafka_console_consumer,
    ),
    "kafka-consumer-groups": _Spec(
        "list groups, show their offsets and lag, reset or delete offsets, delete groups",
        "kafka-consumer-groups (--list [--state S] | --describe (--group G|--all-groups) [--members [--verbose]|"
        "--state|--offsets] | --reset-offsets --group G (--topic T[:P,..]|--all-topics) (--to-earliest|"
        "--to-latest|--to-current|--to-offset N|--shift-by N|--by-duration PnDTnHnMnS|--to-datetime T) "
        "[--dry-run|--execute] | --delete --group G | --delete-offsets --group G --topic T)",
        kafka_consumer_groups,
    ),
    "kafka-configs": _Spec(
        "show or change topic and broker configs, show group configs",
        "kafka-configs (--describe [--all] | --alter (--add-config k=v[,k2=v2] | --delete-config k[,k2])) "
        "(--entity-type topics|brokers|groups (--entity-name N|--entity-default) | --topic T | --broker N | "
        "--broker-defaults | --group G)",
        kafka_configs,
    ),
    "kafka-get-offsets": _Spec(
        "show partitions' earliest, latest or by-time offsets",
        "kafka-get-offsets [--topic T] [--partitions 0,1] [--topic-partitions t:0-3] "
        "[--time latest|earliest|max-timestamp|TIMESTAMP] [--exclude-internal-topics]",
        kafka_get_offsets,
    ),
    "kafka-delete-records": _Spec(
        "delete a partition's records below an offset (moves the log start offset)",
        'kafka-delete-records --offset-json-file \'{"partitions": [{"topic": "T", "partition": 0, '
        '"offset": 5}], "version": 1}\'',
        kafka_delete_records,
    ),
    "kafka-leader-election": _Spec(
        "move leadership to the preferred replica, or elect an unclean leader",
        "kafka-leader-election --election-type PREFERRED|UNCLEAN (--topic T --partition P | --all-topic-partitions "
        "| --path-to-json-file JSON)",
        kafka_leader_election,
    ),
    "kafka-metadata-quorum": _Spec(
        "the KRaft controller quorum: leader, epoch, high watermark, voters and observers",
        "kafka-metadata-quorum describe (--status | --replication [--human-readable])",
        kafka_metadata_quorum,
    ),
    "kafka-dump-log": _Spec(
        "decode a broker's segment files: batches, producer ids, records, markers",
        "kafka-dump-log --files broker-1/TOPIC-0/00000000000000000000.log [--deep-iteration] [--print-data-log] "
        "[--offsets-decoder]",
        kafka_dump_log,
    ),
    "kafka-transactions": _Spec(
        "list and describe transactions, their producers; find and abort hanging ones",
        "kafka-transactions (list [--duration-filter MS] | describe --transactional-id ID | describe-producers "
        "--topic T --partition P | find-hanging (--topic T [--partition P] | --broker-id B) | abort --topic T "
        "--partition P --start-offset O)",
        kafka_transactions,
    ),
    "kafka-reassign-partitions": _Spec(
        "move partition replicas to other brokers (with an optional replication throttle)",
        "kafka-reassign-partitions (--generate --topics-to-move-json-file JSON --broker-list 1,2 | --execute "
        "--reassignment-json-file JSON [--throttle B/s] [--additional] | --verify --reassignment-json-file JSON "
        "| --cancel --reassignment-json-file JSON | --list)",
        kafka_reassign_partitions,
    ),
    "kafka-producer-perf-test": _Spec(
        "measure producer throughput and latency (in virtual time)",
        "kafka-producer-perf-test --topic T --num-records N --record-size B --throughput R|-1 --producer-props "
        "acks=all linger.ms=5 batch.size=16384 [--print-metrics]",
        kafka_producer_perf_test,
    ),
    "kafka-consumer-perf-test": _Spec(
        "measure consumer throughput (in virtual time)",
        "kafka-consumer-perf-test --topic T --messages N [--group G] [--fetch-size B] [--from-latest] "
        "[--show-detailed-stats] [--timeout MS]",
        kafka_consumer_perf_test,
    ),
    "produce": _Spec(
        "send records and wait for the acknowledgement",
        "produce TOPIC VALUE [--key K] [--acks 0|1|all] [--count N] [--partition P]",
        produce,
    ),
    "kill-broker": _Spec(
        "kill -9 a broker (it keeps its log files)", "kill-broker BROKER_ID", LAB_HANDLERS["kill-broker"]
    ),
    "restart-broker": _Spec(
        "start a killed broker again", "restart-broker BROKER_ID", LAB_HANDLERS["restart-broker"]
    ),
    "pause-broker": _Spec(
        "freeze a broker (like a long GC pause)", "pause-broker BROKER_ID", LAB_HANDLERS["pause-broker"]
    ),
    "resume-broker": _Spec(
        "unfreeze a paused broker", "resume-broker BROKER_ID", LAB_HANDLERS["resume-broker"]
    ),
    "kill-controller": _Spec(
        "kill a KRaft controller (default: the active one)",
        "kill-controller [CONTROLLER_ID]",
        LAB_HANDLERS["kill-controller"],
    ),
    "restart-controller": _Spec(
        "start a killed controller again",
        "restart-controller CONTROLLER_ID",
        LAB_HANDLERS["restart-controller"],
    ),
    "partition": _Spec(
        "cut the network between two groups of nodes",
        "partition 1,2 3   |   partition 2 (isolate it)",
        LAB_HANDLERS["partition"],
    ),
    "heal": _Spec("repair every network cut", "heal", LAB_HANDLERS["heal"]),
    "start-producer": _Spec(
        "run a background producer at a steady rate",
        "start-producer NAME --topic T [--rate R] [--acks 0|1|all] [--idempotence true|false] [--linger-ms N] "
        "[--key-count K]",
        LAB_HANDLERS["start-producer"],
    ),
    "start-consumer": _Spec(
        "run a background consumer that prints what it reads",
        "start-consumer NAME --topic T [--group G] [--from-beginning]",
        LAB_HANDLERS["start-consumer"],
    ),
    "stop": _Spec("stop a background client cleanly", "stop NAME", LAB_HANDLERS["stop"]),
    "crash-consumer": _Spec(
        "kill a consumer without leaving its group", "crash-consumer NAME", LAB_HANDLERS["crash-consumer"]
    ),
    "speed": _Spec("set how fast virtual time runs (0.1x to 100x)", "speed X", LAB_HANDLERS["speed"]),
    **{
        name: _Spec(summary, usage_text, LAB_HANDLERS[name])
        for name, (summary, usage_text) in TIME_TRAVEL_SPECS.items()
        if name != "rewind" and name != "redo" and name != "branches"
    },
    "run": _Spec("let virtual time pass (500, 2s, 1m)", "run DURATION", LAB_HANDLERS["run"]),
    "wait-for": _Spec(
        "let virtual time pass until something happens (a new leader ...)",
        WAIT_USAGE,
        wait_for,
        lambda: ["conditions:", *wait_help_lines()],
    ),
    **{
        name: _Spec(summary, usage_text, LAB_HANDLERS[name])
        for name, (summary, usage_text) in TIME_TRAVEL_SPECS.items()
        if name in ("rewind", "redo", "branches")
    },
    "status": _Spec(
        "brokers, controllers, network, topics and clients at a glance", "status", LAB_HANDLERS["status"]
    ),
    "help": _Spec("list commands, or show one command's options", "help [COMMAND]", _help),
    # Kafka Streams, ksqlDB, several clusters and MirrorMaker 2 (kafkalab.platform)
    "streams": _Spec(
        "run Kafka Streams applications (word count, windows, joins)", STREAMS_USAGE, streams_command
    ),
    "ksql": _Spec(
        "ksqlDB: type CREATE/SELECT/SHOW/DESCRIBE/DROP statements directly; 'ksql' lists them",
        "ksql  |  ksql STATEMENT  |  STATEMENT",
        ksql_command,
    ),
    "mirror-maker": _Spec(
        "replicate topics and group offsets between clusters (MirrorMaker 2)", MIRROR_USAGE, mirror_command
    ),
    **{
        name: _Spec(summary, usage, CLUSTER_HANDLERS[name])
        for name, (summary, usage) in CLUSTER_SPECS.items()
    },
}
LAB_OPTIONS.update(CLUSTER_OPTIONS)
LAB_OPTIONS.update({"streams": STREAMS_OPTIONS, "mirror-maker": MIRROR_OPTIONS})

#: options of commands defined outside kafka_tools and lab
_MORE_OPTIONS: dict[str, list[Opt]] = {"wait-for": WAIT_OPTIONS}


def _add_platform_commands() -> None:
    """Schema Registry, Kafka Connect, curl and the file commands (kafkalab.platform)."""
    from ..platform.commands import PLATFORM_COMMANDS

    for name, (summary, usage_text, handler) in PLATFORM_COMMANDS.items():
        _SPECS[name] = _Spec(summary, usage_text, handler)


_add_platform_commands()


def _add_classroom_commands() -> None:
    """``note`` (a caption at this moment of the run), and the help of ``record`` and ``export-lesson``."""
    from ..classroom.commands import CLASSROOM_COMMANDS

    for name, (summary, usage_text, handler) in CLASSROOM_COMMANDS.items():
        _SPECS[name] = _Spec(summary, usage_text, handler)  # type: ignore[arg-type]


_add_classroom_commands()

#: command name -> one-line summary (for the help screen and the command palette)
COMMANDS: dict[str, str] = {name: spec.summary for name, spec in _SPECS.items()}

_TWO_WORD = {
    ("kill", "broker"),
    ("restart", "broker"),
    ("pause", "broker"),
    ("resume", "broker"),
    ("kill", "controller"),
    ("restart", "controller"),
    ("start", "producer"),
    ("start", "consumer"),
    ("crash", "consumer"),
}


def command_names() -> list[str]:
    return list(_SPECS)


def usage(name: str) -> str | None:
    spec = _SPECS.get(_canonical(name))
    return spec.usage if spec else None


def _canonical(word: str) -> str:
    w = word.rsplit("/", 1)[-1]
    if w.endswith(".sh"):
        w = w[:-3]
    return w


def _normalize(tokens: list[str]) -> tuple[str, list[str]]:
    first = _canonical(tokens[0])
    if len(tokens) > 1 and (first, tokens[1]) in _TWO_WORD:
        return f"{first}-{tokens[1]}", tokens[2:]
    return first, tokens[1:]


def _fingerprint(session: LabSession) -> tuple[int, int, int, int]:
    k = session.cluster.kernel
    return (int(k.stats.events), int(k.now_ms), int(getattr(k, "_seq", 0)), int(k.pending()))


def _kafka_error_text(name: str, e: KafkaException) -> str:
    err = e.error
    reason = err.str()
    if name == "kafka-topics":
        return f"Error while executing topic command : {reason}"
    if name == "kafka-configs":
        return f"Error while executing config command : {reason}"
    if name == "kafka-consumer-groups":
        return f"Error: Executing consumer group command failed due to {reason}"
    return f"{name}: {err.name()}: {reason}"


def _run_plan(session: LabSession, name: str, line: str, plan: Plan) -> CommandResult:
    world = session._w
    before = _fingerprint(session)
    start = session.position()
    index = session._record(line, start) if plan.records else None
    try:
        lines = plan.run()
        result = CommandResult(True, [str(x) for x in lines])
    except CommandError as e:
        result = CommandResult(False, [], _prefixed(name, str(e)), getattr(e, "confirm", None))
    except KafkaException as e:
        result = CommandResult(False, [], _kafka_error_text(name, e))
    except Exception as e:  # a bug must never take the console down
        result = CommandResult(False, [], f"{name}: internal error: {type(e).__name__}: {e}")
    if index is not None:
        if session._w is world:
            session._finish_record(index)
    elif plan.kind != "time" and session._w is world and _fingerprint(session) != before:
        # a "read-only" command that nevertheless ran the simulation: keep the run replayable
        i = session._record(line, start)
        session._finish_record(i)
    return result


def _run_verb(
    session: LabSession, verb: Callable[[LabSession, str], CommandResult], line: str
) -> CommandResult:
    """An extension verb (see ``LabSession.verbs``): kept in the action log when it changed anything."""
    world = session._w
    before = _fingerprint(session)
    start = session.position()
    result = verb(session, line)
    if session._w is world and (result.ok or _fingerprint(session) != before):
        session._finish_record(session._record(line, start))
    return result


def _prefixed(name: str, message: str) -> str:
    if name == "ksql":  # ksqlDB's CLI prints its errors as they are
        return message
    if message.startswith(name) or message.startswith("Error") or message == GROUPS_UNAVAILABLE:
        return message
    return f"{name}: {message}"


def execute(session: LabSession, line: str) -> CommandResult:
    """Run one console line. Never raises; a malformed line changes nothing and returns ``ok=False``."""
    if len(line) > MAX_LINE_CHARS:  # a pasted megabyte would take the console seconds to read and echo
        return CommandResult(
            False,
            [],
            f"the console reads lines of at most {MAX_LINE_CHARS:,} characters; this one has {len(line):,}",
        )
    try:
        result = _execute(session, line)
    except Exception as e:  # pragma: no cover - last line of defence
        return CommandResult(False, [], f"internal error: {type(e).__name__}: {e}")
    if result.error is not None and "\n" in result.error:
        # tools that answer in several lines (ksqlDB's "line 1:1: Syntax Error" + what was expected): one line
        result.error = " — ".join(part.strip() for part in result.error.splitlines() if part.strip())
    if result.error is not None and len(result.error) > MAX_ERROR_CHARS:  # one line, never a wall of text
        result.error = clip(result.error, MAX_ERROR_CHARS)
    return result


def _execute(session: LabSession, line: str) -> CommandResult:
    if session._w.console_producer is not None:
        plan, err = console_producer_line(session, line)
        if plan is None:
            return CommandResult(False, [], err)
        return _run_plan(session, "kafka-console-producer", line, plan)
    text = line.strip()
    if not text or text.startswith("#"):
        return CommandResult(True, [])
    try:
        tokens = split_line(text)
    except CommandError as e:
        if text.split(None, 1)[0] == "note":  # an apostrophe in a note: say how to write it
            return CommandResult(False, [], f'{e}: put the note in double quotes: note "it\'s here"')
        return CommandResult(False, [], str(e))
    if not tokens:
        return CommandResult(True, [])
    verb = session.verbs.get(tokens[0])
    if verb is not None:
        return _run_verb(session, verb, text)
    if is_ksql_line(tokens):  # a ksqlDB statement typed as it is (CREATE STREAM ..., SELECT ...)
        return _run_plan(session, "ksql", text, ksql_plan(session, text))
    name, argv = _normalize(tokens)
    spec = _SPECS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(_SPECS), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return CommandResult(
            False, [], f"unknown command '{tokens[0]}'{hint}; type 'help' for the list of commands"
        )
    try:
        plan = spec.handler(session, argv)
    except CommandError as e:
        return CommandResult(False, [], _prefixed(name, str(e)), getattr(e, "confirm", None))
    except KafkaException as e:
        return CommandResult(False, [], _kafka_error_text(name, e))
    return _run_plan(session, name, text, plan)


# -- tab completion -------------------------------------------------------------------------------------


def _platform_options(name: str) -> list[Opt]:
    from ..platform.commands import PLATFORM_OPTIONS

    return PLATFORM_OPTIONS.get(name, [])


def _options_of(name: str) -> list[Opt]:
    return (
        TOOL_OPTIONS.get(name) or LAB_OPTIONS.get(name) or _MORE_OPTIONS.get(name) or _platform_options(name)
    )


def complete(prefix: str, session: LabSession | None = None) -> list[str]:
    """Completions of a partly typed console line, as whole lines (sorted)."""
    if session is not None and session._w.console_producer is not None:
        return []
    words = prefix.split(" ")
    last = words[-1]
    head = prefix[: len(prefix) - len(last)]
    if len(words) == 1:
        return sorted(n for n in _SPECS if n.startswith(last))
    name, _ = _normalize([w for w in words[:-1] if w] or [""])
    prev = next((w for w in reversed(words[:-1]) if w), "")
    cands: list[str] = []
    if last.startswith("-") or (prev == name and name in TOOL_OPTIONS and name != "produce" and not last):
        cands = [f"--{o.name}" for o in _options_of(name)]
    elif session is not None and prev in ("--topic", "--entity-name"):
        cands = session.cluster.topics()
    elif session is not None and prev == "--group":
        lister = getattr(session.cluster, "list_groups", None)
        if callable(lister):
            try:
                cands = [str(getattr(g, "group_id", g)) for g in lister()]
            except Exception:
                cands = []
    elif prev == name and name == "help":
        cands = list(_SPECS) + list(getattr(session, "verb_help", {}))
    elif prev == name and name == "wait-for":
        from .waitfor import CONDITIONS

        cands = list(CONDITIONS)
    elif session is not None and prev == name and name in ("stop", "crash-consumer"):
        cands = [n for n, c in session.clients.items() if name == "stop" or isinstance(c, BackgroundConsumer)]
    elif (
        session is not None
        and prev == name
        and name in ("kill-broker", "restart-broker", "pause-broker", "resume-broker")
    ):
        cands = [str(b) for b in sorted(session.cluster.brokers)]
    elif session is not None and prev == name and name in ("kill-controller", "restart-controller"):
        cands = [str(cid) for cid, _s in session.cluster.describe_cluster().controllers]
    elif session is not None and prev == name and name == "produce":
        cands = session.cluster.topics()
    return sorted(head + c for c in cands if c.startswith(last))
