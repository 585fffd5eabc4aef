"""Where throwaway clusters keep their files: ``/dev/shm`` when the machine has room there.

A lab cluster writes real segment, index and checkpoint files. On a disk, creating and deleting thousands of
small files costs more than the simulation itself (``kafkalab lessons check`` on the Streams lessons spent
three quarters of its time in ``openat`` and ``mkdir``); on tmpfs it costs almost nothing. Sessions whose
files nobody keeps (lesson checks, the test suite) put their temporary directories there; the lab a learner
runs keeps the system's temporary directory.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["use_fast_scratch"]

SHM = "/dev/shm"
#: less free room than this and the disk is used (a container's /dev/shm is often only 64 MB)
MIN_FREE_BYTES = 1 << 30


def fast_scratch_dir(path: str = SHM, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """``path`` if it is a writable directory with at least ``min_free_bytes`` free, else None."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    if not os.access(path, os.W_OK) or st.f_bavail * st.f_frsize < min_free_bytes:
        return None
    return path


def use_fast_scratch() -> str:
    """Make this process's temporary directories (``tempfile``) go to tmpfs when there is room there; the
    directory they now go to. Data directories and time-travel checkpoints move together, so the hard links
    checkpoints share stay on one file system."""
    fast = fast_scratch_dir()
    if fast is not None:
        tempfile.tempdir = fast
    return tempfile.gettempdir()
