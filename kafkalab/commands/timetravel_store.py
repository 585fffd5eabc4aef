"""Checkpoints of a whole lab world: restorable snapshots that make time travel fast.

A run is a pure function of (seed, actions), so any point can be rebuilt by replaying from the seed, but
that costs ~25 µs per event (25 s for a 1M-event session). A :class:`Checkpoint` instead captures the world
as it is between two events, so going back means restoring the nearest checkpoint and replaying at most one
checkpoint interval. Measured (``benchmarks/rewind_latency.py``): a checkpoint costs a few tens of ms, a
restore about as much.

What a checkpoint holds:

- the world's objects (cluster, clients, timers with their closures, RNG, console output), pickled with the
  C pickler to a file. Closures and lambdas are pickled by value (their code stays shared), cells keep their
  sharing and cycles. Objects that never change after they are made are *shared*, not copied: record
  batches, the history (append-only: a checkpoint keeps a :meth:`~kafkalab.sim.history.History.mark` and a
  restore gets a :meth:`~kafkalab.sim.history.History.fork`), the data directory's ``TemporaryDirectory``;
  the running trace hash is copied; open files are reopened by the log on its next append.
- the data directory's files, by hard link plus each file's size at the time. Segment files only grow by
  appending (:func:`kafkalab.sim.log.detach_file` gives a file its own inode before any in-place change),
  so the first ``size`` bytes of a linked file are the file as it was. A restore links files back when
  they have not grown since, and copies the first ``size`` bytes otherwise.

Restoring and running on gives exactly the run a straight replay gives (same trace hash); the tests check it
on seeded sessions with faults.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import hashlib
import io
import os
import pickle
import shutil
import sys
import tempfile
import time
import types
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sim.history import History
from ..sim.records import RecordBatch

__all__ = ["Checkpoint", "CheckpointStore", "SnapshotError"]

_FUNCTION = types.FunctionType
_HASH_TYPE = type(hashlib.sha256())
#: objects a world being restored refers to by index (set only while unpickling; one restore at a time)
_restoring: list[Any] = []


class SnapshotError(Exception):
    """The world holds something a checkpoint cannot capture (time travel falls back to replaying)."""


# -- reconstructors (module level, so pickle can name them) -----------------------------------------------


def _shared(i: int) -> Any:
    return _restoring[i]


def _copied(i: int) -> Any:
    return _restoring[i].copy()


def _forked_history(i: int, mark: tuple[int, int, int]) -> History:
    history: History = _restoring[i]
    return history.fork(mark)


def _function(i: int, defaults: Any, closure: Any, kwdefaults: Any) -> Any:
    f = _restoring[i]
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, defaults, closure)
    g.__kwdefaults__ = kwdefaults
    g.__qualname__ = f.__qualname__
    g.__module__ = f.__module__
    return g


def _empty_cell() -> types.CellType:
    return types.CellType()


def _fill_cell(cell: types.CellType, value: Any) -> None:
    cell.cell_contents = value


def _closed_file() -> None:
    return None


def _tuple_of(cls: type, items: tuple[Any, ...]) -> Any:
    return tuple.__new__(cls, items)


# -- the pickler --------------------------------------------------------------------------------------------


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BufferedIOBase, side: list[Any]) -> None:
        super().__init__(file, protocol=5)
        self.side = side
        self._ids: dict[int, int] = {}
        table = dict(copyreg.dispatch_table)
        table[RecordBatch] = self._share
        table[History] = self._history
        table[_HASH_TYPE] = self._hash
        table[types.CellType] = self._cell
        table[tempfile.TemporaryDirectory] = self._share
        for t in (io.BufferedWriter, io.BufferedReader, io.BufferedRandom, io.FileIO, io.TextIOWrapper):
            table[t] = self._file
        table[types.ModuleType] = self._refuse
        table[weakref.ref] = self._refuse
        self.dispatch_table = table

    def _ref(self, obj: Any) -> int:
        i = self._ids.get(id(obj))
        if i is None:
            i = self._ids[id(obj)] = len(self.side)
            self.side.append(obj)
        return i

    def _share(self, obj: Any) -> tuple[Any, ...]:
        return (_shared, (self._ref(obj),))

    def _history(self, obj: History) -> tuple[Any, ...]:
        return (_forked_history, (self._ref(obj), obj.mark()))

    def _hash(self, obj: Any) -> tuple[Any, ...]:
        self.side.append(obj.copy())
        return (_copied, (len(self.side) - 1,))

    @staticmethod
    def _cell(obj: types.CellType) -> tuple[Any, ...]:
        try:
            value = obj.cell_contents
        except ValueError:
            return (_empty_cell, ())
        # contents as state: the cell exists (and is memoized) before them, so cycles through it work
        return (_empty_cell, (), value, None, None, _fill_cell)

    @staticmethod
    def _file(_obj: Any) -> tuple[Any, ...]:
        return (_closed_file, ())

    @staticmethod
    def _refuse(obj: Any) -> tuple[Any, ...]:
        raise SnapshotError(f"a checkpoint cannot capture {type(obj).__name__} {obj!r:.80}")

    def reducer_override(self, obj: Any) -> Any:
        t = type(obj)
        if t is _FUNCTION:
            if "<" in obj.__qualname__:
                # a closure or lambda: not importable by name, so by value (code and globals are shared)
                return (_function, (self._ref(obj), obj.__defaults__, obj.__closure__, obj.__kwdefaults__))
            return NotImplemented
        if isinstance(obj, tuple) and t.__new__ is not tuple.__new__ and not hasattr(t, "_fields"):
            # a tuple subclass with a __new__ of its own (a consumer's Message)
            return (_tuple_of, (t, tuple(obj)))
        return NotImplemented


# -- files ----------------------------------------------------------------------------------------------


def _walk(root: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative path, entry) of every directory (path ending in "/") and regular file under ``root``."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(root + "/" + rel if rel else root) as it:
            for entry in it:
                name = rel + "/" + entry.name if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    yield name + "/", entry
                    stack.append(name)
                elif entry.is_file(follow_symlinks=False):
                    yield name, entry


def _copy_prefix(src: str, dst: str, size: int) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        left = size
        try:
            while left > 0:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), left)
                if n == 0:
                    break
                left -= n
        except (AttributeError, OSError):
            fi.seek(size - left)
            fo.seek(size - left)
            while left > 0:
                data = fi.read(min(left, 1 << 20))
                if not data:
                    break
                fo.write(data)
                left -= len(data)


def _restore_files(data_dir: str, fdir: str, files: dict[str, int], names: dict[str, str]) -> None:
    """Make ``data_dir`` hold exactly ``files`` as linked under ``fdir`` (directories that stay are kept)."""
    os.makedirs(data_dir, exist_ok=True)
    present: dict[str, os.DirEntry[str]] = dict(_walk(data_dir))
    # what must go: files not in the checkpoint or not its very file, directories not in it (deepest first)
    for rel, entry in present.items():
        if rel.endswith("/"):
            continue
        want = names.get(rel)
        if want is not None:
            st = entry.stat(follow_symlinks=False)
            src = os.stat(fdir + "/" + want)
            if (st.st_ino, st.st_dev) == (src.st_ino, src.st_dev) and st.st_size == files[rel]:
                continue  # the same inode, at the same size: already right
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
    for rel in sorted((r for r in present if r.endswith("/") and r not in files), reverse=True):
        shutil.rmtree(data_dir + "/" + rel, ignore_errors=True)
    for rel, size in sorted(files.items()):
        dst = data_dir + "/" + rel
        if rel.endswith("/"):
            if rel not in present:
                os.makedirs(dst, exist_ok=True)
            continue
        if rel in present and os.path.lexists(dst):
            continue
        src_path = fdir + "/" + names[rel]
        if os.stat(src_path).st_size == size:
            try:
                os.link(src_path, dst)
                continue
            except OSError:
                pass
        _copy_prefix(src_path, dst, size)


# -- checkpoints ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Checkpoint:
    """The world between two events: after ``events`` events at ``time_ms``, with ``actions`` actions done."""

    events: int
    time_ms: int
    actions: int
    directory: Path
    side: list[Any]
    #: relative path -> size in bytes ("dir/" entries are directories, size 0)
    files: dict[str, int]
    world_bytes: int
    #: wall seconds the capture took
    cost_s: float
    #: arbitrary labels the owner keeps with it (e.g. the trace hash at this point)
    meta: dict[str, Any] = field(default_factory=dict)
    dropped: bool = False

    @property
    def position(self) -> tuple[int, int]:
        return (self.events, self.time_ms)


class CheckpointStore:
    """Checkpoints of one lab session, in a temporary directory removed on :meth:`close` or at exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kafkalab-travel-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self._next = 0
        self.taken = 0
        self.total_cost_s = 0.0

    def close(self) -> None:
        self._finalizer()

    def capture(
        self,
        world: Any,
        data_dir: Path,
        events: int,
        time_ms: int,
        actions: int,
        flush: Callable[[], None] | None = None,
    ) -> Checkpoint:
        """Snapshot ``world`` (and the files under ``data_dir``). Raises :class:`SnapshotError`."""
        t0 = time.perf_counter()
        self._next += 1
        directory = self.root / f"ck-{self._next:06d}"
        directory.mkdir()
        side: list[Any] = []
        names: dict[str, str] = {}
        path = directory / "world.pickle"
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            with open(path, "wb") as f:
                _Pickler(f, side).dump(world)  # type: ignore[arg-type]
        except SnapshotError:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
            shutil.rmtree(directory, ignore_errors=True)
            raise SnapshotError(f"{type(e).__name__}: {e}") from e
        finally:
            sys.setrecursionlimit(limit)
        if flush is not None:
            flush()
        files: dict[str, int] = {}
        fdir = str(directory / "files")
        os.mkdir(fdir)
        # flat names (one directory: making directories is what costs most on some file systems)
        for n, (rel, entry) in enumerate(_walk(str(data_dir))):
            if rel.endswith("/"):
                files[rel] = 0
                continue
            size = entry.stat(follow_symlinks=False).st_size
            link = f"{fdir}/{n}"
            try:
                os.link(entry.path, link)
            except OSError:  # no hard links on this file system: copy
                shutil.copyfile(entry.path, link)
            files[rel] = size
            names[rel] = str(n)
        cost = time.perf_counter() - t0
        self.taken += 1
        self.total_cost_s += cost
        ck = Checkpoint(events, time_ms, actions, directory, side, files, path.stat().st_size, cost)
        ck.meta["names"] = names
        return ck

    def restore(self, ck: Checkpoint, data_dir: Path) -> Any:
        """Put ``data_dir`` back as it was at ``ck`` and return a new copy of the world captured there."""
        if ck.dropped:
            raise SnapshotError("this checkpoint was dropped")
        _restore_files(str(data_dir), str(ck.directory / "files"), ck.files, ck.meta["names"])
        data = (ck.directory / "world.pickle").read_bytes()
        global _restoring
        _restoring = ck.side
        enabled = gc.isenabled()
        gc.disable()  # millions of new objects: no point walking them half-way
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            return pickle.loads(data)
        finally:
            sys.setrecursionlimit(limit)
            _restoring = []
            if enabled:
                gc.enable()

    def drop(self, ck: Checkpoint) -> None:
        """Forget a checkpoint: its files go, the objects only it kept alive can be collected."""
        if ck.dropped:
            return
        ck.dropped = True
        ck.side = []
        shutil.rmtree(ck.directory, ignore_errors=True)

    def disk_bytes(self) -> int:
        """Bytes the checkpoint directory holds that no live file shares (its pickles and detached files)."""
        total = 0
        for _rel, entry in _walk(str(self.root)):
            st = entry.stat(follow_symlinks=False)
            if entry.is_file() and st.st_nlink == 1:
                total += st.st_size
        return total
