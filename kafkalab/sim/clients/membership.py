"""``GroupMember``: a member of a classic group with any protocol type (Java's ``AbstractCoordinator``).

A consumer is one kind of group member (protocol type ``consumer``); Kafka's ecosystem uses the same group
protocol for other things: Schema Registry instances elect their leader in a group of protocol type ``sr``,
Kafka Connect workers share connectors and tasks in a group of protocol type ``connect``. Both are Kafka
clients that speak JoinGroup / SyncGroup / Heartbeat / LeaveGroup to the group coordinator, with their own
member metadata and assignment bytes; this class is that client, fully asynchronous (it never blocks, so the
simulated processes that own it can run it from their own events).

The owner supplies four callbacks:

- ``metadata()``: the protocols it supports, ``[(name, metadata bytes)]`` in preference order;
- ``assign(leader_id, protocol, members)``: called on the member the coordinator chose as group leader, with
  every member's ``(member_id, metadata)``; returns ``{member_id: assignment bytes}``;
- ``on_assigned(generation, member_id, protocol, assignment)``: the member's assignment after a rebalance;
- ``on_join_prepare(generation, member_id)``: called before each (re)join (what ``onJoinPrepare`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .common import ClientNode

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["GROUP_MEMBER_DEFAULTS", "GroupMember"]

GROUP_MEMBER_DEFAULTS: dict[str, Any] = {
    "session.timeout.ms": 10000,
    "heartbeat.interval.ms": 3000,
    "rebalance.timeout.ms": 60000,
    "retry.backoff.ms": 100,
    "request.timeout.ms": 30000,
}

MetadataFn = Callable[[], list[tuple[str, bytes]]]
AssignFn = Callable[[str, str, list[tuple[str, bytes]]], dict[str, bytes]]
AssignedFn = Callable[[int, str, str, bytes], None]
PrepareFn = Callable[[int, str], None]


class GroupMember(ClientNode):
    """One member of group ``group.id`` with protocol type ``protocol_type`` (a node of the simulation)."""

    def __init__(
        self,
        cluster: Cluster,
        config: dict[str, Any],
        *,
        protocol_type: str,
        metadata: MetadataFn,
        assign: AssignFn,
        on_assigned: AssignedFn,
        on_join_prepare: PrepareFn | None = None,
        name: str | None = None,
    ) -> None:
        cfg = dict(GROUP_MEMBER_DEFAULTS)
        cfg.update(config)
        if not cfg.get("group.id"):
            raise ValueError("a group member needs a group.id")
        super().__init__(cluster, name or cluster.next_client_name(f"{protocol_type}-member"), cfg)
        self.group_id = str(cfg["group.id"])
        self.protocol_type = protocol_type
        self.session_timeout_ms = int(cfg["session.timeout.ms"])
        self.heartbeat_interval_ms = int(cfg["heartbeat.interval.ms"])
        self.rebalance_timeout_ms = int(cfg["rebalance.timeout.ms"])
        self._metadata = metadata
        self._assign = assign
        self._on_assigned = on_assigned
        self._on_join_prepare = on_join_prepare
        self.member_id = ""
        self.generation = -1
        self.protocol: str | None = None
        self.leader_id: str | None = None
        self.coordinator: int | None = None
        #: unjoined | joining | syncing | stable
        self.state = "unjoined"
        self.rebalances = 0
        self._join_in_flight = False
        self._rejoin_needed = False
        self._hb_timer: Any = None
        self._active = False

    # -- public API ------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        """This member is the group leader (the one that computed the assignment of this generation)."""
        return self.state == "stable" and bool(self.member_id) and self.leader_id == self.member_id

    def join(self) -> None:
        """Join the group, or ask for a rebalance if already in it."""
        if self.closed or not self.alive:
            return
        self._active = True
        if self._join_in_flight:
            self._rejoin_needed = True
            return
        self._join_in_flight = True
        self._rejoin_needed = False
        if self._on_join_prepare is not None:
            self._on_join_prepare(self.generation, self.member_id)
        self.state = "joining"
        self._find_coordinator(self._send_join)

    def leave(self) -> None:
        """LeaveGroup (a clean shutdown): the coordinator rebalances the others at once."""
        self._active = False
        if self._hb_timer is not None:
            self._hb_timer.cancel()
            self._hb_timer = None
        if self.member_id and self.coordinator is not None:
            req = {"group_id": self.group_id, "member_id": self.member_id}
            self._group_call("LeaveGroup", req, lambda _r: None, lambda _e: None)
        self.member_id = ""
        self.generation = -1
        self.state = "unjoined"
        self._join_in_flight = False

    def close(self) -> None:
        if not self.closed:
            self.leave()
        self.closed = True

    # -- coordinator --------------------------------------------------------------------------------
    def _coordinator_node(self) -> Any:
        return self.find_broker(f"broker-{self.coordinator}") if self.coordinator is not None else None

    def _find_coordinator(self, then: Callable[[], None], attempt: int = 0) -> None:
        if self.coordinator is not None and self._coordinator_node() is not None:
            then()
            return
        brokers = self.cluster.bootstrap_names()
        name = brokers[(attempt + self.kernel.rng.randrange(len(brokers))) % len(brokers)]
        node = self.broker_node(name)
        gid = self.group_id

        def retry() -> None:
            self._find_coordinator(then, attempt + 1)

        def ok(resp: Any) -> None:
            err, coord = resp
            if err == "NO_ERROR":
                self.coordinator = coord
                then()
            else:
                self.schedule(self.retry_backoff_ms * 3, "find-coordinator", retry, gid)

        self.call(
            name,
            "FindCoordinator",
            lambda r: node.handle_find_coordinator(gid, r),
            ok,
            lambda _e: self.schedule(self.retry_backoff_ms, "find-coordinator", retry, gid),
            self.request_timeout_ms,
            detail=f"group {gid}",
        )

    def _group_call(
        self,
        op: str,
        req: dict[str, Any],
        ok: Callable[[dict[str, Any]], None],
        fail: Callable[[str], None],
        timeout_ms: int | None = None,
    ) -> None:
        node = self._coordinator_node()
        if node is None:
            self.coordinator = None
            fail("COORDINATOR_NOT_AVAILABLE")
            return

        def on_resp(resp: dict[str, Any]) -> None:
            if resp.get("error") in (
                "NOT_COORDINATOR",
                "COORDINATOR_NOT_AVAILABLE",
                "COORDINATOR_LOAD_IN_PROGRESS",
            ):
                self.coordinator = None
                fail(str(resp["error"]))
                return
            ok(resp)

        def on_err(err: str) -> None:
            self.coordinator = None
            fail(err)

        self.call(
            node.name,
            op,
            lambda r: node.handle_group(op, req, r),
            on_resp,
            on_err,
            timeout_ms or self.request_timeout_ms,
            detail=f"{self.group_id} {self.member_id or '-'}",
        )

    # -- JoinGroup / SyncGroup ----------------------------------------------------------------------
    def _retry_join(self, _err: str = "") -> None:
        def again() -> None:
            self._find_coordinator(self._send_join)

        self.schedule(self.retry_backoff_ms, "rejoin", again, self.group_id)

    def _send_join(self) -> None:
        if not self._active:
            self._join_in_flight = False
            return
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "group_instance_id": None,
            "client_id": self.name,
            "session_timeout_ms": self.session_timeout_ms,
            "rebalance_timeout_ms": self.rebalance_timeout_ms,
            "protocol_type": self.protocol_type,
            "protocols": self._metadata(),
        }

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if err == "MEMBER_ID_REQUIRED":
                self.member_id = resp["member_id"]
                self._send_join()
            elif err == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
                self._send_join()
            elif err == "REBALANCE_IN_PROGRESS":
                self._send_join()
            elif err == "NO_ERROR":
                self.member_id = resp["member_id"]
                self.generation = resp["generation"]
                self.protocol = resp["protocol"]
                self.leader_id = resp["leader"]
                self.state = "syncing"
                if resp["leader"] == self.member_id:
                    members = [(str(m[0]), bytes(m[-1])) for m in resp["members"]]
                    assignments = self._assign(self.member_id, resp["protocol"] or "", members)
                    self._send_sync(assignments)
                else:
                    self._send_sync(None)
            else:
                self._retry_join(err)

        self._group_call("JoinGroup", req, ok, self._retry_join, self.rebalance_timeout_ms + 5000)

    def _send_sync(self, assignments: dict[str, bytes] | None) -> None:
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "generation": self.generation,
            "assignments": assignments,
        }

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if err == "NO_ERROR":
                self._join_in_flight = False
                self.state = "stable"
                self.rebalances += 1
                self._start_heartbeats()
                self._on_assigned(
                    self.generation, self.member_id, self.protocol or "", resp["assignment"] or b""
                )
                if self._rejoin_needed:
                    self.join()
                return
            if err == "UNKNOWN_MEMBER_ID":
                self.member_id = ""
            self._send_join()

        self._group_call("SyncGroup", req, ok, self._retry_join, self.rebalance_timeout_ms + 5000)

    # -- heartbeats ---------------------------------------------------------------------------------
    def _start_heartbeats(self) -> None:
        if self._hb_timer is not None:
            self._hb_timer.cancel()
        self._hb_timer = self.schedule(
            self.heartbeat_interval_ms, "heartbeat", self._heartbeat, self.group_id
        )

    def _heartbeat(self) -> None:
        self._hb_timer = None
        if self.closed or not self._active or self.state != "stable":
            return
        req = {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "generation": self.generation,
            "group_instance_id": None,
        }
        gen = self.generation

        def next_beat(delay_ms: int) -> None:
            if self._hb_timer is None and self.state == "stable":
                self._hb_timer = self.schedule(delay_ms, "heartbeat", self._heartbeat, self.group_id)

        def ok(resp: dict[str, Any]) -> None:
            err = resp["error"]
            if gen != self.generation or self.state != "stable":
                return
            if err == "REBALANCE_IN_PROGRESS":
                self.join()
            elif err in ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION"):
                if err == "UNKNOWN_MEMBER_ID":
                    self.member_id = ""
                self.join()
            else:
                next_beat(self.heartbeat_interval_ms)

        def fail(_e: str) -> None:
            if gen != self.generation or self.state != "stable":
                return

            def again() -> None:
                self._hb_timer = None
                self._find_coordinator(self._heartbeat)

            if self._hb_timer is None:
                self._hb_timer = self.schedule(self.retry_backoff_ms, "heartbeat", again, self.group_id)

        self._group_call("Heartbeat", req, ok, fail)
