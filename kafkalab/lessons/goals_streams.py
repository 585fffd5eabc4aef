"""Goal predicates for Kafka Streams, ksqlDB and MirrorMaker 2 lessons (``kafkalab.platform``).

Like every measure (:mod:`.measures`), these read the run without changing it: Streams applications and
ksqlDB servers from ``session.extension_state`` (where the console keeps them), topics straight from the
replicas' logs, consumer history from each cluster's record of client operations. Registered into
:data:`kafkalab.lessons.goals.PREDICATES` by :mod:`.goals`; documented in docs/writing-lessons.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from .measures import GoalContext, leader_log, split_partition, visible_records

if TYPE_CHECKING:
    from ..sim.cluster import Cluster
    from .goals import Param, Predicate

__all__ = ["streams_predicates"]

_DOWN = ("NOT_RUNNING", "ERROR", "PENDING_SHUTDOWN")


# -- Kafka Streams ---------------------------------------------------------------------------------------------
def _app(ctx: GoalContext, name: str) -> Any:
    return ctx.session.extension_state.get("streams", {}).get(name)


def _app_cluster(ctx: GoalContext, app: Any) -> Cluster:
    return app.instances[0].cluster if app.instances else ctx.cluster


def _ends(app: Any) -> tuple[str, str]:
    """The application's input and output topics (the ones that are not its own internal topics)."""
    internal = set(app.topology.internal_topics)
    subs = app.topology.subtopologies()
    src = next(t for st in subs for t in st.source_topics if t not in internal)
    dst = next(t for st in subs for t in st.sink_topics if t not in internal)
    return src, dst


def _live(app: Any) -> list[Any]:
    return [i for i in app.instances if i.state not in _DOWN and i.thread is not None and i.thread.alive]


def _killed(app: Any) -> list[Any]:
    return [i for i in app.instances if i.killed and i.thread is not None]


def _taken_over(app: Any) -> dict[str, tuple[Any, Any]] | None:
    """task id -> (its task on a killed instance, the RUNNING task that replaced it on a live instance).

    None unless an instance was killed and every task it ran runs again on a live instance.
    """
    from ..platform.streams.tasks import RUNNING

    dead = {str(tid): t for inst in _killed(app) for tid, t in inst.thread.tasks.items()}
    if not dead:
        return None
    live = {str(t.id): t for inst in _live(app) for t in inst.active_tasks() if t.state == RUNNING}
    if not set(dead) <= set(live):
        return None
    return {tid: (dead[tid], live[tid]) for tid in dead}


def _m_streams_running(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    app = _app(ctx, a["app"])
    if app is None:
        return None
    if "guarantee" in a and app.config.get("processing.guarantee", "at_least_once") != a["guarantee"]:
        return None
    return sum(1 for i in app.instances if i.state == "RUNNING")


def _topic_rows(cluster: Cluster, topic: str) -> list[tuple[int, bytes | None, bytes | None]] | None:
    """(partition, key, value) of every record of ``topic`` a read_committed reader sees, in offset order."""
    if topic not in cluster.topics():
        return None
    out = []
    for p in cluster.describe_topic(topic):
        log = leader_log(cluster, topic, p.partition)
        if log is None:
            return None
        out += [(p.partition, k, v) for _o, k, v in visible_records(log)]
    return out


def _m_word_counts(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Words whose newest count in the app's output topic is over / under / exactly their occurrences in
    the input topic (as read_committed readers see both)."""
    app = _app(ctx, a["app"])
    if app is None or app.kind != "wordcount":
        return None
    if a.get("after_kill") and _taken_over(app) is None:
        return None
    cluster = _app_cluster(ctx, app)
    src, dst = _ends(app)
    lines = _topic_rows(cluster, src)
    counts = _topic_rows(cluster, dst)
    if lines is None or counts is None:
        return None
    truth: Counter[str] = Counter()
    for _p, _k, v in lines:
        if v is not None:
            truth.update(v.decode("utf-8", "replace").lower().split())
    newest: dict[str, int] = {}
    for _p, k, v in counts:
        if k is not None and v is not None:
            try:
                newest[k.decode("utf-8", "replace")] = int(v)
            except ValueError:
                continue
    want = a["result"]
    n = 0
    for word, times in truth.items():
        got = newest.get(word, 0)
        if (
            (want == "over" and got > times)
            or (want == "under" and got < times)
            or (want == "exact" and got == times)
        ):
            n += 1
    return n


def _m_streams_restored(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Changelog records live instances read to restore the tasks of a killed instance."""
    app = _app(ctx, a["app"])
    if app is None:
        return None
    killed = _killed(app)
    if not killed:
        return None
    since = min(i.killed_at_ms or 0 for i in killed)
    tasks = {str(tid) for i in killed for tid in i.thread.tasks}
    return sum(
        int(reads)
        for inst in _live(app)
        for tid, reads, _entries, at in inst.thread.restores
        if tid in tasks and at >= since
    )


def _m_store_same_as_before_kill(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """Every store entry the killed instance's tasks held is held, with the same value, by the instance
    that runs those tasks now (and there was at least one)."""
    app = _app(ctx, a["app"])
    if app is None:
        return False
    pairs = _taken_over(app)
    if pairs is None:
        return False
    entries = 0
    for dead, live in pairs.values():
        for name, store in dead.stores.items():
            before = store.snapshot()
            now = live.stores[name].snapshot() if name in live.stores else {}
            if any(now.get(k) != v for k, v in before.items()):
                return False
            entries += len(before)
    return entries > 0


def _m_window_count(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """The count in the newest window of a key, in the state store of a windowed-count application."""
    app = _app(ctx, a["app"])
    if app is None or app.kind != "windowed-count" or app.store is None:
        return None
    best: tuple[int, Any] | None = None
    for inst in _live(app):
        for w, v in inst.store(app.store).fetch(str(a["key"]), 0, 2**62):
            if best is None or w.start_ms > best[0]:
                best = (w.start_ms, v)
    return None if best is None else int(best[1])


# -- ksqlDB --------------------------------------------------------------------------------------------------
def _engine(ctx: GoalContext) -> Any:
    return ctx.session.extension_state.get("ksql", {}).get(getattr(ctx.cluster, "name", "") or "")


def _m_ksql_source(ctx: GoalContext, a: dict[str, Any]) -> bool:
    eng = _engine(ctx)
    src = None if eng is None else eng.sources.get(str(a["name"]).upper())
    if src is None:
        return False
    if "kind" in a and src.kind != a["kind"]:
        return False
    return "topic" not in a or src.topic == a["topic"]


def _query_of(eng: Any, sink: str) -> Any:
    for q in eng.queries.values():
        if q.sink == sink.upper():
            return q
    return None


def _m_ksql_query(ctx: GoalContext, a: dict[str, Any]) -> bool:
    eng = _engine(ctx)
    q = None if eng is None else _query_of(eng, str(a["sink"]))
    return q is not None and q.streams.state == "RUNNING"


def _ksql_rows(ctx: GoalContext, table: str) -> tuple[Any, list[dict[str, Any]]] | None:
    eng = _engine(ctx)
    src = None if eng is None else eng.sources.get(table.upper())
    if src is None or src.kind != "TABLE" or not src.key_cols:
        return None
    try:
        return src, eng._table_rows(src)
    except Exception:  # not materialized or its query is not running: nothing to judge
        return None


def _m_ksql_row(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """A column of a table's row for a key (a windowed table: the newest window's row)."""
    got = _ksql_rows(ctx, str(a["table"]))
    if got is None:
        return None
    src, rows = got
    kc = src.key_cols[0][0]
    mine = [r for r in rows if str(r.get(kc)) == str(a["key"])]
    if not mine:
        return None
    value = mine[-1].get(str(a["column"]).upper())
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _m_ksql_push_rows(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    eng = _engine(ctx)
    if eng is None:
        return None
    prefix = f"transient_{str(a['source']).upper()}_"
    return sum(len(p.rows) for qid, p in eng.push_queries.items() if qid.startswith(prefix))


def _m_ksql_matches_streams(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A windowed ksqlDB table and a windowed-count Streams application hold the same count for every key
    and window (and at least one)."""
    got = _ksql_rows(ctx, str(a["table"]))
    app = _app(ctx, a["app"])
    if got is None or app is None or app.kind != "windowed-count" or app.store is None:
        return False
    src, rows = got
    kc, col = src.key_cols[0][0], str(a["column"]).upper()
    table = {(str(r.get(kc)), r.get("WINDOWSTART"), r.get("WINDOWEND")): r.get(col) for r in rows}
    store: dict[tuple[str, Any, Any], Any] = {}
    live = _live(app)
    if not live:
        return False
    for inst in live:
        for wk, v in inst.store(app.store).all():
            store[(str(wk.key), wk.window.start_ms, wk.window.end_ms)] = v
    return bool(table) and table == store


# -- MirrorMaker 2 -----------------------------------------------------------------------------------------------
def _checkpoints(cluster: Cluster, group: str, topic: str, partition: int) -> list[tuple[int, int]]:
    """(time written, downstream offset) of every checkpoint of ``group`` for a remote partition, oldest first,
    read from the ``<source>.checkpoints.internal`` topics of ``cluster``."""
    return [(at, cp.downstream) for at, cp in _checkpoint_records(cluster, group, topic, partition)]


def _checkpoint_records(cluster: Cluster, group: str, topic: str, partition: int) -> list[tuple[int, Any]]:
    """(time written, Checkpoint) of every checkpoint of ``group`` for a remote partition, oldest first."""
    from ..platform.mirror_records import Checkpoint

    out: list[tuple[int, Any]] = []
    for t in cluster.topics():
        if not t.endswith(".checkpoints.internal"):
            continue
        for p in cluster.describe_topic(t):
            log = leader_log(cluster, t, p.partition)
            if log is None:
                continue
            for batch in log.iter_batches(log.log_start_offset):
                if batch.is_control:
                    continue
                for _o, r in batch.iter_records():
                    if r.key is None or r.value is None:
                        continue
                    try:
                        cp = Checkpoint.decode(r.key, r.value)
                    except Exception:
                        continue
                    if cp.group == group and cp.topic == topic and cp.partition == partition:
                        out.append((batch.max_timestamp, cp))
    return out


def _m_mirror_checkpoint(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """The downstream offset of the newest checkpoint of a group for a remote partition."""
    topic, partition = split_partition(a["partition"])
    cps = _checkpoints(ctx.cluster, a["group"], topic, partition)
    return cps[-1][1] if cps else None


def _m_read_past_checkpoint(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Records of the source partition the group consumed (on the source cluster) at or after the upstream
    offset of MirrorMaker's newest checkpoint: what a failover to the remote partition would read again."""
    world = ctx.world
    if world is None or a["source"] not in world.clusters:
        return None
    remote, partition = split_partition(a["partition"])
    prefix = f"{a['source']}."
    if not remote.startswith(prefix):
        return None
    cps = _checkpoint_records(ctx.cluster, a["group"], remote, partition)
    if not cps:
        return None
    upstream = cps[-1][1].upstream
    topic = remote[len(prefix) :]
    return len(
        {
            op.offset
            for op in world.clusters[a["source"]].history.ops
            if op.type == "consume"
            and op.group == a["group"]
            and op.topic == topic
            and (op.partition or 0) == partition
            and op.offset is not None
            and op.offset >= upstream
        }
    )


def _m_resumed_at_checkpoint(ctx: GoalContext, a: dict[str, Any]) -> bool:
    """A consumer of the group started reading the remote partition at the offset MirrorMaker's newest
    checkpoint (written before that consumer's first record) translated its source position to, above 0."""
    topic, partition = split_partition(a["partition"])
    cps = _checkpoints(ctx.cluster, a["group"], topic, partition)
    if not cps:
        return False
    first: dict[str, tuple[int, int]] = {}
    for op in ctx.cluster.history.ops:
        if (
            op.type == "consume"
            and op.group == a["group"]
            and op.topic == topic
            and op.partition == partition
            and op.offset is not None
        ):
            first.setdefault(op.client, (op.time_ms, op.offset))
    for at, offset in first.values():
        before = [down for t, down in cps if t <= at]
        if before and before[-1] > 0 and offset == before[-1]:
            return True
    return False


def _m_records_reread(ctx: GoalContext, a: dict[str, Any]) -> int | None:
    """Records a group consumed from ``topic`` on the source cluster and again, from its remote copy
    ``<source>.<topic>``, on this cluster (matched by partition, key and value)."""
    world = ctx.world
    if world is None or a["source"] not in world.clusters:
        return None
    src = world.clusters[a["source"]]
    remote = f"{a['source']}.{a['topic']}"

    def consumed(c: Cluster, topic: str) -> dict[tuple[int, bytes | None, bytes | None], set[int]]:
        out: dict[tuple[int, bytes | None, bytes | None], set[int]] = defaultdict(set)
        for op in c.history.ops:
            if (
                op.type == "consume"
                and op.group == a["group"]
                and op.topic == topic
                and op.offset is not None
            ):
                out[(op.partition or 0, op.key, op.value)].add(op.offset)
        return out

    before = consumed(src, a["topic"])
    after = consumed(ctx.cluster, remote)
    return sum(min(len(offs), len(after.get(k, ()))) for k, offs in before.items())


# -- the vocabulary ----------------------------------------------------------------------------------------------
def streams_predicates(
    pred: Any, P: type[Param], count_text: Any
) -> list[Predicate]:  # the helpers of .goals, passed in to avoid an import cycle
    guarantees = ("at_least_once", "exactly_once_v2")
    return [
        pred(
            "streams_running",
            "instances of a Kafka Streams application (streams start) in state RUNNING",
            [P("app", "str", True), P("guarantee", "choice", False, guarantees)],
            lambda a: (
                f"{count_text(a)} instances of {a['app']} are RUNNING"
                + (f" with {a['guarantee']}" if "guarantee" in a else "")
            ),
            _m_streams_running,
            counting=True,
        ),
        pred(
            "word_counts",
            "words whose newest count in a wordcount app's output is over / under / exactly their "
            "occurrences in its input (after_kill: only once a killed instance's tasks run elsewhere)",
            [
                P("app", "str", True),
                P("result", "choice", True, ("over", "under", "exact")),
                P("after_kill", "bool"),
            ],
            lambda a: (
                f"{count_text(a)} words of {a['app']} are "
                + {"over": "counted too often", "under": "not counted yet", "exact": "counted exactly"}[
                    a["result"]
                ]
                + (", after a killed instance's tasks moved" if a.get("after_kill") else "")
            ),
            _m_word_counts,
            counting=True,
        ),
        pred(
            "streams_restored",
            "changelog records the live instances of an app read to restore the tasks of a killed instance",
            [P("app", "str", True)],
            lambda a: f"{a['app']} restored a killed instance's tasks from {count_text(a)} changelog records",
            _m_streams_restored,
            counting=True,
        ),
        pred(
            "store_same_as_before_kill",
            "the stores of a killed instance's tasks, now on another instance, hold every entry they held "
            "before the kill, with the same values",
            [P("app", "str", True)],
            lambda a: f"the tasks of the killed {a['app']} instance hold the same store entries as before",
            _m_store_same_as_before_kill,
            scalar="app",
        ),
        pred(
            "window_count",
            "the count in the newest window of a key in a windowed-count app's state store",
            [P("app", "str", True), P("key", "str", True)],
            lambda a: f"{a['app']} counts {count_text(a)} for {a['key']} in its newest window",
            _m_window_count,
            counting=True,
        ),
        pred(
            "ksql_source",
            "the ksqlDB server has a stream or table with this name (and kind, topic)",
            [P("name", "str", True), P("kind", "choice", False, ("STREAM", "TABLE")), P("topic", "str")],
            lambda a: (
                f"ksqlDB has {a.get('kind', 'a source').lower()} {a['name'].upper()}"
                + (f" on topic {a['topic']}" if "topic" in a else "")
            ),
            _m_ksql_source,
            scalar="name",
        ),
        pred(
            "ksql_query",
            "a persistent ksqlDB query writing this stream or table is RUNNING",
            [P("sink", "str", True)],
            lambda a: f"a persistent query writes {a['sink'].upper()}",
            _m_ksql_query,
            scalar="sink",
        ),
        pred(
            "ksql_row",
            "a column of a ksqlDB table's row for a key (windowed: the newest window), as a pull query reads it",
            [P("table", "str", True), P("key", "str", True), P("column", "str", True)],
            lambda a: f"{a['table'].upper()} has {a['column'].upper()} {count_text(a)} for {a['key']}",
            _m_ksql_row,
            counting=True,
        ),
        pred(
            "ksql_push_rows",
            "rows the push queries (SELECT ... EMIT CHANGES) on a stream or table printed",
            [P("source", "str", True)],
            lambda a: f"push queries on {a['source'].upper()} printed {count_text(a)} rows",
            _m_ksql_push_rows,
            counting=True,
        ),
        pred(
            "ksql_matches_streams",
            "a windowed ksqlDB table and a windowed-count Streams app hold the same counts per key and window",
            [P("table", "str", True), P("app", "str", True), P("column", "str", True)],
            lambda a: f"{a['table'].upper()}.{a['column'].upper()} equals the windows of {a['app']}",
            _m_ksql_matches_streams,
        ),
        pred(
            "mirror_checkpoint",
            "the downstream offset of MirrorMaker's newest checkpoint of a group for a remote partition",
            [P("group", "str", True), P("partition", "partition", True)],
            lambda a: (
                f"MirrorMaker's newest checkpoint of {a['group']} for {a['partition']} translates to "
                f"offset {count_text(a)}"
            ),
            _m_mirror_checkpoint,
            counting=True,
        ),
        pred(
            "read_past_checkpoint",
            "records a group consumed on the source cluster after MirrorMaker's newest checkpoint of it",
            [P("group", "str", True), P("partition", "partition", True), P("source", "str", True)],
            lambda a: (
                f"{a['group']} read {count_text(a)} records of {a['source']} that MirrorMaker's newest "
                f"checkpoint for {a['partition']} does not cover"
            ),
            _m_read_past_checkpoint,
            counting=True,
        ),
        pred(
            "resumed_at_checkpoint",
            "a consumer of a group started a remote partition at its newest checkpoint's translated offset (> 0)",
            [P("group", "str", True), P("partition", "partition", True)],
            lambda a: f"{a['group']} resumed {a['partition']} at the offset MirrorMaker translated",
            _m_resumed_at_checkpoint,
        ),
        pred(
            "records_reread",
            "records a group consumed on a source cluster and again, mirrored, on this one",
            [P("group", "str", True), P("topic", "str", True), P("source", "str", True)],
            lambda a: f"{a['group']} read {count_text(a)} records of {a['source']}'s {a['topic']} again",
            _m_records_reread,
            counting=True,
        ),
    ]
