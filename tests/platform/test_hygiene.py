"""The platform uses Kafka's client API of the sim, never broker internals; no UI, no wall clock."""

from __future__ import annotations

import ast
from pathlib import Path

import kafkalab.platform

ROOT = Path(kafkalab.platform.__file__).parent
#: what a Kafka ecosystem component may use: the clients, errors, the World facade, pure helper functions
ALLOWED_SIM = {
    "sim.clients",
    "sim.clients.admin",
    "sim.clients.common",
    "sim.clients.consumer",
    "sim.clients.producer",
    "sim.errors",
    "sim.cluster",
    "sim.world",
    "sim.partitioner",
    "sim.assignors",
}
FORBIDDEN_TOP = {"textual", "asyncio", "time", "datetime", "random", "threading"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    pkg_depth = len(path.relative_to(ROOT.parent.parent).parts) - 1  # kafkalab/platform/x.py -> 2
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = list(path.relative_to(ROOT.parent.parent).parts[:pkg_depth])
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([mod] if mod else []))
            out.append((node.lineno, mod))
    return out


def test_platform_uses_only_the_client_api_of_the_sim() -> None:
    offenders = []
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) >= 12
    for path in files:
        for line, mod in _imports(path):
            top = mod.split(".")[0]
            if top in FORBIDDEN_TOP:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
            if mod.startswith("kafkalab.sim"):
                rel = mod[len("kafkalab.") :]
                if rel not in ALLOWED_SIM:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    assert offenders == []
