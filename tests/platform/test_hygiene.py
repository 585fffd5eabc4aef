"""kafkalab.platform is a Kafka client of the simulation: it imports only the sim's public client API, and
never the UI, the wall clock or its own randomness (the kernel's RNG keeps runs deterministic)."""

from __future__ import annotations

import ast
from pathlib import Path

import kafkalab.platform

ROOT = Path(kafkalab.platform.__file__).parent
#: what a platform process may use of kafkalab.sim: the cluster and world facades, the clients, errors, pure
#: helper functions, and the simulation's node/network primitives a process is built from; never brokers,
#: controllers, logs, groups ...
ALLOWED_SIM = {
    "kafkalab.sim.cluster",
    "kafkalab.sim.world",
    "kafkalab.sim.clients",
    "kafkalab.sim.clients.admin",
    "kafkalab.sim.clients.common",
    "kafkalab.sim.clients.consumer",
    "kafkalab.sim.clients.producer",
    "kafkalab.sim.clients.membership",
    "kafkalab.sim.errors",
    "kafkalab.sim.kernel",
    "kafkalab.sim.network",
    "kafkalab.sim.partitioner",
    "kafkalab.sim.assignors",
}
FORBIDDEN_ATTRS = {
    "brokers",
    "quorum",
    "coordinator",
    "partitions_of",
    "_image",
    "handle_produce",
    "handle_fetch",
}
FORBIDDEN_TOP = {"textual", "asyncio", "threading"}
#: Streams, ksqlDB and MirrorMaker take time from the kernel and randomness from its RNG only
FORBIDDEN_TOP_PROCESSES = FORBIDDEN_TOP | {"time", "datetime", "random"}


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    pkg = ["kafkalab", *path.relative_to(ROOT.parent).with_suffix("").parts[:-1]]
    base = pkg[: len(pkg) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_platform_imports_only_the_public_client_api() -> None:
    bad = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [_absolute(path, node)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("kafkalab.sim") and name not in ALLOWED_SIM and name != "kafkalab.sim":
                    bad.append(f"{path.relative_to(ROOT)}: imports {name}")
                own = "streams" in path.parts or path.name.startswith(("ksql", "mirror"))
                if name.split(".")[0] in (FORBIDDEN_TOP_PROCESSES if own else FORBIDDEN_TOP):
                    bad.append(f"{path.relative_to(ROOT)}: imports {name}")
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: uses .{node.attr}")
    assert not bad, "\n".join(bad)
    assert len(_modules()) >= 20


def test_the_hygiene_check_catches_a_broker_import(tmp_path: Path) -> None:
    probe = ROOT / "connect" / "probe_tmp.py"
    node = ast.parse("from ...sim.broker import Broker").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _absolute(probe, node) == "kafkalab.sim.broker" and "kafkalab.sim.broker" not in ALLOWED_SIM
    deep = ROOT / "streams" / "runtime.py"
    node = ast.parse("from ...sim.group import GroupCoordinator").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _absolute(deep, node) == "kafkalab.sim.group"
