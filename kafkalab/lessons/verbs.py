"""Lesson verbs: console commands that exist only inside lessons (run by :class:`LessonRun`).

``start-copier``, ``copier-step`` and ``restart-copier`` drive :class:`kafkalab.sim.workloads.Copier`, the
consume-transform-produce loop a learner's application would run, to compare delivery guarantees.
A lesson registers them as the session's extension verbs: they go into the action log like any command,
so a rewind replays them and rebuilds the copiers in the new world (``LabSession.extension_state``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..commands.base import CommandResult
from ..commands.parsing import CommandError, Opt, parse_options, split_line

if TYPE_CHECKING:
    from ..commands import LabSession

__all__ = ["VERB_HELP", "VERB_OPTIONS", "VERB_USAGE", "is_verb", "run_verb"]

VERB_USAGE = {
    "start-copier": (
        "start-copier NAME --mode at-most-once|at-least-once|exactly-once --from TOPIC --to TOPIC "
        "[--consumer-property KEY=VALUE]"
    ),
    "copier-step": "copier-step NAME [--count N] [--crash]",
    "restart-copier": "restart-copier NAME",
}

_SUMMARY = {
    "start-copier": "start a copier: consume from one topic, produce to another, commit",
    "copier-step": "run a copier's loop N times (5 records each); --crash kills it midway",
    "restart-copier": "start a crashed copier again: it resumes from what it committed",
}

VERB_OPTIONS: dict[str, list[Opt]] = {
    "start-copier": [
        Opt("mode", "str", help="at-most-once, at-least-once or exactly-once"),
        Opt("from", "str", help="source topic"),
        Opt("to", "str", help="sink topic"),
        Opt(
            "consumer-property",
            "str",
            multi=True,
            help="a config of the copier's consumer: max.poll.interval.ms, session.timeout.ms or "
            "heartbeat.interval.ms (default: 300000, 6000 and 1000 ms)",
        ),
    ],
    "copier-step": [
        Opt("count", "int", help="iterations (default 1)"),
        Opt(
            "crash",
            help="kill -9 the copier in its last iteration between its two actions: at-most-once "
            "after committing the offsets and before writing, the others after writing and before "
            "committing",
        ),
    ],
    "restart-copier": [],
}

#: the consumer configs a learner may set on a copier (its group, offsets and isolation stay the copier's)
_COPIER_CONSUMER_KEYS = ("max.poll.interval.ms", "session.timeout.ms", "heartbeat.interval.ms")

#: mode as the learner types it (the words of the Compare screen) -> the copier's mode
_MODES = {"at-most-once": "at_most_once", "at-least-once": "at_least_once", "exactly-once": "exactly_once"}


def _help(name: str) -> list[str]:
    lines = [f"{name}: {_SUMMARY[name]} (a command of this lesson)", f"usage: {VERB_USAGE[name]}"]
    for o in VERB_OPTIONS[name]:
        arg = "" if o.arg is None else f" {o.metavar or o.arg.upper()}"
        lines.append(f"  --{o.name}{arg}: {o.help}")
    return lines


#: what ``help NAME`` prints for each lesson verb
VERB_HELP: dict[str, list[str]] = {name: _help(name) for name in VERB_USAGE}


def is_verb(name: str) -> bool:
    return name in VERB_USAGE


def _copiers(extras: dict[str, Any]) -> dict[str, Any]:
    return extras.setdefault("copiers", {})


def run_verb(session: LabSession, extras: dict[str, Any], line: str) -> CommandResult:
    try:
        tokens = split_line(line)
        return CommandResult(True, _run(session, extras, tokens[0], tokens[1:]))
    except CommandError as e:
        return CommandResult(False, [], f"{tokens[0] if tokens else 'lesson'}: {e}")
    except Exception as e:  # a Kafka error inside the copier must not take the console down
        return CommandResult(False, [], f"{tokens[0] if tokens else 'lesson'}: {type(e).__name__}: {e}")


def _copier_consumer_config(pairs: list[str]) -> dict[str, Any]:
    """The copier's consumer configs from ``--consumer-property k=v`` (checked as the console consumer's)."""
    from ..commands.kafka_tools.common import _check_consumer_cfg, _client_props
    from ..sim.clients.consumer import CONSUMER_DEFAULTS

    for text in pairs:
        key = text.split("=", 1)[0].strip()
        if key not in _COPIER_CONSUMER_KEYS:
            raise CommandError(
                f"--consumer-property: a copier takes only {', '.join(_COPIER_CONSUMER_KEYS)}, not '{key}'"
            )
    cfg, _warnings = _client_props(pairs, CONSUMER_DEFAULTS, "consumer property")
    _check_consumer_cfg(cfg)
    if cfg.get("max.poll.interval.ms", 1) < 1:
        raise CommandError(
            f"Invalid value {cfg['max.poll.interval.ms']} for configuration max.poll.interval.ms: "
            "Value must be at least 1"
        )
    if cfg.get("heartbeat.interval.ms", 1000) >= cfg.get("session.timeout.ms", 6000):
        raise CommandError("Heartbeat must be set lower than the session timeout")  # GroupRebalanceConfig
    return cfg


def _run(session: LabSession, extras: dict[str, Any], name: str, argv: list[str]) -> list[str]:
    from ..sim.workloads import Copier

    copiers = _copiers(extras)
    p = parse_options(argv, VERB_OPTIONS[name], max_positionals=1)
    if not p.positionals:
        raise CommandError(f"usage: {VERB_USAGE[name]}")
    cname = p.positionals[0]
    cluster = session.cluster
    if name == "start-copier":
        if cname in copiers:
            raise CommandError(f"a copier named '{cname}' exists already")
        typed = (p.get_str("mode") or "").replace("_", "-")
        src, dst = p.get_str("from"), p.get_str("to")
        if typed not in _MODES:
            raise CommandError(f"--mode must be one of {', '.join(_MODES)}")
        mode = _MODES[typed]
        for t in (src, dst):
            if t is None or t not in cluster.topics():
                raise CommandError(f"topic '{t}' does not exist (usage: {VERB_USAGE[name]})")
        assert src is not None and dst is not None
        consumer_config = _copier_consumer_config(p.get_list("consumer-property"))
        copiers[cname] = Copier(
            cluster,
            src,
            dst,
            mode,
            group_id=cname,
            transactional_id=f"{cname}-tx",
            batch=5,
            consumer_config=consumer_config,
        )
        return [f"copier {cname} ({typed}) copies {src} -> {dst} in group {cname}, 5 records per iteration"]
    copier = copiers.get(cname)
    if copier is None:
        raise CommandError(f"no copier named '{cname}' (start one with start-copier)")
    if name == "restart-copier":
        copier.restart()
        return [
            f"copier {cname} restarted: a new process joins group {cname} and resumes from the committed state"
        ]
    if copier.crashed:
        raise CommandError(f"copier {cname} has crashed; restart-copier {cname} first")
    count = p.get_int("count") if p.has("count") else 1
    assert count is not None
    if not 1 <= count <= 100:
        raise CommandError("--count must be between 1 and 100")
    crash = p.has("crash")
    copied = 0
    done = 0
    idle = False
    for i in range(count):
        last = i == count - 1
        waited = 0
        while True:  # wait for records: up to 10 s at first (a restarted copier waits for the
            # coordinator to drop its crashed predecessor), then 3 s
            n = copier.step(timeout_s=1.0, crash_before_commit=crash and last)
            copied += n
            waited += 1
            if n or copier.crashed or waited >= (10 if i == 0 else 3):
                break
        if copier.crashed:
            done += 1
            break
        if n == 0:
            idle = True
            break
        done += 1
    if not copier.crashed:
        copier.settle()  # the COMMIT markers follow the commit by a few ms: let them land
    lines = [f"copier {cname}: {done} iteration(s), {copied} records copied and committed"]
    if idle:
        lines.append(f"copier {cname}: no more records to copy")
    if crash:
        when = (
            "after committing the offsets of its last batch, before writing the copies"
            if copier.mode == "at_most_once"
            else "after writing its last batch, before committing"
        )
        lines.append(f"copier {cname} crashed {when}")
    return lines
