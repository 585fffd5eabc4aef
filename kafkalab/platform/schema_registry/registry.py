"""A Schema Registry instance: state in the compacted ``_schemas`` topic, leader elected through a group.

How Confluent Schema Registry works, and so how this one does:

- **Storage** (``KafkaStore``): every change is a record of the one-partition, compacted ``_schemas`` topic,
  keyed by JSON (``{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}``, ``CONFIG``,
  ``DELETE_SUBJECT``, ``CLEAR_SUBJECT``, ``NOOP``). Each instance reads the topic from the beginning with a
  consumer of its own and keeps the result in memory; a restart rebuilds it by reading again.
- **Leader election**: the instances join group ``schema-registry`` (protocol type ``sr``); the group leader
  picks the eligible instance with the smallest URL as the registry's leader and every member learns it from
  its assignment. Only the leader writes: it produces (acks=all) and waits until its own reader has read the
  record back; the other instances forward writes to it.
- **Ids**: a new schema gets ``max id + 1``; the same schema under another subject reuses its id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ...sim.clients.admin import AdminClient, NewTopic
from ...sim.clients.common import OFFSET_BEGINNING, TopicPartition
from ...sim.clients.consumer import Consumer
from ...sim.clients.membership import GroupMember
from ...sim.clients.producer import Producer
from ...sim.cluster import Cluster
from ..process import HttpClient, HttpError, OnDone, PlatformProcess
from .schemas import ParsedSchema, parse_schema

__all__ = ["SCHEMAS_TOPIC", "SchemaRegistry", "StoreError"]

SCHEMAS_TOPIC = "_schemas"
GROUP = "schema-registry"
_TICK_MS = 50

REGISTRY_DEFAULTS: dict[str, Any] = {
    "kafkastore.topic": SCHEMAS_TOPIC,
    "kafkastore.topic.replication.factor": 3,
    "kafkastore.timeout.ms": 500,
    "kafkastore.init.timeout.ms": 60000,
    "schema.registry.group.id": GROUP,
    "schema.compatibility.level": "backward",
    "leader.eligibility": True,
    "listeners": "http://0.0.0.0:8081",
}


class StoreError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _key(keytype: str, subject: str | None = None, version: int | None = None) -> bytes:
    if keytype == "SCHEMA":
        obj: dict[str, Any] = {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}
    elif keytype == "NOOP":
        obj = {"keytype": "NOOP", "magic": 0}
    else:
        obj = {"keytype": keytype, "subject": subject, "magic": 0}
    return json.dumps(obj, separators=(",", ":")).encode()


class SchemaRegistry(PlatformProcess):
    """One Schema Registry instance (a simulated process named like its host, e.g. ``schema-registry-1``)."""

    http_port = 8081

    def __init__(
        self, cluster: Cluster, name: str = "schema-registry-1", config: dict[str, Any] | None = None
    ) -> None:
        super().__init__(cluster, name)
        self.config = dict(REGISTRY_DEFAULTS)
        self.config.update(config or {})
        self.topic = str(self.config["kafkastore.topic"])
        self.url = f"http://{name}:{self.http_port}"
        self.timeout_ms = int(self.config["kafkastore.timeout.ms"])
        # the in-memory view of _schemas (rebuilt on every start)
        self.versions: dict[str, dict[int, dict[str, Any]]] = {}
        self.configs: dict[str | None, str] = {}
        self.read_offset = 0
        self.records_read = 0
        #: (member id, url) of the registry's leader as the last rebalance told; None while unknown
        self.leader: tuple[str, str] | None = None
        self.is_leader = False
        self.phase = "stopped"
        self._parsed: dict[tuple[str, str], ParsedSchema] = {}
        self._waiters: list[tuple[int, Callable[[], None]]] = []
        self._pending_writes: list[Callable[[], None]] = []
        #: every registration this instance refused as incompatible (409), like its request log: kept across
        #: restarts (time_ms, subject, compatibility level, the details of the answer)
        self.refusals: list[tuple[int, str, str, list[str]]] = []
        self.boot()

    # == lifecycle ==========================================================================================
    def boot(self) -> None:
        self.versions, self.configs = {}, {}
        self.read_offset = self.records_read = 0
        self.leader, self.is_leader, self.ready = None, False, False
        self._parsed, self._waiters = {}, []
        self.phase = "creating topic"
        self.admin = self.own(AdminClient(self.cluster, {}, name=self.client_name("admin")))
        self.producer = self.own(
            Producer(
                self.cluster, {"acks": "all", "linger.ms": 0, "retries": 0}, name=self.client_name("producer")
            )
        )
        self.reader = self.own(
            Consumer(
                self.cluster,
                {"enable.auto.commit": False, "auto.offset.reset": "earliest", "fetch.max.wait.ms": 100},
                name=self.client_name("reader"),
            )
        )
        self.http = self.own(HttpClient(self.cluster, self.client_name("forwarder")))
        self.member: GroupMember | None = None
        self._topic_future: Any = None
        self.later(0, "sr-start", self._ensure_topic)
        self.later(_TICK_MS, "sr-tick", self._tick)

    def _ensure_topic(self) -> None:
        def have_metadata() -> None:
            if self.topic in self.admin.topics:
                self._start_reader()
                return
            if self._topic_future is None:
                rf = max(
                    1,
                    min(
                        int(self.config["kafkastore.topic.replication.factor"]), len(self.admin.live_brokers)
                    ),
                )
                self._topic_future = self.admin.create_topics(
                    [NewTopic(self.topic, 1, rf, config={"cleanup.policy": "compact"})]
                )[self.topic]
            self.later(100, "sr-start", self._ensure_topic)

        if self._topic_future is not None and self._topic_future.done():
            self._topic_future = None  # created (or it existed): look again
        self.admin.refresh_metadata(have_metadata)

    def _start_reader(self) -> None:
        self.phase = "reading _schemas"
        self.reader.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        # KafkaStore.init: write a NOOP and read up to it, so everything before is in memory
        self._write_noop(self._join_group)

    def _join_group(self) -> None:
        self.phase = "joining group"
        identity = {
            "version": 1,
            "host": self.name,
            "port": self.http_port,
            "scheme": "http",
            "leader_eligibility": bool(self.config["leader.eligibility"]),
        }
        self.member = self.own(
            GroupMember(
                self.cluster,
                {
                    "group.id": self.config["schema.registry.group.id"],
                    "session.timeout.ms": 10000,
                    "heartbeat.interval.ms": 3000,
                    "rebalance.timeout.ms": 300000,
                },
                protocol_type="sr",
                metadata=lambda: [("v0", json.dumps(identity, separators=(",", ":")).encode())],
                assign=self._assign,
                on_assigned=self._on_assigned,
                on_join_prepare=self._on_revoked,
                name=self.client_name("coordinator"),
            )
        )
        self.ready = True  # the REST API serves reads from here on
        self.member.join()

    @staticmethod
    def _assign(leader_id: str, protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        """SchemaRegistryCoordinator.onLeaderElected: the eligible member with the smallest URL leads."""
        best: tuple[str, str, dict[str, Any]] | None = None
        for mid, meta in members:
            ident = json.loads(meta)
            url = f"{ident['scheme']}://{ident['host']}:{ident['port']}"
            if ident.get("leader_eligibility") and (best is None or url < best[1]):
                best = (mid, url, ident)
        assignment: dict[str, Any] = {"version": 1, "error": 0}
        if best is not None:
            assignment["master"] = best[0]
            assignment["master_identity"] = best[2]
        data = json.dumps(assignment, separators=(",", ":")).encode()
        return {mid: data for mid, _ in members}

    def _on_revoked(self, _generation: int, _member_id: str) -> None:
        if self.is_leader:
            self.cluster.note(f"{self.name} is no longer the schema registry leader (rebalance)", "platform")
        self.is_leader = False

    def _on_assigned(self, generation: int, member_id: str, _protocol: str, assignment: bytes) -> None:
        a = json.loads(assignment) if assignment else {}
        ident = a.get("master_identity")
        if ident is None:
            self.leader = None
            self.phase = "no eligible leader"
            return
        url = f"{ident['scheme']}://{ident['host']}:{ident['port']}"
        self.leader = (a["master"], url)
        if a["master"] == member_id:
            self.phase = "leader (catching up)"

            def led() -> None:
                if (
                    self.member is not None
                    and self.member.generation == generation
                    and self.leader is not None
                ):
                    self.is_leader = True
                    self.phase = "leader"
                    self.cluster.note(
                        f"{self.name} is the schema registry leader (generation {generation})", "platform"
                    )

            self._write_noop(led)  # a new leader first reads everything the old one wrote
        else:
            self.phase = "follower"

    # == reading _schemas =================================================================================
    def _tick(self) -> None:
        self.later(_TICK_MS, "sr-tick", self._tick)
        self.producer.poll(0)
        msgs = self.reader.consume(500, timeout=0)
        for m in msgs:
            if m.error() is not None:
                continue
            self._apply(m.key(), m.value())
            self.read_offset = m.offset() + 1
            self.records_read += 1
        if msgs and self._waiters:
            due = [w for w in self._waiters if w[0] < self.read_offset]
            self._waiters = [w for w in self._waiters if w[0] >= self.read_offset]
            for _off, fn in due:
                fn()

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        try:
            k = json.loads(key or b"{}")
            v = json.loads(value) if value is not None else None
        except ValueError:
            return
        kt = k.get("keytype")
        subject = k.get("subject")
        if kt == "SCHEMA":
            vers = self.versions.setdefault(subject, {})
            if v is None:
                vers.pop(int(k["version"]), None)
                if not vers:
                    del self.versions[subject]
            else:
                vers[int(v["version"])] = v
        elif kt == "CONFIG":
            if v is None:
                self.configs.pop(subject, None)
            else:
                self.configs[subject] = str(v.get("compatibilityLevel", "BACKWARD")).upper()
        elif kt == "DELETE_SUBJECT" and v is not None:
            for ver, sv in self.versions.get(subject, {}).items():
                if ver <= int(v.get("version", 0)):
                    sv["deleted"] = True
        elif kt == "CLEAR_SUBJECT":
            vers = self.versions.get(subject, {})
            for ver in [ver for ver, sv in vers.items() if sv.get("deleted")]:
                del vers[ver]
            if not vers:
                self.versions.pop(subject, None)

    # == writing (leader) ==================================================================================
    def _write(self, key: bytes, value: bytes | None, done: Callable[[StoreError | None], None]) -> None:
        """KafkaStore.put: produce (acks=all) and wait until this instance has read the record back."""
        finished = False

        def finish(err: StoreError | None) -> None:
            nonlocal finished
            if not finished:
                finished = True
                timer.cancel()
                done(err)

        def delivered(err: Any, msg: Any) -> None:
            if err is not None:
                finish(StoreError(50001, f"Error while writing to the Kafka store: {err.name()}"))
                return
            off = msg.offset()
            if off < self.read_offset:
                finish(None)
            else:
                self._waiters.append((off, lambda: finish(None)))

        timer = self.later(
            self.timeout_ms,
            "sr-store-timeout",
            lambda: finish(StoreError(50002, "Write to the Kafka store timed out")),
        )
        self.producer.produce(self.topic, value=value, key=key, partition=0, on_delivery=delivered)
        self.producer.poll(0)

    def _write_noop(self, then: Callable[[], None]) -> None:
        def done(err: StoreError | None) -> None:
            if err is None:
                then()
            else:  # brokers not ready yet (e.g. the topic's leader is being elected): try again
                self.later(500, "sr-noop-retry", lambda: self._write_noop(then))

        self._write(_key("NOOP"), None, done)

    # == the registry's logic =============================================================================
    def global_level(self) -> str:
        return self.configs.get(None) or str(self.config["schema.compatibility.level"]).upper()

    def level_for(self, subject: str) -> str:
        return self.configs.get(subject) or self.global_level()

    def parsed(self, sv: dict[str, Any]) -> ParsedSchema:
        key = (sv.get("schemaType", "AVRO"), sv["schema"])
        p = self._parsed.get(key)
        if p is None:
            p = parse_schema(sv["schema"], key[0])
            self._parsed[key] = p
        return p

    def live_versions(self, subject: str, deleted: bool = False) -> list[dict[str, Any]]:
        vers = self.versions.get(subject, {})
        return [vers[v] for v in sorted(vers) if deleted or not vers[v].get("deleted")]

    def schema_by_id(self, schema_id: int) -> dict[str, Any] | None:
        for vers in self.versions.values():
            for sv in vers.values():
                if sv.get("id") == schema_id:
                    return sv
        return None

    def max_id(self) -> int:
        return max((sv.get("id", 0) for vers in self.versions.values() for sv in vers.values()), default=0)

    def lookup(self, subject: str, parsed: ParsedSchema, deleted: bool = False) -> dict[str, Any] | None:
        for sv in self.live_versions(subject, deleted):
            if (
                sv.get("schemaType", "AVRO") == parsed.schema_type
                and self.parsed(sv).canonical == parsed.canonical
            ):
                return sv
        return None

    def register(self, subject: str, text: str, schema_type: str, done: Callable[[int, Any], None]) -> None:
        """Leader only: answers ``done(http status, body)``."""
        from .schemas import InvalidSchema, check

        try:
            parsed = parse_schema(text, schema_type)
        except InvalidSchema as e:
            done(422, {"error_code": 42201, "message": f"Invalid schema: {e}"})
            return
        found = self.lookup(subject, parsed)
        if found is not None:
            done(200, {"id": found["id"]})
            return
        previous = []
        for sv in self.live_versions(subject):
            p = parse_schema(sv["schema"], sv.get("schemaType", "AVRO"))
            p.version = sv["version"]
            previous.append(p)
        errors = check(self.level_for(subject), parsed, previous)
        if errors:
            self.refusals.append((self.kernel.now_ms, subject, self.level_for(subject), list(errors)))
            first = re.search(r"errorType:'(\w+)'.*?additionalInfo:'([^']*)'", errors[0])
            self.cluster.note(
                f"{self.name} refused a new schema for subject {subject} (409): incompatible under "
                f"{self.level_for(subject)}" + (f", {first.group(1)} '{first.group(2)}'" if first else "")
            )
            done(
                409,
                {
                    "error_code": 409,
                    "message": f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
                    f"details: [{', '.join(errors)}]",
                },
            )
            return
        schema_id = None
        for vers in self.versions.values():
            for sv in vers.values():
                if (
                    sv.get("schemaType", "AVRO") == parsed.schema_type
                    and self.parsed(sv).canonical == parsed.canonical
                ):
                    schema_id = int(sv["id"])
        if schema_id is None:
            schema_id = self.max_id() + 1
        version = max(self.versions.get(subject, {0: None}), default=0) + 1
        value: dict[str, Any] = {"subject": subject, "version": version, "id": schema_id}
        if parsed.schema_type != "AVRO":
            value["schemaType"] = parsed.schema_type
        value["schema"] = parsed.canonical
        value["deleted"] = False

        def written(err: StoreError | None) -> None:
            if err is not None:
                done(
                    500,
                    {
                        "error_code": err.code,
                        "message": "Register schema operation failed while writing to the Kafka store"
                        if err.code == 50001
                        else "Register operation timed out",
                    },
                )
            else:
                done(200, {"id": schema_id})

        self._write(
            _key("SCHEMA", subject, version), json.dumps(value, separators=(",", ":")).encode(), written
        )

    def write_config(
        self, subject: str | None, level: str | None, done: Callable[[StoreError | None], None]
    ) -> None:
        value = None if level is None else json.dumps({"compatibilityLevel": level}).encode()
        self._write(_key("CONFIG", subject), value, done)

    def delete_subject(self, subject: str, permanent: bool, done: Callable[[int, Any], None]) -> None:
        vers = self.versions.get(subject, {})
        if not vers:
            done(404, {"error_code": 40401, "message": f"Subject '{subject}' not found."})
            return
        live = [v for v, sv in sorted(vers.items()) if not sv.get("deleted")]
        if not permanent:
            if not live:
                done(
                    404,
                    {
                        "error_code": 40404,
                        "message": f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
                    },
                )
                return
            value = json.dumps({"subject": subject, "version": live[-1]}).encode()
            self._write(
                _key("DELETE_SUBJECT", subject),
                value,
                lambda e: (
                    done(200, live) if e is None else done(500, {"error_code": e.code, "message": str(e)})
                ),
            )
            return
        if live:
            done(
                404,
                {
                    "error_code": 40405,
                    "message": f"Subject '{subject}' was not deleted first before being permanently deleted",
                },
            )
            return
        all_versions = sorted(vers)
        self._chain(
            [(_key("SCHEMA", subject, v), None) for v in all_versions],
            lambda e: (
                done(200, all_versions) if e is None else done(500, {"error_code": e.code, "message": str(e)})
            ),
        )

    def delete_version(
        self, subject: str, version: int, permanent: bool, done: Callable[[int, Any], None]
    ) -> None:
        sv = self.versions.get(subject, {}).get(version)
        if sv is None:
            done(404, {"error_code": 40402, "message": f"Version {version} not found."})
            return
        if not permanent:
            if sv.get("deleted"):
                done(
                    404,
                    {
                        "error_code": 40406,
                        "message": f"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently",
                    },
                )
                return
            value = dict(sv, deleted=True)
            self._write(
                _key("SCHEMA", subject, version),
                json.dumps(value, separators=(",", ":")).encode(),
                lambda e: (
                    done(200, version) if e is None else done(500, {"error_code": e.code, "message": str(e)})
                ),
            )
            return
        if not sv.get("deleted"):
            done(
                404,
                {
                    "error_code": 40407,
                    "message": f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted",
                },
            )
            return
        self._write(
            _key("SCHEMA", subject, version),
            None,
            lambda e: (
                done(200, version) if e is None else done(500, {"error_code": e.code, "message": str(e)})
            ),
        )

    def _chain(
        self, writes: list[tuple[bytes, bytes | None]], done: Callable[[StoreError | None], None]
    ) -> None:
        if not writes:
            done(None)
            return
        (k, v), rest = writes[0], writes[1:]
        self._write(k, v, lambda e: done(e) if e is not None else self._chain(rest, done))

    # == HTTP ==============================================================================================
    def handle(self, method: str, path: str, query: dict[str, str], body: bytes, on_done: OnDone) -> None:
        from .rest import route

        route(self, method, path, query, body, on_done)

    def forward(
        self, method: str, path: str, query: dict[str, str], body: bytes, on_done: OnDone, what: str
    ) -> None:
        """A follower sends a write to the leader (as Confluent's ``RestService`` forwarding does)."""
        from ..process import json_body

        if self.leader is None:
            on_done(500, json_body({"error_code": 50004, "message": "Leader not known."}))
            return
        host = self.leader[1].split("://", 1)[1].split(":", 1)[0]

        def failed(_e: HttpError) -> None:
            on_done(
                500,
                json_body(
                    {"error_code": 50003, "message": f"Error while forwarding {what} request to the leader"}
                ),
            )

        self.http.request(
            host, self.http_port, method, path, query, body, on_done, failed, self.timeout_ms * 20
        )

    # == views =============================================================================================
    def describe(self) -> dict[str, Any]:
        """For the UI and ``schema-registry status``."""
        return {
            "name": self.name,
            "url": self.url,
            "state": "down" if not self.alive else self.phase,
            "leader": self.leader[1] if self.leader else None,
            "is_leader": self.is_leader,
            "subjects": sorted(s for s in self.versions if self.live_versions(s)),
            "schemas": len({sv["id"] for vers in self.versions.values() for sv in vers.values()}),
            "records_read": self.records_read,
            "offset": self.read_offset,
            "compatibility": self.global_level(),
        }
