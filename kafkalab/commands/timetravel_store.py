"""Checkpoints of a whole lab world: restorable snapshots that make time travel fast.

A run is a pure function of (seed, actions), so any point can be rebuilt by replaying from the seed, but
that costs ~20 µs per event (20 s for a 1M-event session). A :class:`Checkpoint` instead captures the world
as it is between two events, so going back means restoring the nearest checkpoint and replaying what ran
after it. ``benchmarks/rewind_latency.py`` prints what captures, restores and trips cost.

What a checkpoint holds:

- the world's objects (cluster, clients, timers with their closures, RNG, console output), pickled with the
  C pickler to a file. Closures and lambdas are pickled by value (their code stays shared), cells keep their
  sharing and cycles. Objects that never change after they are made are *shared*, not copied: record
  batches, paths, trace events, the history (append-only: a checkpoint keeps a
  :meth:`~kafkalab.sim.history.History.mark` and a restore gets a
  :meth:`~kafkalab.sim.history.History.fork`), the data directory's ``TemporaryDirectory``; the running
  trace hash is copied; open files are reopened by the log on its next append.
- the long lists that only grow at their end (a segment's batches, offsets, positions and index entries, the
  console output) as *chunks* shared with the checkpoint before: a capture stores only what was appended
  since (after checking, at C speed, that the older part is unchanged), so a checkpoint of a big log costs
  about what the log gained since the last one, in time and in memory.
- the data directory's files, by hard link plus each file's size at the time. Segment files only grow by
  appending (:func:`kafkalab.sim.log.detach_file` gives a file its own inode before any in-place change),
  so the first ``size`` bytes of a linked file are the file as it was. Links live in one pool shared by all
  checkpoints (one link per inode, counted), so a capture links only the files that are new since. A restore
  keeps a file that is still that inode at that size, links the pooled one back when it has not grown
  since, and copies the first ``size`` bytes otherwise.

Restoring and running on gives exactly the run a straight replay gives (same trace hash); the tests check it
on seeded sessions with faults.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import gc
import hashlib
import io
import itertools
import operator
import os
import pathlib
import pickle
import shutil
import sys
import tempfile
import time
import types
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sim.history import History
from ..sim.kernel import Timer, TraceEvent
from ..sim.log import _Segment
from ..sim.records import RecordBatch

__all__ = ["Checkpoint", "CheckpointStore", "SnapshotError", "share_lists"]

_FUNCTION = types.FunctionType
_HASH_TYPE = type(hashlib.sha256())
#: objects a world being restored refers to by index (set only while unpickling; one restore at a time)
_restoring: list[Any] = []
#: lists a restore made from shared chunks: (list, chunks, owner's version), to seed the next capture
_rebuilt: list[tuple[list[Any], tuple[tuple[Any, ...], ...], object]] = []
#: a list shorter than this is pickled as it is (sharing it would cost more than it saves)
_SHARE_MIN = 64
#: a shared list is re-chunked into one piece once it has this many chunks (bounds the chunks to walk)
_MAX_CHUNKS = 48
#: type -> (names of its attributes that are append-mostly lists of immutable items (shared as chunks), an
#: attribute that changes whenever one of them is changed other than by appending or being replaced)
_SHARED_LISTS: dict[type, tuple[tuple[str, ...], str | None]] = {
    _Segment: (("batches", "bases", "positions", "index_entries", "time_entries"), "cuts"),
}


def share_lists(cls: type, *names: str, version: str | None = None) -> None:
    """Register attributes of ``cls`` that are lists only appended to (or cut, or replaced) and hold only
    immutable items: checkpoints share their older parts instead of copying them. ``version``: an attribute
    of ``cls`` that changes whenever such a list is changed other than by appending or being replaced (then
    a capture need not check that the older part is unchanged)."""
    _SHARED_LISTS[cls] = (tuple(dict.fromkeys((*_SHARED_LISTS.get(cls, ((), None))[0], *names))), version)


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
    code, globals_, name, qualname, module = _restoring[i]
    g = types.FunctionType(code, globals_, name, defaults, closure)
    g.__kwdefaults__ = kwdefaults
    g.__qualname__ = qualname
    g.__module__ = module
    return g


def _trace_of(events: tuple[tuple[Any, ...], ...], maxlen: int | None) -> deque[TraceEvent]:
    return deque((TraceEvent(*e) for e in events), maxlen)


def _empty_cell() -> types.CellType:
    return types.CellType()


def _fill_cell(cell: types.CellType, value: Any) -> None:
    cell.cell_contents = value


def _closed_file() -> None:
    return None


def _tuple_of(cls: type, items: tuple[Any, ...]) -> Any:
    return tuple.__new__(cls, items)


def _list_of(i: int, version: object = None) -> list[Any]:
    chunks: tuple[tuple[Any, ...], ...] = _restoring[i]
    out = list(itertools.chain.from_iterable(chunks))
    _rebuilt.append((out, chunks, version))
    return out


def _set_timer(obj: Timer, values: tuple[Any, ...]) -> None:
    for name, value in zip(_TIMER_NAMES, values, strict=True):
        setattr(obj, name, value)


_UNSET = object()
_SLOT_NAMES: dict[type, tuple[str, ...]] = {}
#: type -> how a checkpoint must pickle it if mypyc's pickling does not fit (None: pickle's default)
_NATIVE: dict[type, tuple[str, tuple[str, ...]] | None] = {}


def _native_kind(t: type) -> tuple[str, tuple[str, ...]] | None:
    """Types compiled by mypyc (or built on one) whose instances mypyc's ``__getstate__`` and
    ``__setstate__`` get wrong: ``("frozen", fields)``, a frozen dataclass (its ``__setstate__`` assigns
    the way the class refuses); ``("mixed", attributes)``, a Python class built on a compiled one (a
    ``Broker`` on ``Endpoint``: the compiled ``__getstate__`` leaves out the instance's ``__dict__``)."""
    kind = _NATIVE.get(t, _UNSET)
    if kind is _UNSET:
        kind = None
        native = getattr(t, "__mypyc_attrs__", None)
        if native is not None:
            params = getattr(t, "__dataclass_params__", None)
            if params is not None and params.frozen:
                kind = ("frozen", tuple(f.name for f in dataclasses.fields(t)))
            elif "__mypyc_attrs__" not in t.__dict__ and t.__dictoffset__:
                kind = ("mixed", tuple(n for n in native if n not in ("__dict__", "__weakref__")))
        _NATIVE[t] = kind
    return kind  # type: ignore[return-value]


def _set_native(obj: Any, state: tuple[tuple[tuple[str, Any], ...], dict[str, Any] | None]) -> None:
    values, instance_dict = state
    for name, value in values:
        object.__setattr__(obj, name, value)
    if instance_dict is not None:
        obj.__dict__.update(instance_dict)


class _ListRef:
    """Stands for a shared list in a reduced state (pickled as a call that rebuilds the list)."""

    __slots__ = ("index", "version")

    def __init__(self, index: int, version: object) -> None:
        self.index = index
        self.version = version


#: a timer's fields, read at C speed (a timer is pickled as its class plus these values, set after the
#: timer is memoized: a client holding its own timer refers to the very timer in the heap)
_TIMER_NAMES = tuple(f.name for f in dataclasses.fields(Timer))
_TIMER_FIELDS = operator.attrgetter(*_TIMER_NAMES)
_TRACE_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(TraceEvent)))


# -- shared lists -------------------------------------------------------------------------------------------


class _ListShare:
    """What the last capture (or restore) stored of each long list, to store only what was appended since."""

    def __init__(self) -> None:
        #: id(list) -> (the list, its chunks, how many items the chunks hold, its owner's version then)
        self.known: dict[int, tuple[list[Any], tuple[tuple[Any, ...], ...], int, object]] = {}
        self._next: dict[int, tuple[list[Any], tuple[tuple[Any, ...], ...], int, object]] = {}

    def begin(self) -> None:
        self._next = {}

    def end(self, ok: bool) -> None:
        if ok:
            self.known = self._next
        self._next = {}

    def chunks(self, seq: list[Any], version: object = None) -> tuple[tuple[Any, ...], ...]:
        """``seq`` as chunks, sharing those of the last capture when only appends happened since.

        ``version``: its owner's count of other changes (None: unknown, the older part is compared)."""
        n = len(seq)
        prev = self.known.get(id(seq))
        out: tuple[tuple[Any, ...], ...] | None = None
        if prev is not None and prev[0] is seq and prev[2] <= n and len(prev[1]) < _MAX_CHUNKS:
            old, had = prev[1], prev[2]
            # the older part unchanged? Known when the owner counts its changes; else compared (list
            # equality tries identity first: C speed; items are immutable, an equal one is as good)
            if (version is not None and version == prev[3]) or (
                version is None and seq[:had] == list(itertools.chain.from_iterable(old))
            ):
                out = old if had == n else (*old, tuple(seq[had:]))
        if out is None:
            out = (tuple(seq),)
        self._next[id(seq)] = (seq, out, n, version)
        return out

    def seed(self, rebuilt: list[tuple[list[Any], tuple[tuple[Any, ...], ...], object]]) -> None:
        """After a restore: the restored world's lists are exactly these chunks."""
        self.known = {id(seq): (seq, chunks, len(seq), version) for seq, chunks, version in rebuilt}


# -- the pickler --------------------------------------------------------------------------------------------


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BufferedIOBase, side: list[Any], lists: _ListShare) -> None:
        super().__init__(file, protocol=5)
        self.side = side
        self.lists = lists
        self._ids: dict[int, int] = {}
        self._codes: dict[types.CodeType, int] = {}
        table = dict(copyreg.dispatch_table)
        table[RecordBatch] = self._share
        table[TraceEvent] = self._trace_event
        table[pathlib.PosixPath] = self._share
        table[pathlib.PurePosixPath] = self._share
        table[Timer] = self._timer
        table[deque] = self._deque
        table[_ListRef] = self._list_ref
        table[History] = self._history
        table[_HASH_TYPE] = self._hash
        table[types.CellType] = self._cell
        table[tempfile.TemporaryDirectory] = self._share
        for cls in _SHARED_LISTS:
            table[cls] = self._with_shared_lists
        for t in (io.BufferedWriter, io.BufferedReader, io.BufferedRandom, io.FileIO, io.TextIOWrapper):
            table[t] = self._file
        table[types.ModuleType] = self._refuse
        table[weakref.ref] = self._refuse
        self.dispatch_table = table
        # the most numerous kinds of objects, reduced straight from reducer_override (one call, not two)
        self._direct: dict[type, Callable[[Any], Any]] = {
            t: table[t] for t in (types.CellType, pathlib.PosixPath, Timer, TraceEvent, RecordBatch)
        }

    def _ref(self, obj: Any) -> int:
        i = self._ids.get(id(obj))
        if i is None:
            i = self._ids[id(obj)] = len(self.side)
            self.side.append(obj)
        return i

    def _share(self, obj: Any) -> tuple[Any, ...]:
        return (_shared, (self._ref(obj),))

    @staticmethod
    def _trace_event(obj: TraceEvent) -> tuple[Any, ...]:
        return (TraceEvent, _TRACE_FIELDS(obj))

    @staticmethod
    def _timer(obj: Timer) -> tuple[Any, ...]:
        return (copyreg.__newobj__, (Timer,), _TIMER_FIELDS(obj), None, None, _set_timer)

    def _deque(self, obj: deque[Any]) -> Any:
        if obj and type(obj[0]) is TraceEvent and type(obj[-1]) is TraceEvent:
            # the kernel's trace ring: as plain tuples (read at C speed), not thousands of objects to keep
            return (_trace_of, (tuple(map(_TRACE_FIELDS, obj)), obj.maxlen))
        return obj.__reduce_ex__(5)

    def _list_ref(self, obj: _ListRef) -> tuple[Any, ...]:
        return (_list_of, (obj.index, obj.version))

    def _with_shared_lists(self, obj: Any) -> tuple[Any, ...]:
        cls = type(obj)
        slotted = not hasattr(obj, "__dict__")
        state: dict[str, Any]
        if slotted:
            names = _SLOT_NAMES.get(cls)
            if names is None:
                # a class compiled by mypyc lists its attributes in __mypyc_attrs__, a Python one in __slots__
                found = getattr(cls, "__mypyc_attrs__", None) or copyreg._slotnames(cls)  # type: ignore[attr-defined]
                names = _SLOT_NAMES[cls] = tuple(n for n in found if n not in ("__dict__", "__weakref__"))
                if not names:
                    raise SnapshotError(f"cannot tell the attributes of {cls.__name__}")
            state = {}
            for name in names:
                value = getattr(obj, name, _UNSET)
                if value is not _UNSET:
                    state[name] = value
        else:
            state = dict(obj.__dict__)
        names, version_attr = _SHARED_LISTS[cls]
        version = state.get(version_attr) if version_attr is not None else None
        for name in names:
            seq = state.get(name)
            if type(seq) is list and len(seq) >= _SHARE_MIN:
                self.side.append(self.lists.chunks(seq, version))
                state[name] = _ListRef(len(self.side) - 1, version)
        # the state is set after the object is memoized (so cycles through it work), as pickle's default
        if hasattr(cls, "__mypyc_attrs__"):  # compiled: its own __setstate__ takes no (dict, slots) pair
            return (copyreg.__newobj__, (cls,), (tuple(state.items()), None), None, None, _set_native)
        return (copyreg.__newobj__, (cls,), (None, state) if slotted else state)

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
        direct = self._direct.get(t)
        if direct is not None:
            return direct(obj)
        if t is _FUNCTION:
            if "<" in obj.__qualname__:
                # a closure or lambda: not importable by name, so by value (code and globals are shared;
                # never the function itself: its cells would keep the world it belongs to alive)
                code = obj.__code__
                i = self._codes.get(code)
                if i is None:
                    i = self._codes[code] = len(self.side)
                    self.side.append((code, obj.__globals__, obj.__name__, obj.__qualname__, obj.__module__))
                return (_function, (i, obj.__defaults__, obj.__closure__, obj.__kwdefaults__))
            return NotImplemented
        native = _native_kind(t)
        if native is not None:
            values = tuple((n, v) for n in native[1] if (v := getattr(obj, n, _UNSET)) is not _UNSET)
            state = (values, dict(obj.__dict__) if native[0] == "mixed" else None)
            return (copyreg.__newobj__, (t,), state, None, None, _set_native)
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


#: a file of a checkpoint: (its name in the pool, its size then, the pool file's inode)
FileRef = tuple[str, int, int]


def _restore_files(data_dir: str, pool: str, files: dict[str, FileRef | None]) -> None:
    """Make ``data_dir`` hold exactly ``files`` (``None``: a directory) from the pool's links."""
    os.makedirs(data_dir, exist_ok=True)
    present: dict[str, os.DirEntry[str]] = dict(_walk(data_dir))
    keep: set[str] = set()
    # what must go: files not in the checkpoint or not its very file at its size, directories not in it
    for rel, entry in present.items():
        if rel.endswith("/"):
            continue
        want = files.get(rel)
        if (
            want is not None
            and entry.inode() == want[2]
            and entry.stat(follow_symlinks=False).st_size == want[1]
        ):
            keep.add(rel)
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
    for rel in sorted((r for r in present if r.endswith("/") and r not in files), reverse=True):
        shutil.rmtree(data_dir + "/" + rel, ignore_errors=True)
    for rel, ref in sorted(files.items()):
        dst = data_dir + "/" + rel
        if ref is None:
            if rel not in present:
                os.makedirs(dst, exist_ok=True)
            continue
        if rel in keep:
            continue
        src_path = pool + "/" + ref[0]
        if os.stat(src_path).st_size == ref[1]:
            try:
                os.link(src_path, dst)
                continue
            except OSError:
                pass
        _copy_prefix(src_path, dst, ref[1])


# -- checkpoints ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Checkpoint:
    """The world between two events: after ``events`` events at ``time_ms``, with ``actions`` actions done."""

    events: int
    time_ms: int
    actions: int
    directory: Path
    side: list[Any]
    #: relative path -> the file in the pool (``None``: a directory)
    files: dict[str, FileRef | None]
    world_bytes: int
    #: wall seconds the capture took
    cost_s: float
    #: arbitrary labels the owner keeps with it (e.g. the trace hash at this point)
    meta: dict[str, Any] = field(default_factory=dict)
    dropped: bool = False
    #: CPU seconds the capture took
    cpu_s: float = 0.0

    @property
    def position(self) -> tuple[int, int]:
        return (self.events, self.time_ms)


class CheckpointStore:
    """Checkpoints of one lab session, in a temporary directory removed on :meth:`close` or at exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kafkalab-travel-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self.pool = self.root / "files"
        self.pool.mkdir()
        #: inode -> (name in the pool, how many live checkpoints refer to it)
        self._pool: dict[int, list[Any]] = {}
        self._next = 0
        self.taken = 0
        self.total_cost_s = 0.0
        self.total_cpu_s = 0.0
        self.lists = _ListShare()

    def close(self) -> None:
        self._finalizer()

    def _link(self, entry: os.DirEntry[str]) -> tuple[str, int]:
        """The pool's link to ``entry``'s inode (made if new): (its name, the pooled file's inode)."""
        ino = entry.inode()
        slot = self._pool.get(ino)
        if slot is None:
            self._next += 1
            name = f"f{self._next}"
            try:
                os.link(entry.path, self.pool / name)
            except OSError:  # no hard links on this file system: a copy (of its own, never shared)
                shutil.copyfile(entry.path, self.pool / name)
                ino = os.stat(self.pool / name).st_ino
            slot = self._pool[ino] = [name, 0]
        slot[1] += 1
        return str(slot[0]), ino

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
        c0 = time.process_time()
        self._next += 1
        directory = self.root / f"ck-{self._next:06d}"
        directory.mkdir()
        side: list[Any] = []
        path = directory / "world.pickle"
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        self.lists.begin()
        ok = False
        enabled = gc.isenabled()
        gc.disable()  # the reductions make many short-lived tuples: no point collecting on the way
        try:
            with open(path, "wb") as f:
                _Pickler(f, side, self.lists).dump(world)  # type: ignore[arg-type]
            ok = True
        except SnapshotError:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
            shutil.rmtree(directory, ignore_errors=True)
            raise SnapshotError(f"{type(e).__name__}: {e}") from e
        finally:
            if enabled:
                gc.enable()
            self.lists.end(ok)
            sys.setrecursionlimit(limit)
        if flush is not None:
            flush()
        files: dict[str, FileRef | None] = {}
        for rel, entry in _walk(str(data_dir)):
            if rel.endswith("/"):
                files[rel] = None
                continue
            size = entry.stat(follow_symlinks=False).st_size
            name, ino = self._link(entry)
            files[rel] = (name, size, ino)
        cost = time.perf_counter() - t0
        cpu = time.process_time() - c0
        self.taken += 1
        self.total_cost_s += cost
        self.total_cpu_s += cpu
        return Checkpoint(
            events, time_ms, actions, directory, side, files, path.stat().st_size, cost, cpu_s=cpu
        )

    def restore(self, ck: Checkpoint, data_dir: Path) -> Any:
        """Put ``data_dir`` back as it was at ``ck`` and return a new copy of the world captured there.

        Raises :class:`SnapshotError` if the world cannot be rebuilt; then ``data_dir`` is untouched (the
        world is unpickled first: its files are reopened only when next written)."""
        if ck.dropped:
            raise SnapshotError("this checkpoint was dropped")
        data = (ck.directory / "world.pickle").read_bytes()
        global _restoring
        _restoring = ck.side
        _rebuilt.clear()
        enabled = gc.isenabled()
        gc.disable()  # many new objects: no point walking them half-way
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            try:
                world = pickle.loads(data)
            except Exception as e:
                raise SnapshotError(f"restoring a checkpoint failed: {type(e).__name__}: {e}") from e
            _restore_files(str(data_dir), str(self.pool), ck.files)
            self.lists.seed(_rebuilt)
            return world
        finally:
            sys.setrecursionlimit(limit)
            _restoring = []
            _rebuilt.clear()
            if enabled:
                gc.enable()

    def drop(self, ck: Checkpoint) -> None:
        """Forget a checkpoint: its files go, the objects only it kept alive can be collected."""
        if ck.dropped:
            return
        ck.dropped = True
        ck.side = []
        for ref in ck.files.values():
            if ref is None:
                continue
            slot = self._pool.get(ref[2])
            if slot is None or slot[0] != ref[0]:
                continue
            slot[1] -= 1
            if slot[1] <= 0:
                del self._pool[ref[2]]
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.pool / ref[0])
        shutil.rmtree(ck.directory, ignore_errors=True)

    def disk_bytes(self) -> int:
        """Bytes the checkpoint directory holds that no live file shares (its pickles and detached files)."""
        total = 0
        for _rel, entry in _walk(str(self.root)):
            st = entry.stat(follow_symlinks=False)
            if entry.is_file() and st.st_nlink == 1:
                total += st.st_size
        return total
