"""Console commands for Schema Registry and Kafka Connect (``schema-registry``, ``connect``, ``curl``, files).

- ``schema-registry start|kill|restart|status`` and ``connect start|kill-worker|restart-worker|status`` run
  the processes; ``curl`` talks to their REST APIs exactly as on a real machine (``curl -X POST -H
  'Content-Type: application/json' --data '{...}' http://localhost:8083/connectors``); ``localhost:8081`` is
  ``schema-registry-1``, ``localhost:8083`` is ``connect-1``.
- ``echo TEXT >> FILE``, ``seq FIRST LAST >> FILE`` and ``cat FILE`` work on the lab's files directory
  (where FileStreamSource reads and FileStreamSink writes). They are recorded actions, so a rewind rebuilds
  the files.
- ``kafka-avro-console-producer`` / ``kafka-json-schema-console-producer`` (``--property value.schema=...``)
  and ``kafka-avro-console-consumer`` / ``kafka-json-schema-console-consumer``: Confluent's tools, with the
  wire format and the registry.

Every command keeps its processes in ``session.extension_state["platform"]``: a rewind replays the commands
and rebuilds them.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fastavro
import jsonschema
import jsonschema.exceptions

from ..commands.base import Plan, require_topic
from ..commands.parsing import CommandError, Opt, parse_options
from ..commands.session import BackgroundConsumer, ConsoleProducer
from ..sim.clients.common import OFFSET_BEGINNING, OFFSET_END, TopicPartition
from .connect.plugins import ConfigError, resolve_file
from .connect.worker import ConnectWorker
from .process import HttpClient, HttpError, parse_url
from .schema_registry.registry import SchemaRegistry
from .schema_registry.serde import (
    SchemaRegistryClient,
    SchemaRegistryError,
    SerializationError,
    frame,
    unframe,
)

if TYPE_CHECKING:
    from ..commands.session import LabSession

__all__ = ["PLATFORM_COMMANDS", "PLATFORM_OPTIONS", "Platform", "platform_of"]

REGISTRY_PORT = 8081
CONNECT_PORT = 8083
_LOCAL = ("localhost", "127.0.0.1", "0.0.0.0", "::1")


class Platform:
    """The platform processes of one run (kept in ``extension_state``; rebuilt by a rewind)."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.registries: dict[str, SchemaRegistry] = {}
        self.workers: dict[str, ConnectWorker] = {}
        #: records Schema Registry-aware console consumers decoded, by (topic, writer's schema id)
        self.decoded: Counter[tuple[str, int]] = Counter()
        self._curl: HttpClient | None = None

    def curl_client(self) -> HttpClient:
        if self._curl is None:
            self._curl = HttpClient(self.cluster, self.cluster.next_client_name("curl"))
        return self._curl

    def resolve(self, host: str, port: int) -> str:
        """The node a URL's host names: localhost:8081 is schema-registry-1, localhost:8083 connect-1."""
        if host in _LOCAL:
            if port == REGISTRY_PORT:
                return "schema-registry-1"
            if port == CONNECT_PORT:
                return "connect-1"
        if host == "schema-registry":
            return "schema-registry-1"
        if host == "connect":
            return "connect-1"
        return host

    def registry_client(self) -> SchemaRegistryClient:
        if not any(r.alive for r in self.registries.values()):
            raise CommandError("Schema Registry is not running (start it with: schema-registry start)")
        first = next(iter(self.registries.values()))
        return SchemaRegistryClient(self.cluster, {"url": first.url})


def platform_of(session: LabSession) -> Platform:
    state = session.extension_state
    p = state.get("platform")
    if not isinstance(p, Platform) or p.cluster is not session.cluster:
        p = Platform(session.cluster)
        state["platform"] = p
    return p


def _instance(argv: list[str], usage: str, default: int = 1) -> int:
    if not argv:
        return default
    try:
        return int(argv[0].rsplit("-", 1)[-1])
    except ValueError:
        raise CommandError(f"'{argv[0]}' is not an instance number (usage: {usage})") from None


# == schema-registry ======================================================================================
_SR_USAGE = "schema-registry start [--instances N] [--compatibility LEVEL] | kill [N] | restart [N] | status"
_SR_OPTS = [
    Opt("instances", "int", help="how many registry instances (1-3, default 1); they elect a leader"),
    Opt("compatibility", "str", help="schema.compatibility.level of the registry (default BACKWARD)"),
]


def schema_registry(session: LabSession, argv: list[str]) -> Plan:
    if not argv or argv[0] not in ("start", "kill", "restart", "status"):
        raise CommandError(f"usage: {_SR_USAGE}")
    verb, rest = argv[0], argv[1:]
    plat = platform_of(session)
    if verb == "status":
        return Plan(lambda: _sr_status(plat))
    if verb == "start":
        p = parse_options(rest, _SR_OPTS)
        n = p.get_int("instances") if p.has("instances") else 1
        if n is None or not 1 <= n <= 3:
            raise CommandError("--instances must be between 1 and 3")
        level = (p.get_str("compatibility") or "BACKWARD").upper()
        from .schema_registry.schemas import COMPATIBILITY_LEVELS

        if level not in COMPATIBILITY_LEVELS:
            raise CommandError(f"--compatibility must be one of {', '.join(COMPATIBILITY_LEVELS)}")
        if plat.registries:
            raise CommandError("Schema Registry is already started (schema-registry status)")

        def start() -> list[str]:
            for i in range(1, n + 1):
                plat.registries[f"schema-registry-{i}"] = SchemaRegistry(
                    plat.cluster, f"schema-registry-{i}", {"schema.compatibility.level": level.lower()}
                )
            regs = list(plat.registries.values())
            plat.cluster.run_until(lambda: any(r.is_leader for r in regs), 60_000)
            lines = [f"{r.name}: {r.url} ({'leader' if r.is_leader else r.phase})" for r in regs]
            return lines + [
                f"schema.registry.url=http://localhost:{REGISTRY_PORT} (is {regs[0].name}); state in topic _schemas, "
                f"compatibility {level}",
            ]

        return Plan(start, records=True)
    n = _instance(rest, _SR_USAGE)
    name = f"schema-registry-{n}"
    reg = plat.registries.get(name)
    if reg is None:
        raise CommandError(f"there is no {name} (start Schema Registry with: schema-registry start)")
    if verb == "kill":
        if not reg.alive:
            raise CommandError(f"{name} is already down")
        return Plan(
            lambda: (reg.kill(), [f"{name} killed (kill -9): its schemas stay in topic _schemas"])[1],
            records=True,
        )
    if reg.alive:
        raise CommandError(f"{name} is running (kill it first)")

    def restart() -> list[str]:
        reg.restart()
        plat.cluster.run_until(lambda: reg.ready, 30_000)
        return [
            f"{name} restarted: it read {reg.records_read} record(s) of _schemas back into memory "
            f"({len(reg.describe()['subjects'])} subject(s))"
        ]

    return Plan(restart, records=True)


def _sr_status(plat: Platform) -> list[str]:
    if not plat.registries:
        return ["Schema Registry is not started (schema-registry start)"]
    out = []
    for r in plat.registries.values():
        d = r.describe()
        role = "leader" if d["is_leader"] else d["state"]
        out.append(
            f"{d['name']}: {role}; leader {d['leader'] or 'unknown'}; {len(d['subjects'])} subject(s), "
            f"{d['schemas']} schema id(s); _schemas read to offset {d['offset']}; global compatibility "
            f"{d['compatibility']}"
        )
    return out


# == connect ==============================================================================================
_CONNECT_USAGE = (
    "connect start [--workers N] [--offset-flush-interval-ms MS] [--scheduled-rebalance-max-delay-ms MS]"
    " [--offset-storage-partitions N] | kill-worker N | restart-worker N | status"
)
_CONNECT_OPTS = [
    Opt("workers", "int", help="how many workers (1-4, default 2)"),
    Opt("offset-flush-interval-ms", "int", help="how often tasks commit their offsets (default 60000)"),
    Opt(
        "scheduled-rebalance-max-delay-ms",
        "int",
        help="how long the leader waits for a vanished worker before moving its work (default 300000)",
    ),
    Opt("offset-storage-partitions", "int", help="partitions of topic connect-offsets (1-64, default 25)"),
]


def connect(session: LabSession, argv: list[str]) -> Plan:
    if not argv or argv[0] not in ("start", "kill-worker", "restart-worker", "status"):
        raise CommandError(f"usage: {_CONNECT_USAGE}")
    verb, rest = argv[0], argv[1:]
    plat = platform_of(session)
    if verb == "status":
        return Plan(lambda: _connect_status(plat))
    if verb == "start":
        p = parse_options(rest, _CONNECT_OPTS)
        n = p.get_int("workers") if p.has("workers") else 2
        if n is None or not 1 <= n <= 4:
            raise CommandError("--workers must be between 1 and 4")
        cfg: dict[str, Any] = {}
        for opt, key, lo in (
            ("offset-flush-interval-ms", "offset.flush.interval.ms", 100),
            ("scheduled-rebalance-max-delay-ms", "scheduled.rebalance.max.delay.ms", 0),
        ):
            if p.has(opt):
                v = p.get_int(opt)
                if v is None or not lo <= v <= 3_600_000:
                    raise CommandError(f"--{opt} must be between {lo} and 3600000")
                cfg[key] = v
        if p.has("offset-storage-partitions"):
            v = p.get_int("offset-storage-partitions")
            if v is None or not 1 <= v <= 64:
                raise CommandError("--offset-storage-partitions must be between 1 and 64")
            cfg["offset.storage.partitions"] = v
        if plat.workers:
            raise CommandError("Connect is already started (connect status)")

        def start() -> list[str]:
            (plat.cluster.data_dir / "files").mkdir(parents=True, exist_ok=True)
            for i in range(1, n + 1):
                plat.workers[f"connect-{i}"] = ConnectWorker(plat.cluster, f"connect-{i}", cfg)
            ws = list(plat.workers.values())
            plat.cluster.run_until(lambda: all(w.phase == "running" for w in ws), 60_000)
            return [f"{w.name}: {w.url} ({'leader' if w.is_leader else w.phase})" for w in ws] + [
                f"connect.url=http://localhost:{CONNECT_PORT} (is connect-1); group connect-cluster; topics "
                "connect-configs, connect-offsets, connect-status; files in "
                f"{plat.cluster.data_dir / 'files'}"
            ]

        return Plan(start, records=True)
    n = _instance(rest, _CONNECT_USAGE, default=-1)
    name = f"connect-{n}"
    w = plat.workers.get(name)
    if w is None:
        raise CommandError(
            f"there is no worker {name} (workers: {', '.join(plat.workers) or 'none: connect start'})"
        )
    if verb == "kill-worker":
        if not w.alive:
            raise CommandError(f"{name} is already down")

        def kill() -> list[str]:
            running = [t["id"] for t in w.describe()["tasks"]]
            w.kill()
            delay = int(w.config["scheduled.rebalance.max.delay.ms"])
            return [
                f"{name} killed (kill -9) while running {', '.join(running) or 'no task'}; the others notice after "
                f"session.timeout.ms={w.config['session.timeout.ms']} ms and wait "
                f"scheduled.rebalance.max.delay.ms={delay} ms before moving its work"
            ]

        return Plan(kill, records=True)
    if w.alive:
        raise CommandError(f"{name} is running (kill-worker it first)")

    def restart() -> list[str]:
        w.restart()
        return [f"{name} restarted: it reads the internal topics and rejoins group connect-cluster"]

    return Plan(restart, records=True)


def _connect_status(plat: Platform) -> list[str]:
    if not plat.workers:
        return ["Connect is not started (connect start)"]
    out = []
    for w in plat.workers.values():
        d = w.describe()
        tasks = (
            ", ".join(f"{t['id']} {t['state']} ({t['records']} records)" for t in d["tasks"]) or "no tasks"
        )
        lead = " leader" if d["leader"] else ""
        out.append(
            f"{d['name']}: {d['state']}{lead}, generation {d['generation']}; connectors "
            f"{', '.join(d['connectors']) or 'none'}; tasks {tasks}"
        )
    live = next((w for w in plat.workers.values() if w.alive and w.ready), None)
    if live is not None:
        for name in sorted(live.connector_configs):
            st = live.connector_status(name)
            tasks = (
                ", ".join(f"{t['id']}:{t['state']}@{t['worker_id']}" for t in st["tasks"]) or "no tasks yet"
            )
            out.append(
                f"  connector {name} ({st['type']}): {st['connector']['state']} on "
                f"{st['connector']['worker_id']}; tasks {tasks}"
            )
    return out


# == curl =================================================================================================
def curl(session: LabSession, argv: list[str]) -> Plan:
    method: str | None = None
    data: str | None = None
    include = False
    url: str | None = None
    i = 0
    while i < len(argv):
        a = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if a in ("-X", "--request"):
            if nxt is None:
                raise CommandError("curl: option -X: requires parameter")
            method, i = nxt.upper(), i + 2
        elif a in ("-H", "--header"):
            if nxt is None:
                raise CommandError("curl: option -H: requires parameter")
            i += 2
        elif a in ("-d", "--data", "--data-raw", "--data-binary"):
            if nxt is None:
                raise CommandError(f"curl: option {a}: requires parameter")
            data, i = nxt, i + 2
        elif a in ("-s", "--silent", "-S", "-sS", "-L", "-v"):
            i += 1
        elif a in ("-i", "--include"):
            include, i = True, i + 1
        elif a.startswith("-"):
            raise CommandError(f"curl: option {a}: is unknown (this curl knows -X, -H, -d/--data, -i, -s)")
        else:
            if url is not None:
                raise CommandError("curl: give one URL")
            url, i = a, i + 1
    if url is None:
        raise CommandError("curl: no URL specified! (e.g. curl http://localhost:8081/subjects)")
    try:
        host, port, path, query = parse_url(url)
    except ValueError as e:
        raise CommandError(f"curl: (3) URL rejected: {e}") from None
    m = method or ("POST" if data is not None else "GET")
    plat = platform_of(session)
    node = plat.resolve(host, port)

    def run() -> list[str]:
        client = plat.curl_client()
        try:
            status, body = client.request_blocking(node, port, m, path, query, (data or "").encode())
        except HttpError as e:
            code = 28 if e.kind == "timeout" else 7
            raise CommandError(f"curl: ({code}) {str(e).replace(node, host, 1)}") from None
        text = body.decode("utf-8", "replace")
        lines = [f"HTTP/1.1 {status}"] if include else []
        return lines + (text.splitlines() or ([] if include else [""]))

    return Plan(run, records=m != "GET")


# == files ================================================================================================
def _lab_file(session: LabSession, name: str) -> Any:
    try:
        return resolve_file(session.cluster.data_dir, name)
    except ConfigError as e:
        raise CommandError(str(e)) from None


def _redirect(argv: list[str], cmd: str) -> tuple[list[str], str | None, bool]:
    for op in (">>", ">"):
        if op in argv:
            i = argv.index(op)
            if i + 1 >= len(argv):
                raise CommandError(f"{cmd}: syntax error near unexpected token `newline'")
            return argv[:i], argv[i + 1], op == ">>"
    return argv, None, False


def _write_lines(session: LabSession, target: str | None, append: bool, lines: list[str]) -> list[str]:
    if target is None:
        return lines
    path = _lab_file(session, target)

    def run() -> list[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        return []

    return run  # type: ignore[return-value]


def echo(session: LabSession, argv: list[str]) -> Plan:
    words, target, append = _redirect(argv, "echo")
    out = _write_lines(session, target, append, [" ".join(words)])
    return Plan(out, records=True) if callable(out) else Plan(lambda: out)


def seq(session: LabSession, argv: list[str]) -> Plan:
    words, target, append = _redirect(argv, "seq")
    try:
        nums = [int(w) for w in words]
    except ValueError:
        raise CommandError("seq: usage: seq [FIRST] LAST [>> FILE]") from None
    if len(nums) not in (1, 2):
        raise CommandError("seq: usage: seq [FIRST] LAST [>> FILE]")
    first, last = (1, nums[0]) if len(nums) == 1 else (nums[0], nums[1])
    if last - first > 100_000:
        raise CommandError("seq: at most 100000 lines at once")
    out = _write_lines(session, target, append, [str(i) for i in range(first, last + 1)])
    return Plan(out, records=True) if callable(out) else Plan(lambda: out)


def cat(session: LabSession, argv: list[str]) -> Plan:
    if len(argv) != 1:
        raise CommandError("cat: usage: cat FILE (a file of the lab's files directory)")
    path = _lab_file(session, argv[0])

    def run() -> list[str]:
        if not path.exists():
            raise CommandError(f"cat: {argv[0]}: No such file or directory")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if len(lines) > 2000:
            return lines[-2000:] + [f"(the last 2000 of {len(lines)} lines)"]
        return lines

    return Plan(run)


def wc(session: LabSession, argv: list[str]) -> Plan:
    """``wc [-l] [-w] [-c] FILE...``: newline, word and byte counts, one line per file (and a total)."""
    flags = [a for a in argv if a.startswith("-")]
    names = [a for a in argv if not a.startswith("-")]
    picked = set()
    for f in flags:
        if f in ("--lines", "--words", "--bytes"):
            picked.add(f[2])
            continue
        if len(f) < 2 or not set(f[1:]) <= set("lwc"):
            raise CommandError(
                f"wc: invalid option -- '{f.lstrip('-')[:1] or '-'}' (this wc knows -l, -w, -c)"
            )
        picked |= set(f[1:])
    if not names:
        raise CommandError("wc: usage: wc [-l] [-w] [-c] FILE... (files of the lab's files directory)")
    columns = [c for c in "lwc" if c in picked] or ["l", "w", "c"]
    paths = [(name, _lab_file(session, name)) for name in names]

    def run() -> list[str]:
        rows: list[tuple[list[int], str]] = []
        for name, path in paths:
            if not path.exists():
                raise CommandError(f"wc: {name}: No such file or directory")
            data = path.read_bytes()
            counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
            rows.append(([counts[c] for c in columns], name))
        if len(rows) > 1:
            rows.append(([sum(r[0][i] for r in rows) for i in range(len(columns))], "total"))
        width = max(len(str(n)) for r in rows for n in r[0])
        return [" ".join(str(n).rjust(width) for n in counts) + f" {name}" for counts, name in rows]

    return Plan(run)


# == Confluent's console tools ============================================================================
@dataclass
class _Codec:
    kind: str  # AVRO or JSON
    schema_str: str
    parsed: Any

    def encode(self, line: str) -> bytes:
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise CommandError(f"Error deserializing json {line} to {self.label()}: {e}") from None
        if self.kind == "AVRO":
            buf = io.BytesIO()
            try:
                fastavro.schemaless_writer(buf, self.parsed, obj)
            except Exception as e:
                raise CommandError(
                    f"Error deserializing json {line} to Avro of schema {self.schema_str}: {e}"
                ) from None
            return buf.getvalue()
        try:
            jsonschema.validate(obj, self.parsed)
        except jsonschema.exceptions.ValidationError as e:
            raise CommandError(f"Error serializing JSON message: validation failed: {e.message}") from None
        return json.dumps(obj, separators=(",", ":")).encode()

    def label(self) -> str:
        return "Avro" if self.kind == "AVRO" else "JSON Schema"


class _SerializingProducer:
    """The console producer's producer, serializing each line with the schema (like the Confluent tool)."""

    def __init__(self, producer: Any, codec: _Codec, schema_id: int) -> None:
        self._p, self._codec, self._id = producer, codec, schema_id

    def produce(self, topic: str, value: Any = None, key: Any = None, **kw: Any) -> None:
        payload = self._codec.encode(value.decode() if isinstance(value, bytes) else str(value))
        self._p.produce(topic, value=frame(self._id, payload), key=key, **kw)

    def __len__(self) -> int:
        return len(self._p)

    def __getattr__(self, name: str) -> Any:
        # only reached for names not set on self; while unpickling (a time-travel checkpoint) ``_p`` is
        # not set yet, and looking it up through getattr would recurse forever
        if name.startswith("__") or name == "_p":
            raise AttributeError(name)
        return getattr(self._p, name)


_PRODUCER_OPTS = [
    Opt("topic", "str", help="the topic"),
    Opt("property", "str", multi=True, help="value.schema=SCHEMA (required), schema.registry.url=URL"),
    Opt("bootstrap-server", "str", help="accepted and ignored"),
]
_CONSUMER_OPTS = [
    Opt("topic", "str", help="the topic"),
    Opt("from-beginning", help="start at the earliest offset"),
    Opt("group", "str", help="consumer group"),
    Opt("property", "str", multi=True, help="schema.registry.url=URL, print.key=true"),
    Opt("bootstrap-server", "str", help="accepted and ignored"),
]


def _props(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise CommandError(f"property '{v}' must look like key=value")
        k, _, val = v.partition("=")
        out[k.strip()] = val
    return out


def _schema_console_producer(kind: str, tool: str) -> Callable[[LabSession, list[str]], Plan]:
    def handler(session: LabSession, argv: list[str]) -> Plan:
        p = parse_options(argv, _PRODUCER_OPTS)
        topic = p.get_str("topic")
        if not topic:
            raise CommandError(f"usage: {tool} --topic T --property value.schema='SCHEMA'")
        require_topic(session.cluster, topic, tool)
        props = _props(p.get_list("property"))
        schema_str = props.get("value.schema")
        if not schema_str:
            raise CommandError(f"{tool}: --property value.schema=... is required (the schema of the values)")
        try:
            obj = json.loads(schema_str) if schema_str.strip()[:1] in '{["' else schema_str
            parsed = fastavro.parse_schema(obj) if kind == "AVRO" else obj
            if kind == "JSON":
                jsonschema.validators.validator_for(obj).check_schema(obj)
        except Exception as e:
            raise CommandError(f"{tool}: invalid value.schema: {e}") from None
        plat = platform_of(session)
        client = plat.registry_client()

        def start() -> list[str]:
            from .schema_registry.serde import Schema

            try:
                sid = client.register_schema(f"{topic}-value", Schema(schema_str, kind))
            except SchemaRegistryError as e:
                raise CommandError(f"{tool}: {e.error_message} (error code {e.error_code})") from None
            name = plat.cluster.next_client_name(
                "avro-console-producer" if kind == "AVRO" else "json-console-producer"
            )
            producer = plat.cluster.producer({"acks": "all"}, name=name)
            w = session._w
            cp = ConsoleProducer(
                w,
                name,
                topic,
                _SerializingProducer(producer, _Codec(kind, schema_str, parsed), sid),
                False,
                "\t",
                False,
                f"{tool} --topic {topic}",
            )
            cp.empty_line_ends = True
            w.clients[name] = cp
            w.console_producer = cp
            return [
                f"{name}: schema registered under subject {topic}-value with id {sid}; type one JSON record per "
                "line; '.exit' or an empty line ends."
            ]

        return Plan(start, records=True)

    return handler


class SchemaConsoleConsumer(BackgroundConsumer):
    """kafka-avro-console-consumer: decodes each record with its writer's schema, fetching unknown ids."""

    def __init__(
        self,
        world: Any,
        name: str,
        topic: str,
        consumer: Any,
        client: SchemaRegistryClient,
        group: str | None,
        print_key: bool,
        decoded: Counter[tuple[str, int]] | None = None,
    ) -> None:
        super().__init__(world, name, topic, consumer, group=group, console=True)
        self.client = client
        self.print_key = print_key
        #: records decoded, by (topic, writer's schema id): the platform's tally (lesson goals read it)
        self.decoded: Counter[tuple[str, int]] = Counter() if decoded is None else decoded
        self.pending: list[Any] = []
        self.fetching: set[int] = set()
        self._decoders: dict[int, Callable[[bytes], Any]] = {}

    def _decoder(self, sid: int) -> Callable[[bytes], Any] | None:
        if sid in self._decoders:
            return self._decoders[sid]
        s = self.client.cached_schema(sid)
        if s is None:
            return None
        if s.schema_type == "AVRO":
            text = s.schema_str
            parsed = fastavro.parse_schema(json.loads(text) if text.strip()[:1] in "{[" else text)
            self._decoders[sid] = lambda b: fastavro.schemaless_reader(io.BytesIO(b), parsed, None)
        else:
            self._decoders[sid] = lambda b: json.loads(b)
        return self._decoders[sid]

    def _poll_once(self) -> None:
        self.pending.extend(m for m in self.consumer.consume(500, timeout=0) if m.error() is None)
        while self.pending:
            m = self.pending[0]
            try:
                sid, payload = unframe(m.value())
            except SerializationError as e:
                self.errors += 1
                self.world.emit(
                    f"[{self.name}] ERROR org.apache.kafka.common.errors.SerializationException: {e} "
                    f"(offset {m.offset()})"
                )
                self.pending.pop(0)
                continue
            dec = self._decoder(sid)
            if dec is None:
                if (
                    sid not in self.fetching
                ):  # an unknown id: ask the registry, print in order once it answers
                    self.fetching.add(sid)
                    self.client.get_schema_async(
                        sid,
                        lambda _s, sid=sid: self.fetching.discard(sid),
                        lambda e, sid=sid: self._fetch_failed(sid, e),
                    )
                break
            self.pending.pop(0)
            try:
                text = json.dumps(dec(payload), separators=(",", ":"))
            except Exception as e:
                self.errors += 1
                self.world.emit(f"[{self.name}] ERROR Error deserializing payload for id {sid}: {e}")
                continue
            self.consumed += 1
            self.decoded[(m.topic(), sid)] += 1
            key = m.key()
            prefix = (
                ("null" if key is None else key.decode("utf-8", "replace")) + "\t" if self.print_key else ""
            )
            self.world.emit(f"[{self.name}] {prefix}{text}")
        self._timer = self.consumer.schedule(100, "lab-poll", self._fire, self.name)

    def _fetch_failed(self, sid: int, e: Exception) -> None:
        self.fetching.discard(sid)
        self.world.emit(f"[{self.name}] ERROR could not fetch schema id {sid}: {e}")
        self.pending = [m for m in self.pending if m.value()[1:5] != sid.to_bytes(4, "big")]


def _schema_console_consumer(kind: str, tool: str) -> Callable[[LabSession, list[str]], Plan]:
    def handler(session: LabSession, argv: list[str]) -> Plan:
        p = parse_options(argv, _CONSUMER_OPTS)
        topic = p.get_str("topic")
        if not topic:
            raise CommandError(f"usage: {tool} --topic T [--from-beginning] [--group G]")
        parts = require_topic(session.cluster, topic, tool)
        props = _props(p.get_list("property"))
        plat = platform_of(session)
        client = plat.registry_client()
        group = p.get_str("group")

        def start() -> list[str]:
            name = plat.cluster.next_client_name(
                "avro-console-consumer" if kind == "AVRO" else "json-console-consumer"
            )
            cfg: dict[str, Any] = {"auto.offset.reset": "earliest" if p.has("from-beginning") else "latest"}
            if group:
                cfg["group.id"] = group
            consumer = plat.cluster.consumer(cfg, name=name)
            if group:
                consumer.subscribe([topic])
            else:
                start_at = OFFSET_BEGINNING if p.has("from-beginning") else OFFSET_END
                consumer.assign([TopicPartition(topic, pi.partition, start_at) for pi in parts])
            bc = SchemaConsoleConsumer(
                session._w,
                name,
                topic,
                consumer,
                client,
                group,
                props.get("print.key", "false").lower() == "true",
                plat.decoded,
            )
            session._w.clients[name] = bc
            return [
                f"{name} is consuming {topic} with the writer's schema of each record (fetched from the "
                f"registry by id); 'stop {name}' ends it."
            ]

        return Plan(start, records=True)

    return handler


#: name -> (summary, usage, handler)
PLATFORM_COMMANDS: dict[str, tuple[str, str, Callable[[LabSession, list[str]], Plan]]] = {
    "schema-registry": ("run Schema Registry (start, kill, restart, status)", _SR_USAGE, schema_registry),
    "connect": (
        "run a Kafka Connect cluster (start, kill-worker, restart-worker, status)",
        _CONNECT_USAGE,
        connect,
    ),
    "curl": (
        "call the REST APIs of Schema Registry (:8081) and Connect (:8083)",
        "curl [-X METHOD] [-H HEADER] [-d DATA] [-i] URL",
        curl,
    ),
    "echo": ("write a line to a file of the lab (echo TEXT >> FILE)", "echo TEXT [>> FILE]", echo),
    "seq": ("write numbered lines to a file (seq 1 100 >> in.txt)", "seq [FIRST] LAST [>> FILE]", seq),
    "cat": ("print a file of the lab's files directory", "cat FILE", cat),
    "wc": ("count the lines (-l), words (-w) and bytes (-c) of files of the lab", "wc [-l] FILE...", wc),
    "kafka-avro-console-producer": (
        "type JSON records, sent as Avro with a registered schema",
        "kafka-avro-console-producer --topic T --property value.schema='SCHEMA'",
        _schema_console_producer("AVRO", "kafka-avro-console-producer"),
    ),
    "kafka-avro-console-consumer": (
        "print Avro records as JSON (schemas fetched from the registry)",
        "kafka-avro-console-consumer --topic T [--from-beginning] [--group G]",
        _schema_console_consumer("AVRO", "kafka-avro-console-consumer"),
    ),
    "kafka-json-schema-console-producer": (
        "type JSON records, validated and sent with a registered JSON Schema",
        "kafka-json-schema-console-producer --topic T --property value.schema='SCHEMA'",
        _schema_console_producer("JSON", "kafka-json-schema-console-producer"),
    ),
    "kafka-json-schema-console-consumer": (
        "print JSON Schema records",
        "kafka-json-schema-console-consumer --topic T [--from-beginning]",
        _schema_console_consumer("JSON", "kafka-json-schema-console-consumer"),
    ),
}

PLATFORM_OPTIONS: dict[str, list[Opt]] = {
    "schema-registry": _SR_OPTS,
    "connect": _CONNECT_OPTS,
    "kafka-avro-console-producer": _PRODUCER_OPTS,
    "kafka-json-schema-console-producer": _PRODUCER_OPTS,
    "kafka-avro-console-consumer": _CONSUMER_OPTS,
    "kafka-json-schema-console-consumer": _CONSUMER_OPTS,
}
