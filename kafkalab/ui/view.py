"""Read-only snapshots of a lab session, built once per refresh and handed down to the widgets.

Widgets never touch the simulation: the app builds a :class:`LabView` from the session (``build_view``) and
sets it on its ``view`` reactive; every panel is data-bound to that attribute and renders from it alone.
Optional parts of the simulation (consumer groups, last stable offset) are read with ``getattr`` so the
view shows them as soon as the simulation offers them, and shows nothing (never made-up data) before.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..timeline_text import is_internal, natural_key

__all__ = [
    "BrokerView",
    "GroupMemberView",
    "GroupView",
    "LabView",
    "LogRecordView",
    "LogView",
    "PartitionView",
    "ProducerView",
    "ReplicaView",
    "build_view",
]

#: how many offsets the log strip shows at most (the newest ones)
LOG_WINDOW = 48
#: how many timeline entries a view carries
TIMELINE_TAIL = 200


@dataclass(frozen=True)
class BrokerView:
    broker_id: int
    state: str  # up / down / paused
    fenced: bool
    partitions_led: int


class PartitionView(NamedTuple):
    """One partition as the topics table shows it (a NamedTuple: a snapshot builds 1,000 of them 12 times a
    second, and a frozen dataclass takes several times longer to build)."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader_epoch: int
    high_watermark: int
    log_end_offset: int
    log_start_offset: int
    under_replicated: bool
    offline: bool
    #: the leader's process is running (False between a kill and the controller noticing it)
    leader_alive: bool = True

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True)
class LogRecordView:
    offset: int
    key: str | None
    value: str | None


@dataclass(frozen=True)
class ReplicaView:
    broker_id: int
    log_end_offset: int | None  # None: broker down
    in_isr: bool
    is_leader: bool


@dataclass(frozen=True)
class LogView:
    """The selected partition's log as the leader holds it, plus every replica's LEO."""

    topic: str
    partition: int
    leader: int
    leader_epoch: int
    log_start_offset: int
    high_watermark: int
    log_end_offset: int
    last_stable_offset: int | None
    records: tuple[LogRecordView, ...]
    replicas: tuple[ReplicaView, ...]
    #: (group id, committed offset) of every group that committed an offset for this partition
    committed: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class GroupMemberView:
    member_id: str
    client_id: str
    partitions: tuple[str, ...]


@dataclass(frozen=True)
class GroupView:
    group_id: str
    state: str
    generation: int | None
    assignor: str
    members: tuple[GroupMemberView, ...]
    #: (partition name, committed offset or None, lag or None)
    offsets: tuple[tuple[str, int | None, int | None], ...]
    #: member id of the group leader (the member that computes the assignment)
    leader: str = ""

    @property
    def total_lag(self) -> int | None:
        lags = [lag for _, _, lag in self.offsets if lag is not None]
        return sum(lags) if lags else None


@dataclass(frozen=True)
class ProducerView:
    name: str
    acks: str
    idempotent: bool
    linger_ms: int
    in_flight: int
    acked: int
    failed: int
    #: (time_ms, "topic-p", error name), newest last
    errors: tuple[tuple[int, str, str], ...]
    #: an outside client's address (``sandbox --listen``); its linger.ms is unknown to the lab
    outside: str = ""


@dataclass(frozen=True)
class LabView:
    """Everything the lab screen shows, at one instant of virtual time."""

    session_id: int
    seed: int
    now_ms: int
    events: int
    speed: float
    playing: bool
    behind: bool
    brokers: tuple[BrokerView, ...]
    controller_id: int | None
    controllers: tuple[tuple[int, str], ...]
    network_cuts: tuple[tuple[str, str], ...]
    partitions: tuple[PartitionView, ...]
    #: (name, partition count) of internal topics such as __consumer_offsets (not in ``partitions``)
    internal_topics: tuple[tuple[str, int], ...]
    selected: tuple[str, int] | None
    log: LogView | None
    groups: tuple[GroupView, ...] | None  # None: the simulation has no consumer groups yet
    producers: tuple[ProducerView, ...]
    timeline_len: int
    #: (index in cluster.timeline of the entry's last line, time ms, text), internal-topic runs merged
    timeline: tuple[tuple[int, int, str], ...] = field(default=())
    #: whether ``timeline`` includes the entries about internal topics
    timeline_internal: bool = False
    last_event: str = ""
    input_mode: str | None = None
    #: what the status bar says about time instead of play/pause ('' normally; a lesson's time model)
    clock: str = ""


_INTERNAL_PARTITION = re.compile(r"\b(__[A-Za-z_]+)-(\d+)\b")
#: how far back a view looks for entries to show when internal-topic entries are hidden
TIMELINE_SCAN = 20 * TIMELINE_TAIL


def _merged(text: str, n: int) -> str:
    """``partition __consumer_offsets-7: …`` said of ``n`` partitions at once."""

    def repl(m: re.Match[str]) -> str:
        return f"{n} partitions of {m.group(1)}"

    if text.startswith("partition "):  # "partition __x-7: Isr …" → "7 partitions of __x: Isr …"
        return _INTERNAL_PARTITION.sub(repl, text[len("partition ") :], count=1)
    return _INTERNAL_PARTITION.sub(repl, text, count=1)


def summarize_timeline(
    timeline: list[Any], start: int, *, internal: bool = True, limit: int | None = None
) -> tuple[tuple[int, int, str], ...]:
    """Entries from ``start`` on, with same-millisecond lines about internal topics merged.

    Creating ``__consumer_offsets`` makes 50 partitions elect leaders at once; those become one line per
    broker: ``broker 3 became leader of 17 partitions of __consumer_offsets (epoch 0)``. With
    ``internal=False`` entries about internal topics are left out (the lab folds them by default); then
    ``limit`` keeps the newest that many.
    """
    if not internal:
        picked: list[tuple[int, int, str]] = []
        for idx in range(len(timeline) - 1, start - 1, -1):
            entry = timeline[idx]
            # the sim says what an entry is about (``TimelineEntry.internal``); older objects: by their text
            internal = entry.internal if hasattr(entry, "internal") else is_internal(entry.text)
            if not internal:
                picked.append((idx, entry.time_ms, entry.text))
                if limit is not None and len(picked) >= limit:
                    break
        return tuple(reversed(picked))
    out: list[tuple[int, int, str]] = []
    groups: dict[str, list[int]] = {}  # merged text -> [slot in out, count]
    current_ms: int | None = None
    for idx in range(start, len(timeline)):
        entry = timeline[idx]
        if entry.time_ms != current_ms:
            current_ms = entry.time_ms
            groups = {}
        if not _INTERNAL_PARTITION.search(entry.text):
            out.append((idx, entry.time_ms, entry.text))
            continue
        key = _INTERNAL_PARTITION.sub(r"\1", entry.text)
        slot = groups.get(key)
        if slot is None:
            groups[key] = [len(out), 1]
            out.append((idx, entry.time_ms, entry.text))
            continue
        slot[1] += 1
        out[slot[0]] = (idx, entry.time_ms, _merged(entry.text, slot[1]))
    return tuple(out)


def _text(b: bytes | str | None, limit: int = 40) -> str | None:
    if b is None:
        return None
    s = b.decode("utf-8", "replace") if isinstance(b, bytes | bytearray) else str(b)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _acks(acks: Any) -> str:
    return "all" if acks in (-1, "all", "-1") else str(acks)


def _first_attr(obj: Any, names: Iterable[str], default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        v = getattr(obj, n, None)
        if v is not None:
            return v
    return default


def _tp_name(tp: Any) -> str:
    if isinstance(tp, tuple) and len(tp) >= 2:
        return f"{tp[0]}-{tp[1]}"
    topic = getattr(tp, "topic", None)
    part = getattr(tp, "partition", None)
    if topic is not None and part is not None:
        return f"{topic}-{part}"
    return str(tp)


def _group_view(group_id: str, desc: Any) -> GroupView:
    members = []
    for m in _first_attr(desc, ("members",), ()) or ():
        parts = _first_attr(m, ("assignment", "partitions", "assigned"), ()) or ()
        members.append(
            GroupMemberView(
                str(_first_attr(m, ("member_id", "id"), "?")),
                str(_first_attr(m, ("client_id", "client"), "")),
                tuple(sorted((_tp_name(tp) for tp in parts), key=natural_key)),
            )
        )
    offsets: dict[str, tuple[int | None, int | None]] = {}
    raw = _first_attr(desc, ("offsets", "committed"), None)
    lags = getattr(desc, "lag", None)
    lag_map = {_tp_name(tp): v for tp, v in lags.items()} if isinstance(lags, dict) else {}
    items: Iterable[Any] = list(raw.items()) if isinstance(raw, dict) else list(raw or ())
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            tp, v = item
            committed = (
                v if isinstance(v, int) else _first_attr(v, ("committed", "offset", "committed_offset"), None)
            )
            lag = None if isinstance(v, int) else _first_attr(v, ("lag",), None)
        else:
            tp = item
            committed = _first_attr(item, ("committed", "committed_offset", "offset"), None)
            lag = _first_attr(item, ("lag",), None)
        name = _tp_name(tp)
        if lag is None:
            lag = lag_map.get(name)
        offsets[name] = (
            committed if isinstance(committed, int) else None,
            lag if isinstance(lag, int) else None,
        )
    for name, lag in lag_map.items():  # assigned partitions without a committed offset yet
        if name not in offsets and isinstance(lag, int):
            offsets[name] = (None, lag)
    gen = _first_attr(desc, ("generation", "generation_id"), None)
    return GroupView(
        group_id=str(_first_attr(desc, ("group_id",), group_id)),
        state=str(_first_attr(desc, ("state",), "?")),
        generation=gen if isinstance(gen, int) else None,
        assignor=str(_first_attr(desc, ("assignor", "protocol", "protocol_name"), "") or ""),
        leader=str(_first_attr(desc, ("leader",), "") or ""),
        members=tuple(members),
        offsets=tuple(
            (name, c, lag) for name, (c, lag) in sorted(offsets.items(), key=lambda kv: natural_key(kv[0]))
        ),
    )


def _groups(cluster: Any) -> tuple[GroupView, ...] | None:
    describe = getattr(cluster, "describe_group", None)
    list_groups = getattr(cluster, "list_groups", None)
    if describe is None or list_groups is None:
        return None
    out = []
    try:
        for g in list_groups():
            gid = g if isinstance(g, str) else _first_attr(g, ("group_id", "id"), str(g))
            out.append(_group_view(gid, describe(gid)))
    except Exception:  # a half-built feature must not take the screen down
        return tuple(out)
    return tuple(out)


def _producers(cluster: Any) -> tuple[ProducerView, ...]:
    out = []
    for c in getattr(cluster, "clients", ()):
        if not hasattr(c, "in_flight_batches") or not hasattr(c, "acks"):
            continue
        out.append(
            ProducerView(
                name=str(getattr(c, "name", "producer")),
                acks=_acks(c.acks),
                idempotent=bool(getattr(c, "idempotent", False)),
                linger_ms=int(getattr(c, "linger_ms", 0) or 0),
                in_flight=len(c.in_flight_batches()),
                acked=int(getattr(c, "acked_records", 0)),
                failed=int(getattr(c, "failed_records", 0)),
                errors=tuple(tuple(e) for e in list(getattr(c, "errors", ()))[-5:]),  # type: ignore[misc]
                outside=str(getattr(c, "peer", "")) if getattr(c, "outside", False) else "",
            )
        )
    return tuple(out)


def _log_view(cluster: Any, p: PartitionView, groups: tuple[GroupView, ...] | None) -> LogView:
    key = (p.topic, p.partition)
    src = None
    leader = cluster.brokers.get(p.leader) if p.leader >= 0 else None
    if leader is not None and leader.alive:
        src = leader.partitions.get(key)
    if src is None:  # no live leader: show the most complete live replica so the data stays visible
        for r in p.replicas:
            b = cluster.brokers.get(r)
            cand = b.partitions.get(key) if b is not None and b.alive else None
            if cand is not None and (src is None or cand.log.log_end_offset > src.log.log_end_offset):
                src = cand
    records: list[LogRecordView] = []
    start = hw = leo = 0
    lso = None
    if src is not None:
        log = src.log
        start, hw, leo = log.log_start_offset, log.high_watermark, log.log_end_offset
        lso = _first_attr(src, ("last_stable_offset", "lso"), None)
        if lso is None:
            lso = _first_attr(log, ("last_stable_offset", "lso"), None)
        if callable(lso):
            try:
                lso = lso()
            except Exception:
                lso = None
        first = max(start, leo - LOG_WINDOW)
        try:
            for batch in log.iter_batches(first):
                for off, rec in batch.iter_records():
                    if off >= first:
                        records.append(LogRecordView(off, _text(rec.key), _text(rec.value)))
        except Exception:
            records = []
    replicas = []
    for r in p.replicas:
        b = cluster.brokers.get(r)
        part = b.partitions.get(key) if b is not None and b.alive else None
        replicas.append(
            ReplicaView(r, part.log.log_end_offset if part is not None else None, r in p.isr, r == p.leader)
        )
    committed: list[tuple[str, int]] = []
    for g in groups or ():
        for name, off, _lag in g.offsets:
            if name == p.name and off is not None:
                committed.append((g.group_id, off))
    return LogView(
        topic=p.topic,
        partition=p.partition,
        leader=p.leader,
        leader_epoch=p.leader_epoch,
        log_start_offset=start,
        high_watermark=hw,
        log_end_offset=leo,
        last_stable_offset=lso if isinstance(lso, int) else None,
        records=tuple(records),
        replicas=tuple(replicas),
        committed=tuple(committed),
    )


def build_view(
    session: Any,
    *,
    session_id: int,
    playing: bool,
    behind: bool = False,
    selected: tuple[str, int] | None = None,
    last_event: str = "",
    clock: str = "",
    timeline_internal: bool = False,
) -> LabView:
    """Snapshot ``session`` (a LabSession) for the widgets.

    ``clock`` replaces play/pause in the status bar; ``timeline_internal``: include timeline entries about
    internal topics (folded away by default).
    """
    cluster = session.cluster
    info = cluster.describe_cluster()
    alive = {b.broker_id for b in info.brokers if b.state != "down"}
    partitions: list[PartitionView] = []
    internal: list[tuple[str, int]] = []
    for topic in sorted(cluster.topics(), key=natural_key):  # orders-2 before orders-10
        if topic.startswith("__"):
            with contextlib.suppress(Exception):
                internal.append((topic, len(cluster.describe_topic(topic))))
            continue
        try:
            described = cluster.describe_topic(topic)
        except Exception:
            continue
        for p in described:
            partitions.append(
                PartitionView(
                    p.topic,
                    p.partition,
                    p.leader,
                    tuple(p.replicas),
                    tuple(p.isr),
                    p.leader_epoch,
                    p.high_watermark,
                    p.log_end_offset,
                    p.log_start_offset,
                    p.under_replicated,
                    p.offline,
                    p.leader in alive,
                )
            )
    names = {(p.topic, p.partition) for p in partitions}
    if selected not in names:
        selected = (partitions[0].topic, partitions[0].partition) if partitions else None
    groups = _groups(cluster)
    log = None
    if selected is not None:
        sel = next(p for p in partitions if (p.topic, p.partition) == selected)
        log = _log_view(cluster, sel, groups)
    timeline = cluster.timeline
    if timeline_internal:
        tail = summarize_timeline(timeline, max(0, len(timeline) - TIMELINE_TAIL))
    else:
        start = max(0, len(timeline) - TIMELINE_SCAN)
        tail = summarize_timeline(timeline, start, internal=False, limit=TIMELINE_TAIL)
    return LabView(
        session_id=session_id,
        seed=int(getattr(cluster, "seed", getattr(session, "seed", 0))),
        now_ms=cluster.now_ms,
        events=int(getattr(session, "events", None) or cluster.kernel.stats.events),
        speed=float(getattr(session, "speed", 1.0)),
        playing=playing,
        behind=behind,
        brokers=tuple(BrokerView(b.broker_id, b.state, b.fenced, b.partitions_led) for b in info.brokers),
        controller_id=info.controller_id,
        controllers=tuple(info.controllers),
        network_cuts=tuple(info.network_cuts),
        partitions=tuple(partitions),
        internal_topics=tuple(internal),
        selected=selected,
        log=log,
        groups=groups,
        producers=_producers(cluster),
        timeline_len=len(timeline),
        timeline=tail,
        timeline_internal=timeline_internal,
        last_event=last_event,
        input_mode=getattr(session, "input_mode", None),
        clock=clock,
    )
