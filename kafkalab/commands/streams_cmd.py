"""``streams``: run Kafka Streams applications from the console (word count, windowed count, enrich).

The applications are built with the lab's Streams DSL (:mod:`kafkalab.platform.streams`); each instance is a
simulated process with its own consumer, restore consumer and producer. Instances can be added, killed and
stopped; ``streams describe`` prints the topology as Kafka's ``Topology.describe()`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .base import Plan
from .lab import parse_duration
from .parsing import CommandError, Opt, parse_options

if TYPE_CHECKING:
    from ..platform.streams import KafkaStreams, Topology
    from .session import LabSession

__all__ = ["STREAMS_OPTIONS", "STREAMS_USAGE", "streams_command"]

APPS = {
    "wordcount": "split each value into words and count every word (group_by -> count)",
    "windowed-count": "count records per key in tumbling or hopping time windows",
    "enrich": "join each record with the --table topic's latest value for its key (stream-table join)",
}

STREAMS_USAGE = (
    "streams start NAME --app wordcount|windowed-count|enrich --from T --to T [--table T] [--instances N] "
    "[--guarantee at_least_once|exactly_once_v2] [--standby N] [--commit-interval MS] [--window 60s] "
    "[--advance 30s] [--grace 0s] [--session-timeout MS]  |  streams add-instance NAME  |  streams kill NAME "
    "[INSTANCE]  |  streams stop NAME  |  streams status [NAME]  |  streams describe NAME  |  streams store "
    "NAME [KEY]"
)

STREAMS_OPTIONS: list[Opt] = [
    Opt("app", "str", help=", ".join(APPS), metavar="APP"),
    Opt("from", "str", help="input topic"),
    Opt("to", "str", help="output topic"),
    Opt("table", "str", help="enrich: the topic read as a table"),
    Opt("instances", "int", help="how many instances to start (default 1)"),
    Opt("guarantee", "str", help="processing.guarantee: at_least_once (default) or exactly_once_v2"),
    Opt("standby", "int", help="num.standby.replicas (default 0)"),
    Opt("commit-interval", "int", help="commit.interval.ms (default 30000, or 100 with exactly_once_v2)"),
    Opt("window", "str", help="windowed-count: window size (default 60s)"),
    Opt("advance", "str", help="windowed-count: hop (default = size: tumbling windows)"),
    Opt("grace", "str", help="windowed-count: grace period (default 0s)"),
    Opt("session-timeout", "int", help="session.timeout.ms of the instances' consumers (default 45000)"),
]

_SUB = ("start", "add-instance", "kill", "stop", "status", "describe", "store")


@dataclass
class _App:
    name: str
    kind: str
    topology: Topology
    config: dict[str, Any]
    store: str | None
    instances: list[KafkaStreams] = field(default_factory=list)
    started: int = 0


def _apps(session: LabSession) -> dict[str, _App]:
    return session.extension_state.setdefault("streams", {})  # type: ignore[no-any-return]


def _app(session: LabSession, name: str | None) -> _App:
    apps = _apps(session)
    if not name:
        raise CommandError(f"usage: {STREAMS_USAGE}")
    if name not in apps:
        known = ", ".join(apps) or "none yet"
        raise CommandError(f"there is no Streams application '{name}' (running: {known})")
    return apps[name]


def _topic(session: LabSession, t: str | None, what: str) -> str:
    if not t:
        raise CommandError(f"--{what} is required")
    if t not in session.cluster.topics():
        raise CommandError(
            f"topic '{t}' does not exist (create it first: kafka-topics --create --topic {t} --partitions 3)"
        )
    return t


def _build(
    kind: str, src: str, dst: str, table: str | None, window_ms: int, advance_ms: int, grace_ms: int
) -> tuple[Any, str]:
    from ..platform.streams import StreamsBuilder, TimeWindows

    b = StreamsBuilder()
    if kind == "wordcount":
        counts = (
            b.stream(src).flat_map_values(lambda line: line.lower().split()).group_by(lambda _k, w: w).count()
        )
        counts.to_stream().map_values(str).to(dst)
        return b.build(), counts.store_name
    if kind == "windowed-count":
        windows = TimeWindows.of_size_and_grace(window_ms, grace_ms)
        if advance_ms != window_ms:
            windows = windows.advance_by(advance_ms)
        counts = b.stream(src).group_by_key().windowed_by(windows).count()
        counts.to_stream().map(lambda k, v: (f"{k.key}@{k.window.start_ms}", str(v))).to(dst)
        return b.build(), counts.store_name
    assert table is not None
    t = b.table(table)
    b.stream(src).join(t, lambda v, tv: f"{v} ({tv})").to(dst)
    return b.build(), t.store_name


def streams_command(session: LabSession, argv: list[str]) -> Plan:
    if not argv or argv[0] not in _SUB:
        raise CommandError(f"usage: {STREAMS_USAGE}")
    sub, rest = argv[0], argv[1:]
    if sub == "start":
        return _start(session, rest)
    if sub == "status":
        p = parse_options(rest, [], max_positionals=1)
        return Plan(lambda: _status(session, p.positionals[0] if p.positionals else None))
    p = parse_options(rest, [], max_positionals=2)
    app = _app(session, p.positionals[0] if p.positionals else None)
    if sub == "describe":
        return Plan(lambda: str(app.topology.describe()).rstrip("\n").split("\n"))
    if sub == "store":
        key = p.positionals[1] if len(p.positionals) > 1 else None
        return Plan(lambda: _store(app, key))
    if sub == "add-instance":
        return Plan(lambda: _add_instance(session, app), records=True)
    if sub == "stop":
        return Plan(lambda: _stop(app), records=True)
    # kill
    running = [i for i, s in enumerate(app.instances) if s.state not in ("NOT_RUNNING", "ERROR")]
    if not running:
        raise CommandError(f"no instance of {app.name} is running")
    if len(p.positionals) > 1:
        label = p.positionals[1]
        idx = next(
            (i for i, s in enumerate(app.instances) if s.client_id in (label, f"{app.name}-{label}")), None
        )
        if idx is None:
            raise CommandError(
                f"{app.name} has no instance '{label}' (instances: "
                f"{', '.join(s.client_id for s in app.instances)})"
            )
        if idx not in running:
            raise CommandError(f"instance {app.instances[idx].client_id} is not running")
    else:
        idx = running[0]

    def kill() -> list[str]:
        inst = app.instances[idx]
        inst.kill()
        return [
            f"{inst.client_id} killed (kill -9): its tasks move to the other instances once its session times out "
            f"(session.timeout.ms={inst.config['session.timeout.ms']})"
        ]

    return Plan(kill, records=True)


def _start(session: LabSession, argv: list[str]) -> Plan:
    from ..platform.streams import StreamsConfigError

    p = parse_options(argv, STREAMS_OPTIONS, max_positionals=1)
    if not p.positionals:
        raise CommandError(f"usage: {STREAMS_USAGE}")
    name = p.positionals[0]
    if name in _apps(session):
        raise CommandError(
            f"a Streams application named '{name}' exists already (streams add-instance {name})"
        )
    kind = p.get_str("app") or ""
    if kind not in APPS:
        raise CommandError(f"--app must be one of: {', '.join(f'{k} ({v})' for k, v in APPS.items())}")
    src = _topic(session, p.get_str("from"), "from")
    dst = _topic(session, p.get_str("to"), "to")
    table = _topic(session, p.get_str("table"), "table") if kind == "enrich" else None
    window = parse_duration(p.get_str("window") or "60s", "--window")
    advance = parse_duration(p.get_str("advance"), "--advance") if p.has("advance") else window
    grace = parse_duration(p.get_str("grace") or "0", "--grace")
    if window <= 0 or not 0 < advance <= window:
        raise CommandError("--window must be > 0 and --advance between 1 ms and the window size")
    n = p.get_int("instances") or 1
    if not 1 <= n <= 5:
        raise CommandError("--instances must be between 1 and 5")
    cfg: dict[str, Any] = {"application.id": name}
    if p.has("guarantee"):
        cfg["processing.guarantee"] = p.get_str("guarantee")
    if p.has("standby"):
        cfg["num.standby.replicas"] = p.get_int("standby")
    if p.has("commit-interval"):
        cfg["commit.interval.ms"] = p.get_int("commit-interval")
    if p.has("session-timeout"):
        st = p.get_int("session-timeout") or 0
        if not 6000 <= st <= 300000:
            raise CommandError(
                "--session-timeout must be between 6000 and 300000 ms (the broker's group limits)"
            )
        cfg["session.timeout.ms"] = st
        cfg["heartbeat.interval.ms"] = max(1000, st // 3)
    try:
        from ..platform.streams.runtime import _check_config

        _check_config(cfg)
    except StreamsConfigError as e:
        raise CommandError(str(e)) from None
    topology, store = _build(kind, src, dst, table, window, advance, grace)

    def run() -> list[str]:
        app = _App(name, kind, topology, cfg, store)
        _apps(session)[name] = app
        lines = [f"Streams application {name} ({kind}): {src} -> {dst}"]
        for _ in range(n):
            lines += _add_instance(session, app)
        return lines

    return Plan(run, records=True)


def _add_instance(session: LabSession, app: _App) -> list[str]:
    from ..platform.streams import KafkaStreams

    app.started += 1
    cfg = dict(app.config)
    cfg["client.id"] = f"{app.name}-{app.started}"
    inst = KafkaStreams(app.topology, cfg, session.cluster)
    inst.start()
    app.instances.append(inst)
    return [f"started instance {inst.client_id} ({inst.config['processing.guarantee']})"]


def _stop(app: _App) -> list[str]:
    out = []
    for inst in app.instances:
        if inst.state not in ("NOT_RUNNING", "ERROR"):
            inst.close()
            out.append(f"closed {inst.client_id}")
    return out or [f"no instance of {app.name} was running"]


def _status(session: LabSession, name: str | None) -> list[str]:
    apps = _apps(session)
    chosen = [_app(session, name)] if name is not None else list(apps.values())
    if not chosen:
        return ["no Streams application yet (streams start NAME --app wordcount --from T --to T)"]
    lines = []
    for app in chosen:
        lines.append(f"{app.name} ({app.kind}, {app.config.get('processing.guarantee', 'at_least_once')}):")
        for inst in app.instances:
            lines += ["  " + x for x in inst.describe()]
    return lines


def _store(app: _App, key: str | None) -> list[str]:
    if app.store is None:
        return [f"{app.name} has no state store"]
    lines = []
    for inst in app.instances:
        if inst.state in ("NOT_RUNNING", "ERROR"):
            continue
        store = inst.store(app.store)
        if key is not None:
            if app.kind == "windowed-count":
                hits = store.fetch(key, 0, 2**62)
                for w, v in hits:
                    lines.append(f"{inst.client_id}: {key} [{w.start_ms}, {w.end_ms}) = {v}")
            else:
                v = store.get(key)
                if v is not None:
                    lines.append(f"{inst.client_id}: {key} = {v}")
            continue
        for k, v in store.all():
            lines.append(f"{inst.client_id}: {k} = {v}")
    if not lines:
        return [f"{app.store}: no entry" + (f" for key {key}" if key else "") + " in any running instance"]
    return [f"store {app.store}:"] + lines
