"""How this install runs the simulation: as plain Python (the default) or compiled with mypyc.

A plain install runs the sources. ``KAFKALAB_COMPILE=1 pip install -e .`` compiles (see setup.py): an editable
install then compiles ``kafkalab/sim`` in place, and Python imports a compiled module in preference
to its source. Edit a source file after that and the old code keeps running until the next
``pip install -e .``; :func:`stale_sources` spots this by comparing the sources with the digests written
at build time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

_SIM = Path(__file__).resolve().parent / "sim"
_ROOT = _SIM.parent.parent
_BUILD_INFO = _SIM / "_build.json"  # written by setup.py
#: modules a compiled build leaves as Python sources (setup.py reads this). Time travel pickles the whole world;
#: it can pickle a Python closure but not one compiled by mypyc (its captured variables are not visible from
#: Python), and these modules keep closures in the world: callbacks of requests in flight, timers. The hot
#: path (kernel, network, broker, producer, records, log, controller) is compiled. A module can leave this list once what it
#: stores are bound methods, ``functools.partial`` s or small classes (as network.py does) and its classes
#: are checkpointable (tests/sim/test_checkpointable.py checks both).
#:
#: A checkpointable compiled class carries ``@mypyc_attr(allow_interpreted_subclasses=True,
#: serializable=True)``: ``serializable`` so that unpickling makes it without calling ``__init__`` (by
#: default a mypyc class's ``__new__`` calls ``__init__``: unpickling fails, or runs it with no arguments),
#: and ``allow_interpreted_subclasses`` because mypyc (2.4) gives a serializable class a ``tp_init`` that
#: does nothing unless it also allows them: ``Cluster(...)`` called from Python code would skip ``__init__``.
INTERPRETED = (
    "kafkalab/sim/clients/admin.py",
    "kafkalab/sim/clients/consumer.py",
    "kafkalab/sim/clients/membership.py",
    "kafkalab/sim/clients/transactions.py",
    "kafkalab/sim/fault_audit.py",
    "kafkalab/sim/faults.py",
    "kafkalab/sim/group.py",
    "kafkalab/sim/txn.py",
    "kafkalab/sim/workloads.py",
)


def sim_is_compiled() -> bool:
    """True when the simulation's modules are C extensions built by mypyc."""
    from .sim import kernel

    return not (kernel.__file__ or "").endswith(".py")


def compile_requested() -> bool | None:
    """Whether the install asked for compiled modules (False: a plain install; None: unknown)."""
    try:
        return bool(json.loads(_BUILD_INFO.read_text())["compiled"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stale_sources() -> list[str]:
    """Sources of ``kafkalab.sim`` changed (or added) since the compiled modules were built.

    The modules the build left as Python sources (``interpreted`` in the build info) are never stale."""
    if not sim_is_compiled():
        return []
    try:
        info = json.loads(_BUILD_INFO.read_text())
        built: dict[str, str] = info["sources"]
        interpreted = set(info.get("interpreted", ()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    stale = []
    for path in sorted(_SIM.rglob("*.py")):
        rel = path.relative_to(_ROOT).as_posix()
        if rel in interpreted:
            continue
        if built.get(rel) != hashlib.sha256(path.read_bytes()).hexdigest():
            stale.append(rel)
    return stale


def describe() -> str:
    """One line for ``kafkalab --version``."""
    if not sim_is_compiled():
        if compile_requested():
            return "simulation: pure Python (compiling it failed at install)"
        return "simulation: pure Python"
    stale = stale_sources()
    if stale:
        return f"simulation: compiled with mypyc, STALE ({len(stale)} sources changed since the build)"
    return "simulation: compiled with mypyc"


STALE_HINT = (
    "kafkalab.sim was compiled from older sources ({files}); rebuild with "
    "`KAFKALAB_COMPILE=1 pip install -e .` (or `pip install -e .` to run the Python sources)"
)
