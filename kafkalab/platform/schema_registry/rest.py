"""The REST API of Confluent Schema Registry (the subset the lab needs), as handlers of a registry node.

Paths, bodies and errors are Confluent's: ``{"error_code": 40401, "message": "Subject 'x' not found."}``
with HTTP 404, ``409`` for an incompatible schema, ``42201`` (HTTP 422) for an invalid one, ``42202`` for an
invalid version, ``42203`` for an invalid compatibility level, ``500xx`` when the store or the leader fails.
Reads are answered by any instance from its memory; writes go to the leader (followers forward them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..process import OnDone, json_body
from .schemas import COMPATIBILITY_LEVELS, SCHEMA_TYPES, InvalidSchema, check, parse_schema

if TYPE_CHECKING:
    from .registry import SchemaRegistry

__all__ = ["route"]

_INVALID_LEVEL = (
    "Invalid compatibility level. Valid values are none, backward, forward, full, "
    "backward_transitive, forward_transitive, and full_transitive"
)


def _err(on_done: OnDone, status: int, code: int, message: str) -> None:
    on_done(status, json_body({"error_code": code, "message": message}))


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "false").lower() == "true"


def _version(text: str) -> int | None:
    """``latest`` / ``-1`` → -1, a positive int → it, else None (42202)."""
    if text == "latest":
        return -1
    try:
        v = int(text)
    except ValueError:
        return None
    if v == -1:
        return -1
    return v if 1 <= v <= 2**31 - 1 else None


def _bad_version(on_done: OnDone, text: str) -> None:
    _err(
        on_done,
        422,
        42202,
        f"The specified version '{text}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def _body(on_done: OnDone, body: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(body or b"{}")
    except ValueError as e:
        _err(on_done, 400, 400, f"Unexpected character in the request body: {e}")
        return None
    if not isinstance(obj, dict):
        _err(on_done, 400, 400, "The request body must be a JSON object")
        return None
    return obj


def _schema_obj(sv: dict[str, Any], with_subject: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_subject:
        out.update(subject=sv["subject"], version=sv["version"])
    out["id"] = sv["id"]
    if sv.get("schemaType", "AVRO") != "AVRO":
        out["schemaType"] = sv["schemaType"]
    out["schema"] = sv["schema"]
    return out


def route(
    reg: SchemaRegistry, method: str, path: str, query: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    m = method.upper()
    try:
        _dispatch(reg, m, parts, query, body, on_done)
    except Exception as e:  # a bug must answer 500, never take the simulation down
        _err(on_done, 500, 50001, f"Internal error: {type(e).__name__}: {e}")


def _dispatch(
    reg: SchemaRegistry, m: str, p: list[str], q: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    n = len(p)
    if n == 0 and m == "GET":
        on_done(200, b"{}")
        return
    if p[0] == "schemas":
        if n == 2 and p[1] == "types" and m == "GET":
            on_done(200, json_body(list(SCHEMA_TYPES)))
            return
        if n >= 3 and p[1] == "ids" and m == "GET":
            try:
                sid = int(p[2])
            except ValueError:
                _err(on_done, 404, 404, "HTTP 404 Not Found")
                return
            sv = reg.schema_by_id(sid)
            if sv is None:
                _err(on_done, 404, 40403, f"Schema {sid} not found")
                return
            if n == 3:
                out = {k: v for k, v in _schema_obj(sv, False).items() if k != "id"}
                on_done(200, json_body(out))
            elif n == 4 and p[3] == "schema":
                on_done(200, sv["schema"].encode())
            elif n == 4 and p[3] in ("versions", "subjects"):
                pairs = sorted(
                    (s, v)
                    for s, vers in reg.versions.items()
                    for v, x in vers.items()
                    if x["id"] == sid and (not x.get("deleted") or _flag(q, "deleted"))
                )
                if p[3] == "subjects":
                    on_done(200, json_body(sorted({s for s, _ in pairs})))
                else:
                    on_done(200, json_body([{"subject": s, "version": v} for s, v in pairs]))
            else:
                _err(on_done, 404, 404, "HTTP 404 Not Found")
            return
    if p[0] == "subjects":
        _subjects(reg, m, p, q, body, on_done)
        return
    if p[0] == "compatibility" and n >= 4 and p[1] == "subjects" and p[3] == "versions" and m == "POST":
        _compatibility(reg, p[2], p[4] if n > 4 else None, q, body, on_done)
        return
    if p[0] == "config" and n <= 2:
        _config(reg, m, p[1] if n == 2 else None, q, body, on_done)
        return
    if p[0] == "mode" and m == "GET":
        on_done(200, json_body({"mode": "READWRITE"}))
        return
    _err(on_done, 404, 404, "HTTP 404 Not Found")


def _subjects(
    reg: SchemaRegistry, m: str, p: list[str], q: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    n = len(p)
    deleted = _flag(q, "deleted")
    if n == 1 and m == "GET":
        on_done(200, json_body(sorted(s for s in reg.versions if reg.live_versions(s, deleted))))
        return
    subject = p[1]
    if n == 2 and m == "POST":  # is this schema registered under the subject?
        req = _body(on_done, body)
        if req is None:
            return
        try:
            parsed = parse_schema(str(req.get("schema", "")), str(req.get("schemaType") or "AVRO"))
        except InvalidSchema as e:
            _err(on_done, 422, 42201, f"Invalid schema: {e}")
            return
        if not reg.live_versions(subject, deleted):
            _err(on_done, 404, 40401, f"Subject '{subject}' not found.")
            return
        sv = reg.lookup(subject, parsed, deleted)
        if sv is None:
            _err(on_done, 404, 40403, "Schema not found")
        else:
            on_done(200, json_body(_schema_obj(sv)))
        return
    if n == 2 and m == "DELETE":
        _leader_write(
            reg,
            "DELETE",
            p,
            q,
            body,
            on_done,
            "delete subject",
            lambda done: reg.delete_subject(subject, _flag(q, "permanent"), done),
        )
        return
    if n >= 3 and p[2] == "versions":
        if n == 3 and m == "GET":
            vs = reg.live_versions(subject, deleted)
            if not vs:
                _err(on_done, 404, 40401, f"Subject '{subject}' not found.")
            else:
                on_done(200, json_body([sv["version"] for sv in vs]))
            return
        if n == 3 and m == "POST":
            req = _body(on_done, body)
            if req is None:
                return
            if not isinstance(req.get("schema"), str):
                _err(on_done, 422, 42201, 'Invalid schema: the request has no "schema" string')
                return
            stype = str(req.get("schemaType") or "AVRO").upper()
            if stype not in SCHEMA_TYPES:
                _err(
                    on_done,
                    422,
                    42201,
                    f"Invalid schema: unknown schemaType {stype} (this registry knows AVRO and JSON)",
                )
                return
            if reg.is_leader:
                reg.register(subject, req["schema"], stype, lambda st, obj: on_done(st, json_body(obj)))
            else:
                reg.forward("POST", "/" + "/".join(p), q, body, on_done, "register schema")
            return
        if n >= 4:
            text = p[3]
            v = _version(text)
            if v is None:
                _bad_version(on_done, text)
                return
            if m == "GET":
                include = deleted
                vs = reg.live_versions(subject, include)
                if not vs:
                    _err(on_done, 404, 40401, f"Subject '{subject}' not found.")
                    return
                sv = vs[-1] if v == -1 else next((x for x in vs if x["version"] == v), None)
                if sv is None:
                    _err(on_done, 404, 40402, f"Version {text} not found.")
                    return
                if n == 5 and p[4] == "schema":
                    on_done(200, sv["schema"].encode())
                else:
                    on_done(200, json_body(_schema_obj(sv)))
                return
            if m == "DELETE" and n == 4:

                def act(done: Any) -> None:
                    vs = reg.live_versions(subject, True)
                    if not vs:
                        done(404, {"error_code": 40401, "message": f"Subject '{subject}' not found."})
                        return
                    target = v if v != -1 else (reg.live_versions(subject) or vs)[-1]["version"]
                    reg.delete_version(subject, target, _flag(q, "permanent"), done)

                _leader_write(reg, "DELETE", p, q, body, on_done, "delete schema version", act)
                return
    _err(on_done, 404, 404, "HTTP 404 Not Found")


def _leader_write(
    reg: SchemaRegistry,
    m: str,
    p: list[str],
    q: dict[str, str],
    body: bytes,
    on_done: OnDone,
    what: str,
    act: Any,
) -> None:
    if reg.is_leader:
        act(lambda st, obj: on_done(st, json_body(obj)))
    else:
        reg.forward(m, "/" + "/".join(p), q, body, on_done, what)


def _compatibility(
    reg: SchemaRegistry, subject: str, version: str | None, q: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    req = _body(on_done, body)
    if req is None:
        return
    try:
        parsed = parse_schema(str(req.get("schema", "")), str(req.get("schemaType") or "AVRO"))
    except InvalidSchema as e:
        _err(on_done, 422, 42201, f"Invalid schema: {e}")
        return
    vs = reg.live_versions(subject)
    previous = []
    level = reg.level_for(subject)
    if version is None:
        targets = vs
    else:
        v = _version(version)
        if v is None:
            _bad_version(on_done, version)
            return
        if not vs:
            _err(on_done, 404, 40401, f"Subject '{subject}' not found.")
            return
        found = vs[-1] if v == -1 else next((x for x in vs if x["version"] == v), None)
        if found is None:
            _err(on_done, 404, 40402, f"Version {version} not found.")
            return
        targets = [found]
        level = level.replace("_TRANSITIVE", "")
    for sv in targets:
        ps = parse_schema(sv["schema"], sv.get("schemaType", "AVRO"))
        ps.version = sv["version"]
        previous.append(ps)
    errors = check(level, parsed, previous)
    out: dict[str, Any] = {"is_compatible": not errors}
    if _flag(q, "verbose"):
        out["messages"] = errors
    on_done(200, json_body(out))


def _config(
    reg: SchemaRegistry, m: str, subject: str | None, q: dict[str, str], body: bytes, on_done: OnDone
) -> None:
    if m == "GET":
        if subject is None:
            on_done(200, json_body({"compatibilityLevel": reg.global_level()}))
        elif subject in reg.configs:
            on_done(200, json_body({"compatibilityLevel": reg.configs[subject]}))
        elif _flag(q, "defaultToGlobal"):
            on_done(200, json_body({"compatibilityLevel": reg.global_level()}))
        else:
            _err(
                on_done,
                404,
                40408,
                f"Subject '{subject}' does not have subject-level compatibility configured",
            )
        return
    if m == "PUT":
        req = _body(on_done, body)
        if req is None:
            return
        level = str(req.get("compatibility") or req.get("compatibilityLevel") or "").upper()
        if level not in COMPATIBILITY_LEVELS:
            _err(on_done, 422, 42203, _INVALID_LEVEL)
            return
        if not reg.is_leader:
            reg.forward(
                "PUT", "/config" + (f"/{subject}" if subject else ""), q, body, on_done, "update config"
            )
            return
        reg.write_config(
            subject,
            level,
            lambda e: (
                on_done(200, json_body({"compatibility": level}))
                if e is None
                else _err(on_done, 500, e.code, "Failed to update compatibility level")
            ),
        )
        return
    if m == "DELETE" and subject is not None:
        if subject not in reg.configs:
            _err(on_done, 404, 40401, f"Subject '{subject}' not found.")
            return
        if not reg.is_leader:
            reg.forward("DELETE", f"/config/{subject}", q, body, on_done, "delete config")
            return
        old = reg.configs[subject]
        reg.write_config(
            subject,
            None,
            lambda e: (
                on_done(200, json_body({"compatibilityLevel": old}))
                if e is None
                else _err(on_done, 500, e.code, "Failed to delete compatibility level")
            ),
        )
        return
    _err(on_done, 405, 405, "HTTP 405 Method Not Allowed")
