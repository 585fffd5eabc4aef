"""``mirror-maker``: MirrorMaker 2 between two clusters of the lab (``sandbox --clusters east:3,west:3``).

``mirror-maker start east->west`` starts MirrorMaker's dedicated mode for that flow as a simulated process
running in the ``west`` site; ``--set key=value`` takes MirrorMaker's own settings (``sync.group.offsets.
enabled=true``, ``emit.checkpoints.interval.seconds=5`` ...). ``mirror-maker checkpoints`` prints the
checkpoints topic the way Kafka's ``CheckpointFormatter`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Plan
from .parsing import CommandError, Opt, parse_kv, parse_options

if TYPE_CHECKING:
    from ..platform.mirror import MirrorMaker
    from .session import LabSession

__all__ = ["MIRROR_OPTIONS", "MIRROR_USAGE", "mirror_command"]

MIRROR_USAGE = (
    "mirror-maker start SOURCE->TARGET [--topics REGEX] [--groups REGEX] [--set key=value ...]  |  mirror-maker "
    "status  |  mirror-maker kill|restart|stop [SOURCE->TARGET]  |  mirror-maker checkpoints [SOURCE->TARGET] "
    "[--group G]"
)

MIRROR_OPTIONS: list[Opt] = [
    Opt("topics", "str", help="topics to replicate (regexes, comma-separated; default .*)"),
    Opt("groups", "str", help="consumer groups to checkpoint (default .*)"),
    Opt("set", "str", multi=True, help="a MirrorMaker setting, e.g. sync.group.offsets.enabled=true"),
    Opt("group", "str", help="checkpoints: only this group"),
]

_SUB = ("start", "status", "kill", "restart", "stop", "checkpoints")


def _mirrors(session: LabSession) -> dict[str, MirrorMaker]:
    return session.extension_state.setdefault("mirror", {})  # type: ignore[no-any-return]


def _world(session: LabSession) -> Any:
    world = getattr(session._w, "world", None)
    if world is None:
        raise CommandError(
            "mirror-maker needs two clusters: start the lab with e.g. 'kafkalab sandbox --clusters east:3,west:3'"
        )
    return world


def _flow(session: LabSession, text: str) -> tuple[str, str]:
    world = _world(session)
    if "->" not in text:
        raise CommandError(f"a replication flow is written SOURCE->TARGET, e.g. east->west (got '{text}')")
    a, b = (x.strip() for x in text.split("->", 1))
    for c in (a, b):
        if c not in world.clusters:
            raise CommandError(f"there is no cluster '{c}' (clusters: {', '.join(world.clusters)})")
    if a == b:
        raise CommandError("the source and target of a flow must be different clusters")
    return a, b


def _pick(session: LabSession, positionals: list[str]) -> MirrorMaker:
    mirrors = _mirrors(session)
    if not mirrors:
        raise CommandError("no MirrorMaker is running (mirror-maker start east->west)")
    if positionals:
        a, b = _flow(session, positionals[0])
        key = f"{a}->{b}"
        if key not in mirrors:
            raise CommandError(f"no MirrorMaker for {key} (flows: {', '.join(mirrors)})")
        return mirrors[key]
    if len(mirrors) > 1:
        raise CommandError(f"several flows run ({', '.join(mirrors)}): name one")
    return next(iter(mirrors.values()))


def mirror_command(session: LabSession, argv: list[str]) -> Plan:
    from ..platform.mirror import MirrorMaker, MirrorMakerConfigError

    if not argv or argv[0] not in _SUB:
        raise CommandError(f"usage: {MIRROR_USAGE}")
    sub, rest = argv[0], argv[1:]
    p = parse_options(rest, MIRROR_OPTIONS, max_positionals=1)
    if sub == "start":
        if not p.positionals:
            raise CommandError(f"usage: {MIRROR_USAGE}")
        a, b = _flow(session, p.positionals[0])
        key = f"{a}->{b}"
        old = _mirrors(session).get(key)
        if old is not None and old.running:
            raise CommandError(f"MirrorMaker for {key} runs already (mirror-maker restart {key})")
        cfg: dict[str, Any] = {}
        if p.has("topics"):
            cfg["topics"] = p.get_str("topics")
        if p.has("groups"):
            cfg["groups"] = p.get_str("groups")
        for kv in p.get_list("set"):
            k, v = parse_kv(kv, "setting")
            cfg[k] = v
        world = _world(session)
        try:
            mm = MirrorMaker(world, a, b, cfg)
        except MirrorMakerConfigError as e:
            raise CommandError(str(e)) from None

        def start() -> list[str]:
            mm.start()
            _mirrors(session)[key] = mm
            c = mm.config
            return [
                f"MirrorMaker {key} started ({mm.name}, running in {b}): topics {c['topics']!r} -> {a}.<topic>",
                f"  checkpoints every {c['emit.checkpoints.interval.seconds']} s, group offset sync "
                f"{'on' if c['sync.group.offsets.enabled'] == 'true' else 'off'}, new topics looked for every "
                f"{c['refresh.topics.interval.seconds']} s",
            ]

        return Plan(start, records=True)
    if sub == "status":
        mirrors = _mirrors(session)
        if not mirrors:
            return Plan(lambda: ["no MirrorMaker yet (mirror-maker start east->west)"])
        return Plan(lambda: [line for m in mirrors.values() for line in m.describe()])
    mm = _pick(session, p.positionals)
    if sub == "kill":
        if not mm.running:
            raise CommandError(f"{mm.name} is not running")
        return Plan(
            lambda: (mm.kill(), [f"{mm.name} killed: positions since its last offset flush are lost"])[1],
            records=True,
        )
    if sub == "stop":
        if not mm.running:
            raise CommandError(f"{mm.name} is not running")
        return Plan(lambda: (mm.stop(), [f"{mm.name} stopped"])[1], records=True)
    if sub == "restart":
        return Plan(
            lambda: (mm.restart(), [f"{mm.name} restarted: it resumes from {mm.offsets_topic}"])[1],
            records=True,
        )
    group = p.get_str("group")
    return Plan(lambda: _checkpoints(session, mm, group))


def _checkpoints(session: LabSession, mm: MirrorMaker, group: str | None) -> list[str]:
    """Read ``<source>.checkpoints.internal`` in the target (what CheckpointFormatter prints)."""
    from ..platform.mirror_records import Checkpoint

    target = mm.tgt
    if mm.checkpoints_topic not in target.topics():
        return [f"{mm.checkpoints_topic} does not exist yet"]
    out = target.read_all(mm.checkpoints_topic, client="checkpoint-reader")
    lines = []
    for _part, recs in sorted(out.items()):
        for _off, k, v in recs:
            if k is None or v is None:
                continue
            try:
                cp = Checkpoint.decode(k, v)
            except Exception:
                continue
            if group is not None and cp.group != group:
                continue
            lines.append(
                f"Checkpoint{{consumerGroupId={cp.group}, topicPartition={cp.topic}-{cp.partition}, "
                f"upstreamOffset={cp.upstream}, downstreamOffset={cp.downstream}, metadata={cp.metadata}}}"
            )
    return lines or [
        f"no checkpoint in {mm.checkpoints_topic} yet" + (f" for group {group}" if group else "")
    ]
