"""``wait-for CONDITION ...``: run virtual time until something becomes true on the cluster.

It is how a learner lets time pass for a reason ("wait until the controller elected a new leader")
instead of for a guessed duration. The cluster runs event by event until the condition holds (then
stops right there) or ``--timeout`` of virtual time passed (default 60 s). Like ``run``, it only moves
time: a rewind reproduces it from the position of the next command.

>>> from kafkalab.commands import LabSession, execute
>>> s = LabSession(brokers=3, seed=42)
>>> _ = execute(s, "kafka-topics --create --topic t --replication-factor 3")
>>> _ = execute(s, "kill-broker 3")
>>> execute(s, "wait-for leader-change t-0").lines[0].split(":")[0]
'waited 9.2 s'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import Plan
from .parsing import CommandError, Opt, parse_options

if TYPE_CHECKING:
    from .session import LabSession

__all__ = [
    "CONDITIONS",
    "DEFAULT_TIMEOUT_MS",
    "MAX_TIMEOUT_MS",
    "WAIT_OPTIONS",
    "WAIT_USAGE",
    "Wait",
    "check_wait_args",
    "parse_wait",
    "run_wait",
    "wait_for",
]

DEFAULT_TIMEOUT_MS = 60_000
MAX_TIMEOUT_MS = 3_600_000
WAIT_USAGE = "wait-for CONDITION ARGS [--timeout DURATION]   (conditions: 'help wait-for')"
WAIT_OPTIONS = [Opt("timeout", "str", help="give up after this much virtual time (default 60s, at most 1h)")]

#: condition -> (arguments, what it waits for)
CONDITIONS: dict[str, tuple[str, str]] = {
    "leader-change": ("PARTITION", "a live leader other than the one it has now (an election)"),
    "offline": ("PARTITION", "the partition has no leader (leader none)"),
    "online": ("PARTITION", "the partition has a live leader"),
    "isr": ("PARTITION N", "the ISR of the partition has exactly N replicas"),
    "in-sync": ("PARTITION [BROKER]", "every replica (or BROKER) is in the partition's ISR"),
    "fenced": ("BROKER", "the controller fenced the broker (its heartbeats stopped)"),
    "unfenced": ("BROKER", "the broker is registered and not fenced"),
    "controller-change": ("", "another controller than now is the active controller"),
    "stable": ("GROUP [MEMBERS]", "the group is Stable (with MEMBERS members)"),
    "rebalance": ("GROUP", "the group completed a rebalance: a newer generation, Stable again"),
    "caught-up": ("CLIENT", "a console consumer read everything up to the high watermark"),
}
_ARGS = {
    "leader-change": (1, 1),
    "offline": (1, 1),
    "online": (1, 1),
    "isr": (2, 2),
    "in-sync": (1, 2),
    "fenced": (1, 1),
    "unfenced": (1, 1),
    "controller-change": (0, 0),
    "stable": (1, 2),
    "rebalance": (1, 1),
    "caught-up": (1, 1),
}
_PARTITION_RX = re.compile(r"(.+)-(\d{1,6})")
_DURATION_RX = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)\s*(ms|s|m|h)?")


def _duration(text: str) -> int:
    m = _DURATION_RX.fullmatch(text.strip().lower())
    if not m:
        raise CommandError(f"--timeout must be a duration like 30s or 2m, not '{text}'")
    factor = {"ms": 1, None: 1, "s": 1000, "m": 60_000, "h": 3_600_000}[m.group(2)]
    ms = int(float(m.group(1)) * factor)
    if not 1 <= ms <= MAX_TIMEOUT_MS:
        raise CommandError("--timeout must be between 1 ms and 1h")
    return ms


def _split(argv: list[str]) -> tuple[str, list[str], int]:
    """(condition, its arguments, timeout ms); CommandError when the words are wrong."""
    p = parse_options(argv, WAIT_OPTIONS, max_positionals=3)
    if not p.positionals:
        raise CommandError(f"usage: {WAIT_USAGE}")
    cond, args = p.positionals[0], p.positionals[1:]
    if cond not in CONDITIONS:
        import difflib

        close = difflib.get_close_matches(cond, list(CONDITIONS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise CommandError(f"no condition '{cond}'{hint}; conditions: {', '.join(CONDITIONS)}")
    lo, hi = _ARGS[cond]
    if not lo <= len(args) <= hi:
        spec = CONDITIONS[cond][0]
        raise CommandError(f"usage: wait-for {cond}{' ' + spec if spec else ''} [--timeout DURATION]")
    timeout = _duration(p.get_str("timeout") or "") if p.has("timeout") else DEFAULT_TIMEOUT_MS
    spec_words = CONDITIONS[cond][0].replace("[", "").replace("]", "").split()
    for word, value in zip(spec_words, args, strict=False):
        if word == "PARTITION" and not _PARTITION_RX.fullmatch(value):
            raise CommandError(f"'{value}' is not a partition (write it as TOPIC-N, e.g. events-0)")
        if word in ("BROKER", "N", "MEMBERS") and not re.fullmatch(r"\d{1,4}", value):
            raise CommandError(f"'{value}' is not a {'broker id' if word == 'BROKER' else 'number'}")
    return cond, args, timeout


def check_wait_args(argv: list[str]) -> str | None:
    """What is wrong with the words after ``wait-for`` (judged without a cluster), or None."""
    try:
        _split(argv)
    except CommandError as e:
        return str(e)
    return None


@dataclass
class Wait:
    """A parsed wait: ``holds()`` is checked after every event; ``done()``/``still()`` describe the state."""

    condition: str
    timeout_ms: int
    holds: Callable[[], bool]
    done: Callable[[], str]
    still: Callable[[], str]


def _partition(session: LabSession, text: str) -> tuple[str, int]:
    m = _PARTITION_RX.fullmatch(text)
    if not m:
        raise CommandError(f"'{text}' is not a partition (write it as TOPIC-N, e.g. events-0)")
    topic, index = m.group(1), int(m.group(2))
    if topic not in session.cluster.topics():
        raise CommandError(f"topic '{topic}' does not exist")
    n = len(session.cluster.describe_topic(topic))
    if index >= n:
        raise CommandError(f"topic {topic} has no partition {index} (it has {n})")
    return topic, index


def _info(session: LabSession, tp: tuple[str, int]) -> Any:
    for p in session.cluster.describe_topic(tp[0]):
        if p.partition == tp[1]:
            return p
    raise CommandError(f"{tp[0]}-{tp[1]} does not exist")  # pragma: no cover - checked before


def _leader_text(leader: int) -> str:
    return "none" if leader < 0 else f"broker {leader}"


def _broker(session: LabSession, text: str) -> int:
    n = int(text)
    if n not in session.cluster.brokers:
        ids = ", ".join(str(b) for b in sorted(session.cluster.brokers))
        raise CommandError(f"there is no broker {n} (brokers: {ids})")
    return n


def _broker_row(session: LabSession, n: int) -> Any:
    return next(b for b in session.cluster.describe_cluster().brokers if b.broker_id == n)


def parse_wait(session: LabSession, argv: list[str]) -> Wait:
    """Parse and check ``wait-for`` arguments against the cluster; CommandError if they are wrong."""
    cond, args, timeout = _split(argv)
    c = session.cluster
    name = f"{args[0]}" if args else ""

    if cond in ("leader-change", "offline", "online", "isr", "in-sync"):
        tp = _partition(session, args[0])
        first = _info(session, tp)
        start_leader = first.leader

        def live_leader() -> int:
            info = _info(session, tp)
            b = c.brokers.get(info.leader)
            return info.leader if b is not None and b.alive else -1

        if cond == "leader-change":
            return Wait(
                cond,
                timeout,
                lambda: live_leader() >= 0 and live_leader() != start_leader,
                lambda: (
                    f"{name} has a new leader: {_leader_text(_info(session, tp).leader)} "
                    f"(leader epoch {_info(session, tp).leader_epoch})"
                ),
                lambda: f"{name} still has leader {_leader_text(_info(session, tp).leader)}",
            )
        if cond == "offline":
            return Wait(
                cond,
                timeout,
                lambda: _info(session, tp).leader < 0,
                lambda: f"{name} is offline: leader none, ISR {_ids(_info(session, tp).isr)}",
                lambda: f"{name} still has leader {_leader_text(_info(session, tp).leader)}",
            )
        if cond == "online":
            return Wait(
                cond,
                timeout,
                lambda: live_leader() >= 0,
                lambda: f"{name} is online: leader {_leader_text(live_leader())}",
                lambda: f"{name} still has no live leader",
            )
        if cond == "isr":
            want = int(args[1])
            if not 1 <= want <= len(first.replicas):
                raise CommandError(f"{name} has {len(first.replicas)} replicas: its ISR has 1 to that many")
            return Wait(
                cond,
                timeout,
                lambda: len(_info(session, tp).isr) == want,
                lambda: f"the ISR of {name} is {_ids(_info(session, tp).isr)}",
                lambda: f"the ISR of {name} is still {_ids(_info(session, tp).isr)}",
            )
        who = _broker(session, args[1]) if len(args) > 1 else None
        if who is not None and who not in first.replicas:
            raise CommandError(f"broker {who} has no replica of {name} (replicas {_ids(first.replicas)})")

        def in_sync() -> bool:
            info = _info(session, tp)
            return who in info.isr if who is not None else set(info.isr) == set(info.replicas)

        return Wait(
            cond,
            timeout,
            in_sync,
            lambda: f"the ISR of {name} is {_ids(_info(session, tp).isr)}",
            lambda: f"the ISR of {name} is still {_ids(_info(session, tp).isr)}",
        )
    if cond in ("fenced", "unfenced"):
        n = _broker(session, args[0])
        want_fenced = cond == "fenced"

        def fenced_ok() -> bool:
            row = _broker_row(session, n)
            return bool(row.fenced) if want_fenced else (not row.fenced and row.state == "up")

        return Wait(
            cond,
            timeout,
            fenced_ok,
            lambda: f"broker {n} is {'fenced' if want_fenced else 'registered and unfenced'}",
            lambda: (
                f"broker {n} is {_broker_row(session, n).state}"
                + (", fenced" if _broker_row(session, n).fenced else ", not fenced")
            ),
        )
    if cond == "controller-change":
        before = c.describe_cluster().controller_id

        def active() -> int | None:
            return c.describe_cluster().controller_id

        return Wait(
            cond,
            timeout,
            lambda: active() is not None and active() != before,
            lambda: f"controller {active()} is the active controller",
            lambda: (
                "no other controller became active"
                + (f" (still {active()})" if active() is not None else " (there is no active controller)")
            ),
        )
    if cond in ("stable", "rebalance"):
        group = args[0]
        members = int(args[1]) if len(args) > 1 else None
        gen0 = c.describe_group(group).generation

        def stable() -> bool:
            d = c.describe_group(group)
            if d.state != "Stable":
                return False
            if cond == "rebalance" and d.generation <= gen0:
                return False
            return members is None or len(d.members) == members

        def state() -> str:
            d = c.describe_group(group)
            return f"group {group} is {d.state} with {len(d.members)} members, generation {d.generation}"

        return Wait(cond, timeout, stable, state, lambda: "still: " + state())
    # caught-up
    client = session.clients.get(args[0])
    consumer = getattr(client, "consumer", None)
    if consumer is None:
        running = ", ".join(n for n, cl in session.clients.items() if hasattr(cl, "consumer")) or "none"
        raise CommandError(f"no running consumer named '{args[0]}' (running consumers: {running})")

    def caught_up() -> bool:
        if getattr(consumer, "subscription", None) and (
            getattr(consumer, "group_state", "") != "stable"
            or getattr(consumer, "_pending_assignment", None) is not None  # not yet taken by a poll
        ):
            return False
        has_ready = getattr(consumer, "_has_ready", None)
        if callable(has_ready) and has_ready():  # fetched, but not yet returned by poll (not printed)
            return False
        assigned = consumer.assignment()
        for tp, pos in zip(assigned, consumer.position(assigned), strict=True):
            info = _info(session, (tp.topic, tp.partition))
            if info.high_watermark < 0 or pos.offset < info.high_watermark:
                return False
        return True

    return Wait(
        cond,
        timeout,
        caught_up,
        lambda: f"{args[0]} has read everything below the high watermarks ({client.consumed} records)",  # type: ignore[union-attr]
        lambda: f"{args[0]} has not caught up ({client.consumed} records read)",  # type: ignore[union-attr]
    )


def _ids(ids: Any) -> str:
    return ",".join(str(i) for i in ids) or "(empty)"


def _secs(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _at(ms: int) -> str:
    return f"t={ms / 1000:.3f} s"


def run_wait(session: LabSession, wait: Wait, limit_ms: int | None = None) -> tuple[bool, int]:
    """Run events until ``wait`` holds or ``limit_ms`` (default its timeout) passes: (held, ms waited).

    The condition is judged after the first event of each virtual millisecond (the views it reads are
    not cheap, and many events share a millisecond), so the wait stops within a millisecond of the
    moment the condition became true, at the same event in every replay.
    """
    start = session.now_ms
    last = [-1]
    state = [False]

    def holds() -> bool:
        now = session.now_ms
        if now != last[0]:
            last[0] = now
            state[0] = bool(wait.holds())
        return state[0]

    ok = session.cluster.run_until(holds, wait.timeout_ms if limit_ms is None else limit_ms)
    if not ok:
        ok = bool(wait.holds())
    return ok, session.now_ms - start


def finish_lines(session: LabSession, wait: Wait, held: bool, waited_ms: int) -> list[str]:
    """What ``wait-for`` prints; raises CommandError (after the time passed) when it gave up."""
    if not held:
        raise CommandError(
            f"gave up after {_secs(waited_ms)} (now {_at(session.now_ms)}): {wait.still()} "
            "(--timeout waits longer)"
        )
    return [f"waited {_secs(waited_ms)}: {wait.done()} (now {_at(session.now_ms)})"]


def wait_for(session: LabSession, argv: list[str]) -> Plan:
    wait = parse_wait(session, argv)

    def run() -> list[str]:
        held, waited = run_wait(session, wait)
        return finish_lines(session, wait, held, waited)

    return Plan(run, kind="time")


def help_lines() -> list[str]:
    """The conditions, for ``help wait-for``."""
    width = max(len(f"{k} {a}".strip()) for k, (a, _d) in CONDITIONS.items())
    return [f"  {f'{k} {a}'.strip():<{width}}  {d}" for k, (a, d) in CONDITIONS.items()]
