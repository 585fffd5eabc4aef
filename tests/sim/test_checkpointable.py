"""What a compiled build of the simulation keeps in the world, a time-travel checkpoint can pickle.

A checkpoint pickles the whole world. Under mypyc two things break that, silently in a pure-Python run:
a class whose ``__new__`` calls ``__init__`` (mypyc's default when ``__init__`` has arguments: unpickling
fails, or runs ``__init__`` with none), and a closure or lambda (compiled into an object whose captured
variables pickle cannot reach). The compiled modules (all of ``kafkalab/sim`` but ``build.INTERPRETED``)
must therefore mark their classes ``@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)``
(see kafkalab/build.py) and hand the kernel and the network
bound methods or small objects, never lambdas or nested functions. The compiled run of the time-travel
tests (tests/commands/test_timetravel.py) shows the result; this test names the line that breaks it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kafkalab import build

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "kafkalab" / "sim"
#: see kafkalab/build.py: serializable (unpickled without __init__) and a working tp_init (mypyc gives a
#: serializable class one only if it allows interpreted subclasses)
_CHECKPOINTABLE = "mypyc_attr(allow_interpreted_subclasses=True, serializable=True)"
#: calls whose callbacks wait in the kernel's heap or in a node's calls in flight
STORING_CALLS = {"schedule", "call", "send", "refresh_metadata"}


def _compiled_sources() -> list[Path]:
    return [
        p
        for p in sorted(SIM.rglob("*.py"))
        if p.relative_to(ROOT).as_posix() not in build.INTERPRETED and p.name != "__init__.py"
    ]


def _decorator_names(cls: ast.ClassDef) -> list[str]:
    return [ast.unparse(d) for d in cls.decorator_list]


def _needs_serializable(cls: ast.ClassDef) -> bool:
    decorators = _decorator_names(cls)
    if any(d.startswith("dataclass") for d in decorators):
        return False  # mypyc leaves a dataclass's generated __init__ out of __new__
    if any("native_class=False" in d for d in decorators):
        return False
    bases = {ast.unparse(b) for b in cls.bases}
    plain = {"Exception", "ValueError", "AssertionError", "NamedTuple", "Protocol", "IntEnum", "tuple"}
    return not (bases & plain or any(b.endswith(("Error", "Exception")) for b in bases))


def test_compiled_classes_unpickle_without_calling_init() -> None:
    missing = []
    for path in _compiled_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ClassDef)
                and _needs_serializable(node)
                and not any(_CHECKPOINTABLE in d for d in _decorator_names(node))
            ):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert missing == [], f"add @{_CHECKPOINTABLE} to: " + ", ".join(missing)


def test_compiled_modules_hand_the_kernel_no_closures() -> None:
    found = []
    for path in _compiled_sources():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            nested = {n.name for n in ast.walk(fn) if isinstance(n, ast.FunctionDef) and n is not fn}
            for call in ast.walk(fn):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in STORING_CALLS
                ):
                    continue
                for arg in [*call.args, *(k.value for k in call.keywords)]:
                    if isinstance(arg, ast.Lambda) or (isinstance(arg, ast.Name) and arg.id in nested):
                        found.append(f"{path.relative_to(ROOT)}:{arg.lineno} {ast.unparse(arg)[:60]}")
    assert found == [], "pass a bound method, a functools.partial or a small object instead: " + "; ".join(
        found
    )


def test_the_rule_catches_what_it_is_about() -> None:
    bad = ast.parse("class A:\n    def __init__(self, x: int) -> None:\n        self.x = x\n")
    cls = bad.body[0]
    assert isinstance(cls, ast.ClassDef) and _needs_serializable(cls)
    assert {p.relative_to(ROOT).as_posix() for p in _compiled_sources()} >= {
        "kafkalab/sim/kernel.py",
        "kafkalab/sim/network.py",
    }
