"""Memory stays bounded in a long lab session: trace ring, history spill, swept timers, capped checkpoints.

A producer at 500 records/s with retention.ms=60000 and a consumer group run for 3 virtual minutes with time
travel on (checkpoints as the lab takes them). The second half of the run must not grow the process by more
than ``GROWTH_MB`` (it grew linearly before: 415 MB -> 3.6 GB in 10 virtual minutes at 10k records/s).
``KAFKALAB_LONG_MEMORY=1`` runs 20 virtual minutes instead.
"""

from __future__ import annotations

import gc
import os

import pytest

from kafkalab.commands import LabSession, execute
from kafkalab.commands.timetravel import LINE_MAX_CHECKPOINTS
from kafkalab.sim import history
from kafkalab.sim.kernel import TRACE_KEEP

GROWTH_MB = 60
MINUTES = 20 if os.environ.get("KAFKALAB_LONG_MEMORY") else 1


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_long_session_stays_within_its_memory_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.environ.get("KAFKALAB_LONG_MEMORY"):
        monkeypatch.setattr(history, "HISTORY_RAM_CHUNKS", 2)  # spill early: a short run crosses the bound
    s = LabSession(
        brokers=3,
        seed=42,
        broker_config={"log.retention.check.interval.ms": 10_000, "log.segment.bytes": 1_000_000},
    )
    for line in (
        "kafka-topics --create --topic events --partitions 3 --replication-factor 3 --config retention.ms=60000",
        "start-producer p1 --topic events --rate 300",
        "start-consumer c1 --topic events --group g1",
    ):
        assert execute(s, line).ok
    half_ms = MINUTES * 30_000
    s.tick(half_ms)
    gc.collect()
    middle = _rss_mb()
    s.tick(half_ms)
    gc.collect()
    end = _rss_mb()
    k = s.cluster.kernel
    h = s.cluster.history
    assert len(k.trace) <= TRACE_KEEP
    assert len(h._sealed) - h._in_ram <= history.HISTORY_RAM_CHUNKS and h.spilled_bytes > 0
    assert k._cancelled <= max(4096, k.pending())  # swept: cancelled timers never pile up
    assert len(s.travel.line) <= LINE_MAX_CHECKPOINTS + 1
    assert len(s.output) <= 20_000
    # the history is whole although most of it is on disk
    assert sum(1 for op in h if op.type == "ack") > MINUTES * 60 * 300 * 0.9
    assert end - middle < GROWTH_MB, (
        f"RSS grew {end - middle:.0f} MB in the second half ({middle:.0f} -> {end:.0f})"
    )
    s.close()
