"""Lab verbs: break the cluster (kill, pause, partition), drive time (step, run, rewind), run workloads."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..sim.clients.common import OFFSET_BEGINNING, OFFSET_END, TopicPartition
from .base import GROUPS_UNAVAILABLE, Plan, groups_available, live_broker_ids, require_topic
from .parsing import CommandError, Opt, clip, parse_float, parse_int, parse_options
from .session import MAX_SPEED, MIN_SPEED, BackgroundConsumer, BackgroundProducer

if TYPE_CHECKING:
    from .session import LabSession

__all__ = ["LAB_OPTIONS", "LAB_HANDLERS", "MAX_RUN_EVENTS", "MAX_RUN_MS", "MAX_STEP_EVENTS", "parse_duration"]

#: the longest virtual time one ``run`` command moves
MAX_RUN_MS = 3_600_000
#: one ``run`` stops after this many simulation events, so the lab answers again within seconds (a cluster
#: with a 10,000 records/s producer makes ~3,500 events per virtual second, an idle one ~20)
MAX_RUN_EVENTS = 100_000
#: ``run`` works in slices of this much virtual time (where it can stop); the result equals one long run
RUN_SLICE_MS = 100
#: the largest seed (a signed 64-bit long, as Kafka's tools and Java's Random take it)
MAX_SEED = 2**63 - 1
#: the most events one ``step N`` runs (each is printed; a busy cluster runs ~20,000 per wall second)
MAX_STEP_EVENTS = 10_000

_CLIENT_NAME_RX = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")


def parse_duration(text: str, what: str) -> int:
    """Virtual milliseconds: ``500``, ``500ms``, ``2s``, ``1.5s``, ``3m``, ``1h``."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?", text.strip().lower())
    if not m:
        raise CommandError(f"{what} must be a duration like 500, 500ms, 2s or 1m, not '{clip(text)}'")
    factor = {"ms": 1, None: 1, "s": 1000, "m": 60_000, "h": 3_600_000}[m.group(2)]
    return int(Decimal(m.group(1)) * factor)  # exact for any number of digits (a float overflows)


def _one_positional(argv: list[str], usage: str, *, optional: bool = False) -> str | None:
    p = parse_options(argv, [], max_positionals=1)
    if not p.positionals:
        if optional:
            return None
        raise CommandError(f"usage: {usage}")
    return p.positionals[0]


def _broker(session: LabSession, text: str) -> int:
    ids = sorted(session.cluster.brokers)
    try:
        n = int(text)
    except ValueError:
        raise CommandError(
            f"'{clip(text)}' is not a broker id (brokers: {', '.join(map(str, ids))})"
        ) from None
    if n not in session.cluster.brokers:
        raise CommandError(f"there is no broker {clip(str(n))} (brokers: {', '.join(map(str, ids))})")
    return n


def _broker_state(session: LabSession, n: int) -> str:
    for b in session.cluster.describe_cluster().brokers:
        if b.broker_id == n:
            return b.state
    return "down"


def kill_broker(session: LabSession, argv: list[str]) -> Plan:
    n = _broker(session, _one_positional(argv, "kill-broker BROKER_ID") or "")
    if _broker_state(session, n) == "down":
        raise CommandError(f"broker {n} is already down")

    def run() -> list[str]:
        session.cluster.kill_broker(n)
        return [
            f"broker {n} killed (kill -9): it keeps its log files; the controller fences it after "
            f"broker.session.timeout.ms={session.cluster.broker_config('broker.session.timeout.ms')} ms"
        ]

    return Plan(run, records=True)


def restart_broker(session: LabSession, argv: list[str]) -> Plan:
    n = _broker(session, _one_positional(argv, "restart-broker BROKER_ID") or "")
    if _broker_state(session, n) != "down":
        raise CommandError(f"broker {n} is running (use kill-broker first, or resume-broker if it is paused)")

    def run() -> list[str]:
        session.cluster.restart_broker(n)
        return [f"broker {n} restarted: it recovers its logs and rejoins the cluster"]

    return Plan(run, records=True)


def pause_broker(session: LabSession, argv: list[str]) -> Plan:
    n = _broker(session, _one_positional(argv, "pause-broker BROKER_ID") or "")
    state = _broker_state(session, n)
    if state != "up":
        raise CommandError(f"broker {n} is {state}, only a running broker can be paused")

    def run() -> list[str]:
        session.cluster.pause_broker(n)
        return [
            f"broker {n} paused (like SIGSTOP or a long GC pause): it keeps its memory but answers nothing"
        ]

    return Plan(run, records=True)


def resume_broker(session: LabSession, argv: list[str]) -> Plan:
    n = _broker(session, _one_positional(argv, "resume-broker BROKER_ID") or "")
    state = _broker_state(session, n)
    if state != "paused":
        raise CommandError(f"broker {n} is {state}, not paused")

    def run() -> list[str]:
        session.cluster.resume_broker(n)
        return [f"broker {n} resumed"]

    return Plan(run, records=True)


def _controller(session: LabSession, text: str) -> int:
    ids = [cid for cid, _s in session.cluster.describe_cluster().controllers]
    try:
        n = int(text)
    except ValueError:
        raise CommandError(
            f"'{clip(text)}' is not a controller id (controllers: {', '.join(map(str, ids))})"
        ) from None
    if n not in ids:
        raise CommandError(f"there is no controller {clip(str(n))} (controllers: {', '.join(map(str, ids))})")
    return n


def kill_controller(session: LabSession, argv: list[str]) -> Plan:
    text = _one_positional(argv, "kill-controller [CONTROLLER_ID]", optional=True)
    info = session.cluster.describe_cluster()
    states = dict(info.controllers)
    if text is None:
        if info.controller_id is None:
            raise CommandError("there is no active controller to kill (give a controller id)")
        n = info.controller_id
    else:
        n = _controller(session, text)
    if states.get(n) == "down":
        raise CommandError(f"controller {n} is already down")

    def run() -> list[str]:
        session.cluster.kill_controller(n)
        return [f"controller {n} killed"]

    return Plan(run, records=True)


def restart_controller(session: LabSession, argv: list[str]) -> Plan:
    n = _controller(session, _one_positional(argv, "restart-controller CONTROLLER_ID") or "")
    if dict(session.cluster.describe_cluster().controllers).get(n) != "down":
        raise CommandError(f"controller {n} is running")

    def run() -> list[str]:
        session.cluster.restart_controller(n)
        return [f"controller {n} restarted"]

    return Plan(run, records=True)


def _side(session: LabSession, text: str) -> list[int | str]:
    cluster = session.cluster
    ctrl_ids = {cid for cid, _s in cluster.describe_cluster().controllers}
    out: list[int | str] = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        if re.fullmatch(r"\d{1,9}", item):
            n = int(item)
            if n not in cluster.brokers and n not in ctrl_ids:
                raise CommandError(
                    f"there is no broker or controller {clip(str(n))} (brokers: "
                    f"{', '.join(map(str, sorted(cluster.brokers)))})"
                )
            out.append(n)
        elif item in cluster.net.nodes:
            out.append(item)
        else:
            raise CommandError(
                f"there is no node '{item}' (use broker ids like 1,2 or node names like broker-1)"
            )
    if not out:
        raise CommandError("a side of the partition is empty")
    return out


def _node_name(session: LabSession, item: int | str) -> str:
    if isinstance(item, str):
        return item
    cluster = session.cluster
    if item in cluster.brokers:
        return str(cluster.brokers[item].name)
    return str(cluster.quorum.voters[item].name)


def partition(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [], max_positionals=2)
    if not p.positionals:
        raise CommandError(
            "usage: partition SIDE_A [SIDE_B]   e.g. 'partition 1,2 3' or 'partition 2' (isolate 2)"
        )
    a = _side(session, p.positionals[0])
    b = _side(session, p.positionals[1]) if len(p.positionals) > 1 else None
    names_a = {_node_name(session, x) for x in a}
    if b is not None:
        both = names_a & {_node_name(session, x) for x in b}
        if both:
            raise CommandError(f"{', '.join(sorted(both))} cannot be on both sides of a partition")

    def run() -> list[str]:
        session.cluster.partition(a, b)
        other = ", ".join(sorted(_node_name(session, x) for x in b)) if b is not None else "everyone else"
        return [f"network partition: {', '.join(sorted(names_a))} cannot reach {other}"]

    return Plan(run, records=True)


def heal(session: LabSession, argv: list[str]) -> Plan:
    parse_options(argv, [])
    world = getattr(session._w, "world", None)
    links = world.cut_pairs() if world is not None else []
    if not session.cluster.describe_cluster().network_cuts and not links:
        return Plan(lambda: ["the network is already whole"])

    def run() -> list[str]:
        session.cluster.heal()
        if links:  # several clusters: heal also repairs the links between them
            world.heal()
        return ["network healed: every node can reach every other node again"]

    return Plan(run, records=True)


_START_PRODUCER_OPTS = [
    Opt("topic", "str", help="topic to produce to"),
    Opt("rate", "float", help="records per second of virtual time (default 1)"),
    Opt("acks", "str", help="0, 1 or all (default all)"),
    Opt("idempotence", "str", help="true or false (default: true with acks=all)"),
    Opt("linger-ms", "int", help="linger.ms (default 5)"),
    Opt("key-count", "int", help="use keys key-0 .. key-(K-1) round robin (default: no keys)"),
]

_START_CONSUMER_OPTS = [
    Opt("topic", "str", help="topic to consume"),
    Opt("group", "str", help="consumer group (subscribe); without it the consumer assigns all partitions"),
    Opt("from-beginning", help="start at the earliest offset (auto.offset.reset=earliest)"),
]


def _new_client_name(session: LabSession, argv: list[str], usage: str) -> tuple[str, list[str]]:
    if not argv or argv[0].startswith("-"):
        raise CommandError(f"usage: {usage}")
    name = argv[0]
    if not _CLIENT_NAME_RX.fullmatch(name):
        raise CommandError(
            f"'{clip(name)}' is not a valid client name (letters, digits, '.', '_', '-'; starts with a letter)"
        )
    if name in session.clients:
        raise CommandError(f"a client named '{name}' is already running")
    if name in session.cluster.net.nodes:
        raise CommandError(f"'{name}' is already the name of a node of the cluster; pick another name")
    return name, argv[1:]


def start_producer(session: LabSession, argv: list[str]) -> Plan:
    usage = "start-producer NAME --topic T [--rate R] [--acks 0|1|all] [--idempotence true|false] [--linger-ms N] [--key-count K]"
    name, rest = _new_client_name(session, argv, usage)
    p = parse_options(rest, _START_PRODUCER_OPTS)
    topic = p.get_str("topic")
    if topic is None:
        raise CommandError(f'Missing required argument "[topic]" (usage: {usage})')
    require_topic(session.cluster, topic, "start-producer")
    rate = p.get_float("rate") if p.has("rate") else 1.0
    assert rate is not None
    if not 0 < rate <= 10_000:
        raise CommandError("--rate must be more than 0 and at most 10000 records/s")
    acks = (p.get_str("acks") or "all").lower()
    acks = "all" if acks == "-1" else acks
    if acks not in ("0", "1", "all"):
        raise CommandError(f"--acks must be 0, 1 or all, not '{acks}'")
    cfg: dict[str, Any] = {"acks": acks}
    idem_text = p.get_str("idempotence")
    if idem_text is not None:
        if idem_text.lower() not in ("true", "false"):
            raise CommandError(f"--idempotence must be true or false, not '{idem_text}'")
        idem = idem_text.lower() == "true"
        if idem and acks != "all":
            raise CommandError(
                "--idempotence true requires --acks all (Kafka: 'Must set acks to all in order to "
                "use the idempotent producer')"
            )
        cfg["enable.idempotence"] = idem
    idempotent = cfg.get("enable.idempotence", acks == "all")
    if p.has("linger-ms"):
        linger = p.get_int("linger-ms")
        assert linger is not None
        if linger < 0:
            raise CommandError("--linger-ms must be 0 or more")
        cfg["linger.ms"] = linger
    key_count = p.get_int("key-count") if p.has("key-count") else 0
    assert key_count is not None
    if key_count < 0:
        raise CommandError("--key-count must be 0 or more")
    settings = f"acks={acks}, idempotence={'on' if idempotent else 'off'}"
    if "linger.ms" in cfg:
        settings += f", linger.ms={cfg['linger.ms']}"

    def run() -> list[str]:
        producer = session.cluster.producer(dict(cfg), name=name)
        w = session._w
        w.clients[name] = BackgroundProducer(w, name, topic, producer, rate, key_count, settings)
        return [f"started producer {name}: {rate:g} records/s to {topic} ({settings})"]

    return Plan(run, records=True)


def start_consumer(session: LabSession, argv: list[str]) -> Plan:
    usage = "start-consumer NAME --topic T [--group G] [--from-beginning]"
    name, rest = _new_client_name(session, argv, usage)
    p = parse_options(rest, _START_CONSUMER_OPTS)
    topic = p.get_str("topic")
    if topic is None:
        raise CommandError(f'Missing required argument "[topic]" (usage: {usage})')
    parts = require_topic(session.cluster, topic, "start-consumer")
    group = p.get_str("group")
    if group is not None and not groups_available(session.cluster):
        raise CommandError(GROUPS_UNAVAILABLE)
    begin = p.has("from-beginning")
    cfg: dict[str, Any] = {"auto.offset.reset": "earliest" if begin else "latest"}
    if group is not None:
        cfg["group.id"] = group
    n_parts = len(parts)

    def run() -> list[str]:
        consumer = session.cluster.consumer(dict(cfg), name=name)
        if group is not None:
            consumer.subscribe([topic])
        else:
            start = OFFSET_BEGINNING if begin else OFFSET_END
            consumer.assign([TopicPartition(topic, i, start) for i in range(n_parts)])
        w = session._w
        w.clients[name] = BackgroundConsumer(w, name, topic, consumer, group=group, console=False)
        how = f"in group {group}" if group else "assigned to every partition (no group)"
        return [
            f"started consumer {name} on {topic} {how}, {'from the beginning' if begin else 'new records only'}"
        ]

    return Plan(run, records=True)


def stop(session: LabSession, argv: list[str]) -> Plan:
    name = _one_positional(argv, "stop NAME") or ""
    client = session.clients.get(name)
    if client is None:
        running = ", ".join(sorted(session.clients)) or "none"
        raise CommandError(f"no running client named '{clip(name)}' (running: {running})")

    def run() -> list[str]:
        return client.stop()

    return Plan(run, records=True)


def crash_consumer(session: LabSession, argv: list[str]) -> Plan:
    name = _one_positional(argv, "crash-consumer NAME") or ""
    client = session.clients.get(name)
    if client is None or not isinstance(client, BackgroundConsumer):
        running = ", ".join(
            sorted(n for n, c in session.clients.items() if isinstance(c, BackgroundConsumer))
        )
        raise CommandError(
            f"no running consumer named '{clip(name)}' (running consumers: {running or 'none'})"
        )

    def run() -> list[str]:
        lines = client.crash()
        if client.group:
            timeout = client.consumer.config.get("session.timeout.ms", 45000)
            lines.append(
                f"it did not leave group {client.group}: the coordinator notices only after "
                f"session.timeout.ms={timeout} ms without heartbeats, then rebalances"
            )
        return lines

    return Plan(run, records=True)


def speed(session: LabSession, argv: list[str]) -> Plan:
    text = _one_positional(argv, "speed X", optional=True)
    if text is None:
        return Plan(lambda: [f"speed {session.speed:g}x (virtual ms per wall ms)"])
    x = parse_float(text.rstrip("xX"), "speed")
    if not MIN_SPEED <= x <= MAX_SPEED:
        raise CommandError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {clip(text)}")

    def run() -> list[str]:
        session.speed = x
        return [f"speed {x:g}x"]

    return Plan(run)


def seed(session: LabSession, argv: list[str]) -> Plan:
    text = _one_positional(argv, "seed S")
    s = parse_int(text or "", "seed")
    if not 0 <= s <= MAX_SEED:
        raise CommandError(f"seed must be between 0 and {MAX_SEED}")

    def run() -> list[str]:
        session.reseed(s)
        return [f"new cluster from seed {s} (everything before is gone)"]

    return Plan(run, kind="time")


def step(session: LabSession, argv: list[str]) -> Plan:
    text = _one_positional(argv, "step [N]", optional=True)
    n = parse_int(text, "step") if text is not None else 1
    if not 1 <= n <= MAX_STEP_EVENTS:
        raise CommandError(
            f"step takes a number of events between 1 and {MAX_STEP_EVENTS} (use run for longer)"
        )

    def run() -> list[str]:
        events = []
        for _ in range(n):
            ev = session.step()
            if ev is None:
                break
            events.append(ev)
        lines = [f"{ev.time_ms:>9} ms  {ev.node:<16} {ev.kind} {ev.detail}".rstrip() for ev in events[-50:]]
        if len(events) > 50:
            lines.insert(0, f"... {len(events) - 50} earlier events not shown")
        if not events:
            lines.append("nothing is scheduled: the simulation is idle")
        return lines

    return Plan(run, kind="time")


def run_cmd(session: LabSession, argv: list[str]) -> Plan:
    text = _one_positional(argv, "run DURATION   (virtual time, e.g. run 500, run 2s, run 1m)")
    ms = parse_duration(text or "", "run")
    if not 0 < ms <= MAX_RUN_MS:
        raise CommandError(f"run takes a duration between 1 ms and {MAX_RUN_MS // 3_600_000} h")

    def run() -> list[str]:
        first, target = session.events, session.now_ms + ms
        while session.now_ms < target:
            session.tick(min(RUN_SLICE_MS, target - session.now_ms))
            done = session.events - first
            if done >= MAX_RUN_EVENTS and session.now_ms < target:
                return [
                    f"stopped at t={session.now_ms} ms after {done:,} events: one run command runs at most "
                    f"{MAX_RUN_EVENTS:,} events, so the lab stays responsive; type run again to go on"
                ]
        return [f"ran {ms} ms of virtual time; now t={session.now_ms} ms"]

    return Plan(run, kind="time")


def rewind(session: LabSession, argv: list[str]) -> Plan:
    p = parse_options(argv, [Opt("to", "str", help="virtual time to go back to")], max_positionals=1)
    if p.has("to") and p.positionals:
        raise CommandError("usage: rewind [N]  or  rewind --to TIME")
    if p.has("to"):
        target = parse_duration(p.get_str("to") or "", "rewind --to")
        if target > session.now_ms:
            raise CommandError(f"cannot rewind forward: now is t={session.now_ms} ms")

        def to_time() -> list[str]:
            session.rewind_to(target)
            return [f"rewound to t={session.now_ms} ms (replayed {len(session.actions)} actions)"]

        return Plan(to_time, kind="time")
    n = parse_int(p.positionals[0], "rewind") if p.positionals else 1
    if n < 1:
        raise CommandError("rewind takes a number of events, at least 1")

    def by_events() -> list[str]:
        session.rewind_events(n)
        return [
            f"rewound to event {session.events}, t={session.now_ms} ms (replayed {len(session.actions)} actions)"
        ]

    return Plan(by_events, kind="time")


def status(session: LabSession, argv: list[str]) -> Plan:
    parse_options(argv, [])

    def run() -> list[str]:
        c = session.cluster
        info = c.describe_cluster()
        lines = [f"t={c.now_ms} ms  events={session.events}  seed={session.seed}  speed={session.speed:g}x"]
        brokers = []
        for b in info.brokers:
            state = b.state.upper() if b.state != "up" else "up"
            fenced = ", fenced" if b.fenced and b.state != "down" else ""
            brokers.append(f"{b.broker_id} {state}{fenced} (leads {b.partitions_led})")
        lines.append("brokers: " + "; ".join(brokers))
        ctrls = ", ".join(
            f"{cid} {st}{' (active)' if cid == info.controller_id else ''}" for cid, st in info.controllers
        )
        lines.append(f"controllers: {ctrls}")
        if info.network_cuts:
            lines.append("network cuts: " + ", ".join(f"{a} x {b}" for a, b in info.network_cuts))
        else:
            lines.append("network: whole")
        live = live_broker_ids(c)
        for t in c.topics():
            parts = c.describe_topic(t)
            under = sum(1 for x in parts if len(x.isr) < len(x.replicas))
            offline = sum(1 for x in parts if x.leader < 0 or x.leader not in live)
            end = sum(max(0, x.high_watermark) for x in parts)
            lines.append(
                f"topic {t}: {len(parts)} partitions, {under} under-replicated, {offline} unavailable, "
                f"{end} records below the high watermarks"
            )
        for cl in session.clients.values():
            lines.append(cl.describe())
        if session.input_mode:
            lines.append(f"input: {session.input_mode}")
        return lines

    return Plan(run)


from .timetravel_verbs import TIME_TRAVEL_HANDLERS, TIME_TRAVEL_OPTIONS  # noqa: E402

LAB_HANDLERS = {
    "kill-broker": kill_broker,
    "restart-broker": restart_broker,
    "pause-broker": pause_broker,
    "resume-broker": resume_broker,
    "kill-controller": kill_controller,
    "restart-controller": restart_controller,
    "partition": partition,
    "heal": heal,
    "start-producer": start_producer,
    "start-consumer": start_consumer,
    "stop": stop,
    "crash-consumer": crash_consumer,
    "speed": speed,
    "seed": seed,
    "step": step,
    "run": run_cmd,
    "rewind": rewind,
    "status": status,
    **TIME_TRAVEL_HANDLERS,  # rewind, redo, branches, step, step-filter, seed
}

LAB_OPTIONS: dict[str, list[Opt]] = {
    "start-producer": _START_PRODUCER_OPTS,
    "start-consumer": _START_CONSUMER_OPTS,
    **TIME_TRAVEL_OPTIONS,
}
