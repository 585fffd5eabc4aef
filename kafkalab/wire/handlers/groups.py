"""Consumer groups (classic protocol): FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch, ListGroups, DescribeGroups.

They run on the broker's group coordinator, the same one the lab's own consumers use, so outside members
and lab members can share a group and ``kafka-consumer-groups --describe`` shows them all.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..codec import ms
from .common import by_topic, id_hex, names_by_id

if TYPE_CHECKING:
    from ...sim.broker import Broker
    from ..node import RequestContext

__all__ = [
    "describe_groups",
    "find_coordinator",
    "heartbeat",
    "join_group",
    "leave_group",
    "list_groups",
    "offset_commit",
    "offset_fetch",
    "sync_group",
]

#: Kafka's group.min.session.timeout.ms / group.max.session.timeout.ms defaults
MIN_SESSION_TIMEOUT_MS = 6_000
MAX_SESSION_TIMEOUT_MS = 1_800_000
#: Kafka's offset.metadata.max.bytes
OFFSET_METADATA_MAX_BYTES = 4096
_COORDINATOR_ERRORS = ("NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS")
_NO_OPS = -2147483648


# -- FindCoordinator (API key 10) ---------------------------------------------------------------------------


def find_coordinator(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    key_type = int(getattr(req, "key_type", 0))
    keys = list(req.coordinator_keys) if v >= 4 else [req.key]

    def on_broker(b: Broker, respond: Any) -> None:
        out = []
        for key in keys:
            entry: dict[str, Any] = {"key": key, "node_id": -1, "host": "", "port": -1, "error_message": None}
            if key_type not in (0, 1):
                entry["error_code"] = "INVALID_REQUEST"
                entry["error_message"] = f"Unknown coordinator type {key_type}"
            elif key_type == 0 and not key:
                entry["error_code"] = "INVALID_GROUP_ID"
            else:
                got: list[Any] = []
                b.handle_find_coordinator(key, got.append, key_type)
                err, node = got[0] if got else ("COORDINATOR_NOT_AVAILABLE", -1)
                entry["error_code"] = err
                if err == "NO_ERROR":
                    entry["node_id"] = node
                    entry["host"], entry["port"] = ctx.endpoint(node)
            out.append(entry)
        respond(out)

    def answer(out: list[dict[str, Any]]) -> None:
        if v >= 4:
            ctx.reply({"coordinators": out})
        else:
            ctx.reply(dict(out[0]))

    ctx.call(on_broker, answer)


# -- JoinGroup / SyncGroup / Heartbeat / LeaveGroup ---------------------------------------------------------


def join_group(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    conn = ctx.conn
    session_ms = ms(req.session_timeout)
    rebalance_ms = ms(req.rebalance_timeout) if v >= 1 else session_ms
    group_id = req.group_id
    protocols = [(p.name, bytes(p.metadata)) for p in req.protocols]
    request = {
        "group_id": group_id,
        "member_id": req.member_id,
        "group_instance_id": getattr(req, "group_instance_id", None),
        "client_id": ctx.req.client_id,
        "session_timeout_ms": session_ms,
        "rebalance_timeout_ms": rebalance_ms,
        "protocol_type": req.protocol_type,
        "protocols": protocols,
    }

    def failure(err: str, member_id: str = "") -> dict[str, Any]:
        return {
            "error_code": err,
            "generation_id": -1,
            "protocol_type": None,
            "protocol_name": None,
            "leader": "",
            "member_id": member_id,
            "members": [],
        }

    def on_broker(b: Broker, respond: Any) -> None:
        if not group_id:
            respond(failure("INVALID_GROUP_ID"))
            return
        if not MIN_SESSION_TIMEOUT_MS <= session_ms <= MAX_SESSION_TIMEOUT_MS:
            respond(failure("INVALID_SESSION_TIMEOUT"))
            return
        if not protocols or not req.protocol_type:
            respond(failure("INCONSISTENT_GROUP_PROTOCOL"))
            return

        def joined(resp: dict[str, Any]) -> None:
            err = resp.get("error", "UNKNOWN_SERVER_ERROR")
            if err == "MEMBER_ID_REQUIRED" and v < 4:
                # before KIP-394 the coordinator accepts the new member in the same round trip
                b.handle_group("JoinGroup", dict(request, member_id=resp["member_id"]), joined)
                return
            if err != "NO_ERROR":
                respond(failure(err, resp.get("member_id", request["member_id"]) or ""))
                return
            respond(
                {
                    "error_code": "NO_ERROR",
                    "generation_id": resp["generation"],
                    "protocol_type": req.protocol_type,
                    "protocol_name": resp["protocol"],
                    "leader": resp["leader"] or "",
                    "skip_assignment": False,
                    "member_id": resp["member_id"],
                    "members": [
                        {"member_id": mid, "group_instance_id": inst, "metadata": meta}
                        for mid, inst, meta in resp.get("members", [])
                    ],
                }
            )

        b.handle_group("JoinGroup", request, joined)

    def answer(out: dict[str, Any]) -> None:
        err = out["error_code"]
        if err == "NO_ERROR":
            mid = out["member_id"]
            if conn.members.get(group_id) != mid:
                conn.members[group_id] = mid
                conn.note(f"joined group {group_id} as {mid}")
        ctx.reply(out)

    ctx.call(on_broker, answer, timeout_ms=rebalance_ms + 60_000)


def _group_protocol(b: Broker, group_id: str) -> tuple[str | None, str | None]:
    g = b.coordinator.groups.get(group_id)
    return (g.protocol_type, g.protocol) if g is not None else (None, None)


def sync_group(ctx: RequestContext, req: Any) -> None:
    group_id = req.group_id
    assignments = {a.member_id: bytes(a.assignment) for a in req.assignments}
    request = {
        "group_id": group_id,
        "member_id": req.member_id,
        "generation": int(req.generation_id),
        "assignments": assignments or None,
    }
    want_type = getattr(req, "protocol_type", None)
    want_name = getattr(req, "protocol_name", None)

    def on_broker(b: Broker, respond: Any) -> None:
        ptype, pname = _group_protocol(b, group_id)
        if (want_type is not None and ptype is not None and want_type != ptype) or (
            want_name is not None and pname is not None and want_name != pname
        ):
            respond({"error_code": "INCONSISTENT_GROUP_PROTOCOL", "assignment": b""})
            return

        def synced(resp: dict[str, Any]) -> None:
            err = resp.get("error", "UNKNOWN_SERVER_ERROR")
            ptype2, pname2 = _group_protocol(b, group_id)
            respond(
                {
                    "error_code": err,
                    "protocol_type": ptype2 if err == "NO_ERROR" else None,
                    "protocol_name": pname2 if err == "NO_ERROR" else None,
                    "assignment": resp.get("assignment", b"") if err == "NO_ERROR" else b"",
                }
            )

        b.handle_group("SyncGroup", request, synced)

    ctx.call(on_broker, ctx.reply, timeout_ms=MAX_SESSION_TIMEOUT_MS + 60_000)


def heartbeat(ctx: RequestContext, req: Any) -> None:
    request = {
        "group_id": req.group_id,
        "member_id": req.member_id,
        "generation": int(req.generation_id),
        "group_instance_id": getattr(req, "group_instance_id", None),
    }

    def on_broker(b: Broker, respond: Any) -> None:
        b.handle_group(
            "Heartbeat", request, lambda r: respond({"error_code": r.get("error", "UNKNOWN_SERVER_ERROR")})
        )

    ctx.call(on_broker, ctx.reply)


def leave_group(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    conn = ctx.conn
    group_id = req.group_id
    if v >= 3:
        leaving = [(m.member_id, getattr(m, "group_instance_id", None)) for m in req.members]
    else:
        leaving = [(req.member_id, None)]

    def on_broker(b: Broker, respond: Any) -> None:
        results: list[dict[str, Any]] = []
        for mid, inst in leaving:
            member = mid
            g = b.coordinator.groups.get(group_id)
            if not member and inst and g is not None:
                member = g.static.get(inst, "")
            got: list[dict[str, Any]] = []
            b.handle_group("LeaveGroup", {"group_id": group_id, "member_id": member}, got.append)
            err = got[0].get("error", "UNKNOWN_SERVER_ERROR") if got else "UNKNOWN_SERVER_ERROR"
            results.append({"member_id": mid, "group_instance_id": inst, "error_code": err})
        top = "NO_ERROR"
        if any(r["error_code"] in _COORDINATOR_ERRORS for r in results) or (
            v < 3 and results[0]["error_code"] != "NO_ERROR"
        ):
            top = results[0]["error_code"]
        respond({"error_code": top, "members": results if v >= 3 else []})

    def answer(out: dict[str, Any]) -> None:
        for m in out["members"] or [{"member_id": leaving[0][0], "error_code": out["error_code"]}]:
            if m["error_code"] == "NO_ERROR" and conn.members.get(group_id) == m["member_id"]:
                del conn.members[group_id]
                conn.note(f"left group {group_id}")
        ctx.reply(out)

    ctx.call(on_broker, answer)


# -- OffsetCommit / OffsetFetch -----------------------------------------------------------------------------


def offset_commit(ctx: RequestContext, req: Any) -> None:
    group_id = req.group_id
    generation = int(req.generation_id_or_member_epoch)
    member_id = req.member_id
    #: (name, topic id, partition, offset, leader epoch, metadata)
    wanted = [
        (
            getattr(t, "name", None),
            getattr(t, "topic_id", None),
            int(p.partition_index),
            int(p.committed_offset),
            int(getattr(p, "committed_leader_epoch", -1)),
            p.committed_metadata,
        )
        for t in req.topics
        for p in t.partitions
    ]

    def on_broker(b: Broker, respond: Any) -> None:
        errors: dict[int, str] = {}
        offsets = []
        ids: dict[str, str] | None = None
        names: list[str | None] = []
        for i, (name, topic_id, p, off, epoch, meta) in enumerate(wanted):
            if not name:
                ids = ids if ids is not None else names_by_id(b)
                name = ids.get(id_hex(topic_id) or "")
            names.append(name)
            if name is None:
                errors[i] = "UNKNOWN_TOPIC_ID"
            elif (name, p) not in b.image.partitions:
                errors[i] = "UNKNOWN_TOPIC_OR_PART"
            elif meta is not None and len(meta.encode()) > OFFSET_METADATA_MAX_BYTES:
                errors[i] = "OFFSET_METADATA_TOO_LARGE"
            else:
                offsets.append((name, p, off, epoch, meta or ""))

        def committed(resp: dict[str, Any]) -> None:
            err = resp.get("error", "UNKNOWN_SERVER_ERROR")
            rows = [
                ((w[0], w[1]), {"partition_index": w[2], "error_code": errors.get(i, err)})
                for i, w in enumerate(wanted)
            ]
            respond(rows)

        request = {"group_id": group_id, "generation": generation, "member_id": member_id, "offsets": offsets}
        if not group_id:
            committed({"error": "INVALID_GROUP_ID"})
        elif not offsets:
            committed({"error": "NO_ERROR"})
        else:
            b.handle_group("OffsetCommit", request, committed)

    ctx.call(on_broker, lambda rows: ctx.reply({"topics": by_topic(rows, "partitions")}))


def _fetch_group_offsets(
    b: Broker,
    group_id: str,
    wanted: list[tuple[str | None, Any, list[int]]] | None,
    require_stable: bool,
    respond: Any,
) -> None:
    """OffsetFetch for one group: ((name, topic id), partition answer) rows and the group's error."""
    ids: dict[str, str] | None = None
    resolved: list[tuple[str | None, Any, list[int]]] | None = None
    if wanted is not None:
        resolved = []
        for name, topic_id, parts in wanted:
            if not name and topic_id is not None:
                ids = ids if ids is not None else names_by_id(b)
                name = ids.get(id_hex(topic_id) or "")
            resolved.append((name, topic_id, parts))
    keys = None if resolved is None else [(n, p) for n, _t, ps in resolved if n for p in ps]

    def fetched(resp: dict[str, Any]) -> None:
        err = resp.get("error", "UNKNOWN_SERVER_ERROR")
        if err not in ("NO_ERROR", "UNSTABLE_OFFSET_COMMIT"):
            respond(([], err))
            return
        g = b.coordinator.groups.get(group_id)
        stored = g.offsets if g is not None else {}
        part_err = "UNSTABLE_OFFSET_COMMIT" if err == "UNSTABLE_OFFSET_COMMIT" else "NO_ERROR"
        rows = []
        if resolved is None:
            items = [((t, None), p) for (t, p) in sorted(stored)]
        else:
            items = [((n, tid), p) for n, tid, ps in resolved for p in ps]
        ids_by_name = {t.name: t.topic_id for t in b.image.topics.values()}
        for (name, tid), p in items:
            off, epoch, meta = -1, -1, ""
            got = stored.get((name, p)) if name else None
            if got is not None and part_err == "NO_ERROR":
                off, epoch, meta = got[0], got[1], got[2]
            if tid is None and name in ids_by_name:
                tid = uuid.UUID(hex=ids_by_name[name])
            rows.append(
                (
                    (name, tid),
                    {
                        "partition_index": p,
                        "committed_offset": off,
                        "committed_leader_epoch": epoch,
                        "metadata": meta,
                        "error_code": part_err if name else "UNKNOWN_TOPIC_ID",
                    },
                )
            )
        respond((rows, "NO_ERROR"))

    b.handle_group(
        "OffsetFetch", {"group_id": group_id, "partitions": keys, "require_stable": require_stable}, fetched
    )


def offset_fetch(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    require_stable = bool(getattr(req, "require_stable", False))
    groups: list[tuple[str, list[tuple[str | None, Any, list[int]]] | None]]
    if v >= 8:
        groups = [
            (
                g.group_id,
                None
                if g.topics is None
                else [
                    (getattr(t, "name", None), getattr(t, "topic_id", None), list(t.partition_indexes))
                    for t in g.topics
                ],
            )
            for g in req.groups
        ]
    else:
        topics = (
            None if req.topics is None else [(t.name, None, list(t.partition_indexes)) for t in req.topics]
        )
        groups = [(req.group_id, topics)]

    def on_broker(b: Broker, respond: Any) -> None:
        out: list[tuple[list[Any], str] | None] = [None] * len(groups)

        def collect(i: int) -> Any:
            def got(result: tuple[list[Any], str]) -> None:
                out[i] = result
                if all(o is not None for o in out):
                    respond(out)

            return got

        for i, (gid, wanted) in enumerate(groups):
            _fetch_group_offsets(b, gid, wanted, require_stable, collect(i))

    def answer(out: list[tuple[list[Any], str]]) -> None:
        if v >= 8:
            ctx.reply(
                {
                    "groups": [
                        {"group_id": gid, "topics": by_topic(rows, "partitions"), "error_code": err}
                        for (gid, _w), (rows, err) in zip(groups, out, strict=True)
                    ]
                }
            )
            return
        rows, err = out[0]
        if err != "NO_ERROR" and v < 2:
            # v0-1 have no top-level error: every requested partition carries it
            rows = [
                ((n, None), {"partition_index": p, "committed_offset": -1, "metadata": "", "error_code": err})
                for n, _t, ps in (groups[0][1] or [])
                for p in ps
            ]
        ctx.reply({"topics": by_topic(rows, "partitions"), "error_code": err})

    ctx.call(on_broker, answer)


# -- ListGroups / DescribeGroups ----------------------------------------------------------------------------


def list_groups(ctx: RequestContext, req: Any) -> None:
    states = {s.lower() for s in getattr(req, "states_filter", ()) or ()}
    types = {t.lower() for t in getattr(req, "types_filter", ()) or ()}

    def on_broker(b: Broker, respond: Any) -> None:
        c = b.coordinator
        out = []
        for gid in sorted(c.groups):
            if c.owns(gid) is None:
                continue
            g = c.groups[gid]
            if states and g.state.lower() not in states:
                continue
            if types and "classic" not in types:
                continue
            out.append(
                {
                    "group_id": gid,
                    "protocol_type": g.protocol_type or "",
                    "group_state": g.state,
                    "group_type": "classic",
                }
            )
        respond({"error_code": "NO_ERROR", "groups": out})

    ctx.call(on_broker, ctx.reply)


def describe_groups(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    wanted = list(req.groups)

    def one(b: Broker, gid: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "error_code": "NO_ERROR",
            "error_message": None,
            "group_id": gid,
            "group_state": "Dead",
            "protocol_type": "",
            "protocol_data": "",
            "members": [],
            "authorized_operations": _NO_OPS,
        }
        c = b.coordinator
        if c.owns(gid) is None:
            out["error_code"] = "NOT_COORDINATOR"
            return out
        g = c.groups.get(gid)
        if g is None:
            if v >= 6:
                out["error_code"] = "GROUP_ID_NOT_FOUND"
                out["error_message"] = f"Group {gid} not found."
            return out
        stable = g.state == "Stable"
        out["group_state"] = g.state
        out["protocol_type"] = g.protocol_type or ""
        out["protocol_data"] = (g.protocol or "") if stable else ""
        out["members"] = [
            {
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": "/127.0.0.1",
                "member_metadata": m.metadata_for(g.protocol or "") if stable else b"",
                "member_assignment": m.assignment if stable else b"",
            }
            for m in g.members.values()
        ]
        return out

    def on_broker(b: Broker, respond: Any) -> None:
        respond({"groups": [one(b, gid) for gid in wanted]})

    ctx.call(on_broker, ctx.reply)
