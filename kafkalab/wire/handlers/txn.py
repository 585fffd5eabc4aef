"""Idempotence and transactions: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
TxnOffsetCommit. They run on the broker's transaction coordinator (and group coordinator for offsets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..codec import ms
from .common import by_topic

if TYPE_CHECKING:
    from ...sim.broker import Broker
    from ..node import RequestContext

__all__ = ["add_offsets_to_txn", "add_partitions_to_txn", "end_txn", "init_producer_id", "txn_offset_commit"]


def init_producer_id(ctx: RequestContext, req: Any) -> None:
    tid = req.transactional_id
    timeout = ms(req.transaction_timeout)

    def on_broker(b: Broker, respond: Any) -> None:
        def done(resp: Any) -> None:
            err = resp[0]
            pid, epoch = (int(resp[1]), int(resp[2])) if len(resp) == 3 and err == "NO_ERROR" else (-1, -1)
            if err == "NOT_CONTROLLER":  # the broker could not get a producer id block from the controller
                err = "COORDINATOR_NOT_AVAILABLE"
            respond({"error_code": err, "producer_id": pid, "producer_epoch": epoch})

        if tid is None:
            b.handle_admin("allocate_producer_id", (), done)
        elif not tid:
            respond({"error_code": "INVALID_REQUEST", "producer_id": -1, "producer_epoch": -1})
        else:
            # v3+ carry the producer's id and epoch when it asks to bump its own epoch (KIP-360)
            pid, epoch = int(getattr(req, "producer_id", -1)), int(getattr(req, "producer_epoch", -1))
            b.handle_txn("InitProducerId", (tid, timeout, pid, epoch), done)

    def answer(out: dict[str, Any]) -> None:
        if out["error_code"] == "NO_ERROR" and tid:
            ctx.conn.note(
                f"initialized transactional id {tid} (producer id {out['producer_id']}, epoch {out['producer_epoch']})"
            )
        ctx.reply(out)

    ctx.call(on_broker, answer)


def _add_partitions(
    b: Broker, tid: str, pid: int, epoch: int, topics: list[tuple[str, list[int]]], respond: Any
) -> None:
    """One transaction's AddPartitionsToTxn: (topic, [(partition, error)]) rows."""
    unknown = {(t, p) for t, ps in topics for p in ps if (t, p) not in b.image.partitions}
    if unknown:  # Kafka adds nothing then: the unknown ones fail, the rest are not attempted
        respond(
            [
                (
                    t,
                    [
                        (p, "UNKNOWN_TOPIC_OR_PART" if (t, p) in unknown else "OPERATION_NOT_ATTEMPTED")
                        for p in ps
                    ],
                )
                for t, ps in topics
            ]
        )
        return

    def done(err: str) -> None:
        respond([(t, [(p, err) for p in ps]) for t, ps in topics])

    b.handle_txn("AddPartitionsToTxn", (tid, pid, epoch, [(t, p) for t, ps in topics for p in ps]), done)


def _topic_results(rows: list[tuple[str, list[tuple[int, str]]]]) -> list[dict[str, Any]]:
    return [
        {
            "name": t,
            "results_by_partition": [{"partition_index": p, "partition_error_code": err} for p, err in parts],
        }
        for t, parts in rows
    ]


def add_partitions_to_txn(ctx: RequestContext, req: Any) -> None:
    v = ctx.version
    if v >= 4:
        txns = [
            (
                t.transactional_id,
                int(t.producer_id),
                int(t.producer_epoch),
                [(x.name, list(x.partitions)) for x in t.topics],
            )
            for t in req.transactions
        ]
    else:
        txns = [
            (
                req.v3_and_below_transactional_id,
                int(req.v3_and_below_producer_id),
                int(req.v3_and_below_producer_epoch),
                [(x.name, list(x.partitions)) for x in req.v3_and_below_topics],
            )
        ]

    def on_broker(b: Broker, respond: Any) -> None:
        out: list[Any] = [None] * len(txns)

        def collect(i: int) -> Any:
            def got(rows: Any) -> None:
                out[i] = rows
                if all(o is not None for o in out):
                    respond(out)

            return got

        if not txns:
            respond([])
        for i, (tid, pid, epoch, topics) in enumerate(txns):
            _add_partitions(b, tid, pid, epoch, topics, collect(i))

    def answer(out: list[Any]) -> None:
        if v >= 4:
            ctx.reply(
                {
                    "error_code": "NO_ERROR",
                    "results_by_transaction": [
                        {"transactional_id": tid, "topic_results": _topic_results(rows)}
                        for (tid, *_r), rows in zip(txns, out, strict=True)
                    ],
                }
            )
        else:
            ctx.reply({"results_by_topic_v3_and_below": _topic_results(out[0])})

    ctx.call(on_broker, answer)


def add_offsets_to_txn(ctx: RequestContext, req: Any) -> None:
    args = (req.transactional_id, int(req.producer_id), int(req.producer_epoch), req.group_id)

    def on_broker(b: Broker, respond: Any) -> None:
        b.handle_txn("AddOffsetsToTxn", args, lambda err: respond({"error_code": err}))

    ctx.call(on_broker, ctx.reply)


def end_txn(ctx: RequestContext, req: Any) -> None:
    tid, pid, epoch, commit = (
        req.transactional_id,
        int(req.producer_id),
        int(req.producer_epoch),
        bool(req.committed),
    )

    # EndTxn v5+ is a client of Kafka 4's transaction protocol (KIP-890), whose epoch is bumped each time
    version = 2 if ctx.version >= 5 else 0

    def on_broker(b: Broker, respond: Any) -> None:
        b.handle_txn("EndTxn", (tid, pid, epoch, commit, version), respond)

    def answer(resp: Any) -> None:
        err, new_pid, new_epoch = resp
        if err == "NO_ERROR":
            ctx.conn.note(f"{'committed' if commit else 'aborted'} a transaction of {tid}")
        else:
            new_pid, new_epoch = pid, epoch
        ctx.reply({"error_code": err, "producer_id": new_pid, "producer_epoch": new_epoch})

    ctx.call(on_broker, answer)


def txn_offset_commit(ctx: RequestContext, req: Any) -> None:
    offsets = [
        (t.name, int(p.partition_index), int(p.committed_offset)) for t in req.topics for p in t.partitions
    ]
    request = {
        "transactional_id": req.transactional_id,
        "group_id": req.group_id,
        "producer_id": int(req.producer_id),
        "producer_epoch": int(req.producer_epoch),
        "generation": int(getattr(req, "generation_id", -1)),
        "member_id": getattr(req, "member_id", "") or "",
        "offsets": [],
    }

    def on_broker(b: Broker, respond: Any) -> None:
        known = [o for o in offsets if (o[0], o[1]) in b.image.partitions]

        def done(resp: dict[str, Any]) -> None:
            err = resp.get("error", "UNKNOWN_SERVER_ERROR")
            respond(
                [
                    (
                        (t, None),
                        {
                            "partition_index": p,
                            "error_code": err if (t, p, o) in known else "UNKNOWN_TOPIC_OR_PART",
                        },
                    )
                    for t, p, o in offsets
                ]
            )

        if not known:
            done({"error": "NO_ERROR"})
            return
        b.handle_group("TxnOffsetCommit", dict(request, offsets=known), done)

    ctx.call(on_broker, lambda rows: ctx.reply({"topics": by_topic(rows, "partitions")}))
