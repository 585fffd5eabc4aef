"""``kafka-consumer-groups`` (Kafka's ConsumerGroupCommand, Kafka 4.x).

Output widths and texts follow ``ConsumerGroupCommand.java``: ``--describe`` (offsets), ``--members``
(GROUP-INSTANCE-ID only when a member has one, ASSIGNMENT with ``--verbose``), ``--state``, ``--list``,
``--reset-offsets``, ``--delete`` and ``--delete-offsets``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...sim.clients.common import TopicPartition
from ..base import GROUPS_UNAVAILABLE, Plan, groups_available, require_a_running_broker
from ..parsing import CommandError, Opt, Parsed, parse_options
from .common import _exactly_one_action, java_set_order

if TYPE_CHECKING:
    from ..session import LabSession


_GROUPS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("list", help="list all consumer groups"),
    Opt("describe", help="describe a consumer group: offsets and lag per partition"),
    Opt("delete", help="delete an empty group (its committed offsets go too)"),
    Opt("reset-offsets", help="reset the committed offsets of an inactive group"),
    Opt("delete-offsets", help="delete a group's committed offsets of --topic T[:P,..]"),
    Opt("group", "str", multi=True, help="the consumer group"),
    Opt("all-groups", help="apply to all groups"),
    Opt("topic", "str", multi=True, help="with --reset-offsets/--delete-offsets: T or T:0,1"),
    Opt("all-topics", help="with --reset-offsets: every topic the group has offsets for"),
    Opt("to-earliest", help="reset to the earliest offset"),
    Opt("to-latest", help="reset to the latest offset (the high watermark)"),
    Opt("to-current", help="reset to the current committed offset"),
    Opt("to-offset", "long", help="reset to this offset"),
    Opt("shift-by", "long", help="move the committed offset by N (may be negative)"),
    Opt("by-duration", "str", help="reset to the offset of records written PnDTnHnMnS ago"),
    Opt(
        "to-datetime", "str", help="reset to the first offset at YYYY-MM-DDTHH:mm:SS.sss (virtual time: 1970)"
    ),
    Opt(
        "from-file",
        "str",
        help="reset to the offsets in a CSV file of the lab's files directory: topic,partition,offset per line "
        "(group,topic,partition,offset for several groups)",
    ),
    Opt("export", help="with --reset-offsets: print the plan as CSV (what --from-file reads)"),
    Opt("dry-run", help="only show the result"),
    Opt("execute", help="really reset the offsets"),
    Opt("members", help="with --describe: list the members"),
    Opt("offsets", help="with --describe: list offsets and lag (default)"),
    Opt("state", "optional", help="with --describe: show the group's state; with --list: filter by state"),
    Opt("verbose", help="with --describe --members: show each member's partitions"),
    Opt("timeout", "long", help="timeout in ms (accepted; the lab answers at once)"),
]

#: ConsumerGroupCommandOptions.allResetOffsetScenarioOpts
_SCENARIOS = [
    "to-offset",
    "to-datetime",
    "by-duration",
    "to-earliest",
    "to-latest",
    "to-current",
    "shift-by",
    "from-file",
]
_STATES = ["PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty"]
_MISSING = "-"


def _snapshot(cluster: Any, group: str) -> Any:
    try:
        return cluster.describe_group(group)
    except Exception:
        return None


def _members(snap: Any) -> list[Any]:
    return list(getattr(snap, "members", ()) or ())


def _assignment(m: Any) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for tp in getattr(m, "assignment", None) or ():
        if isinstance(tp, TopicPartition):
            out.append((tp.topic, tp.partition))
        else:
            t, p = tp
            out.append((str(t), int(p)))
    return sorted(out)


def _committed(snap: Any) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for k, v in dict(getattr(snap, "offsets", None) or {}).items():
        key = (k.topic, k.partition) if isinstance(k, TopicPartition) else (str(k[0]), int(k[1]))
        out[key] = int(v)
    return out


def _state(snap: Any) -> str:
    return str(getattr(snap, "state", "Dead")) if snap is not None else "Dead"


def _hw(session: LabSession, topic: str, partition: int) -> int | None:
    try:
        for info in session.cluster.describe_topic(topic):
            if info.partition == partition:
                return info.high_watermark if info.high_watermark >= 0 else None
    except Exception:
        return None
    return None


def _fmt(widths: list[int], cells: list[str]) -> str:
    """Java's ``%-Ns`` columns separated by one space; the last cell unpadded (trailing blanks dropped)."""
    parts = [f"{c:<{w}}" for c, w in zip(cells[:-1], widths, strict=False)] + [cells[-1]]
    return " ".join(parts).rstrip()


def _state_notice(group: str, state: str) -> list[str]:
    """ConsumerGroupCommand.shouldPrintMemberState: what it prints before a group's table."""
    if state == "Dead":
        raise CommandError(f"Error: Consumer group '{group}' does not exist.")
    if state == "Empty":
        return ["", f"Consumer group '{group}' has no active members."]
    if state in ("PreparingRebalance", "CompletingRebalance"):
        return ["", f"Warning: Consumer group '{group}' is rebalancing."]
    return []


def _client_id(m: Any) -> str:
    return str(getattr(m, "client_id", "") or _MISSING)


def _describe_offsets(session: LabSession, group: str, snap: Any) -> list[str]:
    lines = _state_notice(group, _state(snap))
    committed = _committed(snap)
    rows: list[list[str]] = []
    seen: set[tuple[str, int]] = set()
    for m in _members(snap):
        tps = _assignment(m)
        cid, host, client = str(m.member_id), "/127.0.0.1", _client_id(m)
        if not tps:
            rows.append([group, _MISSING, _MISSING, _MISSING, _MISSING, _MISSING, cid, host, client])
        for t, part in tps:
            seen.add((t, part))
            rows.append(_offset_row(session, group, t, part, committed.get((t, part)), cid, host, client))
    for (t, part), off in sorted(committed.items()):
        if (t, part) not in seen:
            rows.append(_offset_row(session, group, t, part, off, _MISSING, _MISSING, _MISSING))
    if not rows:
        return lines
    widths = [
        max(15, *(len(r[0]) for r in rows)),
        max(15, *(len(r[1]) for r in rows)),
        10,
        15,
        15,
        15,
        max(15, *(len(r[6]) for r in rows)),
        max(15, *(len(r[7]) for r in rows)),
    ]
    head = [
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
    return [*lines, "", _fmt(widths, head), *(_fmt(widths, r) for r in rows)]


def _offset_row(
    session: LabSession,
    group: str,
    topic: str,
    partition: int,
    committed: int | None,
    cid: str,
    host: str,
    client: str,
) -> list[str]:
    end = _hw(session, topic, partition)
    has = committed is not None and committed >= 0
    lag = str(end - committed) if has and end is not None and committed is not None else _MISSING
    return [
        group,
        topic,
        str(partition),
        str(committed) if has else _MISSING,
        _MISSING if end is None else str(end),
        lag,
        cid,
        host,
        client,
    ]


def _verbose_assignment(tps: list[tuple[str, int]]) -> str:
    """ConsumerGroupCommand.printMembers: per topic the partition numbers "(0,1)", as strings, sorted."""
    if not tps:
        return _MISSING
    by_topic: dict[str, list[str]] = {}
    for t, p in tps:
        by_topic.setdefault(t, []).append(str(p))
    return ", ".join(sorted("(" + ",".join(sorted(ps)) + ")" for ps in by_topic.values()))


def _describe_members(group: str, snap: Any, verbose: bool) -> list[str]:
    lines = _state_notice(group, _state(snap))
    members = _members(snap)
    rows = []
    for m in members:
        rows.append(
            (
                group,
                str(m.member_id),
                str(getattr(m, "group_instance_id", None) or ""),
                "/127.0.0.1",
                _client_id(m),
                str(len(_assignment(m))),
                _verbose_assignment(_assignment(m)),
            )
        )
    with_instance = any(r[2] for r in rows)
    wg = max([15] + [len(r[0]) for r in rows])
    wc = max([15] + [len(r[1]) for r in rows])
    wi = max([17] + [len(r[2]) for r in rows])
    wh = max([15] + [len(r[3]) for r in rows])
    wl = max([15] + [len(r[4]) for r in rows])

    def line(g: str, c: str, i: str, h: str, cl: str, n: str, extra: str) -> str:
        cells = [f"{g:<{wg}}", f"{c:<{wc}}"] + ([f"{i:<{wi}}"] if with_instance else [])
        cells += [f"{h:<{wh}}", f"{cl:<{wl}}", f"{n:<15}"]
        return (" ".join(cells) + " " + (extra if verbose else "")).rstrip()

    out = [
        *lines,
        "",
        line("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"),
    ]
    out += [line(*r) for r in rows]
    return out


def _describe_state(group: str, snap: Any) -> list[str]:
    state = _state(snap)
    _state_notice(group, state)  # only Dead is an error here
    coord_id = getattr(snap, "coordinator", -1)
    coordinator = f"broker-{coord_id}:9092  ({coord_id})"
    strategy = str(getattr(snap, "protocol", None) or "")
    cw = max(25, len(coordinator))
    widths = [cw, 25, 20, 15]  # Java pads the GROUP column to the coordinator's width
    return [
        "",
        _fmt(widths, ["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]),
        _fmt(widths, [group, coordinator, strategy, state, str(len(_members(snap)))]),
    ]


_DURATION_RX = re.compile(
    r"(?P<sign>[-+]?)P(?:(?P<d>[-+]?\d+)D)?(?:T(?:(?P<h>[-+]?\d+)H)?(?:(?P<m>[-+]?\d+)M)?(?:(?P<s>[-+]?\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration_ms(text: str) -> int:
    """Java's ``Duration.parse`` (ISO-8601 PnDTnHnMnS) in milliseconds."""
    m = _DURATION_RX.fullmatch(text.strip())
    bad = f"Error parsing duration {text}: expected the ISO-8601 form PnDTnHnMnS, e.g. PT10M"
    if not m or text.upper().rstrip("T").endswith("P") or text.upper().endswith("T"):
        raise CommandError(bad)
    if not any(m.group(g) for g in ("d", "h", "m", "s")):
        raise CommandError(bad)
    total = (
        int(m.group("d") or 0) * 86_400_000
        + int(m.group("h") or 0) * 3_600_000
        + int(m.group("m") or 0) * 60_000
        + int(float(m.group("s") or 0) * 1000)
    )
    return -total if m.group("sign") == "-" else total


_DATETIME_RX = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:?\d{2})?")


def parse_datetime_ms(text: str) -> int:
    """Kafka's ``Utils.getDateTime`` ("yyyy-MM-dd'T'HH:mm:ss.SSS" with an optional zone) in epoch ms; the lab's
    clock starts at the epoch, and a time without a zone is taken as UTC."""
    if not _DATETIME_RX.fullmatch(text):
        raise CommandError(
            f"Error parsing timestamp. It does not contain a 'T' according to ISO8601 format: {text}"
            if "T" not in text
            else f'Unparseable date: "{text}"'
        )
    value = text.replace("Z", "+00:00")
    if not re.search(r"[+-]\d{2}:?\d{2}$", value):
        value += "+00:00"
    return int(datetime.fromisoformat(value).astimezone(UTC).timestamp() * 1000)


def _offset_for_time(session: LabSession, topic: str, partition: int, ts: int) -> int:
    """First offset with timestamp >= ts below the high watermark (ListOffsets by timestamp), else the HW."""
    cluster = session.cluster
    info = next((i for i in cluster.describe_topic(topic) if i.partition == partition), None)
    if info is None or info.leader < 0:
        raise CommandError(f"Error: the leader of {topic}-{partition} is not available")
    log = cluster.brokers[info.leader].partitions[(topic, partition)].log
    for b in log.iter_batches(log.log_start_offset):
        if b.base_offset >= log.high_watermark:
            break
        if b.max_timestamp >= ts:
            for off, rec in b.iter_records():
                if rec.timestamp_ms >= ts and off < log.high_watermark:
                    return int(off)
    return int(log.high_watermark)


def _list_groups(session: LabSession) -> list[str]:
    lister = getattr(session.cluster, "list_groups", None)
    return sorted(str(getattr(g, "group_id", g)) for g in (lister() if callable(lister) else []))


def _check_args(p: Parsed, action: str) -> None:
    """ConsumerGroupCommandOptions.checkArgs, with joptsimple's texts."""
    scope = ", ".join(f"[{o}]" for o in java_set_order(["group", "all-groups"]))
    if action == "describe":
        if not p.has("group") and not p.has("all-groups"):
            raise CommandError(f"Option [describe] takes one of these options: {scope}")
        if sum(p.has(o) for o in ("members", "offsets", "state")) > 1:
            raise CommandError(
                "Option [describe] takes at most one of these options: [members], [offsets], [state]"
            )
        if p.has("state") and p.values.get("state") is not True:
            raise CommandError("Option [describe] does not take a value for [state]")
    if action == "delete":
        if not p.has("group") and not p.has("all-groups"):
            raise CommandError(f"Option [delete] takes one of these options: {scope}")
        if p.has("topic"):
            raise CommandError(
                "The consumer does not support topic-specific offset deletion from a consumer group."
            )
    if action == "delete-offsets" and (not p.has("group") or not p.has("topic")):
        opts = ", ".join(f"[{o}]" for o in java_set_order(["group", "topic"]))
        raise CommandError(f"Option [delete-offsets] takes the following options: {opts}")
    if action == "reset-offsets":
        if p.has("dry-run") and p.has("execute"):
            raise CommandError("Option [reset-offsets] only accepts one of [execute] and [dry-run]")
        if not p.has("group") and not p.has("all-groups"):
            raise CommandError(f"Option [reset-offsets] takes one of these options: {scope}")
        for used in _SCENARIOS:
            if p.has(used):
                for other in java_set_order([s for s in _SCENARIOS if s != used]):
                    if p.has(other):
                        raise CommandError(f'Option "[{used}]" can\'t be used with option "[{other}]"')
    if p.has("group") and p.has("all-groups"):
        raise CommandError('Option "[group]" can\'t be used with option "[all-groups]"')
    if p.has("group") and action == "list":
        raise CommandError('Option "[group]" can\'t be used with option "[list]"')
    if p.has("topic") and action in ("list", "describe"):
        raise CommandError(f'Option "[topic]" can\'t be used with option "[{action}]"')
    if p.has("verbose") and not (action == "describe" and p.has("members")):
        raise CommandError('Option "[verbose]" can only be used with options "[describe]" and "[members]"')


def kafka_consumer_groups(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _GROUPS_OPTS)
    actions = ["list", "describe", "delete", "reset-offsets", "delete-offsets"]
    action = _exactly_one_action(
        p, actions, "Command must include exactly one action: " + ", ".join(f"--{a}" for a in actions)
    )
    _check_args(p, action)
    cluster = session.cluster
    require_a_running_broker(
        cluster,
        "Error: Executing consumer group command failed due to ",
        "listConsumerGroups" if action == "list" else "describeConsumerGroups",
    )
    if not groups_available(cluster):
        raise CommandError(GROUPS_UNAVAILABLE)
    groups = p.get_list("group")
    if action == "list":
        return _list_plan(session, p)
    if action == "describe":

        def describe() -> list[str]:
            names = _list_groups(session) if p.has("all-groups") else groups
            lines: list[str] = []
            for g in names:
                snap = _snapshot(session.cluster, g)
                if p.has("members"):
                    lines += _describe_members(g, snap, p.has("verbose"))
                elif p.has("state"):
                    lines += _describe_state(g, snap)
                else:
                    lines += _describe_offsets(session, g, snap)
            return lines

        return Plan(describe)
    if action == "delete":
        return _delete_plan(session, _list_groups(session) if p.has("all-groups") else groups)
    if action == "delete-offsets":
        return _delete_offsets_plan(session, groups, p.get_list("topic"))
    return _reset_plan(session, p, groups)


def _list_plan(session: LabSession, p: Parsed) -> Plan:
    state_filter = p.get_str("state")
    wanted: set[str] | None = None
    if state_filter:
        wanted = set()
        for s in state_filter.split(","):
            match = next(
                (x for x in [*_STATES, "Assigning", "Reconciling"] if x.lower() == s.strip().lower()), None
            )
            if match is None:
                raise CommandError(
                    f"Invalid state list '{state_filter}'. Valid states are: "
                    + ", ".join(["Unknown", *_STATES, "Assigning", "Reconciling"])
                )
            wanted.add(match)

    def listing() -> list[str]:
        names = _list_groups(session)
        if not p.has("state"):
            return names
        rows = []
        for g in names:
            st = _state(_snapshot(session.cluster, g))
            if wanted is None or st in wanted:
                rows.append([g, st])
        width = max([15] + [len(r[0]) for r in rows]) + 10
        return [_fmt([width], ["GROUP", "STATE"]), *(_fmt([width], r) for r in rows)]

    return Plan(listing)


def _delete_plan(session: LabSession, groups: list[str]) -> Plan:
    def delete() -> list[str]:
        ok: list[str] = []
        failed: list[tuple[str, str]] = []
        for g in groups:
            err = session.cluster.delete_group(g)
            if err == "NO_ERROR":
                ok.append(g)
            elif err == "NON_EMPTY_GROUP":
                failed.append(
                    (g, "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.")
                )
            elif err == "GROUP_ID_NOT_FOUND":
                failed.append(
                    (
                        g,
                        "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.",
                    )
                )
            else:
                failed.append((g, f"org.apache.kafka.common.KafkaException: {err}"))
        if not failed:
            return [f"Deletion of requested consumer groups ('{', '.join(ok)}') was successful."]
        lines = ["", "Error: Deletion of some consumer groups failed:"]
        lines += [
            f"* Group '{g}' could not be deleted due to: java.util.concurrent.ExecutionException: {why}"
            for g, why in failed
        ]
        if ok:
            lines += ["", f"These consumer groups were deleted successfully: '{', '.join(ok)}'"]
        return lines

    return Plan(delete, records=True)


def _topic_partitions(
    session: LabSession, specs: list[str], allow_unknown: bool = False
) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    cluster = session.cluster
    for spec in specs:
        t, _, plist = spec.partition(":")
        if t not in cluster.topics():
            if allow_unknown:
                out.append((t, -1))
                continue
            raise CommandError(f"Error: topic '{t}' does not exist")
        n = len(cluster.describe_topic(t))
        if plist:
            for x in plist.split(","):
                try:
                    part = int(x)
                except ValueError:
                    raise CommandError(f"Error: invalid partition '{x}' in --topic {spec}") from None
                if not 0 <= part < n:
                    raise CommandError(f"Error: topic {t} has no partition {part}")
                out.append((t, part))
        else:
            out.extend((t, i) for i in range(n))
    return out


def _delete_offsets_plan(session: LabSession, groups: list[str], topics: list[str]) -> Plan:
    if len(groups) != 1:
        raise CommandError('Option "[group]" can be given only once with [delete-offsets]')
    group = groups[0]
    targets = _topic_partitions(session, topics, allow_unknown=True)
    names = sorted({t for t, _ in targets})

    def delete() -> list[str]:
        known = [(t, p) for t, p in targets if p >= 0]
        top, per = session.cluster.delete_group_offsets(group, known) if known else ("NO_ERROR", {})
        results: dict[tuple[str, int], str] = {
            (t, p): "UNKNOWN_TOPIC_OR_PARTITION" for t, p in targets if p < 0
        }
        results.update(per)
        if top == "GROUP_ID_NOT_FOUND":
            return ["", f"Error: '{group}' does not exist."]
        lines: list[str] = []
        if top == "NO_ERROR" and all(e == "NO_ERROR" for e in results.values()):
            lines.append(f"Request succeed for deleting offsets with topic {', '.join(names)} group {group}")
        else:
            lines += ["", "Error: Encounter some partition level error, see the follow-up details:"]
        texts = {
            "GROUP_SUBSCRIBED_TO_TOPIC": "Deleting offsets of a topic is forbidden while the consumer group is "
            "actively subscribed to it.",
            "UNKNOWN_TOPIC_OR_PARTITION": "This server does not host this topic-partition.",
        }
        widths = [30, 15]
        lines += ["", _fmt(widths, ["TOPIC", "PARTITION", "STATUS"])]
        for (t, part), err in sorted(results.items(), key=lambda kv: kv[0][0] + str(kv[0][1])):
            status = "Successful" if err == "NO_ERROR" else f"Error: :{texts.get(err, err)}"
            lines.append(_fmt(widths, [t, str(part) if part >= 0 else "Not Provided", status]))
        return lines

    return Plan(delete, records=True)


_NO_EXECUTE_WARNING = (
    "WARN: No action will be performed as the --execute option is missing.In a future major release, the default "
    "behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. "
    "You should add the --dry-run option explicitly if you are scripting this command and want to keep the current "
    "default behavior without prompting."
)


def _reset_plan_from_file(
    session: LabSession, p: Parsed, groups: list[str]
) -> dict[str, dict[tuple[str, int], int]]:
    """ConsumerGroupService.parseResetPlan: "topic,partition,offset" lines when one group is named and the
    first line has three fields, else "group,topic,partition,offset" lines."""
    name = p.get_str("from-file") or ""
    path = Path(name)
    if not path.is_absolute():
        path = Path(session.cluster.data_dir) / "files" / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CommandError(
            f"Error: Executing consumer group command failed due to java.nio.file.NoSuchFileException: {name} "
            f"({e.strerror}; a relative path is in the lab's files directory, where echo ... >> {name} writes)"
        ) from None
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    single = len(groups) == 1 and not p.has("all-groups") and bool(lines) and len(lines[0].split(",")) == 3
    plan: dict[str, dict[tuple[str, int], int]] = {}
    cluster = session.cluster
    for line in lines:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != (3 if single else 4):
            want = "topic,partition,offset" if single else "group,topic,partition,offset"
            raise CommandError(
                f"Error: Executing consumer group command failed due to the line '{line}' of {name} is not {want}"
            )
        group, rest = (groups[0], fields) if single else (fields[0], fields[1:])
        topic, part_s, off_s = rest
        try:
            part, off = int(part_s), int(off_s)
        except ValueError:
            raise CommandError(
                f"Error: Executing consumer group command failed due to the line '{line}' of {name}: partition "
                "and offset must be numbers"
            ) from None
        if topic not in cluster.topics() or not 0 <= part < len(cluster.describe_topic(topic)):
            raise CommandError(
                "Error: Executing consumer group command failed due to "
                "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this "
                f"topic-partition. ({topic}-{part})"
            )
        plan.setdefault(group, {})[(topic, part)] = off
    return plan


def _reset_plan(session: LabSession, p: Parsed, groups: list[str]) -> Plan:
    cluster = session.cluster
    scenarios = [s for s in _SCENARIOS if p.has(s)]
    if not scenarios:
        options = ", ".join(f"[{o}]" for o in java_set_order(_SCENARIOS))
        raise CommandError(f"Option '[reset-offsets]' requires one of the following scenarios: [{options}]")
    scenario = scenarios[0]
    from_file = _reset_plan_from_file(session, p, groups) if scenario == "from-file" else None
    if not p.has("topic") and not p.has("all-topics") and from_file is None:
        raise CommandError("One of the reset scopes should be defined: --all-topics, --topic.")
    if p.has("topic") and p.has("all-topics"):
        raise CommandError('Option "[all-topics]" can\'t be used with option "[topic]"')
    targets_by_group: list[str] = _list_groups(session) if p.has("all-groups") else groups
    duration = parse_duration_ms(p.get_str("by-duration") or "") if scenario == "by-duration" else 0
    at_ms = parse_datetime_ms(p.get_str("to-datetime") or "") if scenario == "to-datetime" else 0
    scope = _topic_partitions(session, p.get_list("topic"))
    warnings: list[str] = []
    plan: dict[str, dict[tuple[str, int], int]] = {}
    for group in targets_by_group:
        snap = _snapshot(cluster, group)
        state = _state(snap)
        if snap is not None and state not in ("Empty", "Dead"):
            raise CommandError(
                f"Error: Assignments can only be reset if the group '{group}' is inactive, but the current state is "
                f"{state}."
            )
        committed = _committed(snap) if snap is not None else {}
        targets = sorted(committed) if p.has("all-topics") else sorted(set(scope))
        new: dict[tuple[str, int], int] = {}
        if from_file is not None:
            if group not in from_file:
                warnings.append(f"Error: No reset plan for group {group} found")
            targets = sorted(from_file.get(group, {}))
        for t, part in targets:
            info = next(i for i in cluster.describe_topic(t) if i.partition == part)
            if info.leader < 0 or info.high_watermark < 0:
                raise CommandError(f"Error: the leader of {t}-{part} is not available")
            lo, hi = info.log_start_offset, info.high_watermark
            if scenario == "to-earliest":
                off = lo
            elif scenario == "to-latest":
                off = hi
            elif scenario == "to-current":
                off = committed.get((t, part), hi)
            elif scenario == "to-offset":
                off = int(p.get_int("to-offset") or 0)
            elif scenario == "shift-by":
                if (t, part) not in committed:
                    raise CommandError(
                        "Error: Executing consumer group command failed due to Cannot shift offset for partition "
                        f"{t}-{part} since there is no current committed offset"
                    )
                off = committed[(t, part)] + int(p.get_int("shift-by") or 0)
            elif scenario == "to-datetime":
                off = _offset_for_time(session, t, part, at_ms)
            elif from_file is not None:
                off = from_file[group][(t, part)]
            else:
                off = _offset_for_time(session, t, part, cluster.now_ms - duration)
            if off > hi:
                warnings.append(
                    f"New offset ({off}) is higher than latest offset for topic partition {t}-{part}. "
                    f"Value will be set to {hi}"
                )
                off = hi
            elif off < lo:
                warnings.append(
                    f"New offset ({off}) is lower than earliest offset for topic partition {t}-{part}. "
                    f"Value will be set to {lo}"
                )
                off = lo
            new[(t, part)] = off
        plan[group] = new
    widths = [30, 30, 10]
    table = [""]
    if p.has("export"):
        single = len(groups) == 1 and not p.has("all-groups")
        table = [
            f"{t},{part},{off}" if single else f"{group},{t},{part},{off}"
            for group, new in plan.items()
            for (t, part), off in sorted(new.items())
        ]
    elif any(plan.values()):
        table.append(_fmt(widths, ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]))
        for group, new in plan.items():
            table += [_fmt(widths, [group, t, str(part), str(off)]) for (t, part), off in sorted(new.items())]
    pre = [] if p.has("execute") or p.has("dry-run") else [_NO_EXECUTE_WARNING]
    if not p.has("execute"):
        return Plan(lambda: [*pre, *warnings, *table])

    def do_reset() -> list[str]:
        for group, new in plan.items():
            session.cluster.reset_offsets(group, dict(new))
        return [*warnings, *table]

    return Plan(do_reset, records=True)
