"""``kafka-consumer-groups`` (Kafka's ConsumerGroupCommand)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...sim.clients.common import TopicPartition
from ..base import GROUPS_UNAVAILABLE, Plan, groups_available, require_a_running_broker
from ..parsing import CommandError, Opt, Parsed, parse_options
from .common import _exactly_one_action

if TYPE_CHECKING:
    from ..session import LabSession


_GROUPS_OPTS = [
    Opt("bootstrap-server", "str", help="the Kafka server to connect to (accepted and ignored in the lab)"),
    Opt("list", help="list all consumer groups"),
    Opt("describe", help="describe a consumer group: offsets and lag per partition"),
    Opt("delete", help="delete a group (not supported in the lab)"),
    Opt("reset-offsets", help="reset the committed offsets of an inactive group"),
    Opt("delete-offsets", help="delete offsets (not supported in the lab)"),
    Opt("group", "str", multi=True, help="the consumer group"),
    Opt("all-groups", help="apply to all groups"),
    Opt("topic", "str", multi=True, help="with --reset-offsets: T or T:0,1"),
    Opt("all-topics", help="with --reset-offsets: every topic the group has offsets for"),
    Opt("to-earliest", help="reset to the earliest offset"),
    Opt("to-latest", help="reset to the latest offset (the high watermark)"),
    Opt("to-current", help="reset to the current committed offset"),
    Opt("to-offset", "int", help="reset to this offset"),
    Opt("shift-by", "int", help="move the committed offset by N (may be negative)"),
    Opt("by-duration", "str", help="reset to the offset of records written PnDTnHnMnS ago"),
    Opt("to-datetime", "str", help="(not supported in the lab; use --by-duration)"),
    Opt("dry-run", help="only show the result"),
    Opt("execute", help="really reset the offsets"),
    Opt("members", help="with --describe: list the members"),
    Opt("offsets", help="with --describe: list offsets and lag (default)"),
    Opt("state", "optional", help="with --describe: show the group's state; with --list: filter by state"),
    Opt("verbose", help="more detail"),
]

_SCENARIOS = ["to-datetime", "by-duration", "to-earliest", "to-latest", "shift-by", "to-current", "to-offset"]


def _snapshot(cluster: Any, group: str) -> Any:
    try:
        return cluster.describe_group(group)
    except Exception:
        return None


def _members(snap: Any) -> list[Any]:
    return list(getattr(snap, "members", ()) or ())


def _member_field(m: Any, *names: str, default: str = "-") -> str:
    for n in names:
        v = getattr(m, n, None)
        if v:
            return str(v)
    return default


def _assignment(m: Any) -> list[tuple[str, int]]:
    raw = getattr(m, "assignment", None) or ()
    out: list[tuple[str, int]] = []
    for tp in raw:
        if isinstance(tp, TopicPartition):
            out.append((tp.topic, tp.partition))
        else:
            t, p = tp
            out.append((str(t), int(p)))
    return sorted(out)


def _committed(snap: Any) -> dict[tuple[str, int], int]:
    raw = getattr(snap, "offsets", None) or {}
    out: dict[tuple[str, int], int] = {}
    for k, v in dict(raw).items():
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


def _table(rows: list[list[str]], widths: list[int]) -> list[str]:
    out = []
    for r in rows:
        cells = [f"{c:<{w}}" for c, w in zip(r[:-1], widths, strict=False)] + [r[-1]]
        out.append(" ".join(cells).rstrip())
    return out


def _describe_group_lines(session: LabSession, group: str, p: Parsed) -> list[str]:
    snap = _snapshot(session.cluster, group)
    state = _state(snap)
    if snap is None or state == "Dead":
        raise CommandError(f"Error: Consumer group '{group}' does not exist.")
    lines: list[str] = []
    members = _members(snap)
    if p.has("state") and not p.has("members"):
        coord_id = getattr(snap, "coordinator", -1)
        coordinator = f"broker-{coord_id}:9092  ({coord_id})"
        strategy = str(getattr(snap, "protocol", None) or "-")
        cw = max(25, len(coordinator))
        gw = max(15, len(group))
        rows = [
            ["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
            [group, coordinator, strategy, state, str(len(members))],
        ]
        return ["", *_table(rows, [gw, cw, 20, 20])]
    if state == "Empty":
        lines.append(f"Consumer group '{group}' has no active members.")
    elif state in ("PreparingRebalance", "CompletingRebalance"):
        lines.append(f"Warning: Consumer group '{group}' is rebalancing.")
    if p.has("members"):
        rows = [["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]]
        for m in members:
            rows.append(
                [
                    group,
                    _member_field(m, "member_id", "consumer_id"),
                    _member_field(m, "host", default="/127.0.0.1"),
                    _member_field(m, "client_id"),
                    str(len(_assignment(m))),
                ]
            )
        widths = [max(15, *(len(r[i]) for r in rows)) for i in range(4)]
        return [*lines, "", *_table(rows, widths)]
    committed = _committed(snap)
    data: list[list[str]] = []
    seen: set[tuple[str, int]] = set()
    for m in members:
        tps = _assignment(m)
        cid = _member_field(m, "member_id", "consumer_id")
        host = _member_field(m, "host", default="/127.0.0.1")
        client = _member_field(m, "client_id")
        if not tps:
            data.append([group, "-", "-", "-", "-", "-", cid, host, client])
        for t, part in tps:
            seen.add((t, part))
            data.append(_offset_row(session, group, t, part, committed.get((t, part)), cid, host, client))
    for (t, part), off in sorted(committed.items()):
        if (t, part) not in seen:
            data.append(_offset_row(session, group, t, part, off, "-", "-", "-"))
    if not data:
        return lines
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
    gw = max(15, *(len(r[0]) for r in data)) if data else 15
    tw = max(15, *(len(r[1]) for r in data)) if data else 15
    cw = max(15, *(len(r[6]) for r in data)) if data else 15
    hw = max(15, *(len(r[7]) for r in data)) if data else 15
    return [*lines, "", *_table([head, *data], [gw, tw, 10, 15, 15, 15, cw, hw])]


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
    lag = "-" if committed is None or committed < 0 or end is None else str(end - committed)
    return [
        group,
        topic,
        str(partition),
        "-" if committed is None or committed < 0 else str(committed),
        "-" if end is None else str(end),
        lag,
        cid,
        host,
        client,
    ]


_DURATION_RX = re.compile(
    r"(?P<sign>[-+]?)P(?:(?P<d>[-+]?\d+)D)?(?:T(?:(?P<h>[-+]?\d+)H)?(?:(?P<m>[-+]?\d+)M)?(?:(?P<s>[-+]?\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration_ms(text: str) -> int:
    """Java's ``Duration.parse`` (ISO-8601 PnDTnHnMnS) in milliseconds."""
    m = _DURATION_RX.fullmatch(text.strip())
    if not m or text.upper().rstrip("T").endswith("P") or text.upper().endswith("T"):
        raise CommandError(
            f"Error parsing duration {text}: expected the ISO-8601 form PnDTnHnMnS, e.g. PT10M"
        )
    if not any(m.group(g) for g in ("d", "h", "m", "s")):
        raise CommandError(
            f"Error parsing duration {text}: expected the ISO-8601 form PnDTnHnMnS, e.g. PT10M"
        )
    total = (
        int(m.group("d") or 0) * 86_400_000
        + int(m.group("h") or 0) * 3_600_000
        + int(m.group("m") or 0) * 60_000
        + int(float(m.group("s") or 0) * 1000)
    )
    return -total if m.group("sign") == "-" else total


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


def kafka_consumer_groups(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, _GROUPS_OPTS)
    actions = ["list", "describe", "delete", "reset-offsets", "delete-offsets"]
    action = _exactly_one_action(
        p, actions, "Command must include exactly one action: " + ", ".join(f"--{a}" for a in actions)
    )
    cluster = session.cluster
    if action in ("delete", "delete-offsets"):
        raise CommandError(f"--{action} is not supported by this lab")
    require_a_running_broker(
        cluster,
        "Error: Executing consumer group command failed due to ",
        "listConsumerGroups" if action == "list" else "describeConsumerGroups",
    )
    if not groups_available(cluster):
        raise CommandError(GROUPS_UNAVAILABLE)
    groups = p.get_list("group")
    if action == "list":

        def listing() -> list[str]:
            lister = getattr(session.cluster, "list_groups", None)
            names = [str(getattr(g, "group_id", g)) for g in (lister() if callable(lister) else [])]
            state_filter = p.get_str("state")
            if not p.has("state"):
                return sorted(names)
            wanted = {s.strip().lower() for s in state_filter.split(",")} if state_filter else None
            rows = [["GROUP", "STATE"]]
            for g in sorted(names):
                st = _state(_snapshot(session.cluster, g))
                if wanted is None or st.lower() in wanted:
                    rows.append([g, st])
            width = max(15, *(len(r[0]) for r in rows)) + 10
            return _table(rows, [width])

        return Plan(listing)

    if not groups and not p.has("all-groups"):
        raise CommandError('Missing required argument "[group]"')

    if action == "describe":

        def describe() -> list[str]:
            names = groups
            if p.has("all-groups"):
                lister = getattr(session.cluster, "list_groups", None)
                names = sorted(str(getattr(g, "group_id", g)) for g in (lister() if callable(lister) else []))
            lines: list[str] = []
            for g in names:
                lines.extend(_describe_group_lines(session, g, p))
            return lines

        return Plan(describe)

    # reset-offsets
    scenarios = [s for s in _SCENARIOS if p.has(s)]
    if len(scenarios) != 1:
        raise CommandError(
            "Option [reset-offsets] takes exactly one of these options: "
            + ", ".join(f"[{s}]" for s in _SCENARIOS)
        )
    scenario = scenarios[0]
    if p.has("topic") == p.has("all-topics"):
        raise CommandError("Option [reset-offsets] takes one of these options: [all-topics], [topic]")
    if p.has("dry-run") and p.has("execute"):
        raise CommandError("Option [reset-offsets] only accepts one of [execute], [dry-run]")
    if scenario == "to-datetime":
        raise CommandError(
            "--to-datetime is not supported by this lab (virtual time has no calendar); use --by-duration"
        )
    if len(groups) != 1 or p.has("all-groups"):
        raise CommandError("this lab resets the offsets of one --group at a time")
    group = groups[0]
    duration = parse_duration_ms(p.get_str("by-duration") or "") if scenario == "by-duration" else 0
    # scope
    targets: list[tuple[str, int]] = []
    for spec in p.get_list("topic"):
        t, _, plist = spec.partition(":")
        if t not in cluster.topics():
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
                targets.append((t, part))
        else:
            targets.extend((t, i) for i in range(n))
    snap = _snapshot(cluster, group)
    state = _state(snap)
    if snap is not None and state not in ("Empty", "Dead"):
        raise CommandError(
            f"Error: Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
        )
    committed = _committed(snap) if snap is not None else {}
    if p.has("all-topics"):
        targets = sorted(committed)
    warnings: list[str] = []
    new: dict[tuple[str, int], int] = {}
    for t, part in sorted(set(targets)):
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
                    f"Error: group '{group}' has no committed offset for {t}-{part} to shift from"
                )
            off = committed[(t, part)] + int(p.get_int("shift-by") or 0)
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
    rows = [["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]]
    rows += [[group, t, str(part), str(off)] for (t, part), off in sorted(new.items())]
    gw = max(15, len(group))
    tw = max(15, *(len(t) for t, _ in new)) if new else 15
    table = ["", *_table(rows, [gw, tw, 10])] if new else []
    execute = p.has("execute")
    pre = (
        []
        if execute or p.has("dry-run")
        else [
            "WARN: No action will be performed as the --execute option is missing. In a future major release, the "
            "default behavior of this command will be to prompt the user before executing the reset rather than doing "
            "a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to "
            "keep the current default behavior without prompting."
        ]
    )
    if not execute:
        return Plan(lambda: [*pre, *warnings, *table])

    def do_reset() -> list[str]:
        session.cluster.reset_offsets(group, dict(new))
        return [*warnings, *table]

    return Plan(do_reset, records=True)
