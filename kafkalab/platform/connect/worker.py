"""A Kafka Connect worker in distributed mode (the ``DistributedHerder``), a simulated process.

Workers of one Connect cluster share group ``connect-cluster`` (protocol type ``connect``) and three
compacted topics: ``connect-configs`` (connector and task configs, target states, restart requests; one
partition, so every worker sees them in one order), ``connect-offsets`` (source offsets) and
``connect-status`` (who runs what, in which state). The group's leader assigns connectors and tasks with
incremental cooperative rebalancing and is the only worker that writes configs: the REST API of any worker
answers reads from its own copy and forwards writes to the leader.
"""

from __future__ import annotations

import json
from typing import Any

from ...sim.clients.admin import AdminClient, NewTopic
from ...sim.clients.membership import GroupMember
from ...sim.cluster import Cluster
from ..kafkalog import KafkaBasedLog
from ..process import HttpClient, HttpError, OnDone, PlatformProcess
from .assignor import IncrementalCooperativeAssignor
from .plugins import ConfigError, connector_plugin
from .protocol import (
    PROTOCOLS,
    Assignment,
    WorkerState,
    decode_assignment,
    decode_metadata,
    encode_assignment,
    encode_metadata,
)
from .tasks import SinkTask, SourceTask, _Task

__all__ = ["WORKER_DEFAULTS", "ConnectWorker"]

WORKER_DEFAULTS: dict[str, Any] = {
    "group.id": "connect-cluster",
    "config.storage.topic": "connect-configs",
    "offset.storage.topic": "connect-offsets",
    "status.storage.topic": "connect-status",
    "config.storage.replication.factor": 3,
    "offset.storage.replication.factor": 3,
    "status.storage.replication.factor": 3,
    "offset.storage.partitions": 25,
    "status.storage.partitions": 5,
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "true",
    "value.converter.schemas.enable": "true",
    "offset.flush.interval.ms": 60000,
    "scheduled.rebalance.max.delay.ms": 300000,
    "session.timeout.ms": 10000,
    "heartbeat.interval.ms": 3000,
    "rebalance.timeout.ms": 60000,
}
_TICK_MS = 100
REBALANCING = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"


def _j(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class ConnectWorker(PlatformProcess):
    """One worker (``connect-1`` listens on ``http://connect-1:8083``)."""

    http_port = 8083

    def __init__(
        self, cluster: Cluster, name: str = "connect-1", config: dict[str, Any] | None = None
    ) -> None:
        super().__init__(cluster, name)
        self.config: dict[str, Any] = dict(WORKER_DEFAULTS)
        self.config.update(config or {})
        self.worker_id = f"{name}:{self.http_port}"
        self.url = f"http://{name}:{self.http_port}/"
        self.assignor = IncrementalCooperativeAssignor(int(self.config["scheduled.rebalance.max.delay.ms"]))
        self.boot()

    # == lifecycle =========================================================================================
    def boot(self) -> None:
        c = self.config
        self.phase = "creating internal topics"
        self.ready = False
        self.connector_configs: dict[str, dict[str, str]] = {}
        self.target_states: dict[str, str] = {}
        self.task_configs: dict[str, list[dict[str, str]]] = {}
        self._pending_tasks: dict[str, dict[int, dict[str, str]]] = {}
        self.config_offset = -1
        self.statuses: dict[str, dict[str, Any]] = {}
        self.source_offsets: dict[bytes, Any] = {}
        self.connectors: dict[str, str] = {}  # connectors this worker runs -> state
        self.tasks: dict[tuple[str, int], _Task] = {}
        self.leader_id: str | None = None
        self.leader_url: str | None = None
        self.generation = -1
        self.last_completed_generation = -1
        self.rebalancing = True
        self.admin = self.own(AdminClient(self.cluster, {}, name=self.client_name("admin")))
        self.http = self.own(HttpClient(self.cluster, self.client_name("rest-client")))
        self.configs_log = KafkaBasedLog(
            self, str(c["config.storage.topic"]), 1, "configs", self._apply_config
        )
        self.offsets_log = KafkaBasedLog(
            self,
            str(c["offset.storage.topic"]),
            int(c["offset.storage.partitions"]),
            "offsets",
            self._apply_offset,
        )
        self.status_log = KafkaBasedLog(
            self,
            str(c["status.storage.topic"]),
            int(c["status.storage.partitions"]),
            "status",
            self._apply_status,
        )
        self.member: GroupMember | None = None
        self._creating: dict[str, Any] = {}
        self._delayed_rejoin: Any = None
        self.later(0, "connect-start", self._ensure_topics)
        self.later(_TICK_MS, "connect-tick", self._tick)

    def ensure_topic(self, topic: str, partitions: int, rf: int, compact: bool = False) -> None:
        if topic in self.admin.topics or topic in self._creating:
            return
        live = max(1, len(self.admin.live_brokers) or len(self.cluster.bootstrap_names()))
        cfg = {"cleanup.policy": "compact"} if compact else {}
        self._creating[topic] = self.admin.create_topics(
            [NewTopic(topic, partitions, max(1, min(rf, live)), config=cfg)]
        )[topic]

    def _ensure_topics(self) -> None:
        c = self.config
        wanted = [
            (self.configs_log.topic, 1, int(c["config.storage.replication.factor"])),
            (
                self.offsets_log.topic,
                int(c["offset.storage.partitions"]),
                int(c["offset.storage.replication.factor"]),
            ),
            (
                self.status_log.topic,
                int(c["status.storage.partitions"]),
                int(c["status.storage.replication.factor"]),
            ),
        ]

        def have() -> None:
            missing = [w for w in wanted if w[0] not in self.admin.topics]
            if not missing:
                self.phase = "reading internal topics"
                for log in (self.configs_log, self.offsets_log, self.status_log):
                    log.start()
                return
            for topic, n, rf in missing:
                fut = self._creating.get(topic)
                if fut is not None and fut.done():
                    del self._creating[topic]
                self.ensure_topic(topic, n, rf, compact=True)
            self.later(200, "connect-start", self._ensure_topics)

        self.admin.refresh_metadata(have)

    def _tick(self) -> None:
        self.later(_TICK_MS, "connect-tick", self._tick)
        for log in (self.configs_log, self.offsets_log, self.status_log):
            log.poll()
        if self.phase == "reading internal topics" and all(
            log.caught_up() for log in (self.configs_log, self.offsets_log, self.status_log)
        ):
            self._join()
        now = self.kernel.now_ms
        for t in list(self.tasks.values()):
            try:
                t.tick(now)
            except Exception as e:  # a task's bug fails that task, never the worker
                if t.state == "RUNNING":
                    t.fail(e)

    def _join(self) -> None:
        self.phase = "joining group"
        c = self.config
        self.member = self.own(
            GroupMember(
                self.cluster,
                {
                    "group.id": c["group.id"],
                    "session.timeout.ms": c["session.timeout.ms"],
                    "heartbeat.interval.ms": c["heartbeat.interval.ms"],
                    "rebalance.timeout.ms": c["rebalance.timeout.ms"],
                },
                protocol_type="connect",
                metadata=self._metadata,
                assign=self._assign,
                on_assigned=self._on_assigned,
                on_join_prepare=self._on_join_prepare,
                name=self.client_name("coordinator"),
            )
        )
        self.ready = True
        self.member.join()

    # == group protocol ====================================================================================
    def _metadata(self) -> list[tuple[str, bytes]]:
        st = WorkerState(self.url, self.config_offset, sorted(self.connectors), sorted(self.tasks))
        meta = encode_metadata(st)
        return [(p, meta) for p in PROTOCOLS]

    def _on_join_prepare(self, _generation: int, _member_id: str) -> None:
        self.rebalancing = True

    def _assign(self, leader_id: str, _protocol: str, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        states = {mid: decode_metadata(meta) for mid, meta in members}
        configured = {n: len(self.task_configs.get(n, [])) for n in self.connector_configs}
        gen = self.member.generation if self.member is not None else -1
        out = self.assignor.assign(
            self.kernel.now_ms,
            leader_id,
            self.url,
            self.config_offset,
            configured,
            states,
            self.last_completed_generation,
            gen,
        )
        return {mid: encode_assignment(a) for mid, a in out.items()}

    def _on_assigned(self, generation: int, member_id: str, _protocol: str, data: bytes) -> None:
        a: Assignment = decode_assignment(data)
        self.generation = generation
        self.last_completed_generation = generation
        self.leader_id, self.leader_url = a.leader, a.leader_url
        self.rebalancing = False
        self.phase = "running"
        for c in a.revoked_connectors:
            self._stop_connector(c)
        for t in a.revoked_tasks:
            self._stop_task(t)
        for c in a.connectors:
            self._start_connector(c)
        for t in a.tasks:
            self._start_task(t)
        if self._delayed_rejoin is not None:
            self._delayed_rejoin.cancel()
            self._delayed_rejoin = None
        if a.delay_ms > 0:
            self.cluster.note(
                f"{self.name}: a worker's connectors and tasks are unassigned; they are reassigned in "
                f"{a.delay_ms / 1000:g} s unless it comes back (scheduled.rebalance.max.delay.ms)",
                "platform",
            )
            self._delayed_rejoin = self.later(a.delay_ms, "connect-delayed-rebalance", self._rejoin)
        if a.revoked_connectors or a.revoked_tasks:
            self._rejoin()  # cooperative: give the revoked work a new home at once

    def _rejoin(self) -> None:
        self._delayed_rejoin = None
        if self.member is not None:
            self.member.join()

    @property
    def is_leader(self) -> bool:
        return (
            self.member is not None
            and bool(self.member.member_id)
            and self.member.member_id == self.leader_id
        )

    # == running connectors and tasks =======================================================================
    def _status(self, key: str, state: str, trace: str | None = None) -> None:
        self.status_log.send(
            key.encode(),
            _j({"state": state, "trace": trace, "worker_id": self.worker_id, "generation": self.generation}),
        )

    def _start_connector(self, name: str) -> None:
        cfg = self.connector_configs.get(name)
        if cfg is None:
            return
        target = self.target_states.get(name, "STARTED")
        state = {"STARTED": "RUNNING", "PAUSED": "PAUSED", "STOPPED": "STOPPED"}.get(target, "RUNNING")
        self.connectors[name] = state
        self._status(f"status-connector-{name}", state)
        if target != "STOPPED":
            self._reconfigure(name)

    def _reconfigure(self, name: str) -> None:
        """The connector computes its task configs; if they changed, the leader stores them."""
        cfg = self.connector_configs.get(name)
        if cfg is None:
            return
        try:
            configs = connector_plugin(cfg.get("connector.class")).task_configs(cfg)
        except (ConfigError, ValueError) as e:
            self.connectors[name] = "FAILED"
            self._status(f"status-connector-{name}", "FAILED", str(e))
            return
        if configs != self.task_configs.get(name):
            self._leader_request("PUT", f"/connectors/{name}/tasks", _j(configs), lambda s, b: None)

    def _stop_connector(self, name: str) -> None:
        self.connectors.pop(name, None)

    def _start_task(self, tid: tuple[str, int]) -> None:
        name, i = tid
        cfgs = self.task_configs.get(name, [])
        if i >= len(cfgs) or tid in self.tasks:
            return
        cfg = cfgs[i]
        try:
            plugin = connector_plugin(cfg.get("connector.class"))
            task: _Task = (SourceTask if plugin.type == "source" else SinkTask)(self, name, i, cfg)
        except Exception as e:
            self._status(f"status-task-{name}-{i}", "FAILED", f"{type(e).__name__}: {e}")
            return
        target = self.target_states.get(name, "STARTED")
        task.paused = target == "PAUSED"
        self.tasks[tid] = task
        self._status(f"status-task-{name}-{i}", "PAUSED" if task.paused else "RUNNING")
        what = (
            f"resuming at position {task.resumed_from}"
            if isinstance(task, SourceTask)
            else f"group connect-{name}"
        )
        self.cluster.note(f"{self.name} started task {name}-{i} ({what})", "platform")

    def _stop_task(self, tid: tuple[str, int]) -> None:
        t = self.tasks.pop(tid, None)
        if t is not None:
            t.stop()

    def task_failed(self, task: _Task, message: str) -> None:
        self._status(f"status-task-{task.connector}-{task.task_id}", "FAILED", task.trace)
        self.cluster.note(f"{self.name}: task {task.connector}-{task.task_id} failed: {message}", "platform")

    # == the three logs =====================================================================================
    def _apply_config(self, key: bytes | None, value: bytes | None, _partition: int, offset: int) -> None:
        self.config_offset = offset
        k = (key or b"").decode()
        v = json.loads(value) if value else None
        structural = False
        if k.startswith("connector-"):
            name = k[len("connector-") :]
            if v is None:
                self.connector_configs.pop(name, None)
                self.task_configs.pop(name, None)
                self.target_states.pop(name, None)
                structural = True
            else:
                structural = name not in self.connector_configs
                old = self.connector_configs.get(name)
                self.connector_configs[name] = dict(v.get("properties", {}))
                if old is not None and old != self.connector_configs[name] and name in self.connectors:
                    self._reconfigure(name)
        elif k.startswith("task-") and v is not None:
            name, _, idx = k[len("task-") :].rpartition("-")
            self._pending_tasks.setdefault(name, {})[int(idx)] = dict(v.get("properties", {}))
        elif k.startswith("commit-") and v is not None:
            name = k[len("commit-") :]
            n = int(v.get("tasks", 0))
            pend = self._pending_tasks.pop(name, {})
            new = [pend.get(i, {}) for i in range(n)]
            if new != self.task_configs.get(name):
                for tid in [t for t in self.tasks if t[0] == name]:
                    self._stop_task(tid)  # restarted with the new configs after the rebalance
                self.task_configs[name] = new
                structural = True
        elif k.startswith("target-state-"):
            name = k[len("target-state-") :]
            state = (v or {}).get("state.v2") or (v or {}).get("state") or "STARTED"
            self.target_states[name] = state
            self._apply_target_state(name)
        elif k.startswith("restart-connector-") and v is not None:
            self._apply_restart(
                k[len("restart-connector-") :], bool(v.get("include-tasks")), bool(v.get("only-failed"))
            )
        if structural and self.member is not None and self.phase != "reading internal topics":
            self.member.join()

    def _apply_target_state(self, name: str) -> None:
        target = self.target_states.get(name, "STARTED")
        paused = target != "STARTED"
        if name in self.connectors:
            state = {"STARTED": "RUNNING", "PAUSED": "PAUSED", "STOPPED": "STOPPED"}.get(target, "RUNNING")
            if self.connectors[name] != state:
                self.connectors[name] = state
                self._status(f"status-connector-{name}", state)
        for (c, i), t in self.tasks.items():
            if c == name and t.state == "RUNNING" and t.paused != paused:
                t.paused = paused
                self._status(f"status-task-{c}-{i}", "PAUSED" if paused else "RUNNING")

    def _apply_restart(self, name: str, include_tasks: bool, only_failed: bool) -> None:
        if name in self.connectors and (not only_failed or self.connectors[name] == "FAILED"):
            self._start_connector(name)
        if include_tasks:
            for tid in [t for t, task in self.tasks.items() if t[0] == name]:
                if only_failed and self.tasks[tid].state != "FAILED":
                    continue
                self._status(f"status-task-{name}-{tid[1]}", "RESTARTING")
                self._stop_task(tid)
                self._start_task(tid)

    def _apply_offset(self, key: bytes | None, value: bytes | None, _partition: int, _offset: int) -> None:
        if key is None:
            return
        if value is None:
            self.source_offsets.pop(key, None)
        else:
            self.source_offsets[key] = json.loads(value)

    def _apply_status(self, key: bytes | None, value: bytes | None, _partition: int, _offset: int) -> None:
        k = (key or b"").decode()
        if value is None:
            self.statuses.pop(k, None)
        else:
            self.statuses[k] = json.loads(value)

    # == leader operations ==================================================================================
    def _leader_request(
        self, method: str, path: str, body: bytes, on_done: OnDone, query: dict[str, str] | None = None
    ) -> None:
        """Run a write on the leader: here if this worker leads, else forwarded over HTTP."""
        if self.is_leader:
            from .rest import route

            route(self, method, path, query or {}, body, on_done, forwarded=True)
            return
        if self.leader_url is None:
            on_done(409, _j({"error_code": 409, "message": REBALANCING}))
            return
        host = self.leader_url.split("://", 1)[1].split(":", 1)[0]

        def failed(e: HttpError) -> None:
            on_done(500, _j({"error_code": 500, "message": f"Error trying to forward REST request: {e}"}))

        self.http.request(host, self.http_port, method, path, query or {}, body, on_done, failed)

    def write_config(self, records: list[tuple[str, Any]], done: Any) -> None:
        """Leader: append config records in order; ``done(error or None)`` once all are read back."""
        if not records:
            done(None)
            return
        (k, v), rest = records[0], records[1:]
        self.configs_log.send(
            k.encode(),
            None if v is None else _j(v),
            lambda err: done(err) if err is not None else self.write_config(rest, done),
            partition=0,
        )

    # == HTTP ==============================================================================================
    def handle(self, method: str, path: str, query: dict[str, str], body: bytes, on_done: OnDone) -> None:
        from .rest import route

        route(self, method, path, query, body, on_done)

    # == views =============================================================================================
    def connector_status(self, name: str) -> dict[str, Any]:
        cfg = self.connector_configs.get(name, {})
        try:
            ctype = connector_plugin(cfg.get("connector.class")).type
        except ConfigError:
            ctype = "unknown"
        cs = self.statuses.get(f"status-connector-{name}", {"state": "UNASSIGNED", "worker_id": None})
        conn: dict[str, Any] = {"state": cs.get("state", "UNASSIGNED"), "worker_id": cs.get("worker_id")}
        if cs.get("trace"):
            conn["trace"] = cs["trace"]
        tasks = []
        for i in range(len(self.task_configs.get(name, []))):
            ts = self.statuses.get(f"status-task-{name}-{i}", {"state": "UNASSIGNED", "worker_id": None})
            t: dict[str, Any] = {
                "id": i,
                "state": ts.get("state", "UNASSIGNED"),
                "worker_id": ts.get("worker_id"),
            }
            if ts.get("trace"):
                t["trace"] = ts["trace"]
            tasks.append(t)
        return {"name": name, "connector": conn, "tasks": tasks, "type": ctype}

    def describe(self) -> dict[str, Any]:
        if not self.alive:
            return {
                "name": self.name,
                "worker_id": self.worker_id,
                "state": "down",
                "leader": False,
                "generation": self.generation,
                "connectors": [],
                "tasks": [],
                "config_offset": self.config_offset,
            }
        return {
            "name": self.name,
            "worker_id": self.worker_id,
            "state": "down" if not self.alive else self.phase,
            "leader": self.is_leader,
            "generation": self.generation,
            "connectors": sorted(self.connectors),
            "tasks": [
                {
                    "id": f"{c}-{i}",
                    "state": "PAUSED" if t.paused and t.state == "RUNNING" else t.state,
                    "records": t.records,
                    "skipped": t.skipped,
                }
                for (c, i), t in sorted(self.tasks.items())
            ],
            "config_offset": self.config_offset,
        }

    def kill(self) -> None:
        for t in self.tasks.values():
            t.crash()
        super().kill()
