"""Compare delivery guarantees: one workload, one fault schedule, several delivery setups side by side.

The pipeline run for every setup, each on its own :class:`~kafkalab.sim.cluster.Cluster` built from the
same seed, with the same fault schedule applied at the same virtual times::

    source producer --(acks, idempotence)--> topic "in" --Copier(mode)--> topic "out" --> sink (read_all)

* The source producer writes ``records`` unique values ``in-0 .. in-{N-1}`` with keys ``k0 .. k9`` evenly
  over :data:`PRODUCE_WINDOW_MS` under the setup's producer side (``acks`` 0/1/all, idempotence on/off).
* A :class:`~kafkalab.sim.workloads.Copier` copies ``in`` to ``out`` (value ``in-i`` becomes ``out-i``) under
  the setup's consumer side: at-most-once (commit, then process), at-least-once (process, then commit) or
  exactly-once (transactional consume-transform-produce, ``read_committed``).
* The sink is a final ``read_all("out")`` (``read_committed`` for exactly-once, else ``read_uncommitted``).

Two analyses, both computed from what the run recorded, never hard-coded:

* **End to end** (the scoreboard's main columns): the sink read against the source sends. *Lost* = a
  source value that never reached the sink; *duplicated* = one that reached it more than once; *reordered
  keys* = keys whose sink order (first copies, by offset) differs from their source order.
* **Producer side** (``checker`` columns): :func:`kafkalab.checker.check` over the cluster's history, after
  a complete read of ``in``: acknowledged writes lost from ``in`` and values written twice into ``in``.

``ledger(setup)`` gives every record's journey (produced, appended on the leader, replicated, below the
HW, consumed, committed, copied, in the sink) and a one-line verdict whose cause is a real timeline entry.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from .checker import check
from .sim.cluster import Cluster, TimelineEntry
from .sim.history import Op
from .sim.workloads import Copier
from .timeline_text import plain_entry

__all__ = [
    "BUILTIN_SCHEDULES",
    "DEFAULT_CHOICE",
    "DEFAULT_RECORDS",
    "DEFAULT_SCHEDULE",
    "DEFAULT_SEED",
    "DEFAULT_SETUPS",
    "MAX_RECORDS",
    "MEASURES",
    "Measure",
    "SETUP_PRESETS",
    "Cause",
    "ComparisonResult",
    "FaultStep",
    "JourneyStep",
    "RecordFate",
    "Schedule",
    "Scoreboard",
    "Setup",
    "SetupRun",
    "parse_setup",
    "run_comparison",
    "run_setup",
]

#: defaults shared by ``kafkalab compare`` and the Compare screen (F10): one set, one vocabulary
DEFAULT_SEED = 42
DEFAULT_SCHEDULE = "mixed"
DEFAULT_RECORDS = 40
#: the setups compared unless others are named: the three delivery guarantees of the consumer side
DEFAULT_CHOICE = ("at-most-once", "at-least-once", "exactly-once")
#: the most records one comparison produces (each setup runs its own cluster: more takes minutes)
MAX_RECORDS = 2000

#: the source producer spreads its records evenly over this many virtual milliseconds
PRODUCE_WINDOW_MS = 4000
#: virtual time at which the workload starts (after the cluster, topics and clients are up)
START_MS = 1000
SOURCE = "source"
GROUP = "copier"
KEYS = 10

BROKER_CONFIG = {
    "offsets.topic.num.partitions": 3,
    "transaction.state.log.num.partitions": 3,
    "group.initial.rebalance.delay.ms": 0,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
}
TOPIC_CONFIG = {"min.insync.replicas": 2}


# ============================================================================================ setups


@dataclass(frozen=True)
class Setup:
    """One delivery setup: the copier's mode (consumer side) and the source producer's settings."""

    name: str
    mode: str  # at_most_once | at_least_once | exactly_once
    acks: str  # "0" | "1" | "all"
    idempotence: bool

    def producer_text(self) -> str:
        """The source producer's side: ``acks=all, idempotent``."""
        return f"acks={self.acks}, {'idempotent' if self.idempotence else 'not idempotent'}"

    def copier_text(self) -> str:
        """The copier's (consumer) side: what it does first."""
        return {
            "at_most_once": "commits, then processes",
            "at_least_once": "processes, then commits",
            "exactly_once": "transactional",
        }[self.mode]

    def describe(self) -> str:
        return f"producer {self.producer_text()} · copier {self.copier_text()}"

    def producer_config(self) -> dict[str, Any]:
        return {
            "acks": self.acks,
            "enable.idempotence": self.idempotence,
            "linger.ms": 5,
            "request.timeout.ms": 3000,
            "retry.backoff.ms": 100,
        }


#: named setups; the producer-side ones copy with exactly-once so only the producer side can hurt
SETUP_PRESETS: dict[str, Setup] = {
    s.name: s
    for s in (
        Setup("at-most-once", "at_most_once", "all", True),
        Setup("at-least-once", "at_least_once", "all", True),
        Setup("exactly-once", "exactly_once", "all", True),
        Setup("acks=0", "exactly_once", "0", False),
        Setup("acks=1", "exactly_once", "1", False),
        Setup("no-idem", "exactly_once", "all", False),
    )
}
DEFAULT_SETUPS = tuple(SETUP_PRESETS)

_MODE_ALIASES = {
    "amo": "at_most_once",
    "at-most-once": "at_most_once",
    "at_most_once": "at_most_once",
    "alo": "at_least_once",
    "at-least-once": "at_least_once",
    "at_least_once": "at_least_once",
    "eos": "exactly_once",
    "exactly-once": "exactly_once",
    "exactly_once": "exactly_once",
}


def parse_setup(spec: str) -> Setup:
    """A preset name (``at-most-once``, ``acks=1`` ...), a bare mode (``amo``, ``alo``, ``eos``) or
    ``MODE/ACKS[/idem|/no-idem]`` (``alo/1``,
    ``eos/all/no-idem``; MODE is amo, alo or eos; idempotence defaults to on for acks=all, else off)."""
    spec = spec.strip()
    if spec in SETUP_PRESETS:
        return SETUP_PRESETS[spec]
    if spec in _MODE_ALIASES:  # a bare mode: that guarantee with the safe producer (acks=all + idempotence)
        return next(s for s in SETUP_PRESETS.values() if s.mode == _MODE_ALIASES[spec])
    parts = spec.split("/")
    if len(parts) not in (2, 3) or parts[0] not in _MODE_ALIASES:
        raise ValueError(
            f"unknown setup {spec!r}: use one of {', '.join(SETUP_PRESETS)} or MODE/ACKS[/idem|/no-idem] "
            "with MODE amo|alo|eos and ACKS 0|1|all"
        )
    acks = parts[1].removeprefix("acks=")
    if acks == "-1":
        acks = "all"
    if acks not in ("0", "1", "all"):
        raise ValueError(f"acks must be 0, 1 or all, not {parts[1]!r}")
    idem = acks == "all"
    if len(parts) == 3:
        if parts[2] not in ("idem", "no-idem"):
            raise ValueError(f"expected idem or no-idem, not {parts[2]!r}")
        idem = parts[2] == "idem"
    if idem and acks != "all":
        raise ValueError("idempotence requires acks=all")
    return Setup(spec, _MODE_ALIASES[parts[0]], acks, idem)


# ========================================================================================= schedules


@dataclass(frozen=True)
class FaultStep:
    """One fault of a schedule: plain data, applied at ``time_ms`` after the workload starts.

    ``target`` names a partition (``in-0``); the fault resolves it to the broker leading it *when the
    fault fires*, so every setup gets "the leader of in-0" even if leadership moved differently.
    """

    time_ms: int
    kind: str
    target: str = ""

    @property
    def at_ms(self) -> int:
        """Virtual time of the fault on the run's clock (the one the ledger and the timeline use)."""
        return START_MS + self.time_ms

    def describe(self) -> str:
        return f"at {self.at_ms} ms: {FAULT_KINDS[self.kind].format(target=self.target)}"


#: fault kinds and what they do
FAULT_KINDS: dict[str, str] = {
    "cut-replication": "cut the leader of {target} off from the other brokers (it still reaches the controller "
    "and clients)",
    "isolate-leader": "cut the leader of {target} off from the other brokers and the controller; clients still "
    "reach it (a zombie leader)",
    "kill-leader": "kill -9 the broker leading {target}",
    "restart-killed": "restart every broker this schedule killed",
    "drop-acks": "drop every response from the leader of {target} to the source producer (requests still arrive)",
    "heal": "heal every network cut",
    "crash-copier": "the copier crashes after producing its next batch and before committing it",
}


@dataclass(frozen=True)
class Schedule:
    name: str
    summary: str
    steps: tuple[FaultStep, ...]


BUILTIN_SCHEDULES: dict[str, Schedule] = {
    s.name: s
    for s in (
        Schedule(
            "none",
            "no faults: every setup delivers every record once",
            (),
        ),
        Schedule(
            "leader-kill",
            "replication of in-0 stalls, then its leader dies mid-stream and restarts later",
            (
                FaultStep(1200, "cut-replication", "in-0"),
                FaultStep(2000, "kill-leader", "in-0"),
                FaultStep(2000, "heal"),
                FaultStep(12000, "restart-killed"),
            ),
        ),
        Schedule(
            "consumer-crash",
            "the copier crashes twice between producing a batch and committing it",
            (
                FaultStep(1500, "crash-copier"),
                FaultStep(3000, "crash-copier"),
            ),
        ),
        Schedule(
            "lost-ack",
            "for 1 s the leader of in-0 appends the source's writes but its acks never arrive; the "
            "producer times out and retries",
            (
                FaultStep(1500, "drop-acks", "in-0"),
                FaultStep(2500, "heal"),
            ),
        ),
        Schedule(
            "partition",
            "the leader of in-0 is cut off from the other brokers and the controller for 12 s but "
            "keeps serving the source producer",
            (
                FaultStep(1200, "isolate-leader", "in-0"),
                FaultStep(13200, "heal"),
            ),
        ),
        Schedule(
            "mixed",
            "the copier crashes once, then in-0's leader dies after its replication stalls, and acks from "
            "in-1's leader get lost",
            (
                FaultStep(300, "crash-copier"),
                FaultStep(1000, "cut-replication", "in-0"),
                FaultStep(1800, "kill-leader", "in-0"),
                FaultStep(1800, "heal"),
                FaultStep(2200, "drop-acks", "in-1"),
                FaultStep(3000, "heal"),
                FaultStep(13000, "restart-killed"),
            ),
        ),
    )
}


# ========================================================================================= results


@dataclass(frozen=True)
class Scoreboard:
    """Numbers of one setup. ``lost``/``duplicated``/``reordered_keys`` are end to end (sink vs source);
    ``checker_*`` come from :func:`kafkalab.checker.check` on the history, restricted to topic ``in``."""

    setup: str
    produced: int  # source values handed to produce()
    acknowledged: int  # source values with a successful delivery report (acks=0: "sent")
    failed: int  # source values whose delivery failed
    delivered: int  # distinct source values in the sink
    lost: int  # source values never in the sink
    duplicated: int  # source values in the sink more than once
    extra_copies: int  # sink records beyond the first copy of each value
    reordered_keys: int  # keys whose sink order differs from their source order
    checker_lost_in: int  # acknowledged writes lost from topic in (checker)
    checker_duplicates_in: int  # values at two or more positions of topic in (checker)
    copier_reprocessed: int  # positions of in the copier processed more than once (checker group analysis)
    copier_skipped: int  # values of in the copier never processed (checker group analysis)
    copier_restarts: int


@dataclass(frozen=True)
class Measure:
    """One number of the scoreboard, named once for the CLI and the screen."""

    key: str
    label: str
    attr: str  # the Scoreboard attribute
    problem: bool  # more than 0 is a problem (shown with ✗)
    meaning: str


#: the scoreboard's numbers in order: ``kafkalab compare``, its JSON and the Compare screen use these words
MEASURES: tuple[Measure, ...] = (
    Measure("produced", "produced", "produced", False, "records the source producer handed to produce()"),
    Measure(
        "acknowledged",
        "acknowledged",
        "acknowledged",
        False,
        "of those, delivery reports that said success (acks=0: sent, nobody waits)",
    ),
    Measure("failed", "failed", "failed", True, "records whose delivery failed for good"),
    Measure("delivered", "delivered", "delivered", False, "distinct records that reached the sink"),
    Measure("lost", "lost", "lost", True, "records that never reached the sink"),
    Measure("duplicated", "duplicated", "duplicated", True, "records that reached the sink more than once"),
    Measure(
        "reordered",
        "reordered keys",
        "reordered_keys",
        True,
        "keys whose records reached the sink out of order",
    ),
    Measure(
        "lost_in",
        "lost in topic in",
        "checker_lost_in",
        True,
        "acknowledged writes missing from topic in (checker)",
    ),
    Measure(
        "dup_in",
        "twice in topic in",
        "checker_duplicates_in",
        True,
        "records stored twice in topic in (checker)",
    ),
    Measure(
        "reprocessed",
        "reprocessed",
        "copier_reprocessed",
        False,
        "offsets of topic in the copier processed again after a crash",
    ),
)


@dataclass(frozen=True)
class Cause:
    """The event that decided a record's fate: an entry of the setup's cluster timeline."""

    time_ms: int
    event: str  # the timeline entry's text, verbatim


@dataclass(frozen=True)
class JourneyStep:
    time_ms: int
    what: str


@dataclass(frozen=True)
class RecordFate:
    index: int
    key: str
    value: str  # the source value (in-i); its copy in out is out-i
    partition: int | None  # partition of in
    outcome: str  # "delivered" | "lost" | "duplicated"
    copies: int  # copies in the sink
    journey: tuple[JourneyStep, ...]
    verdict: str
    cause: Cause | None = None


@dataclass
class SetupRun:
    """Everything recorded by one setup's run (kept so the ledger can be built on demand)."""

    setup: Setup
    scoreboard: Scoreboard
    history: list[Op]
    timeline: list[TimelineEntry]
    storage: list[tuple[Any, ...]]
    sink: dict[int, list[tuple[int, bytes | None, bytes | None]]]
    source_in: dict[int, list[tuple[int, bytes | None, bytes | None]]]
    records: int
    end_ms: int
    _ledger: list[RecordFate] | None = field(default=None, repr=False)

    def ledger(self) -> list[RecordFate]:
        if self._ledger is None:
            self._ledger = _Ledger(self).build()
        return self._ledger


@dataclass
class ComparisonResult:
    seed: int
    schedule: Schedule
    records: int
    runs: dict[str, SetupRun]

    @property
    def setups(self) -> list[str]:
        return list(self.runs)

    def scoreboard(self, setup: str) -> Scoreboard:
        return self.runs[setup].scoreboard

    def scoreboards(self) -> list[Scoreboard]:
        return [r.scoreboard for r in self.runs.values()]

    def ledger(self, setup: str) -> list[RecordFate]:
        return self.runs[setup].ledger()

    def fate(self, setup: str, value: str | int) -> RecordFate:
        """The fate of one record, by index (17) or value (``in-17`` / ``out-17``)."""
        idx = value if isinstance(value, int) else int(str(value).rsplit("-", 1)[-1])
        return self.ledger(setup)[idx]

    def timeline(self, setup: str) -> list[TimelineEntry]:
        return self.runs[setup].timeline

    def to_dict(self, *, ledger: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seed": self.seed,
            "schedule": {
                "name": self.schedule.name,
                "summary": self.schedule.summary,
                "steps": [asdict(s) for s in self.schedule.steps],
            },
            "records": self.records,
            "setups": [],
        }
        for name, run in self.runs.items():
            entry: dict[str, Any] = {
                "name": name,
                "mode": run.setup.mode,
                "acks": run.setup.acks,
                "idempotence": run.setup.idempotence,
                "scoreboard": asdict(run.scoreboard),
                "end_ms": run.end_ms,
                "problems": [_fate_dict(f) for f in run.ledger() if f.outcome != "delivered"],
            }
            if ledger:
                entry["ledger"] = [_fate_dict(f) for f in run.ledger()]
            out["setups"].append(entry)
        return out

    def to_json(self, *, ledger: bool = False) -> str:
        return json.dumps(self.to_dict(ledger=ledger), indent=2, sort_keys=False)


def _fate_dict(f: RecordFate) -> dict[str, Any]:
    d = asdict(f)
    d["journey"] = [[s.time_ms, s.what] for s in f.journey]
    return d


# ============================================================================================= running


def _value(i: int, topic: str = "in") -> bytes:
    return f"{topic}-{i}".encode()


def _index(value: bytes | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.rsplit(b"-", 1)[1])
    except (IndexError, ValueError):
        return None


class _Driver:
    """Applies a schedule to one cluster: broker faults as kernel events at exact virtual times."""

    def __init__(self, cluster: Cluster, schedule: Schedule, start_ms: int) -> None:
        self.cluster = cluster
        self.killed: list[int] = []
        self.crash_requests = 0
        self.source_name = ""
        self.pending = sorted(schedule.steps, key=lambda s: s.time_ms)
        self.start_ms = start_ms
        for step in self.pending:
            cluster.kernel.schedule(
                start_ms + step.time_ms - cluster.now_ms, "fault", partial(self.apply, step), step.kind
            )

    def leader_of(self, target: str) -> int:
        topic, _, p = target.rpartition("-")
        info = next(x for x in self.cluster.describe_topic(topic) if x.partition == int(p))
        return info.leader

    def apply(self, step: FaultStep) -> None:
        c = self.cluster
        k = step.kind
        if k == "crash-copier":
            self.crash_requests += 1
            return
        if k == "heal":
            c.heal()
            return
        if k == "restart-killed":
            for b in self.killed:
                c.restart_broker(b)
            self.killed = []
            return
        leader = self.leader_of(step.target)
        if leader < 0:
            c.note(f"fault {k} on {step.target} skipped: the partition has no leader", "other")
            return
        others = [b for b in c.brokers if b != leader]
        if k == "kill-leader":
            c.kill_broker(leader)
            self.killed.append(leader)
        elif k == "cut-replication":
            c.partition([leader], others)
        elif k == "isolate-leader":
            c.partition([leader], others + sorted(c.quorum.voters))
        elif k == "drop-acks":
            # one-way cut: requests from the source reach the broker, its responses are lost
            c.net.cut(c.brokers[leader].name, self.source_name)
            c.note(
                f"responses from broker {leader} (leader of {step.target}) to {self.source_name} are dropped",
                "network",
            )
        else:
            raise ValueError(f"unknown fault kind {k!r}")


def run_setup(setup: Setup, schedule: Schedule, seed: int, records: int) -> SetupRun:
    """Run the pipeline for one setup on a fresh cluster; deterministic in (setup, schedule, seed, records)."""
    cluster = Cluster(3, seed=seed, broker_config=BROKER_CONFIG)
    try:
        return _run(cluster, setup, schedule, seed, records)
    finally:
        cluster.close()


def _run(cluster: Cluster, setup: Setup, schedule: Schedule, seed: int, records: int) -> SetupRun:
    cluster.track_storage()
    cluster.create_topic("in", 2, 3, TOPIC_CONFIG)
    cluster.create_topic("out", 2, 3, TOPIC_CONFIG)
    source = cluster.producer(setup.producer_config(), name=SOURCE)
    copier = Copier(
        cluster,
        "in",
        "out",
        setup.mode,
        group_id=GROUP,
        batch=5,
        transform=lambda v: (v or b"").replace(b"in-", b"out-", 1),
        note_failures=True,
    )
    # the workload starts at the same virtual time in every setup, so their timelines line up
    start = max(cluster.now_ms, START_MS)
    cluster.kernel.advance_to(start)
    driver = _Driver(cluster, schedule, start)
    driver.source_name = source.name
    gap = max(1, PRODUCE_WINDOW_MS // max(1, records))
    last_fault = max((s.time_ms for s in schedule.steps), default=0)
    produced = [0]

    def produce(i: int) -> None:
        source.produce("in", key=f"k{i % KEYS}", value=_value(i))
        produced[0] += 1

    # the source produces on its own schedule (kernel events), whatever the copier is blocked on
    for i in range(records):
        cluster.kernel.schedule(start + i * gap - cluster.now_ms, "produce", partial(produce, i), f"in-{i}")

    def copy_once() -> None:
        if copier.crashed:  # start a fresh instance (Copier.restart() would note a second crash)
            copier.restarts += 1
            copier.start()
        crash = driver.crash_requests > 0
        copier.step(0.05, crash_before_commit=crash)
        if crash and copier.crashed:
            driver.crash_requests -= 1

    # produce evenly over the window while copying; the faults fire by themselves at their times
    while produced[0] < records or cluster.now_ms < start + last_fault:
        source.poll(0)
        copy_once()
    # make sure every fault fired, then let the cluster recover and the copier drain ``in``
    cluster.kernel.advance_to(max(cluster.now_ms, start + last_fault))
    cluster.heal()
    for bid, b in cluster.brokers.items():
        if not b.alive:
            cluster.restart_broker(bid)
    source.flush(150)
    cluster.run_for(3000)
    # generous: a rebalance stuck on a dead member ends at the rebalance timeout (max.poll.interval.ms)
    deadline = cluster.now_ms + 400_000
    while cluster.now_ms < deadline:
        if _drained(cluster):
            break
        copy_once()
    cluster.run_for(3000)
    source_in = cluster.read_all("in")
    iso = "read_committed" if setup.mode == "exactly_once" else "read_uncommitted"
    sink = cluster.read_all("out", isolation_level=iso)
    history = list(cluster.history.ops)
    scoreboard = _score(setup, history, sink, records, copier.restarts)
    storage = [e for e in cluster.storage_events if e[3] in ("in", "out")]
    return SetupRun(
        setup, scoreboard, history, list(cluster.timeline), storage, sink, source_in, records, cluster.now_ms
    )


def _drained(cluster: Cluster) -> bool:
    committed = cluster.describe_group(GROUP).offsets
    for p in cluster.describe_topic("in"):
        if p.high_watermark < 0 or committed.get(("in", p.partition), 0) < p.high_watermark:
            return False
    return True


def _score(
    setup: Setup,
    history: list[Op],
    sink: dict[int, list[tuple[int, bytes | None, bytes | None]]],
    records: int,
    restarts: int,
) -> Scoreboard:
    sends = {op.value for op in history if op.type == "send" and op.topic == "in" and op.client == SOURCE}
    acked = {op.value for op in history if op.type == "ack" and op.topic == "in" and op.client == SOURCE}
    failed = {op.value for op in history if op.type == "fail" and op.topic == "in" and op.client == SOURCE}
    copies: Counter[int] = Counter()
    for part in sink.values():
        for _o, _k, v in part:
            idx = _index(v)
            if idx is not None:
                copies[idx] += 1
    delivered = sum(1 for i in range(records) if copies[i] > 0)
    dup = sum(1 for i in range(records) if copies[i] > 1)
    extra = sum(n - 1 for n in copies.values() if n > 1)
    result = check(history)
    lost_in = sum(1 for x in result.lost if x.topic == "in")
    dup_in = sum(1 for d in result.duplicates if all(pos[0] == "in" for pos in d.positions))
    grp = result.groups.get(GROUP)
    reprocessed = grp.redelivered_count if grp else 0
    skipped = sum(1 for m in grp.missing if m.topic == "in") if grp else 0
    return Scoreboard(
        setup=setup.name,
        produced=len(sends),
        acknowledged=len(acked),
        failed=len(failed - acked),
        delivered=delivered,
        lost=records - delivered,
        duplicated=dup,
        extra_copies=extra,
        reordered_keys=len(_reordered_keys(sink, records)),
        checker_lost_in=lost_in,
        checker_duplicates_in=dup_in,
        copier_reprocessed=reprocessed,
        copier_skipped=skipped,
        copier_restarts=restarts,
    )


def _reordered_keys(sink: dict[int, list[tuple[int, bytes | None, bytes | None]]], records: int) -> list[str]:
    """Keys whose first copies in the sink are not in source order (source order = produce order)."""
    per_key: dict[bytes, list[int]] = defaultdict(list)
    for p in sorted(sink):
        for _o, k, v in sorted(sink[p], key=lambda r: r[0]):
            idx = _index(v)
            if k is not None and idx is not None and idx not in per_key[k]:
                per_key[k].append(idx)
    return sorted(k.decode() for k, seq in per_key.items() if seq != sorted(seq))


def run_comparison(
    seed: int = DEFAULT_SEED,
    faults: str | Schedule = DEFAULT_SCHEDULE,
    setups: Iterable[str | Setup] | None = None,
    records: int = DEFAULT_RECORDS,
) -> ComparisonResult:
    """Run every setup on its own cluster with the same seed and the same fault schedule."""
    schedule = faults if isinstance(faults, Schedule) else get_schedule(faults)
    chosen = [s if isinstance(s, Setup) else parse_setup(s) for s in (setups or DEFAULT_CHOICE)]
    if not 1 <= records <= MAX_RECORDS:
        raise ValueError(f"records must be between 1 and {MAX_RECORDS}")
    runs: dict[str, SetupRun] = {}
    for s in chosen:
        runs[s.name] = run_setup(s, schedule, seed, records)
    return ComparisonResult(seed, schedule, records, runs)


def get_schedule(name: str) -> Schedule:
    try:
        return BUILTIN_SCHEDULES[name]
    except KeyError:
        raise ValueError(
            f"unknown fault schedule {name!r}: choose one of {', '.join(BUILTIN_SCHEDULES)}"
        ) from None


# ============================================================================================ the ledger

_FAULT_RE = re.compile(
    r"\bdied\b|network partition|\bpaused\b|crashed|dropped|truncated|\bfenced\b|timed out|failed \("
)
_LEADER_RE = re.compile(r"^broker (\d+) became leader of (\S+)-(\d+) \(epoch (\d+)\)")


class _Ledger:
    def __init__(self, run: SetupRun) -> None:
        self.run = run
        self.faults = [e for e in run.timeline if _FAULT_RE.search(e.text)]
        # (topic, partition) -> [(time, leader, epoch)]
        self.leaders: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
        for e in run.timeline:
            m = _LEADER_RE.match(e.text)
            if m:
                self.leaders[(m.group(2), int(m.group(3)))].append(
                    (e.time_ms, int(m.group(1)), int(m.group(4)))
                )
        self.by_value: dict[bytes, list[Op]] = defaultdict(list)
        for op in run.history:
            if op.value is not None:
                self.by_value[op.value].append(op)
        self.commits: dict[tuple[str, int], list[Op]] = defaultdict(list)
        for op in run.history:
            if op.type == "commit" and op.partition is not None:
                self.commits[(op.topic, op.partition)].append(op)
        self.storage: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        for ev in run.storage:
            self.storage[(ev[3], ev[4])].append(ev)
        self.in_positions: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for p, recs in run.source_in.items():
            for o, _k, v in recs:
                idx = _index(v)
                if idx is not None:
                    self.in_positions[idx].append((p, o))
        self.sink_positions: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for p, recs in run.sink.items():
            for o, _k, v in recs:
                idx = _index(v)
                if idx is not None:
                    self.sink_positions[idx].append((p, o))

    # -- helpers ------------------------------------------------------------------------------------
    def leader_at(self, tp: tuple[str, int], t: int) -> tuple[int, int] | None:
        cur = None
        for time, leader, epoch in self.leaders.get(tp, ()):
            if time <= t:
                cur = (leader, epoch)
        return cur

    def next_leader_after(self, tp: tuple[str, int], t: int, not_broker: int) -> tuple[int, int, int] | None:
        for time, leader, epoch in self.leaders.get(tp, ()):
            if time >= t and leader != not_broker:
                return (time, leader, epoch)
        return None

    def fault_before(self, t: int, pred: Any = None) -> TimelineEntry | None:
        best = None
        for e in self.faults:
            if e.time_ms <= t and (pred is None or pred(e.text)):
                best = e
        return best

    def fault_after(self, t: int, pred: Any = None) -> TimelineEntry | None:
        for e in self.faults:
            if e.time_ms >= t and (pred is None or pred(e.text)):
                return e
        return None

    def leader_append(self, tp: tuple[str, int], offset: int, before: int) -> tuple[Any, ...] | None:
        best = None
        for ev in self.storage.get(tp, ()):
            if ev[0] == "append" and ev[7] and ev[5] <= offset <= ev[6] and ev[1] <= before:
                best = ev
        return best

    def lifetime(self, tp: tuple[str, int], broker: int, offset: int, since: int) -> int | None:
        """When ``broker`` truncated ``offset`` away after ``since`` (None: never)."""
        for ev in self.storage.get(tp, ()):
            if ev[0] == "truncate" and ev[2] == broker and ev[1] >= since and ev[5] <= offset:
                return int(ev[1])
        return None

    # -- build ----------------------------------------------------------------------------------------
    def build(self) -> list[RecordFate]:
        return [self.fate(i) for i in range(self.run.records)]

    def fate(self, i: int) -> RecordFate:
        v_in, v_out = _value(i), _value(i, "out")
        ops_in = self.by_value.get(v_in, [])
        ops_out = self.by_value.get(v_out, [])
        steps: list[JourneyStep] = []
        send = next((op for op in ops_in if op.type == "send" and op.client == SOURCE), None)
        part = send.partition if send else None
        tp = ("in", part) if part is not None else None
        if send:
            steps.append(JourneyStep(send.time_ms, f"produced by {SOURCE} to in-{part}"))
        acks = [op for op in ops_in if op.type == "ack" and op.client == SOURCE]
        fails = [op for op in ops_in if op.type == "fail" and op.client == SOURCE]
        for a in acks:
            where = (
                f"in-{a.partition}@{a.offset}"
                if a.offset is not None
                else f"in-{a.partition} (acks=0: no offset)"
            )
            steps.append(JourneyStep(a.time_ms, f"acknowledged to {SOURCE}: {where}"))
        for f in fails:
            steps.append(JourneyStep(f.time_ms, f"delivery failed: {f.error}"))
        # offsets of this value in ``in``: acked, consumed by anyone, or in the final read
        offsets: dict[int, int] = {}  # offset -> earliest time we know it held the value
        for op in ops_in:
            if op.type in ("ack", "consume") and op.offset is not None and op.topic == "in":
                offsets[op.offset] = min(offsets.get(op.offset, op.time_ms), op.time_ms)
        for _p, o in self.in_positions.get(i, ()):
            offsets.setdefault(o, self.run.end_ms)
        appends: list[tuple[int, tuple[Any, ...], int | None]] = []
        if tp is not None:
            for o, known in sorted(offsets.items()):
                ev = self.leader_append(tp, o, known)
                if ev is None:
                    continue
                t_app, leader = int(ev[1]), int(ev[2])
                gone = self.lifetime(tp, leader, o, t_app)
                appends.append((o, ev, gone))
                ep = self.leader_at(tp, t_app)
                steps.append(
                    JourneyStep(
                        t_app,
                        f"appended on leader {leader} at in-{part}@{o}" + (f" (epoch {ep[1]})" if ep else ""),
                    )
                )
                end = gone if gone is not None else self.run.end_ms
                reps = []
                for s in self.storage[tp]:
                    if (
                        s[0] == "append"
                        and not s[7]
                        and s[5] <= o <= s[6]
                        and t_app <= s[1] <= end
                        and (self.leader_at(tp, s[1]) or (leader,))[0] == leader
                    ):
                        reps.append(s)
                seen_rep: set[int] = set()
                for s in reps:
                    if s[2] not in seen_rep:
                        seen_rep.add(s[2])
                        steps.append(JourneyStep(int(s[1]), f"replicated to broker {s[2]}"))
                hw = next(
                    (
                        s
                        for s in self.storage[tp]
                        if s[0] == "hw" and s[2] == leader and s[5] > o and t_app <= s[1] <= end
                    ),
                    None,
                )
                if hw is not None:
                    steps.append(
                        JourneyStep(int(hw[1]), f"below the HW ({hw[5]}) of leader {leader}: committed")
                    )
                if gone is not None:
                    steps.append(JourneyStep(gone, f"truncated away by broker {leader}"))
        consumes = [op for op in ops_in if op.type == "consume" and op.group == GROUP]
        processes = [op for op in ops_in if op.type == "process"]
        for c in consumes:
            steps.append(JourneyStep(c.time_ms, f"consumed by {c.client} from in-{c.partition}@{c.offset}"))
        for pr in processes:
            steps.append(JourneyStep(pr.time_ms, f"processed by {pr.client}"))
        for c in consumes:
            cm = next(
                (
                    x
                    for x in self.commits.get(("in", c.partition or 0), ())
                    if x.client == c.client and x.time_ms >= c.time_ms and (x.offset or 0) > (c.offset or 0)
                ),
                None,
            )
            if cm is not None:
                steps.append(
                    JourneyStep(
                        cm.time_ms, f"offset {cm.offset} of in-{c.partition} committed by {cm.client}"
                    )
                )
        out_acks = [op for op in ops_out if op.type == "ack"]
        for a in out_acks:
            steps.append(JourneyStep(a.time_ms, f"written to out-{a.partition}@{a.offset} by {a.client}"))
        aborted = [op for op in ops_out if op.type == "fail"]
        for a in aborted:
            steps.append(JourneyStep(a.time_ms, f"copy by {a.client} failed: {a.error}"))
        sink_pos = self.sink_positions.get(i, [])
        for p, o in sink_pos:
            steps.append(JourneyStep(self.run.end_ms, f"in the sink at out-{p}@{o}"))
        steps.sort(key=lambda s: s.time_ms)
        key = f"k{i % KEYS}"
        n = len(sink_pos)
        if n == 1:
            return RecordFate(i, key, v_in.decode(), part, "delivered", 1, tuple(steps), "delivered once")
        if n == 0:
            verdict, cause = _with_cause(
                *self.why_lost(i, tp, send, acks, fails, appends, consumes, processes)
            )
            return RecordFate(i, key, v_in.decode(), part, "lost", 0, tuple(steps), verdict, cause)
        verdict, cause = _with_cause(*self.why_duplicated(i, tp, appends, processes, out_acks))
        return RecordFate(i, key, v_in.decode(), part, "duplicated", n, tuple(steps), verdict, cause)

    # -- verdicts -------------------------------------------------------------------------------------
    def _cause(self, e: TimelineEntry | None) -> Cause | None:
        return Cause(e.time_ms, e.text) if e is not None else None

    def why_lost(
        self,
        i: int,
        tp: tuple[str, int] | None,
        send: Op | None,
        acks: list[Op],
        fails: list[Op],
        appends: list[tuple[int, tuple[Any, ...], int | None]],
        consumes: list[Op],
        processes: list[Op],
    ) -> tuple[str, Cause | None]:
        in_final = bool(self.in_positions.get(i))
        if in_final:
            # it reached ``in`` safely: the copy stage dropped it
            if consumes and not processes:
                c = consumes[-1]
                crash = self.fault_after(c.time_ms, lambda t: "copier" in t and "crashed" in t)
                cm = next(
                    (
                        x
                        for x in self.commits.get(("in", c.partition or 0), ())
                        if x.client == c.client
                        and x.time_ms >= c.time_ms
                        and (x.offset or 0) > (c.offset or 0)
                    ),
                    None,
                )
                if crash is not None and cm is not None:
                    nxt = next(
                        (
                            x
                            for x in self.run.history
                            if x.type == "consume"
                            and x.group == GROUP
                            and x.client != c.client
                            and x.time_ms >= crash.time_ms
                            and x.partition == c.partition
                        ),
                        None,
                    )
                    resumed = f"; {nxt.client} resumed at offset {nxt.offset}" if nxt is not None else ""
                    return (
                        f"lost because {c.client} committed offset {cm.offset} of in-{c.partition} at "
                        f"{cm.time_ms} ms before processing in-{c.partition}@{c.offset}, and the copier crashed at "
                        f"{crash.time_ms} ms{resumed}",
                        self._cause(crash),
                    )
                failed = self.fault_after(
                    c.time_ms, lambda t: t.startswith(f"{c.client}: offset commit failed")
                )
                if failed is not None:
                    return (
                        f"lost because {c.client} consumed in-{c.partition}@{c.offset} at {c.time_ms} ms, its "
                        f"offset commit (made before processing) failed at {failed.time_ms} ms, and the "
                        f"at-most-once loop dropped the batch: its position had already moved past it",
                        self._cause(failed),
                    )
                e = self.fault_before(c.time_ms)
                return (
                    f"lost because {c.client} consumed in-{c.partition}@{c.offset} at {c.time_ms} ms and "
                    f"moved past it without copying it",
                    self._cause(e),
                )
            e = self.fault_before(self.run.end_ms)
            return ("lost in the copy stage: it is in topic in but no copy reached out", self._cause(e))
        # never safely in ``in``: the producer side lost it
        if appends and tp is not None:
            o, ev, gone = appends[-1]
            leader, t_app = int(ev[2]), int(ev[1])
            ep = self.leader_at(tp, t_app)
            epoch = ep[1] if ep else "?"
            upto = gone if gone is not None else self.run.end_ms
            died = self.fault_before(upto, lambda t: t == f"broker {leader} died")
            cut = self.fault_before(upto, lambda t: "network partition" in t and f"'broker-{leader}'" in t)
            event = died if died is not None and died.time_ms >= t_app else None
            if event is None and cut is not None:
                event = cut
            if event is None:
                event = died or self.fault_before(upto)
            nl = self.next_leader_after(tp, event.time_ms if event else t_app, leader)
            new = f"; the new leader {nl[1]} (epoch {nl[2]}, from {nl[0]} ms) never had it" if nl else ""
            trunc = f" and broker {leader} truncated it at {gone} ms" if gone is not None else ""
            ack = "acknowledged " if acks and acks[0].offset is not None else ""
            if event is not None and event.text.endswith("died"):
                what = f"died at {event.time_ms} ms before replicating {ack}offset {o}"
            elif event is not None and "network partition" in event.text:
                what = (
                    f"was cut off from the other brokers at {event.time_ms} ms and never replicated "
                    f"{ack}offset {o}"
                )
            else:
                what = f"never replicated {ack}offset {o}"
            return (
                f"lost because broker {leader} (leader of in-{tp[1]}, epoch {epoch}) {what}{new}{trunc}",
                self._cause(event),
            )
        if fails:
            f = fails[-1]
            e = self.fault_before(f.time_ms)
            return (
                f"lost because the source producer gave up at {f.time_ms} ms with {f.error}",
                self._cause(e),
            )
        if send is not None and tp is not None:
            ld = self.leader_at(tp, send.time_ms)
            leader, epoch = ld if ld else (-1, -1)
            restarted = self.fault_before(send.time_ms, lambda t: t == f"broker {leader} restarted")
            died = self.fault_before(send.time_ms, lambda t: t == f"broker {leader} died")
            if died is not None and (restarted is None or restarted.time_ms < died.time_ms):
                return (
                    f"lost because it was sent with acks=0 at {send.time_ms} ms to broker {leader} (leader of "
                    f"in-{tp[1]}, epoch {epoch}), which had died at {died.time_ms} ms; with acks=0 nobody "
                    f"noticed and nobody retried",
                    self._cause(died),
                )
            trunc_entry = next(
                (
                    entry
                    for entry in self.run.timeline
                    if entry.time_ms >= send.time_ms
                    and entry.text.startswith(f"broker {leader} truncated in-{tp[1]} ")
                ),
                None,
            )
            upto = trunc_entry.time_ms if trunc_entry is not None else self.run.end_ms
            died = self.fault_before(upto, lambda t: t == f"broker {leader} died")
            cut = self.fault_before(upto, lambda t: "network partition" in t and f"'broker-{leader}'" in t)
            event = died if died is not None and died.time_ms >= send.time_ms else cut or died
            how = ""
            if event is not None:
                how = (
                    f", which died at {event.time_ms} ms"
                    if event.text.endswith("died")
                    else f", which was cut off from the other brokers at {event.time_ms} ms"
                )
            tail = (
                f"; broker {leader} truncated its unreplicated records at {trunc_entry.time_ms} ms"
                if trunc_entry
                else ""
            )
            return (
                f"lost because it was sent with acks=0 at {send.time_ms} ms to broker {leader} (leader of "
                f"in-{tp[1]}, epoch {epoch}){how}, before the followers had it{tail}; with acks=0 the "
                f"producer never knew",
                self._cause(event or trunc_entry),
            )
        return ("lost: never produced", None)

    def why_duplicated(
        self,
        i: int,
        tp: tuple[str, int] | None,
        appends: list[tuple[int, tuple[Any, ...], int | None]],
        processes: list[Op],
        out_acks: list[Op],
    ) -> tuple[str, Cause | None]:
        positions = sorted(self.in_positions.get(i, []))
        if len(positions) >= 2 and tp is not None:
            (p1, o1), (_p2, o2) = positions[0], positions[1]
            second = next((ev for o, ev, _g in appends if o == o2), None)
            t2 = int(second[1]) if second is not None else self.run.end_ms
            first = next((ev for o, ev, _g in appends if o == o1), None)
            t1 = int(first[1]) if first is not None else 0

            def relevant(t: str) -> bool:
                return "dropped" in t or "network partition" in t or "died" in t

            # the condition in force when the first copy was appended, else the next fault after it
            e = self.fault_before(t1, relevant) or self.fault_after(t1, relevant)
            if e is not None and "dropped" in e.text:
                m = re.match(r"responses from broker (\d+)", e.text)
                b = m.group(1) if m else "?"
                why = (
                    f"broker {b}'s acknowledgement of in-{p1}@{o1} (appended at {t1} ms) was lost: its responses "
                    f"to the source were dropped from {e.time_ms} ms"
                )
            elif e is not None:
                retry = next(
                    (
                        op
                        for op in self.run.history
                        if op.type == "retry" and op.value == f"in-{i}".encode() and op.time_ms >= t1
                    ),
                    None,
                )
                failure = (
                    f"its request failed with {retry.error} at {retry.time_ms} ms" if retry else "no ack came"
                )
                why = (
                    f"in-{p1}@{o1} (appended at {t1} ms) was not acknowledged — '{plain_entry(e.text)}' at {e.time_ms} ms stalled "
                    f"replication and {failure}"
                )
            else:
                why = f"the acknowledgement of in-{p1}@{o1} (appended at {t1} ms) never arrived"
            return (
                f"duplicated because {why}; the source producer retried without idempotence and the record "
                f"was appended again at in-{p1}@{o2} at {t2} ms",
                self._cause(e),
            )
        if len(processes) >= 2:
            a, b = processes[0], processes[-1]
            crash = self.fault_after(a.time_ms, lambda t: "copier" in t and "crashed" in t)
            if crash is not None and crash.time_ms <= b.time_ms:
                b = next(p for p in processes if p.time_ms >= crash.time_ms)
                return (
                    f"duplicated because the copier crashed at {crash.time_ms} ms after producing "
                    f"in-{a.partition}@{a.offset} ({a.client}) and before committing offsets; reprocessed by "
                    f"{b.client} at {b.time_ms} ms",
                    self._cause(crash),
                )
            e = self.fault_before(b.time_ms, lambda t: "commit failed" in t) or self.fault_before(b.time_ms)
            return (
                f"duplicated because {a.client} processed in-{a.partition}@{a.offset} but its offset commit did "
                f"not stick; {b.client} processed it again at {b.time_ms} ms",
                self._cause(e),
            )
        e = self.fault_before(out_acks[-1].time_ms if out_acks else self.run.end_ms)
        return ("duplicated in out: the copier's producer wrote it twice", self._cause(e))


def _with_cause(verdict: str, cause: Cause | None) -> tuple[str, Cause | None]:
    """Make sure the verdict names its cause event and time (fallback verdicts add it at the end)."""
    if cause is not None and f"{cause.time_ms} ms" not in verdict:
        verdict += f" (last fault before: '{plain_entry(cause.event)}' at {cause.time_ms} ms)"
    return verdict, cause


# ========================================================================================== rendering


def _number_text(x: int, problem: bool) -> Any:
    """A scoreboard number; a problem count also says ✗ (or ✓ for none), so colour is not the only cue."""
    from rich.text import Text

    if not problem:
        return Text(str(x))
    return Text(f"{x} ✗", style="bold red") if x else Text("0 ✓", style="green")


#: a transposed table needs this many columns for its labels, and this many per setup
_LABEL_W = 22
_SETUP_W = 15


def fits_as_table(result: ComparisonResult, width: int) -> bool:
    """Whether the scoreboard fits ``width`` columns as a table (one column per setup)."""
    return _LABEL_W + 1 + len(result.runs) * (_SETUP_W + 1) <= width


def _scoreboard_table(result: ComparisonResult) -> Any:
    """One column per setup, one row per measure: what the Compare screen shows."""
    from rich.table import Table
    from rich.text import Text

    t = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 1), expand=False)
    t.add_column("", no_wrap=True, min_width=_LABEL_W - 1)
    for name in result.runs:
        t.add_column(Text(name, style="bold"), justify="right", max_width=_SETUP_W)
    t.add_row(
        Text("producer", style="dim"),
        *(Text(r.setup.producer_text(), style="dim") for r in result.runs.values()),
    )
    t.add_row(
        Text("copier", style="dim"), *(Text(r.setup.copier_text(), style="dim") for r in result.runs.values())
    )
    for m in MEASURES:
        t.add_row(
            Text(m.label, style="bold" if m.problem else ""),
            *(_number_text(int(getattr(sb, m.attr)), m.problem) for sb in result.scoreboards()),
        )
    return t


def _scoreboard_stacked(result: ComparisonResult, width: int) -> list[Any]:
    """One block per setup, every measure named in words, as many per line as fit: readable at 60 columns."""
    from rich.table import Table
    from rich.text import Text

    per_line = max(1, (width - 2) // 24)
    out: list[Any] = []
    for name, run in result.runs.items():
        sb = run.scoreboard
        head = Text(name, style="bold")
        head.append(f"  producer {run.setup.producer_text()} · copier {run.setup.copier_text()}", style="dim")
        out.append(head)
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        for _ in range(per_line):
            grid.add_column(no_wrap=True, min_width=17)
            grid.add_column(no_wrap=True, justify="right", min_width=4)
        cells: list[Any] = []
        for m in MEASURES:
            cells += [
                Text(m.label, style="bold" if m.problem else ""),
                _number_text(int(getattr(sb, m.attr)), m.problem),
            ]
        step = 2 * per_line
        for i in range(0, len(cells), step):
            row = cells[i : i + step]
            grid.add_row(*row, *([""] * (step - len(row))))
        out.append(grid)
    return out


def render_table(result: ComparisonResult, *, problems: int = 3, width: int = 100) -> Any:
    """A Rich renderable for ``width`` columns: the scoreboard (a table when it fits, else one block per
    setup), the schedule at the run's virtual times, the words explained, the first few problems."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [
        Text.assemble(
            ("Compare delivery guarantees", "bold"),
            f"  seed {result.seed} · faults {result.schedule.name} · {result.records} records",
        ),
        Text(f"source → topic in → copier → topic out → sink. {result.schedule.summary}", style="dim"),
        Text(""),
    ]
    if fits_as_table(result, width):
        parts.append(_scoreboard_table(result))
    else:
        parts.extend(_scoreboard_stacked(result, width))
    parts.append(Text(""))
    if result.schedule.steps:
        parts.append(Text("faults (virtual time of the run, as in the ledger):", style="bold"))
        faults = Table.grid(padding=(0, 1))
        faults.add_column(no_wrap=True, justify="right")
        faults.add_column(style="dim")
        for step in result.schedule.steps:
            faults.add_row(f"  at {step.at_ms} ms", FAULT_KINDS[step.kind].format(target=step.target))
        parts.append(faults)
    words = Table.grid(padding=(0, 1))
    words.add_column(no_wrap=True, style="bold")
    words.add_column(style="dim")
    for m in MEASURES:
        words.add_row(m.label, m.meaning)
    parts += [Text("what the numbers count:", style="bold"), words]
    if problems:
        for name, run in result.runs.items():
            bad = [f for f in run.ledger() if f.outcome != "delivered"]
            if not bad:
                continue
            lost = sum(1 for f in bad if f.outcome == "lost")
            dup = len(bad) - lost
            parts.append(Text(f"\n{name}: {lost} lost, {dup} duplicated", style="bold"))
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column()
            for f in bad[:problems]:
                grid.add_row(Text(f"  {f.value}"), Text(f.verdict, style=_OUTCOME_STYLE[f.outcome]))
            parts.append(grid)
            if len(bad) > problems:
                parts.append(
                    Text(f"  … {len(bad) - problems} more (kafkalab compare --ledger {name!r})", style="dim")
                )
    return Group(*parts)


_OUTCOME_STYLE = {"delivered": "green", "lost": "bold red", "duplicated": "bold yellow"}


def render_ledger(result: ComparisonResult, setup: str, only_problems: bool = False) -> Any:
    from rich.console import Group
    from rich.text import Text

    out: list[Any] = []
    for f in result.ledger(setup):
        if only_problems and f.outcome == "delivered":
            continue
        out.append(
            Text(f"{f.value} (key {f.key}) — ", style="bold")
            + Text(f.verdict, style=_OUTCOME_STYLE[f.outcome])
        )
        for s in f.journey:
            out.append(Text(f"  {s.time_ms:>7} ms  {s.what}", style="dim"))
        if f.cause is not None:
            out.append(Text(f"  cause: {f.cause.time_ms} ms  {plain_entry(f.cause.event)}"))
    return Group(*out)


def list_schedules() -> list[str]:
    lines = []
    for s in BUILTIN_SCHEDULES.values():
        lines.append(f"{s.name:<15} {s.summary}")
        for step in s.steps:
            lines.append(f"{'':<15}   {step.describe()}")
    return lines


def main(args: Any) -> int:
    """The ``kafkalab compare`` sub-command (``args`` from :func:`add_arguments`)."""
    from rich.console import Console

    if args.list_faults:
        for line in list_schedules():
            print(line)
        return 0
    setups: Sequence[str] | None = None
    if args.setups:
        setups = [s for chunk in args.setups for s in chunk.split(",") if s.strip()]
        if setups == ["all"]:
            setups = list(SETUP_PRESETS)
    try:
        result = run_comparison(args.seed, args.faults, setups, args.records)
    except ValueError as e:
        print(f"kafkalab compare: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(result.to_json(ledger=args.ledger is not None))
        return 0
    width = args.width
    if width is None:  # the terminal's width; piped: $COLUMNS or 80, as other tools do
        probe = Console()
        width = probe.width if probe.is_terminal else int(os.environ.get("COLUMNS") or 80)
    console = Console(width=max(40, width))
    console.print(render_table(result, width=console.width))
    if args.ledger is not None:
        name = args.ledger or next(iter(result.runs))
        if name not in result.runs:
            print(
                f"kafkalab compare: no setup {name!r} in this run ({', '.join(result.runs)})", file=sys.stderr
            )
            return 2
        console.print(render_ledger(result, name, only_problems=args.problems_only))
    return 0


def add_arguments(p: Any) -> None:
    from .argtypes import int_between

    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of every cluster (default {DEFAULT_SEED})"
    )
    p.add_argument(
        "--faults",
        default=DEFAULT_SCHEDULE,
        metavar="NAME",
        help=f"fault schedule: {', '.join(BUILTIN_SCHEDULES)} (default {DEFAULT_SCHEDULE})",
    )
    p.add_argument(
        "--setups",
        action="append",
        metavar="LIST",
        help="comma-separated setups: presets "
        + ", ".join(SETUP_PRESETS)
        + f", 'all', or MODE/ACKS[/idem|/no-idem] (e.g. alo/1); default: {','.join(DEFAULT_CHOICE)}",
    )
    p.add_argument(
        "--records",
        type=int_between(1, MAX_RECORDS, "records"),
        default=DEFAULT_RECORDS,
        help=f"records the source produces, 1 to {MAX_RECORDS} (default {DEFAULT_RECORDS})",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--ledger",
        nargs="?",
        const="",
        metavar="SETUP",
        help="also print the per-record fate ledger of SETUP (default: the first setup)",
    )
    p.add_argument("--problems-only", action="store_true", help="with --ledger: only lost/duplicated records")
    p.add_argument("--list-faults", action="store_true", help="list the built-in fault schedules and exit")
    p.add_argument(
        "--width",
        type=int,
        default=None,
        help="output width in columns (default: the terminal's; piped: $COLUMNS or 80)",
    )
