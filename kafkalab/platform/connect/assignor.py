"""Kafka Connect's ``IncrementalCooperativeAssignor`` (KIP-415), run by the group's leader worker.

Each rebalance the leader compares what is configured with what the members say they run:

- new connectors and tasks go to the least loaded workers;
- deleted ones (and duplicates) are revoked from whoever runs them;
- *lost* ones (run by a worker that is no longer in the group) are not reassigned at once: the leader waits
  ``scheduled.rebalance.max.delay.ms`` (5 minutes by default) for that worker to come back, telling every
  member to rejoin when the delay is over; then they go to the workers that were empty meanwhile (or to
  the least loaded ones);
- when the load is unbalanced (a worker joined), the surplus is revoked in one round and assigned in the
  next (members whose work was revoked rejoin at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .protocol import Assignment, WorkerState

__all__ = ["IncrementalCooperativeAssignor"]

Task = tuple[str, int]


@dataclass
class _Load:
    worker: str
    connectors: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    def size(self) -> int:
        return len(self.connectors) + len(self.tasks)


class IncrementalCooperativeAssignor:
    def __init__(self, max_delay_ms: int = 300_000) -> None:
        self.max_delay_ms = max_delay_ms
        self.previous_connectors: set[str] = set()
        self.previous_tasks: set[Task] = set()
        self.previous_members: set[str] = set()
        self.previous_generation = -1
        self.scheduled_rebalance_ms = 0
        self.delay_ms = 0
        self.candidates: set[str] = set()

    def assign(
        self,
        now_ms: int,
        leader_id: str,
        leader_url: str,
        config_offset: int,
        configured: dict[str, int],
        members: dict[str, WorkerState],
        last_completed_generation: int,
        generation: int,
    ) -> dict[str, Assignment]:
        """``configured``: connector -> number of tasks (committed task configs) at ``config_offset``."""
        if self.previous_generation != last_completed_generation:
            self.previous_connectors, self.previous_tasks = set(), set()
        conf_conns = set(configured)
        conf_tasks = {(c, i) for c, n in configured.items() for i in range(n)}
        active_conns = {c for m in members.values() for c in m.connectors}
        active_tasks = {t for m in members.values() for t in m.tasks}
        deleted_conns = self.previous_connectors - conf_conns
        deleted_tasks = self.previous_tasks - conf_tasks
        lost_conns = self.previous_connectors - active_conns - deleted_conns
        lost_tasks = self.previous_tasks - active_tasks - deleted_tasks
        created_conns = conf_conns - self.previous_connectors - active_conns
        created_tasks = conf_tasks - self.previous_tasks - active_tasks

        revoke: dict[str, _Load] = {mid: _Load(mid) for mid in members}
        nxt: dict[str, _Load] = {}
        seen_c: set[str] = set()
        seen_t: set[Task] = set()
        for mid in sorted(members):
            m = members[mid]
            load = _Load(mid)
            for c in m.connectors:
                if c not in conf_conns or c in seen_c:  # deleted, or a duplicate
                    revoke[mid].connectors.append(c)
                else:
                    load.connectors.append(c)
                    seen_c.add(c)
            for t in m.tasks:
                if t not in conf_tasks or t in seen_t:
                    revoke[mid].tasks.append(t)
                else:
                    load.tasks.append(t)
                    seen_t.add(t)
            nxt[mid] = load
        current = {mid: (list(ld.connectors), list(ld.tasks)) for mid, ld in nxt.items()}

        reassign_conns: set[str] = set()
        reassign_tasks: set[Task] = set()
        if not lost_conns and not lost_tasks:
            self._reset_delay()
        elif self.scheduled_rebalance_ms <= 0 and set(members) >= self.previous_members:
            reassign_conns, reassign_tasks = set(lost_conns), set(lost_tasks)  # nobody left: re-send them
        elif self.max_delay_ms == 0:
            reassign_conns, reassign_tasks = set(lost_conns), set(lost_tasks)
        elif self.scheduled_rebalance_ms > 0 and now_ms >= self.scheduled_rebalance_ms:
            targets = [nxt[w] for w in sorted(self.candidates) if w in nxt]
            if targets:
                for i, c in enumerate(sorted(lost_conns)):
                    targets[i % len(targets)].connectors.append(c)
                for i, t in enumerate(sorted(lost_tasks)):
                    targets[i % len(targets)].tasks.append(t)
            else:
                reassign_conns, reassign_tasks = set(lost_conns), set(lost_tasks)
            self._reset_delay()
        else:
            self.candidates |= {w for w, ld in nxt.items() if ld.size() == 0}
            if now_ms < self.scheduled_rebalance_ms:
                self.delay_ms = self.scheduled_rebalance_ms - now_ms
            else:
                self.delay_ms = self.max_delay_ms
            self.scheduled_rebalance_ms = now_ms + self.delay_ms

        if self.delay_ms == 0:  # balance: revoke the surplus of overloaded workers
            self._balance(nxt, revoke, conf_conns, conf_tasks)

        for c in sorted(created_conns | reassign_conns):
            min(nxt.values(), key=lambda ld: (len(ld.connectors), ld.size(), ld.worker)).connectors.append(c)
        for t in sorted(created_tasks | reassign_tasks):
            min(nxt.values(), key=lambda ld: (len(ld.tasks), ld.size(), ld.worker)).tasks.append(t)

        self.previous_connectors = {c for ld in nxt.values() for c in ld.connectors} | lost_conns
        self.previous_tasks = {t for ld in nxt.values() for t in ld.tasks} | lost_tasks
        for ld in revoke.values():
            self.previous_connectors -= set(ld.connectors)
            self.previous_tasks -= set(ld.tasks)
        self.previous_generation = generation
        self.previous_members = set(members)

        out: dict[str, Assignment] = {}
        for mid in members:
            cur_c, cur_t = current[mid]
            out[mid] = Assignment(
                0,
                leader_id,
                leader_url,
                config_offset,
                sorted(set(nxt[mid].connectors) - set(cur_c)),
                sorted(set(nxt[mid].tasks) - set(cur_t)),
                sorted(revoke[mid].connectors),
                sorted(revoke[mid].tasks),
                self.delay_ms,
            )
        return out

    def _reset_delay(self) -> None:
        self.candidates.clear()
        self.scheduled_rebalance_ms = 0
        self.delay_ms = 0

    @staticmethod
    def _balance(nxt: dict[str, _Load], revoke: dict[str, _Load], conns: set[str], tasks: set[Task]) -> None:
        n = len(nxt)
        if n <= 1:
            return
        for attr, total in (("connectors", len(conns)), ("tasks", len(tasks))):
            ceiling = -(-total // n)
            floor = total // n
            loads = sorted(nxt.values(), key=lambda ld: ld.worker)
            if not any(len(getattr(ld, attr)) < floor for ld in loads):
                continue
            for ld in loads:
                items = getattr(ld, attr)
                while len(items) > ceiling or (
                    len(items) > floor and any(len(getattr(o, attr)) < floor for o in loads)
                ):
                    moved = items.pop()
                    getattr(revoke[ld.worker], attr).append(moved)
                    # revoked this round, assigned next round (cooperative): not in the next assignment
                    if len(items) <= floor:
                        break
