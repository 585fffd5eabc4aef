"""Build hook: optionally compile the simulation core (``kafkalab/sim``) with mypyc.

The simulation is plain, strictly typed Python and a plain install runs those sources: it is fast to
install, debuggable, and editing the sim needs no rebuild. mypyc can turn it into a C extension that
runs the produce -> replicate -> consume path about 1.5x faster; that is opt-in:

* ``KAFKALAB_COMPILE=1 pip install -e .`` (and wheels built that way) compile with mypyc;
* a plain install (no ``KAFKALAB_COMPILE``) removes extension modules an earlier compiled build left
  in the source tree, so the sources always run;
* without a working C compiler a compiled build warns and installs the pure-Python package.

Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
SIM = HERE / "kafkalab" / "sim"
COMPILE = os.environ.get("KAFKALAB_COMPILE", "") not in ("", "0")
#: how the sim was built, and from which sources (read by kafkalab.build to spot stale or failed builds)
BUILD_INFO = SIM / "_build.json"
#: modules a compiled build leaves as Python sources (why: see kafkalab/build.py, which setup.py cannot import)
INTERPRETED = set(runpy.run_path(str(HERE / "kafkalab" / "build.py"))["INTERPRETED"])


def _remove_stale_extensions(keep_compiled: bool = False) -> None:
    """Delete compiled modules from the source tree (an editable install puts them there); with
    ``keep_compiled``, only those of the modules a compiled build leaves as Python sources."""
    for pattern in ("*.so", "*.pyd"):
        for path in [*SIM.rglob(pattern), *HERE.glob("*__mypyc*" + pattern[1:])]:
            source = path.parent / (path.name.split(".")[0] + ".py")
            if not keep_compiled or source.relative_to(HERE).as_posix() in INTERPRETED:
                path.unlink()


def _write_build_info(compiled: bool, sources: list[str], interpreted: list[str] | None = None) -> None:
    digests = {src: hashlib.sha256((HERE / src).read_bytes()).hexdigest() for src in sources}
    info = {"compiled": compiled, "sources": digests, "interpreted": sorted(interpreted or [])}
    BUILD_INFO.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")


def _ext_modules() -> list[object]:
    every = sorted(p.relative_to(HERE).as_posix() for p in SIM.rglob("*.py"))
    sources = [src for src in every if src not in INTERPRETED]
    _remove_stale_extensions(keep_compiled=True)
    if not COMPILE:
        _remove_stale_extensions()
        _write_build_info(False, [])
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("kafkalab: mypyc is not available; installing the pure-Python simulation", file=sys.stderr)
        _write_build_info(False, [])
        return []
    # multi_file: many smaller C files compile in ~1.5 min instead of ~2.5 min, and run as fast
    extensions = mypycify(sources, opt_level="3", debug_level="1", multi_file=True)
    _write_build_info(True, sources, [src for src in every if src in INTERPRETED])
    for ext in extensions:
        ext.optional = True  # no C compiler: warn and fall back to the Python sources
    return list(extensions)


setup(ext_modules=_ext_modules())
