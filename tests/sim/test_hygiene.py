"""kafkalab.sim is the deterministic core: no Textual, no asyncio, no wall clock, no global random."""

import ast
import subprocess
import sys
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "kafkalab" / "sim"


def test_importing_the_sim_does_not_import_textual() -> None:
    code = (
        "import sys, kafkalab.sim.cluster, kafkalab.checker\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'asyncio')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_sim_sources_use_no_ui_wall_clock_or_global_random() -> None:
    offenders = []
    for path in sorted(SIM.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = []
            for n in names:
                if n.split(".")[0] in ("textual", "asyncio", "time", "datetime"):
                    offenders.append(f"{path.name}:{node.lineno} imports {n}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "random"
                and node.func.attr != "Random"
            ):
                offenders.append(f"{path.name}:{node.lineno} calls random.{node.func.attr}")
    assert offenders == []
