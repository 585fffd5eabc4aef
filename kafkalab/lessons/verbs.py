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

__all__ = ["VERB_OPTIONS", "VERB_USAGE", "is_verb", "run_verb"]

VERB_USAGE = {
    "start-copier": "start-copier NAME --mode at_most_once|at_least_once|exactly_once --from TOPIC --to TOPIC",
    "copier-step": "copier-step NAME [--count N] [--crash-before-commit]",
    "restart-copier": "restart-copier NAME",
}

VERB_OPTIONS: dict[str, list[Opt]] = {
    "start-copier": [
        Opt("mode", "str", help="at_most_once, at_least_once or exactly_once"),
        Opt("from", "str", help="source topic"),
        Opt("to", "str", help="sink topic"),
    ],
    "copier-step": [
        Opt("count", "int", help="iterations (default 1)"),
        Opt("crash-before-commit", help="the process dies after producing and before committing"),
    ],
    "restart-copier": [],
}

_MODES = ("at_most_once", "at_least_once", "exactly_once")


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
        mode = p.get_str("mode")
        src, dst = p.get_str("from"), p.get_str("to")
        if mode not in _MODES:
            raise CommandError(f"--mode must be one of {', '.join(_MODES)}")
        for t in (src, dst):
            if t is None or t not in cluster.topics():
                raise CommandError(f"topic '{t}' does not exist (usage: {VERB_USAGE[name]})")
        assert src is not None and dst is not None
        copiers[cname] = Copier(
            cluster, src, dst, mode, group_id=cname, transactional_id=f"{cname}-tx", batch=5
        )
        return [f"copier {cname} ({mode}) copies {src} -> {dst} in group {cname}, 5 records per iteration"]
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
    crash = p.has("crash-before-commit")
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
