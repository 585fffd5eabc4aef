"""kafkalab.sim is the deterministic core: no Textual, no asyncio, no wall clock, no global random."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_simulation_runs_compiled_exactly_when_the_install_compiled_it() -> None:
    """setup.py compiles kafkalab.sim with mypyc only when KAFKALAB_COMPILE=1 was set at install.

    A compile that failed where a C compiler exists (the install asked for it, the modules are Python) and
    extension modules left behind by an earlier build (the install asked for pure Python) both fail here.
    """
    import os
    import shutil

    from kafkalab import build

    requested = bool(build.compile_requested())  # None: not installed through setup.py, so pure
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    # without a C compiler the build falls back to the Python sources, as the README says
    assert build.sim_is_compiled() == (requested and compiler is not None)
    assert build.stale_sources() == []


def test_stale_sources_names_every_file_changed_since_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import json

    from kafkalab import build

    sim = tmp_path / "kafkalab" / "sim"
    sim.mkdir(parents=True)
    (sim / "a.py").write_text("x = 1\n")
    (sim / "b.py").write_text("y = 2\n")
    info = sim / "_build.json"
    digests = {
        f"kafkalab/sim/{n}": hashlib.sha256((sim / n).read_bytes()).hexdigest() for n in ("a.py", "b.py")
    }
    info.write_text(json.dumps({"compiled": True, "sources": digests}))
    monkeypatch.setattr(build, "_SIM", sim)
    monkeypatch.setattr(build, "_ROOT", tmp_path)
    monkeypatch.setattr(build, "_BUILD_INFO", info)
    monkeypatch.setattr(build, "sim_is_compiled", lambda: True)
    assert build.stale_sources() == []
    (sim / "b.py").write_text("y = 3\n")
    (sim / "c.py").write_text("z = 0\n")
    assert build.stale_sources() == ["kafkalab/sim/b.py", "kafkalab/sim/c.py"]
    assert "STALE (2 sources" in build.describe()
