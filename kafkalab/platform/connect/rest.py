"""The Kafka Connect REST API, as handlers of a worker node.

Reads (``GET /connectors``, ``/status``, ``/config``, ``/tasks``) come from the worker's own copy of the
config and status topics. Writes (create, update, delete, pause, resume, stop, restart) are done by the
group's leader: another worker forwards them; during a rebalance they are refused with Connect's 409.
Errors are Connect's: ``{"error_code": 404, "message": "Connector x not found"}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..process import OnDone, json_body
from .plugins import CONNECTOR_CLASSES, VERSION, ConfigError, connector_plugin

if TYPE_CHECKING:
    from .worker import ConnectWorker

__all__ = ["route"]


def _err(on_done: OnDone, status: int, message: str) -> None:
    on_done(status, json_body({"error_code": status, "message": message}))


def route(
    w: ConnectWorker,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes,
    on_done: OnDone,
    forwarded: bool = False,
) -> None:
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    try:
        _dispatch(w, method.upper(), parts, query, body, on_done)
    except Exception as e:  # a bug answers 500, never takes the simulation down
        _err(on_done, 500, f"{type(e).__name__}: {e}")


def _info(w: ConnectWorker, name: str) -> dict[str, Any]:
    cfg = w.connector_configs[name]
    try:
        ctype = connector_plugin(cfg.get("connector.class")).type
    except ConfigError:
        ctype = "unknown"
    tasks = [{"connector": name, "task": i} for i in range(len(w.task_configs.get(name, [])))]
    return {"name": name, "config": dict(cfg, name=name), "tasks": tasks, "type": ctype}


def _dispatch(
    w: ConnectWorker, m: str, p: list[str], q: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    n = len(p)
    if n == 0 and m == "GET":
        on_done(
            200,
            json_body({"version": VERSION, "commit": "kafkalab", "kafka_cluster_id": w.cluster.cluster_id}),
        )
        return
    if p[0] == "connector-plugins" and n == 1 and m == "GET":
        on_done(
            200,
            json_body(
                [{"class": c, "type": pl.type, "version": VERSION} for c, pl in CONNECTOR_CLASSES.items()]
            ),
        )
        return
    if p[0] != "connectors":
        _err(on_done, 404, "HTTP 404 Not Found")
        return
    if n == 1:
        if m == "GET":
            expand = q.get("expand")
            names = sorted(w.connector_configs)
            if expand in ("status", "info"):
                out = {
                    c: ({"status": w.connector_status(c)} if expand == "status" else {"info": _info(w, c)})
                    for c in names
                }
                on_done(200, json_body(out))
            else:
                on_done(200, json_body(names))
            return
        if m == "POST":
            try:
                req = json.loads(body or b"{}")
            except ValueError as e:
                _err(on_done, 400, f"Unexpected character in the request body: {e}")
                return
            if not isinstance(req, dict) or not isinstance(req.get("name"), str) or not req["name"]:
                _err(
                    on_done,
                    400,
                    "Connector name is null or empty"
                    if isinstance(req, dict)
                    else "Request body must be an object",
                )
                return
            cfg = req.get("config") or {}
            if not isinstance(cfg, dict):
                _err(on_done, 400, "Connector config must be an object")
                return
            _put_config(w, req["name"], {str(k): str(v) for k, v in cfg.items()}, on_done, create_only=True)
            return
    name = p[1]
    if m == "PUT" and n == 3 and p[2] == "config":
        try:
            cfg = json.loads(body or b"{}")
        except ValueError as e:
            _err(on_done, 400, f"Unexpected character in the request body: {e}")
            return
        if not isinstance(cfg, dict):
            _err(on_done, 400, "Connector config must be an object")
            return
        _put_config(w, name, {str(k): str(v) for k, v in cfg.items()}, on_done, create_only=False)
        return
    if m == "PUT" and n == 3 and p[2] == "tasks":  # internal: a worker stores the task configs it computed
        _leader_only(w, m, p, q, body, on_done, lambda: _write_tasks(w, name, json.loads(body), on_done))
        return
    if name not in w.connector_configs:
        _err(on_done, 404, f"Connector {name} not found")
        return
    if m == "GET":
        if n == 2:
            on_done(200, json_body(_info(w, name)))
        elif n == 3 and p[2] == "config":
            on_done(200, json_body(dict(w.connector_configs[name], name=name)))
        elif n == 3 and p[2] == "status":
            on_done(200, json_body(w.connector_status(name)))
        elif n == 3 and p[2] == "tasks":
            on_done(
                200,
                json_body(
                    [
                        {"id": {"connector": name, "task": i}, "config": c}
                        for i, c in enumerate(w.task_configs.get(name, []))
                    ]
                ),
            )
        elif n == 5 and p[2] == "tasks" and p[4] == "status":
            st = w.connector_status(name)
            t = next((x for x in st["tasks"] if str(x["id"]) == p[3]), None)
            if t is None:
                _err(on_done, 404, f"No status found for task {name}-{p[3]}")
            else:
                on_done(200, json_body(t))
        elif n == 3 and p[2] == "offsets":
            prefix = json.dumps([name], separators=(",", ":"))[:-1] + ","
            offs = [
                {"partition": json.loads(k)[1], "offset": v}
                for k, v in sorted(w.source_offsets.items())
                if k.decode().startswith(prefix) and v is not None
            ]
            on_done(200, json_body({"offsets": offs}))
        elif n == 3 and p[2] == "topics":
            topic = w.connector_configs[name].get("topic") or w.connector_configs[name].get("kafka.topic")
            topics = (
                [topic] if topic else [t for t in w.connector_configs[name].get("topics", "").split(",") if t]
            )
            on_done(200, json_body({name: {"topics": topics}}))
        else:
            _err(on_done, 404, "HTTP 404 Not Found")
        return
    if m == "PUT" and n == 3 and p[2] in ("pause", "resume", "stop"):
        state = {"pause": "PAUSED", "resume": "STARTED", "stop": "STOPPED"}[p[2]]
        status = 204 if p[2] == "stop" else 202
        _leader_only(
            w,
            m,
            p,
            q,
            body,
            on_done,
            lambda: w.write_config(
                [
                    (
                        f"target-state-{name}",
                        {"state": state if state != "STOPPED" else "PAUSED", "state.v2": state},
                    )
                ],
                lambda err: on_done(status, b"") if err is None else _err(on_done, 500, err),
            ),
        )
        return
    if m == "POST" and n == 3 and p[2] == "restart":
        include = q.get("includeTasks", "false").lower() == "true"
        only_failed = q.get("onlyFailed", "false").lower() == "true"

        def restart() -> None:
            st = w.connector_status(name)
            if include or only_failed:
                if not only_failed or st["connector"]["state"] == "FAILED":
                    st["connector"]["state"] = "RESTARTING"
                for t in st["tasks"]:
                    if include and (not only_failed or t["state"] == "FAILED"):
                        t["state"] = "RESTARTING"
            w.write_config(
                [(f"restart-connector-{name}", {"include-tasks": include, "only-failed": only_failed})],
                lambda err: (
                    on_done(202, json_body(st))
                    if err is None and (include or only_failed)
                    else on_done(204, b"")
                    if err is None
                    else _err(on_done, 500, err)
                ),
            )

        _leader_only(w, m, p, q, body, on_done, restart)
        return
    if m == "POST" and n == 5 and p[2] == "tasks" and p[4] == "restart":
        try:
            tid = (name, int(p[3]))
        except ValueError:
            _err(on_done, 404, f"Task not found: {name}-{p[3]}")
            return
        if tid in w.tasks:
            w._stop_task(tid)
            w._start_task(tid)
            on_done(204, b"")
            return
        owner = w.statuses.get(f"status-task-{name}-{tid[1]}", {}).get("worker_id")
        if not owner or owner == w.worker_id:
            _err(on_done, 409, REBALANCING_TEXT)
            return
        w.http.request(
            owner.split(":")[0],
            w.http_port,
            "POST",
            "/" + "/".join(p),
            q,
            body,
            on_done,
            lambda e: _err(on_done, 500, f"Error trying to forward REST request: {e}"),
        )
        return
    if m == "DELETE" and n == 2:
        _leader_only(
            w,
            m,
            p,
            q,
            body,
            on_done,
            lambda: w.write_config(
                [(f"connector-{name}", None), (f"target-state-{name}", None)],
                lambda err: on_done(204, b"") if err is None else _err(on_done, 500, err),
            ),
        )
        return
    _err(on_done, 405, "HTTP 405 Method Not Allowed")


REBALANCING_TEXT = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"


def _leader_only(
    w: ConnectWorker, m: str, p: list[str], q: dict[str, str], body: bytes, on_done: OnDone, act: Any
) -> None:
    if w.is_leader:
        act()
    else:
        w._leader_request(m, "/" + "/".join(p), body, on_done, q)


def _put_config(w: ConnectWorker, name: str, cfg: dict[str, str], on_done: OnDone, create_only: bool) -> None:
    cfg = dict(cfg)
    cfg["name"] = name
    try:
        plugin = connector_plugin(cfg.get("connector.class"))
        plugin.validate(cfg)
        if plugin.type == "source" and plugin.cls.endswith("FileStreamSourceConnector") and cfg.get("file"):
            from .plugins import resolve_file

            resolve_file(w.cluster.data_dir, cfg["file"])
        if plugin.type == "sink" and cfg.get("file"):
            from .plugins import resolve_file

            resolve_file(w.cluster.data_dir, cfg["file"])
    except ConfigError as e:
        _err(on_done, 400, str(e))
        return
    body = json_body({"name": name, "config": cfg}) if create_only else json_body(cfg)

    def act() -> None:
        exists = name in w.connector_configs
        if exists and create_only:
            _err(on_done, 409, f"Connector {name} already exists")
            return
        records: list[tuple[str, Any]] = []
        if not exists:
            records.append((f"target-state-{name}", {"state": "STARTED", "state.v2": "STARTED"}))
        records.append((f"connector-{name}", {"properties": cfg}))

        def done(err: str | None) -> None:
            if err is not None:
                _err(on_done, 500, f"Failed to write connector configuration: {err}")
                return
            info = {
                "name": name,
                "config": cfg,
                "tasks": [{"connector": name, "task": i} for i in range(len(w.task_configs.get(name, [])))],
                "type": plugin.type,
            }
            on_done(200 if exists else 201, json_body(info))

        w.write_config(records, done)

    if w.is_leader:
        act()
    else:
        path = "/connectors" if create_only else f"/connectors/{name}/config"
        w._leader_request("POST" if create_only else "PUT", path, body, on_done)


def _write_tasks(w: ConnectWorker, name: str, configs: list[dict[str, str]], on_done: OnDone) -> None:
    if name not in w.connector_configs:
        _err(on_done, 404, f"Connector {name} not found")
        return
    records: list[tuple[str, Any]] = [(f"task-{name}-{i}", {"properties": c}) for i, c in enumerate(configs)]
    records.append((f"commit-{name}", {"tasks": len(configs)}))
    w.write_config(records, lambda err: on_done(204, b"") if err is None else _err(on_done, 500, err))
