"""How the lab sets up Python's garbage collector (also used by the benchmarks, to measure the same thing)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Keep Python's full garbage collections from freezing the screen.

    The simulation keeps a large, growing heap (logs, trace, history); a generation-2 collection has to walk
    all of it and stalls one simulation event for hundreds of ms. The interactive app therefore freezes what
    exists at start-up and stops automatic generation-2 collections (young generations still run); it
    collects fully when the learner rewinds or restarts, which throws a whole simulated world away.
    """
    gc.freeze()
    gc.set_threshold(700, 10, 1_000_000_000)


def untune_gc() -> None:
    """Python's defaults again (for benchmarks that compare both)."""
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
