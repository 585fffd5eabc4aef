"""The mypyc-compiled simulation behaves exactly like its Python sources.

The same scenario runs in this process (compiled, if the install compiled it) and in a subprocess that
imports ``kafkalab.sim`` from its ``.py`` files only; the trace hashes, histories and timelines must be
equal. In a pure-Python install both sides run the sources, and the test still checks determinism across
processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kafkalab import build

ROOT = Path(__file__).resolve().parents[2]

# A meta-path finder that loads kafkalab.sim.* from source, ignoring compiled extension modules.
FORCE_SOURCES = """
import importlib.abc, importlib.util, sys
from pathlib import Path

class _Sources(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "kafkalab.sim" and not name.startswith("kafkalab.sim."):
            return None
        import kafkalab
        base = Path(kafkalab.__file__).parent.joinpath(*name.split(".")[1:])
        if base.is_dir():
            return importlib.util.spec_from_file_location(
                name, base / "__init__.py", submodule_search_locations=[str(base)]
            )
        return importlib.util.spec_from_file_location(name, base.with_suffix(".py"))

sys.meta_path.insert(0, _Sources())
"""

SCENARIO = """
import json
from kafkalab.checker import check
from kafkalab.sim.cluster import Cluster
from kafkalab.sim.faults import random_schedule, run_produce_workload
from kafkalab.sim.workloads import Copier
import kafkalab.sim.kernel as kernel

c = Cluster(brokers=3, seed=SEED)
c.create_topic("t", partitions=2, replication_factor=3, config={"min.insync.replicas": 2})
c.create_topic("u", partitions=2, replication_factor=3)
run_produce_workload(c, "t", random_schedule(SEED, 3, 8_000), {"acks": "all"}, records=80,
                     duration_ms=8_000, settle_ms=4_000)
copier = Copier(c, "t", "u", "exactly_once", batch=7)
for i in range(40):
    copier.step(0.2, crash_before_commit=(i == 5))
    if copier.crashed:
        copier.restart()
result = check(c.history)
print(json.dumps({
    "compiled": not kernel.__file__.endswith(".py"),
    "trace": c.trace_hash(),
    "ops": len(c.history),
    "lost": len(result.lost),
    "timeline": [[e.time_ms, e.text] for e in c.timeline],
}))
c.close()
"""


def _run(seed: int, sources_only: bool) -> dict[str, object]:
    code = (FORCE_SOURCES if sources_only else "") + SCENARIO.replace("SEED", str(seed))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def test_compiled_and_source_builds_run_identical_simulations() -> None:
    native = _run(13, sources_only=False)
    sources = _run(13, sources_only=True)
    assert sources["compiled"] is False
    assert native["compiled"] is build.sim_is_compiled()
    assert int(str(native["ops"])) > 200
    for key in ("trace", "ops", "lost", "timeline"):
        assert native[key] == sources[key], key


TIME_TRAVEL = """
import json
from kafkalab.commands import LabSession, execute
import kafkalab.sim.kernel as kernel

s = LabSession(brokers=3, seed=11)
s.travel.interval = 300
s.travel.budget_s = None
marks = []
for ms, line in [(0, "kafka-topics --create --topic t --partitions 2 --replication-factor 3"),
                 (0, "start-producer p1 --topic t --rate 40"), (0, "start-consumer c1 --topic t --group g"),
                 (1500, "kill-broker 2"), (1500, "restart-broker 2"), (1500, None)]:
    if ms:
        s.tick(ms)
    if line:
        assert execute(s, line).ok, line
    marks.append([s.events, s.now_ms, s.cluster.trace_hash()])
assert len(s.travel.line) >= 3 and s.travel.enabled, s.travel.disabled_reason
assert execute(s, "rewind 2s").ok
marks.append([s.events, s.now_ms, s.cluster.trace_hash(), len(s.travel.line)])
assert execute(s, "redo").ok
marks.append([s.events, s.now_ms, s.cluster.trace_hash()])
print(json.dumps({"compiled": not kernel.__file__.endswith(".py"), "marks": marks,
                  "checkpoints": [[ck.events, ck.time_ms, ck.actions] for ck in s.travel.line]}))
s.close()
"""


def test_compiled_and_source_builds_travel_in_time_alike() -> None:
    """Checkpoints are taken at the same points and rewind/redo land on the same trace hashes in both."""

    def run(sources_only: bool) -> dict[str, object]:
        code = (FORCE_SOURCES if sources_only else "") + TIME_TRAVEL
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
        )
        data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
        return data

    native, sources = run(False), run(True)
    assert sources["compiled"] is False and native["compiled"] is build.sim_is_compiled()
    assert native["marks"] == sources["marks"]
    assert native["checkpoints"] == sources["checkpoints"]
    marks = native["marks"]
    assert isinstance(marks, list) and marks[-1] == marks[5]  # redo returned to where the rewind left
